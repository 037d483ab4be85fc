"""The periodic jobs (定时任务) the scheduler calls; app/jobs.py runs them.

Every job is `job(now) -> str`: `now` is an aware UTC time the job takes
every time from (never the wall clock), and the answer is a one-line
English summary for logs and the administrator page. Every job is
idempotent — a second run for the same moment changes nothing more,
because each change is a conditional UPDATE or re-checks the row it
changes — and commits per item, so killing it half-way leaves no half-done
change. Items go through `each_item`: one failing item does not stop the
others. Logs carry ids only, never names or phones.

Task jobs live here; the review reminder and the monthly honour roll in
app/services/periodic_reviews.py (re-exported below).
"""

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import (
    Claim,
    ClaimStatus,
    Grid,
    NotificationKind,
    Role,
    Task,
    TaskStatus,
    User,
    UserRole,
    WaitlistEntry,
)
from app.services import tasks, vouchers
from app.services.errors import Conflict
from app.services.notifications import notify
from app.services.periodic_reviews import each_item, freeze_honour_rolls, honour_rolls, remind_reviews

__all__ = [
    "escalate_unclaimed_tasks",
    "expire_confirmation_links",
    "expire_unclaimed_tasks",
    "freeze_honour_rolls",
    "honour_rolls",
    "release_no_shows",
    "remind_claimants",
    "remind_reviews",
]

log = logging.getLogger(__name__)

# A task with free places this close to its start is told to its grid worker
# (escalation level 1): a day leaves time to find someone or move the visit.
ESCALATE_TO_GRID = timedelta(hours=24)
# Still free this close to the start: the community worker is told too (level 2).
ESCALATE_TO_COMMUNITY = timedelta(hours=6)
# Claimants are reminded once, when their visit is at most this far away.
REMIND_BEFORE = timedelta(hours=2)
# A claim not checked in this long after the start (check-in itself stays
# open until the window closes) is released as a no-show, so the place can
# go to someone else while there is still time. A place handed over from
# the waiting list after the start gets the same time from the hand-over.
NO_SHOW_AFTER = timedelta(minutes=30)
# A place freed after the start goes to the waiting list only if at least
# this much of the window is left: less could not be used.
LATE_OFFER_MIN_LEFT = timedelta(minutes=30)


def _rows(stmt) -> list:
    return list(db.session.execute(stmt).all())


def _locked_task(task_id: int) -> Task:
    """The task row, fresh, locked on PostgreSQL (check-in and check-out lock it too)."""
    return db.session.scalar(
        sa.select(Task).where(Task.id == task_id).with_for_update().execution_options(populate_existing=True)
    )


# --- 1. escalating unclaimed tasks -----------------------------------------------------


def _staff_ids(role: Role, unit) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == role, User.active.is_(True), unit)
            .order_by(User.id)
        )
    )


def _escalation_recipients(task: Task, level: int) -> list[int]:
    """Level 1: the grid workers of the task's grid (none: whoever posted it);
    level 2: the community workers of the grid's community."""
    if level == 1:
        return _staff_ids(Role.GRID_WORKER, User.grid_id == task.grid_id) or [task.created_by_id]
    community = sa.select(Grid.community_id).where(Grid.id == task.grid_id).scalar_subquery()
    return _staff_ids(Role.COMMUNITY_WORKER, User.community_id == community)


def escalate_unclaimed_tasks(now: datetime) -> str:
    """Tell staff about open tasks starting soon that still have free places.

    Within 24 hours of the start the grid worker is told (level 1); within 6
    hours the community worker too (level 2). Each level is raised by one
    conditional UPDATE (`escalation_level < level`), so nobody is told twice.
    """
    rows = _rows(
        sa.select(Task.id, Task.starts_at)
        .where(
            Task.status == TaskStatus.OPEN,
            Task.starts_at > now,
            Task.starts_at <= now + ESCALATE_TO_GRID,
            Task.escalation_level < 2,
        )
        .order_by(Task.starts_at, Task.id)
    )
    told = {1: 0, 2: 0}

    def escalate(row) -> bool:
        task_id, starts_at = row
        target = 2 if starts_at <= now + ESCALATE_TO_COMMUNITY else 1
        raised = False
        for level in range(1, target + 1):
            result = db.session.execute(
                sa.update(Task)
                .where(
                    Task.id == task_id,
                    Task.escalation_level < level,
                    Task.status == TaskStatus.OPEN,
                    Task.starts_at > now,
                )
                .values(escalation_level=level)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                continue
            task = db.session.scalar(
                sa.select(Task).where(Task.id == task_id).execution_options(populate_existing=True)
            )
            recipients = _escalation_recipients(task, level)
            for user_id in recipients:
                notify(
                    user_id,
                    NotificationKind.TASK_ESCALATED,
                    task.id,
                    level=level,
                    free=task.slots - task.taken,
                )
            db.session.commit()
            log.info("escalate_unclaimed_tasks: task %s level %d, users %s", task_id, level, recipients)
            told[level] += 1
            raised = True
        return raised

    escalated = each_item("escalate_unclaimed_tasks", rows, escalate)
    return f"{escalated} tasks escalated ({told[1]} to grid workers, {told[2]} to community workers)"


# --- 2. reminding claimants ----------------------------------------------------------------


def remind_claimants(now: datetime) -> str:
    """Remind each volunteer holding a place (not yet checked in) on a visit that
    starts within 2 hours; once per claim (`reminded_at` set by a conditional UPDATE)."""
    rows = _rows(
        sa.select(Claim.id, Claim.volunteer_id, Claim.task_id)
        .join(Task, Task.id == Claim.task_id)
        .where(
            Claim.status == ClaimStatus.ACTIVE,
            Claim.reminded_at.is_(None),
            Task.status.not_in((TaskStatus.CANCELLED, TaskStatus.EXPIRED)),
            Task.starts_at > now,
            Task.starts_at <= now + REMIND_BEFORE,
        )
        .order_by(Claim.id)
    )

    def remind(row) -> bool:
        claim_id, volunteer_id, task_id = row
        marked = db.session.execute(
            sa.update(Claim)
            .where(Claim.id == claim_id, Claim.reminded_at.is_(None), Claim.status == ClaimStatus.ACTIVE)
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:
            return False
        notify(volunteer_id, NotificationKind.REMINDER, task_id)
        db.session.commit()
        return True

    reminded = each_item("remind_claimants", rows, remind)
    return f"{reminded} claimants reminded"


# --- 3. expiring unclaimed tasks ------------------------------------------------------------


def expire_unclaimed_tasks(now: datetime) -> str:
    """Expire open tasks whose window has ended with nobody holding a place; commit per task."""
    rows = _rows(
        sa.select(Task.id)
        .where(Task.status == TaskStatus.OPEN, Task.taken == 0, Task.ends_at <= now)
        .order_by(Task.id)
    )

    def expire(row) -> bool:
        task = _locked_task(row[0])
        if task.status is not TaskStatus.OPEN or task.taken != 0 or task.ends_at > now:
            return False
        # Stored in the default language: the scheduler has no reader to ask.
        note = str(_l("The time of the visit passed with no volunteer holding a place."))
        tasks.transition(task, TaskStatus.EXPIRED, None, note)
        db.session.execute(sa.delete(WaitlistEntry).where(WaitlistEntry.task_id == task.id))
        db.session.commit()
        log.info("expire_unclaimed_tasks: task %s expired", task.id)
        return True

    expired = each_item("expire_unclaimed_tasks", rows, expire)
    return f"{expired} tasks expired"


# --- 4. releasing no-shows -------------------------------------------------------------------


def release_no_shows(now: datetime) -> str:
    """Release every place not checked in 30 minutes after the start (or after a
    late hand-over), reopen it and offer it to the waiting list; commit per claim.

    A claim held since before the start becomes NO_SHOW, which counts against
    the volunteer's reliability in matching; a place handed over from the
    waiting list after the start becomes RELEASED and does not count (nobody
    asked them whether they could still come). Either way the volunteer is
    told why. A task left with nobody and its window over is expired by
    `expire_unclaimed_tasks`.
    """
    deadline = now - NO_SHOW_AFTER
    rows = _rows(
        sa.select(Claim.id)
        .join(Task, Task.id == Claim.task_id)
        .where(Claim.status == ClaimStatus.ACTIVE, Task.starts_at <= deadline, Claim.claimed_at <= deadline)
        .order_by(Claim.id)
    )
    offered = 0

    def release(row) -> bool:
        nonlocal offered
        claim = db.session.scalar(
            sa.select(Claim).where(Claim.id == row[0]).execution_options(populate_existing=True)
        )
        task = _locked_task(claim.task_id)
        late = claim.claimed_at > task.starts_at
        status = ClaimStatus.RELEASED if late else ClaimStatus.NO_SHOW
        # The guard: a check-in that won the task lock leaves nothing to release.
        if (
            db.session.execute(
                sa.update(Claim)
                .where(Claim.id == claim.id, Claim.status == ClaimStatus.ACTIVE)
                .values(status=status)
                .execution_options(synchronize_session=False)
            ).rowcount
            != 1
        ):
            db.session.rollback()
            return False
        minutes = int(NO_SHOW_AFTER.total_seconds() // 60)
        # Stored in the default language, like the expiry note of a task.
        if late:
            reason = _l("Not checked in within %(minutes)d minutes of getting the place.", minutes=minutes)
            told = {}  # the notification's plain "the visit did not start"
        else:
            reason = _l("Not checked in within %(minutes)d minutes of the start.", minutes=minutes)
            told = {"minutes": minutes}
        tasks.release_claim(claim, task, status, str(reason))
        notify(claim.volunteer_id, NotificationKind.CLAIM_RELEASED, task.id, **told)
        _settle(task)
        if _offer_late(task, now) is not None:
            offered += 1
        db.session.commit()
        log.info("release_no_shows: claim %s of task %s %s", claim.id, task.id, status.value)
        return True

    released = each_item("release_no_shows", rows, release)
    return f"{released} places released, {offered} given to the waiting list"


def _settle(task: Task) -> None:
    """A visit under way whose last expected volunteer was released moves on as
    check-out would have moved it: to awaiting confirmation, or verified if
    every remaining visit is already confirmed; flush only."""
    if task.status is not TaskStatus.IN_PROGRESS:
        return
    statuses = db.session.scalars(
        sa.select(Claim.status).where(Claim.task_id == task.id, Claim.status.in_(tasks.HOLDING))
    ).all()
    if any(s in (ClaimStatus.ACTIVE, ClaimStatus.CHECKED_IN) for s in statuses):
        return
    tasks.transition(task, TaskStatus.AWAITING_CONFIRMATION)
    if statuses and all(s is ClaimStatus.CONFIRMED for s in statuses):
        tasks.transition(task, TaskStatus.VERIFIED)


def _offer_late(task: Task, now: datetime) -> Claim | None:
    """Give a place freed after the start to the first volunteer in line who can
    take it, while enough of the window is left; flush only.

    `tasks.offer_freed_slot` serves places freed before the start (it refuses
    a started task, as claiming does); this is its after-the-start twin.
    """
    if task.status is not TaskStatus.OPEN or task.ends_at - now < LATE_OFFER_MIN_LEFT:
        return None
    line = db.session.scalars(
        sa.select(WaitlistEntry)
        .where(WaitlistEntry.task_id == task.id)
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    for entry in line:
        waiting = db.session.get(User, entry.volunteer_id)
        db.session.delete(entry)
        try:
            with db.session.begin_nested():
                claim = _take_late_place(waiting, task, now)
        except Conflict:
            continue  # now busy at that time, or the like: the next in line
        minutes = int(NO_SHOW_AFTER.total_seconds() // 60)
        notify(waiting.id, NotificationKind.SLOT_OFFERED, task.id, started=True, minutes=minutes)
        notify(task.created_by_id, NotificationKind.TASK_CLAIMED, task.id)
        return claim
    return None


def _take_late_place(volunteer: User, task: Task, now: datetime) -> Claim:
    """Take a free place on a started task for `volunteer` (the same checks and
    conditional UPDATE as claiming, with the window's end instead of its
    start); flush only. Conflict if it cannot be taken."""
    tasks._check_claimable(volunteer, task)  # already holding, own household, overlapping
    before = task.status
    took = db.session.execute(
        sa.update(Task)
        .where(
            Task.id == task.id, Task.status == TaskStatus.OPEN, Task.taken < Task.slots, Task.ends_at > now
        )
        .values(
            taken=Task.taken + 1,
            status=sa.case(
                (Task.taken + 1 >= Task.slots, TaskStatus.CLAIMED.name), else_=TaskStatus.OPEN.name
            ),
        )
        .execution_options(synchronize_session=False)
    )
    if took.rowcount != 1:
        raise Conflict(_l("Every place on this task is taken."), code="task_full")
    db.session.refresh(task)
    if task.status is not before:
        tasks._event(task.id, before, task.status, None, "waiting list")
    claim = db.session.scalar(
        sa.select(Claim).where(Claim.task_id == task.id, Claim.volunteer_id == volunteer.id)
    )
    if claim is None:
        claim = Claim(task_id=task.id, volunteer_id=volunteer.id)
        db.session.add(claim)
    claim.status, claim.claimed_at, claim.released_at, claim.release_reason = (
        ClaimStatus.ACTIVE,
        now,
        None,
        "",
    )
    db.session.flush()
    return claim


# --- 5. expiring confirmation links and vouchers ---------------------------------------------


def expire_confirmation_links(now: datetime) -> str:
    """Kill every confirmation link past its time in the database too (clear its
    nonce; the visit still awaits confirmation and the volunteer can make a
    new link), then expire open vouchers past their time, returning their
    points and items (`vouchers.expire_vouchers`, which commits per voucher)."""
    links = db.session.execute(
        sa.update(Claim)
        .where(
            Claim.status == ClaimStatus.CHECKED_OUT,
            Claim.confirm_nonce.is_not(None),
            Claim.confirm_expires_at <= now,
        )
        .values(confirm_nonce=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    log.info("expire_confirmation_links: %d links expired", links)
    closed = vouchers.expire_vouchers(now)
    log.info("expire_confirmation_links: %d vouchers expired", closed)
    return f"{links} confirmation links expired, {closed} vouchers expired"

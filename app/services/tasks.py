"""Service tasks: the one state machine, posting, cancelling, and claiming
under contention.

Every status change goes through `transition()`, which checks the table of
allowed transitions and writes a TaskEvent. Claiming puts its precondition
in the write — `UPDATE task SET taken = taken + 1 … WHERE status = 'OPEN'
AND taken < slots AND starts_at > now` — so concurrent claims can never
exceed the slots, on PostgreSQL (row lock, re-checked WHERE) as on SQLite
(BEGIN IMMEDIATE serialises writers); see ENGINEERING.md.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app import clock
from app.auth_scope import get_scoped_or_404, is_valid_id, require_role, unscoped_get
from app.extensions import db
from app.labels import label
from app.models import (
    Claim,
    ClaimStatus,
    Household,
    HouseholdProxy,
    HouseholdStatus,
    Member,
    MemberStatus,
    Need,
    NeedStatus,
    NotificationKind,
    PartnerMember,
    Role,
    ServiceType,
    Task,
    TaskEvent,
    TaskStatus,
    Urgency,
    WaitlistEntry,
)
from app.services import audit, catalogue
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.households import LEDGER_WRITERS
from app.services.notifications import notify

S = TaskStatus
# The allowed transitions: from → the statuses it may move to.
TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    S.OPEN: frozenset({S.CLAIMED, S.IN_PROGRESS, S.CANCELLED, S.EXPIRED}),
    S.CLAIMED: frozenset({S.OPEN, S.IN_PROGRESS, S.CANCELLED, S.EXPIRED}),
    S.IN_PROGRESS: frozenset({S.AWAITING_CONFIRMATION, S.EXPIRED}),
    S.AWAITING_CONFIRMATION: frozenset({S.IN_PROGRESS, S.VERIFIED}),
    S.VERIFIED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}
CLAIMABLE = (S.OPEN,)
CANCELLABLE = (S.OPEN, S.CLAIMED)
HOLDING = tuple(status for status in ClaimStatus if status.holds_slot)
MAX_SLOTS = 20
MAX_WINDOW = timedelta(days=1)  # a task's window is at most a day (the dashboard relies on it)
# Task times lie in this century: a far year has no local time (9999-12-31
# 20:00 UTC is already year 10000 in Shanghai, and pages showing it would
# fail), and no task is planned that far ahead. From EARLIEST up to LATEST.
EARLIEST_TIME, LATEST_TIME = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
TIME_RANGE_MESSAGE = _l("Choose a time in the years 2000 to 2099.")
URGENCY_ORDER = sa.case(
    {Urgency.CRITICAL.name: 0, Urgency.URGENT.name: 1, Urgency.NORMAL.name: 2},
    value=sa.cast(Task.urgency, sa.String),
)


def transition(task: Task, to: TaskStatus, actor=None, note: str = "") -> None:
    """Move a loaded task to `to`, or Conflict; writes the TaskEvent; flush only.

    `actor` None is the system (the scheduler).
    """
    if to not in TRANSITIONS[task.status]:
        raise Conflict(
            _l("This task is %(status)s; that is not possible now.", status=label(task.status)),
            code="invalid_transition",
        )
    db.session.add(
        TaskEvent(
            task_id=task.id,
            from_status=task.status,
            to_status=to,
            actor_id=getattr(actor, "id", None),
            note=note,
        )
    )
    task.status = to


def _event(task_id: int, from_status, to_status, actor, note: str = "") -> None:
    db.session.add(
        TaskEvent(
            task_id=task_id,
            from_status=from_status,
            to_status=to_status,
            actor_id=getattr(actor, "id", None),
            note=note,
        )
    )


# --- posting and cancelling ------------------------------------------------------


@dataclass
class TaskData:
    household_id: int
    service_type_code: str
    starts_at: datetime
    ends_at: datetime
    description: str
    slots: int = 1
    expected_minutes: int | None = None  # defaults to the window's length
    urgency: Urgency = Urgency.NORMAL
    need_id: int | None = None


def _check_task(actor, data: TaskData) -> tuple[Household, ServiceType, int]:
    """The household, service type and expected minutes, checked; else a DomainError."""
    household = get_scoped_or_404(Household, data.household_id, actor, options=())
    if household.status is not HouseholdStatus.ACTIVE:
        raise Conflict(_l("The household has left the registry."), code="household_exited")
    service = catalogue.active_service_type(data.service_type_code, field="service_type")
    for name in ("starts_at", "ends_at"):
        value = getattr(data, name)
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise InvalidInput(_l("Enter a date and time."), code="invalid_time", field=name)
        if not EARLIEST_TIME <= value < LATEST_TIME:
            raise InvalidInput(TIME_RANGE_MESSAGE, code="invalid_time", field=name)
    if data.ends_at <= data.starts_at:
        raise InvalidInput(_l("The window must end after it starts."), code="invalid_window", field="ends_at")
    if data.starts_at <= clock.now():
        raise InvalidInput(_l("The task must start in the future."), code="start_in_past", field="starts_at")
    if data.ends_at - data.starts_at > MAX_WINDOW:
        raise InvalidInput(_l("A task's window is at most one day."), code="invalid_window", field="ends_at")
    if not isinstance(data.slots, int) or isinstance(data.slots, bool) or not 1 <= data.slots <= MAX_SLOTS:
        raise InvalidInput(
            _l("A task needs 1 to %(n)d volunteers.", n=MAX_SLOTS), code="invalid_slots", field="slots"
        )
    window = int((data.ends_at - data.starts_at).total_seconds() // 60)
    minutes = data.expected_minutes if data.expected_minutes is not None else window
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 10 <= minutes <= min(window, 1440):
        raise InvalidInput(
            _l("The expected duration is 10 minutes to the length of the window."),
            code="invalid_duration",
            field="expected_minutes",
        )
    description = (data.description or "").strip()
    if not description or len(description) > 500:
        raise InvalidInput(
            _l("Enter a note for the volunteer (up to 500 characters)."),
            code="invalid_text",
            field="description",
        )
    data.description = description
    if data.need_id is not None:
        need = unscoped_get(Need, data.need_id)
        if need is None or need.household_id != household.id or need.status is not NeedStatus.OPEN:
            raise InvalidInput(
                _l("Choose one of this household's open needs."), code="unknown_need", field="need_id"
            )
    return household, service, minutes


def new_task(actor, data: TaskData, series_id: int | None = None) -> Task:
    """A checked task added to the session with its first event; flush only."""
    household, service, minutes = _check_task(actor, data)
    task = Task(
        household_id=household.id,
        grid_id=household.grid_id,
        need_id=data.need_id,
        series_id=series_id,
        service_type_code=service.code,
        description=data.description,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        expected_minutes=minutes,
        slots=data.slots,
        taken=0,
        urgency=data.urgency,
        status=TaskStatus.OPEN,
        created_by_id=actor.id,
    )
    db.session.add(task)
    db.session.flush()
    _event(task.id, None, TaskStatus.OPEN, actor)
    audit.record(actor, "create", "task", task.id, household=household)
    return task


def create_task(actor, data: TaskData) -> Task:
    """A grid worker (or community worker) posts a task for a household; commit.

    Raises Forbidden, NotFound (household out of scope), InvalidInput
    (service, window, slots, duration, note, need) and Conflict (household exited).
    """
    require_role(actor, *LEDGER_WRITERS)
    task = new_task(actor, data)
    db.session.commit()
    return task


def get_task(actor, task_id: int, options=()) -> Task:
    """A task the actor may see: staff in scope, or a volunteer in the task's community."""
    task = unscoped_get(Task, task_id)
    if task is None:
        raise NotFound()
    if actor.is_staff:
        return get_scoped_or_404(Task, task_id, actor, options=options)
    if actor.has_role(Role.VOLUNTEER) and (
        _in_volunteer_area(actor, task) or _holds(actor, task_id) or _partner_volunteer(actor, task)
    ):
        if options:
            task = db.session.scalar(sa.select(Task).where(Task.id == task_id).options(*options))
        return task
    raise NotFound()


def _in_volunteer_area(volunteer, task: Task) -> bool:
    """Volunteers see the tasks of their own community."""
    from app.models import Grid

    if volunteer.grid_id is None:
        return False
    rows = db.session.execute(
        sa.select(Grid.id, Grid.community_id).where(Grid.id.in_((volunteer.grid_id, task.grid_id)))
    )
    community = dict(rows.all())
    return community.get(volunteer.grid_id) == community.get(task.grid_id)


def partner_volunteers(partner_id) -> sa.Select:
    """SELECT of the ids of a partner organisation's volunteers (accepted members)."""
    return sa.select(PartnerMember.user_id).where(
        PartnerMember.partner_id == partner_id, PartnerMember.status == MemberStatus.ACTIVE
    )


def _partner_volunteer(volunteer, task: Task) -> bool:
    """True if the task is reserved for a partner organisation the volunteer is a member of."""
    if task.partner_id is None:
        return False
    members = partner_volunteers(task.partner_id).where(PartnerMember.user_id == volunteer.id)
    return db.session.scalar(sa.select(members.exists()))


def _holds(volunteer, task_id: int) -> bool:
    return bool(
        db.session.scalar(
            sa.select(Claim.id).where(
                Claim.task_id == task_id, Claim.volunteer_id == volunteer.id, Claim.status.in_(HOLDING)
            )
        )
    )


def cancel_task(actor, task_id: int, reason: str) -> Task:
    """Cancel a task that has not begun, telling its claimants why; commit."""
    require_role(actor, *LEDGER_WRITERS)
    task = get_scoped_or_404(Task, task_id, actor, options=(selectinload(Task.claims),))
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise InvalidInput(
            _l("Give a reason (up to 300 characters)."), code="reason_required", field="reason"
        )
    if task.status not in CANCELLABLE:
        raise Conflict(
            _l("This task is %(status)s; that is not possible now.", status=label(task.status)),
            code="invalid_transition",
        )
    transition(task, TaskStatus.CANCELLED, actor, reason)
    for claim in task.claims:
        if claim.status is ClaimStatus.ACTIVE:
            claim.status, claim.released_at, claim.release_reason = ClaimStatus.CANCELLED, clock.now(), reason
            notify(claim.volunteer_id, NotificationKind.TASK_CANCELLED, task.id, reason=reason)
    task.taken = 0
    db.session.execute(sa.delete(WaitlistEntry).where(WaitlistEntry.task_id == task.id))
    audit.record(actor, "cancel", "task", task.id, grid_id=task.grid_id, note=reason)
    db.session.commit()
    return task


# --- claiming ---------------------------------------------------------------------


def _own_household(volunteer, household_id: int) -> bool:
    member = sa.select(Member.id).where(Member.household_id == household_id, Member.user_id == volunteer.id)
    proxy = sa.select(HouseholdProxy.id).where(
        HouseholdProxy.household_id == household_id,
        HouseholdProxy.user_id == volunteer.id,
        HouseholdProxy.revoked_at.is_(None),
    )
    return bool(db.session.scalar(sa.select(sa.exists(member) | sa.exists(proxy))))


def _overlaps(volunteer_id: int, task: Task) -> bool:
    """True if the volunteer holds a live claim on another task overlapping this window."""
    return bool(
        db.session.scalar(
            sa.select(Claim.id)
            .join(Task)
            .where(
                Claim.volunteer_id == volunteer_id,
                Claim.status.in_((ClaimStatus.ACTIVE, ClaimStatus.CHECKED_IN)),
                Task.id != task.id,
                Task.starts_at < task.ends_at,
                Task.ends_at > task.starts_at,
            )
            .limit(1)
        )
    )


def _check_claimable(volunteer, task: Task) -> None:
    existing = db.session.scalar(
        sa.select(Claim).where(Claim.task_id == task.id, Claim.volunteer_id == volunteer.id)
    )
    if existing is not None and existing.status in HOLDING:
        raise Conflict(_l("You have already claimed this task."), code="already_claimed")
    if _own_household(volunteer, task.household_id):
        raise Conflict(_l("You cannot take a task for your own household."), code="own_household")
    if task.partner_id is not None and not _partner_volunteer(volunteer, task):
        raise Conflict(
            _l("Only the volunteers of the organisation that offered this service can take this task."),
            code="partner_volunteers_only",
        )
    if _overlaps(volunteer.id, task):
        raise Conflict(_l("You have another task at this time."), code="overlapping_task")


def _take_slot(task_id: int) -> bool:
    """The conditional UPDATE that takes one slot; False if none could be taken."""
    result = db.session.execute(
        sa.update(Task)
        .where(
            Task.id == task_id,
            Task.status == TaskStatus.OPEN,
            Task.taken < Task.slots,
            Task.starts_at > clock.now(),
        )
        .values(
            taken=Task.taken + 1,
            status=sa.case(
                (Task.taken + 1 >= Task.slots, TaskStatus.CLAIMED.name), else_=TaskStatus.OPEN.name
            ),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _refused_claim(task: Task) -> Conflict:
    """Why a slot could not be taken, from the task as it is now."""
    db.session.refresh(task)
    if task.status in (TaskStatus.OPEN, TaskStatus.CLAIMED) and task.starts_at <= clock.now():
        return Conflict(_l("This task has already started."), code="task_started")
    if task.status is TaskStatus.CLAIMED or (task.status is TaskStatus.OPEN and task.taken >= task.slots):
        return Conflict(_l("Every place on this task is taken."), code="task_full")
    return Conflict(
        _l("This task is %(status)s; it can no longer be claimed.", status=label(task.status)),
        code="task_not_open",
    )


def _place_claim(volunteer, task: Task) -> Claim:
    """Take a slot and record the claim; flush only. Conflict if no slot."""
    _check_claimable(volunteer, task)
    before = task.status
    if not _take_slot(task.id):
        raise _refused_claim(task)
    db.session.refresh(task)
    if task.status is not before:
        _event(task.id, before, task.status, volunteer)
    claim = db.session.scalar(
        sa.select(Claim).where(Claim.task_id == task.id, Claim.volunteer_id == volunteer.id)
    )
    if claim is None:
        claim = Claim(task_id=task.id, volunteer_id=volunteer.id)
        db.session.add(claim)
    claim.status, claim.claimed_at, claim.released_at, claim.release_reason, claim.reminded_at = (
        ClaimStatus.ACTIVE,
        clock.now(),
        None,
        "",
        None,  # claimed again: remind again
    )
    db.session.execute(
        sa.delete(WaitlistEntry).where(
            WaitlistEntry.task_id == task.id, WaitlistEntry.volunteer_id == volunteer.id
        )
    )
    db.session.flush()
    notify(task.created_by_id, NotificationKind.TASK_CLAIMED, task.id)
    return claim


def claim_task(volunteer, task_id: int) -> Claim:
    """A volunteer takes a place on a task in one tap; commit.

    Raises Forbidden (not a volunteer), NotFound (not in their area) and
    Conflict: task_full, already_claimed, task_started, task_not_open,
    own_household, partner_volunteers_only (a task from a supply match is
    for its organisation's volunteers), overlapping_task. A refused claim
    changes nothing.
    """
    require_role(volunteer, Role.VOLUNTEER)
    task = get_task(volunteer, task_id)
    try:
        claim = _place_claim(volunteer, task)
        db.session.commit()
    except sa.exc.IntegrityError:  # the same volunteer's second tap, a moment apart
        db.session.rollback()
        raise Conflict(_l("You have already claimed this task."), code="already_claimed") from None
    except Conflict:
        db.session.rollback()
        raise
    return claim


def unclaim_task(volunteer, task_id: int, reason: str) -> Claim:
    """Give a place back before the task starts, with a reason; commit.

    The freed place goes to the first volunteer on the waiting list who can take it.
    """
    require_role(volunteer, Role.VOLUNTEER)
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise InvalidInput(
            _l("Give a reason (up to 300 characters)."), code="reason_required", field="reason"
        )
    claim = db.session.scalar(
        sa.select(Claim).where(
            Claim.task_id == task_id if is_valid_id(task_id) else sa.false(),
            Claim.volunteer_id == volunteer.id,
            Claim.status == ClaimStatus.ACTIVE,
        )
    )
    if claim is None:
        raise NotFound(_l("You have not claimed this task."), code="not_claimed")
    task = db.session.get(Task, claim.task_id)
    if task.starts_at <= clock.now():
        raise Conflict(_l("This task has already started."), code="task_started")
    release_claim(claim, task, ClaimStatus.RELEASED, reason, volunteer)
    notify(task.created_by_id, NotificationKind.TASK_UNCLAIMED, task.id, reason=reason)
    db.session.commit()
    return claim


def release_claim(claim: Claim, task: Task, status: ClaimStatus, reason: str, actor=None) -> None:
    """Free a claim's slot, reopen the task if it was full, offer the slot to
    the waiting list; flush only. Used by unclaim and by the no-show job."""
    claim.status, claim.released_at, claim.release_reason = status, clock.now(), reason
    before = task.status
    db.session.execute(
        sa.update(Task)
        .where(Task.id == task.id, Task.taken > 0)
        .values(
            taken=Task.taken - 1,
            status=sa.case((Task.status == TaskStatus.CLAIMED.name, TaskStatus.OPEN.name), else_=Task.status),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(task)
    if task.status is not before:
        _event(task.id, before, task.status, actor, reason)
    offer_freed_slot(task)


def offer_freed_slot(task: Task) -> Claim | None:
    """Give a free place to the first volunteer in line who can take it; flush only."""
    from app.models import User

    if task.status is not TaskStatus.OPEN or task.starts_at <= clock.now():
        return None
    for entry in db.session.scalars(
        sa.select(WaitlistEntry)
        .where(WaitlistEntry.task_id == task.id)
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ):
        waiting = db.session.get(User, entry.volunteer_id)
        db.session.delete(entry)
        try:
            with db.session.begin_nested():
                claim = _place_claim(waiting, task)
        except Conflict:
            continue  # now busy at that time, or the like: the next in line
        notify(waiting.id, NotificationKind.SLOT_OFFERED, task.id)
        return claim
    return None


def join_waitlist(volunteer, task_id: int) -> WaitlistEntry:
    """Wait for a place on a full task; commit."""
    require_role(volunteer, Role.VOLUNTEER)
    task = get_task(volunteer, task_id)
    if task.status is not TaskStatus.CLAIMED:
        raise Conflict(_l("Only a full task has a waiting list."), code="not_full")
    if task.starts_at <= clock.now():
        raise Conflict(_l("This task has already started."), code="task_started")
    _check_claimable(volunteer, task)
    if db.session.scalar(
        sa.select(WaitlistEntry.id).where(
            WaitlistEntry.task_id == task.id, WaitlistEntry.volunteer_id == volunteer.id
        )
    ):
        raise Conflict(_l("You are already on the waiting list."), code="already_waiting")
    entry = WaitlistEntry(task_id=task.id, volunteer_id=volunteer.id)
    db.session.add(entry)
    db.session.commit()
    return entry


def leave_waitlist(volunteer, task_id: int) -> None:
    """Leave a task's waiting list; commit. NotFound `not_waiting` if not on it."""
    require_role(volunteer, Role.VOLUNTEER)
    if not is_valid_id(task_id):
        raise NotFound(_l("You are not on the waiting list."), code="not_waiting")
    deleted = db.session.execute(
        sa.delete(WaitlistEntry).where(
            WaitlistEntry.task_id == task_id, WaitlistEntry.volunteer_id == volunteer.id
        )
    ).rowcount
    if not deleted:
        raise NotFound(_l("You are not on the waiting list."), code="not_waiting")
    db.session.commit()


# --- the task board -----------------------------------------------------------------


def board_stmt(
    volunteer, *, service_type: str | None = None, skill: str | None = None, day=None
) -> sa.Select:
    """Open tasks that have not started, most urgent first, then soonest: those
    of the volunteer's community, except tasks reserved for a partner
    organisation, which only its volunteers see (wherever they live). `day`
    is a local date."""
    from app.models import Grid

    community = sa.select(Grid.community_id).where(Grid.id == volunteer.grid_id).scalar_subquery()
    grids = sa.select(Grid.id).where(Grid.community_id == community)
    mine = sa.select(PartnerMember.partner_id).where(
        PartnerMember.user_id == volunteer.id, PartnerMember.status == MemberStatus.ACTIVE
    )
    open_ahead = (Task.status == TaskStatus.OPEN, Task.starts_at > clock.now())
    # Two index range reads, the community's grids' and the organisations',
    # not one OR, which no index serves: with it PostgreSQL read every open
    # task of the city (21 ms at 50 000 households, 0.7 ms this way).
    area = sa.union_all(
        sa.select(Task.id).where(*open_ahead, Task.grid_id.in_(grids), Task.partner_id.is_(None)),
        sa.select(Task.id).where(*open_ahead, Task.partner_id.in_(mine)),
    )
    stmt = (
        sa.select(Task)
        .where(Task.id.in_(area))
        .options(selectinload(Task.service_type), selectinload(Task.grid))
        .order_by(URGENCY_ORDER, Task.starts_at, Task.id)
    )
    if service_type:
        stmt = stmt.where(Task.service_type_code == service_type)
    if skill:
        stmt = stmt.join(ServiceType).where(ServiceType.skill_code == skill)
    if day is not None:
        start = datetime.combine(day, datetime.min.time(), clock.LOCAL_TZ)
        stmt = stmt.where(Task.starts_at >= start, Task.starts_at < start + timedelta(days=1))
    return stmt


def my_claims_stmt(volunteer, *, current: bool = True) -> sa.Select:
    """The volunteer's claims: current (not yet confirmed or released) or history."""
    live = (ClaimStatus.ACTIVE, ClaimStatus.CHECKED_IN, ClaimStatus.CHECKED_OUT)
    stmt = (
        sa.select(Claim)
        .where(Claim.volunteer_id == volunteer.id)
        .options(selectinload(Claim.task).selectinload(Task.service_type))
        .join(Task)
    )
    if current:
        return stmt.where(Claim.status.in_(live)).order_by(Task.starts_at)
    return stmt.where(Claim.status.not_in(live)).order_by(Task.starts_at.desc())


def sees_address(volunteer, task: Task) -> bool:
    """A volunteer sees the household's address and phone only once holding a place on the task."""
    return volunteer.is_staff or _holds(volunteer, task.id)


# --- lists for the API (read-only) ------------------------------------------------


def tasks_stmt(
    actor,
    *,
    status: TaskStatus | None = None,
    service_type: str | None = None,
    community_id: int | None = None,
) -> sa.Select:
    """The tasks `actor` may list, with service type and grid loaded.

    Staff: every task in their scope, newest start first. Volunteers: the
    board (`board_stmt`) when no status or `open` is asked for; another
    status among the tasks of their community and those they hold a place
    on, newest start first. A `community_id` other than the volunteer's
    own gives nothing.
    """
    from app.auth_scope import scoped
    from app.models import Grid

    load = (selectinload(Task.service_type), selectinload(Task.grid))
    newest = (Task.starts_at.desc(), Task.id.desc())
    if actor.is_staff:
        stmt = scoped(sa.select(Task), Task, actor).options(*load).order_by(*newest)
        if community_id is not None:
            stmt = stmt.where(Task.grid_id.in_(sa.select(Grid.id).where(Grid.community_id == community_id)))
    else:
        own = db.session.scalar(sa.select(Grid.community_id).where(Grid.id == actor.grid_id))
        if status in (None, TaskStatus.OPEN):
            stmt = board_stmt(actor)
        else:
            grids = sa.select(Grid.id).where(Grid.community_id == own)
            held = sa.select(Claim.task_id).where(Claim.volunteer_id == actor.id, Claim.status.in_(HOLDING))
            stmt = (
                sa.select(Task)
                .where(Task.grid_id.in_(grids) | Task.id.in_(held))
                .options(*load)
                .order_by(*newest)
            )
        if community_id is not None and community_id != own:
            stmt = stmt.where(sa.false())
    if status is not None:
        stmt = stmt.where(Task.status == status)
    if service_type:
        stmt = stmt.where(Task.service_type_code == service_type)
    return stmt


def waitlist_position(volunteer, task_id: int) -> int | None:
    """The volunteer's place in the task's waiting line (1: next), or None if not waiting."""
    mine = db.session.scalar(
        sa.select(WaitlistEntry).where(
            WaitlistEntry.task_id == task_id, WaitlistEntry.volunteer_id == volunteer.id
        )
    )
    if mine is None:
        return None
    ahead = (WaitlistEntry.created_at < mine.created_at) | (
        (WaitlistEntry.created_at == mine.created_at) & (WaitlistEntry.id < mine.id)
    )
    return 1 + db.session.scalar(
        sa.select(sa.func.count()).select_from(WaitlistEntry).where(WaitlistEntry.task_id == task_id, ahead)
    )

"""Periodic jobs about households and the honour board: the weekly review reminder
and the monthly honour roll (月度爱心之星); plus `each_item`, which every job
(here and in app/services/periodic.py) runs its items through.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app import clock
from app.auth_scope import is_valid_id
from app.extensions import db
from app.models import Community, HonourRoll, Notification, NotificationKind, Role, User, UserRole
from app.services import honour, honour_totals
from app.services.notifications import notify
from app.services.warnings import reviews_due

log = logging.getLogger(__name__)

ROLL_SIZE = 20  # volunteers kept on a month's frozen honour roll
MAX_ROLLS = 120  # ten years of months: the most `honour_rolls` returns


class JobItemsFailed(RuntimeError):
    """Some items of a job raised; each was rolled back and logged, the others were done."""


def each_item(job: str, items: Iterable, step: Callable[..., bool]) -> int:
    """Run `step` on every item, each in its own transaction (the step commits);
    the number of items it changed (it returns True).

    One item that raises is rolled back and logged, and the rest still run —
    a single bad row must not hold the others back for ever. If any failed,
    JobItemsFailed is raised at the end, so the run is recorded as failed and
    retried at the next due time (every job is idempotent).
    """
    changed, failed = 0, []
    for item in items:
        try:
            changed += bool(step(item))
        except Exception:
            db.session.rollback()
            log.exception("%s: item %s failed", job, item)
            failed.append(item)
    if failed:
        raise JobItemsFailed(f"{job}: {changed} done, {len(failed)} failed (first: {failed[:5]})")
    return changed


# --- reviews due (复审) ------------------------------------------------------------------


def week_of(day: date) -> tuple[date, date]:
    """The local week (Monday to Sunday) containing `day`."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def remind_reviews(now: datetime) -> str:
    """Tell every grid worker, once per local week, how many reviews in their grid
    are due this week (today to Sunday) and how many are overdue.

    Nothing is sent when both are 0. A grid worker who already has a
    REVIEWS_DUE notification made since this week's Monday 00:00 (local) is
    skipped, so a second run in the same week sends nothing.
    """
    today = clock.local_date(now)
    monday, sunday = week_of(today)
    week_start = clock.local_day_bounds(monday)[0]
    workers = db.session.scalars(
        sa.select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.GRID_WORKER, User.active.is_(True), User.grid_id.is_not(None))
        .order_by(User.id)
    ).all()

    def remind(worker: User) -> bool:
        told = db.session.scalar(
            sa.select(Notification.id)
            .where(
                Notification.user_id == worker.id,
                Notification.kind == NotificationKind.REVIEWS_DUE,
                Notification.created_at >= week_start,
            )
            .limit(1)
        )
        if told:
            return False
        found = reviews_due(worker, today)
        due = sum(1 for household in found.this_week if household.next_review_on <= sunday)
        overdue = len(found.overdue)
        if not (due or overdue):
            return False
        notify(worker.id, NotificationKind.REVIEWS_DUE, due=due, overdue=overdue)
        db.session.commit()
        log.info("remind_reviews: user %s, %d due, %d overdue", worker.id, due, overdue)
        return True

    sent = each_item("remind_reviews", workers, remind)
    return f"{sent} grid workers reminded of reviews for the week of {monday.isoformat()}"


# --- the monthly honour roll (月度爱心之星) ------------------------------------------------


def month_before(day: date) -> tuple[str, date]:
    """The month before `day`'s as "YYYY-MM", and its last day."""
    last_day = day.replace(day=1) - timedelta(days=1)
    return last_day.strftime("%Y-%m"), last_day


def freeze_honour_rolls(now: datetime) -> str:
    """Freeze each community's volunteer honour board (top 20) of the local month
    before `now`'s as a HonourRoll; commit per community.

    A roll, once written, is never rewritten: a community that already has
    one for that month is left alone (and UNIQUE(community_id, month) stops a
    concurrent second writer), so a reversal made later changes the live
    board but not the roll. A community with nobody on the board gets no
    roll. Names are as the board shows them at freezing time. The ranked
    totals of periods that have ended are pruned first.
    """
    month, last_day = month_before(clock.local_date(now))
    honour_totals.prune_totals()  # ended periods (by the clock, not `now`: a catch-up run is late)
    db.session.commit()
    communities = db.session.execute(sa.select(Community.id, Community.name).order_by(Community.id)).all()

    def freeze(community) -> bool:
        community_id, name = community
        if db.session.scalar(
            sa.select(HonourRoll.id).where(HonourRoll.community_id == community_id, HonourRoll.month == month)
        ):
            return False
        scope = honour.BoardScope("community", community_id, name)
        rows = honour.compute_board(scope, "month", "volunteers", ROLL_SIZE, last_day)  # exact, never cached
        if not rows:
            return False
        frozen = [
            {
                "rank": row.rank,
                "name": row.name,
                "points": row.points,
                "streak_months": row.streak_months,
                "team": row.team,
            }
            for row in rows
        ]
        try:
            with db.session.begin_nested():
                db.session.add(HonourRoll(community_id=community_id, month=month, rows=frozen))
        except sa.exc.IntegrityError:  # another scheduler process froze it a moment ago
            return False
        db.session.commit()
        log.info("freeze_honour_rolls: community %s, %s, %d rows", community_id, month, len(frozen))
        return True

    frozen_count = each_item("freeze_honour_rolls", [tuple(c) for c in communities], freeze)
    return f"{frozen_count} honour rolls frozen for {month}"


def honour_rolls(community_id: int, limit: int = 12) -> list[HonourRoll]:
    """A community's frozen honour rolls, newest month first (public: names as frozen)."""
    if not is_valid_id(community_id) or not isinstance(limit, int) or isinstance(limit, bool):
        return []
    limit = max(1, min(limit, MAX_ROLLS))
    return list(
        db.session.scalars(
            sa.select(HonourRoll)
            .where(HonourRoll.community_id == community_id)
            .order_by(HonourRoll.month.desc())
            .limit(limit)
        )
    )

"""Matching supply and demand (供需对接): which volunteers to invite to a task.

Staff see, for an open task, the volunteers of its community who could take
it, best first, each with the reasons for its place; inviting one sends an
INVITATION notification. Scores are computed when asked, never stored.

The score of a candidate (higher is better):
    score = SKILL_POINTS       if the volunteer offers the service type's skill
          + SAME_GRID_POINTS   if they live in the task's grid,
            else SAME_COMMUNITY_POINTS (every candidate is in the community)
          + FREE_TIME_POINTS   if one of their free-time slots is the task's
                               (local weekday/weekend × morning <12:00,
                               afternoon 12–18, evening ≥18)
          − LOAD_PENALTY × min(live claims, MAX_LOAD_COUNTED)
          + round(RELIABILITY_POINTS × (confirmed + 1) / (confirmed + no-shows + 2))
          − FLAG_PENALTY × min(visits flagged at follow-up, MAX_FLAGS_COUNTED)
Reliability is smoothed, so a newcomer gets half the points instead of none
or all of them, and one no-show does not sink a long record. Ties go to the
volunteer with fewer live claims, then to the earlier registration (lower id).

Candidates are the active volunteers of the task's community who hold no
place on it, have no live claim on another task overlapping its window, and
are not members or proxies of the household; for a task reserved for a
partner organisation (from a supply match, app/services/supply.py), only
that organisation's volunteers. The whole list takes a fixed number of
queries, however many candidates there are.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy.orm import aliased, selectinload

from app import clock
from app.auth_scope import get_scoped_or_404, require_role
from app.extensions import db
from app.models import (
    Claim,
    ClaimStatus,
    FreeTime,
    Grid,
    HouseholdProxy,
    Member,
    Notification,
    NotificationKind,
    Role,
    Skill,
    Task,
    TaskStatus,
    User,
    UserRole,
    VolunteerFreeTime,
)
from app.models.user import user_skill
from app.services import audit
from app.services.errors import Conflict
from app.services.households import LEDGER_WRITERS
from app.services.notifications import notify
from app.services.tasks import HOLDING, partner_volunteers

SKILL_POINTS = 40
SAME_GRID_POINTS = 20
SAME_COMMUNITY_POINTS = 10
FREE_TIME_POINTS = 20
LOAD_PENALTY = 5
MAX_LOAD_COUNTED = 6
RELIABILITY_POINTS = 20
FLAG_PENALTY = 10
MAX_FLAGS_COUNTED = 3

LIVE = (ClaimStatus.ACTIVE, ClaimStatus.CHECKED_IN)


@dataclass
class Suggestion:
    """A volunteer who could take the task, with the score and its reasons."""

    volunteer_id: int
    name: str
    grid_name: str
    score: int
    live_claims: int
    reasons: list = field(default_factory=list)  # lazy strings: rendered in the reader's language


def task_slot(task: Task) -> FreeTime:
    """The free-time slot a task's local start falls in."""
    local = task.starts_at.astimezone(clock.LOCAL_TZ)
    weekend = local.weekday() >= 5
    if local.hour < 12:
        return FreeTime.WEEKEND_MORNING if weekend else FreeTime.WEEKDAY_MORNING
    if local.hour < 18:
        return FreeTime.WEEKEND_AFTERNOON if weekend else FreeTime.WEEKDAY_AFTERNOON
    return FreeTime.WEEKEND_EVENING if weekend else FreeTime.WEEKDAY_EVENING


def _count(condition) -> sa.ScalarSelect:
    """A correlated count of the candidate's claims for which `condition(claim)` holds."""
    claim = aliased(Claim)
    return (
        sa.select(sa.func.count())
        .select_from(claim)
        .where(claim.volunteer_id == User.id, condition(claim))
        .correlate(User)
        .scalar_subquery()
    )


def _candidates_stmt(task: Task, skill_code: str, slot: FreeTime) -> sa.Select:
    """Candidates for `task` with what the score needs, one row each."""
    community = sa.select(Grid.community_id).where(Grid.id == task.grid_id).scalar_subquery()
    here, other, busy = aliased(Claim), aliased(Claim), aliased(Task)
    holds_place = sa.exists().where(
        here.task_id == task.id, here.volunteer_id == User.id, here.status.in_(HOLDING)
    )
    overlapping = sa.exists().where(
        other.volunteer_id == User.id,
        other.status.in_(LIVE),
        busy.id == other.task_id,
        busy.id != task.id,
        busy.starts_at < task.ends_at,
        busy.ends_at > task.starts_at,
    )
    of_household = sa.select(Member.user_id).where(
        Member.household_id == task.household_id, Member.user_id.is_not(None)
    )
    proxies = sa.select(HouseholdProxy.user_id).where(
        HouseholdProxy.household_id == task.household_id, HouseholdProxy.revoked_at.is_(None)
    )
    is_volunteer = sa.exists().where(UserRole.user_id == User.id, UserRole.role == Role.VOLUNTEER)
    has_skill = sa.exists().where(user_skill.c.user_id == User.id, user_skill.c.skill_code == skill_code)
    free_then = sa.exists().where(VolunteerFreeTime.user_id == User.id, VolunteerFreeTime.slot == slot)
    # A task from a supply match: only its organisation's volunteers can take it.
    reserved = User.id.in_(partner_volunteers(task.partner_id)) if task.partner_id is not None else sa.true()
    return (
        sa.select(
            User.id,
            User.name,
            User.grid_id,
            Grid.name.label("grid_name"),
            has_skill.label("has_skill"),
            free_then.label("free_then"),
            _count(lambda c: c.status.in_(LIVE)).label("live"),
            _count(lambda c: c.status == ClaimStatus.CONFIRMED).label("confirmed"),
            _count(lambda c: c.status == ClaimStatus.NO_SHOW).label("no_shows"),
            _count(lambda c: c.flagged.is_(True)).label("flagged"),
        )
        .join(Grid, Grid.id == User.grid_id)
        .where(
            Grid.community_id == community,
            User.active.is_(True),
            is_volunteer,
            ~holds_place,
            ~overlapping,
            User.id.not_in(of_household),
            User.id.not_in(proxies),
            reserved,
        )
    )


def score(row, task: Task, skill_name: str, slot: FreeTime) -> tuple[int, list]:
    """The score (module docstring) of one candidate row, and its reasons."""
    points, reasons = 0, []
    if row.has_skill:
        points += SKILL_POINTS
        reasons.append(_l("Offers %(skill)s", skill=skill_name))
    if row.grid_id == task.grid_id:
        points += SAME_GRID_POINTS
        reasons.append(_l("Lives in the household's grid"))
    else:
        points += SAME_COMMUNITY_POINTS
        reasons.append(_l("Lives in the same community"))
    if row.free_then:
        points += FREE_TIME_POINTS
        reasons.append(_l("Usually free then (%(slot)s)", slot=slot.label))
    points -= LOAD_PENALTY * min(row.live, MAX_LOAD_COUNTED)
    if row.live:
        reasons.append(lazy_ngettext("%(num)d other visit booked", "%(num)d other visits booked", row.live))
    else:
        reasons.append(_l("No other visits booked"))
    points += round(RELIABILITY_POINTS * (row.confirmed + 1) / (row.confirmed + row.no_shows + 2))
    if row.confirmed or row.no_shows:
        reasons.append(
            _l(
                "%(confirmed)d visits confirmed, %(no_shows)d missed",
                confirmed=row.confirmed,
                no_shows=row.no_shows,
            )
        )
    else:
        reasons.append(_l("No visits yet"))
    if row.flagged:
        points -= FLAG_PENALTY * min(row.flagged, MAX_FLAGS_COUNTED)
        reasons.append(
            lazy_ngettext(
                "%(num)d visit flagged at follow-up", "%(num)d visits flagged at follow-up", row.flagged
            )
        )
    return points, reasons


def get_matchable_task(actor, task_id: int) -> Task:
    """A task in the actor's scope (NotFound otherwise), service type and grid loaded."""
    require_role(actor, *LEDGER_WRITERS)
    return get_scoped_or_404(
        Task, task_id, actor, options=(selectinload(Task.service_type), selectinload(Task.grid))
    )


def is_matchable(task: Task) -> bool:
    """Only an open task that has not started takes invitations."""
    return task.status is TaskStatus.OPEN and task.starts_at > clock.now()


def suggest_volunteers(actor, task_id: int, limit: int = 10) -> list[Suggestion]:
    """The best `limit` candidates for a task, best first (module docstring).

    Raises Forbidden (not grid or community staff) and NotFound (out of
    scope). A task that is not open, or has started, has no suggestions.
    """
    task = get_matchable_task(actor, task_id)
    if not is_matchable(task):
        return []
    skill_code = task.service_type.skill_code
    skill = db.session.get(Skill, skill_code)
    skill_name = skill.name if skill is not None else skill_code
    slot = task_slot(task)
    suggestions = []
    for row in db.session.execute(_candidates_stmt(task, skill_code, slot)):
        points, reasons = score(row, task, skill_name, slot)
        suggestions.append(Suggestion(row.id, row.name, row.grid_name, points, row.live, reasons))
    suggestions.sort(key=lambda s: (-s.score, s.live_claims, s.volunteer_id))
    return suggestions[:limit]


def invite(actor, task_id: int, volunteer_id: int) -> Notification | None:
    """Invite a candidate volunteer to a task: an INVITATION notification; commit.

    Returns None if the volunteer turned invitations off (the invitation is
    still logged). Raises Forbidden, NotFound (task out of scope) and
    Conflict: task_not_open, not_a_candidate, already_invited.
    """
    task = get_matchable_task(actor, task_id)
    if not is_matchable(task):
        raise Conflict(
            _l("Only an open task that has not started can take invitations."), code="task_not_open"
        )
    stmt = _candidates_stmt(task, task.service_type.skill_code, task_slot(task))
    if (
        not isinstance(volunteer_id, int)
        or db.session.execute(stmt.where(User.id == volunteer_id)).first() is None
    ):
        raise Conflict(
            _l("This volunteer cannot take this task (not in its community, busy then, or already on it)."),
            code="not_a_candidate",
        )
    already = sa.select(Notification.id).where(
        Notification.user_id == volunteer_id,
        Notification.task_id == task.id,
        Notification.kind == NotificationKind.INVITATION,
    )
    if db.session.scalar(already.limit(1)) is not None:
        raise Conflict(_l("This volunteer has already been invited to this task."), code="already_invited")
    notification = notify(volunteer_id, NotificationKind.INVITATION, task.id)
    audit.record(actor, "invite", "task", task.id, grid_id=task.grid_id, note=f"volunteer {volunteer_id}")
    db.session.commit()
    return notification

"""Volunteers to suggest for a community's open needs, for a whole page of
needs in a fixed number of queries.

A need with an open task gets the candidates app/services/matching.py
would suggest for that task — the same rules (active volunteers of the
community, not already on the task, not busy at another task overlapping
its window, not of the household, only the organisation's volunteers for a
task reserved for one) and the same score and reasons (`matching.score`),
here computed for every need of the page at once instead of one task at a
time. A need without a task gets the community's volunteers who offer the
service's skill (not of the household), scored the same way without the
free-time part, since there is no time yet. Best first, ties as in
matching.py: fewer live claims, then lower id.
"""

from dataclasses import dataclass
from types import SimpleNamespace

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Claim,
    ClaimStatus,
    Grid,
    HouseholdProxy,
    Member,
    MemberStatus,
    PartnerMember,
    Role,
    Skill,
    Task,
    User,
    UserRole,
    VolunteerFreeTime,
)
from app.models.user import user_skill
from app.services.matching import LIVE, Suggestion, score, task_slot
from app.services.tasks import HOLDING

LIMIT = 3


@dataclass
class NeedSpec:
    """What the suggestions need to know of one need."""

    need_id: int
    household_id: int
    grid_id: int  # the household's
    skill_code: str  # the need's service's skill
    task: Task | None = None  # an open task posted for the need
    task_skill_code: str | None = None  # the task's service's skill


def _volunteers_stmt(community_id: int) -> sa.Select:
    is_volunteer = sa.exists().where(UserRole.user_id == User.id, UserRole.role == Role.VOLUNTEER)
    return (
        sa.select(User.id, User.name, User.grid_id, Grid.name.label("grid_name"))
        .join(Grid, Grid.id == User.grid_id)
        .where(Grid.community_id == community_id, User.active.is_(True), is_volunteer)
        .order_by(User.id)
    )


def _claim_counts(ids) -> dict[int, SimpleNamespace]:
    """Per volunteer: live claims, confirmed visits, no-shows, flagged visits."""
    rows = db.session.execute(
        sa.select(
            Claim.volunteer_id,
            sa.func.count().filter(Claim.status.in_(LIVE)),
            sa.func.count().filter(Claim.status == ClaimStatus.CONFIRMED),
            sa.func.count().filter(Claim.status == ClaimStatus.NO_SHOW),
            sa.func.count().filter(Claim.flagged.is_(True)),
        )
        .where(Claim.volunteer_id.in_(ids))
        .group_by(Claim.volunteer_id)
    )
    return {
        row[0]: SimpleNamespace(live=row[1], confirmed=row[2], no_shows=row[3], flagged=row[4])
        for row in rows
    }


def _pairs(stmt) -> dict[int, set]:
    found: dict[int, set] = {}
    for key, value in db.session.execute(stmt):
        found.setdefault(key, set()).add(value)
    return found


def suggest_for_needs(
    community_id: int, specs: list[NeedSpec], limit: int = LIMIT
) -> dict[int, list[Suggestion]]:
    """need id → the best `limit` volunteers for it, with scores and reasons (module docstring).

    Nine queries, whatever the number of needs and volunteers.
    """
    volunteers = db.session.execute(_volunteers_stmt(community_id)).all()
    ids = _volunteers_stmt(community_id).with_only_columns(User.id).order_by(None)
    counts = _claim_counts(ids)
    skills = _pairs(
        sa.select(user_skill.c.user_id, user_skill.c.skill_code).where(user_skill.c.user_id.in_(ids))
    )
    free = _pairs(
        sa.select(VolunteerFreeTime.user_id, VolunteerFreeTime.slot).where(VolunteerFreeTime.user_id.in_(ids))
    )
    tasks = {spec.task.id: spec.task for spec in specs if spec.task is not None}
    # Live claims anywhere (for overlaps) and places held on these tasks.
    claims: dict[int, list] = {}
    for claim in db.session.execute(
        sa.select(Claim.volunteer_id, Claim.task_id, Claim.status, Task.starts_at, Task.ends_at)
        .join(Task, Task.id == Claim.task_id)
        .where(
            Claim.volunteer_id.in_(ids),
            Claim.status.in_(LIVE) | (Claim.task_id.in_(list(tasks)) & Claim.status.in_(HOLDING)),
        )
    ):
        claims.setdefault(claim.volunteer_id, []).append(claim)
    households = {spec.household_id for spec in specs}
    family = _pairs(
        sa.union(
            sa.select(Member.household_id, Member.user_id).where(
                Member.household_id.in_(households), Member.user_id.is_not(None)
            ),
            sa.select(HouseholdProxy.household_id, HouseholdProxy.user_id).where(
                HouseholdProxy.household_id.in_(households), HouseholdProxy.revoked_at.is_(None)
            ),
        )
    )
    partners = {task.partner_id for task in tasks.values() if task.partner_id is not None}
    members = _pairs(
        sa.select(PartnerMember.partner_id, PartnerMember.user_id).where(
            PartnerMember.partner_id.in_(partners), PartnerMember.status == MemberStatus.ACTIVE
        )
    )
    skill_names = {skill.code: skill.name for skill in db.session.scalars(sa.select(Skill))}
    none = SimpleNamespace(live=0, confirmed=0, no_shows=0, flagged=0)

    def row(volunteer, skill_code: str, free_then: bool) -> SimpleNamespace:
        stats = counts.get(volunteer.id, none)
        return SimpleNamespace(
            id=volunteer.id,
            grid_id=volunteer.grid_id,
            has_skill=skill_code in skills.get(volunteer.id, ()),
            free_then=free_then,
            **vars(stats),
        )

    def busy(volunteer_id: int, task: Task) -> bool:
        return any(
            c.task_id != task.id
            and c.status in LIVE
            and c.starts_at < task.ends_at
            and c.ends_at > task.starts_at
            for c in claims.get(volunteer_id, ())
        )

    def on_task(volunteer_id: int, task: Task) -> bool:
        return any(c.task_id == task.id and c.status in HOLDING for c in claims.get(volunteer_id, ()))

    found: dict[int, list[Suggestion]] = {}
    for spec in specs:
        kin = family.get(spec.household_id, set())
        task = spec.task
        suggestions = []
        for volunteer in volunteers:
            if volunteer.id in kin:
                continue
            if task is not None:
                if task.partner_id is not None and volunteer.id not in members.get(task.partner_id, ()):
                    continue
                if on_task(volunteer.id, task) or busy(volunteer.id, task):
                    continue
                slot = task_slot(task)
                candidate = row(volunteer, spec.task_skill_code, slot in free.get(volunteer.id, ()))
                skill = spec.task_skill_code
                points, reasons = score(candidate, task, skill_names.get(skill, skill), slot)
            else:
                candidate = row(volunteer, spec.skill_code, False)
                if not candidate.has_skill:
                    continue
                at_home = SimpleNamespace(grid_id=spec.grid_id)
                points, reasons = score(
                    candidate, at_home, skill_names.get(spec.skill_code, spec.skill_code), None
                )
            suggestions.append(
                Suggestion(volunteer.id, volunteer.name, volunteer.grid_name, points, candidate.live, reasons)
            )
        suggestions.sort(key=lambda s: (-s.score, s.live_claims, s.volunteer_id))
        found[spec.need_id] = suggestions[:limit]
    return found

"""Neighbour love teams (爱心团队): volunteers create, join and leave teams of their community.

A volunteer is in at most one team at a time (a TeamMembership with
`left_at` NULL; a partial unique index makes a race end in a Conflict, not
two memberships). A team's points come from app/services/honour.py: its
members' earnings while they were members.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app import clock
from app.auth_scope import is_valid_id
from app.extensions import db
from app.models import Community, Grid, Role, Team, TeamMembership, User
from app.services import honour_tally
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.honour import public_name

NAME_MIN, NAME_MAX, MOTTO_MAX = 2, 40, 200


def community_of(user) -> int | None:
    """The community a user belongs to: their own, or their grid's."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if user.community_id:
        return user.community_id
    if user.grid_id:
        return db.session.scalar(sa.select(Grid.community_id).where(Grid.id == user.grid_id))
    return None


def _volunteer_community(actor) -> int:
    """The actor's community, if the actor is a volunteer who has one; else Forbidden."""
    community_id = community_of(actor) if actor.has_role(Role.VOLUNTEER) else None
    if community_id is None:
        raise Forbidden(_l("Only volunteers of a community can be in its teams."), code="not_a_volunteer")
    return community_id


def current_membership(user_id: int) -> TeamMembership | None:
    return db.session.scalar(
        sa.select(TeamMembership).where(TeamMembership.user_id == user_id, TeamMembership.left_at.is_(None))
    )


def current_team(user) -> Team | None:
    """The team the user is in now, if any."""
    membership = current_membership(user.id) if user is not None and user.is_authenticated else None
    return db.session.get(Team, membership.team_id) if membership else None


def _already_in_team() -> Conflict:
    return Conflict(_l("You are already in a team. Leave it first."), code="already_in_team")


def _join(user_id: int, team_id: int) -> TeamMembership:
    """Add the current membership; Conflict `already_in_team` if the user has one (even by a race)."""
    if current_membership(user_id) is not None:
        raise _already_in_team()
    membership = TeamMembership(team_id=team_id, user_id=user_id, joined_at=clock.now())
    try:
        with db.session.begin_nested():
            db.session.add(membership)
    except IntegrityError:
        raise _already_in_team() from None
    honour_tally.membership_changed(membership, membership.joined_at)
    return membership


def _clean(name, motto) -> tuple[str, str]:
    name = name.strip() if isinstance(name, str) else ""
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise InvalidInput(
            _l("Give the team a name of %(low)d to %(high)d characters.", low=NAME_MIN, high=NAME_MAX),
            code="invalid_name",
            field="name",
        )
    motto = (motto or "").strip() if isinstance(motto, str | None) else None
    if motto is None or len(motto) > MOTTO_MAX:
        raise InvalidInput(
            _l("Write a motto of at most %(n)d characters.", n=MOTTO_MAX), code="invalid_motto", field="motto"
        )
    return name, motto


def create_team(actor, name: str, motto: str = "") -> Team:
    """A new team in the actor's community with the actor as its first member; commit.

    Raises Forbidden `not_a_volunteer`, InvalidInput `invalid_name`,
    `invalid_motto`, Conflict `team_name_taken`, `already_in_team`.
    """
    community_id = _volunteer_community(actor)
    name, motto = _clean(name, motto)
    if current_membership(actor.id) is not None:
        raise _already_in_team()
    taken = Conflict(
        _l("This community already has a team of that name."), code="team_name_taken", field="name"
    )
    if db.session.scalar(sa.select(Team.id).where(Team.community_id == community_id, Team.name == name)):
        raise taken
    team = Team(
        community_id=community_id, name=name, motto=motto, created_by_id=actor.id, created_at=clock.now()
    )
    try:
        with db.session.begin_nested():
            db.session.add(team)
    except IntegrityError:  # another volunteer took the name a moment ago
        raise taken from None
    try:
        _join(actor.id, team.id)
    except Conflict:
        db.session.rollback()
        raise
    db.session.commit()
    return team


def _team_of_community(team_id, community_id: int) -> Team:
    team = db.session.get(Team, team_id) if is_valid_id(team_id) else None
    if team is None or team.community_id != community_id or not team.active:
        raise NotFound(_l("There is no such team in your community."), code="not_found")
    return team


def join_team(actor, team_id: int) -> TeamMembership:
    """Join a team of the actor's community; commit.

    Raises Forbidden `not_a_volunteer`, NotFound (no such active team in the
    actor's community), Conflict `already_in_team` (in this or another team).
    """
    community_id = _volunteer_community(actor)
    team = _team_of_community(team_id, community_id)
    try:
        membership = _join(actor.id, team.id)
    except Conflict:
        db.session.rollback()
        raise
    db.session.commit()
    return membership


def leave_team(actor) -> TeamMembership:
    """Leave the team the actor is in; points earned while a member stay the team's; commit.

    Raises Conflict `not_in_team`.
    """
    membership = current_membership(actor.id)
    if membership is None:
        raise Conflict(_l("You are not in a team."), code="not_in_team")
    membership.left_at = max(clock.now(), membership.joined_at)
    honour_tally.membership_changed(membership, membership.left_at)
    db.session.commit()
    return membership


@dataclass(frozen=True)
class TeamView:
    """A team as listed to volunteers: member names masked as on the honour board."""

    id: int
    name: str
    motto: str
    members: list[str]
    is_mine: bool

    @property
    def member_count(self) -> int:
        return len(self.members)


def community_teams(viewer, community_id: int) -> list[TeamView]:
    """The active teams of a community with their current members, in two queries.

    Raises NotFound for a community that does not exist.
    """
    if not is_valid_id(community_id) or db.session.get(Community, community_id) is None:
        raise NotFound()
    teams = list(
        db.session.scalars(
            sa.select(Team).where(Team.community_id == community_id, Team.active.is_(True)).order_by(Team.id)
        )
    )
    rows = db.session.execute(
        sa.select(TeamMembership.team_id, TeamMembership.user_id, User.name, User.show_full_name)
        .join(User, User.id == TeamMembership.user_id)
        .where(TeamMembership.team_id.in_([t.id for t in teams]), TeamMembership.left_at.is_(None))
        .order_by(TeamMembership.joined_at, TeamMembership.id)
    ).all()
    viewer_id = viewer.id if viewer is not None and viewer.is_authenticated else None
    members: dict[int, list[str]] = {t.id: [] for t in teams}
    mine: set[int] = set()
    for team_id, user_id, name, show_full in rows:
        members[team_id].append(public_name(name, show_full))
        if user_id == viewer_id:
            mine.add(team_id)
    return [TeamView(t.id, t.name, t.motto, members[t.id], t.id in mine) for t in teams]


def communities() -> list[Community]:
    """Every community, in id order (for choosers)."""
    return list(db.session.scalars(sa.select(Community).order_by(Community.id)))

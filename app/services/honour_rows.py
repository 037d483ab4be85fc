"""Computing the honour board's rows from the tallies (app/services/honour_tally.py).

The rules are in app/services/honour.py `board`; this module only reads.
Its cost is bounded by the tally rows of the scope and period (one per
volunteer, community and day with a counted award; one per team and day),
never by the number of ledger entries.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import FunctionElement

from app import clock
from app.extensions import db
from app.models import Community, Team, TeamMembership, User
from app.models.honour import HonourTally, TeamTally
from app.services import honour_totals
from app.services.honour_periods import local_days
from app.services.honour_totals import communities_of
from app.services.privacy import mask_name


@dataclass(frozen=True)
class VolunteerRow:
    """One volunteer on the board. `user_id` is for the server's own use
    (tests, a cache key); it is never shown or serialised publicly."""

    rank: int
    name: str
    points: int
    team: str | None
    streak_months: int
    user_id: int


@dataclass(frozen=True)
class TeamRow:
    rank: int
    name: str
    community: str
    points: int
    members: int
    team_id: int


def public_name(name: str, show_full_name: bool) -> str:
    """The name a public page shows: masked (张*明) unless the volunteer chose otherwise."""
    return name if show_full_name else mask_name(name)


def _in_days(column, first: date | None, after: date | None) -> list:
    """WHERE conditions keeping the days in [first, after); None leaves that side open."""
    conditions = []
    if first is not None:
        conditions.append(column >= first)
    if after is not None:
        conditions.append(column < after)
    return conditions


def volunteer_rows(level: str, unit_id: int, period: str, today: date, limit: int) -> list[VolunteerRow]:
    """The volunteer board of a scope over the period of `today`; two statements.

    The current period's board comes ranked from HonourTotal (an index range);
    any other period's is added up from the day tallies of the scope.
    """
    if honour_totals.is_current(period, today):
        totals = honour_totals.ranked(f"{level}:{unit_id}", period, today, limit).subquery()
    else:
        tally = HonourTally
        points = sa.func.sum(tally.points).label("points")
        reached_at = sa.func.max(tally.reached_at).label("reached_at")
        first, after = local_days(period, today)
        totals = (
            sa.select(tally.earner_id, points, reached_at)
            .where(tally.community_id.in_(communities_of(level, unit_id)), *_in_days(tally.day, first, after))
            .group_by(tally.earner_id)
            .having(sa.func.sum(tally.points) > 0)
            .order_by(points.desc(), reached_at.asc(), tally.earner_id.asc())
            .limit(limit)
            .subquery()
        )
    current = aliased(TeamMembership)
    stmt = (
        sa.select(totals.c.earner_id, totals.c.points, User.name, User.show_full_name, Team.name)
        .join(User, User.id == totals.c.earner_id)
        .outerjoin(current, sa.and_(current.user_id == User.id, current.left_at.is_(None)))
        .outerjoin(Team, sa.and_(Team.id == current.team_id, Team.active.is_(True)))
        .order_by(totals.c.points.desc(), totals.c.reached_at.asc(), totals.c.earner_id.asc())
    )
    found = db.session.execute(stmt).all()
    streaks = streak_months([row[0] for row in found], today)
    return [
        VolunteerRow(
            rank=position,
            name=public_name(name, show_full),
            points=int(points),
            team=team,
            streak_months=streaks.get(user_id, 0),
            user_id=user_id,
        )
        for position, (user_id, points, name, show_full, team) in enumerate(found, start=1)
    ]


def team_rows(level: str, unit_id: int, period: str, today: date, limit: int) -> list[TeamRow]:
    """The team board of a scope over the period of `today`: ranked from TeamTotal for the
    current period, else added up from the team day tallies; one statement."""
    teams = sa.select(Team.id).where(
        Team.active.is_(True), Team.community_id.in_(communities_of(level, unit_id))
    )
    if honour_totals.is_current(period, today):
        totals = honour_totals.ranked_teams(teams, period, today, limit).subquery()
    else:
        first, after = local_days(period, today)
        points = sa.func.sum(TeamTally.points).label("points")
        reached_at = sa.func.max(TeamTally.reached_at).label("reached_at")
        totals = (
            sa.select(TeamTally.team_id, points, reached_at)
            .where(TeamTally.team_id.in_(teams), *_in_days(TeamTally.day, first, after))
            .group_by(TeamTally.team_id)
            .order_by(points.desc(), reached_at.asc(), TeamTally.team_id.asc())
            .limit(limit)
            .subquery()
        )
    members = (
        sa.select(sa.func.count())
        .where(TeamMembership.team_id == Team.id, TeamMembership.left_at.is_(None))
        .correlate(Team)
        .scalar_subquery()
    )
    stmt = (
        sa.select(Team.id, Team.name, Community.name, totals.c.points, members)
        .join(totals, totals.c.team_id == Team.id)
        .join(Community, Community.id == Team.community_id)
        .order_by(totals.c.points.desc(), totals.c.reached_at.asc(), Team.id.asc())
    )
    return [
        TeamRow(rank=position, name=name, community=community, points=int(points), members=count, team_id=tid)
        for position, (tid, name, community, points, count) in enumerate(db.session.execute(stmt), start=1)
    ]


# --- steadiness ----------------------------------------------------------------------


class month_of(FunctionElement):
    """The calendar month of a DATE as one integer, year × 12 + month − 1."""

    type = sa.Integer()
    inherit_cache = True
    name = "month_of"


@compiles(month_of, "sqlite")
def _month_of_sqlite(element, compiler, **kw):
    day = compiler.process(list(element.clauses)[0], **kw)
    return f"(CAST(strftime('%Y', {day}) AS INTEGER) * 12 + CAST(strftime('%m', {day}) AS INTEGER) - 1)"


@compiles(month_of, "postgresql")
def _month_of_postgresql(element, compiler, **kw):
    day = compiler.process(list(element.clauses)[0], **kw)
    return (
        f"(CAST(EXTRACT(YEAR FROM {day}) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM {day}) AS INTEGER) - 1)"
    )


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def streak_months(user_ids: list[int], today: date | None = None) -> dict[int, int]:
    """Months in a row with at least one verified service, per volunteer (one query).

    A verified service is a confirmed visit whose award was not reversed,
    anywhere, counted in the local month the award was made (the visit was
    verified); an award of 0 points (the daily cap) still counts. The run
    ends with the current month, or with the month before if there is
    nothing yet this month, so a month in progress does not break it.
    Volunteers without a streak are absent (0).
    """
    if not user_ids:
        return {}
    today = today or clock.today()
    current = month_index(today)
    next_month = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    month = month_of(HonourTally.day)
    stmt = (
        sa.select(HonourTally.earner_id, month)
        .where(HonourTally.earner_id.in_(user_ids), HonourTally.day < next_month)
        .group_by(HonourTally.earner_id, month)
    )
    months: dict[int, set[int]] = {}
    for user_id, index in db.session.execute(stmt):
        months.setdefault(user_id, set()).add(int(index))
    return {user_id: streak for user_id, held in months.items() if (streak := count_streak(held, current))}


def count_streak(months: set[int], current: int) -> int:
    """Consecutive months in `months` ending at `current`, or at the month before it."""
    end = current if current in months else current - 1
    streak = 0
    while end - streak in months:
        streak += 1
    return streak

"""The honour board (爱心榜): volunteers and teams ranked by points earned in a period.

Points are computed from the ledger every time, never stored: a volunteer's
points are the volunteer-account entries of AWARD transactions given in
the scope's communities in the period, leaving out every award that has a
REVERSAL (`reverses_id`), whenever it was reversed. Balance (spending,
donations) plays no part. An award of 0 points (the daily cap reached)
adds nothing and does not move anyone's place.

Everything here only reads the database, and its answer depends only on
the database and the arguments (`today`), so a cache can be put in front.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from app import clock
from app.auth_scope import is_valid_id
from app.extensions import db
from app.models import (
    AccountKind,
    City,
    Community,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Street,
    Team,
    TeamMembership,
    TxKind,
    User,
)
from app.services.errors import InvalidInput, NotFound
from app.services.privacy import mask_name

PERIODS = ("week", "month", "quarter", "year", "all")
KINDS = ("volunteers", "teams")
MAX_LIMIT = 200
_SCOPE = re.compile(r"^(community|street|city):([0-9]{1,10})$")
# Asia/Shanghai has kept UTC+8 without daylight saving since 1991, so a
# fixed offset gives the local month of any timestamp the platform holds,
# the same way on SQLite (no time zones) and PostgreSQL.
_LOCAL_OFFSET_HOURS = 8


# --- scope and period ---------------------------------------------------------------


@dataclass(frozen=True)
class BoardScope:
    """A community, a street or a city, checked to exist."""

    level: str
    unit_id: int
    name: str

    @property
    def key(self) -> str:
        return f"{self.level}:{self.unit_id}"


def parse_scope(value) -> BoardScope:
    """`community:3`, `street:1` or `city:1` → the unit it names.

    Raises InvalidInput `invalid_scope` for anything else, NotFound for an id
    that does not exist.
    """
    match = _SCOPE.match(value) if isinstance(value, str) else None
    if match is None or not is_valid_id(int(match.group(2))):
        raise InvalidInput(
            _l("Choose a community, a street or the city."), code="invalid_scope", field="scope"
        )
    level, unit_id = match.group(1), int(match.group(2))
    model = {"community": Community, "street": Street, "city": City}[level]
    name = db.session.scalar(sa.select(model.name).where(model.id == unit_id))
    if name is None:
        raise NotFound(_l("There is no such community, street or city."), code="not_found")
    return BoardScope(level, unit_id, name)


def period_bounds(period: str, today: date | None = None) -> tuple[datetime | None, datetime | None]:
    """The aware UTC [start, end) of the local (Asia/Shanghai) week (from
    Monday), month, quarter or year containing `today`; (None, None) for all.

    Raises InvalidInput `invalid_period`.
    """
    if period not in PERIODS:
        raise InvalidInput(
            _l("Choose a week, month, quarter, year or all time."), code="invalid_period", field="period"
        )
    today = today or clock.today()
    if period == "all":
        return None, None
    if period == "week":
        first = today - timedelta(days=today.weekday())
        after = first + timedelta(days=7)
    elif period == "year":
        first, after = date(today.year, 1, 1), date(today.year + 1, 1, 1)
    else:
        months = 1 if period == "month" else 3
        start_month = (today.month - 1) // months * months  # 0-based
        first = date(today.year, start_month + 1, 1)
        end_month = start_month + months
        after = date(today.year + end_month // 12, end_month % 12 + 1, 1)
    return _local_midnight(first), _local_midnight(after)


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), clock.LOCAL_TZ).astimezone(UTC)


def scope_options() -> dict[str, list[tuple[str, str]]]:
    """Every scope to choose from, grouped: communities, streets, cities (three queries)."""
    streets = db.session.execute(sa.select(Street.id, Street.name).order_by(Street.id)).all()
    communities = db.session.execute(
        sa.select(Community.id, Community.name, Street.name).join(Street).order_by(Community.id)
    ).all()
    cities = db.session.execute(sa.select(City.id, City.name).order_by(City.id)).all()
    return {
        str(_l("Communities")): [(f"community:{i}", f"{street} · {name}") for i, name, street in communities],
        str(_l("Streets")): [(f"street:{i}", name) for i, name in streets],
        str(_l("Whole city")): [(f"city:{i}", name) for i, name in cities],
    }


def _communities_of(scope: BoardScope) -> sa.Select:
    """SELECT of the ids of the communities inside the scope."""
    if scope.level == "community":
        return sa.select(Community.id).where(Community.id == scope.unit_id)
    if scope.level == "street":
        return sa.select(Community.id).where(Community.street_id == scope.unit_id)
    return sa.select(Community.id).join(Street).where(Street.city_id == scope.unit_id)


# --- what counts ---------------------------------------------------------------------


class local_month(FunctionElement):
    """The local calendar month of a UTC timestamp as one integer, year × 12 + month − 1."""

    type = sa.Integer()
    inherit_cache = True
    name = "local_month"


@compiles(local_month, "sqlite")
def _local_month_sqlite(element, compiler, **kw):
    moment = compiler.process(list(element.clauses)[0], **kw)
    shift = f"'+{_LOCAL_OFFSET_HOURS} hours'"
    return (
        f"(CAST(strftime('%Y', {moment}, {shift}) AS INTEGER) * 12"
        f" + CAST(strftime('%m', {moment}, {shift}) AS INTEGER) - 1)"
    )


@compiles(local_month, "postgresql")
def _local_month_postgresql(element, compiler, **kw):
    moment = compiler.process(list(element.clauses)[0], **kw)
    shifted = f"({moment} + INTERVAL '{_LOCAL_OFFSET_HOURS} hours')"
    return (
        f"(CAST(EXTRACT(YEAR FROM {shifted}) AS INTEGER) * 12"
        f" + CAST(EXTRACT(MONTH FROM {shifted}) AS INTEGER) - 1)"
    )


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _not_reversed(award):
    reversal = sa.orm.aliased(LedgerTransaction)
    return ~sa.exists().where(reversal.reverses_id == award.id)


def counted_awards(start: datetime | None, end: datetime | None) -> sa.Select:
    """SELECT (earner id, created_at, points) of the awards that count: not
    reversed, more than 0 points, made in [start, end).

    The points are the award's entry on the earner's volunteer account.
    """
    award = LedgerTransaction
    stmt = (
        sa.select(
            award.earner_id.label("earner_id"),
            award.created_at.label("created_at"),
            LedgerEntry.amount.label("points"),
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == award.id)
        .join(
            LedgerAccount,
            sa.and_(
                LedgerAccount.id == LedgerEntry.account_id,
                LedgerAccount.kind == AccountKind.VOLUNTEER,
                LedgerAccount.owner_id == award.earner_id,
            ),
        )
        .where(award.kind == TxKind.AWARD, LedgerEntry.amount > 0, _not_reversed(award))
    )
    if start is not None:
        stmt = stmt.where(award.created_at >= start)
    if end is not None:
        stmt = stmt.where(award.created_at < end)
    return stmt


# --- the board -----------------------------------------------------------------------


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


@dataclass(frozen=True)
class Board:
    scope: BoardScope
    period: str
    kind: str
    start: datetime | None
    end: datetime | None
    rows: list

    @property
    def first_day(self) -> date | None:
        """The period's first local day (None: all time)."""
        return clock.local_date(self.start) if self.start else None

    @property
    def last_day(self) -> date | None:
        """The period's last local day (None: all time)."""
        return clock.local_date(self.end - timedelta(microseconds=1)) if self.end else None


def public_name(name: str, show_full_name: bool) -> str:
    """The name a public page shows: masked (张*明) unless the volunteer chose otherwise."""
    return name if show_full_name else mask_name(name)


def _check(kind: str, limit) -> None:
    if kind not in KINDS:
        raise InvalidInput(_l("Choose volunteers or teams."), code="invalid_kind", field="kind")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            _l("Show from 1 to %(max)d rows.", max=MAX_LIMIT), code="invalid_limit", field="limit"
        )


def board(scope, period: str, kind: str = "volunteers", limit: int = 50, today: date | None = None) -> list:
    """The ranked rows of the honour board: VolunteerRow or TeamRow, best first.

    `scope` is a BoardScope or a string for `parse_scope`; `period` one of
    PERIODS, its bounds those of `period_bounds(period, today)`.

    Volunteers: points earned in the scope's communities in the period (see
    the module docstring); only volunteers with more than 0 points appear.
    Teams: the team's community must be in the scope; its points are its
    members' earnings (anywhere, same rule, in the period) from awards made
    while they were members, `joined_at` ≤ created_at < `left_at`. Inactive
    teams do not appear.

    Order (ties): points descending; then the time the total was reached —
    the latest counted award — ascending, so whoever got there first ranks
    higher; then the user id (team id) ascending. Ranks are positions in
    that order, 1, 2, 3 …: equal points still get different ranks.

    Volunteer rows also carry the current team's name and the steadiness
    streak (`streak_months`). Runs the same number of SQL statements however
    many rows there are (two for volunteers, one for teams).

    Raises InvalidInput `invalid_scope`, `invalid_period`, `invalid_kind`,
    `invalid_limit`; NotFound for a scope that does not exist.
    """
    _check(kind, limit)
    start, end = period_bounds(period, today)
    scope = scope if isinstance(scope, BoardScope) else parse_scope(scope)
    if kind == "teams":
        return _team_rows(scope, start, end, limit)
    return _volunteer_rows(scope, start, end, limit, today or clock.today())


def honour_board(scope, period: str, kind: str = "volunteers", limit: int = 50, today=None) -> Board:
    """The board with its scope and period bounds (for pages and the API); raises as `board`."""
    scope = scope if isinstance(scope, BoardScope) else parse_scope(scope)
    rows = board(scope, period, kind, limit, today)
    return Board(scope, period, kind, *period_bounds(period, today), rows)


def team_points(community_id: int, period: str = "month", today: date | None = None) -> dict[int, int]:
    """Points of the community's teams in the period, by team id (teams without points absent)."""
    start, end = period_bounds(period, today)
    scope = BoardScope("community", community_id, "")
    return {row.team_id: row.points for row in _team_rows(scope, start, end, MAX_LIMIT)}


def _volunteer_rows(scope: BoardScope, start, end, limit: int, today: date) -> list[VolunteerRow]:
    awards = counted_awards(start, end).where(LedgerTransaction.community_id.in_(_communities_of(scope)))
    awards = awards.subquery()
    totals = (
        sa.select(
            awards.c.earner_id,
            sa.func.sum(awards.c.points).label("points"),
            sa.func.max(awards.c.created_at).label("reached_at"),
        )
        .group_by(awards.c.earner_id)
        .subquery()
    )
    current = sa.orm.aliased(TeamMembership)
    stmt = (
        sa.select(totals.c.earner_id, totals.c.points, User.name, User.show_full_name, Team.name)
        .join(User, User.id == totals.c.earner_id)
        .outerjoin(current, sa.and_(current.user_id == User.id, current.left_at.is_(None)))
        .outerjoin(Team, sa.and_(Team.id == current.team_id, Team.active.is_(True)))
        .order_by(totals.c.points.desc(), totals.c.reached_at.asc(), totals.c.earner_id.asc())
        .limit(limit)
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


def _team_rows(scope: BoardScope, start, end, limit: int) -> list[TeamRow]:
    awards = counted_awards(start, end).subquery()
    member = sa.orm.aliased(TeamMembership)
    totals = (
        sa.select(
            member.team_id,
            sa.func.sum(awards.c.points).label("points"),
            sa.func.max(awards.c.created_at).label("reached_at"),
        )
        .join(
            member,
            sa.and_(
                member.user_id == awards.c.earner_id,
                member.joined_at <= awards.c.created_at,
                sa.or_(member.left_at.is_(None), member.left_at > awards.c.created_at),
            ),
        )
        .group_by(member.team_id)
        .subquery()
    )
    members = (
        sa.select(TeamMembership.team_id, sa.func.count().label("members"))
        .where(TeamMembership.left_at.is_(None))
        .group_by(TeamMembership.team_id)
        .subquery()
    )
    stmt = (
        sa.select(Team.id, Team.name, Community.name, totals.c.points, sa.func.coalesce(members.c.members, 0))
        .join(totals, totals.c.team_id == Team.id)
        .join(Community, Community.id == Team.community_id)
        .outerjoin(members, members.c.team_id == Team.id)
        .where(Team.active.is_(True), Team.community_id.in_(_communities_of(scope)))
        .order_by(totals.c.points.desc(), totals.c.reached_at.asc(), Team.id.asc())
        .limit(limit)
    )
    return [
        TeamRow(rank=position, name=name, community=community, points=int(points), members=count, team_id=tid)
        for position, (tid, name, community, points, count) in enumerate(db.session.execute(stmt), start=1)
    ]


# --- steadiness ----------------------------------------------------------------------


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
    award = LedgerTransaction
    month = local_month(award.created_at)
    stmt = (
        sa.select(award.earner_id, month)
        .where(
            award.kind == TxKind.AWARD,
            award.earner_id.in_(user_ids),
            award.created_at < period_bounds("month", today)[1],
            _not_reversed(award),
        )
        .group_by(award.earner_id, month)
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

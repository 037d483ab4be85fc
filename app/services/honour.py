"""The honour board (爱心榜): volunteers and teams ranked by points earned in a period.

A volunteer's points are the volunteer-account entries of AWARD
transactions given in the scope's communities in the period, leaving out
every award that has a REVERSAL (`reverses_id`), whenever it was reversed.
Balance (spending, donations) plays no part. An award of 0 points (the
daily cap reached) adds nothing and does not move anyone's place.

Those points are pre-added per volunteer, community and local day (and per
team and day) in the same transaction as every award and reversal
(app/services/honour_tally.py), and from those per volunteer, scope and
current period into ranked totals (app/services/honour_totals.py), so a
board reads an index range or tally rows, never the ledger; `board` keeps
computed boards in a cache with a short TTL and explicit invalidation
(app/services/honour_cache.py); the rows are computed in
app/services/honour_rows.py.
"""

import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app import clock
from app.auth_scope import is_valid_id
from app.extensions import db
from app.models import City, Community, Street
from app.services import honour_cache, honour_rows
from app.services.errors import InvalidInput, NotFound
from app.services.honour_periods import PERIODS, local_days
from app.services.honour_rows import (  # noqa: F401  (part of this module's interface)
    TeamRow,
    VolunteerRow,
    count_streak,
    month_index,
    public_name,
    streak_months,
)

KINDS = ("volunteers", "teams")
MAX_LIMIT = 200
_SCOPE = re.compile(r"^(community|street|city):([0-9]{1,10})$")


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
    first, after = local_days(period, today or clock.today())
    if first is None:
        return None, None
    return _local_midnight(first), _local_midnight(after)


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), clock.LOCAL_TZ).astimezone(UTC)


def scope_options() -> dict[str, list[tuple[str, str]]]:
    """Every scope to choose from, grouped: communities, streets, cities.

    Read through the honour cache (a city has some 190 of them, three
    queries), so a community added or renamed shows within its TTL.
    """
    communities, streets, cities = honour_cache.cached(
        "scopes", (), _scope_rows, lambda rows: rows, lambda rows: [list(map(tuple, part)) for part in rows]
    )
    return {
        str(_l("Communities")): [(f"community:{i}", f"{street} · {name}") for i, name, street in communities],
        str(_l("Streets")): [(f"street:{i}", name) for i, name in streets],
        str(_l("Whole city")): [(f"city:{i}", name) for i, name in cities],
    }


def _scope_rows() -> list[list[tuple]]:
    """(id, name, street name) of the communities, (id, name) of the streets and of the cities."""
    return [
        [tuple(row) for row in db.session.execute(query)]
        for query in (
            sa.select(Community.id, Community.name, Street.name).join(Street).order_by(Community.id),
            sa.select(Street.id, Street.name).order_by(Street.id),
            sa.select(City.id, City.name).order_by(City.id),
        )
    ]


# --- the board -----------------------------------------------------------------------


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
    streak (`streak_months`). From the cache when it holds this board (at
    most HONOUR_CACHE_TTL seconds old, and never older than the last
    committed award, reversal or team change, but while another process
    computes it: app/services/honour_cache.py); else computed by
    `compute_board`, in the same number of SQL statements however many rows
    there are (two for volunteers, one for teams).

    Raises InvalidInput `invalid_scope`, `invalid_period`, `invalid_kind`,
    `invalid_limit`; NotFound for a scope that does not exist.
    """
    _check(kind, limit)
    period_bounds(period)  # refuses a bad period before anything else
    scope = scope if isinstance(scope, BoardScope) else parse_scope(scope)
    today = today or clock.today()
    return honour_cache.cached(
        scope.key,
        (period, kind, limit, today.isoformat()),
        lambda: compute_board(scope, period, kind, limit, today),
        _encode,
        _decode,
    )


def compute_board(scope: BoardScope, period: str, kind: str, limit: int, today: date) -> list:
    """`board` without the cache: what the totals and tallies say now (the monthly
    honour roll freezes this). The current period's board is an index range of
    the ranked totals; another period's is added up from the day tallies."""
    _check(kind, limit)
    period_bounds(period)  # refuses a bad period
    if kind == "teams":
        return honour_rows.team_rows(scope.level, scope.unit_id, period, today, limit)
    return honour_rows.volunteer_rows(scope.level, scope.unit_id, period, today, limit)


def _encode(rows: list) -> list:
    return [[type(row).__name__, asdict(row)] for row in rows]


def _decode(stored: list) -> list:
    kinds = {"VolunteerRow": VolunteerRow, "TeamRow": TeamRow}
    return [kinds[name](**fields) for name, fields in stored]


def honour_board(scope, period: str, kind: str = "volunteers", limit: int = 50, today=None) -> Board:
    """The board with its scope and period bounds (for pages and the API); raises as `board`."""
    scope = scope if isinstance(scope, BoardScope) else parse_scope(scope)
    rows = board(scope, period, kind, limit, today)
    return Board(scope, period, kind, *period_bounds(period, today), rows)


def team_points(community_id: int, period: str = "month", today: date | None = None) -> dict[int, int]:
    """Points of the community's teams in the period, by team id (teams without points absent)."""
    scope = BoardScope("community", community_id, "")
    rows = compute_board(scope, period, "teams", MAX_LIMIT, today or clock.today())
    return {row.team_id: row.points for row in rows}

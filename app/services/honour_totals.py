"""Ranked totals (app/models/honour.py HonourTotal, TeamTotal): each volunteer's
points per scope (community, street, city) and period, and each team's per
period, so that the board of a current period is one index range read (one
row per team), however large the city or long the period.

Every row is recomputed from the day tallies (app/services/honour_tally.py),
which are themselves recomputed from the ledger, in the same transaction:
  - `refresh_totals` after each award and reversal, for the award's
    volunteer, its community's three scopes and the five periods of the
    award's day (two statements); `refresh_team_totals` for the teams the
    volunteer was in, and when a membership starts or ends;
  - `rebuild_totals` refills the current periods from all tallies;
  - `check_totals` compares the current periods with a recomputation;
  - `prune_totals` drops periods that are no longer current (monthly).
Only the current period of each kind ("all" always) is read
(`is_current`): a period that has begun since the last award simply has no
rows yet, which is its true board.
"""

from datetime import date

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Community, Street
from app.models.honour import HonourTally, HonourTotal, TeamTally, TeamTotal
from app.services.honour_periods import PERIODS, local_days, period_key

LEVELS = ("community", "street", "city")
_COLUMNS = ["scope", "period", "earner_id", "points", "reached_at"]
_TEAM_COLUMNS = ["period", "team_id", "points", "reached_at"]


def communities_of(level: str, unit_id: int) -> sa.Select:
    """SELECT of the ids of the communities inside a community, street or city."""
    if level == "community":
        return sa.select(Community.id).where(Community.id == unit_id)
    if level == "street":
        return sa.select(Community.id).where(Community.street_id == unit_id)
    return sa.select(Community.id).join(Street).where(Street.city_id == unit_id)


def is_current(period: str, day: date) -> bool:
    """Whether the period of `day` is the current one (so HonourTotal holds its board)."""
    return period_key(period, day) == period_key(period, clock.today())


def scopes_of(community_ids) -> dict[int, list[str]]:
    """The scope names (community, its street, its city) of each community, in one query."""
    ids = sorted(set(community_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Community.id, Community.street_id, Street.city_id)
        .join(Street, Street.id == Community.street_id)
        .where(Community.id.in_(ids))
    )
    return {c: [f"community:{c}", f"street:{s}", f"city:{x}"] for c, s, x in rows}


def _day_range(column, period: str, day: date) -> list:
    first, after = local_days(period, day)
    return [] if first is None else [column >= first, column < after]


# --- after an award or a reversal ----------------------------------------------------


def _by_period() -> sa.Select:
    """SELECT, per community of a city where a volunteer earned, the volunteer's
    points and latest award time in each period (bounds as parameters), from
    the day tallies; built once, so its compiled form is reused."""
    tally = HonourTally
    columns = []
    for period in PERIODS:
        inside = (
            sa.true()
            if period == "all"
            else sa.and_(
                tally.day >= sa.bindparam(f"{period}_first"), tally.day < sa.bindparam(f"{period}_after")
            )
        )
        columns += [
            sa.func.sum(sa.case((inside, tally.points), else_=0)),
            sa.func.max(sa.case((inside, tally.reached_at))),
        ]
    return (
        sa.select(Community.id, Community.street_id, *columns)
        .select_from(tally)
        .join(Community, Community.id == tally.community_id)
        .join(Street, Street.id == Community.street_id)
        .where(tally.earner_id == sa.bindparam("earner"), Street.city_id == sa.bindparam("city"))
        .group_by(Community.id, Community.street_id)
    )


_BY_PERIOD = _by_period()


def refresh_totals(earner_id: int, scopes: list[str], day: date) -> None:
    """Recompute the volunteer's rows in these scopes (a community, its street
    and city) for every period of `day`, from the day tallies (three statements)."""
    (community, street, city) = (int(scope.split(":")[1]) for scope in scopes)
    keys = {period: period_key(period, day) for period in PERIODS}
    params = {"earner": earner_id, "city": city}
    for period in PERIODS[:-1]:
        params[f"{period}_first"], params[f"{period}_after"] = local_days(period, day)
    rows = db.session.execute(_BY_PERIOD, params).all()
    totals: dict[tuple[str, str], list] = {}
    for row in rows:
        community_id, street_id, sums = row[0], row[1], row[2:]
        inside = [scopes[2]] + [scopes[1]] * (street_id == street) + [scopes[0]] * (community_id == community)
        for n, period in enumerate(PERIODS):
            points, reached = sums[2 * n], sums[2 * n + 1]
            for scope in inside:
                total = totals.setdefault((scope, keys[period]), [0, None])
                total[0] += int(points or 0)
                total[1] = max(filter(None, (total[1], reached)), default=None)
    table = HonourTotal.__table__
    db.session.execute(
        table.delete().where(
            table.c.earner_id == earner_id, table.c.scope.in_(scopes), table.c.period.in_(list(keys.values()))
        )
    )
    values = [
        {"scope": scope, "period": key, "earner_id": earner_id, "points": points, "reached_at": reached}
        for (scope, key), (points, reached) in totals.items()
        if points > 0
    ]
    if values:
        db.session.execute(table.insert(), values)


def refresh_team_totals(team_id: int, days: list[date]) -> None:
    """Recompute the team's rows for every period of each of `days` (two statements)."""
    keys = {period_key(period, day): (period, day) for day in days for period in PERIODS}
    table = TeamTotal.__table__
    db.session.execute(table.delete().where(table.c.team_id == team_id, table.c.period.in_(list(keys))))
    points = sa.func.sum(TeamTally.points)
    sources = [
        sa.select(sa.literal(key, sa.String), TeamTally.team_id, points, sa.func.max(TeamTally.reached_at))
        .where(TeamTally.team_id == team_id, *_day_range(TeamTally.day, period, day))
        .group_by(TeamTally.team_id)
        for key, (period, day) in keys.items()
    ]
    db.session.execute(table.insert().from_select(_TEAM_COLUMNS, sa.union_all(*sources)))


# --- the whole tables ----------------------------------------------------------------


def _source(level: str, period: str, today: date) -> sa.Select:
    """Every volunteer's total in every scope of a level over the current `period`, from the tallies."""
    tally = HonourTally
    joins = [(Community, Community.id == tally.community_id)]  # awards naming no community count nowhere
    if level == "community":
        unit = Community.id
    elif level == "street":
        unit = Community.street_id
    else:
        unit = Street.city_id
        joins.append((Street, Street.id == Community.street_id))
    scope = sa.literal(f"{level}:", sa.String) + sa.cast(unit, sa.String)
    points = sa.func.sum(tally.points)
    stmt = sa.select(
        scope.label("scope"),
        sa.literal(period_key(period, today), sa.String).label("period"),
        tally.earner_id,
        points.label("points"),
        sa.func.max(tally.reached_at).label("reached_at"),
    ).select_from(tally)
    for model, on in joins:
        stmt = stmt.join(model, on)
    return (
        stmt.where(*_day_range(tally.day, period, today)).group_by(unit, tally.earner_id).having(points > 0)
    )


def _team_source(period: str, today: date) -> sa.Select:
    """Every team's total over the current `period`, from the team tallies."""
    return (
        sa.select(
            sa.literal(period_key(period, today), sa.String).label("period"),
            TeamTally.team_id,
            sa.func.sum(TeamTally.points).label("points"),
            sa.func.max(TeamTally.reached_at).label("reached_at"),
        )
        .where(*_day_range(TeamTally.day, period, today))
        .group_by(TeamTally.team_id)
    )


def _current_keys(today: date) -> list[str]:
    return [period_key(period, today) for period in PERIODS]


def prune_totals(today: date | None = None) -> None:
    """Drop the rows of periods that are no longer current."""
    keys = _current_keys(today or clock.today())
    db.session.execute(HonourTotal.__table__.delete().where(HonourTotal.period.not_in(keys)))
    db.session.execute(TeamTotal.__table__.delete().where(TeamTotal.period.not_in(keys)))


def rebuild_totals(today: date | None = None) -> None:
    """Refill the current periods from the day tallies (twenty INSERT … SELECT), dropping all else."""
    today = today or clock.today()
    db.session.execute(HonourTotal.__table__.delete())
    db.session.execute(TeamTotal.__table__.delete())
    for period in PERIODS:
        for level in LEVELS:
            db.session.execute(
                HonourTotal.__table__.insert().from_select(_COLUMNS, _source(level, period, today))
            )
        db.session.execute(
            TeamTotal.__table__.insert().from_select(_TEAM_COLUMNS, _team_source(period, today))
        )


def check_totals(limit: int = 20) -> list[str]:
    """Differences between the current periods' rows and a recomputation from the tallies."""
    today = clock.today()
    keys = _current_keys(today)
    volunteers = sa.union_all(*[_source(level, period, today) for level in LEVELS for period in PERIODS])
    teams = sa.union_all(*[_team_source(period, today) for period in PERIODS])
    return _differences(HonourTotal.__table__, _COLUMNS, volunteers, keys, limit) + _differences(
        TeamTotal.__table__, _TEAM_COLUMNS, teams, keys, limit
    )


def _differences(table, columns: list[str], source, keys: list[str], limit: int) -> list[str]:
    stored = sa.select(*[table.c[name] for name in columns]).where(table.c.period.in_(keys))
    computed = sa.select(*source.subquery().c)
    problems = []
    for label, left, right in (("stored", stored, computed), ("computed", computed, stored)):
        other = "computed" if label == "stored" else "stored"
        for row in db.session.execute(sa.except_(left, right).limit(limit)):
            problems.append(
                f"{table.name} {label} but not {other}: "
                + ", ".join(f"{name}={value}" for name, value in zip(columns, row, strict=True))
            )
    return problems


def ranked(scope: str, period: str, day: date, limit: int) -> sa.Select:
    """SELECT (earner_id, points, reached_at) of a current period's board, best first."""
    total = HonourTotal
    return (
        sa.select(total.earner_id, total.points, total.reached_at)
        .where(total.scope == scope, total.period == period_key(period, day))
        .order_by(total.points.desc(), total.reached_at.asc(), total.earner_id.asc())
        .limit(limit)
    )


def ranked_teams(teams: sa.Select, period: str, day: date, limit: int) -> sa.Select:
    """SELECT (team_id, points, reached_at) of a current period's team board, best first."""
    total = TeamTotal
    return (
        sa.select(total.team_id, total.points, total.reached_at)
        .where(total.period == period_key(period, day), total.team_id.in_(teams))
        .order_by(total.points.desc(), total.reached_at.asc(), total.team_id.asc())
        .limit(limit)
    )

"""Dashboards (数据看板) for staff: the figures of one unit — a grid, a
community, a street or the whole city — in one period, cached.

Who sees what: a grid worker their grid; a community worker their community
or one of its grids; a street officer their street, one of its communities
or grids; an administrator the whole city or any unit in it. A unit outside
the viewer's scope answers NotFound, exactly like one that does not exist.

The figures and their definitions are in dashboard_figures.py and
dashboard_activity.py; the tables, charts and XLSX built from them in
dashboard_tables.py and dashboard_charts.py.
"""

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app import clock
from app.auth_scope import Scope, require_role, scope_clause, scope_of
from app.extensions import db
from app.models import Community, Grid, Role, Street
from app.services import audit, dashboard_activity, dashboard_figures
from app.services.dashboard_cache import cached
from app.services.dashboard_period import Period
from app.services.errors import InvalidInput, NotFound

VIEWERS = (Role.STREET_OFFICER, Role.COMMUNITY_WORKER, Role.GRID_WORKER)
CITY = "all"
_UNIT = re.compile(r"^(street|community|grid):([0-9]{1,10})$")
_MODELS = {"street": Street, "community": Community, "grid": Grid}
# The levels listed in the unit chooser, by the viewer's scope.
LEVELS_SHOWN = {
    "all": ("street", "community"),
    "street": ("street", "community", "grid"),
    "community": ("community", "grid"),
    "grid": ("grid",),
}


@dataclass(frozen=True)
class Unit:
    """The part of the tree a dashboard covers: `level` all, street, community or grid."""

    level: str
    unit_id: int | None
    name: str

    @property
    def key(self) -> str:
        return CITY if self.level == CITY else f"{self.level}:{self.unit_id}"

    @property
    def scope(self) -> Scope:
        return Scope(self.level, self.unit_id)


def _city_name() -> str:
    return str(_l("Whole city"))


def _names(level: str, scope: Scope, unit_id: int | None = None) -> list[tuple[int, str]]:
    """(id, label) of the units of `level` inside `scope` (one of them if `unit_id`), in tree order."""
    if level == "street":
        stmt = sa.select(Street.id, Street.name).order_by(Street.id)
    elif level == "community":
        stmt = (
            sa.select(Community.id, Street.name + " · " + Community.name)
            .join(Street, Street.id == Community.street_id)
            .order_by(Community.street_id, Community.id)
        )
    else:
        stmt = (
            sa.select(Grid.id, Community.name + " · " + Grid.name)
            .join(Community, Community.id == Grid.community_id)
            .order_by(Community.street_id, Grid.community_id, Grid.id)
        )
    model = _MODELS[level]
    stmt = stmt.where(scope_clause(model, scope))
    if unit_id is not None:
        stmt = stmt.where(model.id == unit_id)
    return [(row[0], row[1]) for row in db.session.execute(stmt)]


def units_for(actor) -> list[Unit]:
    """Every unit the actor may choose, widest first, in tree order (one statement).

    Administrators choose the city, a street or a community (a grid by its
    URL: a city's thousand grids make no usable list). Raises Forbidden for
    non-staff.
    """
    require_role(actor, *VIEWERS)
    scope = scope_of(actor)
    if scope.level not in LEVELS_SHOWN:
        return []
    with_grids = scope.level != CITY
    columns = [Street.id, Street.name, Community.id, Community.name]
    stmt = sa.select(*columns, *((Grid.id, Grid.name) if with_grids else ())).outerjoin(
        Community, Community.street_id == Street.id
    )
    if with_grids:
        stmt = stmt.outerjoin(Grid, Grid.community_id == Community.id)
    if scope.level != CITY:
        stmt = stmt.where(
            {"street": Street.id, "community": Community.id, "grid": Grid.id}[scope.level] == scope.unit_id
        )
    stmt = stmt.order_by(Street.id, Community.id, *((Grid.id,) if with_grids else ()))
    found: dict[str, dict[int, str]] = {"street": {}, "community": {}, "grid": {}}
    for row in db.session.execute(stmt):
        street_id, street, community_id, community = row[:4]
        found["street"][street_id] = street
        if community_id is not None:
            found["community"][community_id] = f"{street} · {community}"
        if with_grids and row[4] is not None:
            found["grid"][row[4]] = f"{community} · {row[5]}"
    units = [Unit(CITY, None, _city_name())] if scope.level == CITY else []
    for level in LEVELS_SHOWN[scope.level]:
        units += [Unit(level, unit_id, name) for unit_id, name in found[level].items()]
    return units


def resolve_unit(actor, key, units: list[Unit] | None = None) -> Unit:
    """The unit named by `key` ("all", "street:1", "community:3", "grid:7"), if
    the actor may see it; the actor's own (widest) unit when `key` is empty.
    `units` is `units_for(actor)` if the caller has it already.

    Raises InvalidInput `invalid_unit` for a malformed key, NotFound for a
    unit outside the actor's scope or missing (`no_unit`: the actor has no
    unit at all), Forbidden for non-staff.
    """
    units = units_for(actor) if units is None else units
    if key in (None, ""):
        if not units:
            raise NotFound(
                _l("You have not been assigned to a street, community or grid yet."), code="no_unit"
            )
        return units[0]
    listed = next((unit for unit in units if unit.key == key), None)
    if listed is not None:
        return listed
    if key == CITY:
        raise NotFound()
    match = _UNIT.match(key) if isinstance(key, str) else None
    if match is None or int(match.group(2)) > 2**31 - 1:
        raise InvalidInput(_l("Choose an area from the list."), code="invalid_unit", field="unit")
    level, unit_id = match.group(1), int(match.group(2))
    found = _names(level, scope_of(actor), unit_id)  # not listed: an administrator's grid, or nothing
    if not found:
        raise NotFound()
    return Unit(level, unit_id, found[0][1])


def own_unit(actor) -> Unit:
    """The unit of the actor's whole scope."""
    return resolve_unit(actor, "")


def unit_choices(actor) -> list[tuple[str, str]]:
    """(key, label) of every unit the actor may choose, widest first."""
    return [(unit.key, unit.name) for unit in units_for(actor)]


# --- the figures -------------------------------------------------------------------------


def compute(unit: Unit, period: Period, today: date) -> dict:
    """Every figure of the unit in the period, uncached (a fixed number of statements)."""
    scope = unit.scope
    if db.session.get_bind().dialect.name == "postgresql":
        # PostgreSQL's JIT compiles these one-off aggregates for longer than
        # they run (measured: 0.7 s of a 0.8 s city-wide warnings count).
        db.session.execute(sa.text("SET LOCAL jit = off"))
    return {
        "unit": unit.key,
        "first": period.first.isoformat(),
        "last": period.last.isoformat(),
        "today": today.isoformat(),
        "households": dashboard_figures.households(scope, period),
        "needs": dashboard_figures.needs(scope, period),
        "reviews": dashboard_figures.reviews(scope, period),
        "warnings": dashboard_figures.warnings(scope, today),
        "times": dashboard_activity.response_times(scope, period),
        "services": dashboard_activity.services(scope, period),
        "people": dashboard_activity.people(scope, period),
        "points": dashboard_activity.points(scope, period),
    }


def figures(unit: Unit, period: Period) -> dict:
    """The figures, from the cache if computed within the refresh period (see dashboard_cache)."""
    return cached(f"{unit.key}|{period.key}", lambda: compute(unit, period, clock.today()))


def record_export(actor, unit: Unit, period: Period, table: str, rows: int) -> None:
    """Audit-log a download of a dashboard table (what and where, no values); commit."""
    audit.record(
        actor,
        "export",
        "dashboard",
        grid_id=unit.unit_id if unit.level == "grid" else None,
        note=f"{table} {unit.key} {period.key}, {rows} rows",
    )
    db.session.commit()

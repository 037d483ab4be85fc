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


def own_unit(actor) -> Unit:
    """The unit of the actor's whole scope. Raises Forbidden for non-staff."""
    require_role(actor, *VIEWERS)
    scope = scope_of(actor)
    if scope.level == CITY:
        return Unit(CITY, None, _city_name())
    found = _names(scope.level, scope, scope.unit_id) if scope.level in _MODELS else []
    if not found:
        raise NotFound(_l("You have not been assigned to a street, community or grid yet."), code="no_unit")
    return Unit(scope.level, scope.unit_id, found[0][1])


def resolve_unit(actor, key) -> Unit:
    """The unit named by `key` ("all", "street:1", "community:3", "grid:7"), if
    the actor may see it; the actor's own unit when `key` is empty.

    Raises InvalidInput `invalid_unit` for a malformed key, NotFound for a
    unit outside the actor's scope or missing, Forbidden for non-staff.
    """
    require_role(actor, *VIEWERS)
    if key in (None, ""):
        return own_unit(actor)
    scope = scope_of(actor)
    if key == CITY:
        if scope.level != CITY:
            raise NotFound()
        return Unit(CITY, None, _city_name())
    match = _UNIT.match(key) if isinstance(key, str) else None
    if match is None or int(match.group(2)) > 2**31 - 1:
        raise InvalidInput(_l("Choose an area from the list."), code="invalid_unit", field="unit")
    level, unit_id = match.group(1), int(match.group(2))
    found = _names(level, scope, unit_id)
    if not found:
        raise NotFound()
    return Unit(level, unit_id, found[0][1])


def unit_choices(actor) -> list[tuple[str, str]]:
    """(key, label) of every unit the actor may choose, widest first.

    Administrators choose the city, a street or a community (a grid by its
    URL: a city's thousand grids make no usable list).
    """
    scope = scope_of(actor)
    levels = LEVELS_SHOWN.get(scope.level, ())
    choices = [(CITY, _city_name())] if scope.level == CITY else []
    for level in levels:
        choices += [(f"{level}:{unit_id}", name) for unit_id, name in _names(level, scope)]
    return choices


# --- the figures -------------------------------------------------------------------------


def compute(unit: Unit, period: Period, today: date) -> dict:
    """Every figure of the unit in the period, uncached (a fixed number of statements)."""
    scope = unit.scope
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

"""City standards (低保标准) as data, and classifying a household by the one in force."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.auth_scope import require_role
from app.extensions import db
from app.models import City, CityStandard, Community, Grid, Household, RegisterType, Role, Street
from app.services import audit
from app.services.eligibility import (
    Classification,
    Figures,
    Standard,
    add_months,
    classify,
    qualifies_by_residence,
)
from app.services.errors import Conflict, InvalidInput, NotFound

MAX_MONTHLY_AMOUNT = 10_000_000  # fen: 100 000 yuan a person a month is surely a typo


@dataclass
class StandardData:
    city_id: int
    effective_from: date
    monthly_amount: int  # fen
    marginal_upper_pct: int = 200
    income_upper_pct: int = 200
    expenditure_upper_pct: int = 500
    rigid_ratio_pct: int = 150


def set_standard(actor, data: StandardData) -> CityStandard:
    """Add a standard for a city from a date on (administrators); commit.

    Earlier standards stay, so past classifications can be explained.
    """
    require_role(actor, Role.ADMIN)
    if db.session.get(City, data.city_id) is None:
        raise NotFound()
    if (
        not isinstance(data.monthly_amount, int)
        or isinstance(data.monthly_amount, bool)
        or not 0 < data.monthly_amount <= MAX_MONTHLY_AMOUNT
    ):
        raise InvalidInput(
            _l("Enter a standard between 0.01 and 100 000 yuan."),
            code="invalid_amount",
            field="monthly_amount",
        )
    ratios = (
        data.marginal_upper_pct,
        data.income_upper_pct,
        data.expenditure_upper_pct,
        data.rigid_ratio_pct,
    )
    if any(not isinstance(r, int) or isinstance(r, bool) or r <= 100 or r > 2000 for r in ratios):
        raise InvalidInput(
            _l("Ratios are percentages above 100 and at most 2000."),
            code="invalid_ratio",
            field="marginal_upper_pct",
        )
    exists = db.session.scalar(
        sa.select(CityStandard.id).where(
            CityStandard.city_id == data.city_id, CityStandard.effective_from == data.effective_from
        )
    )
    if exists:
        raise Conflict(
            _l("A standard already starts on that date."), code="standard_exists", field="effective_from"
        )
    standard = CityStandard(**vars(data), created_by_id=actor.id)
    db.session.add(standard)
    db.session.flush()
    audit.record(actor, "create", "city_standard", standard.id)
    db.session.commit()
    return standard


def standard_in_force(city_id: int, day: date) -> CityStandard | None:
    """The city's standard effective on `day` (the latest one starting on or before it)."""
    return db.session.scalar(
        sa.select(CityStandard)
        .where(CityStandard.city_id == city_id, CityStandard.effective_from <= day)
        .order_by(CityStandard.effective_from.desc())
        .limit(1)
    )


def standards_stmt() -> sa.Select:
    return sa.select(CityStandard).order_by(CityStandard.city_id, CityStandard.effective_from.desc())


def city_of_grid(grid_id: int) -> int:
    return db.session.scalar(sa.select(Street.city_id).join(Community).join(Grid).where(Grid.id == grid_id))


def figures_for(household: Household, today: date) -> Figures | None:
    """The household's figures over the 12 whole months before this one, or None if none are recorded.

    Needs members and finances loaded. Months without a record are left out
    of the average rather than counted as zero income.
    """
    this_month = today.replace(day=1)
    first = add_months(this_month, -12)
    rows = [f for f in household.finances if first <= f.month < this_month]
    if not rows or not household.members:
        return None
    return Figures(
        members=len(household.members),
        months=len(rows),
        income=sum(f.income for f in rows),
        rigid_expense=sum(f.rigid_expense for f in rows),
        property_within_limits=household.property_within_limits,
    )


@dataclass(frozen=True)
class Assessment:
    """What the rules say of a household today, and why not when they cannot."""

    classification: Classification | None
    standard: CityStandard | None
    reason: str = ""


def assess(household: Household, today: date) -> Assessment:
    """Classify a household by its city's standard in force today."""
    standard = standard_in_force(city_of_grid(household.grid_id), today)
    if standard is None:
        return Assessment(None, None, str(_l("No minimum-subsistence standard is set for this city.")))
    if not qualifies_by_residence(
        household.register_type is RegisterType.LOCAL, household.resident_since, today
    ):
        return Assessment(None, standard, str(_l("Not yet resident for 2 years.")))
    figures = figures_for(household, today)
    if figures is None:
        return Assessment(None, standard, str(_l("No income has been recorded for the last 12 months.")))
    rule = Standard(
        monthly_amount=standard.monthly_amount,
        marginal_upper_pct=standard.marginal_upper_pct,
        income_upper_pct=standard.income_upper_pct,
        expenditure_upper_pct=standard.expenditure_upper_pct,
        rigid_ratio_pct=standard.rigid_ratio_pct,
    )
    return Assessment(classify(figures, rule), standard)


def cities() -> list[City]:
    """Every city, by name, for choosing whose standard to set."""
    return list(db.session.scalars(sa.select(City).order_by(City.name)))

"""Hardship categories from figures, and review intervals: pure rules.

The thresholds are data (a `CityStandard` row per city and date); the rules
below only say how they apply, exactly as DOMAIN.md states them (seeds 000,
001, 003). Money is in fen and every comparison is done in integers, so an
amount exactly on a boundary falls on the side the rule says.
"""

from dataclasses import dataclass
from datetime import date

from app.models import Category, WorkCapacity


@dataclass(frozen=True)
class Standard:
    """The standard in force and its ratios (percent of the standard)."""

    monthly_amount: int  # fen per person per month
    marginal_upper_pct: int = 200
    income_upper_pct: int = 200
    expenditure_upper_pct: int = 500
    rigid_ratio_pct: int = 150


@dataclass(frozen=True)
class Figures:
    """A household's figures over the recorded months (up to the last 12)."""

    members: int
    months: int
    income: int  # fen, total over `months`
    rigid_expense: int  # fen, total over `months` (illness, disaster, schooling)
    property_within_limits: bool = True


@dataclass(frozen=True)
class Classification:
    categories: frozenset[Category]
    per_capita_monthly: float  # fen, for display only; rules use integers
    below_standard: bool  # under 1× the standard: a case for 低保 (assigned by staff)


def classify(figures: Figures, standard: Standard) -> Classification:
    """The computed categories of a household.

    - 低保边缘 marginal: per-capita monthly income ≥ 1× and < marginal_upper
      (2×) the standard, and property within limits (000).
    - 收入型 income-type: per-capita > 1× and ≤ income_upper (2×), and rigid
      expenses below rigid_ratio (1.5×) of household income (001).
    - 支出型 expenditure-type: per-capita > 1× and ≤ expenditure_upper (5×),
      and rigid expenses at or above 1.5× household income (001).
    All three also need property within limits (000 for the marginal one;
    001: "且家庭财产情况符合有关要求" for the other two).
    """
    if figures.members < 1 or figures.months < 1:
        raise ValueError("a classification needs at least one member and one month")
    # per-capita monthly income compared with pct% of the standard, in integers:
    # income / (months * members) ≥ amount * pct / 100
    # ⟺ income * 100 ≥ amount * pct * months * members
    scaled_income = figures.income * 100
    unit = standard.monthly_amount * figures.months * figures.members

    def at_least(pct: int) -> bool:
        return scaled_income >= unit * pct

    def above(pct: int) -> bool:
        return scaled_income > unit * pct

    rigid_heavy = figures.rigid_expense * 100 >= figures.income * standard.rigid_ratio_pct
    categories = set()
    if figures.property_within_limits:
        if at_least(100) and not at_least(standard.marginal_upper_pct):
            categories.add(Category.MARGINAL)
        if above(100) and not above(standard.income_upper_pct) and not rigid_heavy:
            categories.add(Category.INCOME_TYPE)
        if above(100) and not above(standard.expenditure_upper_pct) and rigid_heavy:
            categories.add(Category.EXPENDITURE_TYPE)
    per_capita = figures.income / (figures.months * figures.members)
    return Classification(frozenset(categories), per_capita, not at_least(100))


def review_interval_months(work_capacities: list[WorkCapacity], income_stable: bool) -> int:
    """How often a household is reviewed (复审, seed 003).

    No member able to work (elderly, children, severely disabled): every 6
    months; stable income with little change: every 3; unstable income and
    able to work: every month.
    """
    if all(capacity is WorkCapacity.NONE for capacity in work_capacities):
        return 6
    return 3 if income_stable else 1


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def qualifies_by_residence(register_local: bool, resident_since: date | None, today: date) -> bool:
    """Local register, or living in the city for 2 years or more (001)."""
    if register_local:
        return True
    return resident_since is not None and add_months(resident_since, 24) <= today

"""Hardship categories from figures, review intervals and month arithmetic: pure rules.

Boundaries as DOMAIN.md states them (seeds 000, 001, 003), in integer fen.
Amounts are household totals over the months: with the Xinghua standard of
710 yuan, 3 people and 12 months, exactly 1× is 71 000 × 3 × 12 fen, and
"just below" is that total minus one fen.
"""

from datetime import date

import pytest

from app.models import Category, WorkCapacity
from app.services.eligibility import (
    Figures,
    Standard,
    add_months,
    classify,
    qualifies_by_residence,
    review_interval_months,
)

M = Category.MARGINAL
I = Category.INCOME_TYPE  # noqa: E741
E = Category.EXPENDITURE_TYPE

XINGHUA = Standard(monthly_amount=71_000)  # 710 yuan per person per month (seed 000)
PEOPLE, MONTHS = 3, 12
ONE_X = 71_000 * PEOPLE * MONTHS  # household income over 12 months at exactly 1× per person


def categories(income: int, rigid: int = 0, *, members=PEOPLE, months=MONTHS, standard=XINGHUA, **kw):
    figures = Figures(members=members, months=months, income=income, rigid_expense=rigid, **kw)
    return classify(figures, standard).categories


@pytest.mark.parametrize(
    ("income", "expected"),
    [
        (ONE_X - 1, set()),  # just below 1×: no category (a case for 低保)
        (ONE_X, {M}),  # exactly 1×: marginal (≥ 1×) but not income-type (> 1×)
        (ONE_X + 1, {M, I}),
        (2 * ONE_X - 1, {M, I}),
        (2 * ONE_X, {I}),  # exactly 2×: not marginal (< 2×), still income-type (≤ 2×)
        (2 * ONE_X + 1, set()),  # above 2× without heavy rigid expenses: nothing
        (5 * ONE_X, set()),
    ],
)
def test_income_boundaries_without_rigid_expenses(income, expected):
    assert categories(income) == expected


@pytest.mark.parametrize(
    ("income", "expected"),
    [
        (ONE_X - 1, set()),
        (ONE_X, {M}),  # expenditure-type needs > 1×
        (ONE_X + 1, {M, E}),
        (2 * ONE_X, {E}),
        (2 * ONE_X + 1, {E}),  # expenditure-type reaches to 5×
        (5 * ONE_X - 1, {E}),
        (5 * ONE_X, {E}),  # exactly 5×: still expenditure-type (≤ 5×)
        (5 * ONE_X + 1, set()),
    ],
)
def test_income_boundaries_with_heavy_rigid_expenses(income, expected):
    assert categories(income, rigid=2 * income) == expected


def test_rigid_expenses_exactly_one_and_a_half_times_income_make_it_expenditure_type():
    income = 3_000_000  # between 1× (2 556 000) and 2× (5 112 000)
    assert categories(income, rigid=4_500_000) == {M, E}  # at 1.5×: expenditure-type
    assert categories(income, rigid=4_499_999) == {M, I}  # 1 fen below: income-type
    assert categories(income, rigid=0) == {M, I}


def test_rigid_ratio_compares_with_household_income_not_per_capita():
    # 1.5 × household income, not 1.5 × one person's share
    income = ONE_X + 300
    assert categories(income, rigid=income * 3 // 2) == {M, E}
    assert categories(income, rigid=income // PEOPLE * 2) == {M, I}


def test_zero_income():
    result = classify(Figures(members=2, months=12, income=0, rigid_expense=0), XINGHUA)
    assert result.categories == frozenset()
    assert result.below_standard is True
    assert result.per_capita_monthly == 0
    # rigid expenses "at or above 1.5× of nothing" do not make zero income expenditure-type
    assert categories(0, rigid=500_000) == set()


def test_below_standard_flag_is_exactly_under_one_times():
    def below(income):
        return classify(Figures(PEOPLE, MONTHS, income, 0), XINGHUA).below_standard

    assert below(ONE_X - 1) is True
    assert below(ONE_X) is False


def test_one_person_household():
    one = 71_000 * 12
    assert categories(one - 1, members=1) == set()
    assert categories(one, members=1) == {M}
    assert categories(one + 1, members=1) == {M, I}
    assert categories(2 * one, members=1) == {I}
    result = classify(Figures(members=1, months=12, income=one, rigid_expense=0), XINGHUA)
    assert result.per_capita_monthly == 71_000


def test_fewer_months_average_over_the_months_recorded():
    three_months = 71_000 * PEOPLE * 3
    assert categories(three_months, months=3) == {M}
    assert categories(three_months - 1, months=3) == set()
    # the same total spread over 12 months is far below the standard
    assert categories(three_months, months=12) == set()
    result = classify(Figures(members=PEOPLE, months=3, income=three_months, rigid_expense=0), XINGHUA)
    assert result.per_capita_monthly == 71_000


def test_boundary_decided_in_integers_where_floats_would_round():
    # 787 yuan (Weihai), 7 people over 11 months: 1× is 6 059 900 fen
    weihai = Standard(monthly_amount=78_700)
    one = 78_700 * 7 * 11
    assert categories(one, members=7, months=11, standard=weihai) == {M}
    assert categories(one - 1, members=7, months=11, standard=weihai) == set()


def test_marginal_requires_property_within_limits():
    assert categories(ONE_X + 1, property_within_limits=False) - {I, E} == set()
    assert M in categories(ONE_X + 1, property_within_limits=True)


def test_income_and_expenditure_type_also_require_property_within_limits():
    assert categories(ONE_X + 1, property_within_limits=False) == set()
    assert categories(ONE_X + 1, rigid=2 * ONE_X, property_within_limits=False) == set()


def test_ratios_come_from_the_standard():
    # a city with 1 000 yuan, marginal below 1.5×, income-type to 1.8×,
    # expenditure-type to 3×, rigid expenses heavy from 1.2× of income
    city = Standard(
        monthly_amount=100_000,
        marginal_upper_pct=150,
        income_upper_pct=180,
        expenditure_upper_pct=300,
        rigid_ratio_pct=120,
    )
    one = 100_000 * 2 * 12  # two people, 12 months

    def cats(income, rigid=0):
        return categories(income, rigid, members=2, months=12, standard=city)

    assert cats(one * 3 // 2 - 1) == {M, I}
    assert cats(one * 3 // 2) == {I}  # 1.5×: no longer marginal here (would be under the defaults)
    assert cats(one * 9 // 5) == {I}
    assert cats(one * 9 // 5 + 1) == set()  # above 1.8×
    income = one * 2
    assert cats(income, rigid=income * 6 // 5) == {E}  # rigid exactly 1.2×
    assert cats(income, rigid=income * 6 // 5 - 1) == set()
    assert cats(one * 3, rigid=one * 4) == {E}  # exactly 3×
    assert cats(one * 3 + 1, rigid=one * 4) == set()
    # the same figures under the default ratios
    assert categories(one * 3 // 2, members=2, standard=Standard(100_000)) == {M, I}


@pytest.mark.parametrize(("members", "months"), [(0, 12), (2, 0), (-1, 12)])
def test_classify_needs_a_member_and_a_month(members, months):
    with pytest.raises(ValueError):
        classify(Figures(members=members, months=months, income=1, rigid_expense=0), XINGHUA)


# --- review intervals (复审, seed 003) --------------------------------------

NONE, PARTIAL, FULL = WorkCapacity.NONE, WorkCapacity.PARTIAL, WorkCapacity.FULL


@pytest.mark.parametrize(
    ("capacities", "stable", "months"),
    [
        ([NONE], False, 6),  # no work capacity: every 6 months, whatever the income
        ([NONE], True, 6),
        ([NONE, NONE, NONE], False, 6),
        ([NONE, FULL], True, 3),  # stable income, little change: every 3 months
        ([FULL], True, 3),
        ([PARTIAL], True, 3),
        ([NONE, FULL], False, 1),  # unstable income and able to work: every month
        ([FULL], False, 1),
        ([NONE, PARTIAL], False, 1),
    ],
)
def test_review_interval(capacities, stable, months):
    assert review_interval_months(capacities, stable) == months


# --- months ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2024, 1, 30), 1, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2024, 3, 31), 1, date(2024, 4, 30)),
        (date(2024, 5, 31), 1, date(2024, 6, 30)),
        (date(2024, 1, 15), 12, date(2025, 1, 15)),
        (date(2023, 12, 15), 1, date(2024, 1, 15)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2024, 6, 15), 0, date(2024, 6, 15)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 1, 15), -1, date(2023, 12, 15)),
        (date(2024, 1, 15), -13, date(2022, 12, 15)),
        (date(2024, 6, 1), -12, date(2023, 6, 1)),
        (date(2023, 12, 31), -12, date(2022, 12, 31)),
        (date(2024, 12, 31), 2, date(2025, 2, 28)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


# --- residence (001) -----------------------------------------------------------


def test_local_register_qualifies_without_a_residence_date():
    assert qualifies_by_residence(True, None, date(2024, 6, 15)) is True


def test_non_local_qualifies_after_exactly_two_years():
    since = date(2022, 3, 15)
    assert qualifies_by_residence(False, since, date(2024, 3, 15)) is True
    assert qualifies_by_residence(False, since, date(2024, 3, 14)) is False
    assert qualifies_by_residence(False, since, date(2030, 1, 1)) is True


def test_non_local_without_a_residence_date_does_not_qualify():
    assert qualifies_by_residence(False, None, date(2024, 6, 15)) is False


def test_residence_from_a_leap_day():
    since = date(2020, 2, 29)
    assert qualifies_by_residence(False, since, date(2022, 2, 28)) is True
    assert qualifies_by_residence(False, since, date(2022, 2, 27)) is False

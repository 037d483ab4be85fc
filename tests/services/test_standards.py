"""City standards (低保标准) as data, and assessing a household by the one in force.

The demo city has a standard of its own, so these tests make cities of their own.
"""

from datetime import date

import pytest
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.models import (
    AuditEntry,
    Category,
    City,
    CityStandard,
    Community,
    Grid,
    RegisterType,
    Relation,
    Role,
    Street,
)
from app.services import household_changes, standards
from app.services import households as ledger
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.households import ConsentData, HouseholdData, MemberData
from app.services.standards import StandardData
from tests.conftest import DEMO, count_rows
from tests.factories import make_user, user_by_phone

TODAY = date(2024, 6, 15)
M, I, E = Category.MARGINAL, Category.INCOME_TYPE, Category.EXPENDITURE_TYPE  # noqa: E741


def admin():
    return user_by_phone(DEMO.admin)


def a_city(db, name: str = "测试市") -> dict:
    """A city with one street, community and grid, and the grid's worker."""
    city = City(name=name)
    db.session.add(city)
    db.session.flush()
    street = Street(city_id=city.id, name=f"{name}街道")
    db.session.add(street)
    db.session.flush()
    community = Community(street_id=street.id, name=f"{name}社区")
    db.session.add(community)
    db.session.flush()
    grid = Grid(community_id=community.id, name=f"{name}网格")
    db.session.add(grid)
    db.session.flush()
    return {"city": city, "grid": grid, "gw": make_user(Role.GRID_WORKER, grid_id=grid.id)}


def set_standard(city_id: int, on: date, amount: int, **ratios) -> CityStandard:
    return standards.set_standard(admin(), StandardData(city_id, on, amount, **ratios))


def a_household(gw, *, room="101", today=TODAY, **fields):
    data = HouseholdData(gw.grid_id, "标准楼", room, "13912345678", **fields)
    head = MemberData(name="王大山", relation=Relation.HEAD)
    return ledger.create_household(gw, data, head, today, ConsentData(on=today, scope="收入用于认定"))


def record_months(gw, household_id, first: date, count: int, income: int, illness: int = 0):
    month = first
    for _ in range(count):
        household_changes.set_monthly_finance(gw, household_id, month, income, illness, 0, 0, TODAY)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)


# --- which standard is in force ---------------------------------------------------------


def test_standard_in_force_is_the_latest_started_on_the_day(db):
    a, b = a_city(db, "甲市")["city"], a_city(db, "乙市")["city"]
    later = set_standard(a.id, date(2024, 1, 1), 78_700)  # entered first, starts later
    earlier = set_standard(a.id, date(2023, 1, 1), 71_000)
    other = set_standard(b.id, date(2022, 6, 1), 99_900)

    def in_force(city, day):
        found = standards.standard_in_force(city.id, day)
        return found.id if found else None

    assert in_force(a, date(2022, 12, 31)) is None  # before the first
    assert in_force(a, date(2023, 1, 1)) == earlier.id
    assert in_force(a, date(2023, 12, 31)) == earlier.id
    assert in_force(a, date(2024, 1, 1)) == later.id
    assert in_force(a, date(2030, 1, 1)) == later.id
    assert in_force(b, date(2023, 1, 1)) == other.id  # another city's standards never apply
    assert in_force(b, date(2022, 5, 31)) is None


# --- setting a standard -----------------------------------------------------------------


def test_set_standard_keeps_ratios_author_and_audit(db):
    city = a_city(db)["city"]
    made = set_standard(city.id, date(2024, 1, 1), 71_000, marginal_upper_pct=150, rigid_ratio_pct=120)
    assert (made.monthly_amount, made.marginal_upper_pct, made.income_upper_pct) == (71_000, 150, 200)
    assert (made.expenditure_upper_pct, made.rigid_ratio_pct, made.created_by_id) == (500, 120, admin().id)
    entry = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert (entry.action, entry.object_type, entry.object_id) == ("create", "city_standard", made.id)


@pytest.mark.parametrize(
    "phone",
    [
        DEMO.street_officer,
        DEMO.community_worker,
        DEMO.grid_worker,
        DEMO.volunteer,
        DEMO.resident,
        DEMO.partner,
    ],
)
def test_only_administrators_set_standards(db, phone):
    city = a_city(db)["city"]
    before = count_rows(CityStandard)
    with pytest.raises(Forbidden):
        standards.set_standard(user_by_phone(phone), StandardData(city.id, date(2024, 1, 1), 71_000))
    assert count_rows(CityStandard) == before


def test_a_second_standard_on_the_same_day_is_a_conflict(db):
    a, b = a_city(db, "甲市")["city"], a_city(db, "乙市")["city"]
    set_standard(a.id, date(2024, 1, 1), 71_000)
    before = count_rows(CityStandard)
    with pytest.raises(Conflict) as error:
        set_standard(a.id, date(2024, 1, 1), 78_700)
    assert (error.value.code, error.value.field) == ("standard_exists", "effective_from")
    assert count_rows(CityStandard) == before
    assert standards.standard_in_force(a.id, date(2024, 1, 1)).monthly_amount == 71_000
    assert set_standard(b.id, date(2024, 1, 1), 78_700).city_id == b.id  # another city may


@pytest.mark.parametrize("amount", [0, -1, 787.5, "71000", None])
def test_standard_amount_must_be_a_positive_integer(db, amount):
    city = a_city(db)["city"]
    before = count_rows(CityStandard)
    with pytest.raises(InvalidInput) as error:
        set_standard(city.id, date(2024, 1, 1), amount)
    assert (error.value.code, error.value.field) == ("invalid_amount", "monthly_amount")
    assert count_rows(CityStandard) == before


def test_standard_amount_is_not_a_boolean(db):
    with pytest.raises(InvalidInput):
        set_standard(a_city(db)["city"].id, date(2024, 1, 1), True)


@pytest.mark.parametrize(
    "field", ["marginal_upper_pct", "income_upper_pct", "expenditure_upper_pct", "rigid_ratio_pct"]
)
@pytest.mark.parametrize("value", [100, 0, -150, 2001, 150.5, None, "200"])
def test_ratios_are_integer_percentages_above_100_and_at_most_2000(db, field, value):
    city = a_city(db)["city"]
    before = count_rows(CityStandard)
    with pytest.raises(InvalidInput) as error:
        set_standard(city.id, date(2024, 1, 1), 71_000, **{field: value})
    assert error.value.code == "invalid_ratio"
    assert count_rows(CityStandard) == before


@pytest.mark.parametrize("value", [101, 2000])
def test_ratio_bounds_accepted(db, value):
    city = a_city(db)["city"]
    made = set_standard(city.id, date(2024, 1, 1), 71_000, expenditure_upper_pct=value)
    assert made.expenditure_upper_pct == value


def test_unknown_city_is_not_found(db):
    with pytest.raises(NotFound):
        set_standard(10**9, date(2024, 1, 1), 71_000)


# --- figures ------------------------------------------------------------------------------


def test_figures_use_the_twelve_whole_months_before_this_one(db):
    place = a_city(db)
    gw = place["gw"]
    household = a_household(gw)
    ledger.add_member(gw, household.id, MemberData(name="刘梅", relation=Relation.SPOUSE), TODAY)
    rows = {
        date(2023, 5, 1): (1_000, 1),  # 13 months back: outside
        date(2023, 6, 1): (2_000, 10),  # first month inside
        date(2023, 12, 1): (4_000, 100),
        date(2024, 5, 1): (8_000, 1_000),  # last month inside
        date(2024, 6, 1): (16_000, 10_000),  # this month: outside
    }
    for month, (income, illness) in rows.items():
        household_changes.set_monthly_finance(gw, household.id, month, income, illness, 5, 0, TODAY)
    loaded = ledger.get_household(gw, household.id)

    for today in (date(2024, 6, 1), TODAY, date(2024, 6, 30)):
        figures = standards.figures_for(loaded, today)
        assert (figures.members, figures.months) == (2, 3)
        assert figures.income == 2_000 + 4_000 + 8_000
        assert figures.rigid_expense == 10 + 100 + 1_000 + 3 * 5
        assert figures.property_within_limits is True
    july = standards.figures_for(loaded, date(2024, 7, 1))  # the window moves with the month
    assert (july.months, july.income) == (3, 4_000 + 8_000 + 16_000)
    assert standards.figures_for(loaded, date(2023, 6, 30)).income == 1_000
    assert standards.figures_for(loaded, date(2025, 6, 1)).income == 16_000  # June 2024 is 12 months back
    assert standards.figures_for(loaded, date(2025, 7, 1)) is None  # nothing in the 12 months before


# --- assessing a household ------------------------------------------------------------------


def test_assess_classifies_by_the_standard_in_force(db):
    place = a_city(db)
    gw, city = place["gw"], place["city"]
    old = set_standard(city.id, date(2024, 1, 1), 71_000)
    household = a_household(gw)
    record_months(gw, household.id, date(2023, 6, 1), 12, 100_000)  # 1 000 yuan a month, one person
    loaded = ledger.get_household(gw, household.id)

    result = standards.assess(loaded, TODAY)
    assert result.standard.id == old.id and result.reason == ""
    assert result.classification.categories == {M, I}  # 1.41×
    assert result.classification.per_capita_monthly == 100_000

    new = set_standard(city.id, date(2024, 6, 1), 40_000)  # 100 000 is 2.5× of it
    loaded = ledger.get_household(gw, household.id)
    now = standards.assess(loaded, TODAY)
    assert now.standard.id == new.id
    assert now.classification.categories == set()
    assert standards.assess(loaded, date(2024, 5, 31)).standard.id == old.id


def test_assess_uses_the_ratios_of_the_standard(db):
    place = a_city(db)
    gw = place["gw"]
    set_standard(place["city"].id, date(2024, 1, 1), 71_000, marginal_upper_pct=130, rigid_ratio_pct=120)
    household = a_household(gw, property_within_limits=True)
    record_months(gw, household.id, date(2023, 6, 1), 12, 100_000, illness=120_000)  # rigid exactly 1.2×
    result = standards.assess(ledger.get_household(gw, household.id), TODAY)
    assert result.classification.categories == {E}  # 1.41× is not marginal under 130 %


def test_assess_respects_property(db):
    place = a_city(db)
    gw = place["gw"]
    set_standard(place["city"].id, date(2024, 1, 1), 71_000)
    household = a_household(gw, property_within_limits=False)
    record_months(gw, household.id, date(2023, 6, 1), 12, 100_000)
    assert M not in standards.assess(ledger.get_household(gw, household.id), TODAY).classification.categories


def test_assess_without_a_standard(db):
    place = a_city(db)
    gw = place["gw"]
    household = a_household(gw)
    record_months(gw, household.id, date(2023, 6, 1), 12, 100_000)
    result = standards.assess(ledger.get_household(gw, household.id), TODAY)
    assert (result.classification, result.standard) == (None, None)
    assert result.reason == str(_l("No minimum-subsistence standard is set for this city."))


def test_assess_a_household_not_yet_resident_for_two_years(db):
    place = a_city(db)
    gw = place["gw"]
    standard = set_standard(place["city"].id, date(2024, 1, 1), 71_000)
    household = a_household(gw, register_type=RegisterType.RESIDENT, resident_since=date(2022, 6, 15))
    record_months(gw, household.id, date(2023, 6, 1), 12, 100_000)
    loaded = ledger.get_household(gw, household.id)
    early = standards.assess(loaded, date(2024, 6, 14))
    assert (early.classification, early.standard.id) == (None, standard.id)
    assert early.reason == str(_l("Not yet resident for 2 years."))
    assert standards.assess(loaded, TODAY).classification.categories == {M, I}


def test_assess_without_income_recorded(db):
    place = a_city(db)
    gw = place["gw"]
    standard = set_standard(place["city"].id, date(2024, 1, 1), 71_000)
    household = a_household(gw)
    household_changes.set_monthly_finance(
        gw, household.id, date(2024, 6, 1), 100_000, 0, 0, 0, TODAY
    )  # this month only
    result = standards.assess(ledger.get_household(gw, household.id), TODAY)
    assert (result.classification, result.standard.id) == (None, standard.id)
    assert result.reason == str(_l("No income has been recorded for the last 12 months."))


def test_assess_a_household_below_the_standard(db):
    place = a_city(db)
    gw = place["gw"]
    set_standard(place["city"].id, date(2024, 1, 1), 71_000)
    household = a_household(gw)
    record_months(gw, household.id, date(2024, 3, 1), 3, 70_999)
    result = standards.assess(ledger.get_household(gw, household.id), TODAY)
    assert result.classification.categories == set()
    assert result.classification.below_standard is True

"""Early warnings (预警), reviews due and the urgency score of needs.

The households live in a street of their own (tests/factories.make_tree), so
the demo households never show up in these lists. Rows are stamped with the
real time (`created_at`), so "today" here is the real date and later days are
chosen relative to it.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from app import clock
from app.models import ApprovalAction, Category, MeasureKind, Need, NeedStatus, Relation, Role, Urgency
from app.models import WorkCapacity as WC
from app.services import casework, household_changes
from app.services import households as ledger
from app.services import warnings as w
from app.services.casework import NeedData
from app.services.eligibility import add_months
from app.services.errors import Forbidden
from app.services.households import ConsentData, HouseholdData, MemberData
from app.services.warnings import WarningKind as K
from tests.conftest import DEMO
from tests.factories import make_tree, make_user, user_by_phone

T = clock.today()


def days(n: int) -> date:
    return T + timedelta(days=n)


def years_before(day: date, years: int) -> date:
    return add_months(day, -12 * years)


@pytest.fixture
def area(db):
    """A street of our own: a grid worker for each grid, their community worker, an admin."""
    tree = make_tree("预警")
    g1, g2 = tree["grids"]
    return {
        "gw": make_user(Role.GRID_WORKER, grid_id=g1.id),
        "gw2": make_user(Role.GRID_WORKER, grid_id=g2.id),
        "cw": make_user(Role.COMMUNITY_WORKER, community_id=tree["community"].id),
        "admin": user_by_phone(DEMO.admin),
    }


_rooms = iter(range(1000, 10_000))


def household(actor, *, today=T, lives_alone=False, income_stable=False, **head):
    """A household whose head is given by `head` (MemberData fields), with consent."""
    head.setdefault("name", "王大山")
    data = HouseholdData(
        grid_id=actor.grid_id,
        building="预警楼",
        room=str(next(_rooms)),
        contact_phone="13912345678",
        lives_alone=lives_alone,
        income_stable=income_stable,
    )
    return ledger.create_household(
        actor, data, MemberData(relation=Relation.HEAD, **head), today, ConsentData(on=today, scope="帮扶")
    )


def approve(admin, household_id: int, category: Category) -> None:
    """Proposed, reviewed and approved by three different administrators (nobody decides their own case)."""
    made = casework.propose_category(admin, household_id, category)
    casework.decide_category(make_user(Role.ADMIN), made.id, ApprovalAction.REVIEW)
    casework.decide_category(make_user(Role.ADMIN), made.id, ApprovalAction.APPROVE)


def warnings_of(actor, today: date) -> dict[int, list[K]]:
    return {row.household.id: row.warnings for row in w.warning_list(actor, today)}


# --- the warnings --------------------------------------------------------------------


def test_each_warning_and_its_boundary(area):
    gw, admin = area["gw"], area["admin"]
    eighty = years_before(T, 80)
    alone_80 = household(gw, lives_alone=True, birth_date=eighty, work_capacity=WC.NONE)
    alone_79 = household(gw, lives_alone=True, birth_date=eighty + timedelta(days=1), work_capacity=WC.NONE)
    with_family_90 = household(gw, birth_date=years_before(T, 90), work_capacity=WC.NONE)
    ill = household(gw, serious_illness=True)
    not_ill = household(gw, serious_illness=False)
    grade1 = household(gw, disability_grade=1)
    grade2 = household(gw, disability_grade=2)
    grade3 = household(gw, disability_grade=3)
    orphan = household(gw)
    approve(admin, orphan.id, Category.ORPHAN)
    child = household(gw)
    approve(admin, child.id, Category.CHILD_IN_DIFFICULTY)
    proposed_only = household(gw)
    casework.propose_category(gw, proposed_only.id, Category.ORPHAN)
    plain = household(gw)

    found = warnings_of(gw, T)
    assert found[alone_80.id] == [K.ELDERLY_ALONE_80]
    assert found[ill.id] == [K.SERIOUS_ILLNESS]
    assert found[grade1.id] == [K.SEVERE_DISABILITY]
    assert found[grade2.id] == [K.SEVERE_DISABILITY]
    assert found[orphan.id] == [K.CHILD_IN_DIFFICULTY]
    assert found[child.id] == [K.CHILD_IN_DIFFICULTY]
    for quiet in (alone_79, with_family_90, not_ill, grade3, proposed_only, plain):
        assert quiet.id not in found


def test_several_warnings_on_one_household_and_the_order_of_the_list(area):
    gw = area["gw"]
    frail = household(gw, serious_illness=True, disability_grade=2)  # 15 + 15
    elderly = household(gw, lives_alone=True, birth_date=years_before(T, 85), work_capacity=WC.NONE)  # 20
    overdue = household(gw, today=add_months(T, -2))  # monthly review, now a month late: 5
    also_elderly = household(gw, lives_alone=True, birth_date=years_before(T, 81), work_capacity=WC.NONE)

    rows = w.warning_list(gw, T)
    assert [row.household.id for row in rows] == [frail.id, elderly.id, also_elderly.id, overdue.id]
    assert [row.score for row in rows] == [30, 20, 20, 5]
    assert rows[0].warnings == [K.SERIOUS_ILLNESS, K.SEVERE_DISABILITY]
    assert rows[-1].warnings == [K.REVIEW_OVERDUE]


def test_review_overdue_only_after_the_review_date(area):
    gw = area["gw"]
    due = household(gw, today=add_months(T, -2))
    on = due.next_review_on
    assert on < T
    assert K.REVIEW_OVERDUE not in warnings_of(gw, on).get(due.id, [])
    assert K.REVIEW_OVERDUE in warnings_of(gw, on + timedelta(days=1))[due.id]


def test_no_service_for_90_days(area):
    gw = area["gw"]
    quiet = household(gw, work_capacity=WC.NONE)  # reviews every 6 months
    assert K.NO_SERVICE_90_DAYS not in warnings_of(gw, days(89)).get(quiet.id, [])
    assert K.NO_SERVICE_90_DAYS in warnings_of(gw, days(90))[quiet.id]

    served = household(gw, work_capacity=WC.NONE)
    casework.add_measure(gw, served.id, MeasureKind.MEASURE, "上门打扫", days(10), days(10))
    casework.add_measure(gw, served.id, MeasureKind.NOT_HELPED, "户主外出", days(50), days(50))
    # only a measure taken counts as a service, not a reason none was
    assert K.NO_SERVICE_90_DAYS not in warnings_of(gw, days(99)).get(served.id, [])
    assert K.NO_SERVICE_90_DAYS in warnings_of(gw, days(100))[served.id]


def test_reentry_restarts_the_no_service_count(area):
    gw, cw = area["gw"], area["cw"]
    back = household(gw, work_capacity=WC.NONE)
    household_changes.exit_household(cw, back.id, days(30), "迁出", days(30))
    household_changes.reenter_household(cw, back.id, days(60), "迁回", days(60))
    assert K.NO_SERVICE_90_DAYS not in warnings_of(gw, days(149)).get(back.id, [])
    assert K.NO_SERVICE_90_DAYS in warnings_of(gw, days(150))[back.id]


def test_an_exited_household_has_no_warnings(area):
    gw, cw = area["gw"], area["cw"]
    frail = household(
        gw, serious_illness=True, disability_grade=1, lives_alone=True, birth_date=years_before(T, 90)
    )
    assert frail.id in warnings_of(gw, T)
    household_changes.exit_household(cw, frail.id, T, "入住养老院", T)
    assert frail.id not in warnings_of(gw, days(200))
    loaded = ledger.get_household(gw, frail.id)
    assert w.household_warnings(loaded, days(200), {Category.ORPHAN}, None) == []


def test_household_warnings_takes_categories_and_last_service(area):
    gw = area["gw"]
    loaded = ledger.get_household(gw, household(gw, work_capacity=WC.NONE).id)
    assert w.household_warnings(loaded, T, set(), None) == []
    assert w.household_warnings(loaded, T, {Category.CHILD_IN_DIFFICULTY}, None) == [K.CHILD_IN_DIFFICULTY]
    assert w.household_warnings(loaded, T, {Category.DIBAO, Category.TEKUN}, None) == []
    assert w.household_warnings(loaded, days(120), set(), days(31)) == []
    assert w.household_warnings(loaded, days(120), set(), days(30)) == [K.NO_SERVICE_90_DAYS]


def test_warnings_follow_scope(area):
    gw, gw2, cw = area["gw"], area["gw2"], area["cw"]
    ill = household(gw, serious_illness=True)
    assert ill.id in warnings_of(cw, T)
    assert ill.id not in warnings_of(gw2, T)
    assert ill.id not in warnings_of(user_by_phone(DEMO.grid_worker), T)  # the demo street's grid
    for phone in (DEMO.volunteer, DEMO.resident, DEMO.partner):
        with pytest.raises(Forbidden):
            w.warning_list(user_by_phone(phone), T)
        with pytest.raises(Forbidden):
            w.reviews_due(user_by_phone(phone), T)
        with pytest.raises(Forbidden):
            w.open_needs(user_by_phone(phone), T)


# --- reviews due -----------------------------------------------------------------------


def test_reviews_due_overdue_and_within_seven_days(area):
    gw, cw = area["gw"], area["cw"]
    monthly = household(gw)  # able to work, unstable income
    quarterly = household(gw, income_stable=True)
    half_yearly = household(gw, work_capacity=WC.NONE)
    gone = household(gw)
    household_changes.exit_household(cw, gone.id, T, "迁出", T)
    m, q = monthly.next_review_on, quarterly.next_review_on
    assert (m, q, half_yearly.next_review_on) == (add_months(T, 1), add_months(T, 3), add_months(T, 6))

    def due(actor, today):
        result = w.reviews_due(actor, today)
        return [h.id for h in result.overdue], [h.id for h in result.this_week]

    assert due(gw, m - timedelta(days=8)) == ([], [])
    assert due(gw, m - timedelta(days=7)) == ([], [monthly.id])
    assert due(gw, m) == ([], [monthly.id])  # due today is not overdue yet
    assert due(gw, m + timedelta(days=1)) == ([monthly.id], [])
    assert due(gw, q - timedelta(days=7)) == ([monthly.id], [quarterly.id])
    assert due(gw, q + timedelta(days=1)) == ([monthly.id, quarterly.id], [])
    assert due(area["gw2"], q + timedelta(days=1)) == ([], [])
    assert due(cw, q + timedelta(days=1)) == ([monthly.id, quarterly.id], [])


# --- urgency ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("urgency", "warnings", "opened_days_ago", "score"),
    [
        (Urgency.NORMAL, [], 0, 10),
        (Urgency.URGENT, [], 0, 30),
        (Urgency.CRITICAL, [], 0, 50),
        (Urgency.NORMAL, [], 6, 10),  # under a week adds nothing
        (Urgency.NORMAL, [], 7, 11),
        (Urgency.NORMAL, [], 69, 19),
        (Urgency.NORMAL, [], 70, 20),  # ten weeks
        (Urgency.NORMAL, [], 700, 20),  # capped at ten
        (Urgency.NORMAL, [], -30, 10),  # a date after today counts as new
        (Urgency.URGENT, [K.ELDERLY_ALONE_80, K.SERIOUS_ILLNESS], 15, 30 + 20 + 15 + 2),
        (Urgency.NORMAL, [K.REVIEW_OVERDUE, K.REVIEW_OVERDUE], 0, 15),  # each kind counts once
        (Urgency.NORMAL, [K.SEVERE_DISABILITY, K.CHILD_IN_DIFFICULTY, K.NO_SERVICE_90_DAYS], 0, 50),
        (Urgency.CRITICAL, list(K), 100, 50 + 80 + 10),
    ],
)
def test_urgency_score(urgency, warnings, opened_days_ago, score):
    today = date(2024, 6, 15)
    assert w.urgency_score(urgency, warnings, today - timedelta(days=opened_days_ago), today) == score


def test_a_critical_need_outranks_one_frail_person_and_a_frail_person_an_overdue_review():
    today = date(2024, 6, 15)
    critical = w.urgency_score(Urgency.CRITICAL, [], today, today)
    frail = w.urgency_score(Urgency.NORMAL, [K.ELDERLY_ALONE_80], today, today)
    overdue = w.urgency_score(Urgency.NORMAL, [K.REVIEW_OVERDUE], today, today)
    assert critical > frail > overdue


def test_open_needs_most_urgent_first(db, area):
    gw = area["gw"]
    plain = household(gw)
    ill = household(gw, serious_illness=True)

    def need(h, urgency=Urgency.NORMAL, text="需要帮助"):
        return casework.add_need(gw, h.id, NeedData("housekeeping", text, urgency))

    normal = need(plain)
    ill_normal = need(ill)
    critical = need(plain, Urgency.CRITICAL)
    old = need(plain, text="三周前登记")
    old.created_at = datetime.now(UTC) - timedelta(days=21)
    closed = need(plain, Urgency.URGENT)
    casework.close_need(gw, closed.id, NeedStatus.MET, "已完成")
    same_score_later = need(plain)
    db.session.commit()

    scored = w.open_needs(gw, T)
    assert [(s.need.id, s.score) for s in scored] == [
        (critical.id, 50),
        (ill_normal.id, 25),
        (old.id, 13),
        (normal.id, 10),
        (same_score_later.id, 10),  # a tie goes to the older need
    ]
    assert scored[1].warnings == [K.SERIOUS_ILLNESS]
    assert [s.need.id for s in w.open_needs(gw, T, household_id=ill.id)] == [ill_normal.id]
    assert w.open_needs(area["gw2"], T) == []
    assert {s.need.id for s in w.open_needs(area["cw"], T)} == {
        n.id for n in (critical, ill_normal, old, normal, same_score_later)
    }
    assert db.session.get(Need, closed.id).status is NeedStatus.MET


def test_open_needs_leave_out_exited_households(area):
    gw, cw = area["gw"], area["cw"]
    gone = household(gw)
    casework.add_need(gw, gone.id, NeedData("housekeeping", "打扫"))
    household_changes.exit_household(cw, gone.id, T, "迁出本市", T)
    assert w.open_needs(gw, T) == []


def test_rows_are_stamped_by_the_one_clock(area):
    gw = area["gw"]
    moment = datetime(2024, 1, 10, 4, 0, tzinfo=UTC)
    clock.freeze(moment)
    try:
        made = household(gw, today=date(2024, 1, 10))
        need = casework.add_need(gw, made.id, NeedData("housekeeping", "打扫"))
        closed = casework.close_need(gw, need.id, NeedStatus.MET, "已完成")
        assert closed.closed_at == moment
        assert need.created_at == moment
        assert clock.local_date(made.created_at) == date(2024, 1, 10)
    finally:
        clock.freeze(None)

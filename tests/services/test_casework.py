"""Casework: the category approval state machine (propose → review 审核 → approve 审批),
needs, measures, follow-ups and periodic reviews (复审), through the services."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.models import (
    ApprovalAction,
    ApprovalStep,
    AuditEntry,
    Category,
    CategoryAssignment,
    CategoryStatus,
    Community,
    FollowUp,
    FollowUpMethod,
    Grid,
    Household,
    HouseholdEventKind,
    HouseholdStatus,
    Measure,
    MeasureKind,
    Need,
    NeedStatus,
    Review,
    ReviewOutcome,
    ServiceType,
    Urgency,
)
from app.services import casework, household_changes
from app.services import households as ledger
from app.services.casework import NeedData
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import DEMO, count_rows
from tests.factories import make_household, user_by_phone

TODAY = date(2024, 6, 15)
ENTRY = date(2024, 3, 1)

P, RV, AP, RJ, RK = (
    CategoryStatus.PROPOSED,
    CategoryStatus.REVIEWED,
    CategoryStatus.APPROVED,
    CategoryStatus.REJECTED,
    CategoryStatus.REVOKED,
)
REVIEW, APPROVE, REJECT, REVOKE = (
    ApprovalAction.REVIEW,
    ApprovalAction.APPROVE,
    ApprovalAction.REJECT,
    ApprovalAction.REVOKE,
)
# the one legal step from each status, by action; everything else is illegal
LEGAL = {(P, REVIEW): RV, (P, REJECT): RJ, (RV, APPROVE): AP, (RV, REJECT): RJ, (AP, REVOKE): RK}
# who may take each step
PROPER = {
    REVIEW: DEMO.community_worker,
    APPROVE: DEMO.street_officer,
    REJECT: DEMO.community_worker,
    REVOKE: DEMO.street_officer,
}
CASEWORK_TABLES = (CategoryAssignment, ApprovalStep, Review, Need, Measure, FollowUp, AuditEntry)


def staff(phone):
    return user_by_phone(phone)


def a_household(actor=None, **fields) -> Household:
    actor = actor or staff(DEMO.grid_worker)
    return make_household(actor, building="测试楼", today=fields.pop("today", ENTRY), **fields)


def snapshot() -> dict[str, int]:
    return {model.__name__: count_rows(model) for model in CASEWORK_TABLES}


def assignment(assignment_id: int) -> CategoryAssignment:
    from app.extensions import db

    db.session.expire_all()
    return db.session.get(CategoryAssignment, assignment_id)


def steps_of(assignment_id: int) -> list[tuple[ApprovalAction, int]]:
    from app.extensions import db

    rows = db.session.execute(
        sa.select(ApprovalStep.action, ApprovalStep.by_id)
        .where(ApprovalStep.assignment_id == assignment_id)
        .order_by(ApprovalStep.id)
    )
    return [tuple(row) for row in rows]


def in_status(status: CategoryStatus, household=None, category=Category.DIBAO) -> CategoryAssignment:
    """An assignment brought to `status` by the proper people."""
    household = household or a_household()
    made = casework.propose_category(staff(DEMO.grid_worker), household.id, category, "入户核实")
    if status is RJ:
        casework.decide_category(staff(DEMO.community_worker), made.id, REJECT, "收入超标")
    if status in (RV, AP, RK):
        casework.decide_category(staff(DEMO.community_worker), made.id, REVIEW)
    if status in (AP, RK):
        casework.decide_category(staff(DEMO.street_officer), made.id, APPROVE)
    if status is RK:
        casework.decide_category(staff(DEMO.street_officer), made.id, REVOKE, "复审后不再符合")
    assert assignment(made.id).status is status
    return made


# --- the state machine ---------------------------------------------------------------


def test_propose_review_approve_with_a_step_per_transition(db):
    gw, cw, so = staff(DEMO.grid_worker), staff(DEMO.community_worker), staff(DEMO.street_officer)
    household = a_household(gw)
    made = casework.propose_category(gw, household.id, Category.DIBAO, "入户核实，收入低于标准")
    assert (made.status, made.proposed_by_id, made.category) == (P, gw.id, Category.DIBAO)
    assert casework.decide_category(cw, made.id, REVIEW, "材料齐全").status is RV
    assert casework.decide_category(so, made.id, APPROVE).status is AP
    assert casework.decide_category(cw, made.id, REVOKE, "家庭收入已超标准").status is RK

    (loaded,) = casework.categories_of(household.id)
    assert [(s.action, s.by_id) for s in loaded.steps] == [
        (ApprovalAction.PROPOSE, gw.id),
        (REVIEW, cw.id),
        (APPROVE, so.id),
        (REVOKE, cw.id),
    ]
    assert [s.note for s in loaded.steps] == ["入户核实，收入低于标准", "材料齐全", "", "家庭收入已超标准"]
    actions = db.session.scalars(
        sa.select(AuditEntry.action)
        .where(AuditEntry.object_type == "category", AuditEntry.object_id == made.id)
        .order_by(AuditEntry.id)
    )
    assert list(actions) == ["propose", "review", "approve", "revoke"]


@pytest.mark.parametrize("start", [P, RV, AP, RJ, RK], ids=lambda s: s.value)
@pytest.mark.parametrize("action", [REVIEW, APPROVE, REJECT, REVOKE], ids=lambda a: a.value)
def test_every_transition_from_every_status(db, start, action):
    made = in_status(start)
    actor = staff(PROPER[action])
    steps_before = steps_of(made.id)
    before = snapshot()
    if (start, action) in LEGAL:
        result = casework.decide_category(actor, made.id, action, "说明")
        assert result.status is LEGAL[(start, action)]
        assert assignment(made.id).status is LEGAL[(start, action)]
        assert steps_of(made.id) == [*steps_before, (action, actor.id)]
    else:
        with pytest.raises(Conflict) as error:
            casework.decide_category(actor, made.id, action, "说明")
        assert error.value.code == "invalid_transition"
        db.session.rollback()
        assert assignment(made.id).status is start
        assert steps_of(made.id) == steps_before
        assert snapshot() == before


@pytest.mark.parametrize(
    ("start", "action"),
    [(P, APPROVE), (P, REVOKE), (RV, REVIEW), (AP, APPROVE), (AP, REJECT), (RJ, REVIEW), (RK, APPROVE)],
)
def test_an_administrator_cannot_skip_a_step_either(db, start, action):
    made = in_status(start)
    with pytest.raises(Conflict):
        casework.decide_category(staff(DEMO.admin), made.id, action, "说明")
    db.session.rollback()
    assert assignment(made.id).status is start


@pytest.mark.parametrize(
    ("start", "action", "phones"),
    [
        (P, REVIEW, [DEMO.grid_worker, DEMO.street_officer, DEMO.volunteer, DEMO.resident]),
        (RV, APPROVE, [DEMO.grid_worker, DEMO.community_worker, DEMO.volunteer, DEMO.partner]),
        (P, REJECT, [DEMO.grid_worker, DEMO.volunteer]),
        (RV, REJECT, [DEMO.grid_worker]),
        (AP, REVOKE, [DEMO.grid_worker, DEMO.volunteer]),
    ],
)
def test_wrong_role_is_forbidden_and_nothing_changes(db, start, action, phones):
    made = in_status(start)
    steps_before = steps_of(made.id)
    for phone in phones:
        with pytest.raises(Forbidden):
            casework.decide_category(staff(phone), made.id, action, "说明")
    assert assignment(made.id).status is start
    assert steps_of(made.id) == steps_before


@pytest.mark.parametrize("phone", [DEMO.street_officer, DEMO.volunteer, DEMO.resident, DEMO.partner])
def test_only_ledger_writers_propose(db, phone):
    household = a_household()
    before = snapshot()
    with pytest.raises(Forbidden):
        casework.propose_category(staff(phone), household.id, Category.DIBAO)
    assert snapshot() == before


def test_community_worker_may_propose(db):
    made = casework.propose_category(staff(DEMO.community_worker), a_household().id, Category.TEKUN)
    assert made.status is P


@pytest.mark.parametrize(("start", "action"), [(P, REJECT), (RV, REJECT), (AP, REVOKE)])
@pytest.mark.parametrize("note", ["", "   ", "x" * 501])
def test_reject_and_revoke_need_a_reason(db, start, action, note):
    made = in_status(start)
    with pytest.raises(InvalidInput) as error:
        casework.decide_category(staff(PROPER[action]), made.id, action, note)
    assert error.value.code == "invalid_text"
    db.session.rollback()
    assert assignment(made.id).status is start


def test_proposing_a_live_category_twice_is_a_conflict(db):
    for status in (P, RV, AP):
        household = a_household()
        in_status(status, household)
        before = snapshot()
        with pytest.raises(Conflict) as error:
            casework.propose_category(staff(DEMO.grid_worker), household.id, Category.DIBAO)
        assert error.value.code == "category_exists"
        assert snapshot() == before
        # another category is another assignment
        assert casework.propose_category(staff(DEMO.grid_worker), household.id, Category.TEKUN).status is P


@pytest.mark.parametrize("status", [RJ, RK])
def test_a_rejected_or_revoked_category_may_be_proposed_again(db, status):
    household = a_household()
    old = in_status(status, household)
    new = casework.propose_category(staff(DEMO.grid_worker), household.id, Category.DIBAO)
    assert new.id != old.id and new.status is P
    assert assignment(old.id).status is status


def test_decisions_outside_scope_are_not_found(db):
    cw, admin = staff(DEMO.community_worker), staff(DEMO.admin)
    other_community_grid = db.session.scalar(
        sa.select(Grid.id).join(Community).where(Community.id != cw.community_id).order_by(Grid.id)
    )
    elsewhere = make_household(admin, other_community_grid, building="测试楼", today=ENTRY)
    made = casework.propose_category(admin, elsewhere.id, Category.DIBAO)
    with pytest.raises(NotFound):
        casework.decide_category(cw, made.id, REVIEW)
    assert assignment(made.id).status is P
    with pytest.raises(NotFound):
        casework.decide_category(cw, 10**9, REVIEW)
    with pytest.raises(NotFound):
        casework.propose_category(staff(DEMO.grid_worker_2), a_household().id, Category.DIBAO)


@pytest.mark.parametrize("huge", [2**31, 10**20])
def test_a_need_id_that_cannot_exist_is_not_found(db, huge):
    """/registry/<household>/needs/<need>/close once sent a need id past 2**31 - 1 to the database (a 500)."""
    gw = staff(DEMO.grid_worker)
    with pytest.raises(NotFound):
        casework.get_need(gw, a_household(gw).id, huge)


def test_propose_is_not_a_decision(db):
    made = in_status(P)
    with pytest.raises(InvalidInput) as error:
        casework.decide_category(staff(DEMO.admin), made.id, ApprovalAction.PROPOSE)
    assert error.value.code == "invalid_action"
    assert assignment(made.id).status is P


def test_no_category_for_an_exited_household(db):
    household = a_household()
    household_changes.exit_household(staff(DEMO.community_worker), household.id, TODAY, "迁出本市", TODAY)
    with pytest.raises(Conflict) as error:
        casework.propose_category(staff(DEMO.grid_worker), household.id, Category.DIBAO)
    assert error.value.code == "household_exited"


# --- needs, measures, follow-ups -----------------------------------------------------


def test_add_need(db):
    gw = staff(DEMO.grid_worker)
    household = a_household(gw)
    need = casework.add_need(gw, household.id, NeedData("repairs", "  卫生间水管漏水  ", Urgency.URGENT))
    assert (need.household_id, need.service_type_code, need.urgency) == (
        household.id,
        "repairs",
        Urgency.URGENT,
    )
    assert (need.status, need.description, need.created_by_id) == (NeedStatus.OPEN, "卫生间水管漏水", gw.id)


@pytest.mark.parametrize(
    ("code", "description", "error_code"),
    [
        ("flying", "想坐飞机", "unknown_service_type"),
        ("", "x", "unknown_service_type"),
        (None, "x", "unknown_service_type"),
        ("repairs", "", "invalid_text"),
        ("repairs", "x" * 501, "invalid_text"),
    ],
)
def test_need_refused_for_unknown_service_or_bad_description(db, code, description, error_code):
    gw = staff(DEMO.grid_worker)
    household = a_household(gw)
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        casework.add_need(gw, household.id, NeedData(code, description))
    assert error.value.code == error_code
    db.session.rollback()
    assert snapshot() == before


def test_need_refused_for_an_inactive_service(db):
    gw = staff(DEMO.grid_worker)
    household = a_household(gw)
    db.session.get(ServiceType, "haircut").active = False
    db.session.commit()
    with pytest.raises(InvalidInput) as error:
        casework.add_need(gw, household.id, NeedData("haircut", "理发"))
    assert error.value.code == "unknown_service_type"


def test_need_refused_for_an_exited_household(db):
    gw = staff(DEMO.grid_worker)
    household = a_household(gw)
    household_changes.exit_household(staff(DEMO.community_worker), household.id, TODAY, "迁出本市", TODAY)
    before = snapshot()
    with pytest.raises(Conflict) as error:
        casework.add_need(gw, household.id, NeedData("repairs", "修水管"))
    assert error.value.code == "household_exited"
    assert snapshot() == before


def test_needs_of_another_grid_are_not_found(db):
    household = a_household(staff(DEMO.grid_worker))
    with pytest.raises(NotFound):
        casework.add_need(staff(DEMO.grid_worker_2), household.id, NeedData("repairs", "修水管"))
    need = casework.add_need(staff(DEMO.grid_worker), household.id, NeedData("repairs", "修水管"))
    with pytest.raises(NotFound):
        casework.close_need(staff(DEMO.grid_worker_2), need.id, NeedStatus.MET, "已修好")


@pytest.mark.parametrize("status", [NeedStatus.MET, NeedStatus.CLOSED])
def test_close_need_once(db, status):
    gw = staff(DEMO.grid_worker)
    need = casework.add_need(gw, a_household(gw).id, NeedData("repairs", "修水管"))
    closed = casework.close_need(gw, need.id, status, "已处理")
    assert (closed.status, closed.closed_by_id, closed.close_note) == (status, gw.id, "已处理")
    assert closed.closed_at is not None
    for again in (NeedStatus.MET, NeedStatus.CLOSED):
        with pytest.raises(Conflict) as error:
            casework.close_need(gw, need.id, again, "再次关闭")
        assert error.value.code == "need_not_open"
    db.session.expire_all()
    assert db.session.get(Need, need.id).status is status


def test_close_need_needs_a_closing_status_and_a_note(db):
    gw = staff(DEMO.grid_worker)
    need = casework.add_need(gw, a_household(gw).id, NeedData("repairs", "修水管"))
    with pytest.raises(InvalidInput) as error:
        casework.close_need(gw, need.id, NeedStatus.OPEN, "重开")
    assert error.value.code == "invalid_status"
    with pytest.raises(InvalidInput) as error:
        casework.close_need(gw, need.id, NeedStatus.MET, " ")
    assert error.value.code == "invalid_text"
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Need, need.id).status is NeedStatus.OPEN


def test_measure_for_a_need_of_another_household_refused(db):
    gw = staff(DEMO.grid_worker)
    mine, theirs = a_household(gw), a_household(gw)
    their_need = casework.add_need(gw, theirs.id, NeedData("repairs", "修水管"))
    before = snapshot()
    for need_id in (their_need.id, 10**9):
        with pytest.raises(InvalidInput) as error:
            casework.add_measure(gw, mine.id, MeasureKind.MEASURE, "上门维修", TODAY, TODAY, need_id=need_id)
        assert (error.value.code, error.value.field) == ("unknown_need", "need_id")
    assert snapshot() == before
    own_need = casework.add_need(gw, mine.id, NeedData("repairs", "修水管"))
    measure = casework.add_measure(gw, mine.id, MeasureKind.MEASURE, "上门维修", TODAY, TODAY, own_need.id)
    assert (measure.need_id, measure.household_id, measure.recorded_by_id) == (own_need.id, mine.id, gw.id)


def test_measure_dates_and_reasons_none_was_taken(db):
    gw = staff(DEMO.grid_worker)
    household = a_household(gw)
    with pytest.raises(InvalidInput) as error:
        casework.add_measure(gw, household.id, MeasureKind.MEASURE, "上门维修", date(2024, 6, 16), TODAY)
    assert error.value.code == "invalid_date"
    reason = casework.add_measure(gw, household.id, MeasureKind.NOT_HELPED, "户主拒绝上门", TODAY, TODAY)
    assert reason.kind is MeasureKind.NOT_HELPED and reason.need_id is None


@pytest.mark.parametrize("satisfaction", [0, 6, -1, 10])
def test_follow_up_satisfaction_out_of_bounds(db, satisfaction):
    gw = staff(DEMO.grid_worker)
    household = a_household(gw)
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        casework.add_follow_up(gw, household.id, TODAY, FollowUpMethod.VISIT, "回访", TODAY, satisfaction)
    assert (error.value.code, error.value.field) == ("invalid_satisfaction", "satisfaction")
    assert snapshot() == before


@pytest.mark.parametrize("satisfaction", [1, 3, 5, None])
def test_follow_up_satisfaction_within_bounds(db, satisfaction):
    gw = staff(DEMO.grid_worker)
    household = a_household(gw)
    record = casework.add_follow_up(
        gw, household.id, TODAY, FollowUpMethod.PHONE, "电话回访", TODAY, satisfaction
    )
    assert (record.satisfaction, record.on, record.recorded_by_id) == (satisfaction, TODAY, gw.id)


def test_follow_up_cannot_be_in_the_future(db):
    gw = staff(DEMO.grid_worker)
    with pytest.raises(InvalidInput) as error:
        casework.add_follow_up(
            gw, a_household(gw).id, date(2024, 6, 16), FollowUpMethod.VISIT, "回访", TODAY, 5
        )
    assert error.value.code == "invalid_date"


# --- reviews (复审) -------------------------------------------------------------------


def test_continue_review_sets_the_next_review(db):
    gw = staff(DEMO.grid_worker)
    household = a_household(gw)  # entered 1 March, able to work, unstable income: monthly
    assert household.next_review_on == date(2024, 4, 1)
    review = casework.record_review(gw, household.id, date(2024, 6, 10), ReviewOutcome.CONTINUE, "", TODAY)
    assert (review.outcome, review.by_id, review.reviewed_on) == (
        ReviewOutcome.CONTINUE,
        gw.id,
        date(2024, 6, 10),
    )
    assert review.next_review_on == date(2024, 7, 10)
    assert ledger.get_household(gw, household.id).next_review_on == date(2024, 7, 10)


def test_review_next_date_follows_the_household_type(db):
    gw = staff(DEMO.grid_worker)
    household = a_household(gw, income_stable=True)
    review = casework.record_review(gw, household.id, date(2024, 5, 31), ReviewOutcome.CONTINUE, "", TODAY)
    assert review.next_review_on == date(2024, 8, 31)


def test_review_refuses_future_dates_and_missing_notes(db):
    gw, cw = staff(DEMO.grid_worker), staff(DEMO.community_worker)
    household = a_household(gw)
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        casework.record_review(gw, household.id, date(2024, 6, 16), ReviewOutcome.CONTINUE, "", TODAY)
    assert error.value.code == "invalid_date"
    for outcome in (ReviewOutcome.CHANGE, ReviewOutcome.EXIT):
        with pytest.raises(InvalidInput) as error:
            casework.record_review(cw, household.id, TODAY, outcome, "  ", TODAY, propose=[Category.DIBAO])
        assert error.value.code == "invalid_text"
    with pytest.raises(InvalidInput) as error:
        casework.record_review(cw, household.id, TODAY, ReviewOutcome.CHANGE, "变更", TODAY)
    assert error.value.code == "nothing_changes"
    assert snapshot() == before


def test_change_review_revokes_and_proposes(db):
    cw = staff(DEMO.community_worker)
    household = a_household()
    dibao = in_status(AP, household, Category.DIBAO)
    review = casework.record_review(
        cw,
        household.id,
        TODAY,
        ReviewOutcome.CHANGE,
        "收入上升，转为低保边缘",
        TODAY,
        revoke=[dibao.id],
        propose=[Category.MARGINAL],
    )
    assert review.outcome is ReviewOutcome.CHANGE
    assert assignment(dibao.id).status is RK
    assert steps_of(dibao.id)[-1] == (REVOKE, cw.id)
    by_category = {a.category: a.status for a in casework.categories_of(household.id)}
    assert by_category == {Category.DIBAO: RK, Category.MARGINAL: P}


def test_change_review_is_all_or_nothing(db):
    cw = staff(DEMO.community_worker)
    household = a_household()
    dibao = in_status(AP, household, Category.DIBAO)
    tekun = in_status(AP, household, Category.TEKUN)
    another = in_status(AP, a_household(), Category.DIBAO)  # approved, but another household's
    before = snapshot()
    for revoke, error_type in (([dibao.id, 10**9], NotFound), ([dibao.id, another.id], InvalidInput)):
        with pytest.raises(error_type):
            casework.record_review(
                cw,
                household.id,
                TODAY,
                ReviewOutcome.CHANGE,
                "收入变化",
                TODAY,
                revoke=revoke,
                propose=[Category.MARGINAL],
            )
        db.session.rollback()  # what the request's teardown does with an unfinished transaction
        assert snapshot() == before  # no Review, no step, no proposal, no audit entry
        assert (assignment(dibao.id).status, assignment(tekun.id).status) == (AP, AP)
        assert assignment(another.id).status is AP
    # revoking something not approved fails the same way
    proposed = in_status(P, household, Category.ORPHAN)
    before = snapshot()
    with pytest.raises(Conflict):
        casework.record_review(
            cw, household.id, TODAY, ReviewOutcome.CHANGE, "收入变化", TODAY, revoke=[dibao.id, proposed.id]
        )
    db.session.rollback()
    assert snapshot() == before
    assert assignment(dibao.id).status is AP


def test_grid_worker_may_propose_but_not_revoke_in_a_review(db):
    gw = staff(DEMO.grid_worker)
    household = a_household(gw)
    dibao = in_status(AP, household, Category.DIBAO)
    before = snapshot()
    with pytest.raises(Forbidden):
        casework.record_review(
            gw, household.id, TODAY, ReviewOutcome.CHANGE, "收入变化", TODAY, revoke=[dibao.id]
        )
    db.session.rollback()
    assert snapshot() == before
    assert assignment(dibao.id).status is AP
    review = casework.record_review(
        gw,
        household.id,
        TODAY,
        ReviewOutcome.CHANGE,
        "新增困境",
        TODAY,
        propose=[Category.CHILD_IN_DIFFICULTY],
    )
    assert review.outcome is ReviewOutcome.CHANGE


def test_exit_review_by_community_worker(db):
    cw = staff(DEMO.community_worker)
    household = a_household()
    review = casework.record_review(cw, household.id, date(2024, 6, 10), ReviewOutcome.EXIT, "已就业", TODAY)
    assert review.next_review_on is None
    household = ledger.get_household(cw, household.id)
    assert household.status is HouseholdStatus.EXITED
    assert household.next_review_on is None
    exited = household.events[-1]
    assert (exited.kind, exited.on, exited.approved_by_id, exited.reason) == (
        HouseholdEventKind.EXITED,
        date(2024, 6, 10),
        cw.id,
        "已就业",
    )
    with pytest.raises(Conflict) as error:
        casework.record_review(cw, household.id, TODAY, ReviewOutcome.CONTINUE, "", TODAY)
    assert error.value.code == "household_exited"


def test_exit_review_by_grid_worker_is_forbidden(db):
    gw = staff(DEMO.grid_worker)
    household = a_household(gw)
    before = snapshot()
    with pytest.raises(Forbidden):
        casework.record_review(gw, household.id, TODAY, ReviewOutcome.EXIT, "已就业", TODAY)
    db.session.rollback()
    assert snapshot() == before
    assert ledger.get_household(gw, household.id).status is HouseholdStatus.ACTIVE


def test_exit_review_by_street_officer(db):
    so = staff(DEMO.street_officer)
    household = a_household()
    casework.record_review(so, household.id, TODAY, ReviewOutcome.EXIT, "已就业", TODAY)
    assert ledger.get_household(so, household.id).status is HouseholdStatus.EXITED


def test_continue_review_does_not_revoke(db):
    cw = staff(DEMO.community_worker)
    household = a_household()
    dibao = in_status(AP, household, Category.DIBAO)
    try:
        casework.record_review(
            cw, household.id, TODAY, ReviewOutcome.CONTINUE, "维持现状", TODAY, revoke=[dibao.id]
        )
    except InvalidInput:
        db.session.rollback()
    assert assignment(dibao.id).status is AP


# --- nobody decides their own case (人情保/关系保, seed 004) -------------------


def test_a_proposer_cannot_review_their_own_proposal(db):
    worker = staff(DEMO.community_worker)
    made = casework.propose_category(
        worker, a_household(worker, grid_id=staff(DEMO.grid_worker).grid_id).id, Category.DIBAO
    )
    before = snapshot()
    with pytest.raises(Forbidden) as error:
        casework.decide_category(worker, made.id, REVIEW)
    assert error.value.code == "own_case"
    assert assignment(made.id).status is P and snapshot() == before


def test_a_reviewer_cannot_also_approve(db):
    admin = staff(DEMO.admin)
    made = casework.propose_category(staff(DEMO.grid_worker), a_household().id, Category.TEKUN)
    casework.decide_category(admin, made.id, REVIEW)
    with pytest.raises(Forbidden):
        casework.decide_category(admin, made.id, APPROVE)  # not even an administrator
    assert assignment(made.id).status is RV
    casework.decide_category(staff(DEMO.street_officer), made.id, APPROVE)
    assert assignment(made.id).status is AP


def test_the_proposer_may_still_reject_or_withdraw(db):
    worker = staff(DEMO.community_worker)
    made = casework.propose_category(
        worker, a_household(worker, grid_id=staff(DEMO.grid_worker).grid_id).id, Category.ORPHAN
    )
    casework.decide_category(worker, made.id, REJECT, "proposed by mistake")
    assert assignment(made.id).status is RJ


# --- leaving the registry ends the casework ---------------------------------


def test_exit_closes_open_needs_and_ends_categories(db):
    household = a_household()
    approved = in_status(AP, household, Category.DIBAO)
    pending = in_status(P, household, Category.MARGINAL)
    need = casework.add_need(staff(DEMO.grid_worker), household.id, NeedData("meals", "送餐"))
    household_changes.exit_household(staff(DEMO.community_worker), household.id, TODAY, "迁出本市", TODAY)
    assert assignment(approved.id).status is RK
    assert assignment(pending.id).status is RJ
    closed = db.session.get(Need, need.id)
    assert closed.status is NeedStatus.CLOSED and closed.close_note == "迁出本市"
    assert steps_of(approved.id)[-1] == (REVOKE, staff(DEMO.community_worker).id)

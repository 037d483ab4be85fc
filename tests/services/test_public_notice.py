"""Public notices (公示): candidates of a period against what the test made,
the public-text rule, composing, publishing, withdrawing, what the public
sees when, objections, and scope."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db as _db
from app.models import (
    ApprovalAction,
    AuditEntry,
    Category,
    Cause,
    Grid,
    MeasureKind,
    Member,
    NoticeItem,
    NoticeObjection,
    NoticeStatus,
    ObjectionStatus,
    PublicNotice,
    Relation,
)
from app.services import casework, household_changes, households, points
from app.services import public_notice as notices
from app.services import public_notice_objections as objections
from app.services.casework import NeedData
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.households import MemberData
from app.services.public_notice import NoticeData, WordingErrors, check_public_text
from app.services.public_notice_candidates import candidates
from app.services.public_notice_display import live_notices
from tests.conftest import DEMO, count_rows
from tests.factories import make_household, user_by_phone
from tests.services.test_honour import local
from tests.services.test_ledger_xlsx import person_id
from tests.services.test_notice_board import confirmed_visit

START, END = date(2031, 3, 1), date(2031, 3, 31)
NOW = local(2031, 4, 2, 10)


@dataclass
class Scene:
    """Households of community 1 with what happened to them in March 2031, and
    every sensitive value they hold (none may reach a public page)."""

    community_id: int
    other_community_id: int
    assisted: int  # A: 低保 approved on 5 March
    measured: int  # B: first measure on 10 March
    exited: int  # C: left the registry on 15 March
    before: list[int]  # measures or approval before March: not newly assisted
    other: int  # community 2, first measure in March
    full_names: list[str] = field(default_factory=list)
    id_numbers: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    money: list[str] = field(default_factory=list)
    illness_words: list[str] = field(default_factory=list)
    address_words: list[str] = field(default_factory=list)
    visits: int = 0  # confirmed, unreversed housekeeping visits in March


def build_scene() -> Scene:
    """Needs an app and a request context (confirmation QR URLs are absolute);
    leaves the clock frozen at NOW."""
    gw, cw, so = (user_by_phone(p) for p in (DEMO.grid_worker, DEMO.community_worker, DEMO.street_officer))
    clock.freeze(local(2031, 2, 1, 9))
    today = clock.today()
    phones = ["13712345678", "13698765432", "13587654321"]
    a = make_household(gw, head_name="欧阳秀华", contact_phone=phones[0], building="公示楼", room="东9901")
    b = make_household(gw, head_name="张建国", contact_phone=phones[1], building="公示楼", room="东9902")
    c = make_household(gw, head_name="李桂兰", contact_phone=phones[2], building="公示楼", room="东9903")
    ids = [person_id(n, "990100") for n in (701, 702, 703)]
    head = next(m for m in households.get_household(gw, a.id).members if m.relation is Relation.HEAD)
    households.update_member(
        gw, head.id, MemberData(name="欧阳秀华", relation=Relation.HEAD, id_number=ids[0]), today
    )
    households.add_member(
        gw,
        a.id,
        MemberData(
            name="司马光明",
            relation=Relation.SPOUSE,
            id_number=ids[1],
            serious_illness=True,
            disability_grade=2,
        ),
        today,
    )
    households.add_member(
        gw, b.id, MemberData(name="张小丽", relation=Relation.CHILD, id_number=ids[2]), today
    )
    household_changes.set_monthly_finance(gw, a.id, date(2031, 1, 1), 87654, 123456, 0, 0, today)
    casework.add_cause(gw, a.id, Cause.ILLNESS, "尿毒症，每周透析三次")
    casework.add_need(gw, a.id, NeedData("meals", "患尿毒症行动不便，需要送餐"))
    assignment = casework.propose_category(gw, a.id, Category.DIBAO)
    casework.decide_category(cw, assignment.id, ApprovalAction.REVIEW)
    clock.freeze(local(2031, 3, 5, 10))
    casework.decide_category(so, assignment.id, ApprovalAction.APPROVE)
    casework.add_measure(
        gw, b.id, MeasureKind.MEASURE, "联系助餐点每日送餐", date(2031, 3, 10), date(2031, 3, 10)
    )

    # Before the period: an approval in February and a first measure in February.
    clock.freeze(local(2031, 2, 10, 10))
    d = make_household(gw, head_name="王二月")
    early = casework.propose_category(gw, d.id, Category.TEKUN)
    casework.decide_category(cw, early.id, ApprovalAction.REVIEW)
    casework.decide_category(so, early.id, ApprovalAction.APPROVE)
    e = make_household(gw, head_name="赵早措")
    casework.add_measure(
        gw, e.id, MeasureKind.MEASURE, "二月开始的帮扶", date(2031, 2, 10), date(2031, 2, 10)
    )
    clock.freeze(local(2031, 3, 12, 10))
    casework.add_measure(gw, e.id, MeasureKind.MEASURE, "三月继续", date(2031, 3, 12), date(2031, 3, 12))
    casework.add_measure(gw, e.id, MeasureKind.NOT_HELPED, "无", date(2031, 3, 12), date(2031, 3, 12))

    clock.freeze(local(2031, 3, 20, 10))
    household_changes.exit_household(cw, c.id, date(2031, 3, 15), "收入增加，不再困难", clock.today())

    other_cw = user_by_phone(DEMO.community_worker_2)
    other_grid = _db.session.scalar(
        sa.select(Grid.id).where(Grid.community_id == other_cw.community_id).order_by(Grid.id)
    )
    f = make_household(other_cw, grid_id=other_grid, head_name="钱别处")
    casework.add_measure(
        other_cw, f.id, MeasureKind.MEASURE, "别处的帮扶", date(2031, 3, 11), date(2031, 3, 11)
    )

    v1, v2 = user_by_phone(DEMO.volunteer), user_by_phone(DEMO.volunteer_2)
    confirmed_visit(a, v1, local(2031, 3, 6, 9), 5, "谢谢")
    confirmed_visit(a, v2, local(2031, 3, 7, 9), 5, "")
    confirmed_visit(a, v1, local(2031, 2, 20, 9), 5, "二月")  # before the period
    false = confirmed_visit(a, v2, local(2031, 3, 8, 9), 5, "")
    clock.freeze(local(2031, 3, 9))
    points.reverse_visit(cw, false.id, "回访核实未上门", DEMO.password)
    clock.freeze(NOW)
    return Scene(
        community_id=cw.community_id,
        other_community_id=other_cw.community_id,
        assisted=a.id,
        measured=b.id,
        exited=c.id,
        before=[d.id, e.id],
        other=f.id,
        full_names=["欧阳秀华", "司马光明", "张建国", "张小丽", "李桂兰"],
        id_numbers=ids,
        phones=phones,
        money=["87654", "876.54", "123456", "1234.56"],
        illness_words=["尿毒症", "透析"],
        address_words=["公示楼", "东9901", "东9902", "东9903"],
        visits=2,
    )


def all_of(stmt) -> list:
    return list(_db.session.scalars(stmt))


@pytest.fixture
def scene(db, app):
    with app.test_request_context():
        yield build_scene()
    clock.freeze(None)


def staff(phone=DEMO.community_worker):
    return user_by_phone(phone)


def new_notice(scene, actor=None, **fields) -> PublicNotice:
    data = NoticeData(scene.community_id, fields.pop("title", "2031年3月帮扶公示"), START, END)
    return notices.create_notice(actor or staff(), data, clock.today())


def published(scene, chosen=None, **times) -> PublicNotice:
    """A notice of March with the given items (all candidates by default), published."""
    notice = new_notice(scene)
    refs = chosen if chosen is not None else {c.ref: "" for c in candidates(scene.community_id, START, END)}
    notices.choose_items(staff(), notice.id, refs)
    return notices.publish_notice(staff(), notice.id, times.get("publish_at"), times.get("until"))


# --- candidates ---------------------------------------------------------------------


def test_candidates_of_the_period(scene):
    found = {c.ref: c for c in candidates(scene.community_id, START, END)}
    assert set(found) == {
        f"assisted:{scene.assisted}",
        f"assisted:{scene.measured}",
        f"exited:{scene.exited}",
        "services:housekeeping",
    }
    a, b = found[f"assisted:{scene.assisted}"], found[f"assisted:{scene.measured}"]
    assert (a.masked_name, a.categories, a.services, a.on) == (
        "欧**华",
        ("dibao",),
        ("meals",),
        date(2031, 3, 5),
    )
    assert (b.masked_name, b.categories, b.on) == ("张*国", (), date(2031, 3, 10))
    c = found[f"exited:{scene.exited}"]
    assert (c.masked_name, c.on) == ("李*兰", date(2031, 3, 15))
    services = found["services:housekeeping"]
    assert (services.visits, services.households, services.masked_name) == (scene.visits, 1, "")


def test_other_communities_and_periods_are_left_out(scene):
    other = {c.ref for c in candidates(scene.other_community_id, START, END)}
    assert other == {f"assisted:{scene.other}"}
    february = {c.ref for c in candidates(scene.community_id, date(2031, 2, 1), date(2031, 2, 28))}
    assert february == {f"assisted:{h}" for h in scene.before} | {"services:housekeeping"}


# --- public text --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "电话13812345678",
        "请拨 138 0013 8000",
        "138-0013-8000",
        "身份证11010519400101123X",
        "１３８００１３８０００",
        "电话一三八零零一三八零零零",
        "2031-03-05起",
        "尾号 123456",
        "138****5678",
    ],
)
def test_numbers_that_could_identify_are_refused(db, text):
    with pytest.raises(InvalidInput) as refused:
        check_public_text(text, limit=60, field="wording")
    assert refused.value.code == "number_in_text"


@pytest.mark.parametrize("text", ["助餐 12 次", "3月5日起纳入低保", "2031年3月", "每周3次上门，共5户"])
def test_ordinary_wording_passes(db, text):
    assert check_public_text(text, limit=60, field="wording") == text


def test_full_names_and_long_texts_are_refused(db):
    with pytest.raises(InvalidInput) as refused:
        check_public_text("欧阳秀华家纳入低保", limit=60, field="wording", names={"欧阳秀华"})
    assert refused.value.code == "name_in_text"
    with pytest.raises(InvalidInput):
        check_public_text("很" * 61, limit=60, field="wording")
    assert check_public_text("  ", limit=60, field="wording") is None


# --- composing ----------------------------------------------------------------------


def test_only_staff_of_the_community_or_above_compose(scene):
    with pytest.raises(Forbidden):
        new_notice(scene, user_by_phone(DEMO.grid_worker))
    with pytest.raises(InvalidInput) as refused:
        new_notice(scene, staff(DEMO.community_worker_2))
    assert refused.value.code == "community_not_managed"
    assert new_notice(scene, staff(DEMO.street_officer)).status is NoticeStatus.DRAFT


def test_title_and_period_are_checked(scene):
    for title in ("联系13812345678", "欧阳秀华", ""):
        with pytest.raises(InvalidInput):
            new_notice(scene, title=title)
    with pytest.raises(InvalidInput):
        notices.create_notice(staff(), NoticeData(scene.community_id, "公示", END, START), clock.today())
    with pytest.raises(InvalidInput):  # a period that has not begun
        notices.create_notice(
            staff(),
            NoticeData(scene.community_id, "公示", date(2031, 5, 1), date(2031, 5, 31)),
            clock.today(),
        )
    assert count_rows(PublicNotice) == 0


def test_choosing_items_with_wordings(scene):
    notice = new_notice(scene)
    a, exited = f"assisted:{scene.assisted}", f"exited:{scene.exited}"
    fresh = notices.get_notice(staff(), notice.id)
    assert all(row.included for row in notices.choice_rows(fresh))  # everyone, until staff choose
    notices.choose_items(staff(), notice.id, {a: "3月起纳入低保，邻居送餐", exited: ""})
    items = {i.ref: i for i in notices.get_notice(staff(), notice.id).items}
    assert set(items) == {a, exited}
    assert items[a].wording == "3月起纳入低保，邻居送餐" and items[exited].wording is None
    assert items[a].masked_name == "欧**华" and items[a].categories == "dibao"
    saved = notices.get_notice(staff(), notice.id)
    ticked = {row.row.ref: (row.included, row.wording) for row in notices.choice_rows(saved)}
    assert ticked[a] == (True, "3月起纳入低保，邻居送餐") and ticked[exited] == (True, "")
    assert ticked[f"assisted:{scene.measured}"] == (False, "")

    with pytest.raises(WordingErrors) as refused:
        notices.choose_items(staff(), notice.id, {a: "联系13812345678", exited: "李桂兰退出"})
    assert set(refused.value.by_ref) == {a, exited}
    with pytest.raises(InvalidInput) as unknown:
        notices.choose_items(staff(), notice.id, {"assisted:999999": ""})
    assert unknown.value.code == "unknown_item"
    kept = {i.ref: i.wording for i in notices.get_notice(staff(), notice.id).items}
    assert kept == {a: "3月起纳入低保，邻居送餐", exited: None}  # nothing half-written

    notices.choose_items(staff(), notice.id, {exited: "收入提高，退出"})
    assert [i.ref for i in notices.get_notice(staff(), notice.id).items] == [exited]


# --- publishing and what the public sees ----------------------------------------------


def shown(scene) -> list[int]:
    return [live.notice.id for live in live_notices(scene.community_id)]


def test_publish_now_for_seven_days(scene):
    notice = published(scene)
    assert notice.status is NoticeStatus.PUBLISHED
    assert (notice.publish_at, notice.publish_until) == (NOW, NOW + timedelta(days=7))
    assert shown(scene) == [notice.id]
    clock.freeze(NOW + timedelta(days=7) - timedelta(seconds=1))
    assert shown(scene) == [notice.id]
    clock.freeze(NOW + timedelta(days=7))
    assert shown(scene) == []  # the notice period is over
    actions = _db.session.scalar(
        sa.select(sa.func.count(AuditEntry.id)).where(
            AuditEntry.object_type == "public_notice", AuditEntry.object_id == notice.id
        )
    )
    assert actions == 3  # created, items chosen, published


def test_a_draft_and_a_scheduled_notice_are_not_shown(scene):
    draft = new_notice(scene)
    notices.choose_items(staff(), draft.id, {f"exited:{scene.exited}": ""})
    later = published(scene, publish_at=NOW + timedelta(days=2), until=NOW + timedelta(days=9))
    assert shown(scene) == []
    notices.choose_items(staff(), later.id, {f"exited:{scene.exited}": "改过"})  # not shown yet: editable
    clock.freeze(NOW + timedelta(days=2))
    assert shown(scene) == [later.id]
    with pytest.raises(Conflict):
        notices.choose_items(staff(), later.id, {})
    with pytest.raises(Conflict):
        notices.publish_notice(staff(), later.id, None, None)


def test_publishing_checks(scene):
    notice = new_notice(scene)
    with pytest.raises(Conflict) as empty:
        notices.publish_notice(staff(), notice.id, None, None)
    assert empty.value.code == "empty_notice"
    notices.choose_items(staff(), notice.id, {f"exited:{scene.exited}": ""})
    for publish_at, until, code in (
        (NOW - timedelta(hours=1), None, "time_passed"),
        (None, NOW - timedelta(minutes=1), "invalid_until"),
        (None, NOW + timedelta(days=400), "invalid_until"),
    ):
        with pytest.raises(InvalidInput) as refused:
            notices.publish_notice(staff(), notice.id, publish_at, until)
        assert refused.value.code == code
    assert notices.get_notice(staff(), notice.id).status is NoticeStatus.DRAFT


def test_withdrawing(scene):
    notice = published(scene)
    with pytest.raises(InvalidInput):
        notices.withdraw_notice(staff(), notice.id, "  ")
    done = notices.withdraw_notice(staff(DEMO.street_officer), notice.id, "名单有误，核实后重新公示")
    assert done.status is NoticeStatus.WITHDRAWN and done.withdraw_reason == "名单有误，核实后重新公示"
    assert shown(scene) == []
    with pytest.raises(Conflict):
        notices.withdraw_notice(staff(), notice.id, "再次")
    entry = _db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "withdraw", AuditEntry.object_id == notice.id)
    )
    assert entry.object_type == "public_notice" and "名单" not in entry.note  # no values in the log


def test_another_communitys_staff_cannot_reach_a_notice(scene):
    notice = published(scene)
    outsider = staff(DEMO.community_worker_2)
    for call in (
        lambda: notices.get_notice(outsider, notice.id),
        lambda: notices.withdraw_notice(outsider, notice.id, "越权"),
        lambda: notices.publish_notice(outsider, notice.id, None, None),
        lambda: notices.choose_items(outsider, notice.id, {}),
    ):
        with pytest.raises(NotFound):
            call()
    assert [n.id for n in all_of(notices.notices_stmt(outsider))] == []
    assert notice.id in [n.id for n in all_of(notices.notices_stmt(staff(DEMO.street_officer)))]


# --- objections ---------------------------------------------------------------------


def test_objections_reach_the_notice_and_are_answered_once(scene):
    notice = published(scene)
    item = _db.session.scalar(
        sa.select(NoticeItem).where(NoticeItem.notice_id == notice.id).order_by(NoticeItem.id)
    )
    objection = objections.submit_objection(
        scene.community_id, notice.id, "此户家里有车", "13900001111", item.id
    )
    assert objections.open_counts([notice.id]) == {notice.id: 1}
    with pytest.raises(NotFound):
        objections.handle_objection(staff(DEMO.community_worker_2), notice.id, objection.id, "越权")
    with pytest.raises(InvalidInput):
        objections.handle_objection(staff(), notice.id, objection.id, "")
    done = objections.handle_objection(staff(), notice.id, objection.id, "已入户核实，车辆为借用")
    assert done.status is ObjectionStatus.HANDLED and done.handled_by_id == staff().id
    with pytest.raises(Conflict):
        objections.handle_objection(staff(), notice.id, objection.id, "再答一次")
    assert objections.open_counts([notice.id]) == {}


def test_objections_only_to_a_notice_shown_now(scene):
    draft = new_notice(scene)
    with pytest.raises(NotFound):
        objections.submit_objection(scene.community_id, draft.id, "有误")
    notice = published(scene)
    with pytest.raises(NotFound):  # the right notice, another community's address
        objections.submit_objection(scene.other_community_id, notice.id, "有误")
    with pytest.raises(InvalidInput):
        objections.submit_objection(scene.community_id, notice.id, "")
    with pytest.raises(InvalidInput):
        objections.submit_objection(scene.community_id, notice.id, "有误", item_id=draft.id * 1000)
    clock.freeze(NOW + timedelta(days=8))
    with pytest.raises(NotFound):
        objections.submit_objection(scene.community_id, notice.id, "有误")
    assert count_rows(NoticeObjection) == 0


def test_member_names_are_only_in_the_ledger(scene):
    """The check above is against real data: the names are the scene's members."""
    names = set(all_of(sa.select(Member.name).where(Member.household_id == scene.assisted)))
    assert names == {"欧阳秀华", "司马光明"}
    assert names <= notices.community_names(scene.community_id)

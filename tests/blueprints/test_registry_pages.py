"""The household registry (台账) pages through the client: roles get 403,
other grids 404, forms write through the services, and ID numbers stay masked.

Pages are read in English (the source language) so the assertions do not
depend on the Chinese catalogue.
"""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    AuditEntry,
    CategoryAssignment,
    CategoryStatus,
    CityStandard,
    ConsentRecord,
    FollowUp,
    Household,
    HouseholdStatus,
    Member,
    MonthlyFinance,
    Need,
    NeedStatus,
    Relation,
)
from app.services import casework
from app.services.households import MemberData, add_member
from app.services.idcard import check_digit
from tests.conftest import DEMO, count_rows
from tests.factories import make_household, user_by_phone

BUILDING = "页面测试楼"  # no demo household lives here


def an_id(seq: int, birth: str = "19520304") -> str:
    """A valid ID number from a region the demo data does not use."""
    first17 = f"320102{birth}{seq:03d}"
    return first17 + check_digit(first17)


def bad_checksum(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.fixture
def login(client, auth):
    """Log in as `phone` and read pages in English."""

    def as_user(phone: str):
        auth.login(phone)
        client.post("/lang/en")

    return as_user


def household_in(app, phone: str = DEMO.grid_worker, *, id_number: str | None = None, **fields) -> int:
    """A household in the grid of grid worker `phone` (with consent), optionally with a
    second member carrying `id_number`; returns its id."""
    with app.app_context():
        actor = user_by_phone(phone)
        household = make_household(actor, building=BUILDING, today=clock.today(), **fields)
        if id_number:
            member = MemberData(name="李阿婆", relation=Relation.SPOUSE, id_number=id_number)
            add_member(actor, household.id, member, clock.today())
        return household.id


def member_id(app, household_id: int, name: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(Member.id).where(Member.household_id == household_id, Member.name == name)
        )


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[-2000:]
    return response.get_data(as_text=True)


# --- who sees what -------------------------------------------------------------

READER_PAGES = ["/registry/", "/registry/warnings", "/registry/reviews"]


@pytest.mark.parametrize("phone", [DEMO.grid_worker, DEMO.community_worker, DEMO.street_officer, DEMO.admin])
def test_reader_pages_render_for_staff(client, login, phone):
    login(phone)
    assert "Household registry" in page(client, "/registry/")
    assert "most serious first" in page(client, "/registry/warnings")
    assert "Due within 7 days" in page(client, "/registry/reviews")


@pytest.mark.parametrize("phone", [DEMO.volunteer, DEMO.resident, DEMO.partner])
def test_non_staff_get_403_everywhere(app, client, login, phone):
    household_id = household_in(app)
    login(phone)
    paths = [
        *READER_PAGES,
        "/registry/new",
        "/registry/approvals",
        "/registry/audit",
        "/registry/standards",
        f"/registry/{household_id}",
        f"/registry/{household_id}/edit",
        f"/registry/{household_id}/finances",
    ]
    for path in paths:
        assert client.get(path).status_code == 403, path
    assert client.post("/registry/new", data={"building": "x"}).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/registry/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_role_restricted_pages(client, login):
    login(DEMO.grid_worker)
    for path in ("/registry/approvals", "/registry/audit", "/registry/standards"):
        assert client.get(path).status_code == 403, path
    client.post("/auth/logout")
    login(DEMO.community_worker)
    assert "Categories waiting for your decision" in page(client, "/registry/approvals")
    assert "Audit log" in page(client, "/registry/audit")
    assert client.get("/registry/standards").status_code == 403


@pytest.mark.parametrize(
    ("phone", "status"),
    [
        (DEMO.grid_worker, 404),  # grid 1 only
        (DEMO.grid_worker_2, 200),
        (DEMO.community_worker, 200),  # community 1 = grids 1 and 2
        (DEMO.street_officer, 200),
    ],
)
def test_another_grids_household_is_404(app, client, login, phone, status):
    household_id = household_in(app, DEMO.grid_worker_2, head_name="第二网格户主")
    login(phone)
    response = client.get(f"/registry/{household_id}")
    assert response.status_code == status
    assert ("第二网格户主" in response.get_data(as_text=True)) is (status == 200)
    listing = page(client, "/registry/?q=第二网格户主")
    assert (f'href="/registry/{household_id}"' in listing) is (status == 200)


def test_other_grids_forms_are_404_too(app, client, login):
    household_id = household_in(app, DEMO.grid_worker_2, id_number=an_id(11))
    spouse = member_id(app, household_id, "李阿婆")
    login(DEMO.grid_worker)
    for path in (
        f"/registry/{household_id}/edit",
        f"/registry/{household_id}/finances",
        f"/registry/{household_id}/members/{spouse}/edit",
        f"/registry/{household_id}/needs/new",
    ):
        assert client.get(path).status_code == 404, path
    response = client.post(f"/registry/{household_id}/causes/new", data={"cause": "illness"})
    assert response.status_code == 404
    assert client.get("/registry/999999").status_code == 404


# --- recording a household -----------------------------------------------------


def new_household_form(app, **overrides) -> dict:
    with app.app_context():
        grid_id = user_by_phone(DEMO.grid_worker).grid_id
    data = {
        "grid_id": str(grid_id),
        "building": BUILDING,
        "unit": "1",
        "room": "808",
        "contact_phone": "13912348888",
        "register_type": "local",
        "property_within_limits": "y",
        "name": "周老伯",
        "work_capacity": "none",
        "schooling": "none",
        "sex": "",
        "disability_grade": "",
        "consent_now": "y",
        "on": clock.today().isoformat(),
        "scope": "身份证号、健康和收入，用于帮扶",
        "id_number": an_id(21),
        "serious_illness": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_recording_a_household_through_the_form(app, client, login):
    login(DEMO.grid_worker)
    form = page(client, "/registry/new")
    assert "第一网格" in form and "第二网格" not in form  # only grids the worker manages
    response = client.post("/registry/new", data=new_household_form(app))
    assert response.status_code == 302
    household_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():
        household = db.session.get(Household, household_id)
        assert household.address == f"{BUILDING}1单元808"
        members = db.session.scalars(sa.select(Member).where(Member.household_id == household_id)).all()
        assert [(m.name, m.relation, m.serious_illness) for m in members] == [("周老伯", Relation.HEAD, True)]
        assert count_rows(ConsentRecord) >= 1
    detail = page(client, f"/registry/{household_id}")
    assert "周老伯" in detail and "The household has been recorded." in detail
    assert "320102********" in detail and an_id(21) not in detail


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"contact_phone": "12345"}, "Enter a mobile number (11 digits) or a landline with area code."),
        ({"id_number": bad_checksum(an_id(22))}, "check digit is wrong"),
        (
            {"consent_now": None, "id_number": "", "serious_illness": "y"},
            "Record the household&#39;s consent before keeping ID numbers, illness or disability.",
        ),
        ({"room": ""}, "Enter the room."),
    ],
)
def test_form_errors_rerender_and_write_nothing(app, client, login, overrides, message):
    login(DEMO.grid_worker)
    with app.app_context():
        before = (count_rows(Household), count_rows(Member), count_rows(AuditEntry))
    response = client.post("/registry/new", data=new_household_form(app, **overrides))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert message in body
    assert 'class="errors"' in body
    with app.app_context():
        assert (count_rows(Household), count_rows(Member), count_rows(AuditEntry)) == before


def test_a_grid_outside_the_workers_scope_is_refused(app, client, login):
    with app.app_context():
        other_grid = user_by_phone(DEMO.grid_worker_2).grid_id
        before = count_rows(Household)
    login(DEMO.grid_worker)
    response = client.post("/registry/new", data=new_household_form(app, grid_id=str(other_grid)))
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    with app.app_context():
        assert count_rows(Household) == before


# --- ID numbers ----------------------------------------------------------------


def test_detail_page_never_shows_a_full_id_number(app, client, login):
    number = an_id(31)
    household_id = household_in(app, id_number=number)
    for phone in (DEMO.grid_worker, DEMO.community_worker, DEMO.street_officer):
        login(phone)
        body = page(client, f"/registry/{household_id}")
        assert number not in body
        assert f"{number[:6]}********{number[-4:]}" in body
        client.post("/auth/logout")


def test_the_member_form_never_echoes_the_id_number(app, client, login):
    number = an_id(32)
    household_id = household_in(app, id_number=number)
    spouse = member_id(app, household_id, "李阿婆")
    login(DEMO.grid_worker)
    body = page(client, f"/registry/{household_id}/members/{spouse}/edit")
    assert number not in body and "Leave empty to keep it" in body
    assert 'value="李阿婆"' in body


MEMBER_HOUSEHOLD_BUG = (
    "BUG: app/services/households.py update_member and remove_member read member.household, a "
    "lazy='raise' relationship _member_for_write never loads: InvalidRequestError (a 500) on every call"
)


def test_editing_a_member_keeps_the_stored_id_number(app, client, login):
    number = an_id(35)
    household_id = household_in(app, id_number=number)
    spouse = member_id(app, household_id, "李阿婆")
    login(DEMO.grid_worker)
    response = client.post(
        f"/registry/{household_id}/members/{spouse}/edit",
        data={"name": "李阿婆", "relation": "spouse", "work_capacity": "partial", "schooling": "none"},
    )
    assert response.status_code == 302
    with app.app_context():
        member = db.session.get(Member, spouse)
        assert member.id_number == number
        assert member.work_capacity.value == "partial"


def test_removing_a_member(app, client, login):
    household_id = household_in(app, id_number=an_id(36))
    spouse = member_id(app, household_id, "李阿婆")
    login(DEMO.grid_worker)
    assert "Remove 李阿婆 from the household" in page(
        client, f"/registry/{household_id}/members/{spouse}/remove"
    )
    response = client.post(f"/registry/{household_id}/members/{spouse}/remove", data={"reason": "搬走"})
    assert response.status_code == 302
    assert member_id(app, household_id, "李阿婆") is None


def test_adding_a_member(app, client, login):
    household_id = household_in(app)
    login(DEMO.grid_worker)
    second_head = client.post(
        f"/registry/{household_id}/members/new",
        data={"name": "周小二", "relation": "head", "work_capacity": "full", "schooling": "none"},
    )
    assert second_head.status_code == 200
    assert "This household already has a householder." in second_head.get_data(as_text=True)
    response = client.post(
        f"/registry/{household_id}/members/new",
        data={"name": "周小二", "relation": "child", "work_capacity": "full", "schooling": "primary"},
    )
    assert response.status_code == 302
    body = page(client, f"/registry/{household_id}")
    assert "周小二" in body and "Primary school" in body


def test_reveal_needs_the_password_and_is_audited(app, client, login):
    number = an_id(33)
    household_id = household_in(app, id_number=number)
    spouse = member_id(app, household_id, "李阿婆")
    path = f"/registry/{household_id}/members/{spouse}/reveal"

    def reveals() -> int:
        with app.app_context():
            return db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "reveal", AuditEntry.object_id == spouse)
            )

    login(DEMO.community_worker)
    asked = page(client, path)
    assert number not in asked and "Re-enter your password" in asked
    wrong = client.post(path, data={"password": "not my password"})
    assert wrong.status_code == 200
    assert number not in wrong.get_data(as_text=True)
    assert "Re-enter your password to see the full ID number." in wrong.get_data(as_text=True)
    assert reveals() == 0
    right = client.post(path, data={"password": DEMO.password})
    assert right.status_code == 200
    assert number in right.get_data(as_text=True)
    assert right.headers["Cache-Control"] == "no-store"
    assert reveals() == 1
    assert number not in page(client, f"/registry/{household_id}")  # not kept anywhere


def test_grid_worker_sees_no_exit_or_reveal_controls(app, client, login):
    household_id = household_in(app, id_number=an_id(34))
    spouse = member_id(app, household_id, "李阿婆")
    login(DEMO.grid_worker)
    body = page(client, f"/registry/{household_id}")
    assert "/reveal" not in body and "/exit" not in body
    assert "Take out of the registry" not in body and "Show the full ID number" not in body
    assert f"/registry/{household_id}/edit" in body  # but may edit
    assert client.get(f"/registry/{household_id}/exit").status_code == 403
    assert client.get(f"/registry/{household_id}/members/{spouse}/reveal").status_code == 403
    client.post("/auth/logout")
    login(DEMO.community_worker)
    body = page(client, f"/registry/{household_id}")
    assert f"/registry/{household_id}/exit" in body
    assert f"/registry/{household_id}/members/{spouse}/reveal" in body


# --- consent and finances ------------------------------------------------------


def test_finances_in_yuan_are_stored_in_fen(app, client, login):
    household_id = household_in(app)
    month = clock.today().replace(day=1) - timedelta(days=1)
    login(DEMO.grid_worker)
    response = client.post(
        f"/registry/{household_id}/finances",
        data={
            "month": month.strftime("%Y-%m"),
            "income": "1234.5",
            "illness": "300",
            "disaster": "",
            "schooling": "0.05",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(sa.select(MonthlyFinance).where(MonthlyFinance.household_id == household_id))
        assert (row.income, row.illness_expense, row.disaster_expense, row.schooling_expense) == (
            123450,
            30000,
            0,
            5,
        )
        assert row.month == month.replace(day=1)
    body = page(client, f"/registry/{household_id}")
    assert "¥1234.50" in body and "¥300.05" in body  # rigid expenses: 300 + 0.05


@pytest.mark.parametrize("income", ["-5", "12.345", "abc"])
def test_bad_amounts_are_refused(app, client, login, income):
    household_id = household_in(app)
    login(DEMO.grid_worker)
    response = client.post(
        f"/registry/{household_id}/finances",
        data={"month": clock.today().strftime("%Y-%m"), "income": income},
    )
    assert response.status_code == 200
    assert "Enter an amount in yuan" in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(sa.select(MonthlyFinance).where(MonthlyFinance.household_id == household_id))
            is None
        )


def test_withdrawing_consent_warns_and_erases(app, client, login):
    number = an_id(41)
    household_id = household_in(app, id_number=number)
    login(DEMO.grid_worker)
    form = page(client, f"/registry/{household_id}/consent/withdraw")
    assert "This cannot be undone" in form
    unconfirmed = client.post(
        f"/registry/{household_id}/consent/withdraw",
        data={"on": clock.today().isoformat(), "scope": "户主口头撤回"},
    )
    assert unconfirmed.status_code == 200 and "Tick this box to confirm." in unconfirmed.get_data(
        as_text=True
    )
    response = client.post(
        f"/registry/{household_id}/consent/withdraw",
        data={"on": clock.today().isoformat(), "scope": "户主口头撤回", "confirm": "y"},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(
            sa.select(Member.id_number).where(Member.household_id == household_id)
        ).all() == [
            None,
            None,
        ]
    body = page(client, f"/registry/{household_id}")
    assert "No consent" in body and "320102********" not in body


# --- casework ------------------------------------------------------------------


def test_a_category_goes_from_proposal_to_approval(app, client, login):
    household_id = household_in(app, head_name="审批测试户")
    login(DEMO.grid_worker)
    response = client.post(
        f"/registry/{household_id}/categories/new", data={"category": "dibao", "note": "无收入"}
    )
    assert response.status_code == 302
    with app.app_context():
        assignment_id = db.session.scalar(
            sa.select(CategoryAssignment.id).where(CategoryAssignment.household_id == household_id)
        )
    client.post("/auth/logout")

    login(DEMO.community_worker)
    waiting = page(client, "/registry/approvals")
    assert "审批测试户" in waiting and "Pass the review" in waiting
    decide = f"/registry/{household_id}/categories/{assignment_id}"
    response = client.post(f"{decide}/review", data={"back": "approvals"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/registry/approvals")
    refused = client.post(f"{decide}/approve")  # the street approves, not the community
    assert refused.status_code == 302
    assert "do not have permission" in page(client, f"/registry/{household_id}")
    client.post("/auth/logout")

    login(DEMO.street_officer)
    assert "审批测试户" in page(client, "/registry/approvals")
    assert client.post(f"{decide}/approve").status_code == 302
    with app.app_context():
        assert db.session.get(CategoryAssignment, assignment_id).status is CategoryStatus.APPROVED
    body = page(client, f"/registry/{household_id}")
    assert "approved (审批)" in body and "Revoke" in body
    no_note = client.post(f"{decide}/revoke", data={"note": ""})
    assert no_note.status_code == 200 and "Enter a text of up to 500 characters." in no_note.get_data(
        as_text=True
    )


def test_needs_measures_and_follow_ups(app, client, login):
    household_id = household_in(app)
    login(DEMO.grid_worker)
    form = page(client, f"/registry/{household_id}/needs/new")
    assert "housekeeping" in form  # service types from the catalogue
    response = client.post(
        f"/registry/{household_id}/needs/new",
        data={"service_type_code": "housekeeping", "description": "每周打扫一次", "urgency": "urgent"},
    )
    assert response.status_code == 302
    body = page(client, f"/registry/{household_id}")
    assert "每周打扫一次" in body and "Urgency score" in body
    with app.app_context():
        need_id = db.session.scalar(sa.select(Need.id).where(Need.household_id == household_id))
    today = clock.today().isoformat()
    assert (
        client.post(
            f"/registry/{household_id}/measures/new",
            data={"kind": "measure", "description": "志愿者上门打扫", "on": today, "need_id": str(need_id)},
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/registry/{household_id}/needs/{need_id}/close", data={"status": "met", "note": "已安排志愿者"}
        ).status_code
        == 302
    )
    future = (clock.today() + timedelta(days=3)).isoformat()
    refused = client.post(
        f"/registry/{household_id}/follow-ups/new", data={"on": future, "method": "phone", "note": "电话回访"}
    )
    assert refused.status_code == 200 and "That date is in the future." in refused.get_data(as_text=True)
    assert (
        client.post(
            f"/registry/{household_id}/follow-ups/new",
            data={"on": today, "method": "phone", "note": "电话回访，满意", "satisfaction": "5"},
        ).status_code
        == 302
    )
    with app.app_context():
        assert db.session.get(Need, need_id).status is NeedStatus.MET
        assert (
            db.session.scalar(sa.select(FollowUp.satisfaction).where(FollowUp.household_id == household_id))
            == 5
        )
    body = page(client, f"/registry/{household_id}")
    assert "志愿者上门打扫" in body and "已安排志愿者" in body and "电话回访，满意" in body


def test_grid_worker_is_not_offered_an_exit_review(app, client, login):
    household_id = household_in(app)
    login(DEMO.grid_worker)
    form = page(client, f"/registry/{household_id}/reviews/new")
    assert 'value="continue"' in form and 'value="exit"' not in form
    response = client.post(
        f"/registry/{household_id}/reviews/new",
        data={"reviewed_on": clock.today().isoformat(), "outcome": "continue", "note": ""},
    )
    assert response.status_code == 302
    assert "Continue as before" in page(client, f"/registry/{household_id}")


def approved_category(app, household_id: int, category=None) -> int:
    """A category taken through proposal, review and approval by the services; its id."""
    from app.models import ApprovalAction, Category

    with app.app_context():
        gw, cw, so = (
            user_by_phone(p) for p in (DEMO.grid_worker, DEMO.community_worker, DEMO.street_officer)
        )
        assignment = casework.propose_category(gw, household_id, category or Category.DIBAO)
        casework.decide_category(cw, assignment.id, ApprovalAction.REVIEW)
        casework.decide_category(so, assignment.id, ApprovalAction.APPROVE)
        return assignment.id


def test_a_change_review_revokes_and_proposes(app, client, login):
    household_id = household_in(app)
    dibao = approved_category(app, household_id)
    login(DEMO.community_worker)
    form = page(client, f"/registry/{household_id}/reviews/new")
    assert 'value="exit"' in form and f'name="revoke" type="checkbox" value="{dibao}"' in form
    response = client.post(
        f"/registry/{household_id}/reviews/new",
        data={
            "reviewed_on": clock.today().isoformat(),
            "outcome": "change",
            "note": "收入增加，转为低保边缘",
            "revoke": str(dibao),
            "propose": "marginal",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.execute(
            sa.select(CategoryAssignment.category, CategoryAssignment.status)
            .where(CategoryAssignment.household_id == household_id)
            .order_by(CategoryAssignment.id)
        ).all()
        assert [(c.value, s) for c, s in rows] == [
            ("dibao", CategoryStatus.REVOKED),
            ("marginal", CategoryStatus.PROPOSED),
        ]


def test_a_continue_review_changes_no_category(app, client, login):
    """Ticked boxes belong to a change; with "continue" they are ignored."""
    household_id = household_in(app)
    dibao = approved_category(app, household_id)
    login(DEMO.community_worker)
    response = client.post(
        f"/registry/{household_id}/reviews/new",
        data={"reviewed_on": clock.today().isoformat(), "outcome": "continue", "revoke": str(dibao)},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(CategoryAssignment, dibao).status is CategoryStatus.APPROVED


def test_exit_and_reenter(app, client, login):
    household_id = household_in(app)
    login(DEMO.community_worker)
    today = clock.today().isoformat()
    no_reason = client.post(f"/registry/{household_id}/exit", data={"on": today, "reason": ""})
    assert no_reason.status_code == 200 and "Please fill this in." in no_reason.get_data(as_text=True)
    assert (
        client.post(f"/registry/{household_id}/exit", data={"on": today, "reason": "迁出本市"}).status_code
        == 302
    )
    with app.app_context():
        assert db.session.get(Household, household_id).status is HouseholdStatus.EXITED
    body = page(client, f"/registry/{household_id}")
    assert "迁出本市" in body and "approved by 李秀英" in body and "Bring back into the registry" in body
    again = client.post(f"/registry/{household_id}/exit", data={"on": today, "reason": "再次"})
    assert again.status_code == 200 and "already left the registry" in again.get_data(as_text=True)
    assert (
        client.post(f"/registry/{household_id}/reenter", data={"on": today, "reason": "返回"}).status_code
        == 302
    )


# --- lists ---------------------------------------------------------------------


def test_list_filters_and_searches(app, client, login):
    household_id = household_in(app, head_name="筛选甲")
    login(DEMO.grid_worker)
    link = f'href="/registry/{household_id}"'
    body = page(client, "/registry/?q=筛选甲")
    assert link in body and "1 member<" in body and "In the registry" in body
    assert link not in page(client, "/registry/?q=筛选甲&status=exited")
    assert link in page(client, "/registry/?q=筛选甲&status=active")


def test_warnings_and_reviews_due(app, client, login):
    long_ago = clock.today() - timedelta(days=400)
    with app.app_context():
        actor = user_by_phone(DEMO.grid_worker)
        household = make_household(
            actor, building=BUILDING, head_name="独居老人甲", today=long_ago, lives_alone=True
        )
        household_id = household.id
    login(DEMO.grid_worker)
    warnings = page(client, "/registry/warnings")
    row = warnings.split(f'href="/registry/{household_id}"')[1].split("</tr>")[0]
    assert "独居老人甲" in row and "Review overdue" in row
    reviews = page(client, "/registry/reviews")
    overdue = reviews.split("Due within 7 days")[0]
    assert "独居老人甲" in overdue


def test_audit_log_shows_who_and_what_never_values(app, client, login):
    household_id = household_in(app, contact_phone="13912340077")
    login(DEMO.community_worker)
    body = page(client, f"/registry/audit?household_id={household_id}")
    assert "张明华" in body and "created" in body and f"household #{household_id}" in body
    assert "13912340077" not in body
    with app.app_context():
        at = db.session.scalar(sa.select(AuditEntry.at).where(AuditEntry.household_id == household_id))
    assert at.astimezone(clock.LOCAL_TZ).strftime("%Y-%m-%d %H:%M") in body  # Beijing time, not UTC
    everything = page(client, "/registry/audit")
    assert "Audit log" in everything


@pytest.mark.parametrize("huge", [2**31, 10**20])
def test_the_audit_log_of_a_household_id_that_cannot_exist_is_empty(client, login, huge):
    """?household_id= past 2**31 - 1 once reached the database and overflowed (a 500)."""
    login(DEMO.community_worker)
    assert "household #" not in page(client, f"/registry/audit?household_id={huge}")


def test_admin_sets_a_city_standard_in_yuan(app, client, login):
    with app.app_context():
        from app.models import City

        city_id = db.session.scalar(sa.select(City.id))
    login(DEMO.admin)
    assert "Add a standard" in page(client, "/registry/standards")
    response = client.post(
        "/registry/standards",
        data={
            "city_id": str(city_id),
            "effective_from": date(2031, 1, 1).isoformat(),
            "monthly_amount": "787",
            "marginal_upper_pct": "200",
            "income_upper_pct": "200",
            "expenditure_upper_pct": "500",
            "rigid_ratio_pct": "150",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        standard = db.session.scalar(
            sa.select(CityStandard).where(CityStandard.effective_from == date(2031, 1, 1))
        )
        assert standard.monthly_amount == 78700
    assert "¥787.00" in page(client, "/registry/standards")
    bad = client.post(
        "/registry/standards",
        data={
            "city_id": str(city_id),
            "monthly_amount": "787",
            "effective_from": "2031-01-01",
            "marginal_upper_pct": "50",
            "income_upper_pct": "200",
            "expenditure_upper_pct": "500",
            "rigid_ratio_pct": "150",
        },
    )
    assert bad.status_code == 200 and "Ratios are percentages above 100" in bad.get_data(as_text=True)


def test_staff_navigation_links_the_registry(client, login):
    login(DEMO.grid_worker)
    home = page(client, "/")
    assert "/registry/warnings" in home and "/registry/approvals" not in home
    client.post("/auth/logout")
    login(DEMO.community_worker)
    assert "/registry/approvals" in page(client, "/")


def test_casework_service_sees_page_writes(app, client, login):
    """The detail page lists what the services hold (one query path, no stale copies)."""
    household_id = household_in(app)
    login(DEMO.grid_worker)
    client.post(f"/registry/{household_id}/causes/new", data={"cause": "old_age", "note": "年老体弱"})
    with app.app_context():
        records = casework.records_of(household_id)
        assert [c.note for c in records.causes] == ["年老体弱"]
    assert "年老体弱" in page(client, f"/registry/{household_id}")


def test_every_form_carries_a_csrf_token(app, client, login, monkeypatch):
    """Tests run with CSRF off; production has it on, so every form must send the token."""
    household_id = household_in(app, id_number=an_id(51))
    spouse = member_id(app, household_id, "李阿婆")
    dibao = approved_category(app, household_id)
    login(DEMO.community_worker)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    base = f"/registry/{household_id}"
    for path in (
        base,
        "/registry/approvals",
        "/registry/new",
        f"{base}/edit",
        f"{base}/exit",
        f"{base}/consent",
        f"{base}/consent/withdraw",
        f"{base}/finances",
        f"{base}/members/new",
        f"{base}/members/{spouse}/edit",
        f"{base}/members/{spouse}/remove",
        f"{base}/members/{spouse}/reveal",
        f"{base}/categories/new",
        f"{base}/categories/{dibao}/revoke",
        f"{base}/causes/new",
        f"{base}/needs/new",
        f"{base}/measures/new",
        f"{base}/follow-ups/new",
        f"{base}/reviews/new",
    ):
        body = page(client, path)
        forms = body.split("<form")[1:]
        assert forms, path
        assert all('name="csrf_token"' in form.split("</form>")[0] for form in forms), path
    assert client.post(f"{base}/causes/new", data={"cause": "illness"}).status_code == 400


def test_looking_at_a_consenting_household_is_audited(app, client, auth):
    """Every look at health, income and ID details leaves a trace (PIPL Art. 51/55), without values."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import AuditEntry
    from tests.factories import make_household, user_by_phone

    with app.app_context():
        worker = user_by_phone(DEMO.grid_worker)
        worker_id = worker.id
        consenting = make_household(worker, head_name="看过户").id
        without = make_household(worker, head_name="无同意户", consent=False).id
    auth.login(DEMO.grid_worker)
    assert client.get(f"/registry/{consenting}").status_code == 200
    assert client.get(f"/registry/{without}").status_code == 200

    with app.app_context():
        views = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "view")).all()
        assert [(v.household_id, v.actor_id) for v in views] == [(consenting, worker_id)]


def test_a_64_bit_id_in_the_url_is_a_404(client, auth):
    auth.login(DEMO.admin)
    assert client.get(f"/registry/{2**63}").status_code == 404

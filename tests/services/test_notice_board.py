"""The notice-board display's data: real visits driven to confirmation, the
comments sanitised, the month's totals against a direct count, and nothing
about the household."""

import json
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app import clock
from app.models import Claim, ClaimStatus, Grid, Household, Need, NeedStatus, Task
from app.services import notice_board, points, tasks, visits
from app.services.errors import NotFound
from app.services.notice_board import sanitise_comment
from tests.conftest import DEMO
from tests.factories import make_household, user_by_phone
from tests.services.test_honour import local
from tests.services.test_visits import path_tail

NOW = local(2031, 3, 20, 18)  # far from the demo data's own visits


@pytest.fixture(autouse=True)
def request_context(app):
    """QR URLs are absolute: building them needs a request (http://localhost/)."""
    with app.test_request_context():
        yield
    clock.freeze(None)


def confirmed_visit(
    household, volunteer, starts, rating, comment, minutes=90, service="housekeeping"
) -> Claim:
    """Post, claim, check in and out, and confirm through the resident's QR link."""
    worker = user_by_phone(DEMO.grid_worker)
    clock.freeze(starts - timedelta(days=1))
    task = tasks.create_task(
        worker,
        tasks.TaskData(
            household_id=household.id,
            service_type_code=service,
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            description="上门服务",
        ),
    )
    tasks.claim_task(volunteer, task.id)
    card = visits.current_card(household.id) or visits.issue_door_card(worker, household.id)
    token = visits.door_token(card)
    clock.freeze(starts + timedelta(minutes=5))
    visits.check_in(volunteer, task.id, token)
    clock.freeze(starts + timedelta(minutes=5 + minutes))
    visits.check_out(volunteer, task.id, token)
    url, _expires = visits.confirmation_link(volunteer, task.id)
    return visits.confirm_visit(path_tail(url, "/c/"), rating, comment)


@pytest.fixture
def month(db):
    """Visits in community 1 in February and March 2031, one of them reversed."""
    worker = user_by_phone(DEMO.grid_worker)
    homes = [make_household(worker, building="公示楼", head_name=f"户主{n}号") for n in range(3)]
    v1, v2 = user_by_phone(DEMO.volunteer), user_by_phone(DEMO.volunteer_2)
    made = {
        "phone": confirmed_visit(
            homes[0], v1, local(2031, 3, 2, 9), 5, "小王修好了水管，有事请打13812345678联系"
        ),
        "meh": confirmed_visit(homes[0], v2, local(2031, 3, 3, 9), 3, "还行吧，下次早点来"),
        "silent": confirmed_visit(homes[1], v1, local(2031, 3, 4, 9), 4, "", minutes=45),
        "long": confirmed_visit(homes[1], v2, local(2031, 3, 5, 9), 5, "非常感谢" * 20, minutes=120),
        "february": confirmed_visit(homes[2], v1, local(2031, 2, 25, 9), 5, "二月的感谢"),
        "false": confirmed_visit(homes[2], v2, local(2031, 3, 6, 9), 5, "假的感谢"),
    }
    clock.freeze(local(2031, 3, 7))
    points.reverse_visit(
        user_by_phone(DEMO.community_worker), made["false"].id, "回访核实未上门", DEMO.password
    )
    clock.freeze(NOW)
    return homes, made


def test_sanitise_comment():
    assert sanitise_comment("电话13812345678") == "电话…"
    assert sanitise_comment("身份证110101199003071234号") == "身份证…号"
    assert sanitise_comment("打 138 1234 5678 或 138-1234-5678") == "打 … 或 …"
    assert sanitise_comment("１２３４５６") == "…"  # full-width digits too
    assert sanitise_comment("3号楼2单元，1234元") == "3号楼2单元，1234元"  # short numbers stay
    cut = sanitise_comment("好" * 80)
    assert len(cut) == 60 and cut.endswith("…")
    assert sanitise_comment("  好  ") == "好"


def test_comments_are_sanitised_masked_and_filtered(db, month):
    homes, made = month
    data = notice_board.display_data(1)
    texts = [c["text"] for c in data["comments"]]
    assert texts[:3] == [("非常感谢" * 20)[:59] + "…", "小王修好了水管，有事请打…联系", "二月的感谢"]
    assert "还行吧，下次早点来" not in texts  # rating 3
    assert "假的感谢" not in texts  # points reversed: the visit was found false
    first = data["comments"][1]
    assert first == {
        "text": "小王修好了水管，有事请打…联系",
        "volunteer": "王*明",
        "service": "家政",
        "date": "2031-03-02",
    }
    assert all(len(t) <= 60 for t in texts)


def test_nothing_about_the_household(db, month):
    homes, made = month
    dumped = json.dumps(notice_board.display_data(1), ensure_ascii=False)
    for home in homes:
        db.session.refresh(home)
        assert home.address not in dumped and home.contact_phone not in dumped
    assert "户主" not in dumped and "公示楼" not in dumped
    assert "13812345678" not in dumped
    for phone in (DEMO.volunteer, DEMO.volunteer_2):
        assert phone not in dumped and user_by_phone(phone).name not in dumped


def test_totals_match_a_direct_count(db, month):
    data = notice_board.display_data(1)
    start, end = local(2031, 3, 1), local(2031, 4, 1)
    reversed_claims = {
        award.claim_id
        for award in db.session.scalars(sa.select(points.LedgerTransaction))
        if points.reversal_of(award.id)
    }
    confirmed = [
        claim
        for claim, grid in db.session.execute(
            sa.select(Claim, Task.grid_id).join(Task).where(Claim.status == ClaimStatus.CONFIRMED)
        ).all()
        if db.session.get(Grid, grid).community_id == 1
        and start <= claim.confirmed_at < end
        and claim.id not in reversed_claims
    ]
    seconds = sum((c.check_out_at - c.check_in_at).total_seconds() for c in confirmed)
    households = {db.session.get(Task, c.task_id).household_id for c in confirmed}
    needs = [
        n
        for n in db.session.scalars(sa.select(Need).where(Need.status == NeedStatus.OPEN))
        if db.session.get(Grid, db.session.get(Household, n.household_id).grid_id).community_id == 1
    ]
    assert data["totals"] == {
        "services": len(confirmed),
        "hours": float((Decimal(seconds) / 3600).quantize(Decimal("0.1"), ROUND_HALF_UP)),
        "households": len(households),
        "open_needs": len(needs),
    }
    assert (len(confirmed), data["totals"]["hours"]) == (4, 5.8)  # 90 + 90 + 45 + 120 minutes = 5.75 h


def test_board_qr_and_the_rest(db, month):
    data = notice_board.display_data(1)
    assert data["community"]["name"] == "阳光社区" and data["month"] == "2031-03"
    assert {v["name"] for v in data["volunteers"]} == {"王*明", "刘*"}
    assert data["volunteers"] and all(
        set(v) == {"rank", "name", "points", "team", "streak_months", "streak_label"}
        for v in data["volunteers"]
    )
    assert urlsplit(data["qr"]["join"]).path == "/auth/register"
    first_grid = db.session.scalar(sa.select(Grid.id).where(Grid.community_id == 1).order_by(Grid.id))
    assert urlsplit(data["qr"]["help"]).path == f"/help/g/{first_grid}"
    assert data["generated_at"].startswith("2031-03-20T10:00")
    assert data["generated_at_local"] == "18:00"
    json.dumps(data)  # JSON-able as it is
    with pytest.raises(NotFound):
        notice_board.display_data(2_000_000_000)
    with pytest.raises(NotFound):
        notice_board.qr_png(1, "other")

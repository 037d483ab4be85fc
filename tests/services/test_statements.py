"""A volunteer's statement without HTTP: running balances, points earned,
reasons in the reader's language, paging at a constant cost, and the XLSX."""

import itertools
from datetime import timedelta
from io import BytesIO

import openpyxl
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app import clock
from app.extensions import db as _db
from app.models import (
    AccountKind,
    Community,
    Partner,
    PartnerKind,
    Reward,
    ServiceType,
    TxKind,
    Voucher,
    VoucherStatus,
)
from app.services import ledger, points, statements
from app.services.errors import Forbidden
from tests.conftest import DEMO
from tests.factories import make_household, user_by_phone
from tests.services.test_points_rules import BASE, drive_visit, volunteer

_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield
    clock.freeze(None)


def wallet(user):
    return ledger.account(AccountKind.VOLUNTEER, user.id)


def donate(user, to, amount: int):
    ledger.post(
        TxKind.DONATION, f"test:donation:{next(_keys)}", "donation", [(wallet(user), -amount), (to, amount)]
    )
    _db.session.commit()


def a_reward(name: str = "大米一袋") -> Reward:
    admin = user_by_phone(DEMO.admin)
    worker = user_by_phone(DEMO.community_worker)
    partner = _db.session.scalar(sa.select(Partner).where(Partner.name == "测试商户"))
    if partner is None:
        street_id = _db.session.get(Community, worker.community_id).street_id
        partner = Partner(
            name="测试商户", kind=PartnerKind.MERCHANT, street_id=street_id, created_by_id=admin.id
        )
        _db.session.add(partner)
        _db.session.flush()
    reward = Reward(
        partner_id=partner.id,
        community_id=worker.community_id,
        name=name,
        point_price=3,
        stock=0,
        valid_from=clock.today(),
        created_by_id=admin.id,
    )
    _db.session.add(reward)
    _db.session.flush()
    return reward


def redeem(user, reward: Reward) -> Voucher:
    """A voucher and its REDEMPTION transaction, written directly (the bank's pages are elsewhere)."""
    n = next(_keys)
    voucher = Voucher(
        reward_id=reward.id,
        holder_id=user.id,
        price=reward.point_price,
        code=f"T{n:07d}",
        nonce=f"n{n}",
        status=VoucherStatus.ISSUED,
        expires_at=clock.now() + timedelta(days=7),
    )
    _db.session.add(voucher)
    _db.session.flush()
    sink = ledger.account(AccountKind.SINK)
    ledger.post(
        TxKind.REDEMPTION,
        f"test:redeem:{n}",
        "redeem",
        [(wallet(user), -voucher.price), (sink, voucher.price)],
        voucher_id=voucher.id,
    )
    _db.session.commit()
    return voucher


def refund(user, voucher: Voucher) -> None:
    sink = ledger.account(AccountKind.SINK)
    ledger.post(
        TxKind.REFUND,
        f"test:refund:{voucher.id}",
        "refund",
        [(sink, -voucher.price), (wallet(user), voucher.price)],
        voucher_id=voucher.id,
    )
    _db.session.commit()


@pytest.fixture
def history(db):
    """Volunteer 1: two visits (one reversed), donations to the pool and a household,
    a redemption and its refund. Returns the facts the statement must show."""
    who, worker = volunteer(), user_by_phone(DEMO.community_worker)
    first = drive_visit(who, BASE, 60)  # 15
    second = drive_visit(who, BASE + timedelta(days=1), 100, expected=60)  # 10 + 90 min paid (7.5 → 8) = 18
    clock.freeze(BASE + timedelta(days=2))
    points.reverse_visit(worker, first, "核实未上门服务", DEMO.password)
    donate(who, ledger.account(AccountKind.POOL, worker.community_id), 4)
    household = make_household(user_by_phone(DEMO.grid_worker), head_name="测试户主")
    donate(who, ledger.account(AccountKind.HOUSEHOLD, household.id), 2)
    reward = a_reward("大米一袋")
    voucher = redeem(who, reward)
    refund(who, voucher)
    return {"who": who, "first": first, "second": second}


def test_statement_balances_run_and_earned_excludes_reversed(db, history):
    who = history["who"]
    found = statements.statement(who, per_page=50)
    lines = found.lines
    kinds = [line.kind for line in lines]
    assert kinds == [
        TxKind.REFUND,
        TxKind.REDEMPTION,
        TxKind.DONATION,
        TxKind.DONATION,
        TxKind.REVERSAL,
        TxKind.AWARD,
        TxKind.AWARD,
    ]
    assert [line.amount for line in lines] == [3, -3, -2, -4, -15, 18, 15]
    assert found.balance == 15 + 18 - 15 - 4 - 2 - 3 + 3 == 12
    assert lines[0].balance_after == found.balance
    for newer, older in itertools.pairwise(lines):
        assert newer.balance_after - newer.amount == older.balance_after
    assert lines[-1].balance_after == lines[-1].amount  # the first entry ever
    assert found.earned_total == 18 == statements.earned_total(who.id)
    assert found.page.total == 7


def test_a_later_page_keeps_the_running_balance(db, history):
    whole = statements.statement(history["who"], per_page=50).lines
    second_page = statements.statement(history["who"], page=2, per_page=3)
    assert [(line.id, line.balance_after) for line in second_page.lines] == [
        (line.id, line.balance_after) for line in whole[3:6]
    ]
    assert second_page.page.pages == 3 and second_page.page.has_prev


def test_reasons_are_rendered_in_the_readers_language(db, history):
    housekeeping = db.session.get(ServiceType, "housekeeping")
    day = clock.local_date(BASE + timedelta(days=1)).isoformat()
    with force_locale("en"):
        lines = statements.statement(history["who"], per_page=50).lines
        reasons = {}
        for line in lines:  # newest first: the second visit's award, not the reversed one
            reasons.setdefault(line.kind, line.reason)
        donations = [line.reason for line in lines if line.kind is TxKind.DONATION]
        assert lines[0].kind_label == "Refunded"
    award = reasons[TxKind.AWARD]
    assert award.startswith(f"{housekeeping.name_en} on {day}, 90 minutes paid: ")
    assert "10 per visit + 5 per hour × 90 min = 8 (rounded half up) = 18" in award
    assert "(100 min checked in; at most 1.5 × the expected time is paid)" in award
    assert "核实未上门服务" in reasons[TxKind.REVERSAL] and housekeeping.name_en in reasons[TxKind.REVERSAL]
    assert "大米一袋" in reasons[TxKind.REDEMPTION] and "大米一袋" in reasons[TxKind.REFUND]
    assert donations == ["Donated to a household (测**主)", "Donated to the community pool"]
    with force_locale("zh"):
        award_zh = next(
            line.reason for line in statements.statement(history["who"]).lines if line.kind is TxKind.AWARD
        )
    assert housekeeping.name_zh in award_zh and housekeeping.name_en not in award_zh and day in award_zh


def test_the_capped_arithmetic_is_explained():
    details = {
        "points_per_visit": 10,
        "points_per_hour": 5,
        "minutes_checked_in": 60,
        "minutes_paid": 60,
        "hour_points": 5,
        "rounding": "down",
        "urgency_bonus": 5,
        "before_cap": 20,
        "daily_cap": 100,
        "already_today": 92,
        "points": 8,
    }
    with force_locale("en"):
        text = statements.award_arithmetic(details)
    assert text == (
        "10 per visit + 5 per hour × 60 min = 5 (rounded down) + urgency bonus 5 = 20; "
        "daily cap 100 with 92 already earned that day: 8 paid"
    )


def test_no_account_yet_is_an_empty_statement(db):
    found = statements.statement(volunteer(2))
    assert (found.balance, found.earned_total, found.lines, found.page.total) == (0, 0, [], 0)


def test_only_volunteers_have_a_statement(db):
    with pytest.raises(Forbidden):
        statements.statement(user_by_phone(DEMO.grid_worker))
    with pytest.raises(Forbidden):
        statements.statement_xlsx(user_by_phone(DEMO.resident))


def count_statements(call) -> int:
    seen = []

    def count(*_args):
        seen.append(1)

    sa.event.listen(_db.engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        sa.event.remove(_db.engine, "before_cursor_execute", count)
    return len(seen)


def test_a_page_costs_the_same_queries_for_3_rows_and_for_9(db):
    reward = a_reward("食用油")
    small, big = volunteer(1), volunteer(2)
    for who, visits_made in ((small, 1), (big, 3)):
        for n in range(visits_made):
            drive_visit(who, BASE + timedelta(days=n, hours=4 if who is big else 0), 60)
            clock.freeze(BASE + timedelta(days=n, hours=8))
            donate(
                who, ledger.account(AccountKind.POOL, user_by_phone(DEMO.community_worker).community_id), 1
            )
            redeem(who, reward)
    assert len(statements.statement(small).lines) == 3 and len(statements.statement(big).lines) == 9
    _db.session.expire_all()
    few = count_statements(lambda: statements.statement(small))
    _db.session.expire_all()
    many = count_statements(lambda: statements.statement(big))
    assert few == many and few > 0


def test_xlsx_has_every_entry_with_headings_in_the_readers_language(db, history):
    with force_locale("en"):
        data = statements.statement_xlsx(history["who"])
        lines = statements.statement(history["who"], per_page=50).lines
        sheet = openpyxl.load_workbook(BytesIO(data)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == ("Date and time", "Kind", "Points", "Balance after", "Reason")
        assert len(rows) == 1 + len(lines) == 8
        for row, line in zip(rows[1:], lines, strict=True):
            assert abs(row[0] - line.at.astimezone(clock.LOCAL_TZ).replace(tzinfo=None)) < timedelta(
                seconds=1
            )
            assert row[1:] == (str(line.kind_label), line.amount, line.balance_after, str(line.reason))
    with force_locale("zh"):
        zh = openpyxl.load_workbook(BytesIO(statements.statement_xlsx(history["who"]))).active
    assert zh.max_row == 8 and zh.cell(row=2, column=3).value == 3

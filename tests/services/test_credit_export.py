"""The monthly export for the city credit system (海贝分), checked against a
direct computation from the ledger rows, for the system, an administrator
and street officers; CSV and JSON renderings; the audit log."""

import csv
import io
import json
from collections import defaultdict
from dataclasses import asdict
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.models import (
    AccountKind,
    AuditEntry,
    Community,
    Grid,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Role,
    TxKind,
    User,
)
from app.services import credit_export, ledger, points
from app.services.errors import Forbidden, InvalidInput
from tests.conftest import DEMO
from tests.factories import make_tree, make_user, user_by_phone
from tests.services.test_points_rules import BASE, drive_visit, volunteer
from tests.services.test_statements import a_reward, donate, redeem, refund


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield
    clock.freeze(None)


@pytest.fixture
def march(db):
    """Activity in March and April 2031 in the demo street and in another street."""
    worker = user_by_phone(DEMO.community_worker)
    one, two = volunteer(1), volunteer(2)
    first = drive_visit(one, BASE, 60)  # 2031-03-10
    drive_visit(one, BASE + timedelta(days=1), 60)
    clock.freeze(BASE + timedelta(days=2))
    points.reverse_visit(worker, first, "核实未上门服务", DEMO.password)
    donate(one, ledger.account(AccountKind.POOL, worker.community_id), 4)
    clock.freeze(BASE + timedelta(days=3))
    refund(one, redeem(one, a_reward()))
    redeem(one, a_reward("洗衣液"))
    late_reversed = drive_visit(two, BASE + timedelta(days=5), 60)
    drive_visit(two, BASE + timedelta(days=23), 60)  # 2031-04-02
    clock.freeze(BASE + timedelta(days=24))
    points.reverse_visit(worker, late_reversed, "回访发现未服务", DEMO.password)  # reversed in April
    tree = make_tree("外街")
    far_worker = make_user(Role.GRID_WORKER, grid_id=tree["grids"][0].id)
    far_volunteer = make_user(Role.VOLUNTEER, grid_id=tree["grids"][0].id)
    drive_visit(far_volunteer, BASE + timedelta(days=10), 60, worker=far_worker)
    clock.freeze(BASE + timedelta(days=31))  # 2031-04-10
    return {"one": one, "two": two, "far": far_volunteer, "far_street": tree["street"]}


def direct(year: int, month: int, communities: set[int] | None = None) -> list[dict]:
    """The export computed in Python from every ledger row, the slow obvious way."""
    from app.extensions import db

    first = clock.local_day_bounds(credit_export.month_bounds(year, month)[0])[0]
    after = clock.local_day_bounds(credit_export.month_bounds(year, month)[1])[0]
    txs = {tx.id: tx for tx in db.session.scalars(sa.select(LedgerTransaction))}
    reversed_ids = {tx.reverses_id for tx in txs.values() if tx.reverses_id}
    accounts = {a.id: a for a in db.session.scalars(sa.select(LedgerAccount))}
    sums: dict[int, dict] = {}
    local_hits: dict[int, int] = defaultdict(int)
    for entry in db.session.scalars(sa.select(LedgerEntry)):
        tx, account = txs[entry.transaction_id], accounts[entry.account_id]
        if account.kind is not AccountKind.VOLUNTEER or not first <= tx.created_at < after:
            continue
        row = sums.setdefault(
            account.owner_id, {"earned": 0, "reversed": 0, "donated": 0, "redeemed": 0, "refunded": 0}
        )
        placed = communities is None or tx.community_id in communities
        if tx.kind is TxKind.AWARD and placed and tx.id not in reversed_ids:
            row["earned"] += entry.amount
        elif tx.kind is TxKind.REVERSAL and placed:
            row["reversed"] -= entry.amount
        elif tx.kind is TxKind.DONATION:
            row["donated"] -= entry.amount
        elif tx.kind is TxKind.REDEMPTION:
            row["redeemed"] -= entry.amount
        elif tx.kind is TxKind.REFUND:
            row["refunded"] += entry.amount
        if tx.kind in (TxKind.AWARD, TxKind.REVERSAL) and placed:
            local_hits[account.owner_id] += 1
    rows = []
    for user_id in sorted(sums):
        if communities is not None and not local_hits[user_id]:
            continue
        user = db.session.get(User, user_id)
        grid = db.session.get(Grid, user.grid_id)
        community = db.session.get(Community, grid.community_id)
        rows.append(
            {
                "user_id": user_id,
                "name": user.name,
                "phone": user.phone,
                "community": community.name,
                **sums[user_id],
            }
        )
    return rows


def as_dicts(rows) -> list[dict]:
    return [asdict(row) for row in rows]


def test_the_month_for_the_system_and_an_administrator(db, march):
    expected = direct(2031, 3)
    assert as_dicts(credit_export.monthly_points(None, 2031, 3)) == expected
    assert as_dicts(credit_export.monthly_points(user_by_phone(DEMO.admin), 2031, 3)) == expected
    by_user = {row["user_id"]: row for row in expected}
    one, two, far = march["one"], march["two"], march["far"]
    assert list(by_user) == sorted([one.id, two.id, far.id])
    assert by_user[one.id] == {
        "user_id": one.id,
        "name": one.name,
        "phone": one.phone,
        "community": "阳光社区",
        "earned": 15,  # two visits of 15, one reversed
        "reversed": 15,
        "donated": 4,
        "redeemed": 6,
        "refunded": 3,
    }
    assert (by_user[two.id]["earned"], by_user[two.id]["reversed"]) == (
        0,
        0,
    )  # its award was reversed in April


def test_april_counts_the_reversal_made_in_april(db, march):
    rows = {row.user_id: row for row in credit_export.monthly_points(None, 2031, 4)}
    assert as_dicts(rows.values()) == direct(2031, 4)
    assert (rows[march["two"].id].earned, rows[march["two"].id].reversed) == (15, 15)
    assert march["one"].id not in rows


def test_a_street_officer_sees_the_volunteers_who_earned_in_the_street(db, march):
    officer = user_by_phone(DEMO.street_officer)
    demo_communities = set(
        db.session.scalars(sa.select(Community.id).where(Community.street_id == officer.street_id))
    )
    rows = credit_export.monthly_points(officer, 2031, 3)
    assert as_dicts(rows) == direct(2031, 3, demo_communities)
    assert march["far"].id not in {row.user_id for row in rows}
    far_officer = make_user(Role.STREET_OFFICER, street_id=march["far_street"].id)
    far_rows = credit_export.monthly_points(far_officer, 2031, 3)
    assert [row.user_id for row in far_rows] == [march["far"].id]
    assert far_rows[0].earned == 15


@pytest.mark.parametrize("phone", [DEMO.community_worker, DEMO.grid_worker, DEMO.volunteer, DEMO.partner])
def test_only_administrators_and_street_officers_export(db, phone):
    with pytest.raises(Forbidden):
        credit_export.monthly_points(user_by_phone(phone), 2026, 1)


@pytest.mark.parametrize(
    ("year", "month"), [(2031, 5), (2031, 13), (2031, 0), (1999, 12), ("2031", 3), (True, 3)]
)
def test_impossible_or_future_months_are_refused(db, march, year, month):
    with pytest.raises(InvalidInput) as error:
        credit_export.monthly_points(None, year, month)
    assert error.value.code == "invalid_month"


def test_csv_has_a_bom_and_the_rows(db, march):
    admin = user_by_phone(DEMO.admin)
    data = credit_export.export_month(admin, 2031, 3, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    assert tuple(reader.fieldnames) == credit_export.FIELDS
    expected = [{key: str(value) for key, value in row.items()} for row in direct(2031, 3)]
    assert list(reader) == expected
    assert march["one"].name in data.decode("utf-8-sig")


def test_json_has_the_month_and_the_rows(db, march):
    data = json.loads(credit_export.export_month(None, 2031, 3, "json"))
    assert data == {"month": "2031-03", "rows": direct(2031, 3)}


def test_each_export_is_audit_logged_without_values(db, march):
    admin = user_by_phone(DEMO.admin)
    credit_export.export_month(admin, 2031, 3, "json")
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "export", AuditEntry.object_type == "points_month")
    )
    assert entry is not None and entry.actor_id == admin.id and "2031-03" in entry.note
    for row in direct(2031, 3):
        assert row["name"] not in entry.note and row["phone"] not in entry.note


def test_an_unknown_format_is_refused(db):
    with pytest.raises(InvalidInput) as error:
        credit_export.export_month(None, 2026, 1, "xml")
    assert error.value.code == "invalid_format"

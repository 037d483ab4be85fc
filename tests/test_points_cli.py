"""`flask ledger-check` and `flask points-export`."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import AccountKind, LedgerAccount
from tests.conftest import DEMO
from tests.services.test_points_rules import BASE, drive_visit, volunteer


@pytest.fixture(autouse=True)
def unfreeze():
    yield
    clock.freeze(None)


def test_ledger_check_passes_on_the_demo_data(runner):
    result = runner.invoke(args=["ledger-check"])
    assert result.exit_code == 0, result.output
    assert "transactions" in result.output and "PROBLEM" not in result.output


def test_ledger_check_fails_on_a_broken_cached_balance(app, runner):
    with app.app_context():
        account = db.session.scalar(
            sa.select(LedgerAccount).where(LedgerAccount.kind == AccountKind.VOLUNTEER).limit(1)
        )
        db.session.execute(
            sa.update(LedgerAccount)
            .where(LedgerAccount.id == account.id)
            .values(balance=LedgerAccount.balance + 7)
        )
        db.session.commit()
        account_id = account.id
    result = runner.invoke(args=["ledger-check"])
    assert result.exit_code == 1
    assert f"PROBLEM: account {account_id}: cached" in result.output


@pytest.fixture
def march(app):
    with app.app_context(), app.test_request_context():
        drive_visit(volunteer(), BASE, 60)
    clock.freeze(BASE + timedelta(days=31))


def test_points_export_json_to_stdout(runner, march):
    result = runner.invoke(args=["points-export", "--month", "2031-03", "--format", "json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout_bytes)
    assert body["month"] == "2031-03"
    assert [(row["phone"], row["earned"]) for row in body["rows"]] == [(DEMO.volunteer, 15)]


def test_points_export_csv_to_a_file(runner, march, tmp_path):
    target = tmp_path / "march.csv"
    result = runner.invoke(args=["points-export", "--month", "2031-03", "--output", str(target)])
    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfuser_id,name,phone,community,earned")
    assert DEMO.volunteer in data.decode("utf-8-sig")


@pytest.mark.parametrize(("month", "code"), [("2031-3", 2), ("March", 2), ("2099-01", 1)])
def test_points_export_refuses_bad_months(runner, month, code):
    result = runner.invoke(args=["points-export", "--month", month])
    assert result.exit_code == code


def test_points_export_refuses_an_unknown_format(runner):
    assert runner.invoke(args=["points-export", "--month", "2026-01", "--format", "xml"]).exit_code == 2

"""The points pages through the client: the statement and its XLSX, staff
ledger views and their scope, the rules page, reversal with a fresh
password, the awards list and the monthly export page."""

import csv
import io
from datetime import timedelta
from io import BytesIO

import openpyxl
import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import AccountKind, LedgerAccount, LedgerTransaction, PointPolicy, PointRate
from app.services import ledger, points
from tests.conftest import DEMO, count_rows
from tests.services.test_points_rules import BASE, drive_visit, volunteer


@pytest.fixture(autouse=True)
def unfreeze():
    yield
    clock.freeze(None)


@pytest.fixture
def paid(app):
    """(claim id, volunteer id) of volunteer 1's visit in community 1, paid 15 points."""
    with app.app_context(), app.test_request_context():
        return drive_visit(volunteer(), BASE, 60), volunteer().id


def login(client, phone, lang="en"):
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"phone": phone, "password": DEMO.password})
    assert response.status_code == 302
    client.post(f"/lang/{lang}")


def balance(app, user_id) -> int:
    with app.app_context():
        return ledger.balance_of(AccountKind.VOLUNTEER, user_id)


# --- the statement ---------------------------------------------------------------------------


def test_statement_page_and_xlsx(app, client, paid):
    login(client, DEMO.volunteer)
    page = client.get("/me/points")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="balance">15<' in html and 'id="earned-total">15<' in html
    assert "Housekeeping on 2031-03-10, 60 minutes paid" in html and "+15" in html
    response = client.get("/me/points.xlsx")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(openpyxl.load_workbook(BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Date and time", "Kind", "Points") and rows[1][2:4] == (15, 15)


@pytest.mark.parametrize("url", ["/me/points", "/me/points.xlsx"])
def test_statement_is_for_volunteers(client, url):
    assert client.get(url).status_code == 302  # to the login page
    login(client, DEMO.grid_worker)
    assert client.get(url).status_code == 403


# --- ledger views ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "status"),
    [
        (DEMO.community_worker, 200),
        (DEMO.street_officer, 200),
        (DEMO.admin, 200),
        (DEMO.community_worker_2, 404),  # another community's volunteer
        (DEMO.grid_worker, 403),
        (DEMO.volunteer, 403),
    ],
)
def test_a_volunteers_account_in_and_out_of_scope(client, paid, phone, status):
    _claim_id, volunteer_id = paid
    login(client, phone)
    response = client.get(f"/staff/points/accounts/volunteer/{volunteer_id}")
    assert response.status_code == status
    if status == 200:
        html = response.get_data(as_text=True)
        assert 'id="cached-balance">15<' in html and 'id="entries-sum">15<' in html
        assert "Housekeeping on 2031-03-10" in html
        assert "The cached balance differs" not in html


def test_the_account_list_follows_the_scope(client, paid):
    _claim_id, volunteer_id = paid
    mine = f"/staff/points/accounts/volunteer/{volunteer_id}"
    issue = "/staff/points/accounts/issue/0"
    login(client, DEMO.community_worker)
    html = client.get("/staff/points/accounts").get_data(as_text=True)
    assert mine in html and issue not in html
    assert client.get(issue).status_code == 404
    assert client.get("/staff/points/accounts/nonsense/1").status_code == 404
    login(client, DEMO.community_worker_2)
    assert mine not in client.get("/staff/points/accounts").get_data(as_text=True)
    login(client, DEMO.admin)
    html = client.get("/staff/points/accounts").get_data(as_text=True)
    assert mine in html and issue in html
    assert client.get(issue).status_code == 200
    only_issue = client.get("/staff/points/accounts?kind=issue").get_data(as_text=True)
    assert issue in only_issue and mine not in only_issue


def test_an_account_page_shows_a_cached_balance_that_drifted(app, client, paid):
    _claim_id, volunteer_id = paid
    with app.app_context():
        db.session.execute(
            sa.update(LedgerAccount)
            .where(LedgerAccount.kind == AccountKind.VOLUNTEER, LedgerAccount.owner_id == volunteer_id)
            .values(balance=999)
        )
        db.session.commit()
    login(client, DEMO.community_worker)
    html = client.get(f"/staff/points/accounts/volunteer/{volunteer_id}").get_data(as_text=True)
    assert 'id="cached-balance">999<' in html and 'id="entries-sum">15<' in html
    assert "The cached balance differs" in html


# --- the rules page ------------------------------------------------------------------------------


def test_a_rate_added_on_the_rules_page_pays_later_visits_only(app, client, paid):
    early, volunteer_id = paid
    login(client, DEMO.admin)
    assert client.get("/staff/points/rules").status_code == 200
    start = clock.local_date(BASE) + timedelta(days=2)
    rates = count_rows_in(app, PointRate)
    response = client.post(
        "/staff/points/rules/rates",
        data={
            "service_type": "housekeeping",
            "effective_from": start.isoformat(),
            "points_per_visit": 20,
            "points_per_hour": 10,
        },
    )
    assert response.status_code == 302 and count_rows_in(app, PointRate) == rates + 1
    html = client.get("/staff/points/rules").get_data(as_text=True)
    assert start.isoformat() in html and "from a later day" in html
    with app.app_context(), app.test_request_context():
        late = drive_visit(volunteer(), BASE + timedelta(days=3), 60)
        assert points.award_of(late).details["points_per_visit"] == 20
        assert points.award_of(early).details["points_per_visit"] == 10
    assert balance(app, volunteer_id) == 15 + 30


def count_rows_in(app, model) -> int:
    with app.app_context():
        return count_rows(model)


def test_a_rate_starting_in_the_past_is_refused_on_the_form(app, client, paid):
    login(client, DEMO.admin)
    rates = count_rows_in(app, PointRate)
    yesterday = clock.local_date(clock.now()) - timedelta(days=1)
    response = client.post(
        "/staff/points/rules/rates",
        data={
            "service_type": "housekeeping",
            "effective_from": yesterday.isoformat(),
            "points_per_visit": 20,
            "points_per_hour": 10,
        },
    )
    assert response.status_code == 422
    assert 'id="effective_from-errors"' in response.get_data(as_text=True)
    assert count_rows_in(app, PointRate) == rates


def test_a_policy_is_added_and_others_may_not_see_the_rules(app, client):
    login(client, DEMO.admin)
    policies = count_rows_in(app, PointPolicy)
    response = client.post(
        "/staff/points/rules/policies",
        data={
            "effective_from": clock.today().isoformat(),
            "urgent_bonus": 6,
            "critical_bonus": 12,
            "daily_cap": 80,
            "rounding": "down",
        },
    )
    assert response.status_code == 302 and count_rows_in(app, PointPolicy) == policies + 1
    assert "in force today" in client.get("/staff/points/rules").get_data(as_text=True)
    login(client, DEMO.community_worker)
    assert client.get("/staff/points/rules").status_code == 403


# --- reversal -------------------------------------------------------------------------------------


def test_reversal_through_the_page(app, client, paid):
    claim_id, volunteer_id = paid
    url = f"/staff/points/visits/{claim_id}/reverse"
    login(client, DEMO.community_worker)
    html = client.get(url).get_data(as_text=True)
    assert "王小明" in html and "10 per visit + 5 per hour × 60 min" in html
    rows = count_rows_in(app, LedgerTransaction)

    wrong = client.post(url, data={"reason": "核实未上门服务", "password": "not-my-password"})
    assert wrong.status_code == 422
    assert 'id="password-errors"' in wrong.get_data(as_text=True)
    assert count_rows_in(app, LedgerTransaction) == rows and balance(app, volunteer_id) == 15

    short = client.post(url, data={"reason": "短", "password": DEMO.password})
    assert short.status_code == 422 and 'id="reason-errors"' in short.get_data(as_text=True)

    done = client.post(url, data={"reason": "核实未上门服务", "password": DEMO.password})
    assert done.status_code == 302 and done.location.endswith(url)
    assert balance(app, volunteer_id) == 0 and count_rows_in(app, LedgerTransaction) == rows + 1
    assert "核实未上门服务" in client.get(url).get_data(as_text=True)

    again = client.post(url, data={"reason": "再撤销一次", "password": DEMO.password})
    assert again.status_code == 422
    assert "These points have already been reversed." in again.get_data(as_text=True)
    assert count_rows_in(app, LedgerTransaction) == rows + 1


def test_reversal_page_scope_and_role(client, paid):
    claim_id, _volunteer_id = paid
    url = f"/staff/points/visits/{claim_id}/reverse"
    login(client, DEMO.community_worker_2)
    assert client.get(url).status_code == 404
    assert client.post(url, data={"reason": "核实未上门服务", "password": DEMO.password}).status_code == 404
    login(client, DEMO.grid_worker)
    assert client.get(url).status_code == 403
    login(client, DEMO.community_worker)
    assert client.get("/staff/points/visits/99999999/reverse").status_code == 404


def test_an_unpaid_visit_says_so_on_the_form(app, client):
    with app.app_context(), app.test_request_context():
        claim_id = drive_visit(volunteer(), BASE, 60, confirm=False)
    login(client, DEMO.community_worker)
    url = f"/staff/points/visits/{claim_id}/reverse"
    response = client.post(url, data={"reason": "核实未上门服务", "password": DEMO.password})
    assert response.status_code == 422
    assert "This visit has not been paid any points." in response.get_data(as_text=True)


def test_the_awards_list_and_the_task_page_link_to_reversal(app, client, paid):
    claim_id, _volunteer_id = paid
    link = f"/staff/points/visits/{claim_id}/reverse"
    login(client, DEMO.community_worker)
    assert link in client.get("/staff/points/awards").get_data(as_text=True)
    with app.app_context():
        from app.models import Claim

        task_id = db.session.get(Claim, claim_id).task_id
    assert link in client.get(f"/staff/tasks/{task_id}").get_data(as_text=True)
    client.post(link, data={"reason": "核实未上门服务", "password": DEMO.password})
    reversals = client.get("/staff/points/awards").get_data(as_text=True)
    assert 'id="reversals"' in reversals and "核实未上门服务" in reversals
    login(client, DEMO.community_worker_2)
    assert link not in client.get("/staff/points/awards").get_data(as_text=True)
    login(client, DEMO.grid_worker)
    assert link not in client.get(f"/staff/tasks/{task_id}").get_data(as_text=True)


# --- the monthly export ---------------------------------------------------------------------------


def test_the_export_page_downloads_csv_and_json(app, client, paid):
    clock.freeze(BASE + timedelta(days=31))
    login(client, DEMO.street_officer)
    page = client.get("/staff/points/export")
    assert page.status_code == 200 and 'value="2031-03"' in page.get_data(as_text=True)
    response = client.post("/staff/points/export", data={"month": "2031-03", "csv": "CSV"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [(r["phone"], r["earned"]) for r in rows] == [(DEMO.volunteer, "15")]
    response = client.post("/staff/points/export", data={"month": "2031-03", "json": "JSON"})
    assert response.mimetype == "application/json" and response.get_json()["rows"][0]["earned"] == 15


@pytest.mark.parametrize("month", ["2031-13", "2099-01", "march"])
def test_the_export_page_refuses_bad_months(client, month):
    login(client, DEMO.admin)
    response = client.post("/staff/points/export", data={"month": month, "csv": "CSV"})
    assert response.status_code == 422 and 'id="month-errors"' in response.get_data(as_text=True)


def test_the_export_is_not_for_community_workers(client):
    login(client, DEMO.community_worker)
    assert client.get("/staff/points/export").status_code == 403
    assert client.post("/staff/points/export", data={"month": "2026-01", "csv": "CSV"}).status_code == 403

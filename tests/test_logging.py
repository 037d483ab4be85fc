"""Request logs: one JSON line per request with a request id, and no secret in any log record.

The secrets test drives real requests (logins, API tokens, QR links, an ID
reveal, an XLSX import, finances) with every logger captured, SQLAlchemy's
statements included, and greps everything captured.
"""

import json
import logging
from datetime import timedelta
from io import BytesIO
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask

from app import clock
from app.extensions import db
from app.logging_setup import (
    JsonFormatter,
    RequestIdFilter,
    TokenPathFilter,
    configure_logging,
    mask_path,
    request_id_from,
)
from app.models import Member, Relation, Task
from app.services import visits
from app.services.households import MemberData, add_member
from tests.conftest import DEMO
from tests.factories import make_household, user_by_phone
from tests.services.test_ledger_xlsx import ledger_file, ledger_row, person_id
from tests.services.test_visits import decode_qr, visit_task

PHONE = "13987654321"  # the household's contact phone
INCOME = "8765.43"  # yuan, stored as 876543 fen


@pytest.fixture
def log_everything(caplog):
    """Every logger at DEBUG, SQL statements at INFO (DEBUG would add result rows)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")


@pytest.fixture
def app(log_everything, app):
    """The app, with logging turned up before the test's database connection is
    opened: SQLAlchemy decides whether to log when a connection is made."""
    return app


def captured_text(caplog) -> str:
    """Everything a log handler could write: messages, raw args, request fields, tracebacks."""
    formatter = JsonFormatter()
    return "\n".join(f"{formatter.format(r)} {r.args!r} {r.msg!r}" for r in caplog.records)


def request_records(caplog) -> list[dict]:
    return [r.http for r in caplog.records if r.name == "app.request"]


def login(client, phone: str, password: str = DEMO.password) -> None:
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"phone": phone, "password": password})
    assert response.status_code == 302


# --- no secrets ------------------------------------------------------------------


def test_no_secret_reaches_any_log(app, client, caplog):
    with app.app_context(), app.test_request_context():
        worker = user_by_phone(DEMO.grid_worker)
        household = make_household(worker, building="日志楼", contact_phone=PHONE)
        id_number = person_id(777, region="320102")
        add_member(
            worker,
            household.id,
            MemberData(name="李阿婆", relation=Relation.SPOUSE, id_number=id_number),
            clock.today(),
        )
        household_id = household.id
        spouse = db.session.scalar(
            sa.select(Member.id).where(Member.household_id == household_id, Member.name == "李阿婆")
        )
        task, card = visit_task()
        task_id, starts_at = task.id, task.starts_at
        door_token = visits.door_token(card)
        grid_id = worker.grid_id
    imported_id = person_id(778, region="320102")
    secrets = {"password": DEMO.password, "id number": id_number, "imported id": imported_id}
    secrets |= {"phone": PHONE, "income": INCOME, "income in fen": "876543", "door token": door_token}

    # A password login, and a community worker revealing a full ID number.
    login(client, DEMO.community_worker)
    path = f"/registry/{household_id}/members/{spouse}/reveal"
    revealed = client.post(path, data={"password": DEMO.password})
    assert id_number in revealed.get_data(as_text=True)

    # Finances and an XLSX import with ID numbers, by the grid worker.
    login(client, DEMO.grid_worker)
    month = clock.today().replace(day=1) - timedelta(days=1)
    response = client.post(
        f"/registry/{household_id}/finances", data={"month": month.strftime("%Y-%m"), "income": INCOME}
    )
    assert response.status_code == 302
    workbook = ledger_file([ledger_row("N1", grid_id, 778, id_number=imported_id, contact_phone=PHONE)])
    response = client.post(
        "/registry/import",
        data={"file": (BytesIO(workbook), "ledger.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert PHONE in client.get(f"/registry/{household_id}").get_data(as_text=True)

    # An API token, issued and used.
    response = client.post("/api/v1/auth/token", json={"phone": DEMO.volunteer, "password": DEMO.password})
    bearer = response.get_json()["token"]
    secrets["bearer token"] = bearer
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {bearer}"}).status_code == 200

    # The door card URL, then the resident's confirmation URL.
    clock.freeze(starts_at + timedelta(minutes=5))
    try:
        login(client, DEMO.volunteer)
        assert client.get(f"/d/{door_token}").status_code == 200
        assert client.post(f"/d/{door_token}/check-in", data={"task_id": task_id}).status_code == 302
        clock.freeze(starts_at + timedelta(hours=1))
        assert client.post(f"/d/{door_token}/check-out", data={"task_id": task_id}).status_code == 302
        confirm_path = urlsplit(decode_qr(client.get(f"/visits/{task_id}/confirmation.png").data)).path
        secrets["confirmation token"] = confirm_path.removeprefix("/c/")
        resident = app.test_client()
        assert resident.get(confirm_path).status_code == 200
        assert resident.post(confirm_path, data={"rating": "5", "comment": "谢谢"}).status_code == 302
    finally:
        clock.freeze(None)
    with app.app_context():
        assert db.session.get(Task, task_id).status.name == "VERIFIED"

    text = captured_text(caplog)
    leaked = [name for name, value in secrets.items() if value in text]
    assert leaked == []
    # The capture really saw statements and requests: a leak would have shown.
    assert "parameters hidden" in text
    assert any(r.name.startswith("sqlalchemy.engine") and "member" in r.getMessage() for r in caplog.records)
    paths = {f"{r['method']} {r['path']}" for r in request_records(caplog)}
    assert {"GET /d/…", "POST /d/…/check-in", "GET /c/…", "POST /c/…", "POST /registry/import"} <= paths


def test_hide_parameters_is_on_in_every_environment(app):
    from config import load_config

    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
    assert load_config("development")["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
    with app.app_context():
        assert db.engine.hide_parameters is True


# --- the request line ------------------------------------------------------------


def test_one_json_line_per_request_with_the_user_id(app, client, caplog):
    login(client, DEMO.grid_worker)
    with app.app_context():
        user_id = user_by_phone(DEMO.grid_worker).id
    caplog.clear()
    response = client.get("/registry/?q=13800000003&token=abc")
    assert response.status_code == 200
    [record] = [r for r in caplog.records if r.name == "app.request"]
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["logger"] == "app.request"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/registry/", 200)
    assert entry["user_id"] == user_id
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert entry["request_id"] == response.headers["X-Request-ID"]
    assert "13800000003" not in line and "abc" not in line  # the query string is never logged


def test_anonymous_requests_have_no_user(client, caplog):
    assert client.get("/").status_code == 200
    [fields] = request_records(caplog)
    assert fields["user_id"] is None and fields["status"] == 200


def test_api_requests_log_the_token_owner(app, client, caplog, api_token):
    headers = api_token(DEMO.volunteer)
    caplog.clear()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with app.app_context():
        user_id = user_by_phone(DEMO.volunteer).id
    [fields] = request_records(caplog)
    assert fields["user_id"] == user_id


def test_errors_are_logged_with_their_status(client, caplog):
    assert client.get("/no/such/page").status_code == 404
    assert request_records(caplog)[-1]["status"] == 404


def test_a_safe_client_request_id_is_kept_and_carried_by_every_record(client, caplog):
    caplog.handler.addFilter(RequestIdFilter())  # pytest's handler stands in for ours
    response = client.get("/api/v1/org/grids", headers={"X-Request-ID": "phone-7f3a.42"})
    assert response.headers["X-Request-ID"] == "phone-7f3a.42"
    during = [r for r in caplog.records if r.request_id == "phone-7f3a.42"]
    assert {r.name for r in during} >= {"app.request", "sqlalchemy.engine.Engine"}


@pytest.mark.parametrize("unsafe", ["a b", "x" * 65, "id;forged=1", "<script>", "-leading", "é"])
def test_an_unsafe_request_id_is_replaced(client, unsafe):
    response = client.get("/", headers={"X-Request-ID": unsafe})
    given = response.headers["X-Request-ID"]
    assert given != unsafe and len(given) == 32 and given.isalnum()


def test_request_ids_are_fresh_per_request(client):
    first = client.get("/").headers["X-Request-ID"]
    assert client.get("/").headers["X-Request-ID"] != first
    assert request_id_from(None) != request_id_from(None)


def test_records_outside_a_request_say_so():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    assert RequestIdFilter().filter(record) and record.request_id == "-"


# --- token paths ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/d/AbC-12_x.y", "/d/…"),
        ("/d/AbC-12_x/check-in", "/d/…/check-in"),
        ("/c/eyJ0YXNrIjozfQ.Zk3", "/c/…"),
        ("/bank/v/Vx9.k2", "/bank/v/…"),
        ("/calendar/tok.en-1.ics", "/calendar/….ics"),
        ("/registry/12/members/3/reveal", "/registry/12/members/3/reveal"),
        ("/bank/vouchers", "/bank/vouchers"),
        ("/api/v1/tasks/5/check-in", "/api/v1/tasks/5/check-in"),
        ("/registry/?token=abc", "/registry/"),
    ],
)
def test_token_paths_are_masked(path, logged):
    assert mask_path(path) == logged


def test_other_loggers_lines_are_masked():
    """Werkzeug's request line and Flask's "Exception on <path>" hold the raw path."""
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - "%s" %s',
        ("127.0.0.1", "GET /c/s3cr3t?x=1 HTTP/1.1", 200),
        None,
    )
    TokenPathFilter().filter(record)
    assert record.getMessage() == '127.0.0.1 - - "GET /c/… HTTP/1.1" 200'
    record = logging.LogRecord(
        "app", logging.ERROR, __file__, 1, "Exception on /d/s3cr3t/check-in [POST]", None, None
    )
    TokenPathFilter().filter(record)
    assert "s3cr3t" not in record.getMessage()


def test_outside_testing_the_root_logger_writes_json_lines(capsys):
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    for handler in before:  # one left by an earlier production app writes to a stale stderr
        if getattr(handler, "_app_json", False):
            root.removeHandler(handler)
    probe = Flask("probe")
    try:
        configure_logging(probe)
        configure_logging(probe)  # another app in the same process adds no second handler
        ours = [h for h in root.handlers if getattr(h, "_app_json", False)]
        assert len(ours) == 1 and isinstance(ours[0].formatter, JsonFormatter)
        assert root.level == logging.INFO
        assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() >= logging.WARNING
        with probe.test_request_context("/c/s3cr3t"):
            probe.preprocess_request()
            logging.getLogger("app.probe").warning("visit %s", "/c/s3cr3t")
        entry = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
        assert entry["message"] == "visit /c/…" and len(entry["request_id"]) == 32
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in before:
            root.addHandler(handler)
        root.setLevel(level)
        logging.getLogger("sqlalchemy.engine").setLevel(logging.NOTSET)
        werkzeug = logging.getLogger("werkzeug")
        for added_filter in [f for f in werkzeug.filters if isinstance(f, TokenPathFilter)]:
            werkzeug.removeFilter(added_filter)

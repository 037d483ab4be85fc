"""The authorization matrix (issue 7): every route of the URL map, as every
kind of caller, against the expectations in tests/authz_table.py; then the
same routes without a CSRF token, the API with a web session instead of a
token, and page numbers and ids too large for the database.

The world (tests/authz_world.py) is built once for this module inside a
transaction rolled back at its end; each test runs inside a savepoint of
that transaction, rolled back after it, so tests stay independent without
building the world two thousand times. Logins are made once per caller (a
session cookie for the web, a bearer token for the API): both are signed and
stateless, so they outlive the savepoints.

Each answer is held to three rules besides its status:
- a caller other than the owner and the administrator writes nothing unless
  the table allows it (`+`): every INSERT, UPDATE or DELETE that touched a
  row during the request is recorded and reported;
- nobody but the owner and the administrator sees the household's record
  (its texts carry PRIVATE) in any answer;
- a refusal (302, 401, 403, 404) shows no text of the world's objects at all.
"""

import io
import re
import zipfile
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import orm

from app.extensions import db as _db
from app.services import honour_cache
from tests.authz_table import BODIES, CALLERS, LOGINS, OWNERS, ROWS
from tests.authz_world import build_world
from tests.conftest import DEMO, second_app

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b\s+(?:INTO\s+|FROM\s+)?\"?(\w+)", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\{(\w+)\}")
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
REFUSALS = (302, 401, 403, 404)
# API endpoints that answer without a token (CONTRACT.md: "anyone").
PUBLIC_API = {
    "api-docs.openapi_json",
    "api_auth.issue_token",
    "api_auth.register",
    "api_catalogue.service_types",
    "api_honour.honour_board",
    "api_org.grids",
    "api_org.skills",
}
ROW_BY_KEY = {row.key: row for row in ROWS}


# --- the world, once per module --------------------------------------------------------------------


class Writes:
    """The tables written to while recording: an engine event after each
    statement keeps each INSERT, UPDATE or DELETE that touched a row."""

    def __init__(self):
        self.recording = False
        self.tables: list[str] = []

    def __call__(self, _conn, cursor, statement, _parameters, _context, _executemany):
        if self.recording and cursor.rowcount != 0 and (found := WRITE.match(statement)):
            self.tables.append(f"{found.group(1).upper()} {found.group(2)}")

    @contextmanager
    def during(self):
        self.tables, self.recording = [], True
        try:
            yield self.tables
        finally:
            self.recording = False


@pytest.fixture(scope="module")
def world(_app):
    """The app with the world built in one transaction for the module, logins made, writes watched.

    Like tests/conftest.py's `app`, with the module's transaction instead of the test's.
    """
    app = _app
    with app.app_context():
        honour_cache.clear(app)
        engine = _db.engine
        connection = engine.connect()
    transaction = connection.begin()
    real_session = _db.session
    _db.session = orm.scoped_session(
        orm.sessionmaker(bind=connection, join_transaction_mode="create_savepoint"), scopefunc=_app_ctx_id
    )
    writes = Writes()
    sa.event.listen(engine, "after_cursor_execute", writes)
    try:
        with app.app_context(), app.test_request_context():
            built = build_world()
        logins = {*LOGINS.values(), *OWNERS.values()}
        yield SimpleNamespace(
            app=app,
            connection=connection,
            world=built,
            writes=writes,
            cookies={name: _web_login(app, getattr(DEMO, name)) for name in logins},
            tokens={name: _api_login(app, getattr(DEMO, name)) for name in logins},
        )
    finally:
        sa.event.remove(engine, "after_cursor_execute", writes)
        _db.session = real_session
        if transaction.is_active:
            transaction.rollback()
        connection.close()


def _web_login(app, phone: str) -> str:
    client = app.test_client()
    response = client.post("/auth/login", data={"phone": phone, "password": DEMO.password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get_cookie("session").value


def _api_login(app, phone: str) -> dict:
    response = app.test_client().post("/api/v1/auth/token", json={"phone": phone, "password": DEMO.password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


@pytest.fixture
def matrix(world):
    """The module's world, this test's changes kept in a savepoint rolled back after it."""
    savepoint = world.connection.begin_nested()
    honour_cache.clear(world.app)  # boards cached by an earlier test may count rolled-back points
    try:
        yield world
    finally:
        if savepoint.is_active:
            savepoint.rollback()


# --- sending a row's request --------------------------------------------------------------------------


def fill(value, world):
    """`value` with {placeholders} taken from the world; a lone placeholder keeps the value's type."""
    if isinstance(value, dict):
        return {fill(k, world): fill(v, world) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    if (found := PLACEHOLDER.fullmatch(value)) is not None:
        return getattr(world, found.group(1))
    return PLACEHOLDER.sub(lambda m: str(getattr(world, m.group(1))), value)


def send(ctx, row, login: str | None, *, path=None, session_only=False, app=None):
    """Send the row's request as `login` (None: nobody) with its minimal body; (response, writes).

    The web is sent the login's session cookie, the API its bearer token (or,
    with `session_only`, the session cookie instead).
    """
    client = (app or ctx.app).test_client()
    headers = {}
    if login is not None:
        if row.is_api and not session_only:
            headers = ctx.tokens[login]
        else:
            client.set_cookie("session", ctx.cookies[login])
    kwargs = {}
    if row.method in STATE_CHANGING:
        body = fill(BODIES[row.key](), ctx.world) if row.key in BODIES else {}
        if row.is_api:
            kwargs["json"] = body
        else:
            kwargs["data"] = {name: str(value) for name, value in body.items()}
    path = path or fill(row.path, ctx.world)
    with ctx.writes.during() as written:
        response = client.open(path, method=row.method, headers=headers, **kwargs)
    return response, list(written)


def text_of(response) -> str:
    """What a person could read in the answer: its text, or the XML inside a workbook; images give none."""
    data = response.get_data()
    if response.mimetype.endswith("spreadsheetml.sheet"):
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return "".join(book.read(name).decode() for name in book.namelist() if name.endswith(".xml"))
    if response.mimetype.startswith("image/"):
        return ""
    return data.decode()


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response.location.split("?")[0].endswith("/auth/login")


# --- every route has a row ---------------------------------------------------------------------------


def url_map_keys(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_has_a_row_and_every_row_a_route(_app):
    """The CSRF and API tests below take their routes from the rows, so this covers them too."""
    keys = [row.key for row in ROWS]
    routes = url_map_keys(_app)
    missing = sorted(routes - set(keys))
    stale = sorted(set(keys) - routes)
    doubled = sorted({key for key in keys if keys.count(key) > 1})
    assert not missing, f"routes without a row in tests/authz_table.py: {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"
    assert not doubled, f"routes with more than one row: {doubled}"


# --- the matrix ------------------------------------------------------------------------------------------

CELLS = [(row, caller) for row in ROWS for caller in CALLERS if caller in row.expect]


@pytest.mark.parametrize(
    "row, caller", CELLS, ids=[f"{row.endpoint}-{row.method}-{caller}" for row, caller in CELLS]
)
def test_matrix(matrix, row, caller):
    expected = row.expect[caller]
    login = row.login_of(caller)
    response, written = send(matrix, row, login)
    status = response.status_code
    where = f" → {response.location}" if response.location else ""
    report = (
        f"{row.endpoint} {row.method} {fill(row.path, matrix.world)} as {caller} ({login or 'nobody'}): "
        f"answered {status}{where}, expected {'302 to login' if expected.to_login else expected.status}; "
        f"wrote {written or 'nothing'}"
    )
    assert status == expected.status, report
    if status == 302:
        assert is_login_redirect(response) == expected.to_login, report
    if not expected.may_write:
        assert not written, report
    if caller not in ("own", "adm"):
        kept = matrix.world.private_texts() + (matrix.world.world_texts() if status in REFUSALS else [])
        body = text_of(response)
        shown = sorted({text for text in kept if text in body})
        assert not shown, f"{report}; the answer shows {shown}"


@pytest.mark.parametrize(
    "endpoint, path, login",
    [
        ("registry.household", None, "grid_worker"),
        ("api_households.get_household", None, "grid_worker"),
        ("registry.ledger_export", None, "grid_worker"),
        ("volunteer.task", "/tasks/{task_claimed}", "volunteer"),  # the address, once claimed
    ],
)
def test_the_rightful_reader_sees_the_record(matrix, endpoint, path, login):
    """The texts the matrix looks for are there for those who may read them: their absence means something."""
    row = ROW_BY_KEY[endpoint, "GET"]
    response, _written = send(matrix, row, login, path=path and fill(path, matrix.world))
    assert response.status_code == 200
    assert all(text in text_of(response) for text in matrix.world.private_texts()[:1])


# --- forms need a CSRF token; the API needs a bearer token ----------------------------------------------

WEB_WRITES = [row for row in ROWS if not row.is_api and row.method in STATE_CHANGING]
PRIVATE_API = [row for row in ROWS if row.is_api and row.endpoint not in PUBLIC_API]


@pytest.fixture(scope="class")
def csrf_app(world):
    """A second app with CSRF protection on (as in production), in the module's transaction."""
    with second_app(
        WTF_CSRF_ENABLED=True, SQLALCHEMY_DATABASE_URI=world.app.config["SQLALCHEMY_DATABASE_URI"]
    ) as app:
        yield app


class TestCsrf:
    @pytest.mark.parametrize("row", WEB_WRITES, ids=[f"{row.endpoint}-{row.method}" for row in WEB_WRITES])
    def test_a_form_without_its_token_is_refused(self, matrix, csrf_app, row):
        """Posted by its rightful user (logged in), without the token: 400, and nothing written."""
        login = row.login_of(row.rightful)
        response, written = send(matrix, row, login, app=csrf_app)
        assert response.status_code == 400, f"{row.endpoint} as {login}: {response.status_code}"
        assert not written, f"{row.endpoint} as {login} without a CSRF token wrote {written}"


def test_the_public_api_is_what_the_contract_says():
    assert {row.endpoint for row in ROWS if row.is_api and row.expect["anon"].status != 401} == PUBLIC_API


@pytest.mark.parametrize("row", PRIVATE_API, ids=[f"{row.endpoint}-{row.method}" for row in PRIVATE_API])
def test_the_api_ignores_the_web_session(matrix, row):
    """Logged in through the web form, without a bearer token: 401, and nothing written."""
    login = row.login_of(row.rightful)
    response, written = send(matrix, row, login, session_only=True)
    assert response.status_code == 401, f"{row.endpoint} as {login} by session: {response.status_code}"
    assert response.get_json()["error"]["code"] == "missing_token"
    assert not written


# --- numbers from the URL that the database cannot take ---------------------------------------------

GETS = [row for row in ROWS if row.method == "GET"]
HUGE_PAGE = "page=100000000000000000000&per_page=100000000000000000000"


@pytest.mark.parametrize("row", GETS, ids=[row.endpoint for row in GETS])
def test_a_page_number_past_any_end_is_no_error(matrix, row):
    """A page and page size too large for the database's integers: the usual answer, or 404 (no such
    page) or 422 (the API's validation), never a 500."""
    path = fill(row.path, matrix.world)
    path += ("&" if "?" in path else "?") + HUGE_PAGE
    response, _written = send(matrix, row, row.login_of(row.rightful), path=path)
    usual = row.expect[row.rightful].status
    assert response.status_code in (usual, 404, 422), f"{row.endpoint}: {response.status_code}"


# Placeholders that hold row ids (tokens and codes are not ids).
ID_NAMES = {
    "grid", "community", "household", "member", "head_member", "assignment", "need", "help_request",
    "proxy", "task_open", "task_full", "task_claimed", "task_awaiting", "claim_awaiting", "claim_done",
    "partner", "reward", "voucher", "offer", "partner_member", "partner_member_user", "notice",
    "objection", "team", "user_volunteer", "user_partner",
}  # fmt: skip
ID_CELLS = [(row, name) for row in ROWS for name in PLACEHOLDER.findall(row.path) if name in ID_NAMES]
# Ids whose impossible value is answered otherwise than 404, and why.
NOT_404 = {
    ("api_honour.honour_board", "GET"): 422,  # inside ?scope=community:<id>: a malformed scope
    ("dashboard.index", "GET"): 422,  # inside ?unit=grid:<id>: a malformed unit
    ("dashboard.export", "GET"): 422,
    ("registry.audit_log", "GET"): 200,  # ?household_id= filters the log: nothing matches
}


@pytest.mark.parametrize(
    "row, name", ID_CELLS, ids=[f"{row.endpoint}-{row.method}-{name}" for row, name in ID_CELLS]
)
def test_an_id_no_row_can_have_is_not_found(matrix, row, name):
    """2**31 does not fit PostgreSQL's integer, 10**20 not even SQLite's: 404 for the rightful user, never a 500."""
    login = row.login_of(row.rightful)
    for impossible in (2**31, 10**20):
        ctx = SimpleNamespace(
            **{**vars(matrix), "world": SimpleNamespace(**{**vars(matrix.world), name: impossible})}
        )
        response, written = send(ctx, row, login)
        expected = NOT_404.get(row.key, 404)
        assert response.status_code == expected, f"{row.endpoint} {name}={impossible}: {response.status_code}"
        assert not written

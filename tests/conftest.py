"""Fixtures: the app on SQLite (always) or PostgreSQL (TEST_DB=postgres).

The schema is built once per run by the real migrations and the demo data is
loaded once and committed. Each test then runs inside an outer transaction
that is rolled back at its end; the code under test commits to savepoints
(SQLAlchemy's join_transaction_mode="create_savepoint"), so commits behave
as in production and nothing leaks into the next test.

Flask reuses a pushed app context for requests (and so its `g`), so tests
that use the client must not hold one open: set data up in
`with app.app_context():` blocks, or use the `db` fixture for service tests
without HTTP.
"""

import os
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import orm

from app import create_app
from app.extensions import api, limiter
from app.extensions import db as _db
from app.services import honour_cache
from app.services.demo import DEMO_PASSWORD, seed_demo
from config import database_url


def _database_uri(tmp_path_factory) -> str:
    if os.environ.get("TEST_DB") == "postgres":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.exit("TEST_DB=postgres needs TEST_DATABASE_URL", returncode=2)
        return database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def _app(tmp_path_factory):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=_database_uri(tmp_path_factory))
    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            with _db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade()
        seed_demo()
        _db.session.remove()
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture
def app(_app):
    """The app, with every session joined to one transaction rolled back after the test.

    The honour-board cache is emptied first: its versions only move forward,
    so a board cached by an earlier test could match data rolled back since.
    """
    with _app.app_context():
        honour_cache.clear(_app)
        connection = _db.engine.connect()
    transaction = connection.begin()
    real_session = _db.session
    _db.session = orm.scoped_session(
        orm.sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=_app_ctx_id,
    )
    try:
        yield _app
    finally:
        # Each app context removed its own session at teardown.
        _db.session = real_session
        if transaction.is_active:
            transaction.rollback()
        connection.close()


@contextmanager
def second_app(**settings):
    """Build another app (e.g. rate limits on, or production) for one test.

    `limiter` and `api` are module-level singletons that init_app rebinds to
    the newest app; they are put back afterwards so later tests see the
    shared app again.
    """
    saved = {extension: dict(vars(extension)) for extension in (limiter, api)}
    env = settings.pop("env", "testing")
    other = create_app(env, **settings)
    try:
        yield other
    finally:
        with other.app_context():
            _db.engine.dispose()
        for extension, attributes in saved.items():
            vars(extension).clear()
            vars(extension).update(attributes)


@pytest.fixture
def limited_app(app):
    """A second app with rate limits on, on the same database and test transaction."""
    with second_app(
        RATELIMIT_ENABLED=True, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]
    ) as limited:
        yield limited


@pytest.fixture
def db(app):
    """An app context for service tests without HTTP; yields the db extension."""
    with app.app_context():
        yield _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# Demo logins by the role they play in tests (CONTRACT.md).
DEMO = SimpleNamespace(
    admin="13800000000",
    street_officer="13800000001",
    community_worker="13800000002",
    community_worker_2="13800000012",
    grid_worker="13800000003",
    grid_worker_2="13800000013",
    volunteer="13800000004",
    volunteer_2="13800000014",
    resident="13800000005",
    partner="13800000006",
    password=DEMO_PASSWORD,
)


@pytest.fixture
def demo():
    return DEMO


class AuthActions:
    """Log in and out through the real login form (flaskr's `auth` helper)."""

    def __init__(self, client):
        self._client = client

    def login(self, phone: str, password: str = DEMO_PASSWORD):
        response = self._client.post("/auth/login", data={"phone": phone, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def api_token(client):
    """A function: phone → bearer header dict, through POST /api/v1/auth/token."""

    def token_for(phone: str, password: str = DEMO_PASSWORD) -> dict:
        response = client.post("/api/v1/auth/token", json={"phone": phone, "password": password})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return token_for


def count_rows(model) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model))

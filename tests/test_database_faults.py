"""A database failing in the middle of a request leaves no half change.

The connection is cut just before a chosen statement of a request: on
PostgreSQL for real (`pg_terminate_backend` of the request's own server
process, what a restart or failover does), on SQLite by making that
statement fail as on a closed database. Everything runs on a database of its
own with real commits, so what is committed afterwards is what a real
server would hold.
"""

import sqlite3
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import clock
from app.extensions import db
from app.models import Claim, Household, HouseholdStatus, Notification, Task
from app.services.demo import seed_demo
from tests.conftest import DEMO, second_app
from tests.factories import user_by_phone


@pytest.fixture(scope="module")
def fault_app(_app, tmp_path_factory):
    """A fresh database with the demo data: a temporary PostgreSQL database or SQLite file."""
    url = sa.make_url(_app.config["SQLALCHEMY_DATABASE_URI"])
    admin = None
    if url.get_backend_name() == "postgresql":
        name = f"faults_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = url.set(database=name)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('faults') / 'faults.db'}"
    with second_app(
        SQLALCHEMY_DATABASE_URI=str(url) if admin is None else url.render_as_string(False)
    ) as app:
        with app.app_context():
            upgrade()
            seed_demo()
            db.session.remove()
        yield app
    if admin is not None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def connection_cut_before(app, fragment: str, times: int = 1):
    """Cut the request's database connection just before its statements containing
    `fragment` run, `times` times; yields the list of statements cut."""
    cut: list[str] = []
    with app.app_context():
        engine = db.engine

    def cut_connection(conn, cursor, statement, parameters, context, executemany):
        if fragment not in statement or len(cut) >= times:
            return
        cut.append(statement)
        if engine.dialect.name == "postgresql":
            pid = conn.connection.dbapi_connection.info.backend_pid
            killer = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
            with killer.connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            killer.dispose()
        else:  # what SQLite says when its connection is gone; SQLAlchemy sees a disconnect
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")

    sa.event.listen(engine, "before_cursor_execute", cut_connection)
    try:
        yield cut
    finally:
        sa.event.remove(engine, "before_cursor_execute", cut_connection)


def token(client, phone: str) -> dict:
    answer = client.post("/api/v1/auth/token", json={"phone": phone, "password": DEMO.password})
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


@pytest.fixture(scope="module")
def task_id(fault_app):
    """An open task of grid 1 with one place, posted through the API."""
    client = fault_app.test_client()
    with fault_app.app_context():
        grid_id = user_by_phone(DEMO.grid_worker).grid_id
        household_id = db.session.scalar(
            sa.select(Household.id).where(
                Household.grid_id == grid_id, Household.status == HouseholdStatus.ACTIVE
            )
        )
        db.session.remove()
    starts = (clock.now() + timedelta(days=3)).astimezone(clock.LOCAL_TZ)
    body = {
        "household_id": household_id,
        "service_type": "housekeeping",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "slots": 1,
        "description": "断线测试：打扫厨房",
    }
    answer = client.post("/api/v1/tasks", json=body, headers=token(client, DEMO.grid_worker))
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def state(app, task_id: int) -> tuple:
    with app.app_context():
        task = db.session.get(Task, task_id)
        claims = db.session.scalar(sa.select(sa.func.count()).where(Claim.task_id == task_id))
        notes = db.session.scalar(sa.select(sa.func.count()).where(Notification.task_id == task_id))
        result = (task.taken, task.status.value, claims, notes)
        db.session.remove()
    return result


def test_a_claim_cut_off_half_way_writes_nothing_and_says_try_again(fault_app, task_id):
    client = fault_app.test_client()
    headers = token(client, DEMO.volunteer)
    before = state(fault_app, task_id)
    assert before[:3] == (0, "open", 0)

    # The place is taken (UPDATE task) before the claim row is written: cut there.
    with connection_cut_before(fault_app, "INSERT INTO claim") as cut:
        answer = client.post(f"/api/v1/tasks/{task_id}/claim", headers=headers)
    assert cut, "the claim never reached its INSERT"
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "database_unavailable"
    assert answer.headers["Retry-After"] == "5"
    assert state(fault_app, task_id) == before  # the slot is not taken, no claim, nobody told

    again = client.post(f"/api/v1/tasks/{task_id}/claim", headers=headers)
    assert again.status_code == 200, again.get_json()
    taken, status, claims, notes = state(fault_app, task_id)
    assert (taken, status, claims) == (1, "claimed", 1) and notes == before[3] + 1


def test_a_read_that_lost_its_connection_is_run_again(fault_app):
    client = fault_app.test_client()
    with connection_cut_before(fault_app, "FROM task") as cut:
        answer = client.get("/api/v1/tasks?status=open", headers=token(client, DEMO.volunteer))
    assert len(cut) == 1 and answer.status_code == 200
    assert isinstance(answer.get_json(), (list, dict))


def test_a_read_that_fails_twice_answers_503_with_a_page(fault_app):
    client = fault_app.test_client()
    with connection_cut_before(fault_app, "FROM street", times=2) as cut:
        answer = client.get("/honour-board")
    assert len(cut) == 2 and answer.status_code == 503
    page = answer.get_data(as_text=True)
    assert answer.mimetype == "text/html" and "Traceback" not in page
    assert client.get("/honour-board").status_code == 200  # and the next request is served again

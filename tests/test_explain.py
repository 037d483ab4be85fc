"""Every statement the busy pages run can use an index (PostgreSQL only).

The statements of each page are captured with their parameters while the
page is requested, then EXPLAINed (not run) in the same transaction:
  - with `enable_seqscan = off`, PostgreSQL takes a sequential scan only
    where no index can serve the query at all, so a `Seq Scan` on a large
    table means a missing index;
  - and plainly, after a city's worth of synthetic rows in other grids,
    communities and accounts were added and ANALYZEd, so the planner
    chooses as it would in production: still no `Seq Scan` on a large table.
Small tables (the org tree, the catalogues, the point rules) are read whole
and are allowed to be.
"""

import re
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from tests import test_query_budgets as build
from tests.conftest import DEMO

SMALL_TABLES = {
    "alembic_version",
    "city",
    "street",
    "community",
    "grid",
    "service_type",
    "skill",
    "point_rate",
    "point_policy",
    "city_standard",
    "job_run",
    "partner",
    "team",  # a few thousand teams in a city at most
}
SCALE = 5  # synthetic_city: 10 000 volunteers, 5 000 households, 30 000 tasks and awards
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
INDEX_SCAN = re.compile(r"Index (?:Only )?Scan (?:Backward )?using \w+ on (\w+)")


def read_whole(plan: str) -> set[str]:
    """Large tables the plan reads whole: a Seq Scan, or an index scan with no Index Cond
    (the whole index walked, as PostgreSQL does when sequential scans are off)."""
    tables = set(SEQ_SCAN.findall(plan))
    lines = plan.splitlines()
    for n, line in enumerate(lines):
        found = INDEX_SCAN.search(line)
        if not found:
            continue
        depth = len(line) - len(line.lstrip(" ->"))
        details = []
        for below in lines[n + 1 :]:
            if below.lstrip().startswith("->") or len(below) - len(below.lstrip()) <= depth:
                break
            details.append(below)
        if not any("Index Cond" in d for d in details):
            tables.add(found.group(1))
    return tables - SMALL_TABLES


@pytest.fixture
def postgres(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("EXPLAIN plans are PostgreSQL's")
    yield
    clock.freeze(None)


@contextmanager
def capture(app):
    """Collect (statement, parameters) of every statement that reads, run on the app's engine meanwhile."""
    found: list[tuple[str, object]] = []

    def collect(_conn, _cursor, statement, parameters, _context, executemany):
        head = statement.lstrip().upper()
        if executemany or head.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            return
        if head.startswith("INSERT") and " SELECT " not in head:
            return  # INSERT … VALUES reads nothing
        found.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", collect)
    try:
        yield found
    finally:
        sa.event.remove(engine, "before_cursor_execute", collect)


def whole_scans(app, statements, seqscan: bool) -> list[str]:
    """Each statement whose plan reads a large table whole, with its plan."""
    problems = []
    with app.app_context():
        connection = db.session.connection()
        connection.exec_driver_sql(f"SET LOCAL enable_seqscan = {'on' if seqscan else 'off'}")
        connection.exec_driver_sql("SET LOCAL random_page_cost = 1.1")  # SSD storage, as in production
        for statement, parameters in statements:
            plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
            tables = sorted(read_whole(plan))
            if tables:
                problems.append(f"{tables}\n{statement}\n{plan}")
        connection.exec_driver_sql("SET LOCAL enable_seqscan = on")
    return problems


# --- the pages ----------------------------------------------------------------------------------


def task_board(app, client):
    build.login(client, DEMO.volunteer)
    api = build.bearer(client, DEMO.volunteer)
    build.open_tasks(app, 3)
    with capture(app) as found:
        client.get("/tasks/")
        client.get("/tasks/?service_type=visiting&skill=companionship")
        client.get("/api/v1/tasks", headers=api)
    return found


def task_detail(app, client):
    build.login(client, DEMO.volunteer)
    api, staff = build.bearer(client, DEMO.volunteer), build.bearer(client, DEMO.grid_worker)
    task_id = build.claimed_task(app, 2)
    with capture(app) as found:
        client.get(f"/tasks/{task_id}")
        client.get(f"/api/v1/tasks/{task_id}", headers=api)
        client.get(f"/api/v1/tasks/{task_id}", headers=staff)
    return found


def claim(app, client):
    build.login(client, DEMO.volunteer)
    api = build.bearer(client, DEMO.volunteer)
    build.claims_of(app, 2, days=25)
    first, second = build.open_tasks(app, 2, days=70)
    with capture(app) as found:
        client.post(f"/tasks/{first}/claim")
        client.post(f"/api/v1/tasks/{second}/claim", headers=api)
    return found


def visit(app, client):
    """Check-out (web and API), the confirmation link (web and API), the resident's page and confirmation."""
    build.login(client, DEMO.volunteer)
    api = build.bearer(client, DEMO.volunteer)
    build.awards_of(app, 3)
    web_task, web_door = build.checked_in(app, 1)
    with capture(app) as found:
        client.post(f"/d/{web_door}/check-out", data={"task_id": web_task})
        client.get(f"/visits/{web_task}/confirm-qr")
    clock.freeze(None)
    api_task, api_door = build.checked_in(app, 1)
    with capture(app) as more:
        client.post(f"/api/v1/tasks/{api_task}/check-out", json={"door_token": api_door}, headers=api)
        url = client.post(f"/api/v1/tasks/{api_task}/confirmation", headers=api).get_json()["url"]
        resident = app.test_client()
        resident.get(urlsplit(url).path)
        resident.post(urlsplit(url).path, data={"rating": "5", "comment": "谢谢"})
    return found + more


def my_points(app, client):
    build.login(client, DEMO.volunteer)
    api = build.bearer(client, DEMO.volunteer)
    build.awards_of(app, 3)
    with capture(app) as found:
        client.get("/me/points")
        client.get("/me/points?page=2")
        client.get("/api/v1/me/points", headers=api)
    return found


def honour_board(app, client):
    """Every scope and period, volunteers and teams."""
    community = build.board_community(app, 4)
    with app.app_context():
        from app.models import Community

        street = db.session.get(Community, community).street_id
        city = db.session.scalar(sa.text(f"SELECT city_id FROM street WHERE id = {street}"))
    with capture(app) as found:
        client.get("/honour-board")
        for scope in (f"community:{community}", f"street:{street}", f"city:{city}"):
            for period in ("week", "month", "all"):
                client.get(f"/honour-board?scope={scope}&period={period}")
                client.get(f"/api/v1/honour-board?scope={scope}&period={period}&kind=teams")
    return found


def household_list(app, client):
    build.login(client, DEMO.grid_worker)
    api = build.bearer(client, DEMO.grid_worker)
    build.households(app, 3)
    with capture(app) as found:
        client.get("/registry/")
        client.get("/registry/?status=active")
        client.get("/api/v1/households", headers=api)
    return found


def warning_list(app, client):
    build.login(client, DEMO.grid_worker)
    build.households(app, 3, long_ago=True)
    with capture(app) as found:
        client.get("/registry/warnings")
    return found


PAGES = [task_board, task_detail, claim, visit, my_points, honour_board, household_list, warning_list]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.__name__)
def test_an_index_serves_every_statement(app, client, postgres, page):
    statements = page(app, client)
    assert len(statements) >= 3
    problems = whole_scans(app, statements, seqscan=False)
    assert not problems, "\n\n=====\n\n".join(problems)


def test_plans_at_city_scale_read_no_large_table_whole(app, client, postgres):
    """With a synthetic city ANALYZEd beside the demo, the planner's own choice for every page."""
    from tests import synthetic_city

    with app.app_context():
        synthetic_city.fill(db.session, scale=SCALE)
        db.session.commit()
    problems = []
    for page in PAGES:
        statements = page(app, client)
        clock.freeze(None)
        problems += [f"{page.__name__}: {problem}" for problem in whole_scans(app, statements, seqscan=True)]
    assert not problems, "\n\n=====\n\n".join(problems)


def test_whole_reads_are_recognised():
    """The plan reading rule itself: a Seq Scan, or an index walked without an Index Cond."""
    plan = """Hash Join  (cost=24.55..26.67 rows=1 width=8)
  ->  Index Scan using pk_team_membership on team_membership  (cost=0.00..24.54 rows=1 width=4)
        Filter: ((joined_at <= x) AND (user_id = 7))
  ->  Index Scan Backward using pk_claim on claim  (cost=0.00..24.54 rows=1 width=4)
        Index Cond: (id = 3)
  ->  Bitmap Heap Scan on task  (cost=4.17..11.28 rows=3 width=4)
        ->  Bitmap Index Scan on ix_task_grid  (cost=0.00..4.17 rows=3 width=0)
              Index Cond: (grid_id = 1)
  ->  Seq Scan on grid  (cost=0.00..1.81 rows=81 width=8)
  ->  Seq Scan on notification  (cost=0.00..1.81 rows=81 width=8)"""
    assert read_whole(plan) == {"team_membership", "notification"}

"""Query budgets: every page a volunteer or a grid worker uses all day runs a
fixed number of SQL statements, whatever the amount of data behind it.

Each test builds the data the page lists at two sizes (5, then 50 tasks,
claims, ledger entries, board rows or households), requests the page (web,
and its API twin) and asserts that the number of statements is EXACTLY the
same at both sizes — so there is no N+1 — and at most the stated budget.
Each measured request follows an unmeasured one of the same kind, so the
per-process state (the login's session, the honour-board cache's versions)
is the same for both sizes.
"""

import itertools
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import AccountKind, Grid, Role, Task, TxKind, User
from app.services import ledger, tasks, visits
from tests.conftest import DEMO
from tests.factories import make_household, make_tree, make_user, user_by_phone
from tests.querycount import count_statements

SMALL, LARGE = 5, 50
SIZES = (SMALL, LARGE)
_keys = itertools.count()


@pytest.fixture(autouse=True)
def real_time():
    yield
    clock.freeze(None)


def assert_fixed(counts: dict[int, list[str]], budget: int) -> None:
    """The same number of statements at both sizes, within the budget."""
    small, large = (counts[size] for size in sorted(counts))
    shown = "\n\n".join(["--- small", *small, "--- large", *large])
    import os

    if os.environ.get("QB_SHOW"):
        print("\nCOUNTS", len(small), len(large), budget)
        if len(small) != len(large) or os.environ.get("QB_SHOW") == "2":
            print(shown)
        return
    assert len(small) == len(large), shown
    assert len(large) <= budget, shown


def measured(app, request) -> list[str]:
    """The statements of one request (`request()` returns the response, checked for success)."""
    with count_statements(app) as statements:
        response = request()
    assert response.status_code < 400, response.get_data(as_text=True)[:800]
    return list(statements)


def login(client, phone: str) -> None:
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"phone": phone, "password": DEMO.password})
    assert response.status_code == 302


def bearer(client, phone: str) -> dict:
    response = client.post("/api/v1/auth/token", json={"phone": phone, "password": DEMO.password})
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


# --- builders (each commits) -----------------------------------------------------------------


def open_tasks(app, count: int, days: float = 3, household_id: int | None = None) -> list[int]:
    """`count` open tasks in grid 1, an hour apart from `days` days from now."""
    with app.app_context():
        worker = user_by_phone(DEMO.grid_worker)
        household_id = household_id or make_household(worker, building="预算楼").id
        made = []
        for n in range(count):
            starts = clock.now() + timedelta(days=days, hours=n)
            data = tasks.TaskData(household_id, "visiting", starts, starts + timedelta(hours=1), f"预算{n}")
            made.append(tasks.create_task(worker, data).id)
        return made


def new_volunteers(app, count: int) -> list[int]:
    with app.app_context():
        grid_id = user_by_phone(DEMO.grid_worker).grid_id
        return [make_user(Role.VOLUNTEER, grid_id=grid_id).id for _ in range(count)]


def claimed_task(app, count: int) -> int:
    """A task whose `count` places are all claimed by other volunteers, plus one place of demo volunteer 1."""
    (task_id,) = open_tasks(app, 1, days=40 + count)
    people = new_volunteers(app, count)
    with app.app_context():
        db.session.execute(sa.update(Task).where(Task.id == task_id).values(slots=count + 1))
        db.session.commit()
        for user_id in people:
            tasks.claim_task(db.session.get(User, user_id), task_id)
        tasks.claim_task(user_by_phone(DEMO.volunteer), task_id)
    return task_id


def claims_of(app, count: int, phone: str = DEMO.volunteer, days: float = 20) -> None:
    """`count` more claims of the volunteer, on tasks an hour apart: longer lists, more to check overlaps against."""
    ids = open_tasks(app, count, days=days)
    with app.app_context():
        volunteer = user_by_phone(phone)
        for task_id in ids:
            tasks.claim_task(volunteer, task_id)


def awards_of(app, count: int, phone: str = DEMO.volunteer) -> None:
    """`count` award transactions for the volunteer in their community (synthetic, no visit behind them)."""
    with app.app_context():
        user = user_by_phone(phone)
        community_id = db.session.scalar(sa.select(Grid.community_id).where(Grid.id == user.grid_id))
        for _ in range(count):
            ledger.post(
                TxKind.AWARD,
                f"budget-award:{next(_keys)}",
                "budget",
                [
                    (ledger.account(AccountKind.ISSUE), -3),
                    (ledger.account(AccountKind.VOLUNTEER, user.id), 3),
                ],
                earner_id=user.id,
                community_id=community_id,
            )
        db.session.commit()


def board_community(app, count: int) -> int:
    """A new community whose honour board has `count` volunteers, each in a team of their own every third."""
    from app.services import teams

    with app.app_context():
        tree = make_tree(f"预算{next(_keys)}")
        community = tree["community"].id
        db.session.commit()
        for n in range(count):
            user = make_user(Role.VOLUNTEER, grid_id=tree["grids"][0].id)
            if n % 3 == 0:
                teams.create_team(user, f"预算队{n}")
            ledger.post(
                TxKind.AWARD,
                f"budget-award:{next(_keys)}",
                "budget",
                [
                    (ledger.account(AccountKind.ISSUE), -(n + 1)),
                    (ledger.account(AccountKind.VOLUNTEER, user.id), n + 1),
                ],
                earner_id=user.id,
                community_id=community,
            )
            db.session.commit()
        return community


def visit_ready(app, extra_claims: int):
    """A task of demo volunteer 1 starting tomorrow, its door token, and `extra_claims` more claims of theirs."""
    step = next(_keys)  # every visit and its extra claims at times of their own
    claims_of(app, extra_claims, days=10 + 3 * step)
    with app.app_context(), app.test_request_context():
        worker = user_by_phone(DEMO.grid_worker)
        household = make_household(worker, building="访问楼")
        (task_id,) = open_tasks(app, 1, days=1 + step / 8, household_id=household.id)
        tasks.claim_task(user_by_phone(DEMO.volunteer), task_id)
        card = visits.issue_door_card(worker, household.id)
        starts = db.session.get(Task, task_id).starts_at
        return task_id, visits.door_token(card), starts


def checked_in(app, extra_claims: int):
    task_id, door, starts = visit_ready(app, extra_claims)
    clock.freeze(starts + timedelta(minutes=5))
    with app.app_context():
        visits.check_in(user_by_phone(DEMO.volunteer), task_id, door)
    clock.freeze(starts + timedelta(minutes=50))
    return task_id, door


def checked_out(app, extra: int):
    task_id, door = checked_in(app, extra)
    with app.app_context(), app.test_request_context():
        visits.check_out(user_by_phone(DEMO.volunteer), task_id, door)
        url, _expires = visits.confirmation_link(user_by_phone(DEMO.volunteer), task_id)
    return task_id, urlsplit(url).path


def households(app, count: int, long_ago: bool = False) -> None:
    """`count` households in grid 1; made 100 days ago (so each has the no-service warning) if `long_ago`."""
    if long_ago:
        clock.freeze(clock.now() - timedelta(days=100))
    try:
        with app.app_context():
            worker = user_by_phone(DEMO.grid_worker)
            for _ in range(count):
                make_household(worker, building="预算楼")
    finally:
        clock.freeze(None)


# --- the volunteer's task board, a task, a claim -----------------------------------------------


def test_task_board(app, client):
    login(client, DEMO.volunteer)
    api = bearer(client, DEMO.volunteer)
    web, json = {}, {}
    grown = 0
    for size in SIZES:
        open_tasks(app, size - grown)
        grown = size
        client.get("/tasks/")
        web[size] = measured(app, lambda: client.get("/tasks/"))
        client.get("/api/v1/tasks", headers=api)
        json[size] = measured(app, lambda: client.get("/api/v1/tasks", headers=api))
    assert_fixed(web, 10)  # user (2), filter choices (2), page + its 3 loads, count, unread
    assert_fixed(json, 7)


def test_task_detail(app, client):
    """A task holds at most 20 places: 4 and 19 other volunteers' claims."""
    login(client, DEMO.volunteer)
    api, staff = bearer(client, DEMO.volunteer), bearer(client, DEMO.grid_worker)
    web, json, json_staff = {}, {}, {}
    for size in (4, 19):
        task_id = claimed_task(app, size)
        client.get(f"/tasks/{task_id}")
        web[size] = measured(app, lambda task_id=task_id: client.get(f"/tasks/{task_id}"))
        json[size] = measured(
            app, lambda task_id=task_id: client.get(f"/api/v1/tasks/{task_id}", headers=api)
        )
        json_staff[size] = measured(
            app, lambda task_id=task_id: client.get(f"/api/v1/tasks/{task_id}", headers=staff)
        )
    assert_fixed(web, 14)
    assert_fixed(json, 15)
    assert_fixed(json_staff, 13)


def test_claim(app, client):
    login(client, DEMO.volunteer)
    api = bearer(client, DEMO.volunteer)
    web, json = {}, {}
    grown = 0
    for size in SIZES:
        claims_of(app, size - grown, days=20 + grown)
        grown = size
        warm, first, second = open_tasks(app, 3, days=60 + size)
        client.post(f"/tasks/{warm}/claim")
        web[size] = measured(app, lambda first=first: client.post(f"/tasks/{first}/claim"))
        json[size] = measured(
            app, lambda second=second: client.post(f"/api/v1/tasks/{second}/claim", headers=api)
        )
    assert_fixed(web, 17)
    assert_fixed(json, 19)


# --- the visit: check-out, the confirmation link, the resident's confirmation ------------------


def test_check_out(app, client):
    login(client, DEMO.volunteer)
    api = bearer(client, DEMO.volunteer)
    web, json = {}, {}
    for size in SIZES:
        task_id, door = checked_in(app, size)
        web[size] = measured(
            app, lambda t=task_id, d=door: client.post(f"/d/{d}/check-out", data={"task_id": t})
        )
        clock.freeze(None)
        task_id, door = checked_in(app, 0)
        json[size] = measured(
            app,
            lambda t=task_id, d=door: client.post(
                f"/api/v1/tasks/{t}/check-out", json={"door_token": d}, headers=api
            ),
        )
        clock.freeze(None)
    assert_fixed(web, 9)
    assert_fixed(json, 11)


def test_confirmation_link(app, client):
    login(client, DEMO.volunteer)
    api = bearer(client, DEMO.volunteer)
    web, json = {}, {}
    for size in SIZES:
        task_id, _path = checked_out(app, size)
        web[size] = measured(app, lambda t=task_id: client.get(f"/visits/{t}/confirm-qr"))
        json[size] = measured(
            app, lambda t=task_id: client.post(f"/api/v1/tasks/{t}/confirmation", headers=api)
        )
        clock.freeze(None)
    assert_fixed(web, 4)
    assert_fixed(json, 5)


def test_resident_confirms(app):
    """The resident's page and the confirmation that pays: the volunteer's past awards do not add statements."""
    resident = app.test_client()
    page, confirm = {}, {}
    grown = 0
    for size in SIZES:
        awards_of(app, size - grown)
        grown = size
        _task_id, path = checked_out(app, size)
        page[size] = measured(app, lambda p=path: resident.get(p))
        confirm[size] = measured(
            app, lambda p=path: resident.post(p, data={"rating": "5", "comment": "谢谢"})
        )
        clock.freeze(None)
    assert_fixed(page, 3)
    assert_fixed(confirm, 32)  # the award: rules, daily cap, ledger, honour tallies and totals, notification


# --- my points ------------------------------------------------------------------------------------


def test_my_points(app, client):
    login(client, DEMO.volunteer)
    api = bearer(client, DEMO.volunteer)
    web, json = {}, {}
    grown = 0
    for size in SIZES:
        awards_of(app, size - grown)
        grown = size
        client.get("/me/points")
        web[size] = measured(app, lambda: client.get("/me/points"))
        json[size] = measured(app, lambda: client.get("/api/v1/me/points", headers=api))
    assert_fixed(web, 9)
    assert_fixed(json, 8)


# --- the honour board -------------------------------------------------------------------------


def test_honour_board(app, client):
    """Computed (the cache empty for this scope) and from the cache; volunteers and teams."""
    web, json, web_cached, json_cached, teams_json = {}, {}, {}, {}, {}
    for size in SIZES:
        community = board_community(app, size)
        url = f"/honour-board?scope=community:{community}&period=month"
        api = f"/api/v1/honour-board?scope=community:{community}&period=month&limit=200"
        web[size] = measured(app, lambda url=url: client.get(url))
        web_cached[size] = measured(app, lambda url=url: client.get(url))
        json[size] = measured(app, lambda api=api: client.get(api))
        json_cached[size] = measured(app, lambda api=api: client.get(api))
        teams_json[size] = measured(app, lambda api=api: client.get(api + "&kind=teams"))
    assert_fixed(web, 7)  # scope choices (3), the scope, volunteers (rows, streaks), teams
    assert_fixed(web_cached, 4)  # scope choices (3), the scope
    assert_fixed(json, 3)
    assert_fixed(json_cached, 1)
    assert_fixed(teams_json, 2)


# --- a grid worker's household list and warning list ----------------------------------------


def test_household_list(app, client):
    login(client, DEMO.grid_worker)
    api = bearer(client, DEMO.grid_worker)
    web, json = {}, {}
    grown = 0
    for size in SIZES:
        households(app, size - grown)
        grown = size
        client.get("/registry/")
        web[size] = measured(app, lambda: client.get("/registry/"))
        json[size] = measured(app, lambda: client.get("/api/v1/households", headers=api))
    assert_fixed(web, 10)
    assert_fixed(json, 6)


def test_warning_list(app, client):
    login(client, DEMO.grid_worker)
    web = {}
    grown = 0
    for size in SIZES:
        households(app, size - grown, long_ago=True)
        grown = size
        client.get("/registry/warnings")
        web[size] = measured(app, lambda: client.get("/registry/warnings"))
    assert_fixed(web, 9)

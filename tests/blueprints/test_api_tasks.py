"""The tasks API: the service catalogue, posting (and refusals that write
nothing), the board, claiming under its rules, the waiting list, who sees a
household's address, scope for every role, and the OpenAPI document."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Grid, Role, ServiceType, Task, TaskEvent, WaitlistEntry
from tests.conftest import DEMO, count_rows
from tests.factories import make_household, make_user, user_by_phone

BASE = "/api/v1/tasks"
SECRET_BUILDING = "保密楼"
HEAD = "张三明"
PHONE = "13912340001"


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"]
    return body["error"]


def at(delta: timedelta) -> str:
    """An ISO 8601 time with Beijing's offset, `delta` from now."""
    return (clock.now() + delta).astimezone(clock.LOCAL_TZ).isoformat()


def task_body(household_id: int, **overrides) -> dict:
    body = {
        "household_id": household_id,
        "service_type": "housekeeping",
        "starts_at": at(timedelta(days=2)),
        "ends_at": at(timedelta(days=2, hours=2)),
        "slots": 1,
        "description": "打扫厨房",
    }
    body.update(overrides)
    return body


def assert_no_household_details(response) -> None:
    raw = response.get_data(as_text=True)
    for secret in (SECRET_BUILDING, PHONE, HEAD, "张*明"):
        assert secret not in raw, secret


@pytest.fixture
def org(app):
    """Grid ids and community ids: grids 1 and 2 of community 1, a grid of community 2."""
    with app.app_context():
        grid_1 = user_by_phone(DEMO.grid_worker).grid_id
        community_1 = user_by_phone(DEMO.community_worker).community_id
        other = db.session.scalar(sa.select(Grid).where(Grid.community_id != community_1).order_by(Grid.id))
        return {
            "g1": grid_1,
            "g2": user_by_phone(DEMO.grid_worker_2).grid_id,
            "other": other.id,
            "c1": community_1,
            "c2": other.community_id,
        }


@pytest.fixture
def households(app, org):
    """Household ids: one in grid 1 (the secret address), one in grid 2, one in community 2."""
    with app.app_context():
        return {
            "g1": make_household(
                user_by_phone(DEMO.grid_worker), building=SECRET_BUILDING, head_name=HEAD, contact_phone=PHONE
            ).id,
            "g2": make_household(user_by_phone(DEMO.grid_worker_2), building="二网格楼").id,
            "other": make_household(user_by_phone(DEMO.admin), org["other"], building="和谐楼").id,
        }


@pytest.fixture
def posted(client, api_token, households):
    """A one-slot task in grid 1, posted through the API by its grid worker: the detail."""
    response = client.post(BASE, json=task_body(households["g1"]), headers=api_token(DEMO.grid_worker))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- the catalogue -----------------------------------------------------------


def test_service_types_in_both_languages_without_a_token(app, client):
    chinese = client.get("/api/v1/service-types")
    assert chinese.status_code == 200
    housekeeping = {
        "code": "housekeeping",
        "name": "家政",
        "skill": "housekeeping",
        "points_per_visit": 10,
        "points_per_hour": 5,
    }
    assert housekeeping in chinese.get_json()
    english = client.get("/api/v1/service-types", headers={"Accept-Language": "en"}).get_json()
    assert {**housekeeping, "name": "Housekeeping"} in english
    assert [s["code"] for s in english] == [s["code"] for s in chinese.get_json()]
    with app.app_context():
        db.session.get(ServiceType, "haircut").active = False
        db.session.commit()
    codes = [s["code"] for s in client.get("/api/v1/service-types").get_json()]
    assert "haircut" not in codes and "housekeeping" in codes


# --- posting -----------------------------------------------------------------


def test_grid_worker_posts_a_task(app, client, api_token, households):
    body = task_body(households["g1"], slots=2, urgency="urgent", expected_minutes=90)
    response = client.post(BASE, json=body, headers=api_token(DEMO.grid_worker))
    assert response.status_code == 201
    task = response.get_json()
    assert task["status"] == "open" and task["slots"] == 2 and task["taken"] == 0
    assert task["urgency"] == "urgent" and task["expected_minutes"] == 90
    assert task["service_type"] == {"code": "housekeeping", "name": "家政"}
    assert task["description"] == "打扫厨房" and task["claims"] == [] and task["on_waitlist"] is False
    assert task["household"]["id"] == households["g1"]
    assert task["household"]["address"].startswith(SECRET_BUILDING)
    assert task["household"]["contact_phone"] == PHONE and task["household"]["head_name"] == "张*明"
    assert [(e["from_status"], e["to_status"]) for e in task["events"]] == [(None, "open")]
    with app.app_context():
        stored = db.session.get(Task, task["id"])
        assert stored.starts_at.isoformat() == task["starts_at"]
        assert abs(stored.starts_at - (clock.now() + timedelta(days=2))) < timedelta(minutes=1)


def test_a_community_worker_posts_too_and_the_default_is_one_slot(client, api_token, households):
    body = task_body(households["g2"])
    del body["slots"]
    response = client.post(BASE, json=body, headers=api_token(DEMO.community_worker))
    assert response.status_code == 201 and response.get_json()["slots"] == 1


BAD_BODIES = {
    "ends before it starts": (
        {"starts_at": at(timedelta(days=2)), "ends_at": at(timedelta(days=2, hours=-1))},
        422,
        "invalid_window",
    ),
    "starts in the past": (
        {"starts_at": at(timedelta(hours=-1)), "ends_at": at(timedelta(hours=1))},
        422,
        "start_in_past",
    ),
    "naive time": (
        {"starts_at": (clock.now() + timedelta(days=2)).replace(tzinfo=None).isoformat()},
        422,
        "validation_error",
    ),
    "not a time": ({"ends_at": "tomorrow"}, 422, "validation_error"),
    # Found by the fuzz run: year 9999 at -14:00 has no UTC time (it was a 500),
    # and year 9999 in UTC has no Beijing time (the task pages failed on it).
    "a time beyond UTC": (
        {"starts_at": "9999-12-31T20:00:00-14:00", "ends_at": "9999-12-31T21:00:00-14:00"},
        422,
        "validation_error",
    ),
    "a time beyond local time": (
        {"starts_at": "9999-12-31T20:00:00+00:00", "ends_at": "9999-12-31T21:00:00+00:00"},
        422,
        "validation_error",
    ),
    "a time before the calendar": (
        {"starts_at": "0001-01-01T00:00:00+14:00", "ends_at": "0001-01-01T01:00:00+14:00"},
        422,
        "validation_error",
    ),
    "next century": ({"starts_at": "2100-01-01T00:00:00+00:00"}, 422, "validation_error"),
    "no slots": ({"slots": 0}, 422, "invalid_slots"),
    "too many slots": ({"slots": 21}, 422, "invalid_slots"),
    "slots as text": ({"slots": "2"}, 422, "validation_error"),
    "unknown service type": ({"service_type": "juggling"}, 422, "unknown_service_type"),
    "empty description": ({"description": "   "}, 422, "invalid_text"),
    "unknown field": ({"address": "x"}, 422, "validation_error"),
    "missing field": ({"household_id": None}, 422, "validation_error"),
    "huge id": ({"household_id": 2**31}, 422, "validation_error"),
    "household of another grid": ({"household_id": "g2"}, 404, "not_found"),
    "household of another community": ({"household_id": "other"}, 404, "not_found"),
    "window longer than a day": ({"ends_at": at(timedelta(days=3, hours=1))}, 422, "invalid_window"),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_bad_bodies_are_refused_and_write_nothing(app, client, api_token, households, case):
    overrides, status, code = BAD_BODIES[case]
    overrides = dict(overrides)
    if isinstance(overrides.get("household_id"), str):
        overrides["household_id"] = households[overrides["household_id"]]
    body = task_body(overrides.pop("household_id", households["g1"]), **overrides)
    if body["household_id"] is None:
        del body["household_id"]
    with app.app_context():
        before = (count_rows(Task), count_rows(TaskEvent))
    response = client.post(BASE, json=body, headers=api_token(DEMO.grid_worker))
    assert response.status_code == status, response.get_json()
    assert error_of(response)["code"] == code
    assert_no_household_details(response)
    with app.app_context():
        assert (count_rows(Task), count_rows(TaskEvent)) == before


def test_body_that_is_not_json(app, client, api_token):
    headers = {**api_token(DEMO.grid_worker), "Content-Type": "application/json"}
    response = client.post(BASE, data="{household_id: 1", headers=headers)
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_json"


@pytest.mark.parametrize(
    "phone", [DEMO.volunteer, DEMO.resident, DEMO.partner, DEMO.street_officer], ids=lambda p: p
)
def test_only_grid_and_community_workers_post(app, client, api_token, households, phone):
    with app.app_context():
        before = count_rows(Task)
    response = client.post(BASE, json=task_body(households["g1"]), headers=api_token(phone))
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    with app.app_context():
        assert count_rows(Task) == before


# --- the board, claiming and the waiting list -----------------------------------


def test_claim_full_waitlist_and_unclaim(app, client, api_token, posted):
    task_id = posted["id"]
    first, second = api_token(DEMO.volunteer), api_token(DEMO.volunteer_2)
    worker = api_token(DEMO.grid_worker)

    board = client.get(BASE, headers=first)
    assert board.status_code == 200
    row = next(t for t in board.get_json()["items"] if t["id"] == task_id)
    assert row["status"] == "open" and row["description"] == "打扫厨房" and "household" not in row
    assert_no_household_details(board)
    before = client.get(f"{BASE}/{task_id}", headers=first)
    assert before.status_code == 200 and before.get_json()["household"] is None
    assert before.get_json()["claims"] == [] and before.get_json()["events"] is None
    assert_no_household_details(before)

    claimed = client.post(f"{BASE}/{task_id}/claim", headers=first)
    assert claimed.status_code == 200
    claim = claimed.get_json()
    assert claim["task_id"] == task_id and claim["status"] == "active" and claim["released_at"] is None
    with app.app_context():
        first_user = user_by_phone(DEMO.volunteer)
        first_id, first_name = first_user.id, first_user.name
        second_name = user_by_phone(DEMO.volunteer_2).name
    assert claim["volunteer"] == {"id": first_id, "name": first_name}

    mine = client.get(f"{BASE}/{task_id}", headers=first).get_json()
    assert mine["status"] == "claimed" and mine["taken"] == 1
    assert mine["household"]["address"].startswith(SECRET_BUILDING)
    assert mine["household"]["contact_phone"] == PHONE and mine["household"]["head_name"] == "张*明"
    assert HEAD not in str(mine)
    assert [c["id"] for c in mine["claims"]] == [claim["id"]]

    again = client.post(f"{BASE}/{task_id}/claim", headers=first)
    assert again.status_code == 409 and error_of(again)["code"] == "already_claimed"
    full = client.post(f"{BASE}/{task_id}/claim", headers=second)
    assert full.status_code == 409 and error_of(full)["code"] == "task_full"
    other_view = client.get(f"{BASE}/{task_id}", headers=second)
    assert other_view.get_json()["household"] is None and other_view.get_json()["claims"] == []
    assert_no_household_details(other_view)
    assert first_name not in other_view.get_data(as_text=True)
    # A full task leaves the board, but stays listed under its status.
    assert task_id not in {t["id"] for t in client.get(BASE, headers=second).get_json()["items"]}
    by_status = client.get(BASE, query_string={"status": "claimed"}, headers=second)
    assert task_id in {t["id"] for t in by_status.get_json()["items"]}
    assert_no_household_details(by_status)

    waiting = client.post(f"{BASE}/{task_id}/waitlist", headers=second)
    assert waiting.status_code == 201 and waiting.get_json()["task_id"] == task_id
    assert waiting.get_json()["position"] == 1
    assert client.get(f"{BASE}/{task_id}", headers=second).get_json()["on_waitlist"] is True
    twice = client.post(f"{BASE}/{task_id}/waitlist", headers=second)
    assert twice.status_code == 409 and error_of(twice)["code"] == "already_waiting"
    holder = client.post(f"{BASE}/{task_id}/waitlist", headers=first)
    assert holder.status_code == 409 and error_of(holder)["code"] == "already_claimed"

    staff = client.get(f"{BASE}/{task_id}", headers=worker).get_json()
    assert [(c["volunteer"]["name"], c["status"]) for c in staff["claims"]] == [(first_name, "active")]

    not_theirs = client.post(f"{BASE}/{task_id}/unclaim", json={"reason": "不想去"}, headers=second)
    assert not_theirs.status_code == 404 and error_of(not_theirs)["code"] == "not_claimed"
    released = client.post(f"{BASE}/{task_id}/unclaim", json={"reason": "临时加班"}, headers=first)
    assert released.status_code == 200
    assert released.get_json()["status"] == "released" and released.get_json()["release_reason"] == "临时加班"

    # The waiting volunteer now holds the place, and sees the address; the first no longer does.
    now_second = client.get(f"{BASE}/{task_id}", headers=second).get_json()
    assert now_second["status"] == "claimed" and now_second["on_waitlist"] is False
    assert [c["status"] for c in now_second["claims"]] == ["active"]
    assert now_second["household"]["address"].startswith(SECRET_BUILDING)
    now_first = client.get(f"{BASE}/{task_id}", headers=first)
    assert now_first.get_json()["household"] is None
    assert [c["status"] for c in now_first.get_json()["claims"]] == ["released"]
    assert_no_household_details(now_first)
    staff = client.get(f"{BASE}/{task_id}", headers=worker).get_json()
    assert {(c["volunteer"]["name"], c["status"]) for c in staff["claims"]} == {
        (first_name, "released"),
        (second_name, "active"),
    }
    assert [(e["from_status"], e["to_status"]) for e in staff["events"]] == [
        (None, "open"),
        ("open", "claimed"),
        ("claimed", "open"),
        ("open", "claimed"),
    ]
    with app.app_context():
        assert count_rows(WaitlistEntry) == 0


def test_leaving_the_waiting_list(client, api_token, posted):
    task_id = posted["id"]
    second = api_token(DEMO.volunteer_2)
    not_full = client.post(f"{BASE}/{task_id}/waitlist", headers=second)
    assert not_full.status_code == 409 and error_of(not_full)["code"] == "not_full"
    assert client.post(f"{BASE}/{task_id}/claim", headers=api_token(DEMO.volunteer)).status_code == 200
    assert client.post(f"{BASE}/{task_id}/waitlist", headers=second).status_code == 201
    left = client.delete(f"{BASE}/{task_id}/waitlist", headers=second)
    assert left.status_code == 204 and left.get_data() == b""
    assert client.get(f"{BASE}/{task_id}", headers=second).get_json()["on_waitlist"] is False
    again = client.delete(f"{BASE}/{task_id}/waitlist", headers=second)
    assert again.status_code == 404 and error_of(again)["code"] == "not_waiting"


def test_unclaim_refusals(client, api_token, posted):
    task_id = posted["id"]
    first = api_token(DEMO.volunteer)
    assert client.post(f"{BASE}/{task_id}/claim", headers=first).status_code == 200
    for body, code in (
        ({}, "validation_error"),
        ({"reason": "  "}, "reason_required"),
        ({"reason": "x" * 301}, "validation_error"),
        ({"reason": "加班", "extra": 1}, "validation_error"),
    ):
        response = client.post(f"{BASE}/{task_id}/unclaim", json=body, headers=first)
        assert response.status_code == 422 and error_of(response)["code"] == code, body
    clock.freeze(clock.now() + timedelta(days=2, minutes=5))
    try:
        late = client.post(f"{BASE}/{task_id}/unclaim", json={"reason": "加班"}, headers=first)
        assert late.status_code == 409 and error_of(late)["code"] == "task_started"
        started = client.post(f"{BASE}/{task_id}/claim", headers=api_token(DEMO.volunteer_2))
        assert (
            started.status_code == 409 and error_of(started)["code"] == "task_started"
        )  # started wins over full: it says why waiting is pointless
    finally:
        clock.freeze(None)
    assert client.get(f"{BASE}/{task_id}", headers=first).get_json()["claims"][0]["status"] == "active"


def test_a_started_open_task_cannot_be_claimed(client, api_token, households):
    body = task_body(households["g1"], slots=2)
    task_id = client.post(BASE, json=body, headers=api_token(DEMO.grid_worker)).get_json()["id"]
    clock.freeze(clock.now() + timedelta(days=2, minutes=5))
    try:
        response = client.post(f"{BASE}/{task_id}/claim", headers=api_token(DEMO.volunteer))
        assert response.status_code == 409 and error_of(response)["code"] == "task_started"
    finally:
        clock.freeze(None)


def test_overlapping_claims_are_refused(client, api_token, households):
    worker, volunteer = api_token(DEMO.grid_worker), api_token(DEMO.volunteer)
    first = client.post(BASE, json=task_body(households["g1"]), headers=worker).get_json()
    second = client.post(
        BASE, json=task_body(households["g2"]), headers=api_token(DEMO.grid_worker_2)
    ).get_json()
    assert client.post(f"{BASE}/{first['id']}/claim", headers=volunteer).status_code == 200
    overlap = client.post(f"{BASE}/{second['id']}/claim", headers=volunteer)
    assert overlap.status_code == 409 and error_of(overlap)["code"] == "overlapping_task"


# --- who sees what ---------------------------------------------------------------


def test_volunteer_of_another_community_gets_404(app, client, api_token, org, posted):
    with app.app_context():
        stranger = make_user(Role.VOLUNTEER, grid_id=org["other"])
        phone = stranger.phone
    headers = api_token(phone, "test-pass-8642")
    task_id = posted["id"]
    missing = client.get(f"{BASE}/2147483000", headers=headers)
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    for response in (
        client.get(f"{BASE}/{task_id}", headers=headers),
        client.post(f"{BASE}/{task_id}/claim", headers=headers),
        client.post(f"{BASE}/{task_id}/waitlist", headers=headers),
    ):
        assert response.status_code == 404 and response.get_json() == missing.get_json()
    board = client.get(BASE, headers=headers).get_json()
    assert task_id not in {t["id"] for t in board["items"]}
    # Asking for another community's tasks gives an empty list.
    asked = client.get(BASE, query_string={"community_id": org["c1"]}, headers=headers).get_json()
    assert asked["items"] == [] and asked["total"] == 0
    with app.app_context():
        assert count_rows(WaitlistEntry) == 0


def test_volunteer_community_filter_and_pagination(client, api_token, org, households):
    worker = api_token(DEMO.grid_worker)
    made = [
        client.post(
            BASE,
            json=task_body(
                households["g1"], starts_at=at(timedelta(days=d)), ends_at=at(timedelta(days=d, hours=1))
            ),
            headers=worker,
        ).get_json()["id"]
        for d in (3, 4, 5)
    ]
    volunteer = api_token(DEMO.volunteer)
    own = client.get(BASE, query_string={"community_id": org["c1"], "per_page": 100}, headers=volunteer)
    assert set(made) <= {t["id"] for t in own.get_json()["items"]}
    other = client.get(BASE, query_string={"community_id": org["c2"]}, headers=volunteer).get_json()
    assert other["items"] == [] and other["total"] == 0
    page = client.get(BASE, query_string={"per_page": 1, "page": 2}, headers=volunteer).get_json()
    assert page["page"] == 2 and page["per_page"] == 1 and len(page["items"]) == 1
    assert page["total"] >= 3
    # The board: soonest first (same urgency).
    ids = [
        t["id"]
        for t in client.get(BASE, query_string={"per_page": 100}, headers=volunteer).get_json()["items"]
    ]
    assert [i for i in ids if i in made] == made
    filtered = client.get(BASE, query_string={"service_type": "tutoring"}, headers=volunteer).get_json()
    assert not set(made) & {t["id"] for t in filtered["items"]}


SEES = {
    DEMO.grid_worker: {"g1"},
    DEMO.grid_worker_2: {"g2"},
    DEMO.community_worker: {"g1", "g2"},
    DEMO.street_officer: {"g1", "g2", "other"},
    DEMO.admin: {"g1", "g2", "other"},
}


@pytest.mark.parametrize("phone", list(SEES))
def test_staff_see_the_tasks_in_their_scope(client, api_token, org, households, phone):
    poster = {"g1": DEMO.grid_worker, "g2": DEMO.grid_worker_2, "other": DEMO.admin}
    made = {
        key: client.post(BASE, json=task_body(households[key]), headers=api_token(poster[key])).get_json()[
            "id"
        ]
        for key in ("g1", "g2", "other")
    }
    headers = api_token(phone)
    listed = client.get(BASE, query_string={"per_page": 100}, headers=headers).get_json()
    assert {key for key, task_id in made.items() if task_id in {t["id"] for t in listed["items"]}} == SEES[
        phone
    ]
    for key, task_id in made.items():
        response = client.get(f"{BASE}/{task_id}", headers=headers)
        assert response.status_code == (200 if key in SEES[phone] else 404), key
    in_c1 = client.get(
        BASE, query_string={"community_id": org["c1"], "per_page": 100}, headers=headers
    ).get_json()
    assert {t["grid"]["id"] for t in in_c1["items"]} <= {org["g1"], org["g2"]}
    cancelled = client.get(BASE, query_string={"status": "cancelled"}, headers=headers).get_json()
    assert not set(made.values()) & {t["id"] for t in cancelled["items"]}
    tutoring = client.get(BASE, query_string={"service_type": "tutoring"}, headers=headers).get_json()
    assert not set(made.values()) & {t["id"] for t in tutoring["items"]}


@pytest.mark.parametrize("phone", [DEMO.resident, DEMO.partner])
def test_other_roles_are_forbidden(client, api_token, posted, phone):
    headers = api_token(phone)
    task_id = posted["id"]
    for response in (
        client.get(BASE, headers=headers),
        client.get(f"{BASE}/{task_id}", headers=headers),
        client.post(f"{BASE}/{task_id}/claim", headers=headers),
        client.post(f"{BASE}/{task_id}/unclaim", json={"reason": "x"}, headers=headers),
        client.post(f"{BASE}/{task_id}/waitlist", headers=headers),
        client.delete(f"{BASE}/{task_id}/waitlist", headers=headers),
    ):
        assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
        assert_no_household_details(response)


def test_staff_do_not_claim_and_tokens_are_needed(client, api_token, posted):
    task_id = posted["id"]
    staff = client.post(f"{BASE}/{task_id}/claim", headers=api_token(DEMO.grid_worker))
    assert staff.status_code == 403 and error_of(staff)["code"] == "forbidden"
    for response in (
        client.get(BASE),
        client.get(f"{BASE}/{task_id}"),
        client.post(f"{BASE}/{task_id}/claim"),
    ):
        assert response.status_code == 401 and error_of(response)["code"] == "missing_token"


def test_bad_ids_and_queries(client, api_token):
    headers = api_token(DEMO.volunteer)
    for path in (f"{BASE}/2147483648", f"{BASE}/99999999999999999999/claim", f"{BASE}/0"):
        response = (
            client.get(path, headers=headers) if "claim" not in path else client.post(path, headers=headers)
        )
        assert response.status_code == 404 and error_of(response)["code"] == "not_found", path
    for query in ({"community_id": 2**31}, {"status": "nonsense"}, {"per_page": 0}, {"page": "x"}):
        response = client.get(BASE, query_string=query, headers=headers)
        assert response.status_code == 422 and error_of(response)["code"] == "validation_error", query


# --- the OpenAPI document ---------------------------------------------------------


def test_openapi_documents_the_tasks_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    expected = {
        ("/api/v1/tasks", "get"): {"200", "401", "403", "422"},
        ("/api/v1/tasks", "post"): {"201", "400", "401", "403", "404", "409", "422"},
        ("/api/v1/tasks/{task_id}", "get"): {"200", "401", "403", "404"},
        ("/api/v1/tasks/{task_id}/claim", "post"): {"200", "401", "403", "404", "409"},
        ("/api/v1/tasks/{task_id}/unclaim", "post"): {"200", "400", "401", "403", "404", "409", "422"},
        ("/api/v1/tasks/{task_id}/waitlist", "post"): {"201", "401", "403", "404", "409"},
        ("/api/v1/tasks/{task_id}/waitlist", "delete"): {"204", "401", "403", "404"},
    }
    for (path, method), codes in expected.items():
        operation = paths[path][method]
        assert codes <= set(operation["responses"]), (path, method)
        assert operation["security"] == [{"bearer": []}]
        for code in codes - {"200", "201", "204"}:
            schema = operation["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    assert "task_full" in paths["/api/v1/tasks/{task_id}/claim"]["post"]["responses"]["409"]["description"]
    service_types = paths["/api/v1/service-types"]["get"]
    assert "security" not in service_types and "200" in service_types["responses"]
    schemas = spec["components"]["schemas"]
    assert set(schemas["ServiceTypeOut"]["properties"]) == {
        "code",
        "name",
        "skill",
        "points_per_visit",
        "points_per_hour",
    }
    assert "household" not in schemas["TaskSummary"]["properties"]
    assert set(schemas["HouseholdContact"]["properties"]) == {"id", "address", "contact_phone", "head_name"}
    assert set(schemas["TaskIn"]["properties"]) == {
        "household_id",
        "service_type",
        "starts_at",
        "ends_at",
        "slots",
        "description",
        "expected_minutes",
        "urgency",
        "need_id",
    }
    query = {p["name"] for p in paths["/api/v1/tasks"]["get"]["parameters"]}
    assert query == {"status", "service_type", "community_id", "page", "per_page"}

"""The visit over the JSON API: check-in/out by the door card decoded from its
PNG, the confirmation link and QR, and the door-card image's scope."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Claim, ClaimStatus, Task, TaskStatus
from tests.conftest import DEMO
from tests.services.test_visits import decode_qr, path_tail, visit_task


@pytest.fixture
def at():
    yield clock.freeze
    clock.freeze(None)


@pytest.fixture
def visit(app):
    with app.app_context(), app.test_request_context():
        task, _card = visit_task()
        other_task, _other_card = visit_task(claimants=())
        return task.id, task.household_id, other_task.household_id, task.starts_at


def state(app, task_id):
    with app.app_context():
        claim = db.session.scalar(sa.select(Claim).where(Claim.task_id == task_id))
        return db.session.get(Task, task_id).status, claim.status


def door_token(client, headers, household_id) -> str:
    response = client.get(f"/api/v1/households/{household_id}/door-card.png", headers=headers)
    assert response.status_code == 200 and response.mimetype == "image/png"
    return path_tail(decode_qr(response.data), "/d/")


def test_whole_visit_through_the_api(app, client, api_token, visit, at):
    task_id, household_id, _other, starts_at = visit
    door = door_token(client, api_token(DEMO.grid_worker), household_id)
    me = api_token(DEMO.volunteer)
    at(starts_at - timedelta(minutes=10))
    response = client.post(f"/api/v1/tasks/{task_id}/check-in", json={"door_token": door}, headers=me)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["claim_status"] == "checked_in" and body["task_status"] == "in_progress"

    at(starts_at + timedelta(hours=1))
    response = client.post(f"/api/v1/tasks/{task_id}/check-out", json={"door_token": door}, headers=me)
    assert response.get_json()["task_status"] == "awaiting_confirmation"

    response = client.post(f"/api/v1/tasks/{task_id}/confirmation", headers=me)
    assert response.status_code == 200
    url = response.get_json()["url"]
    assert response.get_json()["expires_at"].startswith(
        (starts_at + timedelta(hours=1, minutes=30)).strftime("%Y-%m-%dT%H:%M")
    )
    image = client.get(f"/api/v1/tasks/{task_id}/confirmation.png", headers=me)
    assert image.mimetype == "image/png" and image.headers["Cache-Control"] == "no-store"
    assert decode_qr(image.data) == url  # the same live link, not a new one

    resident = app.test_client()
    path = urlsplit(url).path
    assert resident.get(path).status_code == 200
    assert resident.post(path, data={"rating": "5", "comment": ""}).status_code == 302
    assert state(app, task_id) == (TaskStatus.VERIFIED, ClaimStatus.CONFIRMED)
    assert resident.post(path, data={"rating": "5"}).status_code == 410


def post(client, headers, task_id, what, door):
    return client.post(f"/api/v1/tasks/{task_id}/{what}", json={"door_token": door}, headers=headers)


def test_check_in_refusals_change_nothing(app, client, api_token, visit, at):
    task_id, household_id, other_household, starts_at = visit
    staff = api_token(DEMO.grid_worker)
    door, other_door = door_token(client, staff, household_id), door_token(client, staff, other_household)
    me = api_token(DEMO.volunteer)
    cases = [
        (starts_at, "check-in", other_door, 409, "wrong_household"),
        (starts_at, "check-in", door[:-2] + "xx", 422, "invalid_door_token"),
        (starts_at, "check-in", "ABCDEFGH", 422, "invalid_door_token"),
        (starts_at, "check-out", door, 409, "not_checked_in"),
        (starts_at - timedelta(minutes=31), "check-in", door, 409, "too_early"),
        (starts_at + timedelta(hours=3), "check-in", door, 409, "window_closed"),
    ]
    for moment, what, token, status, code in cases:
        at(moment)
        response = post(client, me, task_id, what, token)
        assert (response.status_code, response.get_json()["error"]["code"]) == (status, code)
        assert state(app, task_id) == (TaskStatus.CLAIMED, ClaimStatus.ACTIVE)
    at(starts_at)
    response = client.post(f"/api/v1/tasks/{task_id}/confirmation", headers=me)
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "not_checked_out")
    response = post(client, api_token(DEMO.volunteer_2), task_id, "check-in", door)
    assert (response.status_code, response.get_json()["error"]["code"]) == (404, "not_claimed")
    assert post(client, staff, task_id, "check-in", door).status_code == 403
    assert post(client, {}, task_id, "check-in", door).status_code == 401
    response = client.post(f"/api/v1/tasks/{task_id}/check-in", json={}, headers=me)
    assert response.status_code == 422
    response = client.post(f"/api/v1/tasks/{task_id}/check-in", json={"door_token": door, "x": 1}, headers=me)
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("phone", "status"),
    [
        (DEMO.grid_worker, 200),
        (DEMO.community_worker, 200),
        (DEMO.street_officer, 200),
        (DEMO.admin, 200),
        (DEMO.grid_worker_2, 404),
        (DEMO.volunteer, 403),
    ],
)
def test_door_card_png_scope(client, api_token, visit, phone, status):
    response = client.get(f"/api/v1/households/{visit[1]}/door-card.png", headers=api_token(phone))
    assert response.status_code == status
    if status != 200:
        assert response.get_json()["error"]["code"]


def test_door_card_png_without_a_card_and_unknown_household(app, client, api_token, visit):
    staff = api_token(DEMO.grid_worker)
    with app.app_context():
        from tests.factories import make_household, user_by_phone

        bare = make_household(user_by_phone(DEMO.grid_worker), building="无卡楼").id
    response = client.get(f"/api/v1/households/{bare}/door-card.png", headers=staff)
    assert (response.status_code, response.get_json()["error"]["code"]) == (404, "no_door_card")
    assert client.get("/api/v1/households/2147483647/door-card.png", headers=staff).status_code == 404


def test_openapi_documents_the_visit_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method, statuses in [
        ("/api/v1/tasks/{task_id}/check-in", "post", {"200", "400", "401", "403", "404", "409", "422"}),
        ("/api/v1/tasks/{task_id}/check-out", "post", {"200", "400", "401", "403", "404", "409", "422"}),
        ("/api/v1/tasks/{task_id}/confirmation", "post", {"200", "401", "403", "404", "409"}),
        ("/api/v1/tasks/{task_id}/confirmation.png", "get", {"200", "401", "403", "404", "409"}),
        ("/api/v1/households/{household_id}/door-card.png", "get", {"200", "401", "403", "404"}),
    ]:
        assert statuses <= set(paths[path][method]["responses"]), path
    assert (
        "image/png" in paths["/api/v1/tasks/{task_id}/confirmation.png"]["get"]["responses"]["200"]["content"]
    )

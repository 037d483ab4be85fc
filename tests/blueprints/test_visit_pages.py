"""The visit through the web: door card pages, check-in and check-out, the
confirmation QR, the resident's page without login, proxies and staff pages."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Claim, ClaimStatus, ConfirmedVia, Task, TaskStatus
from app.services import visits
from tests.conftest import DEMO
from tests.services.test_visits import decode_qr, path_tail, visit_task, volunteer


@pytest.fixture
def at():
    yield clock.freeze
    clock.freeze(None)


@pytest.fixture
def visit(app):
    """(task id, household id, household address) with volunteer 1's claim and a door card."""
    with app.app_context(), app.test_request_context():
        task, _card = visit_task()
        household = db.session.get(Task, task.id).household_id
        from app.models import Household

        address = db.session.get(Household, household).address
        return task.id, household, address, task.starts_at


def claim_row(app, task_id):
    with app.app_context():
        claim = db.session.scalar(sa.select(Claim).where(Claim.task_id == task_id))
        task = db.session.get(Task, task_id)
        return task.status, claim.status, claim.confirmed_via


def login(client, phone):
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"phone": phone, "password": DEMO.password})
    assert response.status_code == 302


def door_path(app, client, household_id) -> str:
    login(client, DEMO.grid_worker)
    response = client.get(f"/registry/{household_id}/door-card.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    url = decode_qr(response.data)
    client.post("/auth/logout")
    return urlsplit(url).path


def test_whole_visit_through_the_web(app, client, visit, at):
    task_id, household_id, address, starts_at = visit
    door = door_path(app, client, household_id)
    assert door.startswith("/d/")

    at(starts_at + timedelta(minutes=5))
    login(client, DEMO.volunteer)
    page = client.get(door).get_data(as_text=True)
    assert f'action="{door}/check-in"' in page and address not in page
    response = client.post(f"{door}/check-in", data={"task_id": task_id})
    assert response.status_code == 302
    assert claim_row(app, task_id)[:2] == (TaskStatus.IN_PROGRESS, ClaimStatus.CHECKED_IN)
    assert f'action="{door}/check-out"' in client.get(door).get_data(as_text=True)

    at(starts_at + timedelta(hours=1))
    response = client.post(f"{door}/check-out", data={"task_id": task_id})
    assert response.status_code == 302 and response.location.endswith(f"/visits/{task_id}/confirm-qr")
    assert claim_row(app, task_id)[:2] == (TaskStatus.AWAITING_CONFIRMATION, ClaimStatus.CHECKED_OUT)

    page = client.get(f"/visits/{task_id}/confirm-qr")
    assert page.status_code == 200 and f"/visits/{task_id}/confirmation.png" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    expiry = (starts_at + timedelta(hours=1, minutes=30)).astimezone(clock.LOCAL_TZ).strftime("%H:%M")
    assert expiry in page.get_data(as_text=True)  # shown in Beijing time
    image = client.get(f"/visits/{task_id}/confirmation.png")
    assert image.mimetype == "image/png" and image.headers["Cache-Control"] == "no-store"
    confirm_path = urlsplit(decode_qr(image.data)).path
    assert confirm_path.startswith("/c/")

    resident = app.test_client()  # a fresh phone: no login
    page = resident.get(confirm_path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="rating"' in text and 'name="comment"' in text
    assert "测*户" not in text and address not in text
    response = resident.post(confirm_path, data={"rating": "5", "comment": "谢谢"})
    assert response.status_code == 302 and response.location.endswith("/c/thanks")
    assert resident.get(response.location).status_code == 200
    assert claim_row(app, task_id) == (TaskStatus.VERIFIED, ClaimStatus.CONFIRMED, ConfirmedVia.QR)

    replay = resident.post(confirm_path, data={"rating": "1"})
    assert replay.status_code == 410 and "Traceback" not in replay.get_data(as_text=True)


def checked_out_link(app, visit, at) -> str:
    task_id, household_id, _address, starts_at = visit
    at(starts_at + timedelta(minutes=5))
    with app.app_context(), app.test_request_context():
        card = visits.current_card(household_id)
        token = visits.door_token(card)
        visits.check_in(volunteer(), task_id, token)
        visits.check_out(volunteer(), task_id, token)
        url, _ = visits.confirmation_link(volunteer(), task_id)
    return urlsplit(url).path


def test_refused_links_answer_plain_pages(app, client, visit, at):
    task_id = visit[0]
    path = checked_out_link(app, visit, at)
    token = path_tail(path, "/c/")
    tampered = "/c/" + token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    for bad, status in ((tampered, 400), ("/c/nonsense", 400)):
        for method in (client.get, client.post):
            response = method(bad, data={"rating": "5"})
            assert response.status_code == status
            assert "Traceback" not in response.get_data(as_text=True)
    at(clock.now() + timedelta(minutes=31))
    assert client.get(path).status_code == 410
    assert client.post(path, data={"rating": "5"}).status_code == 410
    assert claim_row(app, task_id)[1] is ClaimStatus.CHECKED_OUT


def test_claimant_cannot_confirm_own_visit(app, client, visit, at):
    task_id = visit[0]
    path = checked_out_link(app, visit, at)
    login(client, DEMO.volunteer)
    assert client.get(path).status_code == 403
    assert client.post(path, data={"rating": "5"}).status_code == 403
    assert claim_row(app, task_id)[1] is ClaimStatus.CHECKED_OUT


def test_missing_rating_is_asked_again(app, client, visit, at):
    task_id = visit[0]
    path = checked_out_link(app, visit, at)
    response = client.post(path, data={"comment": "好"})
    assert response.status_code == 422 and 'name="rating"' in response.get_data(as_text=True)
    assert claim_row(app, task_id)[1] is ClaimStatus.CHECKED_OUT


def test_confirmation_form_carries_the_contract_fields_with_csrf(app, client, visit, at):
    path = checked_out_link(app, visit, at)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post(path, data={"rating": "5"}).status_code == 400  # no CSRF token
        page = client.get(path).get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(path, data={"rating": "4", "comment": "", "csrf_token": csrf})
        assert response.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert claim_row(app, visit[0])[1] is ClaimStatus.CONFIRMED


def test_door_page_for_strangers_shows_nothing_of_the_household(app, client, visit, at):
    _task_id, household_id, address, starts_at = visit
    door = door_path(app, client, household_id)
    for who in (None, DEMO.volunteer_2, DEMO.volunteer):
        if who:
            login(client, who)
        response = client.get(door)
        text = response.get_data(as_text=True)
        assert response.status_code == 200 and address not in text and "/check-in" not in text
    assert client.get("/d/forged.token").status_code == 404


def test_check_in_refusals_through_the_web(app, client, visit, at):
    task_id, household_id, _address, starts_at = visit
    door = door_path(app, client, household_id)
    login(client, DEMO.volunteer)
    at(starts_at - timedelta(hours=1))
    client.post(f"{door}/check-in", data={"task_id": task_id})  # too early
    client.post(f"{door}/check-out", data={"task_id": task_id})  # not checked in
    assert claim_row(app, task_id)[1] is ClaimStatus.ACTIVE
    login(client, DEMO.volunteer_2)
    at(starts_at)
    client.post(f"{door}/check-in", data={"task_id": task_id})
    assert claim_row(app, task_id)[:2] == (TaskStatus.CLAIMED, ClaimStatus.ACTIVE)


@pytest.mark.parametrize(
    ("phone", "status"),
    [(DEMO.grid_worker, 200), (DEMO.street_officer, 200), (DEMO.grid_worker_2, 404), (DEMO.volunteer, 403)],
)
def test_staff_door_card_pages_are_scoped(app, client, visit, phone, status):
    household_id = visit[1]
    login(client, phone)
    for suffix in ("door-card", "door-card.png", "door-card.svg"):
        assert (
            client.get(f"/registry/{household_id}/door-card" + suffix[len("door-card") :]).status_code
            == status
        )


@pytest.mark.parametrize("form", [{}, {"phone": DEMO.resident, "relation": "女儿"}])
def test_linking_a_proxy_to_another_grids_household_is_not_found(app, client, visit, form):
    """An incomplete form once answered another grid's household with a flash and a redirect to
    its door-card page; the household is looked up first now, as on every object URL."""
    household_id = visit[1]
    login(client, DEMO.grid_worker_2)
    assert client.post(f"/registry/{household_id}/proxies", data=form).status_code == 404


def test_staff_reissue_revoke_and_print_sheet(app, client, visit):
    household_id = visit[1]
    login(client, DEMO.grid_worker)
    old = urlsplit(decode_qr(client.get(f"/registry/{household_id}/door-card.png").data)).path
    assert client.post(f"/registry/{household_id}/door-card/issue").status_code == 302
    new = urlsplit(decode_qr(client.get(f"/registry/{household_id}/door-card.png").data)).path
    assert new != old and client.get(old).status_code == 404 and client.get(new).status_code == 200
    svg = client.get(f"/registry/{household_id}/door-card.svg")
    assert svg.mimetype == "image/svg+xml" and svg.data.startswith(b"<svg")

    with app.app_context():
        from app.models import Household

        grid_id = db.session.get(Household, household_id).grid_id
    assert client.post(f"/registry/grids/{grid_id}/door-cards").status_code == 302
    sheet = client.get(f"/registry/grids/{grid_id}/door-cards").get_data(as_text=True)
    assert "css/print.css" in sheet and "style=" not in sheet and "<script" not in sheet
    with app.app_context():
        code = visits.current_card(household_id).code
    assert code in sheet

    assert client.post(f"/registry/{household_id}/door-card/revoke").status_code == 302
    assert client.get(new).status_code == 404
    assert client.get(f"/registry/{household_id}/door-card.png").status_code == 404


def test_proxy_pending_page_and_confirmation(app, client, visit, at):
    task_id, household_id = visit[0], visit[1]
    checked_out_link(app, visit, at)
    login(client, DEMO.grid_worker)
    client.post(f"/registry/{household_id}/proxies", data={"phone": DEMO.resident, "relation": "女儿"})
    assert DEMO.resident not in client.get(f"/registry/{household_id}/door-card").get_data(as_text=True)
    client.post("/auth/logout")
    login(client, DEMO.resident)
    with app.app_context():
        claim_id = db.session.scalar(sa.select(Claim.id).where(Claim.task_id == task_id))
    page = client.get("/visits/pending").get_data(as_text=True)
    assert f"/visits/pending/{claim_id}" in page
    response = client.post(f"/visits/pending/{claim_id}", data={f"c{claim_id}-rating": "5"})
    assert response.status_code == 302
    assert claim_row(app, task_id) == (TaskStatus.VERIFIED, ClaimStatus.CONFIRMED, ConfirmedVia.PROXY)


def test_follow_up_call_page(app, client, visit, at):
    task_id = visit[0]
    checked_out_link(app, visit, at)
    with app.app_context():
        claim_id = db.session.scalar(sa.select(Claim.id).where(Claim.task_id == task_id))
    login(client, DEMO.grid_worker_2)
    assert client.get(f"/registry/visits/{claim_id}/follow-up-call").status_code == 404
    client.post("/auth/logout")
    login(client, DEMO.grid_worker)
    assert f"/registry/visits/{claim_id}/follow-up-call" in client.get("/registry/visits/awaiting").get_data(
        as_text=True
    )
    response = client.post(f"/registry/visits/{claim_id}/follow-up-call", data={"note": ""})
    assert response.status_code == 200 and claim_row(app, task_id)[1] is ClaimStatus.CHECKED_OUT
    response = client.post(
        f"/registry/visits/{claim_id}/follow-up-call", data={"note": "老人说来过", "rating": "5"}
    )
    assert response.status_code == 302
    assert claim_row(app, task_id) == (
        TaskStatus.VERIFIED,
        ClaimStatus.CONFIRMED,
        ConfirmedVia.FOLLOW_UP_CALL,
    )


def test_only_volunteers_see_confirmation_qr(app, client, visit):
    login(client, DEMO.grid_worker)
    assert client.get(f"/visits/{visit[0]}/confirm-qr").status_code == 403
    client.post("/auth/logout")
    login(client, DEMO.volunteer)
    assert client.get(f"/visits/{visit[0]}/confirm-qr").status_code == 409  # not checked out yet
    assert client.get(f"/visits/{visit[0]}/confirmation.png").status_code == 409
    login(client, DEMO.volunteer_2)
    assert client.get(f"/visits/{visit[0]}/confirm-qr").status_code == 404

"""一键求助 through the client: the public page (no login), its honeypot and
rate limit, and the staff inbox where requests are accepted or dismissed."""

import re

import pytest
import sqlalchemy as sa

from app.extensions import db as _db
from app.extensions import limiter
from app.models import HelpRequest, HelpRequestStatus, Need, NeedStatus
from tests.conftest import DEMO, count_rows
from tests.factories import make_household, user_by_phone

FORM = {
    "name": "孙桂兰",
    "phone": "13912345678",
    "address": "3号楼2单元301",
    "need": "帮忙买菜",
    "service_type_code": "",
}


@pytest.fixture
def grids(app):
    """Demo grid ids: grid 1 and grid 2 of community 1."""
    with app.app_context():
        return user_by_phone(DEMO.grid_worker).grid_id, user_by_phone(DEMO.grid_worker_2).grid_id


def requests_named(app, name) -> list[HelpRequest]:
    with app.app_context():
        return list(_db.session.scalars(sa.select(HelpRequest).where(HelpRequest.name == name)))


def stored(app) -> int:
    with app.app_context():
        return count_rows(HelpRequest)


def send(client, grid_id, **changes):
    return client.post(f"/help/g/{grid_id}", data=FORM | changes)


def send_from(client, grid_id, address, **changes):
    return client.post(f"/help/g/{grid_id}", data=FORM | changes, environ_base={"REMOTE_ADDR": address})


# --- the public page ---------------------------------------------------------


def test_choosing_a_grid_leads_to_its_form(client, grids):
    page = client.get("/help").get_data(as_text=True)
    assert "<optgroup" in page and "阳光社区" in page and 'method="get"' in page
    response = client.get(f"/help?grid_id={grids[0]}&submit=x")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/help/g/{grids[0]}")
    assert client.get("/help?grid_id=999999").status_code == 200  # the chooser again, with an error


def test_the_form_shows_the_grid_and_active_services(client, grids):
    page = client.get(f"/help/g/{grids[0]}").get_data(as_text=True)
    assert "第一网格" in page and "阳光社区" in page
    assert 'value="errands"' in page  # a service from the catalogue
    assert re.search(r'<div class="field" hidden aria-hidden="true">\s*<label for="website">', page)
    assert 'tabindex="-1"' in page and 'autocomplete="off"' in page


def test_a_request_reaches_its_grids_inbox_only(app, client, auth, grids):
    response = send(client, grids[0], name="求助人甲")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/help/g/{grids[0]}/thanks")
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "第一网格" in thanks
    send(client, grids[1], name="求助人乙")

    auth.login(DEMO.grid_worker)
    page = client.get("/registry/inbox").get_data(as_text=True)
    assert "求助人甲" in page and "求助人乙" not in page
    auth.logout()
    auth.login(DEMO.grid_worker_2)
    page = client.get("/registry/inbox").get_data(as_text=True)
    assert "求助人乙" in page and "求助人甲" not in page
    auth.logout()
    auth.login(DEMO.community_worker)
    page = client.get("/registry/inbox").get_data(as_text=True)
    assert "求助人甲" in page and "求助人乙" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "12345"}, "请填写11位手机号或带区号的固定电话。"),
        ({"need": ""}, None),
        ({"name": ""}, None),
        ({"service_type_code": "no-such-service"}, None),
    ],
)
def test_bad_input_shows_the_form_again_and_stores_nothing(app, client, grids, changes, message):
    before = stored(app)
    response = send(client, grids[0], **changes)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="errors"' in page
    if message:
        assert message in page
    assert stored(app) == before


def test_an_unknown_grid_is_404_and_stores_nothing(app, client):
    before = stored(app)
    assert client.get("/help/g/999999").status_code == 404
    assert send(client, 999999).status_code == 404
    assert client.get("/help/g/999999/thanks").status_code == 404
    assert stored(app) == before


def test_the_honeypot_pretends_success_and_stores_nothing(app, client, grids):
    before = stored(app)
    response = send(client, grids[0], website="http://spam.example")
    assert response.status_code == 302 and response.headers["Location"].endswith("/thanks")
    assert stored(app) == before


def test_the_form_works_with_csrf_on(app, client, grids, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    before = stored(app)
    assert send(client, grids[0]).status_code == 400  # no token
    page = client.get(f"/help/g/{grids[0]}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert send(client, grids[0], csrf_token=token).status_code == 302
    assert stored(app) == before + 1


# --- the rate limit ----------------------------------------------------------


def test_a_runtime_config_change_does_not_turn_limits_on(app, client, grids, monkeypatch):
    """Flask-Limiter reads RATELIMIT_ENABLED once, in init_app: the shared test
    app stays unlimited, hence the separate app below."""
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", True)
    assert all(send(client, grids[0]).status_code == 302 for _ in range(7))


def test_the_rate_limit_answers_429_with_a_page(app, limited_app, grids):
    client = limited_app.test_client()
    before = stored(app)
    for _ in range(3):  # typos do not use up the allowance
        assert send(client, grids[0], phone="123").status_code == 200
    for _ in range(5):
        assert send(client, grids[0]).status_code == 302
    response = send(client, grids[0])
    assert response.status_code == 429
    assert response.mimetype == "text/html" and "Retry-After" in response.headers
    page = response.get_data(as_text=True)
    assert "尝试次数过多" in page and "Traceback" not in page
    assert stored(app) == before + 5
    assert client.get(f"/help/g/{grids[0]}").status_code == 200  # the form itself stays readable
    assert send_from(limited_app.test_client(), grids[1], "10.0.0.2").status_code == 302  # per address


def test_every_post_counts_towards_the_wider_limit(limited_app, grids):
    client = limited_app.test_client()
    statuses = [send_from(client, grids[0], "10.0.0.3", need="").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429


def test_the_shared_app_is_unlimited_again(client, grids):
    """Runs after the limited app's tests: the fixture put the limiter back."""
    assert not limiter.enabled
    assert all(send(client, grids[0], need="").status_code == 200 for _ in range(31))


# --- the inbox ---------------------------------------------------------------


@pytest.fixture
def request_id(app, client, grids):
    """A request sent to grid 1 through the public page."""
    send(client, grids[0], name="待处理", need="灯坏了")
    return requests_named(app, "待处理")[0].id


@pytest.mark.parametrize("path", ["/registry/inbox", "/registry/inbox/1"])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("phone", [DEMO.volunteer, DEMO.resident, DEMO.partner])
def test_non_staff_get_403(client, auth, request_id, phone):
    auth.login(phone)
    assert client.get("/registry/inbox").status_code == 403
    assert client.get(f"/registry/inbox/{request_id}").status_code == 403
    assert client.post(f"/registry/inbox/{request_id}/dismiss", data={"dismiss-note": "x"}).status_code == 403
    assert client.post(f"/registry/inbox/{request_id}/accept", data={}).status_code == 403


def test_another_grids_request_is_404(client, auth, request_id):
    auth.login(DEMO.grid_worker_2)
    assert client.get(f"/registry/inbox/{request_id}").status_code == 404
    assert client.post(f"/registry/inbox/{request_id}/dismiss", data={"dismiss-note": "x"}).status_code == 404
    assert client.get("/registry/inbox/999999").status_code == 404


def test_the_detail_page_prefills_the_accept_form(app, client, auth, request_id):
    with app.app_context():
        household = make_household(user_by_phone(DEMO.grid_worker), head_name="李大爷")
        household_id = household.id
    auth.login(DEMO.grid_worker)
    page = client.get(f"/registry/inbox/{request_id}").get_data(as_text=True)
    assert "灯坏了</textarea>" in page and "李大爷" in page and f'value="{household_id}"' in page
    assert f"/registry/inbox/{request_id}/accept" in page and f"/registry/inbox/{request_id}/dismiss" in page


def accept_form(household_id, **changes):
    data = {
        "accept-household_id": household_id,
        "accept-service_type_code": "repairs",
        "accept-urgency": "urgent",
        "accept-description": "厨房灯坏了",
    }
    return data | changes


def test_accepting_links_the_household_and_opens_a_need(app, client, auth, request_id):
    with app.app_context():
        household_id = make_household(user_by_phone(DEMO.grid_worker)).id
    auth.login(DEMO.grid_worker)
    response = client.post(f"/registry/inbox/{request_id}/accept", data=accept_form(household_id))
    assert response.status_code == 302 and response.headers["Location"].endswith("/registry/inbox")
    with app.app_context():
        request = _db.session.get(HelpRequest, request_id)
        assert request.status is HelpRequestStatus.ACCEPTED and request.household_id == household_id
        need = _db.session.scalar(sa.select(Need).where(Need.household_id == household_id))
        assert (need.status, need.service_type_code, need.description) == (
            NeedStatus.OPEN,
            "repairs",
            "厨房灯坏了",
        )

    client.post("/lang/en")
    again = client.post(f"/registry/inbox/{request_id}/accept", data=accept_form(household_id))
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/registry/inbox/{request_id}")
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "flash-error" in page and "This request has already been handled." in page
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).where(Need.household_id == household_id)) == 1


def test_a_refused_accept_shows_the_error_and_changes_nothing(app, client, auth, request_id):
    with app.app_context():
        household_id = make_household(user_by_phone(DEMO.grid_worker)).id
        needs = count_rows(Need)
    auth.login(DEMO.grid_worker)
    response = client.post(
        f"/registry/inbox/{request_id}/accept", data=accept_form(household_id, **{"accept-description": ""})
    )
    assert response.status_code == 200 and 'class="errors"' in response.get_data(as_text=True)
    with app.app_context():
        assert count_rows(Need) == needs
        assert _db.session.get(HelpRequest, request_id).status is HelpRequestStatus.NEW


def test_a_street_officer_sees_no_accept_form_and_is_refused(app, client, auth, request_id):
    with app.app_context():
        household_id = make_household(user_by_phone(DEMO.grid_worker)).id
    auth.login(DEMO.street_officer)
    client.post("/lang/en")
    page = client.get(f"/registry/inbox/{request_id}").get_data(as_text=True)
    assert "/accept" not in page and "/dismiss" in page
    response = client.post(f"/registry/inbox/{request_id}/accept", data=accept_form(household_id))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You do not have permission to do this." in page
    with app.app_context():
        assert _db.session.get(HelpRequest, request_id).status is HelpRequestStatus.NEW


def test_dismissing_needs_a_note(app, client, auth, request_id):
    auth.login(DEMO.grid_worker)
    response = client.post(f"/registry/inbox/{request_id}/dismiss", data={"dismiss-note": "  "})
    assert response.status_code == 200 and 'class="errors"' in response.get_data(as_text=True)
    with app.app_context():
        assert _db.session.get(HelpRequest, request_id).status is HelpRequestStatus.NEW
    response = client.post(f"/registry/inbox/{request_id}/dismiss", data={"dismiss-note": "电话里已解决"})
    assert response.status_code == 302
    with app.app_context():
        request = _db.session.get(HelpRequest, request_id)
        assert request.status is HelpRequestStatus.DISMISSED and request.handling_note == "电话里已解决"
    page = client.get(f"/registry/inbox/{request_id}").get_data(as_text=True)
    assert "电话里已解决" in page and "/dismiss" not in page


def test_the_inbox_filters_by_status(app, client, auth, request_id):
    auth.login(DEMO.grid_worker)
    client.post(f"/registry/inbox/{request_id}/dismiss", data={"dismiss-note": "已解决"})
    assert "待处理" not in client.get("/registry/inbox?status=new").get_data(as_text=True)
    assert "待处理" in client.get("/registry/inbox?status=dismissed").get_data(as_text=True)
    assert "待处理" in client.get("/registry/inbox").get_data(as_text=True)
    assert client.get("/registry/inbox?status=bogus").status_code == 200

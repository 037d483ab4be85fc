"""The public welfare bank through the web: a volunteer redeems and shows the
voucher's QR, the partner hands it over once, other partners are refused;
staff manage partners, rewards and stock; donations pay once per form."""

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AccountKind, Partner, PartnerUser, Reward, Role, StockMovement, Voucher, VoucherStatus
from app.services import ledger
from tests.conftest import DEMO
from tests.factories import make_user, user_by_phone
from tests.services.test_bank import fund, partner_user, reward, shop, volunteer, worker
from tests.services.test_visits import decode_qr

OTHER_PASSWORD = "test-pass-8642"


def login(client, phone, password=DEMO.password):
    """Log in and read the pages in English (the source language), to compare messages."""
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"phone": phone, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    with client.session_transaction() as session:
        session["lang"] = "en"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def shelf(app):
    """(partner id, reward id): 大米 for 120 points, 3 in stock, in community 1; volunteer 1 has 500 points."""
    with app.app_context():
        partner = shop()
        made = reward(partner, price=120, on_hand=3)
        fund((volunteer(), 500))
        return partner.id, made.id


def voucher_row(app, voucher_id=None):
    with app.app_context():
        stmt = sa.select(Voucher).order_by(Voucher.id.desc())
        if voucher_id:
            stmt = stmt.where(Voucher.id == voucher_id)
        found = db.session.scalar(stmt)
        db.session.expunge_all()
        return found


def points(app, user_phone=DEMO.volunteer) -> int:
    with app.app_context():
        return ledger.balance_of(AccountKind.VOLUNTEER, user_by_phone(user_phone).id)


def redeemed(app, client, shelf) -> tuple[Voucher, str]:
    """Volunteer 1 redeems through the pages; the voucher and its hand-over path from the QR."""
    login(client, DEMO.volunteer)
    response = client.post(f"/bank/rewards/{shelf[1]}/redeem")
    assert response.status_code == 302 and response.location.endswith("/bank/vouchers")
    voucher = voucher_row(app)
    image = client.get(f"/bank/vouchers/{voucher.id}/qr.png")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.headers["Cache-Control"] == "no-store"
    url = decode_qr(image.data)
    assert url.startswith("http://localhost/bank/v/")
    return voucher, urlsplit(url).path


def test_the_volunteer_redeems_and_sees_the_voucher(app, client, shelf):
    login(client, DEMO.volunteer)
    page = text(client.get("/bank"))
    assert "大米" in page and "测试便民店" in page and "500" in page
    assert f'action="/bank/rewards/{shelf[1]}/redeem"' in page

    voucher, path = redeemed(app, client, shelf)
    assert voucher.status is VoucherStatus.ISSUED and points(app) == 380
    page = client.get("/bank/vouchers")
    assert page.headers["Cache-Control"] == "no-store"
    body = text(page)
    assert voucher.code in body and f"/bank/vouchers/{voucher.id}/qr.png" in body
    assert f'action="/bank/vouchers/{voucher.id}/cancel"' in body
    assert path.startswith("/bank/v/")


def test_the_partner_hands_over_once(app, client, shelf):
    voucher, path = redeemed(app, client, shelf)
    login(client, DEMO.partner)
    page = client.get(path)
    body = text(page)
    assert page.status_code == 200 and "大米" in body and "王*明" in body and voucher.code in body
    assert "王小明" not in body and DEMO.volunteer not in body
    response = client.post(path)
    assert response.status_code == 302 and response.location.endswith("/bank/partner")
    used = voucher_row(app, voucher.id)
    assert used.status is VoucherStatus.USED and used.used_by_id is not None
    desk = text(client.get("/bank/partner"))
    assert voucher.code in desk and "王*明" in desk

    again = client.post(path)
    assert again.status_code == 410 and "Traceback" not in text(again)
    assert client.get(path).status_code == 410
    with app.app_context():
        assert ledger.balance_of(AccountKind.PARTNER, shelf[0]) == 120
        assert ledger.balance_of(AccountKind.SINK) == 0


def test_another_partner_is_refused_and_learns_nothing(app, client, shelf):
    voucher, path = redeemed(app, client, shelf)
    with app.app_context():
        stranger = make_user(Role.PARTNER, password=OTHER_PASSWORD)
        shop("隔壁药店", user=stranger)
        phone = stranger.phone
    login(client, phone, OTHER_PASSWORD)
    for response in (
        client.get(path),
        client.post(path),
        client.post("/bank/partner", data={"code": voucher.code}),
    ):
        assert response.status_code == 404
        assert "大米" not in text(response) and "王*明" not in text(response)
    assert voucher_row(app, voucher.id).status is VoucherStatus.ISSUED


def test_the_partner_types_the_code(app, client, shelf):
    voucher, _path = redeemed(app, client, shelf)
    login(client, DEMO.partner)
    response = client.post("/bank/partner", data={"code": voucher.code.lower()})
    assert response.status_code == 302 and "/bank/v/" in response.location
    assert "大米" in text(client.get(response.location))
    unknown = client.post("/bank/partner", data={"code": "ZZZZZZZZ"})
    assert unknown.status_code == 404 and 'name="code"' in text(unknown)


def test_who_may_open_the_hand_over_page(app, client, shelf):
    _voucher, path = redeemed(app, client, shelf)
    client.post("/auth/logout")
    assert "/auth/login" in client.get(path).location  # log in first
    login(client, DEMO.volunteer)
    assert client.get(path).status_code == 403  # the holder cannot hand over to themselves
    login(client, DEMO.partner)
    tampered = client.get(path[:-3] + "xyz")
    assert tampered.status_code == 400 and "Traceback" not in text(tampered)


def test_the_holder_cancels_through_the_page(app, client, shelf):
    voucher, path = redeemed(app, client, shelf)
    response = client.post(f"/bank/vouchers/{voucher.id}/cancel")
    assert response.status_code == 302
    assert voucher_row(app, voucher.id).status is VoucherStatus.CANCELLED and points(app) == 500
    assert client.get(f"/bank/vouchers/{voucher.id}/qr.png").status_code == 410
    login(client, DEMO.partner)
    assert client.get(path).status_code == 410


def test_redeem_refusals_change_nothing(app, client, shelf):
    with app.app_context():
        partner = db.session.get(Partner, shelf[0])
        dear = reward(partner, price=900, on_hand=1, name="电饭煲").id
        empty = reward(partner, price=10, on_hand=0, name="鸡蛋").id
        elsewhere = reward(partner, price=10, on_hand=1, name="面粉", actor=worker(2)).id
    login(client, DEMO.volunteer)
    for reward_id, message in ((dear, "not enough points"), (empty, "run out")):
        response = client.post(f"/bank/rewards/{reward_id}/redeem", follow_redirects=True)
        assert response.status_code == 200 and message in text(response)
    assert client.post(f"/bank/rewards/{elsewhere}/redeem").status_code == 404
    assert voucher_row(app) is None and points(app) == 500


def test_donations_pay_once_per_form(app, client, shelf):
    login(client, DEMO.volunteer)
    page = text(client.get("/bank/donate"))
    key = re.search(r'name="request_key" type="hidden" value="([^"]+)"', page).group(1)
    form = {"target": "pool", "amount": "30", "request_key": key}
    assert client.post("/bank/donate", data=form).status_code == 302
    assert client.post("/bank/donate", data=form).status_code == 302  # a double submit
    assert points(app) == 470
    for amount in ("1.5", "0", "-3", "abc", "999999999"):
        response = client.post("/bank/donate", data={**form, "amount": amount, "request_key": "k" * 20})
        assert response.status_code == 422 and 'name="amount"' in text(response)
    too_much = client.post("/bank/donate", data={**form, "amount": "471", "request_key": "m" * 20})
    assert too_much.status_code == 422 and "many points" in text(too_much)
    assert points(app) == 470


def test_staff_manage_partners_and_their_users(app, client):
    login(client, DEMO.community_worker)
    response = client.post(
        "/bank/staff/partners", data={"name": "爱心药房", "kind": "merchant", "active": "y"}
    )
    assert response.status_code == 302
    with app.app_context():
        partner_id = db.session.scalar(sa.select(Partner.id).where(Partner.name == "爱心药房"))
    assert "爱心药房" in text(client.get("/bank/staff/partners"))
    taken = client.post("/bank/staff/partners", data={"name": "爱心药房", "kind": "merchant"})
    assert taken.status_code == 422 and "already exists" in text(taken)
    bad_phone = client.post(f"/bank/staff/partners/{partner_id}/users", data={"phone": DEMO.volunteer})
    assert bad_phone.status_code == 422 and "partner role" in text(bad_phone)
    linked = client.post(f"/bank/staff/partners/{partner_id}/users", data={"phone": DEMO.partner})
    assert linked.status_code == 302
    with app.app_context():
        user_id = partner_user().id
        assert db.session.get(PartnerUser, (partner_id, user_id)) is not None
    page = text(client.get(f"/bank/staff/partners/{partner_id}"))
    assert f"/bank/staff/partners/{partner_id}/users/{user_id}/remove" in page
    assert client.post(f"/bank/staff/partners/{partner_id}/users/{user_id}/remove").status_code == 302
    edit = client.post(f"/bank/staff/partners/{partner_id}", data={"name": "爱心药房", "kind": "charity"})
    assert edit.status_code == 302
    with app.app_context():
        partner = db.session.get(Partner, partner_id)
        assert partner.active is False and db.session.get(PartnerUser, (partner_id, user_id)) is None


def test_staff_add_a_reward_receive_stock_and_write_off(app, client, shelf):
    login(client, DEMO.community_worker)
    page = text(client.get("/bank/staff/rewards/new"))
    assert 'name="community_id"' not in page  # a community worker offers in their own community
    response = client.post(
        "/bank/staff/rewards/new",
        data={
            "partner_id": shelf[0],
            "name": "理发券",
            "point_price": "60",
            "valid_from": "2020-01-01",
            "active": "y",
        },
    )
    assert response.status_code == 302
    reward_id = int(response.location.rsplit("/", 1)[1])
    path = f"/bank/staff/rewards/{reward_id}"
    assert client.post(f"{path}/receive", data={"in-quantity": "10", "in-note": "首批"}).status_code == 302
    assert (
        client.post(f"{path}/write-off", data={"off-quantity": "3", "off-reason": "过期"}).status_code == 302
    )
    refused = client.post(f"{path}/write-off", data={"off-quantity": "8", "off-reason": "丢失"})
    assert refused.status_code == 422 and "not that much in stock" in text(refused)
    no_reason = client.post(f"{path}/write-off", data={"off-quantity": "1"})
    assert no_reason.status_code == 422
    with app.app_context():
        assert db.session.get(Reward, reward_id).stock == 7
        kinds = db.session.scalars(
            sa.select(StockMovement.quantity).where(StockMovement.reward_id == reward_id)
        )
        assert sorted(kinds) == [-3, 10]
    body = text(client.get(path))
    assert "过期" in body and "首批" in body and "-3" in body and "+10" in body and "reconciled" in body
    listing = text(client.get("/bank/staff/rewards"))
    assert "理发券" in listing and "does not reconcile" not in listing


def test_staff_pages_keep_to_their_scope_and_roles(app, client, shelf):
    login(client, DEMO.community_worker_2)
    assert client.get(f"/bank/staff/rewards/{shelf[1]}").status_code == 404
    assert (
        client.post(f"/bank/staff/rewards/{shelf[1]}/receive", data={"in-quantity": "5"}).status_code == 404
    )
    assert "大米" not in text(client.get("/bank/staff/rewards"))
    login(client, DEMO.volunteer)
    assert client.get("/bank/staff/partners").status_code == 403
    assert client.get("/bank/partner").status_code == 403
    login(client, DEMO.partner)
    assert client.get("/bank").status_code == 403
    login(client, DEMO.street_officer)
    assert 'name="community_id"' in text(client.get("/bank/staff/rewards/new"))
    assert "大米" in text(client.get("/bank/staff/rewards"))


def test_every_bank_form_carries_a_csrf_token(app, client, shelf, monkeypatch):
    """Tests run with CSRF off; production has it on, so every form must send the token."""
    voucher, handover = redeemed(app, client, shelf)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    pages = {
        DEMO.volunteer: ["/bank", "/bank/vouchers", "/bank/donate"],
        DEMO.partner: ["/bank/partner", handover],
        DEMO.community_worker: [
            "/bank/staff/partners",
            f"/bank/staff/partners/{shelf[0]}",
            "/bank/staff/rewards/new",
            f"/bank/staff/rewards/{shelf[1]}",
        ],
    }
    for phone, paths in pages.items():
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
        login(client, phone)
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
        for path in paths:
            body = text(client.get(path))
            forms = body.split("<form")[1:]
            assert len(forms) > 2, path  # more than the header's log-out and the footer's language forms
            # A prefixed form's token is "<prefix>-csrf_token"; Flask-WTF accepts both.
            assert all(re.search(r'name="(\w+-)?csrf_token"', form.split("</form>")[0]) for form in forms), (
                path
            )
    assert (
        client.post(f"/bank/staff/rewards/{shelf[1]}/receive", data={"in-quantity": "5"}).status_code == 400
    )
    assert client.post(handover).status_code == 400
    assert voucher_row(app, voucher.id).status is VoucherStatus.ISSUED


def test_garbage_in_every_form_is_a_clear_refusal_not_a_server_error(app, client, shelf):
    partner_id, reward_id = shelf
    junk = {
        "name": "x" * 300,
        "kind": "spaceship",
        "partner_id": "abc",
        "community_id": "-1",
        "point_price": "1e9",
        "valid_from": "2020-13-45",
        "valid_until": "yesterday",
        "in-quantity": "9" * 30,
        "off-quantity": "-0.5",
        "off-reason": "",
        "phone": "电话",
        "code": "!!!!",
        "target": "household:999999999999",
        "amount": "NaN",
        "request_key": "' OR 1=1 --",
    }
    posts = {
        DEMO.street_officer: [
            "/bank/staff/partners",
            f"/bank/staff/partners/{partner_id}",
            f"/bank/staff/partners/{partner_id}/users",
            f"/bank/staff/partners/{partner_id}/users/99999999999/remove",
            "/bank/staff/rewards/new",
            f"/bank/staff/rewards/{reward_id}",
            f"/bank/staff/rewards/{reward_id}/receive",
            f"/bank/staff/rewards/{reward_id}/write-off",
        ],
        DEMO.volunteer: [
            "/bank/donate",
            "/bank/rewards/99999999999/redeem",
            "/bank/vouchers/99999999999/cancel",
        ],
        DEMO.partner: ["/bank/partner", "/bank/v/" + "a" * 500],
    }
    for phone, paths in posts.items():
        login(client, phone)
        for path in paths:
            response = client.post(path, data=junk)
            assert response.status_code < 500 and "Traceback" not in text(response), path
    with app.app_context():
        assert db.session.get(Reward, reward_id).stock == 3

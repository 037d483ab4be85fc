"""Public notices through the client: the masking test on the public page and
the notice-board display, what is shown when, the staff pages and their
scope, and residents' objections (rate-limited like the help form)."""

import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from app import clock
from app.extensions import db
from app.models import NoticeObjection, NoticeStatus, PublicNotice
from app.services import public_notice as notices
from app.services.public_notice_candidates import candidates
from tests.conftest import DEMO, count_rows
from tests.factories import user_by_phone
from tests.services.test_public_notice import END, NOW, START, build_scene, new_notice


@pytest.fixture
def scene(app):
    with app.app_context(), app.test_request_context():
        made = build_scene()
    yield made
    clock.freeze(None)


def publish(app, scene, chosen=None, wording=None, **times) -> int:
    """A March notice with every candidate (or `chosen` refs), published; its id."""
    with app.app_context():
        worker = user_by_phone(DEMO.community_worker)
        notice = new_notice(scene, worker)
        refs = chosen or [c.ref for c in candidates(scene.community_id, START, END)]
        notices.choose_items(worker, notice.id, {ref: (wording or {}).get(ref, "") for ref in refs})
        notices.publish_notice(worker, notice.id, times.get("publish_at"), times.get("until"))
        return notice.id


def pages(client, community_id: int) -> dict[str, str]:
    """What the public can fetch about the community: the notice page, the board and its data."""
    out = {}
    for name, path in (
        ("page", f"/notices/{community_id}"),
        ("board", f"/board/{community_id}"),
        ("data", f"/board/{community_id}/data.json"),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        out[name] = response.get_data(as_text=True)
    return out


def fragments(number: str, size: int = 6) -> set[str]:
    return {number[i : i + size] for i in range(len(number) - size + 1)}


def test_public_page_and_board_show_masked_names_and_nothing_private(app, client, scene):
    a = f"assisted:{scene.assisted}"
    publish(app, scene, wording={a: "3月起纳入低保，邻居送餐"})
    for name, text in pages(client, scene.community_id).items():  # JSON is UTF-8, not \u-escaped
        for masked in ("欧**华", "张*国", "李*兰"):
            assert masked in text, (name, masked)
        assert "3月起纳入低保，邻居送餐" in text
        for full in scene.full_names:
            assert full not in text, (name, full)
        for number in scene.id_numbers:
            for piece in fragments(number):
                assert piece not in text, (name, piece)
        for phone in scene.phones:
            assert phone not in text and phone[-8:] not in text, (name, phone)
        for figure in scene.money:
            assert figure not in text, (name, figure)
        for word in (*scene.illness_words, "疾病", "Illness", "残疾"):
            assert word not in text, (name, word)
        for word in scene.address_words:
            assert word not in text, (name, word)


def test_the_board_shows_the_notice_as_a_panel(app, client, scene):
    html = client.get(f"/board/{scene.community_id}").get_data(as_text=True)
    assert re.search(r'<section class="slide slide-notice"[^>]*\shidden>', html)  # no notice: no panel
    publish(app, scene)
    html = client.get(f"/board/{scene.community_id}").get_data(as_text=True)
    first = re.search(r'<section class="slide slide-notice"[^>]*>', html).group(0)
    assert "hidden" not in first.replace("data-hide-when-empty", "")
    assert 'data-part-of="notice_rows"' in first
    data = client.get(f"/board/{scene.community_id}/data.json").get_json()
    assert [row["name"] for row in data["notice_rows"]] == ["欧**华", "张*国", "李*兰", "—"]
    assert data["notice_titles"] == "2031年3月帮扶公示" and data["notice_more"] == ""
    png = client.get(f"/board/{scene.community_id}/qr/notice.png")
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert urlsplit(found[0].text).path == f"/notices/{scene.community_id}"


def shown_on_public_pages(client, scene) -> bool:
    seen = pages(client, scene.community_id)
    return any("李*兰" in text for text in seen.values())


def test_unpublished_future_expired_and_withdrawn_notices_are_not_shown(app, client, scene):
    with app.app_context():
        worker = user_by_phone(DEMO.community_worker)
        draft = new_notice(scene, worker)
        notices.choose_items(worker, draft.id, {f"exited:{scene.exited}": ""})
    assert not shown_on_public_pages(client, scene)  # a draft
    later = publish(app, scene, publish_at=NOW + timedelta(days=1), until=NOW + timedelta(days=3))
    assert not shown_on_public_pages(client, scene)  # scheduled
    clock.freeze(NOW + timedelta(days=1))
    assert shown_on_public_pages(client, scene)
    clock.freeze(NOW + timedelta(days=3))
    assert not shown_on_public_pages(client, scene)  # ended
    clock.freeze(NOW)
    live = publish(app, scene)
    assert shown_on_public_pages(client, scene)
    with app.app_context():
        notices.withdraw_notice(user_by_phone(DEMO.community_worker), live, "核实有误")
    assert not shown_on_public_pages(client, scene)
    assert later and client.get("/notices/2000000000").status_code == 404


# --- the staff pages ------------------------------------------------------------------


def staff_paths(notice_id: int) -> list[tuple[str, str]]:
    return [
        ("get", f"/staff/notices/{notice_id}"),
        ("post", f"/staff/notices/{notice_id}/items"),
        ("post", f"/staff/notices/{notice_id}/publish"),
        ("post", f"/staff/notices/{notice_id}/withdraw"),
        ("post", f"/staff/notices/{notice_id}/objections/1"),
    ]


def test_another_communitys_staff_get_404(app, client, auth, scene):
    notice_id = publish(app, scene)
    auth.login(DEMO.community_worker_2)
    for method, path in staff_paths(notice_id) + [("get", "/staff/notices/2000000000")]:
        response = getattr(client, method)(path, data={"reason": "越权", "note": "越权"})
        assert response.status_code == 404, path
    assert f"/staff/notices/{notice_id}" not in client.get("/staff/notices/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(PublicNotice, notice_id).status is NoticeStatus.PUBLISHED


@pytest.mark.parametrize("phone", [DEMO.grid_worker, DEMO.volunteer, DEMO.resident])
def test_others_get_403(app, client, auth, scene, phone):
    notice_id = publish(app, scene)
    auth.login(phone)
    assert client.get("/staff/notices/").status_code == 403
    assert client.get(f"/staff/notices/{notice_id}").status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/staff/notices/")
    assert response.status_code == 302 and "/auth/login" in response.location


def test_composing_through_the_pages(app, client, auth, scene):
    auth.login(DEMO.community_worker)
    form = client.get("/staff/notices/new").get_data(as_text=True)
    assert 'name="title"' in form and "2031-03-01" in form  # last month by default
    response = client.post(
        "/staff/notices/new",
        data={
            "community_id": scene.community_id,
            "title": "三月公示",
            "period_start": "2031-03-01",
            "period_end": "2031-03-31",
        },
    )
    assert response.status_code == 302
    notice_id = int(response.location.rsplit("/", 1)[1])
    page = client.get(f"/staff/notices/{notice_id}").get_data(as_text=True)
    assert "欧**华" in page and "李*兰" in page and "家政" in page

    with app.app_context():
        refs = [c.ref for c in candidates(scene.community_id, START, END)]
    rows = {f"items-{i}-ref": ref for i, ref in enumerate(refs)}
    rows |= {f"items-{i}-include": "y" for i in range(len(refs))}
    bad = client.post(f"/staff/notices/{notice_id}/items", data=rows | {"items-0-wording": "电话13812345678"})
    assert bad.status_code == 422
    assert re.search(r'id="items-0-wording-errors"', bad.get_data(as_text=True))
    assert client.post(f"/staff/notices/{notice_id}/items", data=rows).status_code == 302
    refused = client.post(
        f"/staff/notices/{notice_id}/publish", data={"when": "later", "day": "2031-04-01", "at": "09:00"}
    )
    assert refused.status_code == 422 and "day-errors" in refused.get_data(as_text=True)
    assert client.post(f"/staff/notices/{notice_id}/publish", data={"when": "now"}).status_code == 302
    assert "李*兰" in client.get(f"/notices/{scene.community_id}").get_data(as_text=True)
    after = client.get(f"/staff/notices/{notice_id}").get_data(as_text=True)
    assert f'action="/staff/notices/{notice_id}/withdraw"' in after and "items-0-ref" not in after
    assert client.post(f"/staff/notices/{notice_id}/withdraw", data={"reason": ""}).status_code == 422
    assert client.post(f"/staff/notices/{notice_id}/withdraw", data={"reason": "重新核实"}).status_code == 302
    assert "李*兰" not in client.get(f"/notices/{scene.community_id}").get_data(as_text=True)


# --- objections -----------------------------------------------------------------------


def object_to(client, community_id, notice_id, address="10.0.0.1", **fields):
    data = {f"n{notice_id}-{key}": value for key, value in ({"text": "此户不符合条件"} | fields).items()}
    return client.post(
        f"/notices/{community_id}/{notice_id}/objection", data=data, environ_base={"REMOTE_ADDR": address}
    )


def test_an_objection_lands_on_the_notice_page(app, client, auth, scene):
    notice_id = publish(app, scene)
    assert object_to(client, scene.community_id, notice_id, text="").status_code == 422
    response = object_to(client, scene.community_id, notice_id, contact="13900001111")
    assert response.status_code == 302 and response.location.endswith(f"/notices/{scene.community_id}/thanks")
    assert (
        object_to(client, scene.community_id, notice_id, website="spam").status_code == 302
    )  # stored nowhere
    assert object_to(client, scene.other_community_id, notice_id).status_code == 404
    with app.app_context():
        stored = db.session.scalars(sa.select(NoticeObjection)).all()
        assert [(o.text, o.contact) for o in stored] == [("此户不符合条件", "13900001111")]
        objection_id = stored[0].id
    assert "此户不符合条件" not in client.get(f"/notices/{scene.community_id}").get_data(as_text=True)

    auth.login(DEMO.community_worker)
    assert '<span class="tag warn">1</span>' in client.get("/staff/notices/").get_data(as_text=True)
    page = client.get(f"/staff/notices/{notice_id}").get_data(as_text=True)
    assert "此户不符合条件" in page and "13900001111" in page
    path = f"/staff/notices/{notice_id}/objections/{objection_id}"
    assert client.post(path, data={f"o{objection_id}-note": ""}).status_code == 422
    assert client.post(path, data={f"o{objection_id}-note": "已核实"}).status_code == 302
    assert "已核实" in client.get(f"/staff/notices/{notice_id}").get_data(as_text=True)


def test_objections_are_rate_limited_like_the_help_form(app, limited_app, scene):
    notice_id = publish(app, scene)
    client = limited_app.test_client()
    for _ in range(3):  # typos do not use up the allowance
        assert (
            object_to(client, scene.community_id, notice_id, address="10.0.9.1", text="").status_code == 422
        )
    for _ in range(5):
        assert object_to(client, scene.community_id, notice_id, address="10.0.9.1").status_code == 302
    blocked = object_to(client, scene.community_id, notice_id, address="10.0.9.1")
    assert blocked.status_code == 429 and "Traceback" not in blocked.get_data(as_text=True)
    assert object_to(client, scene.community_id, notice_id, address="10.0.9.2").status_code == 302
    with app.app_context():
        assert count_rows(NoticeObjection) == 6

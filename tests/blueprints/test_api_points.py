"""GET /api/v1/me/points: the caller's balance, points earned and statement."""

from datetime import timedelta

import pytest

from app import clock
from app.extensions import db
from app.models import ServiceType
from tests.conftest import DEMO
from tests.services.test_points_rules import BASE, drive_visit, volunteer


@pytest.fixture(autouse=True)
def unfreeze():
    yield
    clock.freeze(None)


@pytest.fixture
def two_visits(app):
    """Volunteer 1 paid twice (15, then 18); the first award reversed."""
    from app.services import points
    from tests.factories import user_by_phone

    with app.app_context(), app.test_request_context():
        first = drive_visit(volunteer(), BASE, 60)
        drive_visit(volunteer(), BASE + timedelta(days=1), 100, expected=60)
        points.reverse_visit(user_by_phone(DEMO.community_worker), first, "核实未上门服务", DEMO.password)


def test_a_volunteer_gets_balance_earned_and_entries(client, api_token, two_visits):
    response = client.get("/api/v1/me/points", headers=api_token(DEMO.volunteer))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["balance"], body["earned_total"]) == (18, 18)
    assert (body["page"], body["per_page"], body["total"]) == (1, 20, 3)
    entries = body["entries"]
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in entries] == [
        ("reversal", -15, 18),
        ("award", 18, 33),
        ("award", 15, 15),
    ]
    assert set(entries[0]) == {"id", "at", "amount", "balance_after", "kind", "reason"}
    assert "核实未上门服务" in entries[0]["reason"]
    assert entries[2]["at"].endswith("+00:00")


def test_reasons_follow_accept_language_and_pages(app, client, api_token, two_visits):
    with app.app_context():
        housekeeping = db.session.get(ServiceType, "housekeeping")
        names = housekeeping.name_en, housekeeping.name_zh
    headers = api_token(DEMO.volunteer)
    english = client.get("/api/v1/me/points?per_page=1&page=2", headers={**headers, "Accept-Language": "en"})
    body = english.get_json()
    assert body["total"] == 3 and len(body["entries"]) == 1
    assert body["entries"][0]["balance_after"] == 33
    assert body["entries"][0]["reason"].startswith(f"{names[0]} on 2031-03-11, 90 minutes paid")
    chinese = client.get("/api/v1/me/points?per_page=1&page=2", headers={**headers, "Accept-Language": "zh"})
    assert names[1] in chinese.get_json()["entries"][0]["reason"]


def test_a_volunteer_with_no_points_yet(client, api_token):
    body = client.get("/api/v1/me/points", headers=api_token(DEMO.volunteer_2)).get_json()
    assert body == {"balance": 0, "earned_total": 0, "entries": [], "page": 1, "per_page": 20, "total": 0}


def test_without_a_token_401(client):
    response = client.get("/api/v1/me/points")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "missing_token"


@pytest.mark.parametrize("phone", [DEMO.grid_worker, DEMO.community_worker, DEMO.resident])
def test_staff_and_residents_get_403(client, api_token, phone):
    response = client.get("/api/v1/me/points", headers=api_token(phone))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("query", ["per_page=0", "per_page=101", "page=0", "page=x", "page=100001"])
def test_bad_paging_is_422(client, api_token, query):
    response = client.get(f"/api/v1/me/points?{query}", headers=api_token(DEMO.volunteer))
    assert response.status_code == 422 and "error" in response.get_json()


def test_openapi_documents_me_points(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/me/points"]["get"]
    assert {"200", "401", "403", "422"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} >= {"page", "per_page"}
    schema = spec["components"]["schemas"]["PointsOut"]
    assert set(schema["required"]) >= {"balance", "earned_total", "entries"}
    entry = spec["components"]["schemas"]["EntryOut"]
    assert set(entry["properties"]) == {"id", "at", "amount", "balance_after", "kind", "reason"}

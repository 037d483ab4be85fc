"""GET /api/v1/honour-board: public, masked, documented, and clear about bad input."""

from datetime import UTC, datetime, timedelta

import pytest

from app import clock
from app.services import honour
from tests.blueprints.test_board_pages import assert_private, board  # noqa: F401  (board: a fixture)

URL = "/api/v1/honour-board"


def test_volunteers_anonymously(app, client, board):  # noqa: F811
    community = board["community_id"]
    response = client.get(f"{URL}?scope=community:{community}&period=month")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"scope", "scope_name", "period", "kind", "from", "to", "rows"}
    assert (body["scope"], body["scope_name"], body["period"], body["kind"]) == (
        f"community:{community}",
        "阳光社区",
        "month",
        "volunteers",
    )
    start, end = (datetime.fromisoformat(body[k]) for k in ("from", "to"))
    assert start <= clock.now() < end and start.utcoffset() == timedelta(0)
    assert all(set(row) == {"rank", "name", "points", "streak_months", "team"} for row in body["rows"])
    assert body["rows"][:2] == [
        {"rank": 1, "name": "欧**华", "points": 900, "streak_months": 1, "team": None},
        {"rank": 2, "name": "司马相如", "points": 800, "streak_months": 1, "team": "相如队"},
    ]
    with app.app_context():
        expected = honour.board(f"community:{community}", "month")
    assert [(r["name"], r["points"]) for r in body["rows"]] == [(r.name, r.points) for r in expected]
    assert_private(response.get_data(as_text=True), board)


def test_teams_and_all_time(client, board):  # noqa: F811
    community = board["community_id"]
    body = client.get(f"{URL}?scope=community:{community}&period=all&kind=teams").get_json()
    assert body["from"] is None and body["to"] is None and body["kind"] == "teams"
    assert body["rows"][0] == {
        "rank": 1,
        "name": "相如队",
        "points": 800,
        "members": 1,
        "community": "阳光社区",
    }
    assert all(set(row) == {"rank", "name", "points", "members", "community"} for row in body["rows"])


def test_default_period_and_limit(client, board):  # noqa: F811
    body = client.get(f"{URL}?scope=street:1&limit=1").get_json()
    assert body["period"] == "month" and body["kind"] == "volunteers" and len(body["rows"]) == 1


def test_a_token_is_not_needed_but_does_no_harm(client, api_token, board):  # noqa: F811
    headers = api_token("13800000004")
    response = client.get(f"{URL}?scope=community:{board['community_id']}", headers=headers)
    assert response.status_code == 200 and response.get_json()["rows"][0]["name"] == "欧**华"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("", 422, "validation_error"),
        ("scope=community", 422, "invalid_scope"),
        ("scope=household:1", 422, "invalid_scope"),
        ("scope=community:abc", 422, "invalid_scope"),
        ("scope=community:99999999999999", 422, "invalid_scope"),
        ("scope=" + "x" * 50, 422, "validation_error"),
        ("scope=community:2000000000", 404, "not_found"),
        ("scope=street:2000000000", 404, "not_found"),
        ("scope=city:1&period=decade", 422, "validation_error"),
        ("scope=city:1&kind=households", 422, "validation_error"),
        ("scope=city:1&limit=0", 422, "validation_error"),
        ("scope=city:1&limit=201", 422, "validation_error"),
        ("scope=city:1&limit=x", 422, "validation_error"),
    ],
)
def test_bad_input(client, query, status, code):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]


def test_openapi_documents_it(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"][URL]["get"]
    assert {"200", "404", "422"} <= set(operation["responses"])
    assert "security" not in operation
    names = {p["name"]: p for p in operation["parameters"]}
    assert names["scope"]["required"] is True
    assert names["period"]["schema"]["enum"] == list(honour.PERIODS)
    out = spec["components"]["schemas"]["HonourBoardOut"]
    assert {"from", "to", "rows", "scope"} <= set(out["properties"])
    row = spec["components"]["schemas"]["HonourRow"]["properties"]
    assert "user_id" not in row and "id" not in row


def test_reversed_points_leave_the_api(app, client):
    from tests.factories import make_tree
    from tests.services.test_honour import award, reverse, volunteer

    with app.app_context():
        from app.extensions import db

        tree = make_tree("接口")
        person = volunteer(db, tree["grids"][0], "钱多多")
        community = tree["community"].id
        kept = award(person, community, 6, datetime.now(UTC) - timedelta(minutes=2))
        reverse(award(person, community, 50, datetime.now(UTC) - timedelta(minutes=1)), datetime.now(UTC))
        db.session.commit()
        assert kept.id
    rows = client.get(f"{URL}?scope=community:{community}").get_json()["rows"]
    assert [(r["name"], r["points"]) for r in rows] == [("钱*多", 6)]

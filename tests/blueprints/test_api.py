"""JSON API v1: tokens, registration, /me, the org tree, errors and the OpenAPI document."""

import re

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from app.blueprints.api.paths import decimal_pattern
from app.models import Grid, User
from tests.conftest import DEMO, count_rows


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"]
    return body["error"]


def test_token_for_the_demo_volunteer(client):
    response = client.post("/api/v1/auth/token", json={"phone": DEMO.volunteer, "password": DEMO.password})
    assert response.status_code == 200
    body = response.get_json()
    assert response.mimetype == "application/json" and "王小明".encode() in response.data
    assert body["token"] and body["expires_in"] > 0
    assert body["user"]["name"] == "王小明" and body["user"]["roles"] == ["volunteer"]


@pytest.mark.parametrize(
    "body", [{"phone": DEMO.volunteer, "password": "wrong pass"}, {"phone": "13999999999", "password": "x"}]
)
def test_bad_login_is_401(client, body):
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 401
    assert error_of(response)["code"] == "bad_credentials"


def test_body_that_is_not_json(client):
    response = client.post(
        "/api/v1/auth/token", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


@pytest.mark.parametrize(
    "body", [{}, {"phone": DEMO.volunteer}, {"phone": 13800000004, "password": "x"}, [1, 2], "text"]
)
def test_missing_or_wrong_fields_are_422(client, body):
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 422
    assert error_of(response)["code"] == "validation_error"


def test_unknown_fields_are_refused(client):
    body = {"phone": DEMO.volunteer, "password": DEMO.password, "role": "admin"}
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 422 and "role" in error_of(response)["message"]


def grid_id(app):
    with app.app_context():
        from app.extensions import db

        return db.session.scalar(sa.select(Grid.id).order_by(Grid.id))


def test_register_then_log_in(app, client):
    body = {
        "name": "钱多多",
        "phone": "13712345678",
        "password": "long enough",
        "grid_id": grid_id(app),
        "skills": ["repairs"],
    }
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201
    assert response.get_json()["user"]["roles"] == ["volunteer"]
    token = client.post("/api/v1/auth/token", json={"phone": "13712345678", "password": "long enough"})
    assert token.status_code == 200


def test_register_duplicate_phone_is_409(app, client):
    with app.app_context():
        before = count_rows(User)
    body = {
        "name": "x",
        "phone": DEMO.volunteer,
        "password": "long enough",
        "grid_id": grid_id(app),
        "skills": [],
    }
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 409
    assert error_of(response)["code"] == "phone_taken"
    with app.app_context():
        assert count_rows(User) == before


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"phone": "1234"}, "invalid_phone"),
        ({"password": "short"}, "weak_password"),
        ({"grid_id": 999999}, "unknown_grid"),
        ({"skills": ["flying"]}, "unknown_skill"),
        ({"grid_id": "1"}, "validation_error"),
        ({"name": ""}, "validation_error"),
    ],
)
def test_register_refusals(app, client, overrides, code):
    with app.app_context():
        before = count_rows(User)
    body = {"name": "钱多多", "phone": "13712345679", "password": "long enough", "grid_id": grid_id(app)}
    body.update(overrides)
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert error_of(response)["code"] == code
    with app.app_context():
        assert count_rows(User) == before


def test_me(client, api_token):
    response = client.get("/api/v1/me", headers=api_token(DEMO.grid_worker))
    assert response.status_code == 200
    me = response.get_json()
    assert me["roles"] == ["grid_worker"] and me["phone"] == DEMO.grid_worker
    assert me["org_unit"]["level"] == "grid" and me["org_unit"]["name"] == "第一网格"


def test_me_volunteer_has_skills(client, api_token):
    me = client.get("/api/v1/me", headers=api_token(DEMO.volunteer)).get_json()
    assert set(me["skills"]) == {"housekeeping", "repairs", "visiting"}


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_token"),
        ({"Authorization": "Basic abc"}, "missing_token"),
        ({"Authorization": "Bearer not-a-token"}, "invalid_token"),
    ],
)
def test_me_needs_a_valid_token(client, headers, code):
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == code


def test_session_cookie_does_not_authenticate_the_api(client, auth):
    auth.login(DEMO.volunteer)
    assert client.get("/api/v1/me").status_code == 401


def test_token_revoked_by_password_change(client, api_token, auth):
    headers = api_token(DEMO.volunteer)
    auth.login(DEMO.volunteer)
    client.post(
        "/auth/password",
        data={"current_password": DEMO.password, "new_password": "brand new pw", "confirm": "brand new pw"},
    )
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401 and error_of(response)["code"] == "token_revoked"


def test_org_tree(client):
    tree = client.get("/api/v1/org/grids").get_json()
    street = tree["streets"][0]
    assert street["name"] == "幸福街道"
    assert [c["name"] for c in street["communities"]] == ["阳光社区", "和谐社区"]
    assert [g["name"] for g in street["communities"][0]["grids"]] == ["第一网格", "第二网格"]


def test_skills(client):
    skills = client.get("/api/v1/skills").get_json()
    assert {"code": "tutoring", "name": "学习辅导"} in skills
    english = client.get("/api/v1/skills", headers={"Accept-Language": "en"}).get_json()
    assert {"code": "tutoring", "name": "Tutoring"} in english


def test_unknown_api_path_and_method_answer_json(client):
    assert error_of(client.get("/api/v1/nothing-here"))["code"] == "not_found"
    response = client.delete("/api/v1/me")
    assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"


def test_api_messages_follow_accept_language(client):
    body = {"phone": DEMO.volunteer, "password": "wrong pass"}
    chinese = client.post("/api/v1/auth/token", json=body)
    english = client.post("/api/v1/auth/token", json=body, headers={"Accept-Language": "en-US"})
    assert error_of(chinese)["message"] == "手机号或密码错误。"
    assert error_of(english)["message"] == "Wrong phone number or password."


def test_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/auth/token", "/api/v1/auth/register", "/api/v1/me", "/api/v1/org/grids"):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/me"]["get"]["security"] == [{"bearer": []}]
    error_schema = spec["components"]["schemas"]["ErrorBody"]
    assert error_schema["required"] == ["error"]
    assert "401" in spec["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert "409" in spec["paths"]["/api/v1/auth/register"]["post"]["responses"]


# --- what the fuzz run (tests/test_api_fuzz.py) found ----------------------------

BODY_OPERATIONS = [
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/households"),
    ("post", "/api/v1/households/{household_id}/needs"),
    ("post", "/api/v1/tasks"),
    ("post", "/api/v1/tasks/{task_id}/unclaim"),
    ("post", "/api/v1/tasks/{task_id}/check-in"),
    ("post", "/api/v1/tasks/{task_id}/check-out"),
]


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, operation


def test_every_error_answer_is_documented_with_the_error_body(client):
    """No catch-all "default" answer hides an undocumented status: each error
    status an operation can answer is listed, with the error body."""
    spec = client.get("/api/v1/openapi.json").get_json()
    for method, path, operation in operations(spec):
        responses = operation["responses"]
        assert "default" not in responses, (method, path)
        for status, response in responses.items():
            if "$ref" in response:  # one of flask-smorest's shared answers
                response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)
        if "security" in operation:
            assert "401" in responses, (method, path)
        if "requestBody" in operation or any(p["in"] == "query" for p in operation.get("parameters", [])):
            assert {"400", "422"} <= set(responses), (method, path)
    assert {(m, p) for m, p, op in operations(spec) if "requestBody" in op} == set(BODY_OPERATIONS)


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS)
def test_a_nul_byte_for_a_body_is_a_documented_400(client, api_token, method, path):
    url = path.replace("{household_id}", "1").replace("{task_id}", "1")
    response = client.open(
        url,
        method=method,
        data=b"\x00",
        headers={"Content-Type": "application/json", **api_token(DEMO.admin)},
    )
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_characters"


UNREADABLE_BODIES = {
    "nested too deep": "[" * 100_000 + "]" * 100_000,
    "an integer of 5000 digits": '{"household_id": ' + "9" * 5000 + "}",
}


@pytest.mark.parametrize("body", list(UNREADABLE_BODIES))
@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS)
def test_bodies_the_json_reader_gives_up_on_are_400(client, api_token, method, path, body):
    """Python's JSON reader raised RecursionError / ValueError through webargs: a 500."""
    url = path.replace("{household_id}", "1").replace("{task_id}", "1")
    response = client.open(
        url,
        method=method,
        data=UNREADABLE_BODIES[body],
        headers={"Content-Type": "application/json", **api_token(DEMO.admin)},
    )
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_json"


@pytest.mark.parametrize("body", ['{"name": "\\ud800"}', '{"\\udfff": 1}', '[["x\\ud83d"]]'])
@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS)
def test_lone_surrogates_are_refused_like_nul(client, api_token, method, path, body):
    """A "\\ud800" escape decodes to a string no database can store: it was a 500."""
    url = path.replace("{household_id}", "1").replace("{task_id}", "1")
    response = client.open(
        url, method=method, data=body, headers={"Content-Type": "application/json", **api_token(DEMO.admin)}
    )
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_characters"


def test_surrogate_pairs_are_characters_like_any_other(client):
    """An escaped pair is one character (😀), a phone number that does not exist."""
    body = '{"phone": "\\ud83d\\ude00", "password": "x"}'
    response = client.post("/api/v1/auth/token", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 401 and error_of(response)["code"] == "bad_credentials"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/households/2147483648/needs"),
        ("get", "/api/v1/households/2147483648/needs"),
        ("delete", "/api/v1/tasks/2147483648/waitlist"),
        ("post", "/api/v1/tasks/2147483648/waitlist"),
        ("post", "/api/v1/tasks/99999999999999999999/claim"),
        ("get", "/api/v1/tasks/0"),
        ("get", "/api/v1/tasks/-1"),
    ],
)
def test_ids_no_row_can_have_are_404_on_every_method(client, api_token, method, path):
    """Werkzeug's int(max=…) refused a too large id only after the path's other
    methods had matched, and answered 405; the id pattern now refuses it first."""
    response = client.open(path, method=method, headers=api_token(DEMO.admin))
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_path_ids_are_documented_as_the_range_they_accept(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    (parameter,) = spec["paths"]["/api/v1/tasks/{task_id}"]["parameters"]
    assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


@given(st.integers(min_value=1, max_value=10**12), st.integers(min_value=0, max_value=10**13))
def test_decimal_pattern_matches_exactly_one_to_the_limit(limit, number):
    pattern = re.compile(decimal_pattern(limit))
    for candidate in (number, limit, limit + 1, limit - 1, 0):
        assert bool(pattern.fullmatch(str(candidate))) == (1 <= candidate <= limit), (limit, candidate)
    assert not pattern.fullmatch("0" + str(limit))

"""The households API: scope for every role, creating households and needs,
refusals that write nothing, masked ID numbers and the OpenAPI document."""

import re

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import AuditEntry, Category, Grid, Household, Member, Need, NeedStatus
from app.services import casework, household_changes, standards
from app.services.eligibility import add_months
from app.services.idcard import check_digit
from tests.conftest import DEMO, count_rows
from tests.factories import make_household, user_by_phone

BASE = "/api/v1/households"
FULL_ID = re.compile(r"\d{17}[\dX]")


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"]
    return body["error"]


def id_number(birth: str = "19400101", region: str = "110105", seq: str = "123") -> str:
    first17 = region + birth + seq
    return first17 + check_digit(first17)


def with_bad_checksum(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.fixture
def grids(app):
    """Grid ids: grid 1 and grid 2 of community 1, and a grid of community 2."""
    with app.app_context():
        grid_1 = user_by_phone(DEMO.grid_worker).grid_id
        grid_2 = user_by_phone(DEMO.grid_worker_2).grid_id
        community_1 = user_by_phone(DEMO.community_worker).community_id
        other = db.session.scalar(
            sa.select(Grid.id).where(Grid.community_id != community_1).order_by(Grid.id)
        )
        return {"g1": grid_1, "g2": grid_2, "other": other}


@pytest.fixture
def recorded(app, grids):
    """Three households in three grids, all in building 'API楼': ids by grid key."""
    with app.app_context():
        admin = user_by_phone(DEMO.admin)
        made = {
            "g1": make_household(user_by_phone(DEMO.grid_worker), building="API楼", head_name="甲户主"),
            "g2": make_household(user_by_phone(DEMO.grid_worker_2), building="API楼", head_name="乙户主"),
            "other": make_household(admin, grids["other"], building="API楼", head_name="丙户主"),
        }
        return {key: household.id for key, household in made.items()}


def new_household(grid_id: int, **overrides) -> dict:
    body = {
        "grid_id": grid_id,
        "building": "7号楼",
        "unit": "1",
        "room": "302",
        "contact_phone": "13912345678",
        "register_type": "local",
        "lives_alone": True,
        "head": {"name": "吴老伯", "work_capacity": "none"},
    }
    body.update(overrides)
    return body


# --- who sees what ---------------------------------------------------------

SEES = {
    DEMO.grid_worker: {"g1"},
    DEMO.grid_worker_2: {"g2"},
    DEMO.community_worker: {"g1", "g2"},
    DEMO.street_officer: {"g1", "g2", "other"},
    DEMO.admin: {"g1", "g2", "other"},
}


@pytest.mark.parametrize("phone", list(SEES))
def test_list_holds_exactly_the_callers_scope(client, api_token, grids, recorded, phone):
    headers = api_token(phone)
    response = client.get(BASE, query_string={"q": "API楼", "per_page": 100}, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    visible = {
        key for key, household_id in recorded.items() if household_id in {h["id"] for h in body["items"]}
    }
    assert visible == SEES[phone]
    assert body["total"] == len(SEES[phone]) and body["page"] == 1 and body["per_page"] == 100
    row = next(h for h in body["items"] if h["id"] == recorded[min(SEES[phone])])
    assert row["address"].startswith("API楼2单元") and row["member_count"] == 1
    assert row["status"] == "active" and row["head_name"] in {"甲户主", "乙户主", "丙户主"}
    assert set(row) == {"id", "grid", "address", "head_name", "member_count", "status", "next_review_on"}
    # Unfiltered, every row still lies in the caller's grids (demo data included).
    allowed = {grids[key] for key in SEES[phone]}
    everything = client.get(BASE, query_string={"per_page": 100}, headers=headers).get_json()
    if phone != DEMO.admin and phone != DEMO.street_officer:
        assert {h["grid"]["id"] for h in everything["items"]} <= allowed


@pytest.mark.parametrize("phone", list(SEES))
def test_detail_outside_scope_is_404_like_a_missing_one(client, api_token, recorded, phone):
    headers = api_token(phone)
    missing = client.get(f"{BASE}/2147483000", headers=headers)
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    for key, household_id in recorded.items():
        for path in (f"{BASE}/{household_id}", f"{BASE}/{household_id}/needs"):
            response = client.get(path, headers=headers)
            if key in SEES[phone]:
                assert response.status_code == 200, (phone, key, path)
            else:
                assert response.status_code == 404, (phone, key, path)
                assert response.get_json() == missing.get_json()
        if key in SEES[phone]:
            detail = client.get(f"{BASE}/{household_id}", headers=headers).get_json()
            assert detail["id"] == household_id and detail["members"][0]["relation"] == "head"


@pytest.mark.parametrize("phone", [DEMO.volunteer, DEMO.resident, DEMO.partner])
def test_other_roles_are_forbidden_everywhere(client, api_token, grids, recorded, phone):
    headers = api_token(phone)
    household_id = recorded["g1"]
    calls = [
        client.get(BASE, headers=headers),
        client.get(f"{BASE}/{household_id}", headers=headers),
        client.get(f"{BASE}/{household_id}/needs", headers=headers),
        client.post(BASE, json=new_household(grids["g1"]), headers=headers),
        client.post(
            f"{BASE}/{household_id}/needs",
            json={"service_type_code": "housekeeping", "description": "打扫"},
            headers=headers,
        ),
    ]
    for response in calls:
        assert response.status_code == 403
        assert error_of(response)["code"] == "forbidden"
        assert "甲户主" not in response.get_data(as_text=True)


def test_street_officer_reads_but_does_not_write(app, client, api_token, grids, recorded):
    headers = api_token(DEMO.street_officer)
    with app.app_context():
        before = count_rows(Household), count_rows(Need)
    response = client.post(BASE, json=new_household(grids["g1"]), headers=headers)
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    need = {"service_type_code": "housekeeping", "description": "打扫"}
    response = client.post(f"{BASE}/{recorded['g1']}/needs", json=need, headers=headers)
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    with app.app_context():
        assert (count_rows(Household), count_rows(Need)) == before


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "missing_token"), ({"Authorization": "Bearer forged"}, "invalid_token")],
)
def test_a_token_is_needed(client, recorded, headers, code):
    for response in (
        client.get(BASE, headers=headers),
        client.get(f"{BASE}/{recorded['g1']}", headers=headers),
    ):
        assert response.status_code == 401 and error_of(response)["code"] == code


def test_ids_too_large_for_the_database_are_404(client, api_token):
    response = client.get(f"{BASE}/99999999999999999999", headers=api_token(DEMO.admin))
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


# --- the list --------------------------------------------------------------


def test_list_filters_and_pages(app, client, api_token, grids, recorded):
    headers = api_token(DEMO.street_officer)
    by_grid = client.get(
        BASE, query_string={"grid_id": grids["g2"], "q": "API楼"}, headers=headers
    ).get_json()
    assert [h["id"] for h in by_grid["items"]] == [recorded["g2"]]
    assert by_grid["items"][0]["grid"] == {"id": grids["g2"], "name": "第二网格"}
    by_name = client.get(BASE, query_string={"q": "丙户主"}, headers=headers).get_json()
    assert [h["id"] for h in by_name["items"]] == [recorded["other"]]

    first = client.get(BASE, query_string={"q": "API楼", "per_page": 2}, headers=headers).get_json()
    second = client.get(
        BASE, query_string={"q": "API楼", "per_page": 2, "page": 2}, headers=headers
    ).get_json()
    assert first["total"] == second["total"] == 3 and second["page"] == 2
    assert [h["id"] for h in first["items"] + second["items"]] == sorted(recorded.values(), reverse=True)
    beyond = client.get(BASE, query_string={"q": "API楼", "page": 9}, headers=headers).get_json()
    assert beyond["items"] == [] and beyond["total"] == 3

    with app.app_context():
        household_changes.exit_household(
            user_by_phone(DEMO.street_officer), recorded["g1"], clock.today(), "搬走了", clock.today()
        )
    exited = client.get(BASE, query_string={"status": "exited", "q": "API楼"}, headers=headers).get_json()
    assert [(h["id"], h["status"], h["next_review_on"]) for h in exited["items"]] == [
        (recorded["g1"], "exited", None)
    ]


@pytest.mark.parametrize(
    "query",
    [
        {"per_page": 101},
        {"per_page": 0},
        {"page": 0},
        {"status": "gone"},
        {"grid_id": "x"},
        {"q": "x" * 51},
        {"q": "\x07"},
        {"grid_id": 2**63},
    ],
)
def test_list_refuses_bad_parameters(client, api_token, query):
    response = client.get(BASE, query_string=query, headers=api_token(DEMO.grid_worker))
    assert response.status_code == 422
    assert error_of(response)["code"] == "validation_error"


# --- creating a household --------------------------------------------------


def test_create_household_then_find_it(app, client, api_token, grids):
    headers = api_token(DEMO.grid_worker)
    response = client.post(BASE, json=new_household(grids["g1"]), headers=headers)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    today = clock.today()
    assert created["grid"]["id"] == grids["g1"] and created["grid"]["community"]["name"] == "阳光社区"
    assert created["address"] == "7号楼1单元302" and created["contact_phone"] == "13912345678"
    assert created["status"] == "active" and created["lives_alone"] is True
    assert created["members"] == [
        {
            "id": created["members"][0]["id"],
            "name": "吴老伯",
            "relation": "head",
            "id_masked": None,
            "birth_date": None,
            "age": None,
            "sex": None,
            "serious_illness": None,
            "disability_grade": None,
            "work_capacity": "none",
            "schooling": "none",
        }
    ]
    assert created["consent"] == {"given": False, "on": None, "scope": ""}
    assert [(e["kind"], e["on"]) for e in created["events"]] == [("entered", today.isoformat())]
    # No member can work: reviewed every 6 months.
    assert created["next_review_on"] == add_months(today, 6).isoformat()
    assert created["open_needs"] == [] and created["categories"] == [] and created["finances"] == []

    listed = client.get(BASE, query_string={"q": "吴老伯"}, headers=headers).get_json()
    assert [(h["id"], h["head_name"], h["address"]) for h in listed["items"]] == [
        (created["id"], "吴老伯", "7号楼1单元302")
    ]
    assert client.get(f"{BASE}/{created['id']}", headers=headers).get_json() == created
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        assert (entry.action, entry.object_type, entry.object_id) == ("create", "household", created["id"])


def test_community_worker_records_in_either_grid_of_the_community(client, api_token, grids):
    headers = api_token(DEMO.community_worker)
    response = client.post(BASE, json=new_household(grids["g2"], room="501"), headers=headers)
    assert response.status_code == 201 and response.get_json()["grid"]["id"] == grids["g2"]
    response = client.post(BASE, json=new_household(grids["other"], room="502"), headers=headers)
    assert response.status_code == 422 and error_of(response)["code"] == "grid_not_managed"


CONSENT = {"on": "2024-01-05", "scope": "身份证号、健康状况用于帮扶"}


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"contact_phone": "12345"}, 422, "invalid_phone"),
        (
            {"head": {"name": "吴老伯", "id_number": with_bad_checksum(id_number())}, "consent": CONSENT},
            422,
            "invalid_id_number",
        ),
        ({"head": {"name": "吴老伯", "id_number": id_number()}}, 422, "consent_required"),
        (
            {"head": {"name": "吴老伯", "disability_grade": 7}, "consent": CONSENT},
            422,
            "invalid_disability_grade",
        ),
        ({"grid_key": "g2"}, 422, "grid_not_managed"),
        ({"building": "  "}, 422, "invalid_address"),
        ({"register_type": "resident", "resident_since": "2099-01-01"}, 422, "residence_too_short"),
        ({"colour": "red"}, 422, "validation_error"),
        ({"head": {"name": "吴老伯", "nickname": "老吴"}}, 422, "validation_error"),
        ({"register_type": "alien"}, 422, "validation_error"),
        ({"grid_id": "1"}, 422, "validation_error"),
        ({"head": None}, 422, "validation_error"),
        ({"consent": {"on": "2024-01-05"}}, 422, "validation_error"),
        ({"resident_since": "yesterday"}, 422, "validation_error"),
        ({"building": "3\x07号楼"}, 422, "validation_error"),
        ({"head": {"name": "吴\x07"}}, 422, "validation_error"),
        ({"grid_id": 2**63}, 422, "validation_error"),
    ],
)
def test_create_refusals_write_nothing(app, client, api_token, grids, change, status, code):
    body = new_household(grids["g1"])
    change = dict(change)
    if "grid_key" in change:
        body["grid_id"] = grids[change.pop("grid_key")]
    body.update(change)
    with app.app_context():
        before = count_rows(Household), count_rows(Member), count_rows(AuditEntry)
    response = client.post(BASE, json=body, headers=api_token(DEMO.grid_worker))
    assert response.status_code == status, response.get_json()
    error = error_of(response)
    assert error["code"] == code
    if code == "validation_error":  # the message names the field
        assert next(iter(change)) in error["message"], error
    with app.app_context():
        assert (count_rows(Household), count_rows(Member), count_rows(AuditEntry)) == before


def test_create_body_that_is_not_json(app, client, api_token):
    with app.app_context():
        before = count_rows(Household)
    response = client.post(
        BASE, data="{grid_id: 1", headers={**api_token(DEMO.grid_worker), "Content-Type": "application/json"}
    )
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_json"
    with app.app_context():
        assert count_rows(Household) == before


def test_duplicates_are_409(app, client, api_token, grids):
    headers = api_token(DEMO.grid_worker)
    number = id_number(seq="456")
    first = new_household(grids["g1"], head={"name": "吴老伯", "id_number": number}, consent=CONSENT)
    assert client.post(BASE, json=first, headers=headers).status_code == 201
    with app.app_context():
        before = count_rows(Household), count_rows(Member)
    again = client.post(BASE, json=new_household(grids["g1"]), headers=headers)
    assert again.status_code == 409 and error_of(again)["code"] == "household_exists"
    same_person = new_household(
        grids["g1"], room="303", head={"name": "吴老伯", "id_number": number}, consent=CONSENT
    )
    response = client.post(BASE, json=same_person, headers=headers)
    assert response.status_code == 409 and error_of(response)["code"] == "member_in_other_household"
    with app.app_context():
        assert (count_rows(Household), count_rows(Member)) == before


def test_id_numbers_leave_only_masked(client, api_token, grids):
    headers = api_token(DEMO.community_worker)
    number = id_number(birth="19400101", seq="135")
    body = new_household(
        grids["g1"], head={"name": "吴老伯", "id_number": number, "serious_illness": True}, consent=CONSENT
    )
    created = client.post(BASE, json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    household_id = created.get_json()["id"]
    responses = [
        created,
        client.get(f"{BASE}/{household_id}", headers=headers),
        client.get(BASE, query_string={"q": "吴老伯"}, headers=headers),
        client.get(f"{BASE}/{household_id}/needs", headers=headers),
    ]
    for response in responses:
        text = response.get_data(as_text=True)
        assert number not in text and number[6:] not in text
        assert not FULL_ID.search(text), text
    head = responses[1].get_json()["members"][0]
    assert head["id_masked"] == "110105********" + number[-4:]
    # What the ID number tells is kept: birth date, age, sex.
    assert head["birth_date"] == "1940-01-01" and head["age"] >= 84 and head["sex"] == "male"
    assert responses[1].get_json()["consent"] == {"given": True, **CONSENT}


# --- the whole record ------------------------------------------------------


def test_detail_has_warnings_needs_categories_and_assessment(app, client, api_token, grids):
    headers = api_token(DEMO.grid_worker)
    today = clock.today()
    head = {"name": "吴老伯", "id_number": id_number(seq="246"), "serious_illness": True}
    created = client.post(BASE, json=new_household(grids["g1"], head=head, consent=CONSENT), headers=headers)
    household_id = created.get_json()["id"]
    assert created.get_json()["assessment"]["categories"] is None
    assert created.get_json()["assessment"]["reason"]
    for urgency, description in (("normal", "打扫卫生"), ("critical", "陪同就医")):
        need = {"service_type_code": "housekeeping", "description": description, "urgency": urgency}
        assert client.post(f"{BASE}/{household_id}/needs", json=need, headers=headers).status_code == 201
    with app.app_context():
        worker = user_by_phone(DEMO.grid_worker)
        casework.propose_category(worker, household_id, Category.ELDERLY_ALONE, "独居")
        city_id = standards.city_of_grid(grids["g1"])
        standards.set_standard(
            user_by_phone(DEMO.admin),
            standards.StandardData(city_id=city_id, effective_from=today, monthly_amount=100_000),
        )
        last_month = add_months(today.replace(day=1), -1)
        household_changes.set_monthly_finance(worker, household_id, last_month, 150_000, 0, 0, 0, today)

    detail = client.get(f"{BASE}/{household_id}", headers=headers).get_json()
    assert detail["warnings"] == ["elderly_alone_80", "serious_illness"]
    # Score: urgency base + 20 (80+ alone) + 15 (serious illness) + 0 weeks open.
    assert [(n["description"], n["urgency"], n["urgency_score"]) for n in detail["open_needs"]] == [
        ("陪同就医", "critical", 85),
        ("打扫卫生", "normal", 45),
    ]
    assert detail["open_needs"][0]["service_type"] == {"code": "housekeeping", "name": "家政"}
    [category] = detail["categories"]
    assert (category["category"], category["status"]) == ("elderly_alone", "proposed")
    assert [(s["action"], s["by"]["name"], s["note"]) for s in category["steps"]] == [
        ("propose", "张明华", "独居")
    ]
    assert detail["finances"] == [
        {
            "month": last_month.isoformat(),
            "income": 150_000,
            "illness_expense": 0,
            "disaster_expense": 0,
            "schooling_expense": 0,
        }
    ]
    assert detail["assessment"] == {
        "categories": ["income_type", "marginal"],
        "per_capita_monthly": 150_000,
        "below_standard": False,
        "standard": {"effective_from": today.isoformat(), "monthly_amount": 100_000},
        "reason": "",
    }


# --- needs -----------------------------------------------------------------


def test_needs_add_and_list_open_first(app, client, api_token, recorded):
    headers = api_token(DEMO.grid_worker)
    household_id = recorded["g1"]
    added = []
    for code, urgency in (("housekeeping", "normal"), ("meals", "urgent"), ("repairs", "normal")):
        body = {"service_type_code": code, "description": f"需要{code}", "urgency": urgency}
        response = client.post(f"{BASE}/{household_id}/needs", json=body, headers=headers)
        assert response.status_code == 201, response.get_json()
        added.append(response.get_json())
    assert added[1]["service_type"] == {"code": "meals", "name": "助餐"}
    assert (added[1]["urgency"], added[1]["status"], added[1]["closed_at"]) == ("urgent", "open", None)
    assert added[0]["urgency_score"] == 10 and added[1]["urgency_score"] == 30  # no warnings, just opened

    with app.app_context():
        casework.close_need(user_by_phone(DEMO.grid_worker), added[2]["id"], NeedStatus.MET, "修好了")
    listed = client.get(f"{BASE}/{household_id}/needs", headers=headers).get_json()
    assert [(n["id"], n["status"], n["urgency_score"]) for n in listed] == [
        (added[1]["id"], "open", 30),
        (added[0]["id"], "open", 10),
        (added[2]["id"], "met", None),
    ]
    assert listed[2]["closed_at"] is not None
    community = client.get(f"{BASE}/{household_id}/needs", headers=api_token(DEMO.community_worker))
    assert community.get_json() == listed
    detail = client.get(f"{BASE}/{household_id}", headers=headers).get_json()
    assert [n["id"] for n in detail["open_needs"]] == [added[1]["id"], added[0]["id"]]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"service_type_code": "juggling", "description": "x"}, "unknown_service_type"),
        ({"service_type_code": "meals", "description": "   "}, "invalid_text"),
        ({"service_type_code": "meals", "description": "x", "urgency": "panic"}, "validation_error"),
        ({"service_type_code": "meals", "description": "x", "household_id": 1}, "validation_error"),
        ({"service_type_code": "meals"}, "validation_error"),
        ({"service_type_code": 5, "description": "x"}, "validation_error"),
        ({"service_type_code": "meals", "description": "\x07"}, "validation_error"),
    ],
)
def test_need_refusals_write_nothing(app, client, api_token, recorded, body, code):
    with app.app_context():
        before = count_rows(Need)
    response = client.post(f"{BASE}/{recorded['g1']}/needs", json=body, headers=api_token(DEMO.grid_worker))
    assert response.status_code == 422 and error_of(response)["code"] == code
    with app.app_context():
        assert count_rows(Need) == before


def test_need_outside_scope_or_after_exit(app, client, api_token, recorded):
    headers = api_token(DEMO.grid_worker)
    body = {"service_type_code": "meals", "description": "送餐"}
    with app.app_context():
        before = count_rows(Need)
    outside = client.post(f"{BASE}/{recorded['g2']}/needs", json=body, headers=headers)
    assert outside.status_code == 404 and error_of(outside)["code"] == "not_found"
    with app.app_context():
        household_changes.exit_household(
            user_by_phone(DEMO.community_worker), recorded["g1"], clock.today(), "迁出", clock.today()
        )
    exited = client.post(f"{BASE}/{recorded['g1']}/needs", json=body, headers=headers)
    assert exited.status_code == 409 and error_of(exited)["code"] == "household_exited"
    not_json = client.post(
        f"{BASE}/{recorded['g1']}/needs", data="nope", headers={**headers, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400 and error_of(not_json)["code"] == "invalid_json"
    with app.app_context():
        assert count_rows(Need) == before


# --- the OpenAPI document --------------------------------------------------


def test_openapi_documents_the_households_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    expected = {
        ("/api/v1/households", "get"): {"200", "401", "403", "422"},
        ("/api/v1/households", "post"): {"201", "400", "401", "403", "409", "422"},
        ("/api/v1/households/{household_id}", "get"): {"200", "401", "403", "404"},
        ("/api/v1/households/{household_id}/needs", "get"): {"200", "401", "403", "404"},
        ("/api/v1/households/{household_id}/needs", "post"): {
            "201",
            "400",
            "401",
            "403",
            "404",
            "409",
            "422",
        },
    }
    for (path, method), codes in expected.items():
        operation = paths[path][method]
        assert codes <= set(operation["responses"]), (path, method)
        assert operation["security"] == [{"bearer": []}]
        for code in codes - {"200", "201"}:
            schema = operation["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    schemas = spec["components"]["schemas"]
    member = schemas["MemberOut"]["properties"]
    assert "id_masked" in member and "id_number" not in member
    assert schemas["HouseholdIn"]["properties"]["register_type"]["enum"] == ["local", "resident"]
    query = {p["name"] for p in paths["/api/v1/households"]["get"]["parameters"]}
    assert query == {"status", "grid_id", "q", "page", "per_page"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("get", BASE, {"query_string": {"q": "\x00"}}),
        ("post", BASE, {"json": {"building": "3\x00号楼"}}),
        ("post", "/api/v1/auth/token", {"json": {"phone": "138\x00", "password": "x"}}),
    ],
)
def test_nul_characters_are_refused_before_the_database(client, api_token, method, path, kwargs):
    """PostgreSQL cannot store NUL in text; the request is refused with 400, not a 500."""
    response = getattr(client, method)(path, headers=api_token(DEMO.grid_worker), **kwargs)
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_characters"


def test_api_record_reads_are_audited(app, client, api_token, recorded):
    import sqlalchemy as sa

    from app.extensions import db as _db
    from app.models import AuditEntry

    headers = api_token(DEMO.grid_worker)
    assert client.get(f"{BASE}/{recorded['g1']}", headers=headers).status_code == 200
    with app.app_context():
        views = _db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "view")).all()
        assert [v.household_id for v in views] == [recorded["g1"]]

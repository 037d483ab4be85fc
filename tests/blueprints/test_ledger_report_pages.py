"""The civil-affairs ledger workbook through the client: who may download
which community's, the download itself, and a query count that does not
grow with the number of households."""

from io import BytesIO

import openpyxl
import pytest

from app import clock
from app.models import Role
from tests.factories import make_tree, make_user
from tests.querycount import count_statements
from tests.services.test_civil_affairs_xlsx import Street

PASSWORD = "test-pass-8642"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def street(app):
    with app.app_context():
        made = Street()
        made.household(1)
        ids = {
            "community": made.community_id,
            "community_worker": made.community_worker.phone,
            "grid_worker": made.grid_worker.phone,
            "street_officer": made.street_officer.phone,
        }
    yield made, ids
    clock.freeze(None)


def path(community_id: int) -> str:
    return f"/registry/communities/{community_id}/ledger-report.xlsx"


def test_download(client, auth, street):
    _made, ids = street
    auth.login(ids["community_worker"], PASSWORD)
    index = client.get("/registry/").get_data(as_text=True)
    assert path(ids["community"]) in index
    response = client.get(path(ids["community"]))
    assert response.status_code == 200 and response.mimetype == XLSX
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(BytesIO(response.data)).worksheets[0]
    assert sheet.max_row == 4  # title, export line, headers, one household


@pytest.mark.parametrize("who", ["grid_worker", "street_officer"])
def test_staff_in_scope_download(client, auth, street, who):
    _made, ids = street
    auth.login(ids[who], PASSWORD)
    assert client.get(path(ids["community"])).status_code == 200


def test_another_community_answers_404(app, client, auth, street):
    _made, ids = street
    with app.app_context():
        other = make_tree("别的")
        outsiders = [
            make_user(Role.COMMUNITY_WORKER, PASSWORD, community_id=other["community"].id).phone,
            make_user(Role.GRID_WORKER, PASSWORD, grid_id=other["grids"][0].id).phone,
        ]
    for phone in outsiders:
        auth.login(phone, PASSWORD)
        assert client.get(path(ids["community"])).status_code == 404
        assert client.get(path(2_000_000_000)).status_code == 404
    auth.login(ids["community_worker"], PASSWORD)
    assert client.get(path(2_000_000_000)).status_code == 404


def test_volunteers_get_403(app, client, auth, street):
    made, ids = street
    with app.app_context():
        volunteer = make_user(Role.VOLUNTEER, PASSWORD, grid_id=made.grid_ids[0]).phone
    auth.login(volunteer, PASSWORD)
    assert client.get(path(ids["community"])).status_code == 403


def test_query_count_is_the_same_for_5_and_50_households(app, client, auth, street):
    made, ids = street
    numbers = iter(range(2, 100))

    def add(count: int) -> None:
        with app.app_context():
            for _ in range(count):
                n = next(numbers)
                made.household(n, approve=n % 2 == 0)

    auth.login(ids["community_worker"], PASSWORD)
    add(4)  # 5 in all
    with count_statements(app) as five:
        small = client.get(path(ids["community"]))
    add(45)  # 50 in all
    with count_statements(app) as fifty:
        large = client.get(path(ids["community"]))
    assert small.status_code == large.status_code == 200
    rows = openpyxl.load_workbook(BytesIO(large.data)).worksheets[0].max_row - 3
    assert rows == 50
    assert len(five) == len(fifty), "\n".join(fifty)

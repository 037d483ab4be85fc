"""The service catalogue: administrators add and change services."""

import pytest

from app import clock
from app.models import AuditEntry, PointRate, ServiceType
from app.services import catalogue, points
from app.services.errors import Forbidden, InvalidInput
from tests.conftest import DEMO, count_rows
from tests.factories import user_by_phone


def data(**overrides) -> catalogue.ServiceTypeData:
    fields = {
        "code": "reading",
        "name_zh": "读报",
        "name_en": "Reading aloud",
        "skill_code": "visiting",
        "points_per_visit": 6,
        "points_per_hour": 3,
    }
    return catalogue.ServiceTypeData(**(fields | overrides))


def test_an_administrator_adds_then_changes_a_service(db):
    admin = user_by_phone(DEMO.admin)
    added = catalogue.save_service_type(admin, data())
    assert added.code == "reading" and added.active
    assert added in catalogue.active_service_types()
    first_rate = points.rate_in_force("reading", clock.today())
    assert (first_rate.points_per_visit, first_rate.points_per_hour) == (6, 3)
    catalogue.save_service_type(admin, data(points_per_visit=8, active=False))
    changed = db.session.get(ServiceType, "reading")
    assert changed not in catalogue.active_service_types()
    # New points are a new rate from today; the old rate stays as the record of past visits.
    rate = points.rate_in_force("reading", clock.today())
    assert rate.id != first_rate.id and (rate.points_per_visit, rate.points_per_hour) == (8, 3)
    assert db.session.get(PointRate, first_rate.id).points_per_visit == 6
    rows = catalogue.with_rates([changed])
    assert rows == [(changed, 8, 3)]
    assert count_rows(AuditEntry) >= 2


def test_saving_a_service_again_with_the_same_points_adds_no_rate(db):
    admin = user_by_phone(DEMO.admin)
    catalogue.save_service_type(admin, data())
    before = count_rows(PointRate)
    catalogue.save_service_type(admin, data(name_en="Reading to people"))
    assert count_rows(PointRate) == before


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"code": "Bad Code"}, "invalid_code"),
        ({"code": "x"}, "invalid_code"),
        ({"name_en": " "}, "invalid_name"),
        ({"skill_code": "juggling"}, "unknown_skill"),
        ({"points_per_visit": -1}, "invalid_points"),
        ({"points_per_hour": 1001}, "invalid_points"),
    ],
)
def test_bad_services_are_refused(db, overrides, code):
    before = count_rows(ServiceType)
    with pytest.raises(InvalidInput) as error:
        catalogue.save_service_type(user_by_phone(DEMO.admin), data(**overrides))
    assert error.value.code == code and count_rows(ServiceType) == before


def test_only_administrators_change_the_catalogue(db):
    with pytest.raises(Forbidden):
        catalogue.save_service_type(user_by_phone(DEMO.community_worker), data())


def test_the_catalogue_page(client, auth):
    auth.login(DEMO.grid_worker)
    assert client.get("/registry/service-types").status_code == 403
    auth.logout()
    auth.login(DEMO.admin)
    page = client.get("/registry/service-types").get_data(as_text=True)
    assert "助医" in page and "medical_escort" in page
    response = client.post(
        "/registry/service-types",
        data={
            "code": "reading",
            "name_zh": "读报",
            "name_en": "Reading aloud",
            "skill_code": "visiting",
            "points_per_visit": "6",
            "points_per_hour": "3",
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert "读报" in client.get("/registry/service-types").get_data(as_text=True)
    bad = client.post(
        "/registry/service-types",
        data={
            "code": "Bad Code",
            "name_zh": "x",
            "name_en": "x",
            "skill_code": "visiting",
            "points_per_visit": "1",
            "points_per_hour": "1",
        },
    )
    assert bad.status_code == 200
    assert "小写字母" in bad.get_data(as_text=True)  # the rule's message beside the code field

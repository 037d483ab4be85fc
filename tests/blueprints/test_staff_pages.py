"""Staff pages: roles get 403, other grids get 404, each sees its own subtree."""

import pytest
import sqlalchemy as sa

from app.models import Community, Grid
from tests.conftest import DEMO


@pytest.fixture
def grid_ids(app):
    """Demo grids: community 1 → g1, g2; community 2 → g3, g4."""
    with app.app_context():
        from app.extensions import db

        return list(db.session.scalars(sa.select(Grid.id).join(Community).order_by(Community.id, Grid.id)))


@pytest.mark.parametrize("path", ["/staff/", "/staff/volunteers", "/staff/grids/1"])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("phone", [DEMO.volunteer, DEMO.resident, DEMO.partner])
@pytest.mark.parametrize("path", ["/staff/", "/staff/volunteers"])
def test_non_staff_get_403(client, auth, phone, path):
    auth.login(phone)
    response = client.get(path)
    assert response.status_code == 403
    assert "没有权限" in response.get_data(as_text=True)


def test_non_staff_get_403_for_object_urls_too(client, auth, grid_ids):
    auth.login(DEMO.volunteer)
    assert client.get(f"/staff/grids/{grid_ids[0]}").status_code == 403


@pytest.mark.parametrize(
    ("phone", "visible", "hidden"),
    [
        (DEMO.grid_worker, [0], [1, 2, 3]),
        (DEMO.grid_worker_2, [1], [0, 2, 3]),
        (DEMO.community_worker, [0, 1], [2, 3]),
        (DEMO.street_officer, [0, 1, 2, 3], []),
        (DEMO.admin, [0, 1, 2, 3], []),
    ],
)
def test_grid_pages_follow_the_tree(client, auth, grid_ids, phone, visible, hidden):
    auth.login(phone)
    for index in visible:
        assert client.get(f"/staff/grids/{grid_ids[index]}").status_code == 200
    for index in hidden:
        response = client.get(f"/staff/grids/{grid_ids[index]}")
        assert response.status_code == 404
    assert client.get("/staff/grids/999999").status_code == 404


def test_overview_lists_own_grids_with_volunteer_counts(client, auth):
    auth.login(DEMO.community_worker)
    page = client.get("/staff/").get_data(as_text=True)
    assert page.count("/staff/grids/") == 2
    assert "阳光社区" in page and "和谐社区" not in page


def test_grid_worker_sees_own_volunteers_only(client, auth):
    auth.login(DEMO.grid_worker)
    page = client.get("/staff/volunteers").get_data(as_text=True)
    assert "王小明" in page and DEMO.volunteer in page
    assert "刘洋" not in page  # grid 2


def test_staff_navigation_is_role_aware(client, auth):
    auth.login(DEMO.volunteer)
    assert "/staff/" not in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(DEMO.grid_worker)
    assert "/staff/" in client.get("/").get_data(as_text=True)


HUGE = 10**20  # past every list's end, and too large for the database's integers


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/staff/volunteers", 404),  # a page past the end: 404, as Flask-SQLAlchemy answers
        ("/registry/", 404),
        ("/registry/inbox", 404),
        ("/staff/tasks/", 404),
        ("/staff/notices/", 404),
        ("/registry/audit", 404),
        ("/registry/approvals", 200),  # lists that show an empty page instead
        ("/supply/communities/1", 200),
        ("/staff/points/accounts", 200),
    ],
)
def test_a_page_number_too_large_for_the_database_is_no_error(client, auth, path, status):
    """?page=10**20 once overflowed the OFFSET (a 500 on SQLite and PostgreSQL); ?per_page= is capped."""
    auth.login(DEMO.community_worker)
    assert client.get(f"{path}?page={HUGE}").status_code == status
    assert client.get(f"{path}?per_page={HUGE}").status_code == 200


def test_a_volunteers_lists_take_a_huge_page_number_too(client, auth):
    auth.login(DEMO.volunteer)
    for path in ("/tasks/", "/tasks/mine", "/tasks/history", "/bank/vouchers", "/me/notifications"):
        assert client.get(f"{path}?page={HUGE}").status_code == 404, path

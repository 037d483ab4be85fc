"""CLI commands, /livez, /healthz, the home page and the language switch."""

import sqlalchemy as sa

from app.models import City, Community, Grid, Role, Street, User, UserRole
from app.services.accounts import find_by_phone
from tests.conftest import DEMO, count_rows
from tests.querycount import count_statements

TABLES = (City, Street, Community, Grid, User, UserRole)


def test_seed_demo_twice_changes_nothing(app, runner):
    with app.app_context():
        before = {m.__name__: count_rows(m) for m in TABLES}
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    for login in vars(DEMO).values():
        if login != DEMO.password:
            assert login in result.output
    assert "demo1234" in result.output
    with app.app_context():
        assert {m.__name__: count_rows(m) for m in TABLES} == before


def test_seed_demo_has_every_role(db):
    roles = set(db.session.scalars(sa.select(UserRole.role).distinct()))
    assert roles == set(Role)


def test_seed_demo_if_empty_leaves_data_alone(runner):
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "not loaded" in result.output


def test_seed_demo_refuses_production(app, runner):
    app.config["APP_ENV"] = "production"
    try:
        result = runner.invoke(args=["seed-demo"])
    finally:
        app.config["APP_ENV"] = "testing"
    assert result.exit_code != 0 and "production" in result.output


def test_create_admin_reads_admin_password(app, runner, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "a strong one")
    result = runner.invoke(args=["create-admin", "--phone", "13911110000"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = find_by_phone("13911110000")
        assert user.has_role(Role.ADMIN)


def test_create_admin_asks_for_the_password(app, runner, monkeypatch):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    result = runner.invoke(
        args=["create-admin", "--phone", "13911110001"], input="a strong one\na strong one\n"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert find_by_phone("13911110001").has_role(Role.ADMIN)


def test_create_admin_refuses_bad_input(runner, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "short")
    assert runner.invoke(args=["create-admin", "--phone", "13911110002"]).exit_code != 0
    monkeypatch.setenv("ADMIN_PASSWORD", "long enough")
    result = runner.invoke(args=["create-admin", "--phone", "123"])
    assert result.exit_code != 0 and "11" in result.output


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok", "database": "ok"}


def test_livez_answers_without_touching_the_database(app, client):
    with count_statements(app) as statements:
        response = client.get("/livez")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert statements == []


def test_home_page_for_visitors(client):
    page = client.get("/").get_data(as_text=True)
    assert "成为志愿者" in page and "/static/css/app.css" in page
    assert "http://" not in page.replace("http://localhost", "")  # nothing from a CDN


def test_language_switch_to_english_and_back(client):
    response = client.post("/lang/en", data={"next": "/auth/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Mobile number" in page
    client.post("/lang/zh")
    assert "手机号" in client.get("/auth/login").get_data(as_text=True)


def test_language_switch_refuses_unknown_and_offsite(client):
    assert client.post("/lang/fr").status_code == 404
    response = client.post("/lang/en", data={"next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "不存在" in response.get_data(as_text=True)


def test_demo_has_every_category_in_more_than_one_grid(db):
    from app.models import Category
    from app.services.demo_households import demo_category_grids

    grids = demo_category_grids()
    assert set(grids) == set(Category)
    assert all(len(found) >= 2 for found in grids.values()), grids


def test_demo_has_a_task_in_every_state_and_a_linked_resident(db):
    import sqlalchemy as sa

    from app.models import Member, Task, TaskStatus

    states = set(db.session.scalars(sa.select(Task.status).distinct()))
    assert states == set(TaskStatus)
    resident = find_by_phone(DEMO.resident)
    assert db.session.scalar(sa.select(Member.name).where(Member.user_id == resident.id)) == resident.name

"""Login, registration, profile and password pages through the client."""

import sqlalchemy as sa

from app.models import Grid, User
from app.services.accounts import find_by_phone
from tests.conftest import DEMO, count_rows


def first_grid_id(app) -> int:
    with app.app_context():
        from app.extensions import db

        return db.session.scalar(sa.select(Grid.id).order_by(Grid.id))


def test_login_page_is_chinese_by_default(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "登录" in page and "手机号" in page


def test_login_and_logout(client, auth):
    response = auth.login(DEMO.volunteer)
    assert response.headers["Location"] == "/"
    assert "王小明" in client.get("/").get_data(as_text=True)
    auth.logout()
    assert "王小明" not in client.get("/").get_data(as_text=True)


def test_wrong_password_shows_a_form_error(client):
    response = client.post("/auth/login", data={"phone": DEMO.volunteer, "password": "nope nope"})
    assert response.status_code == 200
    assert "手机号或密码错误" in response.get_data(as_text=True)


def test_unknown_and_malformed_phone(client):
    unknown = client.post("/auth/login", data={"phone": "13999999999", "password": "whatever1"})
    assert "手机号或密码错误" in unknown.get_data(as_text=True)
    malformed = client.post("/auth/login", data={"phone": "12345", "password": "whatever1"})
    assert malformed.status_code == 200
    assert "请输入以13–19开头的11位手机号" in malformed.get_data(as_text=True)


def test_login_ignores_an_offsite_next(client):
    response = client.post(
        "/auth/login?next=https://evil.example/", data={"phone": DEMO.volunteer, "password": DEMO.password}
    )
    assert response.headers["Location"] == "/"


def register_form(app, **overrides):
    data = {
        "name": "郑小红",
        "phone": "13912340000",
        "password": "long enough",
        "confirm": "long enough",
        "grid_id": str(first_grid_id(app)),
        "skills": ["tutoring", "errands"],
        "free_times": ["weekday_evening"],
    }
    data.update(overrides)
    return data


def test_register_logs_the_new_volunteer_in(app, client):
    response = client.post("/auth/register", data=register_form(app))
    assert response.status_code == 302
    assert "郑小红" in client.get("/").get_data(as_text=True)
    with app.app_context():
        user = find_by_phone("13912340000")
        assert user.grid_id == first_grid_id(app)


def test_register_page_offers_grids_skills_and_free_times(client):
    page = client.get("/auth/register").get_data(as_text=True)
    assert "阳光社区" in page and "第一网格" in page
    assert "学习辅导" in page and "周末上午" in page


def test_duplicate_registration_is_a_form_error(app, client):
    with app.app_context():
        before = count_rows(User)
    response = client.post("/auth/register", data=register_form(app, phone=DEMO.volunteer))
    assert response.status_code == 200
    assert "该手机号已注册" in response.get_data(as_text=True)
    with app.app_context():
        assert count_rows(User) == before


def test_register_form_errors(app, client):
    response = client.post(
        "/auth/register",
        data=register_form(app, phone="138", password="short", confirm="other", grid_id="999999"),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "请输入以13–19开头的11位手机号" in page
    assert "密码至少需要8个字符" in page
    assert "两次输入的密码不一致" in page
    assert "不是有效的选择" in page  # the grid id is not one offered


def test_missing_csrf_token_is_refused_clearly(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/auth/login", data={"phone": DEMO.volunteer, "password": DEMO.password})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)


def test_profile_update(app, client, auth):
    auth.login(DEMO.volunteer)
    page = client.get("/auth/profile").get_data(as_text=True)
    assert '<input checked id="skills-0" name="skills" type="checkbox" value="housekeeping">' in page
    assert 'id="skills-1" name="skills" type="checkbox" value="tutoring">' in page  # not checked
    response = client.post(
        "/auth/profile",
        data={
            "name": "王小明明",
            "grid_id": str(first_grid_id(app)),
            "skills": ["cleaning"],
            "free_times": ["weekend_evening"],
            "show_full_name": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        from app.services.accounts import load_profile

        user = load_profile(find_by_phone(DEMO.volunteer).id)
        assert user.name == "王小明明" and user.show_full_name
        assert [s.code for s in user.skills] == ["cleaning"]


def test_staff_profile_has_no_grid_choice(client, auth):
    auth.login(DEMO.grid_worker)
    page = client.get("/auth/profile").get_data(as_text=True)
    assert 'name="grid_id"' not in page
    response = client.post("/auth/profile", data={"name": "张明华"})
    assert response.status_code == 302


def test_password_change_ends_other_sessions(app, auth, client):
    other = app.test_client()
    AuthOther = type(auth)
    AuthOther(other).login(DEMO.volunteer)
    auth.login(DEMO.volunteer)
    response = client.post(
        "/auth/password",
        data={"current_password": DEMO.password, "new_password": "brand new pw", "confirm": "brand new pw"},
    )
    assert response.status_code == 302
    assert client.get("/auth/profile").status_code == 200  # this session goes on
    assert other.get("/auth/profile").status_code == 302  # the other is logged out


def test_pages_that_need_login_redirect_to_it(client):
    response = client.get("/auth/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_login_is_rate_limited_per_address(limited_app):
    """Password guessing from one address stops after the limit (accounts.LOGIN_LIMIT)."""
    client = limited_app.test_client()
    wrong = {"phone": DEMO.volunteer, "password": "guess guess"}
    statuses = [client.post("/auth/login", data=wrong).status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
    refused = client.post("/auth/login", data=wrong)
    assert "尝试次数过多" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    other = limited_app.test_client()
    response = other.post("/auth/login", data=wrong, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 200  # another address is not blocked


def test_api_token_is_rate_limited(limited_app):
    client = limited_app.test_client()
    # An unknown phone: a known one would be locked after 5 failures (test_lockout.py).
    body = {"phone": "13999999999", "password": "guess guess"}
    statuses = [client.post("/api/v1/auth/token", json=body).status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    refused = client.post("/api/v1/auth/token", json=body)
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 60  # when to try again, in seconds


def test_production_trusts_one_proxy_for_the_client_address(monkeypatch):
    from flask import request

    from tests.conftest import second_app

    monkeypatch.setenv("SECRET_KEY", "s")
    monkeypatch.setenv("DATA_KEY", "d")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    seen = {}
    with second_app(env="production") as app:

        @app.get("/whoami-test")
        def whoami():
            seen["addr"], seen["scheme"] = request.remote_addr, request.scheme
            return ""

        app.test_client().get(
            "/whoami-test", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
        )
    assert seen == {"addr": "203.0.113.7", "scheme": "https"}

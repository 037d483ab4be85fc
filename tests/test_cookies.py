"""Session and remember cookies: HttpOnly and SameSite=Lax always, Secure in production.

Read off the Set-Cookie headers of a real login, not off the settings."""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask_migrate import upgrade

from app.extensions import db
from app.models import Role
from tests.conftest import second_app
from tests.factories import make_user


def cookie_attributes(response, name: str) -> set[str]:
    """The attributes of the cookie `name` set by `response`, lower-cased ("secure", "samesite=lax"…)."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return {part.strip().lower() for part in header.split(";")[1:]}
    raise AssertionError(f"no {name} cookie in {response.headers.getlist('Set-Cookie')}")


def log_in(app, phone: str, password: str):
    client = app.test_client()
    client.get("/auth/login", base_url="https://example.org")  # a session to carry the CSRF token
    return client.post(
        "/auth/login",
        data={"phone": phone, "password": password, "remember": "y"},
        base_url="https://example.org",
    )


@pytest.fixture
def production(tmp_path, monkeypatch):
    """A production app on a database of its own, with one volunteer."""
    monkeypatch.setenv("SECRET_KEY", "cookie-test-secret")
    monkeypatch.setenv("DATA_KEY", "cookie-test-data-key")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    with second_app(env="production", WTF_CSRF_ENABLED=False) as app:
        with app.app_context():
            upgrade()
            user = make_user(Role.VOLUNTEER, community_id=None)
            phone = user.phone
            db.session.remove()
        yield app, phone


def test_production_cookies_are_secure_httponly_and_lax(production):
    app, phone = production
    response = log_in(app, phone, "test-pass-8642")
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        attributes = cookie_attributes(response, name)
        assert {"secure", "httponly", "samesite=lax"} <= attributes, (name, attributes)
    remember = cookie_attributes(response, "remember_token")
    expires = next(a.removeprefix("expires=") for a in remember if a.startswith("expires="))
    lifetime = parsedate_to_datetime(expires) - datetime.now(UTC)
    assert timedelta(days=13) < lifetime <= timedelta(days=14)  # not Flask-Login's 365 days


def test_cookies_outside_production_are_httponly_and_lax_but_not_secure(app, demo):
    response = log_in(app, demo.volunteer, demo.password)
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        attributes = cookie_attributes(response, name)
        assert {"httponly", "samesite=lax"} <= attributes and "secure" not in attributes, (name, attributes)

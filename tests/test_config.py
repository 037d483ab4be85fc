"""Settings: production refuses to start without its secrets, and says which."""

import pytest

from app import create_app
from config import ConfigError, database_url, load_config


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATA_KEY", "DATABASE_URL"])
def test_production_names_the_missing_setting(monkeypatch, missing):
    for name in ("SECRET_KEY", "DATA_KEY", "DATABASE_URL"):
        monkeypatch.setenv(name, "x" if name != "DATABASE_URL" else "postgresql://db/app")
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigError, match=missing):
        create_app("production")


def test_production_starts_with_every_secret(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("DATA_KEY", "d4ta")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/prod")
    settings = load_config("production")
    assert settings["SECRET_KEY"] == "s3cret"
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://postgres@127.0.0.1/prod"
    assert settings["SESSION_COOKIE_SECURE"] and settings["REMEMBER_COOKIE_SECURE"]


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_config("staging")


def test_development_defaults_to_sqlite_in_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_config("development")
    assert settings["SQLALCHEMY_DATABASE_URI"].endswith("instance/app.db")
    assert settings["SECRET_KEY"] and settings["RATELIMIT_ENABLED"] is True


def test_ratelimit_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("RATELIMIT_ENABLED", "0")
    assert load_config("development")["RATELIMIT_ENABLED"] is False


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url_uses_psycopg3(given, expected):
    assert database_url(given) == expected

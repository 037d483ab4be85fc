"""Settings per environment, read from the environment when the app is made.

See CONTRACT.md for the variables. `load_config()` reads `os.environ` at call
time so that tests (and the production check) see the real environment.
"""

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
ENVIRONMENTS = ("development", "testing", "production")
PRODUCTION_REQUIRED = ("SECRET_KEY", "DATA_KEY", "DATABASE_URL")


class ConfigError(RuntimeError):
    """A setting is missing or wrong: the app refuses to start."""


class Config:
    """Settings shared by every environment."""

    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh": "中文", "en": "English"}

    WTF_CSRF_TIME_LIMIT = None  # a form left open on a phone must still post
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = 14 * 24 * 3600
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Statement parameters hold ID numbers, phones and incomes: keep them out of
    # SQL logs and of database error messages, which end up in logs too.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024  # the ledger import's limit; larger requests answer 413
    # Who may show the notice-board display (/board/<id>) in a frame: the CSP
    # frame-ancestors sources, space-separated (e.g. "'self' https://screen.example").
    # Every other page refuses framing. Env var BOARD_FRAME_ANCESTORS overrides it.
    BOARD_FRAME_ANCESTORS = "*"

    API_TITLE = "邻里互助 API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_TOKEN_MAX_AGE = 7 * 24 * 3600

    # Werkzeug's scrypt default; tests use a cheaper hash to stay fast.
    PASSWORD_HASH_METHOD = "scrypt"

    # Dashboard figures are cached per (area, period) this long (app/services/dashboard_cache.py).
    DASHBOARD_REFRESH_SECONDS = 300


class DevelopmentConfig(Config):
    """Local work: SQLite file under instance/, a generated secret."""


class TestingConfig(Config):
    """pytest: CSRF off unless a test turns it on, cheap password hashes."""

    TESTING = True
    WTF_CSRF_ENABLED = False
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    DASHBOARD_REFRESH_SECONDS = 0  # each test rolls its data back: a kept figure would outlive it


class ProductionConfig(Config):
    """Behind gunicorn and a reverse proxy, on PostgreSQL."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


CLASSES = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(env: str | None = None) -> dict:
    """The settings for APP_ENV as a dict; refuses production without secrets."""
    environ = os.environ
    env = env or environ.get("APP_ENV") or "development"
    if env not in CLASSES:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    if env == "production":
        missing = [name for name in PRODUCTION_REQUIRED if not environ.get(name)]
        if missing:
            raise ConfigError("production refuses to start without: " + ", ".join(missing))
    cls = CLASSES[env]
    settings = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
    settings["APP_ENV"] = env
    if env == "testing":
        settings["SQLALCHEMY_DATABASE_URI"] = "sqlite://"  # tests/conftest.py picks the real one
        settings["SECRET_KEY"] = "testing-secret"
        settings["DATA_KEY"] = "testing-data-key"
        settings["RATELIMIT_ENABLED"] = False
    else:
        settings["SQLALCHEMY_DATABASE_URI"] = database_url(
            environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'instance' / 'app.db'}"
        )
        settings["SECRET_KEY"] = environ.get("SECRET_KEY") or _dev_secret_key()
        settings["DATA_KEY"] = environ.get("DATA_KEY") or "dev-data-key-not-for-production"
        settings["DATA_KEY_OLD"] = environ.get("DATA_KEY_OLD") or None  # while rotating only
        settings["RATELIMIT_ENABLED"] = environ.get("RATELIMIT_ENABLED", "1") != "0"
    if environ.get("BOARD_FRAME_ANCESTORS"):
        settings["BOARD_FRAME_ANCESTORS"] = environ["BOARD_FRAME_ANCESTORS"]
    settings["REDIS_URL"] = environ.get("REDIS_URL")
    settings["RATELIMIT_STORAGE_URI"] = settings["REDIS_URL"] or "memory://"
    settings["RATELIMIT_HEADERS_ENABLED"] = True
    return settings


def _dev_secret_key() -> str:
    """A random key kept in instance/ so web and CLI processes agree on it."""
    path = BASE_DIR / "instance" / "dev-secret-key"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def database_url(url: str) -> str:
    """The SQLAlchemy URL for `url`; plain postgresql:// URLs use psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url

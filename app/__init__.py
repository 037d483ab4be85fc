"""The application factory."""

from pathlib import Path

import sqlalchemy as sa
from flask import Flask, has_request_context, request, session
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from app.db_faults import RetryingFlask, register_database_fault_handling
from app.security import register_security_headers
from config import load_config


def create_app(env: str | None = None, **overrides) -> Flask:
    """Build the app for APP_ENV (or `env`), with optional setting overrides."""
    app = RetryingFlask(__name__, instance_relative_config=True)
    app.config.from_mapping(load_config(env))
    app.config.update(overrides)
    app.json.ensure_ascii = False  # JSON is UTF-8 (CONTRACT.md): 王小明, not \u738b…
    if app.config["APP_ENV"] == "production":
        # Behind one reverse proxy (README): take the client's address and
        # scheme from it, so per-address rate limits and https URLs are right.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    register_security_headers(app)
    configure_logging(app)
    return app


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (every table known to Alembic)
    from app.extensions import api, babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page says why on its own
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    api.init_app(app)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                _configure_sqlite(engine)


def _load_user(session_id: str):
    from app.services.accounts import user_from_session_id

    return user_from_session_id(session_id)


def _configure_sqlite(engine: sa.Engine) -> None:
    """Foreign keys on, WAL, a busy timeout, and write-safe transactions.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT;
    we take it over and begin every transaction with BEGIN IMMEDIATE, so that
    a read-then-write transaction holds the write lock from its start
    instead of failing with SQLITE_BUSY half-way (ENGINEERING.md).
    """

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def register_blueprints(app: Flask) -> None:
    from app.blueprints.api import register_api
    from app.blueprints.auth import bp as auth_bp
    from app.blueprints.bank import bp as bank_bp
    from app.blueprints.board import bp as board_bp
    from app.blueprints.dashboard import bp as dashboard_bp
    from app.blueprints.help import bp as help_bp
    from app.blueprints.jobs import bp as jobs_bp
    from app.blueprints.matching import bp as matching_bp
    from app.blueprints.me import bp as me_bp
    from app.blueprints.me import feed_bp as calendar_feed_bp
    from app.blueprints.notice import bp as notice_bp
    from app.blueprints.points import bp as points_bp
    from app.blueprints.public import bp as public_bp
    from app.blueprints.registry import bp as registry_bp
    from app.blueprints.staff import bp as staff_bp
    from app.blueprints.supply import bp as supply_bp
    from app.blueprints.supply import me_bp as supply_me_bp
    from app.blueprints.tasks_staff import bp as tasks_staff_bp
    from app.blueprints.visits import bp as visits_bp
    from app.blueprints.volunteer import bp as volunteer_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(registry_bp)
    app.register_blueprint(help_bp)
    app.register_blueprint(visits_bp)
    app.register_blueprint(me_bp)
    app.register_blueprint(calendar_feed_bp)
    app.register_blueprint(matching_bp)
    app.register_blueprint(volunteer_bp)
    app.register_blueprint(tasks_staff_bp)
    app.register_blueprint(bank_bp)
    app.register_blueprint(board_bp)
    app.register_blueprint(points_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(notice_bp)
    app.register_blueprint(supply_bp)
    app.register_blueprint(supply_me_bp)
    app.register_blueprint(dashboard_bp)
    register_api(app)


def register_errorhandlers(app: Flask) -> None:
    from app.errors import register_errorhandlers as register

    register(app)
    register_database_fault_handling(app)


def register_commands(app: Flask) -> None:
    from app.cli import register_cli

    register_cli(app)


def register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from app.labels import label
    from app.models import Role
    from app.services.notifications import unread_count

    app.add_template_filter(label)

    @app.context_processor
    def inject():
        return {
            "Role": Role,
            "languages": app.config["LANGUAGES"],
            "get_locale": get_locale,
            "unread_count": unread_count,
        }


def select_locale() -> str:
    """The interface language: chosen in this session, else the user's, else Chinese.

    The API honours Accept-Language, since a phone client has no session.
    """
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(languages) or "zh"
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def configure_logging(app: Flask) -> None:
    from app.logging_setup import configure_logging as configure

    configure(app)

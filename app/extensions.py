"""Extension objects, created here and initialised in the app factory."""

import marshmallow as ma
import sqlalchemy as sa
from flask import abort, has_request_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api as _SmorestApi
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

# Constraint names that are the same on SQLite and PostgreSQL, so that Alembic
# can find and alter them on both.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


MAX_PAGE = 100_000  # beyond this an OFFSET only costs the database time
MAX_PER_PAGE = 100


class Database(SQLAlchemy):
    """Flask-SQLAlchemy, with page numbers from the URL that the database can take."""

    def paginate(
        self, select, *, page=None, per_page=None, max_per_page=MAX_PER_PAGE, error_out=True, count=True
    ):
        """`SQLAlchemy.paginate`, with the page (given, or ?page= from the URL)
        at most MAX_PAGE and ?per_page= at most MAX_PER_PAGE.

        A page past MAX_PAGE lies past every list's end anyway, but its OFFSET
        (?page=100000000000000000000) would overflow the database's integers: a
        500. It is read as MAX_PAGE, an empty page: 404 with `error_out`, as
        any page past the end.
        """
        if page is None and has_request_context():
            page = _page_from_url(error_out)
        if page is not None and page > MAX_PAGE:
            page = MAX_PAGE
        return super().paginate(
            select, page=page, per_page=per_page, max_per_page=max_per_page, error_out=error_out, count=count
        )


def _page_from_url(error_out: bool) -> int:
    """?page= as Flask-SQLAlchemy reads it: not a number is 404 (or the first page)."""
    try:
        return int(request.args.get("page", 1))
    except (TypeError, ValueError):
        if error_out:
            abort(404)
        return 1


db = Database(model_class=Base)


def _render_item(type_, obj, autogen_context):
    """Write our column types into migrations as the plain SQLAlchemy types
    they store, so that migrations never import app code."""
    if type_ == "type" and getattr(obj, "impl", None) is not None and obj.__module__.startswith("app."):
        return f"sa.{obj.impl.__class__.__name__}()"
    return False


migrate = Migrate(render_as_batch=True, compare_type=True, render_item=_render_item)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class ErrorDetail(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "machine code"})
    message = ma.fields.String(required=True, metadata={"description": "human text"})


class ErrorBody(ma.Schema):
    """The error body of every 4xx/5xx answer of the API (CONTRACT.md)."""

    error = ma.fields.Nested(ErrorDetail, required=True)


class Api(_SmorestApi):
    """flask-smorest's Api, documenting our error body and leaving error
    handling to `app/errors.py` (smorest's own handler would also catch the
    web pages' errors and answer them in its own format)."""

    ERROR_SCHEMA = ErrorBody
    # No catch-all "default" response: each operation lists the statuses it
    # answers, so the document says exactly which errors a client can meet.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        pass


api = Api()

# Rate limits are declared on the views that need them; storage is Redis when
# REDIS_URL is set (shared by every worker), memory otherwise (config.py).
limiter = Limiter(key_func=get_remote_address, default_limits=[])

"""Structured logs: one JSON line per request, a request id on every record, no secrets in paths."""

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, g, has_app_context, request
from flask.logging import default_handler

request_log = logging.getLogger("app.request")

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is kept only if it cannot smuggle anything into a log line.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

# URL paths that carry a secret in the path itself (QR links, the calendar feed):
# the door card, the visit confirmation, the voucher and the private feed.
_TOKEN_PATH = re.compile(r"(/(?:d|c|bank/v)/)[^/\s?#\"']+|(/calendar/)[^/\s?#\"']+(\.ics)")
# A query string may carry tokens too; logs never keep one.
_QUERY = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")
MASK = "…"


def mask_path(text: str) -> str:
    """`text` with every token in a token-bearing path replaced by `…` and query strings dropped."""
    text = _QUERY.sub(r"\1", text)
    return _TOKEN_PATH.sub(_mask_match, text)


def _mask_match(match: re.Match) -> str:
    if match.group(1):
        return match.group(1) + MASK
    return match.group(2) + MASK + match.group(3)


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request's id ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_app_context() else "-"
        return True


class TokenPathFilter(logging.Filter):
    """Masks token paths in messages logged by others (Werkzeug's request lines,
    Flask's "Exception on /c/<token>"), which would otherwise hold the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_path(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_path(a) if isinstance(a, str) else a for a in record.args)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a request record's fields sit at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "http", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(app: Flask) -> None:
    """Request ids and the request log always; handlers only outside testing,
    where pytest's caplog captures records and a test turns levels up."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)  # before CSRF and the rest
    app.after_request(_log_request)
    if app.testing:
        return
    root = logging.getLogger()
    if not any(getattr(h, "_app_json", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler._app_json = True  # create_app may run twice in one process (CLI, tests)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestIdFilter())
        handler.addFilter(TokenPathFilter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        # At DEBUG SQLAlchemy logs result rows, which hold ID numbers and phones.
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    # Flask's own stderr handler would print app.* records a second time.
    app.logger.removeHandler(default_handler)
    logging.getLogger("werkzeug").addFilter(TokenPathFilter())


def request_id_from(header: str | None) -> str:
    """The client's X-Request-ID if it is a safe short token, else a new one."""
    if header and SAFE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _start_request() -> None:
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    g.request_started = time.perf_counter()


def _log_request(response):
    request_id = g.get("request_id") or request_id_from(None)
    response.headers[REQUEST_ID_HEADER] = request_id
    if request_log.isEnabledFor(logging.INFO):
        started = g.get("request_started")
        fields = {
            "request_id": request_id,
            "method": request.method,
            "path": mask_path(request.path),  # request.path never holds the query string
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "user_id": _user_id(),
        }
        request_log.info(
            "%s %s %s", fields["method"], fields["path"], fields["status"], extra={"http": fields}
        )
    return response


def _user_id() -> int | None:
    """The caller's user id if one was already loaded; never loads it, never fails the request.

    Reads the identity map key, not `user.id`: after a commit the object is
    expired and reading an attribute would query the database again.
    """
    for user in (g.get("api_user"), g.get("_login_user")):
        if user is None or not getattr(user, "is_authenticated", False):
            continue
        try:
            identity = sa.inspect(user).identity
        except sa.exc.NoInspectionAvailable:
            continue
        if identity:
            return identity[0]
    return None

"""Errors to responses, in one place: JSON under /api, pages elsewhere."""

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.services.errors import DomainError

API_PREFIX = "/api/"

# Plain-language messages for HTTP errors raised by the framework.
HTTP_MESSAGES = {
    400: lambda: _("The request could not be understood."),
    401: lambda: _("Please log in."),
    403: lambda: _("You do not have permission to see this page."),
    404: lambda: _("This page or record does not exist, or is not yours to see."),
    405: lambda: _("This action is not allowed here."),
    413: lambda: _("The file or request is too large."),
    415: lambda: _("Send the request body as JSON."),
    422: lambda: _("Some of the information given is not valid."),
    429: lambda: _("Too many attempts. Please wait a moment and try again."),
    500: lambda: _("Something went wrong on our side. Please try again later."),
}


def wants_json() -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status: int, code: str, message: str, headers=None):
    """The response for an error: the JSON body for the API, a page otherwise."""
    if wants_json():
        response = jsonify(error={"code": code, "message": message})
    else:
        response = render_template("errors/error.html", status=status, message=message)
    return response, status, headers or {}


def handle_domain_error(error: DomainError):
    return error_response(error.status, error.code, str(error.message), error.headers or None)


def handle_csrf_error(error: CSRFError):
    return error_response(
        400,
        "csrf_failed",
        _("The form has expired or was not sent from this site. Reload the page and try again."),
    )


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    code = (error.name or "error").lower().replace(" ", "_")
    message = HTTP_MESSAGES.get(status, lambda: error.description)()
    data = getattr(error, "data", None) or {}
    if status in (400, 422) and "messages" in data:  # webargs validation
        code, message = _validation_message(data["messages"], status)
    headers = data.get("headers") or (dict(error.get_headers()) if status == 405 else None)
    if headers:
        headers = {k: v for k, v in dict(headers).items() if k.lower() != "content-type"}
    return error_response(status, code, message, headers)


def _validation_message(messages: dict, status: int) -> tuple[str, str]:
    """A one-line message from webargs' {location: {field: [errors]}}."""
    if status == 400 and any("json" in str(loc) for loc in messages) and _is_bad_json(messages):
        return "invalid_json", _("The request body is not valid JSON.")
    parts = []
    for location in messages.values():
        if isinstance(location, dict):
            for field, errors in location.items():
                text = "; ".join(_flatten(errors))
                parts.append(f"{field}: {text}" if field != "_schema" else text)
        else:
            parts.extend(_flatten(location))
    return "validation_error", _("Invalid input — %(details)s", details="; ".join(parts))


def _is_bad_json(messages: dict) -> bool:
    return any("Invalid JSON" in text for loc in messages.values() for text in _flatten(loc))


def _flatten(errors) -> list[str]:
    if isinstance(errors, dict):
        return [f"{k}: {'; '.join(_flatten(v))}" for k, v in errors.items()]
    if isinstance(errors, (list, tuple)):
        return [t for e in errors for t in _flatten(e)]
    return [str(errors)]


def reject_nul_bytes():
    """Refuse a request carrying a NUL character anywhere we read text from.

    PostgreSQL cannot store NUL in text and would fail the request with a
    500; no honest form or JSON body contains one.
    """
    values = [*request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += request.form.values()
    if "\x00" in request.path or any("\x00" in value for value in values) or _json_has_nul():
        return error_response(
            400, "invalid_characters", _("The request contains characters that are not allowed.")
        )
    return None


def _json_has_nul() -> bool:
    if not request.is_json:
        return False
    raw = request.get_data(cache=True)
    return b"\x00" in raw or b"\\u0000" in raw


def register_errorhandlers(app: Flask) -> None:
    """Unhandled exceptions become InternalServerError and reach the
    HTTPException handler (Flask logs them first)."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.before_request(reject_nul_bytes)

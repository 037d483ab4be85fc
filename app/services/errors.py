"""Domain errors: each carries a machine code, a translatable message and a status.

The web and the API map these to responses in one place (`app/errors.py`).
"""

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A rule refused the request. Subclasses set `status` and a default code."""

    status = 400
    code = "bad_request"
    default_message = _l("The request cannot be carried out.")
    headers: dict[str, str] = {}  # extra response headers, e.g. Retry-After

    def __init__(self, message=None, *, code: str | None = None, field: str | None = None):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.field = field  # the form field the message belongs to, if any
        super().__init__(str(self.message))


class InvalidInput(DomainError):
    """Well-formed but unacceptable input."""

    status = 422
    code = "invalid_input"
    default_message = _l("Some of the information given is not valid.")


class Unauthorized(DomainError):
    """No or wrong credentials."""

    status = 401
    code = "unauthorized"
    default_message = _l("Please log in.")


class Forbidden(DomainError):
    """Logged in, but this role may not do this."""

    status = 403
    code = "forbidden"
    default_message = _l("You do not have permission to do this.")


class NotFound(DomainError):
    """Missing, or outside the caller's scope (the two answer alike)."""

    status = 404
    code = "not_found"
    default_message = _l("Not found.")


class Conflict(DomainError):
    """The state of things does not allow this (taken, full, already done)."""

    status = 409
    code = "conflict"
    default_message = _l("This conflicts with the current state.")


class Gone(DomainError):
    """Valid once, not any more: an expired, used or replaced link."""

    status = 410
    code = "gone"
    default_message = _l("This link can no longer be used.")

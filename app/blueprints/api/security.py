"""Bearer-token authentication for the API; session cookies are ignored here."""

from functools import wraps

from flask import g, request
from flask_babel import lazy_gettext as _l

from app.models import Role
from app.services.accounts import user_from_api_token
from app.services.errors import Forbidden, Unauthorized

BEARER = [{"bearer": []}]

# Shared by the API modules' documentation of their answers. A NUL character
# is refused before anything else (app/errors.py): PostgreSQL cannot store it.
BAD_BODY = (
    "invalid_json: the body is not JSON (or nested too deep, or a number too long); "
    "invalid_characters: a NUL character or a lone surrogate escape (\\ud800) in the body"
)
BAD_QUERY = "invalid_characters: a NUL character in the query string"
UNAUTHORIZED = "missing_token, invalid_token, token_expired or token_revoked"


def current_api_user():
    return g.api_user


def token_required(*roles: Role):
    """Require `Authorization: Bearer <token>`; with roles, 403 for other roles.

    Administrators pass every role check. Put it right under the route
    decorator, so that the caller is known before the body is parsed;
    functools.wraps carries smorest's documentation along.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized(
                    _l("Send the token from POST /api/v1/auth/token as 'Authorization: Bearer <token>'."),
                    code="missing_token",
                )
            g.api_user = user_from_api_token(token.strip())
            if roles and not g.api_user.has_role(Role.ADMIN, *roles):
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapped

    return decorator

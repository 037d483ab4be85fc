"""Security headers on every response: CSP, no sniffing, referrer, framing, permissions, HSTS."""

import re

from flask import Flask, Response, request

from config import ConfigError

# Everything the site uses comes from itself: no inline script or style (the
# templates are checked by tests/test_security_headers.py), no CDN. `data:`
# images stay allowed for small inline icons; QR codes are served as files.
CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
)

# Pages whose URL path carries a secret token (confirmation, door card,
# voucher hand-over, calendar feed). They send no Referer to other sites at
# all; `no-referrer` would be stricter still but would break every form on
# them over HTTPS, because Flask-WTF (WTF_CSRF_SSL_STRICT) refuses a POST
# without a same-origin Referer.
TOKEN_PATH_PREFIXES = ("/c/", "/d/", "/bank/v/", "/calendar/")
TOKEN_REFERRER_POLICY = "same-origin"
REFERRER_POLICY = "strict-origin-when-cross-origin"

# The community notice-board display, its data and its QR images: a
# community's screen software may show it in a frame.
BOARD_PATH = re.compile(r"^/board/\d+(?:/|$)")

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()"
HSTS = "max-age=31536000"


def content_security_policy(frame_ancestors: str) -> str:
    return "; ".join((*CSP_DIRECTIVES, f"frame-ancestors {frame_ancestors}"))


def register_security_headers(app: Flask) -> None:
    """Add the headers to every response of `app` (pages, API, static files, errors)."""
    board_ancestors = str(app.config.get("BOARD_FRAME_ANCESTORS") or "*").strip()
    if re.search(r"[;,\r\n]", board_ancestors):
        # A separator would smuggle further directives into the policy.
        raise ConfigError("BOARD_FRAME_ANCESTORS is a space-separated list of sources, without ; or ,")
    strict_csp = content_security_policy("'none'")
    board_csp = content_security_policy(board_ancestors)
    production = app.config.get("APP_ENV") == "production"

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        path = request.path
        headers = response.headers
        if BOARD_PATH.match(path):
            headers["Content-Security-Policy"] = board_csp
            headers.pop("X-Frame-Options", None)
        else:
            headers["Content-Security-Policy"] = strict_csp
            headers["X-Frame-Options"] = "DENY"  # for browsers without frame-ancestors
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = (
            TOKEN_REFERRER_POLICY if path.startswith(TOKEN_PATH_PREFIXES) else REFERRER_POLICY
        )
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
        if production:
            # Only production is served over HTTPS (behind the proxy); a
            # development browser remembering HSTS for 127.0.0.1 would hurt.
            headers["Strict-Transport-Security"] = HSTS
        return response

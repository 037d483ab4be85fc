"""Home, language switch, large-text switch, /livez and /healthz."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from app.blueprints.public import bp
from app.extensions import db
from app.services.org import unit_label


@bp.get("/")
def index():
    unit = unit_label(current_user) if current_user.is_authenticated else None
    return render_template("public/index.html", unit=unit)


@bp.post("/lang/<code>")
def set_language(code: str):
    """Remember the chosen interface language for this browser session."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    return redirect(_same_site(request.form.get("next")) or url_for("public.index"))


# The large-text switch (适老化): a long-lived cookie rather than the session,
# so that it survives logging out and a closed browser on a shared phone.
LARGE_TEXT_COOKIE = "large_text"
LARGE_TEXT_MAX_AGE = 365 * 24 * 3600
TEXT_SIZES = ("normal", "large")


@bp.post("/text-size/<size>")
def set_text_size(size: str):
    """Turn large text on or off for this browser and go back to the page."""
    if size not in TEXT_SIZES:
        abort(404)
    response = redirect(_same_site(request.form.get("next")) or url_for("public.index"))
    secure = current_app.config.get("SESSION_COOKIE_SECURE", False)
    if size == "large":
        response.set_cookie(
            LARGE_TEXT_COOKIE,
            "1",
            max_age=LARGE_TEXT_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=secure,
        )
    else:
        response.delete_cookie(LARGE_TEXT_COOKIE, httponly=True, samesite="Lax", secure=secure)
    return response


@bp.app_context_processor
def text_size():
    """`large_text` for base.html, which puts the class `large-text` on <html>."""
    on = has_request_context() and request.cookies.get(LARGE_TEXT_COOKIE) == "1"
    return {"large_text": on}


def _same_site(target: str | None) -> str | None:
    """`target` if it is a path on this site (never an open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/livez")
def livez():
    """200 while the process answers; no database, no session: the cheapest page
    (the benchmark's baseline, and a liveness probe for an orchestrator)."""
    return jsonify(status="ok")


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")

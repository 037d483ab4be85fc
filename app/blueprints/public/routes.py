"""Home, language switch and /healthz."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, current_app, jsonify, redirect, render_template, request, session, url_for
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


def _same_site(target: str | None) -> str | None:
    """`target` if it is a path on this site (never an open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")

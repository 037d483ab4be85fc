"""Staff pages for matching supply and demand (供需对接) and visit follow-ups (回访)."""

from flask import Blueprint

bp = Blueprint("matching", __name__, url_prefix="/staff/matching")

from app.blueprints.matching import routes  # noqa: E402,F401

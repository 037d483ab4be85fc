"""The visit pages: door cards at the door, the resident's confirmation, family
proxies, and the staff's door-card sheets and follow-up calls."""

from flask import Blueprint

bp = Blueprint("visits", __name__)

from app.blueprints.visits import routes, staff  # noqa: E402,F401

"""A signed-in user's own pages: the notification centre and the calendar feed.

`bp` is under /me; `feed_bp` serves the public feed URL /calendar/<token>.ics,
which calendar apps fetch without a session.
"""

from flask import Blueprint

bp = Blueprint("me", __name__, url_prefix="/me")
feed_bp = Blueprint("calendar", __name__)

from app.blueprints.me import routes  # noqa: E402,F401

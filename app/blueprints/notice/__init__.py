"""Public notices (公示): staff compose and publish them; anyone reads them and may object."""

from flask import Blueprint

bp = Blueprint("notice", __name__)

from app.blueprints.notice import public, staff  # noqa: E402,F401

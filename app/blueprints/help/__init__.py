"""一键求助: the public page where anyone asks their grid's staff for help, no login."""

from flask import Blueprint

bp = Blueprint("help", __name__, url_prefix="/help")

from app.blueprints.help import routes  # noqa: E402,F401

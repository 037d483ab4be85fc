"""The volunteer's task pages: the board, a task, claiming, my tasks."""

from flask import Blueprint

bp = Blueprint("volunteer", __name__, url_prefix="/tasks")

from app.blueprints.volunteer import routes  # noqa: E402,F401

"""Service tasks for staff: post (once or weekly), list, follow and cancel."""

from flask import Blueprint

bp = Blueprint("tasks_staff", __name__, url_prefix="/staff/tasks")

from app.blueprints.tasks_staff import routes  # noqa: E402,F401

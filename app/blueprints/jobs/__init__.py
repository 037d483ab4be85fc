"""The administrator's page of periodic jobs: their schedules, last runs and recent runs."""

from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/staff/jobs")

from app.blueprints.jobs import routes  # noqa: E402,F401

"""Dashboards (数据看板) for grid, community and street staff, and administrators."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

from app.blueprints.dashboard import routes  # noqa: E402,F401

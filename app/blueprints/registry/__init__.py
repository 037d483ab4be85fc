"""The household registry (台账) for grid, community and street staff."""

from flask import Blueprint

bp = Blueprint("registry", __name__, url_prefix="/registry")

from app.blueprints.registry import casework, inbox, ledger_io, routes  # noqa: E402,F401

"""Points pages: a volunteer's statement, and staff pages for rules, reversals, ledger views and the credit export."""

from flask import Blueprint

bp = Blueprint("points", __name__)

from app.blueprints.points import routes  # noqa: E402,F401

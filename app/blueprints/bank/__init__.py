"""The public welfare bank (公益银行): rewards, vouchers, donations; partners' hand-over pages; staff catalogue and partner pages."""

from flask import Blueprint

bp = Blueprint("bank", __name__, url_prefix="/bank")

from app.blueprints.bank import routes  # noqa: E402,F401

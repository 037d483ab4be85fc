"""The honour board (爱心榜), teams (爱心团队) and the community notice-board display."""

from flask import Blueprint

bp = Blueprint("board", __name__)

from app.blueprints.board import routes  # noqa: E402,F401

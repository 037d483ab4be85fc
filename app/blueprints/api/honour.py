"""GET /honour-board: the honour board (爱心榜), for anyone."""

from flask_smorest import Blueprint

blp = Blueprint("api_honour", __name__, url_prefix="/honour-board", description="The honour board")

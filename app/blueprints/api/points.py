"""GET /me/points: a volunteer's balance and statement."""

from flask_smorest import Blueprint

blp = Blueprint("api_points", __name__, url_prefix="/me/points", description="Points")

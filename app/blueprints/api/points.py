"""GET /me/points: a volunteer's balance and statement."""

from app.blueprints.api.blueprint import Blueprint
from app.blueprints.api.points_schemas import PointsOut, PointsQuery
from app.blueprints.api.security import BAD_QUERY, BEARER, UNAUTHORIZED, current_api_user, token_required
from app.extensions import ErrorBody
from app.models import Role
from app.services import statements

blp = Blueprint("api_points", __name__, url_prefix="/me/points", description="Points")


@blp.get("")
@token_required(Role.VOLUNTEER)
@blp.arguments(PointsQuery, location="query", as_kwargs=True)
@blp.response(200, PointsOut)
@blp.alt_response(400, schema=ErrorBody, description=BAD_QUERY)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description="forbidden: only volunteers have a statement")
@blp.alt_response(422, schema=ErrorBody, description="validation_error: a query parameter is not acceptable")
@blp.doc(security=BEARER)
def my_points(page, per_page):
    """The caller's balance, points earned (reversed ones excluded) and a page of
    their statement, newest first, each entry with its running balance and its
    reason in the caller's language."""
    found = statements.statement(current_api_user(), page, per_page)
    return {
        "balance": found.balance,
        "earned_total": found.earned_total,
        "entries": [
            {
                "id": line.id,
                "at": line.at,
                "amount": line.amount,
                "balance_after": line.balance_after,
                "kind": line.kind.value,
                "reason": line.reason,
            }
            for line in found.lines
        ],
        "page": page,
        "per_page": per_page,
        "total": found.page.total,
    }

"""GET /honour-board: the honour board (爱心榜), for anyone, no token.

Names are masked (张*明) unless the volunteer chose to show the full name;
no user id, phone or ID number is ever part of the answer.
"""

import marshmallow as ma

from app.blueprints.api.blueprint import Blueprint
from app.blueprints.api.security import BAD_QUERY
from app.extensions import ErrorBody
from app.services import honour

blp = Blueprint("api_honour", __name__, url_prefix="/honour-board", description="The honour board")


class HonourQuery(ma.Schema):
    """Query parameters; unknown ones are ignored (webargs' rule for the query string)."""

    scope = ma.fields.String(
        required=True,
        validate=ma.validate.Length(max=40),
        metadata={"description": "community:{id}, street:{id} or city:{id}", "example": "community:1"},
    )
    period = ma.fields.String(
        load_default="month",
        validate=ma.validate.OneOf(honour.PERIODS),
        metadata={
            "description": "this week (from Monday), month, quarter, year (Asia/Shanghai), or all time"
        },
    )
    kind = ma.fields.String(load_default="volunteers", validate=ma.validate.OneOf(honour.KINDS))
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=honour.MAX_LIMIT))


class HonourRow(ma.Schema):
    rank = ma.fields.Integer(required=True, metadata={"description": "1, 2, 3 … in board order"})
    name = ma.fields.String(
        required=True,
        metadata={"description": "volunteers: masked unless they chose otherwise; teams: the name"},
    )
    points = ma.fields.Integer(
        required=True, metadata={"description": "earned in the period, reversals left out"}
    )
    streak_months = ma.fields.Integer(
        metadata={"description": "volunteers only: months in a row with a verified service, up to this month"}
    )
    team = ma.fields.String(allow_none=True, metadata={"description": "volunteers only: their current team"})
    members = ma.fields.Integer(metadata={"description": "teams only: current members"})
    community = ma.fields.String(metadata={"description": "teams only: the team's community"})


class HonourBoardOut(ma.Schema):
    scope = ma.fields.String(required=True, metadata={"example": "community:1"})
    scope_name = ma.fields.String(required=True)
    period = ma.fields.String(required=True, validate=ma.validate.OneOf(honour.PERIODS))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(honour.KINDS))
    from_ = ma.fields.DateTime(
        data_key="from", required=True, allow_none=True, metadata={"description": "UTC; null for all time"}
    )
    to = ma.fields.DateTime(required=True, allow_none=True, metadata={"description": "UTC, exclusive"})
    rows = ma.fields.List(ma.fields.Nested(HonourRow), required=True)


def _row_out(row) -> dict:
    if isinstance(row, honour.TeamRow):
        return {
            "rank": row.rank,
            "name": row.name,
            "points": row.points,
            "members": row.members,
            "community": row.community,
        }
    return {
        "rank": row.rank,
        "name": row.name,
        "points": row.points,
        "streak_months": row.streak_months,
        "team": row.team,
    }


@blp.get("")
@blp.arguments(HonourQuery, location="query", as_kwargs=True)
@blp.response(200, HonourBoardOut)
@blp.alt_response(400, schema=ErrorBody, description=BAD_QUERY)
@blp.alt_response(404, schema=ErrorBody, description="not_found: no such community, street or city")
@blp.alt_response(
    422,
    schema=ErrorBody,
    description="validation_error (a missing scope, an unknown period or kind, a limit out of range), "
    "invalid_scope (not community:{id}, street:{id} or city:{id})",
)
def honour_board(scope, period, kind, limit):
    """Volunteers (or teams) ranked by points earned in the period in the scope.

    Ties: whoever reached the total first ranks higher, then the older
    account (team). Volunteers carry their steadiness streak and current
    team; teams count their members' earnings while they were members.
    """
    board = honour.honour_board(scope, period, kind, limit)
    return {
        "scope": board.scope.key,
        "scope_name": board.scope.name,
        "period": board.period,
        "kind": board.kind,
        "from_": board.start,
        "to": board.end,
        "rows": [_row_out(row) for row in board.rows],
    }

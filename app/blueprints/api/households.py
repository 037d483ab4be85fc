"""The household ledger (台账) over the API: households, their record and needs.

Grid workers, community workers and street officers read; grid and
community workers write; administrators pass. A household outside the
caller's part of the tree answers 404 like a missing one (app/auth_scope.py).
"""

from app import clock
from app.blueprints.api.blueprint import Blueprint
from app.blueprints.api.household_schemas import (
    HouseholdDetail,
    HouseholdIn,
    HouseholdPage,
    HouseholdQuery,
    NeedIn,
    NeedOut,
)
from app.blueprints.api.household_serializers import household_detail, household_summary, need_out
from app.blueprints.api.paths import id_path
from app.blueprints.api.security import (
    BAD_BODY,
    BAD_QUERY,
    BEARER,
    UNAUTHORIZED,
    current_api_user,
    token_required,
)
from app.blueprints.api.serializers import page_of
from app.extensions import ErrorBody
from app.models import Relation
from app.services import casework, households, standards, warnings
from app.services.households import LEDGER_READERS, LEDGER_WRITERS

blp = Blueprint("api_households", __name__, url_prefix="/households", description="The household ledger")

HOUSEHOLD = "/" + id_path("household_id")

FORBIDDEN = "forbidden: only grid workers, community workers and street officers read the ledger"
FORBIDDEN_WRITE = "forbidden: only grid workers and community workers write the ledger"
NOT_FOUND = "not_found: no such household, or not in the caller's part of the tree"


@blp.get("")
@token_required(*LEDGER_READERS)
@blp.arguments(HouseholdQuery, location="query", as_kwargs=True)
@blp.response(200, HouseholdPage)
@blp.alt_response(400, schema=ErrorBody, description=BAD_QUERY)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN)
@blp.alt_response(422, schema=ErrorBody, description="validation_error: a query parameter is not acceptable")
@blp.doc(security=BEARER)
def list_households(page, per_page, status=None, grid_id=None, q=""):
    """Households in the caller's scope, newest first, a page at a time."""
    stmt = households.households_stmt(current_api_user(), status=status, grid_id=grid_id, q=q)
    return page_of(stmt, page, per_page, household_summary)


@blp.post("")
@token_required(*LEDGER_WRITERS)
@blp.arguments(HouseholdIn)
@blp.response(201, HouseholdDetail)
@blp.alt_response(400, schema=ErrorBody, description=BAD_BODY)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN_WRITE)
@blp.alt_response(
    409,
    schema=ErrorBody,
    description="household_exists: the address is recorded in this grid; "
    "member_in_other_household: the ID number is listed in another household",
)
@blp.alt_response(
    422,
    schema=ErrorBody,
    description="validation_error (shape), grid_not_managed, invalid_address, invalid_phone, "
    "residence_too_short, invalid_date, invalid_name, consent_required, invalid_id_number, "
    "invalid_disability_grade, invalid_scope",
)
@blp.doc(security=BEARER)
def create_household(body):
    """Record a household found door to door, with its householder and, optionally, its consent."""
    actor = current_api_user()
    head = body.pop("head")
    consent = body.pop("consent")
    household = households.create_household(
        actor,
        households.HouseholdData(**body),
        households.MemberData(relation=Relation.HEAD, **head),
        today=clock.today(),
        consent=households.ConsentData(**consent) if consent else None,
    )
    return _detail(actor, household.id)


@blp.get(HOUSEHOLD)
@token_required(*LEDGER_READERS)
@blp.response(200, HouseholdDetail)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN)
@blp.alt_response(404, schema=ErrorBody, description=NOT_FOUND)
@blp.doc(security=BEARER)
def get_household(household_id):
    """One household: members (ID numbers masked), consent, status history,
    categories, warnings, open needs with their urgency score, next review and
    what the city's standard says of it."""
    return _detail(current_api_user(), household_id, viewed=True)


@blp.get(HOUSEHOLD + "/needs")
@token_required(*LEDGER_READERS)
@blp.response(200, NeedOut(many=True))
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN)
@blp.alt_response(404, schema=ErrorBody, description=NOT_FOUND)
@blp.doc(security=BEARER)
def list_needs(household_id):
    """The household's needs: open ones first, most urgent first; then met and closed ones."""
    scored = warnings.household_needs(current_api_user(), household_id, clock.today())
    return [need_out(s.need, s.score) for s in scored]


@blp.post(HOUSEHOLD + "/needs")
@token_required(*LEDGER_WRITERS)
@blp.arguments(NeedIn)
@blp.response(201, NeedOut)
@blp.alt_response(400, schema=ErrorBody, description=BAD_BODY)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN_WRITE)
@blp.alt_response(404, schema=ErrorBody, description=NOT_FOUND)
@blp.alt_response(409, schema=ErrorBody, description="household_exited: the household has left the registry")
@blp.alt_response(
    422, schema=ErrorBody, description="validation_error (shape), unknown_service_type, invalid_text"
)
@blp.doc(security=BEARER)
def add_need(body, household_id):
    """Record what the household needs, as a service from the catalogue."""
    actor = current_api_user()
    need = casework.add_need(actor, household_id, casework.NeedData(**body))
    scored = warnings.household_needs(actor, household_id, clock.today())
    return next(need_out(s.need, s.score) for s in scored if s.need.id == need.id)


def _detail(actor, household_id: int, viewed: bool = False) -> dict:
    """The detail shape: one household read in scope, and what the rules say of it today.

    `viewed`: a person is looking at it (GET), so the look is audit-logged.
    """
    today = clock.today()
    load = households.view_household if viewed else households.get_household
    household = load(actor, household_id)
    return household_detail(
        household,
        today,
        categories=casework.categories_of(household.id),
        warnings=warnings.warnings_by_household([household], today)[household.id],
        open_needs=warnings.open_needs(actor, today, household_id=household.id),
        assessment=standards.assess(household, today),
    )

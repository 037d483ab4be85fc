"""POST /auth/token and POST /auth/register."""

from flask import current_app

from app.blueprints.api.blueprint import Blueprint
from app.blueprints.api.schemas import RegisterRequest, RegisterResponse, TokenRequest, TokenResponse
from app.blueprints.api.security import BAD_BODY
from app.blueprints.api.serializers import user_brief
from app.extensions import ErrorBody, limiter
from app.services import accounts
from app.services.accounts import LOGIN_LIMIT, REGISTER_LIMIT

blp = Blueprint("api_auth", __name__, url_prefix="/auth", description="Tokens and registration")


@blp.post("/token")
@limiter.limit(LOGIN_LIMIT)
@blp.arguments(TokenRequest)
@blp.response(200, TokenResponse)
@blp.alt_response(400, schema=ErrorBody, description=BAD_BODY)
@blp.alt_response(401, schema=ErrorBody, description="bad_credentials: wrong phone number or password")
@blp.alt_response(
    422, schema=ErrorBody, description="validation_error: a field is missing, too long or not a string"
)
@blp.alt_response(
    429,
    schema=ErrorBody,
    description="account_locked: too many wrong passwords for this phone, the message says when to "
    "try again; too_many_requests: too many attempts from this address",
)
def issue_token(body):
    """Exchange a phone number and password for a bearer token."""
    user = accounts.authenticate(body["phone"], body["password"])
    return {
        "token": accounts.issue_api_token(user),
        "expires_in": current_app.config["API_TOKEN_MAX_AGE"],
        "user": user_brief(user),
    }


@blp.post("/register")
@limiter.limit(REGISTER_LIMIT)
@blp.arguments(RegisterRequest)
@blp.response(201, RegisterResponse)
@blp.alt_response(400, schema=ErrorBody, description=BAD_BODY)
@blp.alt_response(409, schema=ErrorBody, description="phone_taken: the phone number is registered already")
@blp.alt_response(
    422,
    schema=ErrorBody,
    description="validation_error (shape), invalid_name, invalid_phone, weak_password, unknown_grid, "
    "unknown_skill, unknown_free_time",
)
def register(body):
    """Register a volunteer in a grid, with skills and free times."""
    profile = accounts.VolunteerProfile(
        name=body["name"], grid_id=body["grid_id"], skills=body["skills"], free_times=body["free_times"]
    )
    user = accounts.register_volunteer(profile, body["phone"], body["password"])
    return {"user": user_brief(user)}

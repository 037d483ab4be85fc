"""GET /me: the caller."""

from app.blueprints.api.blueprint import Blueprint
from app.blueprints.api.schemas import Me
from app.blueprints.api.security import BEARER, UNAUTHORIZED, current_api_user, token_required
from app.blueprints.api.serializers import user_brief
from app.extensions import ErrorBody
from app.services.accounts import load_profile
from app.services.org import unit_of

blp = Blueprint("api_me", __name__, url_prefix="/me", description="The caller")


@blp.get("")
@token_required()
@blp.response(200, Me)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.doc(security=BEARER)
def me():
    """The caller: roles, org unit, skills and free times."""
    user = load_profile(current_api_user().id)
    return {
        **user_brief(user),
        "phone": user.phone,
        "org_unit": unit_of(user),
        "skills": [skill.code for skill in user.skills],
        "free_times": [ft.slot.value for ft in user.free_times],
        "show_full_name": user.show_full_name,
    }

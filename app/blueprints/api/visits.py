"""The visit over the API: check-in and check-out by door card, the
confirmation link and its QR code, and a household's door-card QR.

A volunteer's phone client scans the door card (its QR carries
`<site>/d/<door_token>`; the client sends the token, or the short code typed
from the card) and shows the confirmation QR to the resident, who confirms
on the web page it opens, without an account (CONTRACT.md).
"""

import marshmallow as ma
from flask import make_response

from app.blueprints.api.blueprint import Blueprint
from app.blueprints.api.paths import id_path
from app.blueprints.api.schemas import Strict
from app.blueprints.api.security import (
    BAD_BODY,
    BEARER,
    UNAUTHORIZED,
    current_api_user,
    token_required,
)
from app.extensions import ErrorBody, db
from app.models import Role, Task
from app.services import qr, visits
from app.services.errors import NotFound
from app.services.households import LEDGER_READERS

blp = Blueprint("api_visits", __name__, url_prefix="", description="Visits: door cards and confirmation")

TASK = "/tasks/" + id_path("task_id")
HOUSEHOLD = "/households/" + id_path("household_id")

FORBIDDEN_VOLUNTEER = "forbidden: only volunteers visit"
NOT_CLAIMED = "not_claimed: the caller holds no place on this task (or no such task)"
INVALID_DOOR = "validation_error (shape); invalid_door_token: unknown, revoked or tampered door card"
PNG = {
    "200": {
        "description": "a PNG image",
        "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class DoorTokenIn(Strict):
    door_token = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=200),
        metadata={
            "description": "the token in the door card's QR URL (/d/<token>), or the short code printed under it"
        },
    )


class VisitOut(ma.Schema):
    claim_id = ma.fields.Integer(required=True)
    task_id = ma.fields.Integer(required=True)
    claim_status = ma.fields.String(required=True)
    task_status = ma.fields.String(required=True)
    check_in_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    check_out_at = ma.fields.AwareDateTime(allow_none=True, required=True)


class ConfirmationOut(ma.Schema):
    url = ma.fields.String(required=True, metadata={"description": "single use; show it as a QR code"})
    expires_at = ma.fields.AwareDateTime(required=True)


def _visit(claim) -> dict:
    task = db.session.get(Task, claim.task_id)
    return {
        "claim_id": claim.id,
        "task_id": claim.task_id,
        "claim_status": claim.status.value,
        "task_status": task.status.value,
        "check_in_at": claim.check_in_at,
        "check_out_at": claim.check_out_at,
    }


def _png(data: str):
    response = make_response(qr.png(data))
    response.headers.update({"Content-Type": "image/png", "Cache-Control": "no-store"})
    return response


@blp.post(TASK + "/check-in")
@token_required(Role.VOLUNTEER)
@blp.arguments(DoorTokenIn)
@blp.response(200, VisitOut)
@blp.alt_response(400, schema=ErrorBody, description=BAD_BODY)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN_VOLUNTEER)
@blp.alt_response(404, schema=ErrorBody, description=NOT_CLAIMED)
@blp.alt_response(
    409,
    schema=ErrorBody,
    description="already_checked_in; wrong_household: the card is another household's; "
    "too_early: more than 30 minutes before the window; window_closed; invalid_transition",
)
@blp.alt_response(422, schema=ErrorBody, description=INVALID_DOOR)
@blp.doc(security=BEARER)
def check_in(body, task_id):
    """Start the visit with the household's door card, from 30 minutes before the window until it closes."""
    return _visit(visits.check_in(current_api_user(), task_id, body["door_token"]))


@blp.post(TASK + "/check-out")
@token_required(Role.VOLUNTEER)
@blp.arguments(DoorTokenIn)
@blp.response(200, VisitOut)
@blp.alt_response(400, schema=ErrorBody, description=BAD_BODY)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN_VOLUNTEER)
@blp.alt_response(404, schema=ErrorBody, description=NOT_CLAIMED)
@blp.alt_response(
    409, schema=ErrorBody, description="not_checked_in; wrong_household: the card is another household's"
)
@blp.alt_response(422, schema=ErrorBody, description=INVALID_DOOR)
@blp.doc(security=BEARER)
def check_out(body, task_id):
    """End the visit at the same door; the task then awaits the resident's confirmation."""
    return _visit(visits.check_out(current_api_user(), task_id, body["door_token"]))


@blp.post(TASK + "/confirmation")
@token_required(Role.VOLUNTEER)
@blp.response(200, ConfirmationOut)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN_VOLUNTEER)
@blp.alt_response(404, schema=ErrorBody, description=NOT_CLAIMED)
@blp.alt_response(409, schema=ErrorBody, description="not_checked_out: check out first")
@blp.doc(security=BEARER)
def confirmation(task_id):
    """A fresh single-use confirmation link, valid 30 minutes; any earlier link stops working."""
    url, expires_at = visits.confirmation_link(current_api_user(), task_id)
    return {"url": url, "expires_at": expires_at}


@blp.get(TASK + "/confirmation.png")
@token_required(Role.VOLUNTEER)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN_VOLUNTEER)
@blp.alt_response(404, schema=ErrorBody, description=NOT_CLAIMED)
@blp.alt_response(409, schema=ErrorBody, description="not_checked_out: check out first")
@blp.doc(security=BEARER, responses=PNG)
def confirmation_png(task_id):
    """The live confirmation link as a QR code (a new link if there is none or it expired)."""
    url, _expires = visits.current_confirmation_link(current_api_user(), task_id)
    return _png(url)


@blp.get(HOUSEHOLD + "/door-card.png")
@token_required(*LEDGER_READERS)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description="forbidden: only staff print door cards")
@blp.alt_response(
    404,
    schema=ErrorBody,
    description="not_found: no such household or not in the caller's part of the tree; "
    "no_door_card: none issued yet",
)
@blp.doc(security=BEARER, responses=PNG)
def door_card_png(household_id):
    """The household's door-card QR code, to print (it carries `<site>/d/<door_token>`)."""
    _household, card = visits.door_card_of(current_api_user(), household_id)
    if card is None:
        raise NotFound(code="no_door_card")
    return _png(visits.door_url(card))

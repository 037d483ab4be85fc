"""Requests for help (一键求助): sent by anyone from a grid's public page,
handled by that grid's staff, who accept one (link it to a household and
record a need on it) or dismiss it with a note.

A request moves NEW → ACCEPTED or NEW → DISMISSED, once: the move is a
conditional UPDATE (`… WHERE status = 'NEW'`), so two staff handling the same
request at once get one success and one Conflict.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app import clock
from app.auth_scope import get_scoped_or_404, is_valid_id, require_role, scoped
from app.extensions import db
from app.models import (
    Community,
    Grid,
    HelpRequest,
    HelpRequestStatus,
    Household,
    HouseholdStatus,
    Need,
    Role,
    ServiceType,
    Urgency,
    User,
)
from app.services import audit, catalogue
from app.services.accounts import check_contact_phone
from app.services.casework import NeedData, _add_need
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.households import LEDGER_READERS, LEDGER_WRITERS, get_household, households_stmt

# Staff who see the inbox and may dismiss; accepting writes on a household,
# so it is for those who keep the ledger (grid and community workers).
INBOX_ROLES = LEDGER_READERS
ACCEPTERS = LEDGER_WRITERS


# --- the public side ---------------------------------------------------------


def grid_for_help(grid_id: int) -> Grid:
    """The grid a help page is for, with its community and street; NotFound if none."""
    grid = (
        db.session.scalar(
            sa.select(Grid)
            .where(Grid.id == grid_id)
            .options(selectinload(Grid.community).selectinload(Community.street))
        )
        if is_valid_id(grid_id)
        else None
    )
    if grid is None:
        raise NotFound()
    return grid


def _text(value: str, limit: int, field: str, message) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        raise InvalidInput(message, code=f"invalid_{field}", field=field)
    return value


def submit_help_request(
    grid_id: int,
    name: str,
    phone: str,
    address: str,
    need: str,
    service_type_code: str | None = None,
) -> HelpRequest:
    """Record a request for help to the grid's staff, from anyone; commit.

    Raises NotFound (no such grid) and InvalidInput (name 1–50, phone, address
    1–100, need 1–500 characters, service type unknown or retired).
    """
    grid = grid_for_help(grid_id)
    values = {
        "name": _text(name, 50, "name", _l("Enter a name of 1 to 50 characters.")),
        "phone": check_contact_phone(phone),
        "address": _text(
            address,
            100,
            "address",
            _l("Enter where you live: building, unit and room (up to 100 characters)."),
        ),
        "need": _text(need, 500, "need", _l("Say what help you need (up to 500 characters).")),
        "service_type_code": _active_service_type(service_type_code, "service_type_code"),
    }
    help_request = HelpRequest(grid_id=grid.id, status=HelpRequestStatus.NEW, **values)
    db.session.add(help_request)
    db.session.commit()
    return help_request


def _active_service_type(code: str | None, field: str) -> str | None:
    """The code of an active service type, None for none given; else InvalidInput."""
    if code in (None, ""):
        return None
    return catalogue.active_service_type(code, field).code


# --- the staff side ----------------------------------------------------------


def inbox_stmt(actor, status: HelpRequestStatus | None = None) -> sa.Select:
    """SELECT of the requests in the actor's grids: new ones first, then newest first.

    Forbidden for anyone but grid, community and street staff (and administrators).
    """
    require_role(actor, *INBOX_ROLES)
    stmt = scoped(sa.select(HelpRequest), HelpRequest, actor)
    if status is not None:
        stmt = stmt.where(HelpRequest.status == status)
    new_first = sa.case((HelpRequest.status == HelpRequestStatus.NEW, 0), else_=1)
    return stmt.order_by(new_first, HelpRequest.created_at.desc(), HelpRequest.id.desc())


def get_help_request(actor, request_id: int) -> HelpRequest:
    """One request in the actor's grids, or NotFound (missing and out of scope alike)."""
    require_role(actor, *INBOX_ROLES)
    return get_scoped_or_404(HelpRequest, request_id, actor)


def may_accept(actor) -> bool:
    """True if the actor's role may accept requests (street officers only read and dismiss)."""
    return actor.has_role(Role.ADMIN, *ACCEPTERS)


def households_for(actor, help_request: HelpRequest) -> list[Household]:
    """The households in the request's grid a request can be linked to: in the registry, readable."""
    stmt = households_stmt(actor, status=HouseholdStatus.ACTIVE, grid_id=help_request.grid_id)
    return list(db.session.scalars(stmt))


def linked_household(actor, help_request: HelpRequest) -> Household | None:
    """The household an accepted request was linked to, if the actor may see it."""
    if help_request.household_id is None:
        return None
    stmt = scoped(sa.select(Household), Household, actor).where(Household.id == help_request.household_id)
    return db.session.scalar(stmt.options(selectinload(Household.members)))


def handled_by(help_request: HelpRequest) -> User | None:
    """The staff member who accepted or dismissed the request."""
    return db.session.get(User, help_request.handled_by_id) if help_request.handled_by_id else None


def service_types_by_code() -> dict[str, ServiceType]:
    """Every service type, retired ones too, for showing what a request asked for."""
    return {s.code: s for s in db.session.scalars(sa.select(ServiceType))}


def accept_help_request(actor, request_id: int, household_id: int, need_data: NeedData) -> Need:
    """Link a new request to a household in its grid that the actor may write,
    and record the need on that household, all or nothing; commit.

    Raises Forbidden (not a grid or community worker), NotFound (request or
    household missing or out of scope), Conflict (request already handled,
    household left the registry) and InvalidInput (household in another grid,
    service type, urgency, description).
    """
    require_role(actor, *ACCEPTERS)
    help_request = get_help_request(actor, request_id)
    _check_new(help_request)
    household = get_household(actor, household_id)
    if household.grid_id != help_request.grid_id:
        # Everyone who sees the request sees the household's grid, never more.
        raise InvalidInput(
            _l("Choose a household in the grid the request came from."),
            code="household_in_other_grid",
            field="household_id",
        )
    if not isinstance(need_data.urgency, Urgency):
        raise InvalidInput(_l("Choose how urgent it is."), code="invalid_urgency", field="urgency")
    # Nothing is committed until the request is marked accepted too: a
    # failure anywhere below rolls the need back with it.
    try:
        need = _add_need(actor, household.id, need_data)
        _mark_handled(actor, help_request, HelpRequestStatus.ACCEPTED, household_id=household.id)
        audit.record(actor, "accept", "help_request", help_request.id, household=household, fields=["status"])
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return need


def dismiss_help_request(actor, request_id: int, note: str) -> HelpRequest:
    """Close a new request without help from the registry, saying why; commit.

    Raises Forbidden, NotFound, Conflict (already handled) and InvalidInput (note).
    """
    help_request = get_help_request(actor, request_id)
    _check_new(help_request)
    note = _text(note, 500, "note", _l("Say why the request is dismissed (up to 500 characters)."))
    try:
        _mark_handled(actor, help_request, HelpRequestStatus.DISMISSED, handling_note=note)
        audit.record(
            actor, "dismiss", "help_request", help_request.id, grid_id=help_request.grid_id, fields=["status"]
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return help_request


def _check_new(help_request: HelpRequest) -> None:
    if help_request.status is not HelpRequestStatus.NEW:
        raise Conflict(_l("This request has already been handled."), code="request_handled")


def _mark_handled(actor, help_request: HelpRequest, status: HelpRequestStatus, **values) -> None:
    """Move a NEW request to `status`, or Conflict if someone else just handled it."""
    values |= {"status": status, "handled_by_id": actor.id, "handled_at": clock.now()}
    result = db.session.execute(
        sa.update(HelpRequest)
        .where(HelpRequest.id == help_request.id, HelpRequest.status == HelpRequestStatus.NEW)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_l("This request has already been handled."), code="request_handled")
    db.session.refresh(help_request)

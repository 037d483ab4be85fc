"""The visit (上门服务): door cards, check-in and check-out, and the resident's confirmation.

A household's door card carries a signed token naming the card (never who
lives there); the volunteer scans it at the door to check in and out. After
check-out the volunteer shows a confirmation QR; the resident (or a linked
family proxy, or the grid worker by a follow-up call) confirms the visit
once. Single use rests on the claim's nonce, cleared by one conditional
UPDATE (ENGINEERING.md "QR tokens"); the signature only proves origin and age.
"""

import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy.orm import selectinload

from app import clock
from app.auth_scope import get_scoped_or_404, is_valid_id, require_role, scoped, unscoped_get
from app.extensions import db
from app.models import (
    Claim,
    ClaimStatus,
    ConfirmedVia,
    DoorCard,
    Household,
    HouseholdStatus,
    NotificationKind,
    Role,
    Task,
    TaskStatus,
    User,
)
from app.services import audit, points
from app.services.errors import Conflict, DomainError, Forbidden, Gone, InvalidInput, NotFound
from app.services.households import LEDGER_READERS, LEDGER_WRITERS
from app.services.notifications import notify
from app.services.privacy import mask_name
from app.services.tasks import HOLDING, transition

# Unambiguous when read aloud or typed from a printed card: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
DOOR_SALT = "door-card"
CONFIRM_SALT = "visit-confirmation"
EARLY_CHECK_IN = timedelta(minutes=30)
CONFIRM_LIFETIME = timedelta(minutes=30)
MAX_COMMENT = 500


# --- door cards ---------------------------------------------------------------------


def _door_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=DOOR_SALT)


def door_token(card: DoorCard) -> str:
    """The signed token a door card's QR carries: the card id, nothing personal."""
    return _door_serializer().dumps({"c": card.id})


def door_url(card: DoorCard) -> str:
    """The absolute URL printed in the door card's QR."""
    return url_for("visits.door", door_token=door_token(card), _external=True)


def _invalid_door_token() -> InvalidInput:
    return InvalidInput(
        _l("This door card is not valid. Ask the grid worker for a new one."),
        code="invalid_door_token",
        field="door_token",
    )


def card_from_token(token_or_code) -> DoorCard:
    """The live door card for a signed token or its short printed code (any case).

    Raises InvalidInput `invalid_door_token` for unknown, revoked or tampered ones.
    """
    value = token_or_code.strip() if isinstance(token_or_code, str) else ""
    card = None
    if 0 < len(value) <= CODE_LENGTH + 1 and "." not in value:  # a short code, maybe with a dash
        code = value.upper().replace("-", "").replace(" ", "")
        card = db.session.scalar(sa.select(DoorCard).where(DoorCard.code == code))
    elif value:
        try:
            payload = _door_serializer().loads(value)
        except BadData:
            payload = None
        card_id = payload.get("c") if isinstance(payload, dict) else None
        card = unscoped_get(DoorCard, card_id)
    if card is None or card.revoked_at is not None:
        raise _invalid_door_token()
    return card


def current_card(household_id: int) -> DoorCard | None:
    """The household's live door card, if it has one (no scope check: the caller's)."""
    return db.session.scalar(
        sa.select(DoorCard)
        .where(DoorCard.household_id == household_id, DoorCard.revoked_at.is_(None))
        .order_by(DoorCard.id.desc())
        .limit(1)
    )


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not db.session.scalar(sa.select(DoorCard.id).where(DoorCard.code == code)):
            return code


def _revoke_current(actor, household: Household) -> DoorCard | None:
    card = current_card(household.id)
    if card is not None:
        card.revoked_at = clock.now()
        audit.record(actor, "revoke", "door_card", card.id, household=household)
    return card


def _issue(actor, household: Household) -> DoorCard:
    if household.status is not HouseholdStatus.ACTIVE:
        raise Conflict(_l("The household has left the registry."), code="household_exited")
    _revoke_current(actor, household)
    card = DoorCard(household_id=household.id, code=_new_code(), issued_at=clock.now(), issued_by_id=actor.id)
    db.session.add(card)
    db.session.flush()
    audit.record(actor, "issue", "door_card", card.id, household=household)
    return card


def issue_door_card(actor, household_id: int) -> DoorCard:
    """Give the household a new door card, revoking the one before; commit.

    Grid and community workers in scope. Raises Forbidden, NotFound, Conflict
    `household_exited`.
    """
    require_role(actor, *LEDGER_WRITERS)
    household = get_scoped_or_404(Household, household_id, actor)
    card = _issue(actor, household)
    db.session.commit()
    return card


def issue_missing_cards(actor, grid_id: int) -> int:
    """Issue a card to every active household of the grid that has none; commit. The number issued."""
    require_role(actor, *LEDGER_WRITERS)
    issued = 0
    for household in grid_households(actor, grid_id):
        if current_card(household.id) is None:
            _issue(actor, household)
            issued += 1
    db.session.commit()
    return issued


def revoke_door_card(actor, household_id: int) -> DoorCard:
    """Revoke the household's card (lost or copied); its QR stops working; commit.

    Raises Forbidden, NotFound, Conflict `no_door_card`.
    """
    require_role(actor, *LEDGER_WRITERS)
    household = get_scoped_or_404(Household, household_id, actor)
    card = _revoke_current(actor, household)
    if card is None:
        raise Conflict(_l("This household has no door card."), code="no_door_card")
    db.session.commit()
    return card


def door_card_of(actor, household_id: int) -> tuple[Household, DoorCard | None]:
    """The household (staff in scope, else NotFound) and its live card."""
    require_role(actor, *LEDGER_READERS)
    household = get_scoped_or_404(Household, household_id, actor)
    return household, current_card(household.id)


def grid_households(actor, grid_id: int) -> list[Household]:
    """The active households of a grid in the actor's scope, by address; NotFound outside it."""
    from app.models import Grid

    require_role(actor, *LEDGER_READERS)
    get_scoped_or_404(Grid, grid_id, actor)
    stmt = sa.select(Household).where(
        Household.grid_id == grid_id, Household.status == HouseholdStatus.ACTIVE
    )
    stmt = scoped(stmt, Household, actor).order_by(Household.building, Household.unit, Household.room)
    return list(db.session.scalars(stmt))


# --- check-in and check-out -------------------------------------------------------


def _own_claim(volunteer, task_id) -> Claim:
    claim = db.session.scalar(
        sa.select(Claim).where(
            Claim.task_id == task_id if is_valid_id(task_id) else sa.false(),
            Claim.volunteer_id == volunteer.id,
            Claim.status.in_(HOLDING),
        )
    )
    if claim is None:
        raise NotFound(_l("You have not claimed this task."), code="not_claimed")
    return claim


def _task_for_update(task_id: int) -> Task:
    """The task row, locked on PostgreSQL so two volunteers' changes queue up."""
    return db.session.scalar(
        sa.select(Task).where(Task.id == task_id).with_for_update().execution_options(populate_existing=True)
    )


def _at_the_door(claim: Claim, door_token: str) -> Task:
    card = card_from_token(door_token)
    task = _task_for_update(claim.task_id)
    if card.household_id != task.household_id:
        raise Conflict(_l("This door card belongs to another household."), code="wrong_household")
    return task


def check_in(volunteer, task_id: int, door_token: str) -> Claim:
    """Start the visit by scanning the household's door card; commit.

    Allowed from 30 minutes before the window opens until it closes. Raises
    Forbidden, NotFound `not_claimed`, InvalidInput `invalid_door_token`, and
    Conflict: `already_checked_in`, `wrong_household`, `too_early`,
    `window_closed`, `invalid_transition`. A refusal changes nothing.
    """
    require_role(volunteer, Role.VOLUNTEER)
    claim = _own_claim(volunteer, task_id)
    if claim.status is not ClaimStatus.ACTIVE:
        raise Conflict(_l("You have already checked in."), code="already_checked_in")
    task = _at_the_door(claim, door_token)  # locks the task: the no-show release waits for us, or we see it
    db.session.refresh(claim)
    if claim.status is not ClaimStatus.ACTIVE:
        raise Conflict(
            _l("Your place on this visit was given back. Ask the grid worker if you can still come."),
            code="claim_released",
        )
    now = clock.now()
    if now < task.starts_at - EARLY_CHECK_IN:
        raise Conflict(
            _l("It is too early: you can check in from 30 minutes before the visit."), code="too_early"
        )
    if now > task.ends_at:
        raise Conflict(_l("The time for this visit has passed."), code="window_closed")
    if task.status is not TaskStatus.IN_PROGRESS:
        transition(task, TaskStatus.IN_PROGRESS, volunteer)
    claim.status, claim.check_in_at = ClaimStatus.CHECKED_IN, now
    db.session.commit()
    return claim


def check_out(volunteer, task_id: int, door_token: str) -> Claim:
    """End the visit at the same door; once nobody is still due or inside,
    the task awaits confirmation; commit.

    Raises Forbidden, NotFound `not_claimed`, InvalidInput `invalid_door_token`,
    Conflict `not_checked_in`, `wrong_household`. A refusal changes nothing.
    """
    require_role(volunteer, Role.VOLUNTEER)
    claim = _own_claim(volunteer, task_id)
    if claim.status is not ClaimStatus.CHECKED_IN:
        raise Conflict(_l("You have not checked in to this visit."), code="not_checked_in")
    task = _at_the_door(claim, door_token)
    claim.status, claim.check_out_at = ClaimStatus.CHECKED_OUT, clock.now()
    db.session.flush()
    still_due = db.session.scalar(
        sa.select(sa.func.count(Claim.id)).where(
            Claim.task_id == task.id, Claim.status.in_((ClaimStatus.ACTIVE, ClaimStatus.CHECKED_IN))
        )
    )
    if not still_due and task.status is TaskStatus.IN_PROGRESS:
        transition(task, TaskStatus.AWAITING_CONFIRMATION, volunteer)
    db.session.commit()
    return claim


def door_actions(user, card: DoorCard) -> list[tuple[Task, str]]:
    """(task, "check_in" | "check_out") the user can do now at this door card's household."""
    if not getattr(user, "is_authenticated", False) or not user.has_role(Role.VOLUNTEER):
        return []
    now = clock.now()
    claims = db.session.scalars(
        sa.select(Claim)
        .join(Task)
        .where(
            Claim.volunteer_id == user.id,
            Task.household_id == card.household_id,
            Claim.status.in_((ClaimStatus.ACTIVE, ClaimStatus.CHECKED_IN)),
        )
        .options(selectinload(Claim.task).selectinload(Task.service_type))
        .order_by(Task.starts_at)
    )
    actions = []
    for claim in claims:
        task = claim.task
        if claim.status is ClaimStatus.CHECKED_IN:
            actions.append((task, "check_out"))
        elif task.starts_at - EARLY_CHECK_IN <= now <= task.ends_at:
            actions.append((task, "check_in"))
    return actions


# --- the confirmation link ------------------------------------------------------------


class _ClockSigner(TimestampSigner):
    """Timestamps from app.clock, so that a frozen test clock ages tokens too."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _confirm_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM_SALT, signer=_ClockSigner)


def _confirm_url(claim: Claim) -> str:
    token = _confirm_serializer().dumps({"v": claim.id, "n": claim.confirm_nonce})
    return url_for("visits.confirm", token=token, _external=True)


def confirmation_link(volunteer, task_id: int):
    """A fresh single-use confirmation URL and its expiry (30 minutes); any
    earlier link of this visit stops working; commit.

    Raises Forbidden, NotFound `not_claimed`, Conflict `not_checked_out`.
    """
    require_role(volunteer, Role.VOLUNTEER)
    claim = _own_claim(volunteer, task_id)
    if claim.status is not ClaimStatus.CHECKED_OUT:
        raise Conflict(_l("Check out first; then the resident can confirm."), code="not_checked_out")
    claim.confirm_nonce = secrets.token_urlsafe(12)
    claim.confirm_expires_at = clock.now() + CONFIRM_LIFETIME
    db.session.commit()
    return _confirm_url(claim), claim.confirm_expires_at


def current_confirmation_link(volunteer, task_id: int):
    """The live confirmation URL and expiry, re-signed with the same nonce;
    a fresh one if there is none or it has expired (so a page reload or
    its image does not replace the link the resident may be scanning)."""
    require_role(volunteer, Role.VOLUNTEER)
    claim = _own_claim(volunteer, task_id)
    live = claim.confirm_nonce and claim.confirm_expires_at and claim.confirm_expires_at > clock.now()
    if claim.status is ClaimStatus.CHECKED_OUT and live:
        return _confirm_url(claim), claim.confirm_expires_at
    return confirmation_link(volunteer, task_id)


def claim_from_confirmation_token(token) -> Claim:
    """The claim a confirmation token names, if it can still be confirmed.

    Raises DomainError `invalid_token` (forged, tampered, another purpose's
    token: 400), Gone `token_expired` or `token_used` (used, or replaced by a
    newer link: 410).
    """
    invalid = DomainError(
        _l("This confirmation link is not valid. Ask the volunteer to show the QR code again."),
        code="invalid_token",
    )
    try:
        payload = _confirm_serializer().loads(token, max_age=int(CONFIRM_LIFETIME.total_seconds()))
    except SignatureExpired:
        raise _expired() from None
    except BadData:
        raise invalid from None
    if not isinstance(payload, dict) or not isinstance(payload.get("n"), str):
        raise invalid
    claim = unscoped_get(Claim, payload.get("v"))
    if claim is None:
        raise invalid
    if claim.status is not ClaimStatus.CHECKED_OUT or claim.confirm_nonce != payload["n"]:
        raise _used()
    if claim.confirm_expires_at is None or claim.confirm_expires_at <= clock.now():
        raise _expired()
    return claim


def _expired() -> Gone:
    return Gone(
        _l("This confirmation link has expired. Ask the volunteer to show a new QR code."),
        code="token_expired",
    )


def _used() -> Gone:
    return Gone(
        _l("This visit has already been confirmed, or this link was replaced by a newer one."),
        code="token_used",
    )


def _check_not_own(viewer, claim: Claim) -> None:
    if viewer is not None and getattr(viewer, "is_authenticated", False) and viewer.id == claim.volunteer_id:
        raise Forbidden(_l("You cannot confirm your own visit."), code="own_visit")


def confirmation_view(token, viewer=None) -> tuple[Claim, str]:
    """The claim behind a link and the volunteer's masked name, for the resident's page."""
    claim = claim_from_confirmation_token(token)
    _check_not_own(viewer, claim)
    return claim, mask_name(db.session.get(User, claim.volunteer_id).name)


def _check_rating(rating, comment, required: bool = True) -> tuple[int | None, str]:
    if rating is None and not required:
        pass
    elif not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise InvalidInput(_l("Choose a score from 1 to 5."), code="invalid_rating", field="rating")
    comment = (comment or "").strip() if isinstance(comment, str | None) else None
    if comment is None or len(comment) > MAX_COMMENT:
        raise InvalidInput(
            _l("Write at most %(n)d characters.", n=MAX_COMMENT), code="invalid_comment", field="comment"
        )
    return rating, comment


def _mark_confirmed(claim_id: int, via: ConfirmedVia, nonce: str | None = None, **values) -> bool:
    """The one conditional UPDATE that confirms a visit; False if it was not awaiting confirmation."""
    conditions = [Claim.id == claim_id, Claim.status == ClaimStatus.CHECKED_OUT]
    if nonce is not None:
        conditions.append(Claim.confirm_nonce == nonce)
    result = db.session.execute(
        sa.update(Claim)
        .where(*conditions)
        .values(
            status=ClaimStatus.CONFIRMED,
            confirmed_at=clock.now(),
            confirmed_via=via,
            confirm_nonce=None,
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _after_confirmation(claim_id: int, actor=None) -> Claim:
    """Pay the visit, verify the task once every place on it is confirmed, tell the volunteer; flush only."""
    claim = db.session.scalar(
        sa.select(Claim).where(Claim.id == claim_id).execution_options(populate_existing=True)
    )
    task = _task_for_update(claim.task_id)
    statuses = db.session.scalars(
        sa.select(Claim.status).where(Claim.task_id == task.id, Claim.status.in_(HOLDING))
    ).all()
    if task.status is TaskStatus.AWAITING_CONFIRMATION and all(s is ClaimStatus.CONFIRMED for s in statuses):
        transition(task, TaskStatus.VERIFIED, actor, claim.confirmed_via.value)
    award = points.award_visit(claim.id)
    notify(claim.volunteer_id, NotificationKind.VISIT_CONFIRMED, task.id, points=award.details["points"])
    return claim


def confirm_visit(token, rating, comment, viewer=None) -> Claim:
    """The resident confirms the visit through the QR link, once; commit.

    Raises what claim_from_confirmation_token raises, Forbidden `own_visit`
    (the claimant is logged in), InvalidInput `invalid_rating`,
    `invalid_comment`, and Gone `token_used` when another confirmation won.
    """
    claim = claim_from_confirmation_token(token)
    _check_not_own(viewer, claim)
    rating, comment = _check_rating(rating, comment)
    nonce = claim.confirm_nonce
    if not _mark_confirmed(
        claim.id, ConfirmedVia.QR, nonce, rating=rating, comment=comment, confirmed_by_id=None
    ):
        db.session.rollback()
        raise _used()
    claim = _after_confirmation(claim.id)
    db.session.commit()
    return claim

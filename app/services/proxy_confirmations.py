"""Confirming a visit without the QR code: a family member linked as the
household's proxy (亲情代理) confirms on the resident's behalf, or the grid
worker confirms by a follow-up call (回访) when nobody could scan — each
marked as such and audit-logged."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app import clock
from app.auth_scope import get_scoped_or_404, require_role, scoped, unscoped_get
from app.extensions import db
from app.models import (
    Claim,
    ClaimStatus,
    ConfirmedVia,
    Household,
    HouseholdProxy,
    Task,
    User,
)
from app.services import audit
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.households import LEDGER_READERS, LEDGER_WRITERS
from app.services.visits import (
    MAX_COMMENT,
    _after_confirmation,
    _check_not_own,
    _check_rating,
    _mark_confirmed,
)


def link_proxy(actor, household_id: int, phone: str, relation: str) -> HouseholdProxy:
    """Link a family member's account to the household as its proxy; commit.

    Raises Forbidden, NotFound, InvalidInput `unknown_user`, `invalid_relation`,
    Conflict `already_linked`.
    """
    from app.services.accounts import find_by_phone

    require_role(actor, *LEDGER_WRITERS)
    household = get_scoped_or_404(Household, household_id, actor)
    user = find_by_phone((phone or "").strip()) if isinstance(phone, str) else None
    if user is None:
        raise InvalidInput(
            _l("No account has this phone number; the family member registers first."),
            code="unknown_user",
            field="phone",
        )
    relation = (relation or "").strip() if isinstance(relation, str) else ""
    if not 1 <= len(relation) <= 30:
        raise InvalidInput(
            _l("Say how they are related (up to 30 characters)."), code="invalid_relation", field="relation"
        )
    proxy = db.session.scalar(
        sa.select(HouseholdProxy).where(
            HouseholdProxy.household_id == household.id, HouseholdProxy.user_id == user.id
        )
    )
    if proxy is not None and proxy.revoked_at is None:
        raise Conflict(_l("This person is already linked to the household."), code="already_linked")
    if proxy is None:
        proxy = HouseholdProxy(household_id=household.id, user_id=user.id)
        db.session.add(proxy)
    proxy.relation, proxy.created_by_id, proxy.created_at, proxy.revoked_at = (
        relation,
        actor.id,
        clock.now(),
        None,
    )
    db.session.flush()
    audit.record(actor, "link", "household_proxy", proxy.id, household=household)
    db.session.commit()
    return proxy


def unlink_proxy(actor, household_id: int, proxy_id: int) -> HouseholdProxy:
    """End a proxy link; commit. Raises Forbidden, NotFound."""
    require_role(actor, *LEDGER_WRITERS)
    household = get_scoped_or_404(Household, household_id, actor)
    proxy = unscoped_get(HouseholdProxy, proxy_id)
    if proxy is None or proxy.household_id != household.id or proxy.revoked_at is not None:
        raise NotFound()
    proxy.revoked_at = clock.now()
    audit.record(actor, "unlink", "household_proxy", proxy.id, household=household)
    db.session.commit()
    return proxy


def proxies_of(actor, household_id: int) -> list[tuple[HouseholdProxy, User]]:
    """The household's live proxies with their accounts (staff in scope)."""
    require_role(actor, *LEDGER_READERS)
    household = get_scoped_or_404(Household, household_id, actor)
    rows = db.session.execute(
        sa.select(HouseholdProxy, User)
        .join(User, User.id == HouseholdProxy.user_id)
        .where(HouseholdProxy.household_id == household.id, HouseholdProxy.revoked_at.is_(None))
        .order_by(HouseholdProxy.id)
    )
    return [tuple(row) for row in rows]


def _proxy_households(user) -> sa.Select:
    return sa.select(HouseholdProxy.household_id).where(
        HouseholdProxy.user_id == user.id, HouseholdProxy.revoked_at.is_(None)
    )


def pending_for_proxy(user) -> list[Claim]:
    """Visits to the proxy's households waiting for confirmation, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Claim)
            .join(Task)
            .where(Claim.status == ClaimStatus.CHECKED_OUT, Task.household_id.in_(_proxy_households(user)))
            .options(selectinload(Claim.task).selectinload(Task.service_type), selectinload(Claim.volunteer))
            .order_by(Claim.check_out_at, Claim.id)
        )
    )


def confirm_as_proxy(proxy_user, claim_id: int, rating, comment) -> Claim:
    """A linked family member confirms a visit for the resident; commit.

    Raises NotFound (not their household's), Forbidden `own_visit`,
    InvalidInput `invalid_rating`/`invalid_comment`, Conflict `not_awaiting_confirmation`.
    """
    claim = unscoped_get(Claim, claim_id)
    task = db.session.get(Task, claim.task_id) if claim is not None else None
    linked = task is not None and db.session.scalar(
        sa.select(
            sa.exists(_proxy_households(proxy_user).where(HouseholdProxy.household_id == task.household_id))
        )
    )
    if not linked:
        raise NotFound()
    _check_not_own(proxy_user, claim)
    rating, comment = _check_rating(rating, comment)
    if not _mark_confirmed(
        claim.id, ConfirmedVia.PROXY, rating=rating, comment=comment, confirmed_by_id=proxy_user.id
    ):
        db.session.rollback()
        raise _not_awaiting()
    claim = _after_confirmation(claim.id, proxy_user)
    db.session.commit()
    return claim


def _not_awaiting() -> Conflict:
    return Conflict(_l("This visit is not waiting for confirmation."), code="not_awaiting_confirmation")


def claim_for_staff(actor, claim_id: int) -> Claim:
    """A claim whose task lies in the actor's scope (task, volunteer loaded), else NotFound."""
    require_role(actor, *LEDGER_READERS)
    claim = unscoped_get(Claim, claim_id)
    if claim is None:
        raise NotFound()
    get_scoped_or_404(Task, claim.task_id, actor)
    return db.session.scalar(
        sa.select(Claim)
        .where(Claim.id == claim.id)
        .options(selectinload(Claim.task).selectinload(Task.service_type), selectinload(Claim.volunteer))
    )


def awaiting_in_scope(actor) -> list[Claim]:
    """Checked-out visits in the actor's scope still waiting for confirmation, oldest first."""
    require_role(actor, *LEDGER_READERS)
    stmt = (
        sa.select(Claim)
        .join(Task)
        .where(Claim.status == ClaimStatus.CHECKED_OUT)
        .options(selectinload(Claim.task).selectinload(Task.service_type), selectinload(Claim.volunteer))
        .order_by(Claim.check_out_at, Claim.id)
    )
    return list(db.session.scalars(scoped(stmt, Task, actor)))


def confirm_by_follow_up_call(actor, claim_id: int, note: str, rating=None) -> Claim:
    """The grid worker confirms a visit by calling the resident (回访) when
    nobody could scan; marked as such and audit-logged; commit.

    Raises Forbidden, NotFound, InvalidInput `note_required`/`invalid_rating`,
    Forbidden `own_visit`, Conflict `not_awaiting_confirmation`.
    """
    require_role(actor, *LEDGER_WRITERS)
    claim = claim_for_staff(actor, claim_id)
    _check_not_own(actor, claim)
    note = (note or "").strip() if isinstance(note, str) else ""
    if not 1 <= len(note) <= MAX_COMMENT:
        raise InvalidInput(
            _l("Note what the resident said on the call (up to 500 characters)."),
            code="note_required",
            field="note",
        )
    rating, _comment = _check_rating(rating, "", required=False)
    if not _mark_confirmed(
        claim.id, ConfirmedVia.FOLLOW_UP_CALL, rating=rating, follow_up_note=note, confirmed_by_id=actor.id
    ):
        db.session.rollback()
        raise _not_awaiting()
    audit.record(
        actor, "confirm_by_call", "claim", claim.id, grid_id=claim.task.grid_id, note="follow-up call"
    )
    claim = _after_confirmation(claim.id, actor)
    db.session.commit()
    return claim

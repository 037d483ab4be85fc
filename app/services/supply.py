"""The supply list (供给清单): partner organisations' offers.

An organisation's own users (role partner, linked to it by street staff in
the welfare bank's partner pages) publish its offers; a street officer of
its street, or an administrator, may record one on its behalf. An offer
names a service, a capacity (visits or places in its period), an area (the
organisation's whole street, or chosen communities of it), a period of local
dates and a description. It can be changed only while unused, and closed at
any time: "withdrawn" if nobody used it, "closed" otherwise (the matches
already accepted stand). Matching offers to needs is in supply_matching.py
(volunteers in supply_volunteers.py), accepting and declining in
supply_decisions.py, what organisations see of their matches in
supply_org.py, their volunteers in supply_members.py.

Every write is audit-logged and commits once; a refusal leaves nothing written.
"""

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app import clock
from app.auth_scope import is_valid_id, require_role
from app.extensions import db
from app.models import (
    Community,
    OfferCommunity,
    OfferStatus,
    Partner,
    PartnerUser,
    Role,
    SupplyOffer,
)
from app.services import audit, catalogue
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.tx import atomic

MAX_CAPACITY = 1000
DESK_ROLES = (Role.PARTNER, Role.STREET_OFFICER)  # administrators pass every role check


# --- who uses which organisation's desk ------------------------------------------------


def acts_for(user, partner_id: int) -> bool:
    """True if the user is one of the organisation's own accounts (PartnerUser)."""
    return user.has_role(Role.PARTNER) and db.session.get(PartnerUser, (partner_id, user.id)) is not None


def desk_partner(actor, partner_id) -> Partner:
    """The organisation whose desk the actor may use: one they act for, one of
    their street (street officers), any (administrators). NotFound otherwise,
    missing and foreign alike."""
    require_role(actor, *DESK_ROLES)
    partner = db.session.get(Partner, partner_id) if is_valid_id(partner_id) else None
    if partner is None:
        raise NotFound()
    if actor.has_role(Role.ADMIN) or acts_for(actor, partner.id):
        return partner
    if actor.has_role(Role.STREET_OFFICER) and actor.street_id == partner.street_id:
        return partner
    raise NotFound()


def my_partners(user) -> list[Partner]:
    """The organisations the user acts for, by name."""
    return list(
        db.session.scalars(
            sa.select(Partner)
            .join(PartnerUser, PartnerUser.partner_id == Partner.id)
            .where(PartnerUser.user_id == user.id)
            .order_by(Partner.name, Partner.id)
        )
    )


def street_partners(actor) -> list[Partner]:
    """The organisations a street officer (their street) or an administrator (all) records offers for."""
    require_role(actor, Role.STREET_OFFICER)
    stmt = sa.select(Partner).order_by(Partner.active.desc(), Partner.name, Partner.id)
    if not actor.has_role(Role.ADMIN):
        stmt = stmt.where(Partner.street_id == actor.street_id if actor.street_id else sa.false())
    return list(db.session.scalars(stmt))


def street_communities(partner: Partner) -> list[Community]:
    """The communities of the organisation's street: what an offer may cover."""
    return list(
        db.session.scalars(
            sa.select(Community).where(Community.street_id == partner.street_id).order_by(Community.id)
        )
    )


# --- offers ---------------------------------------------------------------------------


@dataclass
class OfferData:
    service_type_code: str
    capacity: int
    valid_from: date
    valid_until: date
    description: str
    whole_street: bool = True
    community_ids: list[int] = field(default_factory=list)  # when not the whole street


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_offer(partner: Partner, data: OfferData, today: date) -> tuple[dict, list[int]]:
    """The offer's column values and its communities, checked; else InvalidInput."""
    service = catalogue.active_service_type(data.service_type_code, field="service_type_code")
    if not _is_int(data.capacity) or not 1 <= data.capacity <= MAX_CAPACITY:
        raise InvalidInput(
            _l("Enter a whole number from %(low)d to %(high)d.", low=1, high=MAX_CAPACITY),
            code="invalid_capacity",
            field="capacity",
        )
    for name in ("valid_from", "valid_until"):
        if not isinstance(getattr(data, name), date):
            raise InvalidInput(_l("Enter a date."), code="invalid_date", field=name)
    if data.valid_until < data.valid_from:
        raise InvalidInput(
            _l("The last day cannot be before the first."), code="invalid_period", field="valid_until"
        )
    if data.valid_until < today:
        raise InvalidInput(_l("This period has already ended."), code="period_over", field="valid_until")
    description = data.description.strip() if isinstance(data.description, str) else ""
    if not 1 <= len(description) <= 500:
        raise InvalidInput(
            _l("Describe the offer in up to %(n)d characters.", n=500),
            code="invalid_text",
            field="description",
        )
    communities = [] if data.whole_street else _check_communities(partner, data.community_ids)
    values = {
        "service_type_code": service.code,
        "capacity": data.capacity,
        "valid_from": data.valid_from,
        "valid_until": data.valid_until,
        "description": description,
        "whole_street": bool(data.whole_street),
    }
    return values, communities


def _check_communities(partner: Partner, community_ids) -> list[int]:
    ids = sorted(set(community_ids or ()))
    in_street = set()
    if ids and all(is_valid_id(i) for i in ids):
        in_street = set(
            db.session.scalars(
                sa.select(Community.id).where(Community.id.in_(ids), Community.street_id == partner.street_id)
            )
        )
    if not ids or in_street != set(ids):
        raise InvalidInput(
            _l("Choose the whole street, or at least one community of the organisation's street."),
            code="invalid_area",
            field="community_ids",
        )
    return ids


def _set_communities(offer_id: int, community_ids: list[int]) -> None:
    db.session.execute(sa.delete(OfferCommunity).where(OfferCommunity.offer_id == offer_id))
    db.session.add_all(OfferCommunity(offer_id=offer_id, community_id=c) for c in community_ids)


def create_offer(actor, partner_id, data: OfferData) -> SupplyOffer:
    """Publish an offer of an active organisation; audit-logged; commit.

    Raises Forbidden, NotFound (not the actor's organisation), Conflict
    `partner_inactive`, InvalidInput (`unknown_service_type`,
    `invalid_capacity`, `invalid_date`, `invalid_period`, `period_over`,
    `invalid_text`, `invalid_area`).
    """
    partner = desk_partner(actor, partner_id)
    if not partner.active:
        raise Conflict(_l("This organisation is not active."), code="partner_inactive")
    values, communities = _check_offer(partner, data, clock.today())
    with atomic():
        offer = SupplyOffer(partner_id=partner.id, used=0, created_by_id=actor.id, **values)
        db.session.add(offer)
        db.session.flush()
        _set_communities(offer.id, communities)
        audit.record(actor, "create", "supply_offer", offer.id, fields=values, note=f"partner {partner.id}")
    return offer


def get_offer(actor, offer_id, options=()) -> SupplyOffer:
    """An offer of an organisation whose desk the actor uses; NotFound otherwise."""
    offer = None
    if is_valid_id(offer_id):
        offer = db.session.scalar(sa.select(SupplyOffer).where(SupplyOffer.id == offer_id).options(*options))
    if offer is None:
        require_role(actor, *DESK_ROLES)
        raise NotFound()
    desk_partner(actor, offer.partner_id)
    return offer


def update_offer(actor, offer_id, data: OfferData) -> SupplyOffer:
    """Change an offer nobody has used yet; audit-logged; commit.

    Raises what create_offer raises, and Conflict `offer_in_use` (a match
    was accepted: close it and publish a new one) or `offer_closed`.
    """
    offer = get_offer(actor, offer_id)
    partner = db.session.get(Partner, offer.partner_id)
    values, communities = _check_offer(partner, data, clock.today())
    before = {name: getattr(offer, name) for name in values}
    before_communities = _community_ids(offer.id)
    with atomic():
        # The precondition is in the write: an acceptance at the same moment
        # either sees the new values or makes this refuse.
        changed = db.session.execute(
            sa.update(SupplyOffer)
            .where(
                SupplyOffer.id == offer.id, SupplyOffer.used == 0, SupplyOffer.status == OfferStatus.ACTIVE
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            db.session.refresh(offer)
            if offer.status is not OfferStatus.ACTIVE:
                raise _closed()
            raise Conflict(
                _l(
                    "This offer has been used, so it can no longer be changed. Close it and publish a new one."
                ),
                code="offer_in_use",
            )
        _set_communities(offer.id, communities)
        fields = [name for name, value in values.items() if before[name] != value]
        if communities != before_communities:
            fields.append("communities")
        audit.record(actor, "update", "supply_offer", offer.id, fields=fields)
    db.session.refresh(offer)
    return offer


def _community_ids(offer_id: int) -> list[int]:
    return sorted(
        db.session.scalars(sa.select(OfferCommunity.community_id).where(OfferCommunity.offer_id == offer_id))
    )


def _closed() -> Conflict:
    return Conflict(_l("This offer is already closed."), code="offer_closed")


def close_offer(actor, offer_id, reason: str = "") -> SupplyOffer:
    """Stop an offer taking matches: withdrawn if unused, else closed; commit.

    Raises NotFound, InvalidInput `invalid_reason` (over 300 characters),
    Conflict `offer_closed`.
    """
    offer = get_offer(actor, offer_id)
    reason = reason.strip() if isinstance(reason, str) else ""
    if len(reason) > 300:
        raise InvalidInput(
            _l("Write at most %(n)d characters.", n=300), code="invalid_reason", field="reason"
        )
    with atomic():
        closed = db.session.execute(
            sa.update(SupplyOffer)
            .where(SupplyOffer.id == offer.id, SupplyOffer.status == OfferStatus.ACTIVE)
            .values(
                status=sa.case(
                    (SupplyOffer.used == 0, OfferStatus.WITHDRAWN.name), else_=OfferStatus.CLOSED.name
                ),
                closed_at=clock.now(),
                closed_by_id=actor.id,
                close_reason=reason,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if closed != 1:
            raise _closed()
        db.session.refresh(offer)
        action = "withdraw" if offer.status is OfferStatus.WITHDRAWN else "close"
        audit.record(actor, action, "supply_offer", offer.id, fields=["status"])
    return offer


OFFER_LOAD = (selectinload(SupplyOffer.service_type), selectinload(SupplyOffer.communities))


def partner_offers(actor, partner_id) -> list[SupplyOffer]:
    """An organisation's offers for its desk: published first, newest first."""
    partner = desk_partner(actor, partner_id)
    return list(
        db.session.scalars(
            sa.select(SupplyOffer)
            .where(SupplyOffer.partner_id == partner.id)
            .options(*OFFER_LOAD)
            .order_by(
                (SupplyOffer.status == OfferStatus.ACTIVE).desc(),
                SupplyOffer.created_at.desc(),
                SupplyOffer.id.desc(),
            )
        )
    )


def street_offers_stmt(actor) -> sa.Select:
    """The offers of every organisation of a street officer's street (all for
    administrators), published first, then by organisation; for the staff list."""
    require_role(actor, Role.STREET_OFFICER)
    stmt = (
        sa.select(SupplyOffer)
        .join(Partner, Partner.id == SupplyOffer.partner_id)
        .options(*OFFER_LOAD, selectinload(SupplyOffer.partner))
        .order_by((SupplyOffer.status == OfferStatus.ACTIVE).desc(), Partner.name, SupplyOffer.id.desc())
    )
    if not actor.has_role(Role.ADMIN):
        stmt = stmt.where(Partner.street_id == actor.street_id if actor.street_id else sa.false())
    return stmt


def offer_phase(offer: SupplyOffer, today: date) -> str:
    """Where an offer stands for the desk: `closed`/`withdrawn`, else
    `ended` (period over), `upcoming`, `full` (capacity used) or `open`."""
    if offer.status is not OfferStatus.ACTIVE:
        return offer.status.value
    if offer.valid_until < today:
        return "ended"
    if offer.valid_from > today:
        return "upcoming"
    return "full" if offer.used >= offer.capacity else "open"


PHASE_LABELS = {
    "open": _l("taking matches"),
    "upcoming": _l("not started yet"),
    "ended": _l("period over"),
    "full": _l("fully used"),
    "closed": _l("closed"),
    "withdrawn": _l("withdrawn"),
}


def can_edit(offer: SupplyOffer) -> bool:
    """Only a published offer nobody has used can be changed."""
    return offer.status is OfferStatus.ACTIVE and offer.used == 0

"""Accepting or declining a suggested offer for a need.

Community and grid staff in scope accept an offer for an open need either
  (a) as a task for the household posted by them, which only the
      organisation's volunteers may claim (`Task.partner_id`; the claim rule
      in tasks.py refuses others with `partner_volunteers_only`), or
  (b) as a measure (帮扶措施) from the organisation in the household's
      ledger, linked to the need (and to the offer through the match).
Either uses one unit of the offer's capacity in a conditional UPDATE —
`used = used + 1 WHERE used < capacity AND published AND in its period
AND covering the community` — in the same transaction as the task or
measure and the match row, so concurrent acceptances can never use an
offer beyond its capacity, and a refusal leaves nothing written. Declining
hides the offer for that need, with a reason. All audit-logged.

The page that accepts or declines shows the need and the offer side by
side (`match_view`). What the organisation then sees is in supply_org.py.
"""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from app import clock
from app.auth_scope import grid_ids, is_valid_id, require_role, scope_of
from app.extensions import db
from app.labels import label
from app.models import (
    Community,
    Grid,
    Household,
    HouseholdStatus,
    MatchOutcome,
    MatchStatus,
    Measure,
    MeasureKind,
    Need,
    NeedStatus,
    OfferCommunity,
    OfferStatus,
    Partner,
    ServiceType,
    SupplyMatch,
    SupplyOffer,
    Task,
)
from app.services import audit, tasks
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.households import LEDGER_WRITERS
from app.services.supply_matching import offer_reasons
from app.services.tx import atomic

MAX_TEXT = 300


# --- one need and one offer ----------------------------------------------------------------


@dataclass
class MatchView:
    """A need and an offer side by side, for the page that accepts or declines."""

    need: Need
    household: Household
    community: Community
    service: ServiceType
    offer: SupplyOffer  # partner loaded
    reasons: list  # why it fits, when it does
    refusal: Conflict | None  # why it cannot be accepted now, if it cannot
    decided: SupplyMatch | None


def need_in_scope(actor, need_id, roles=LEDGER_WRITERS) -> tuple[Need, Household, Community]:
    """An open or closed need of a household in the actor's scope, with its
    household and community; NotFound otherwise."""
    require_role(actor, *roles)
    row = None
    if is_valid_id(need_id):
        row = db.session.execute(
            sa.select(Need, Household, Community)
            .join(Household, Household.id == Need.household_id)
            .join(Grid, Grid.id == Household.grid_id)
            .join(Community, Community.id == Grid.community_id)
            .where(Need.id == need_id, Household.grid_id.in_(grid_ids(scope_of(actor))))
        ).first()
    if row is None:
        raise NotFound()
    return row[0], row[1], row[2]


def offer_for_need(need: Need, community: Community, offer_id) -> SupplyOffer:
    """An offer of the need's service type by an organisation of the need's
    street (partner loaded); NotFound otherwise — whatever its state."""
    offer = None
    if is_valid_id(offer_id):
        offer = db.session.scalar(
            sa.select(SupplyOffer)
            .join(Partner, Partner.id == SupplyOffer.partner_id)
            .where(
                SupplyOffer.id == offer_id,
                SupplyOffer.service_type_code == need.service_type_code,
                Partner.street_id == community.street_id,
            )
            .options(contains_eager(SupplyOffer.partner))
        )
    if offer is None:
        raise NotFound()
    return offer


def why_not(offer: SupplyOffer, community: Community, today: date) -> Conflict | None:
    """Why the offer cannot be used for a need of this community today, or None."""
    if offer.status is not OfferStatus.ACTIVE or not offer.partner.active:
        return Conflict(_l("This offer is closed."), code="offer_closed")
    if not (offer.valid_from <= today <= offer.valid_until):
        return Conflict(
            _l("This offer runs from %(start)s to %(end)s.", start=offer.valid_from, end=offer.valid_until),
            code="offer_out_of_period",
        )
    if offer.used >= offer.capacity:
        return Conflict(_l("This offer's capacity is used up."), code="offer_full")
    if not offer.whole_street and not db.session.scalar(
        sa.select(
            sa.exists().where(
                OfferCommunity.offer_id == offer.id, OfferCommunity.community_id == community.id
            )
        )
    ):
        return Conflict(_l("This offer does not cover this community."), code="offer_not_here")
    return None


def match_view(actor, need_id, offer_id) -> MatchView:
    """The need and the offer for the accept/decline page. Raises Forbidden, NotFound."""
    need, household, community = need_in_scope(actor, need_id)
    offer = offer_for_need(need, community, offer_id)
    decided = db.session.scalar(
        sa.select(SupplyMatch).where(SupplyMatch.need_id == need.id, SupplyMatch.offer_id == offer.id)
    )
    refusal = why_not(offer, community, clock.today())
    if need.status is not NeedStatus.OPEN:
        refusal = Conflict(_l("This need is no longer open."), code="need_not_open")
    return MatchView(
        need=need,
        household=household,
        community=community,
        service=db.session.get(ServiceType, need.service_type_code),
        offer=offer,
        reasons=offer_reasons(offer, not offer.whole_street) if refusal is None else [],
        refusal=refusal,
        decided=decided,
    )


def default_org_description(service: ServiceType, need: Need) -> str:
    """What the organisation is told by default: the service and the urgency, nothing of the household."""
    return f"{service.name} · {label(need.urgency)}"


# --- accepting and declining -------------------------------------------------------------------


@dataclass
class AcceptData:
    outcome: MatchOutcome
    org_description: str = ""  # blank: the service and the urgency
    starts_at: datetime | None = None  # a task's window (aware)
    ends_at: datetime | None = None


def _already_decided() -> Conflict:
    return Conflict(_l("This offer has already been decided on for this need."), code="already_decided")


def _text(value, field: str, default: str = "") -> str:
    value = value.strip() if isinstance(value, str) else ""
    value = value or default
    if not value or len(value) > MAX_TEXT:
        raise InvalidInput(
            _l("Enter a text of up to %(n)d characters.", n=MAX_TEXT), code="invalid_text", field=field
        )
    return value


def _use_one(offer: SupplyOffer, community: Community, today: date) -> bool:
    """The conditional UPDATE that uses one unit of the offer; False if it could not."""
    here = sa.exists().where(
        OfferCommunity.offer_id == SupplyOffer.id, OfferCommunity.community_id == community.id
    )
    result = db.session.execute(
        sa.update(SupplyOffer)
        .where(
            SupplyOffer.id == offer.id,
            SupplyOffer.status == OfferStatus.ACTIVE,
            SupplyOffer.used < SupplyOffer.capacity,
            SupplyOffer.valid_from <= today,
            SupplyOffer.valid_until >= today,
            SupplyOffer.whole_street | here,
        )
        .values(used=SupplyOffer.used + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _check_window(data: AcceptData, offer: SupplyOffer) -> None:
    if not isinstance(data.starts_at, datetime) or data.starts_at.tzinfo is None:
        raise InvalidInput(_l("Enter a date and time."), code="invalid_time", field="starts_at")
    day = clock.local_date(data.starts_at)
    if not offer.valid_from <= day <= offer.valid_until:
        raise InvalidInput(
            _l(
                "Choose a day in the offer's period, %(start)s to %(end)s.",
                start=offer.valid_from,
                end=offer.valid_until,
            ),
            code="outside_offer_period",
            field="day",
        )


def accept_match(actor, need_id, offer_id, data: AcceptData) -> SupplyMatch:
    """Accept an offer for an open need, as a task or a measure; commit.

    Raises Forbidden (not grid or community staff), NotFound (need out of
    scope; offer of another street or service), InvalidInput (`invalid_outcome`,
    `invalid_text`, `outside_offer_period`, and the task's own:
    `invalid_time`, `invalid_window`, `start_in_past`), Conflict
    (`need_not_open`, `household_exited`, `offer_closed`,
    `offer_out_of_period`, `offer_full`, `offer_not_here`, `already_decided`).
    """
    need, household, community = need_in_scope(actor, need_id)
    offer = offer_for_need(need, community, offer_id)
    if need.status is not NeedStatus.OPEN:
        raise Conflict(_l("This need is no longer open."), code="need_not_open")
    if household.status is not HouseholdStatus.ACTIVE:
        raise Conflict(_l("The household has left the registry."), code="household_exited")
    if not isinstance(data.outcome, MatchOutcome):
        raise InvalidInput(_l("Choose what accepting makes."), code="invalid_outcome", field="outcome")
    if (refusal := why_not(offer, community, clock.today())) is not None:
        raise refusal
    service = db.session.get(ServiceType, need.service_type_code)
    text = _text(data.org_description, "org_description", default_org_description(service, need))
    if data.outcome is MatchOutcome.TASK:
        _check_window(data, offer)
    try:
        with atomic():
            if not _use_one(offer, community, clock.today()):
                db.session.refresh(offer, ["status", "used", "valid_from", "valid_until", "whole_street"])
                raise why_not(offer, community, clock.today()) or Conflict(
                    _l("This offer's capacity is used up."), code="offer_full"
                )
            match = SupplyMatch(
                need_id=need.id,
                offer_id=offer.id,
                status=MatchStatus.ACCEPTED,
                outcome=data.outcome,
                org_description=text,
                decided_by_id=actor.id,
            )
            if data.outcome is MatchOutcome.TASK:
                match.task_id = _post_task(actor, need, offer, data, text).id
            else:
                match.measure_id = _record_measure(actor, need, household, offer, text).id
            db.session.add(match)
            db.session.flush()
            audit.record(
                actor, "accept", "supply_match", match.id, household=household, note=f"offer {offer.id}"
            )
    except IntegrityError:  # decided by a colleague at the same moment
        raise _already_decided() from None
    return match


def _post_task(actor, need: Need, offer: SupplyOffer, data: AcceptData, text: str) -> Task:
    task = tasks.new_task(
        actor,
        tasks.TaskData(
            household_id=need.household_id,
            service_type_code=need.service_type_code,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            description=text,
            slots=1,
            urgency=need.urgency,
            need_id=need.id,
        ),
    )
    task.partner_id = offer.partner_id
    db.session.flush()
    return task


def _record_measure(actor, need: Need, household: Household, offer: SupplyOffer, text: str) -> Measure:
    measure = Measure(
        household_id=household.id,
        need_id=need.id,
        kind=MeasureKind.MEASURE,
        description=f"{offer.partner.name} · {text}"[:500],
        on=clock.today(),
        recorded_by_id=actor.id,
    )
    db.session.add(measure)
    db.session.flush()
    audit.record(actor, "create", MeasureKind.MEASURE.value, measure.id, household=household)
    return measure


def decline_match(actor, need_id, offer_id, reason) -> SupplyMatch:
    """Hide an offer for a need, with the reason; audit-logged; commit.

    Raises Forbidden, NotFound, InvalidInput `invalid_text`, Conflict `already_decided`.
    """
    need, household, community = need_in_scope(actor, need_id)
    offer = offer_for_need(need, community, offer_id)
    reason = _text(reason, "reason")
    match = SupplyMatch(
        need_id=need.id, offer_id=offer.id, status=MatchStatus.DECLINED, reason=reason, decided_by_id=actor.id
    )
    try:
        with atomic():
            db.session.add(match)
            db.session.flush()
            audit.record(
                actor, "decline", "supply_match", match.id, household=household, note=f"offer {offer.id}"
            )
    except IntegrityError:
        raise _already_decided() from None
    return match

"""Accepting or declining a suggested offer for a need, and what the
organisation then sees.

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

The organisation sees, for its accepted matches, only the service, the
community's name, the description staff wrote for it when accepting, and
dates: never the household's name, address, ID, phone, income or illness.
"""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app import clock
from app.extensions import db
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
    ServiceType,
    SupplyMatch,
    SupplyOffer,
    Task,
    TaskStatus,
)
from app.services import audit, tasks
from app.services.errors import Conflict, InvalidInput
from app.services.supply import desk_partner
from app.services.supply_matching import (
    default_org_description,
    need_in_scope,
    offer_for_need,
    why_not,
)
from app.services.tx import atomic

MAX_TEXT = 300


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


# --- what the organisation sees ---------------------------------------------------------------


@dataclass(frozen=True)
class OrgMatch:
    """An accepted match as its organisation sees it: no household details at all."""

    match_id: int
    offer_id: int
    service: ServiceType
    community: str
    description: str  # written by staff for the organisation
    outcome: MatchOutcome
    accepted_at: datetime
    task_starts_at: datetime | None
    task_ends_at: datetime | None
    task_status: TaskStatus | None
    measure_on: date | None


@dataclass
class Page:
    """A page of rows with what the pager macro needs."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def org_matches(actor, partner_id, page: int = 1, per_page: int = 20) -> Page:
    """The accepted matches of the organisation's offers, newest first.

    Only the columns of OrgMatch are read: the household's row is joined to
    find the community and nothing of it is selected.
    """
    partner = desk_partner(actor, partner_id)
    page = page if isinstance(page, int) and page > 0 else 1
    where = (
        SupplyOffer.partner_id == partner.id,
        SupplyMatch.status == MatchStatus.ACCEPTED,
    )
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(SupplyMatch).join(SupplyOffer).where(*where)
    )
    measures = sa.orm.aliased(Measure)
    rows = db.session.execute(
        sa.select(
            SupplyMatch.id,
            SupplyMatch.offer_id,
            ServiceType,
            Community.name,
            SupplyMatch.org_description,
            SupplyMatch.outcome,
            SupplyMatch.decided_at,
            Task.starts_at,
            Task.ends_at,
            Task.status,
            measures.on,
        )
        .join(SupplyOffer, SupplyOffer.id == SupplyMatch.offer_id)
        .join(ServiceType, ServiceType.code == SupplyOffer.service_type_code)
        .join(Need, Need.id == SupplyMatch.need_id)
        .join(Household, Household.id == Need.household_id)
        .join(Grid, Grid.id == Household.grid_id)
        .join(Community, Community.id == Grid.community_id)
        .outerjoin(Task, Task.id == SupplyMatch.task_id)
        .outerjoin(measures, measures.id == SupplyMatch.measure_id)
        .where(*where)
        .order_by(SupplyMatch.decided_at.desc(), SupplyMatch.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page([OrgMatch(*row) for row in rows], page, per_page, total)

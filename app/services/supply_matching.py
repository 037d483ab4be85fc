"""Matching the supply list to a community's needs (供需对接, seed 000):
which offers and volunteers to suggest for each open need, and why.

An offer is suggested for an open need when
  - it offers the need's service type;
  - it covers the need's community: its whole street, or that community;
  - its period covers today (local dates, both ends included);
  - it has capacity left (used < capacity), is published and its
    organisation is active;
  - staff have not already accepted or declined it for this need.
Each suggestion carries its reasons, e.g. "同类服务 · 覆盖本社区 · 余量 3/10
· 有效期至 2026-05-31". Offers for the community itself come before
street-wide ones, then the one ending soonest (use it before it lapses),
then the one with most left, then the oldest offer (lower id).

Needs are listed most urgent first, then oldest first (then by id), a page
at a time; the whole page takes a fixed number of queries, however many
needs, offers and volunteers there are. Volunteer suggestions are in
supply_volunteers.py.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager

from app import clock
from app.auth_scope import grid_ids, is_valid_id, require_role, scope_of
from app.extensions import db
from app.models import (
    Community,
    Grid,
    Household,
    HouseholdStatus,
    MatchOutcome,
    MatchStatus,
    Need,
    NeedStatus,
    OfferCommunity,
    OfferStatus,
    Partner,
    PartnerKind,
    ServiceType,
    SupplyMatch,
    SupplyOffer,
    Task,
    TaskStatus,
    Urgency,
)
from app.services.errors import NotFound
from app.services.households import LEDGER_READERS
from app.services.supply_volunteers import NeedSpec, suggest_for_needs

PER_PAGE = 20
OFFERS_PER_NEED = 5
URGENCY_ORDER = sa.case(
    {Urgency.CRITICAL.name: 0, Urgency.URGENT.name: 1, Urgency.NORMAL.name: 2},
    value=sa.cast(Need.urgency, sa.String),
)


@dataclass
class OfferSuggestion:
    """An offer that fits a need, with the reasons it fits (lazy strings, shown joined by " · ")."""

    offer_id: int
    partner_name: str
    partner_kind: PartnerKind
    description: str
    left: int
    capacity: int
    valid_until: date
    local: bool  # covers this community by name, not as part of the whole street
    reasons: list = field(default_factory=list)


@dataclass
class Decision:
    """What staff decided on an offer for a need, as listed under the need."""

    offer_id: int
    partner_name: str
    status: MatchStatus
    outcome: MatchOutcome | None
    task_id: int | None
    reason: str
    decided_at: datetime


@dataclass
class NeedCard:
    """One open need with what could meet it."""

    need: Need  # household and its grid loaded
    service: ServiceType
    task: Task | None  # the soonest open task already posted for it
    offers: list[OfferSuggestion] = field(default_factory=list)
    volunteers: list = field(default_factory=list)  # matching.Suggestion
    decisions: list[Decision] = field(default_factory=list)


def offer_reasons(offer: SupplyOffer, local: bool) -> list:
    """Why an offer fits: same service, the area it covers, what is left, until when."""
    return [
        _l("Same service"),
        _l("Covers this community") if local else _l("Covers the whole street"),
        _l("%(left)d of %(capacity)d left", left=offer.capacity - offer.used, capacity=offer.capacity),
        _l("Valid until %(date)s", date=offer.valid_until.isoformat()),
    ]


def offer_order(suggestion: OfferSuggestion) -> tuple:
    """The order of a need's offers (module docstring)."""
    return (not suggestion.local, suggestion.valid_until, -suggestion.left, suggestion.offer_id)


# --- the community and its needs ---------------------------------------------------------


def get_community(actor, community_id) -> Community:
    """A community with at least one grid in the actor's scope; NotFound otherwise.

    A grid worker sees their own grid's part of it, a community worker all of
    it, a street officer every community of the street.
    """
    require_role(actor, *LEDGER_READERS)
    community = None
    if is_valid_id(community_id):
        in_scope = sa.select(Grid.community_id).where(Grid.id.in_(grid_ids(scope_of(actor))))
        community = db.session.scalar(
            sa.select(Community).where(Community.id == community_id, Community.id.in_(in_scope))
        )
    if community is None:
        raise NotFound()
    return community


def communities_in_scope(actor) -> list[tuple[Community, int]]:
    """The communities the actor sees needs in, each with its number of open
    needs in the actor's scope (households in the registry only)."""
    require_role(actor, *LEDGER_READERS)
    grids = grid_ids(scope_of(actor))
    open_needs = (
        sa.select(sa.func.count(Need.id))
        .join(Household, Household.id == Need.household_id)
        .join(Grid, Grid.id == Household.grid_id)
        .where(
            Grid.community_id == Community.id,
            Grid.id.in_(grids),
            Need.status == NeedStatus.OPEN,
            Household.status == HouseholdStatus.ACTIVE,
        )
        .correlate(Community)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Community, open_needs)
        .where(Community.id.in_(sa.select(Grid.community_id).where(Grid.id.in_(grids))))
        .order_by(Community.id)
    )
    return [(community, count) for community, count in rows]


def open_needs_stmt(actor, community: Community) -> sa.Select:
    """The open needs of the community's households in the registry that the
    actor may see, household and grid loaded, in the order of the module docstring."""
    return (
        sa.select(Need)
        .join(Household, Household.id == Need.household_id)
        .join(Grid, Grid.id == Household.grid_id)
        .where(
            Grid.community_id == community.id,
            Grid.id.in_(grid_ids(scope_of(actor))),
            Need.status == NeedStatus.OPEN,
            Household.status == HouseholdStatus.ACTIVE,
        )
        .options(contains_eager(Need.household).contains_eager(Household.grid))
        .order_by(URGENCY_ORDER, Need.created_at, Need.id)
    )


def covers(community: Community):
    """A WHERE clause: the offer covers this community (its whole street, or by name)."""
    by_name = sa.exists().where(
        OfferCommunity.offer_id == SupplyOffer.id, OfferCommunity.community_id == community.id
    )
    return (SupplyOffer.whole_street & (Partner.street_id == community.street_id)) | (
        ~SupplyOffer.whole_street & by_name
    )


def usable(today: date):
    """A WHERE clause: published, in its period today, capacity left, organisation active."""
    return sa.and_(
        SupplyOffer.status == OfferStatus.ACTIVE,
        SupplyOffer.valid_from <= today,
        SupplyOffer.valid_until >= today,
        SupplyOffer.used < SupplyOffer.capacity,
        Partner.active.is_(True),
    )


def _offers_for(community: Community, codes: set[str], today: date) -> dict[str, list[OfferSuggestion]]:
    """Usable offers covering the community, by service type, each with its reasons."""
    rows = db.session.execute(
        sa.select(SupplyOffer, Partner.name, Partner.kind)
        .join(Partner, Partner.id == SupplyOffer.partner_id)
        .where(SupplyOffer.service_type_code.in_(codes), usable(today), covers(community))
    )
    found: dict[str, list[OfferSuggestion]] = {}
    for offer, name, kind in rows:
        local = not offer.whole_street
        found.setdefault(offer.service_type_code, []).append(
            OfferSuggestion(
                offer_id=offer.id,
                partner_name=name,
                partner_kind=kind,
                description=offer.description,
                left=offer.capacity - offer.used,
                capacity=offer.capacity,
                valid_until=offer.valid_until,
                local=local,
                reasons=offer_reasons(offer, local),
            )
        )
    return found


def _decisions_for(need_ids: list[int]) -> dict[int, list[Decision]]:
    rows = db.session.execute(
        sa.select(SupplyMatch, Partner.name)
        .join(SupplyOffer, SupplyOffer.id == SupplyMatch.offer_id)
        .join(Partner, Partner.id == SupplyOffer.partner_id)
        .where(SupplyMatch.need_id.in_(need_ids))
        .order_by(SupplyMatch.decided_at, SupplyMatch.id)
    )
    found: dict[int, list[Decision]] = {}
    for match, name in rows:
        found.setdefault(match.need_id, []).append(
            Decision(
                match.offer_id,
                name,
                match.status,
                match.outcome,
                match.task_id,
                match.reason,
                match.decided_at,
            )
        )
    return found


def _open_tasks_for(need_ids: list[int]) -> dict[int, Task]:
    """The soonest open task that has not started for each need that has one."""
    rows = db.session.scalars(
        sa.select(Task)
        .where(Task.need_id.in_(need_ids), Task.status == TaskStatus.OPEN, Task.starts_at > clock.now())
        .order_by(Task.starts_at, Task.id)
    )
    found: dict[int, Task] = {}
    for task in rows:
        found.setdefault(task.need_id, task)
    return found


def community_needs(actor, community_id, page: int = 1, per_page: int = PER_PAGE):
    """The community page (需求与供给): (community, pagination of the open needs,
    one NeedCard per need on the page). Raises Forbidden and NotFound.

    Queries: the community, the page (count and rows), the service catalogue,
    tasks, offers, decisions, and supply_volunteers' fixed set — however many
    needs, offers or volunteers.
    """
    community = get_community(actor, community_id)
    pagination = db.paginate(open_needs_stmt(actor, community), page=page, per_page=per_page, error_out=False)
    needs = list(pagination.items)
    services = {s.code: s for s in db.session.scalars(sa.select(ServiceType))}
    ids = [n.id for n in needs]
    tasks = _open_tasks_for(ids)
    offers = _offers_for(community, {n.service_type_code for n in needs}, clock.today())
    decisions = _decisions_for(ids)
    specs = [
        NeedSpec(
            need_id=n.id,
            household_id=n.household_id,
            grid_id=n.household.grid_id,
            skill_code=services[n.service_type_code].skill_code,
            task=tasks.get(n.id),
            task_skill_code=services[tasks[n.id].service_type_code].skill_code if n.id in tasks else None,
        )
        for n in needs
    ]
    volunteers = suggest_for_needs(community.id, specs)
    cards = []
    for need in needs:
        decided = {d.offer_id for d in decisions.get(need.id, [])}
        fitting = [o for o in offers.get(need.service_type_code, []) if o.offer_id not in decided]
        cards.append(
            NeedCard(
                need=need,
                service=services[need.service_type_code],
                task=tasks.get(need.id),
                offers=sorted(fitting, key=offer_order)[:OFFERS_PER_NEED],
                volunteers=volunteers.get(need.id, []),
                decisions=decisions.get(need.id, []),
            )
        )
    return community, pagination, cards

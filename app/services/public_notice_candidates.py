"""What a public notice (公示) of a community could list for a period: the
candidates staff choose from.

- newly assisted (新纳入帮扶): households of the community with a category
  approved (审批) in the period and still approved, or whose first measure
  (帮扶措施) was taken in the period; dated by the first of these;
- exited (退出): households that left the registry in the period;
- services (邻里服务): confirmed visits in the period whose points were not
  reversed (a visit found false is no service), counted per service type,
  with the number of households they reached.

A candidate carries only what may be shown publicly: the householder's name
masked by the one rule (services.privacy.mask_name), category and service
codes, dates and counts. Every list is read in a fixed number of queries,
however many households the community has.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    ApprovalAction,
    ApprovalStep,
    Category,
    CategoryAssignment,
    CategoryStatus,
    Claim,
    Grid,
    Household,
    HouseholdEvent,
    HouseholdEventKind,
    Measure,
    MeasureKind,
    Member,
    Need,
    NeedStatus,
    NoticeItemKind,
    Relation,
    ServiceType,
    Task,
)
from app.services.casework import approved_categories
from app.services.notice_board import _confirmed_in
from app.services.privacy import mask_name


@dataclass(frozen=True)
class Candidate:
    """One line a notice may publish; `ref` identifies its source within the period."""

    ref: str
    kind: NoticeItemKind
    household_id: int | None = None
    service_type_code: str | None = None
    masked_name: str = ""
    categories: tuple[str, ...] = ()  # Category values
    services: tuple[str, ...] = ()  # ServiceType codes
    on: date | None = None
    visits: int | None = None
    households: int | None = None


def period_bounds(start: date, end: date):
    """The aware UTC [from, to) of the local days start to end, inclusive."""
    return clock.local_day_bounds(start)[0], clock.local_day_bounds(end)[1]


def candidates(community_id: int, start: date, end: date) -> list[Candidate]:
    """Every candidate of the community for the period: assisted, exited, then services."""
    assisted = _assisted(community_id, start, end)
    exited = _exited(community_id, start, end)
    names = _masked_heads(set(assisted) | set(exited))
    approved = approved_categories(list(assisted)) if assisted else {}
    needs = _need_services(list(assisted))
    out = []
    for household_id, (on, categories) in sorted(assisted.items(), key=lambda kv: (kv[1][0], kv[0])):
        shown = categories or approved.get(household_id, set())
        out.append(
            Candidate(
                ref=f"assisted:{household_id}",
                kind=NoticeItemKind.ASSISTED,
                household_id=household_id,
                masked_name=names.get(household_id, ""),
                categories=_in_order(shown),
                services=tuple(needs.get(household_id, ())),
                on=on,
            )
        )
    for household_id, (on, categories) in sorted(exited.items(), key=lambda kv: (kv[1][0], kv[0])):
        out.append(
            Candidate(
                ref=f"exited:{household_id}",
                kind=NoticeItemKind.EXITED,
                household_id=household_id,
                masked_name=names.get(household_id, ""),
                categories=_in_order(categories),
                on=on,
            )
        )
    out.extend(_services(community_id, start, end))
    return out


def _in_order(categories) -> tuple[str, ...]:
    """Category codes in the order the catalogue declares them (低保 before 特困 …)."""
    return tuple(c.value for c in Category if c in categories)


def _in_community(community_id: int):
    """WHERE clause on Household: its grid is in the community."""
    return Household.grid_id.in_(sa.select(Grid.id).where(Grid.community_id == community_id))


def _assisted(community_id: int, start: date, end: date) -> dict[int, tuple[date, set]]:
    """household id → (first day assisted in the period, categories approved in it)."""
    lo, hi = period_bounds(start, end)
    found: dict[int, tuple[date, set]] = {}
    approvals = db.session.execute(
        sa.select(CategoryAssignment.household_id, CategoryAssignment.category, ApprovalStep.at)
        .join(ApprovalStep, ApprovalStep.assignment_id == CategoryAssignment.id)
        .join(Household, Household.id == CategoryAssignment.household_id)
        .where(
            _in_community(community_id),
            ApprovalStep.action == ApprovalAction.APPROVE,
            ApprovalStep.at >= lo,
            ApprovalStep.at < hi,
            CategoryAssignment.status == CategoryStatus.APPROVED,
        )
    )
    for household_id, category, at in approvals:
        day = clock.local_date(at)
        first, categories = found.get(household_id, (day, set()))
        found[household_id] = (min(first, day), categories | {category})
    first_on = sa.func.min(Measure.on)
    measures = db.session.execute(
        sa.select(Measure.household_id, first_on)
        .join(Household, Household.id == Measure.household_id)
        .where(_in_community(community_id), Measure.kind == MeasureKind.MEASURE)
        .group_by(Measure.household_id)
        .having(first_on >= start, first_on <= end)
    )
    for household_id, day in measures:
        first, categories = found.get(household_id, (day, set()))
        found[household_id] = (min(first, day), categories)
    return found


def _exited(community_id: int, start: date, end: date) -> dict[int, tuple[date, set]]:
    """household id → (first exit in the period, categories revoked since the period began)."""
    first_on = sa.func.min(HouseholdEvent.on)
    rows = db.session.execute(
        sa.select(HouseholdEvent.household_id, first_on)
        .join(Household, Household.id == HouseholdEvent.household_id)
        .where(
            _in_community(community_id),
            HouseholdEvent.kind == HouseholdEventKind.EXITED,
            HouseholdEvent.on >= start,
            HouseholdEvent.on <= end,
        )
        .group_by(HouseholdEvent.household_id)
    ).all()
    found = {household_id: (day, set()) for household_id, day in rows}
    if found:
        revoked = db.session.execute(
            sa.select(CategoryAssignment.household_id, CategoryAssignment.category)
            .join(ApprovalStep, ApprovalStep.assignment_id == CategoryAssignment.id)
            .where(
                CategoryAssignment.household_id.in_(list(found)),
                ApprovalStep.action == ApprovalAction.REVOKE,
                ApprovalStep.at >= period_bounds(start, end)[0],
            )
        )
        for household_id, category in revoked:
            found[household_id][1].add(category)
    return found


def _masked_heads(household_ids: set[int]) -> dict[int, str]:
    """household id → the householder's name, masked."""
    if not household_ids:
        return {}
    rows = db.session.execute(
        sa.select(Member.household_id, Member.name).where(
            Member.household_id.in_(list(household_ids)), Member.relation == Relation.HEAD
        )
    )
    return {household_id: mask_name(name) for household_id, name in rows}


def _need_services(household_ids: list[int]) -> dict[int, list[str]]:
    """household id → the service codes of its needs not closed, in catalogue order."""
    if not household_ids:
        return {}
    rows = db.session.execute(
        sa.select(Need.household_id, Need.service_type_code)
        .join(ServiceType, ServiceType.code == Need.service_type_code)
        .where(Need.household_id.in_(household_ids), Need.status != NeedStatus.CLOSED)
        .order_by(Need.household_id, ServiceType.position, ServiceType.code)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for household_id, code in rows:
        if code not in found[household_id]:
            found[household_id].append(code)
    return found


def _services(community_id: int, start: date, end: date) -> list[Candidate]:
    lo, hi = period_bounds(start, end)
    rows = db.session.execute(
        _confirmed_in(community_id)
        .add_columns(
            Task.service_type_code,
            sa.func.count(Claim.id),
            sa.func.count(sa.distinct(Task.household_id)),
        )
        .join(ServiceType, ServiceType.code == Task.service_type_code)
        .where(Claim.confirmed_at >= lo, Claim.confirmed_at < hi)
        .group_by(Task.service_type_code, ServiceType.position)
        .order_by(ServiceType.position, Task.service_type_code)
    )
    return [
        Candidate(
            ref=f"services:{code}",
            kind=NoticeItemKind.SERVICES,
            service_type_code=code,
            services=(code,),
            visits=int(visits),
            households=int(households),
        )
        for code, visits, households in rows
    ]

"""What a partner organisation sees of its accepted matches (supply_decisions.py):
the service, the community's name, the description staff wrote for it, the
dates — never the household's name, address, ID, phone, income or illness.
Only those columns are read from the database, so a page cannot show more.
"""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.extensions import MAX_PAGE, db
from app.models import (
    Community,
    Grid,
    Household,
    MatchOutcome,
    MatchStatus,
    Measure,
    Need,
    ServiceType,
    SupplyMatch,
    SupplyOffer,
    Task,
    TaskStatus,
)
from app.services.supply import desk_partner


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
    page = min(page, MAX_PAGE) if isinstance(page, int) and page > 0 else 1  # past MAX_PAGE: empty
    where = (
        SupplyOffer.partner_id == partner.id,
        SupplyMatch.status == MatchStatus.ACCEPTED,
    )
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(SupplyMatch).join(SupplyOffer).where(*where)
    )
    measures = aliased(Measure)
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

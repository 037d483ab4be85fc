"""Early warnings (预警) on households, reviews due, and the urgency score of needs.

Warnings are computed from the ledger when asked, never stored, so they can
never disagree with it. A grid worker's list shows every active household
with at least one warning, most urgent first.
"""

import enum
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app import clock
from app.auth_scope import require_role, scoped
from app.extensions import db
from app.models import (
    Category,
    Household,
    HouseholdEventKind,
    HouseholdStatus,
    Measure,
    MeasureKind,
    Member,
    Need,
    NeedStatus,
    Urgency,
)
from app.services.casework import approved_categories
from app.services.households import LEDGER_READERS, get_household

NO_SERVICE_DAYS = 90


class WarningKind(enum.Enum):
    ELDERLY_ALONE_80 = "elderly_alone_80"
    SERIOUS_ILLNESS = "serious_illness"
    SEVERE_DISABILITY = "severe_disability"
    CHILD_IN_DIFFICULTY = "child_in_difficulty"
    REVIEW_OVERDUE = "review_overdue"
    NO_SERVICE_90_DAYS = "no_service_90_days"

    @property
    def label(self) -> str:
        return str(WARNING_LABELS[self])


WARNING_LABELS = {
    WarningKind.ELDERLY_ALONE_80: _l("Aged 80+ and living alone"),
    WarningKind.SERIOUS_ILLNESS: _l("Serious illness"),
    WarningKind.SEVERE_DISABILITY: _l("Severe disability"),
    WarningKind.CHILD_IN_DIFFICULTY: _l("Child in difficulty"),
    WarningKind.REVIEW_OVERDUE: _l("Review overdue"),
    WarningKind.NO_SERVICE_90_DAYS: _l("No service in 90 days"),
}

# The urgency score of a need (higher is more urgent):
#   score = URGENCY_BASE[need.urgency]
#         + Σ WARNING_WEIGHT[w] for each warning w on the household
#         + min(weeks the need has been open, 10)
# so a critical need outranks anything short of several warnings, a warning
# about a frail person outranks an overdue review, and an old need slowly
# rises instead of being forgotten.
URGENCY_BASE = {Urgency.NORMAL: 10, Urgency.URGENT: 30, Urgency.CRITICAL: 50}
WARNING_WEIGHT = {
    WarningKind.ELDERLY_ALONE_80: 20,
    WarningKind.SERIOUS_ILLNESS: 15,
    WarningKind.SEVERE_DISABILITY: 15,
    WarningKind.CHILD_IN_DIFFICULTY: 15,
    WarningKind.REVIEW_OVERDUE: 5,
    WarningKind.NO_SERVICE_90_DAYS: 10,
}
MAX_WAITING_WEEKS = 10


def urgency_score(urgency: Urgency, warnings, opened_on: date, today: date) -> int:
    """The score above for one need."""
    weeks_open = max((today - opened_on).days, 0) // 7
    return (
        URGENCY_BASE[urgency]
        + sum(WARNING_WEIGHT[w] for w in set(warnings))
        + min(weeks_open, MAX_WAITING_WEEKS)
    )


def last_service_dates(household_ids) -> dict[int, date]:
    """The last day each household was served (a measure taken), one query."""
    rows = db.session.execute(
        sa.select(Measure.household_id, sa.func.max(Measure.on))
        .where(Measure.household_id.in_(household_ids), Measure.kind == MeasureKind.MEASURE)
        .group_by(Measure.household_id)
    )
    return dict(rows.all())


def household_warnings(
    household: Household, today: date, categories: set[Category], last_service: date | None
) -> list[WarningKind]:
    """The warnings on one household (members and events loaded)."""
    if household.status is not HouseholdStatus.ACTIVE:
        return []
    found = []
    ages = [m.age_on(today) for m in household.members]
    if household.lives_alone and any(age is not None and age >= 80 for age in ages):
        found.append(WarningKind.ELDERLY_ALONE_80)
    if any(m.serious_illness for m in household.members):
        found.append(WarningKind.SERIOUS_ILLNESS)
    if any(m.disability_grade in (1, 2) for m in household.members):
        found.append(WarningKind.SEVERE_DISABILITY)
    if categories & {Category.ORPHAN, Category.CHILD_IN_DIFFICULTY}:
        found.append(WarningKind.CHILD_IN_DIFFICULTY)
    if household.next_review_on is not None and household.next_review_on < today:
        found.append(WarningKind.REVIEW_OVERDUE)
    entered = max((e.on for e in household.events if e.kind is not HouseholdEventKind.EXITED), default=None)
    since = max(
        day for day in (last_service, entered, clock.local_date(household.created_at)) if day is not None
    )
    if (today - since).days >= NO_SERVICE_DAYS:
        found.append(WarningKind.NO_SERVICE_90_DAYS)
    return found


@dataclass(frozen=True)
class WarningRow:
    household: Household
    warnings: list[WarningKind]

    @property
    def score(self) -> int:
        return sum(WARNING_WEIGHT[w] for w in self.warnings)


def _active_households(actor) -> list[Household]:
    stmt = scoped(sa.select(Household), Household, actor).where(Household.status == HouseholdStatus.ACTIVE)
    stmt = stmt.options(
        selectinload(Household.members).defer(Member.id_number, raiseload=True),  # not shown: not decrypted
        selectinload(Household.events),
        selectinload(Household.grid),
    )
    return list(db.session.scalars(stmt.order_by(Household.id)))


def warnings_by_household(households: list[Household], today: date) -> dict[int, list[WarningKind]]:
    """Warnings for each household (members and events loaded), in three queries."""
    ids = [h.id for h in households]
    categories = approved_categories(ids)
    served = last_service_dates(ids)
    return {
        h.id: household_warnings(h, today, categories.get(h.id, set()), served.get(h.id)) for h in households
    }


def warning_list(actor, today: date) -> list[WarningRow]:
    """Every active household in the actor's scope with a warning, most serious first."""
    require_role(actor, *LEDGER_READERS)
    households = _active_households(actor)
    found = warnings_by_household(households, today)
    rows = [WarningRow(h, found[h.id]) for h in households if found[h.id]]
    return sorted(rows, key=lambda row: (-row.score, row.household.id))


@dataclass(frozen=True)
class ReviewsDue:
    overdue: list[Household]
    this_week: list[Household]


def reviews_due(actor, today: date) -> ReviewsDue:
    """Active households whose review is overdue, and those due within 7 days."""
    require_role(actor, *LEDGER_READERS)
    stmt = (
        scoped(sa.select(Household), Household, actor)
        .where(
            Household.status == HouseholdStatus.ACTIVE, Household.next_review_on <= today + timedelta(days=7)
        )
        .options(selectinload(Household.members), selectinload(Household.grid))
        .order_by(Household.next_review_on, Household.id)
    )
    households = list(db.session.scalars(stmt))
    return ReviewsDue(
        overdue=[h for h in households if h.next_review_on < today],
        this_week=[h for h in households if h.next_review_on >= today],
    )


@dataclass(frozen=True)
class ScoredNeed:
    need: Need
    score: int | None  # None once the need is met or closed
    warnings: list[WarningKind]


def open_needs(actor, today: date, household_id: int | None = None) -> list[ScoredNeed]:
    """Open needs in the actor's scope, with their urgency score, highest first."""
    require_role(actor, *LEDGER_READERS)
    households = scoped(sa.select(Household.id), Household, actor)
    stmt = (
        sa.select(Need)
        .join(Household, Household.id == Need.household_id)
        .where(
            Need.status == NeedStatus.OPEN,
            Need.household_id.in_(households),
            Household.status == HouseholdStatus.ACTIVE,
        )
        .options(
            selectinload(Need.service_type),
            selectinload(Need.household).selectinload(Household.members),
            selectinload(Need.household).selectinload(Household.events),
        )
    )
    if household_id is not None:
        stmt = stmt.where(Need.household_id == household_id)
    needs = list(db.session.scalars(stmt))
    found = warnings_by_household(list({n.household_id: n.household for n in needs}.values()), today)
    scored = [
        ScoredNeed(
            n,
            urgency_score(n.urgency, found[n.household_id], clock.local_date(n.created_at), today),
            found[n.household_id],
        )
        for n in needs
    ]
    return sorted(scored, key=lambda s: (-s.score, s.need.created_at, s.need.id))


def household_needs(actor, household_id: int, today: date) -> list[ScoredNeed]:
    """Every need of a household the actor may read: the open ones first, most
    urgent first, with their score; then the met and closed ones, last closed
    first, without a score. NotFound outside the actor's scope."""
    household = get_household(actor, household_id, options=(selectinload(Household.grid),))
    done = db.session.scalars(
        sa.select(Need)
        .where(Need.household_id == household.id, Need.status != NeedStatus.OPEN)
        .options(selectinload(Need.service_type))
        .order_by(Need.closed_at.desc(), Need.id.desc())
    )
    return open_needs(actor, today, household_id=household.id) + [ScoredNeed(n, None, []) for n in done]

"""Dashboard figures about households (台账): categories, entries and exits,
needs, reviews and warnings. Each function runs a fixed number of aggregate
statements (GROUP BY, window functions, EXISTS), whatever the number of rows,
and returns plain data (ids, codes and numbers) that can be cached as JSON.

Definitions (also stated on the page):
- A household *holds a category at the end of the period* when an
  assignment of it was approved (审批 step) before the period's end and not
  revoked before then. *Approved in the period*: households with an approval
  step of that category in the period; *ended*: with a revocation (a revoke
  step, also made when the household leaves the registry).
- *In the registry at the end*: households whose last entry/exit event on or
  before the last day is an entry (ENTERED or REENTERED). *Entered* and
  *exited*: households with such an event dated in the period.
- Needs: *opened* in the period (recorded then); *met* and *closed* (no
  longer needed) in the period; *open at the end*: recorded before the end
  and not closed by then.
- Reviews (复审) *done*: dated in the period, by outcome. Warnings and
  overdue reviews are *now* (today), by the rules of app/services/warnings.py.
"""

from datetime import date, timedelta

import sqlalchemy as sa

from app import clock
from app.auth_scope import Scope
from app.extensions import db
from app.models import (
    ApprovalAction,
    ApprovalStep,
    Category,
    CategoryAssignment,
    CategoryStatus,
    Household,
    HouseholdEvent,
    HouseholdEventKind,
    HouseholdStatus,
    Measure,
    MeasureKind,
    Member,
    Need,
    NeedStatus,
    Review,
)
from app.services.dashboard_period import Period
from app.services.dashboard_sql import in_grids
from app.services.warnings import NO_SERVICE_DAYS, WarningKind

ELDERLY_AGE = 80


def _count_if(condition) -> sa.ColumnElement:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


# --- households and categories -----------------------------------------------------


def households(scope: Scope, period: Period) -> dict:
    """Categories held at the end, approved and ended in the period; the
    registry at the end, entries and exits (four statements)."""
    in_scope = in_grids(Household.grid_id, scope)
    step = sa.orm.aliased(ApprovalStep)

    def step_before_end(action: ApprovalAction):
        return sa.exists().where(
            step.assignment_id == CategoryAssignment.id, step.action == action, step.at < period.end
        )

    held = db.session.execute(
        sa.select(CategoryAssignment.category, sa.func.count(sa.distinct(CategoryAssignment.household_id)))
        .join(Household, Household.id == CategoryAssignment.household_id)
        .where(in_scope, step_before_end(ApprovalAction.APPROVE), ~step_before_end(ApprovalAction.REVOKE))
        .group_by(CategoryAssignment.category)
    ).all()
    moved = db.session.execute(
        sa.select(
            CategoryAssignment.category,
            ApprovalStep.action,
            sa.func.count(sa.distinct(CategoryAssignment.household_id)),
        )
        .join(CategoryAssignment, CategoryAssignment.id == ApprovalStep.assignment_id)
        .join(Household, Household.id == CategoryAssignment.household_id)
        .where(
            in_scope,
            ApprovalStep.action.in_((ApprovalAction.APPROVE, ApprovalAction.REVOKE)),
            ApprovalStep.at >= period.start,
            ApprovalStep.at < period.end,
        )
        .group_by(CategoryAssignment.category, ApprovalStep.action)
    ).all()
    categories = {c.value: {"held": 0, "approved": 0, "ended": 0} for c in Category}
    for category, count in held:
        categories[category.value]["held"] = count
    for category, action, count in moved:
        categories[category.value]["approved" if action is ApprovalAction.APPROVE else "ended"] = count
    return {"categories": categories, **_registry(in_scope, period)}


def _registry(in_scope, period: Period) -> dict:
    exited = HouseholdEvent.kind == HouseholdEventKind.EXITED
    direction = sa.case((exited, "out"), else_="in")
    moves = dict(
        db.session.execute(
            sa.select(direction, sa.func.count(sa.distinct(HouseholdEvent.household_id)))
            .join(Household, Household.id == HouseholdEvent.household_id)
            .where(in_scope, HouseholdEvent.on >= period.first, HouseholdEvent.on <= period.last)
            .group_by(direction)
        ).all()
    )
    latest = (
        sa.select(
            HouseholdEvent.kind.label("kind"),
            sa.func.row_number()
            .over(
                partition_by=HouseholdEvent.household_id,
                order_by=(HouseholdEvent.on.desc(), HouseholdEvent.id.desc()),
            )
            .label("n"),
        )
        .join(Household, Household.id == HouseholdEvent.household_id)
        .where(in_scope, HouseholdEvent.on <= period.last)
        .subquery()
    )
    in_registry = db.session.scalar(
        sa.select(sa.func.count()).where(latest.c.n == 1, latest.c.kind != HouseholdEventKind.EXITED)
    )
    return {"in_registry": in_registry or 0, "entered": moves.get("in", 0), "exited": moves.get("out", 0)}


# --- needs ---------------------------------------------------------------------------


def needs(scope: Scope, period: Period) -> dict[str, dict]:
    """Per service type: needs opened, met, closed in the period, and open at its end (one statement)."""
    closed_in_period = sa.and_(Need.closed_at >= period.start, Need.closed_at < period.end)
    rows = db.session.execute(
        sa.select(
            Need.service_type_code,
            _count_if(Need.created_at >= period.start),
            _count_if(sa.and_(Need.status == NeedStatus.MET, closed_in_period)),
            _count_if(sa.and_(Need.status == NeedStatus.CLOSED, closed_in_period)),
            _count_if(sa.or_(Need.status == NeedStatus.OPEN, Need.closed_at >= period.end)),
        )
        .join(Household, Household.id == Need.household_id)
        .where(in_grids(Household.grid_id, scope), Need.created_at < period.end)
        .group_by(Need.service_type_code)
    ).all()
    return {
        code: {"opened": int(opened), "met": int(met), "closed": int(closed), "open_at_end": int(still_open)}
        for code, opened, met, closed, still_open in rows
    }


# --- reviews and warnings ------------------------------------------------------------


def reviews(scope: Scope, period: Period) -> dict[str, int]:
    """Reviews (复审) dated in the period, by outcome (one statement)."""
    rows = db.session.execute(
        sa.select(Review.outcome, sa.func.count(Review.id))
        .join(Household, Household.id == Review.household_id)
        .where(
            in_grids(Household.grid_id, scope),
            Review.reviewed_on >= period.first,
            Review.reviewed_on <= period.last,
        )
        .group_by(Review.outcome)
    ).all()
    return {outcome.value: count for outcome, count in rows}


def years_before(day: date, years: int) -> date:
    """The last birth date of someone aged at least `years` on `day` (29 February → 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def warning_conditions(today: date) -> dict[WarningKind, sa.ColumnElement]:
    """The warnings of app/services/warnings.py `household_warnings`, as SQL
    conditions on an active Household row (tested to agree with it)."""
    member = sa.orm.aliased(Member)
    oldest_birth = years_before(today, ELDERLY_AGE)
    quiet_since = today - timedelta(days=NO_SERVICE_DAYS)

    def any_member(condition):
        return sa.exists().where(member.household_id == Household.id, condition)

    served_lately = sa.exists().where(
        Measure.household_id == Household.id, Measure.kind == MeasureKind.MEASURE, Measure.on > quiet_since
    )
    entered_lately = sa.exists().where(
        HouseholdEvent.household_id == Household.id,
        HouseholdEvent.kind != HouseholdEventKind.EXITED,
        HouseholdEvent.on > quiet_since,
    )
    recorded_lately = Household.created_at >= clock.local_day_bounds(quiet_since + timedelta(days=1))[0]
    child = sa.exists().where(
        CategoryAssignment.household_id == Household.id,
        CategoryAssignment.status == CategoryStatus.APPROVED,
        CategoryAssignment.category.in_((Category.ORPHAN, Category.CHILD_IN_DIFFICULTY)),
    )
    return {
        WarningKind.ELDERLY_ALONE_80: sa.and_(
            Household.lives_alone.is_(True), any_member(member.birth_date <= oldest_birth)
        ),
        WarningKind.SERIOUS_ILLNESS: any_member(member.serious_illness.is_(True)),
        WarningKind.SEVERE_DISABILITY: any_member(member.disability_grade.in_((1, 2))),
        WarningKind.CHILD_IN_DIFFICULTY: child,
        WarningKind.REVIEW_OVERDUE: sa.and_(
            Household.next_review_on.is_not(None), Household.next_review_on < today
        ),
        WarningKind.NO_SERVICE_90_DAYS: sa.and_(~served_lately, ~entered_lately, ~recorded_lately),
    }


def warnings(scope: Scope, today: date) -> dict:
    """Active households with each warning now, and with any (one statement).

    Overdue reviews are the REVIEW_OVERDUE warning: next review before today.
    """
    conditions = warning_conditions(today)
    # Each condition is evaluated once per household (a 0/1 flag), then summed.
    flags = (
        sa.select(
            *(sa.case((condition, 1), else_=0).label(kind.value) for kind, condition in conditions.items())
        )
        .where(in_grids(Household.grid_id, scope), Household.status == HouseholdStatus.ACTIVE)
        .cte("flags")
        .prefix_with("MATERIALIZED")  # else PostgreSQL inlines it and evaluates each condition twice
    )
    columns = [flags.c[kind.value] for kind in conditions]
    row = db.session.execute(
        sa.select(
            *(sa.func.coalesce(sa.func.sum(column), 0) for column in columns),
            _count_if(sum(columns[1:], columns[0]) > 0),
            sa.func.count(),
        )
    ).one()
    counts = {kind.value: int(count) for kind, count in zip(conditions, row, strict=False)}
    return {"kinds": counts, "any": int(row[-2]), "active": int(row[-1])}

"""Casework on a household: categories through review (审核) and approval
(审批), causes (致困原因), needs (帮扶需求), measures (帮扶措施) or reasons
none were taken (未帮扶原因), follow-ups (回访) and periodic reviews (复审).

Each function checks role and scope, writes the record with its author and
date, adds an audit entry and commits once.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app import clock
from app.auth_scope import get_scoped_or_404, require_role
from app.extensions import db
from app.labels import label
from app.models import (
    ApprovalAction,
    ApprovalStep,
    Category,
    CategoryAssignment,
    CategoryStatus,
    Cause,
    FollowUp,
    FollowUpMethod,
    HardshipCause,
    Household,
    HouseholdStatus,
    Measure,
    MeasureKind,
    Need,
    NeedStatus,
    Review,
    ReviewOutcome,
    Role,
    ServiceType,
    Urgency,
)
from app.services import audit
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.households import (
    EXIT_APPROVERS,
    LEDGER_WRITERS,
    change_status,
    household_options,
    schedule_review,
)

# Who moves a category assignment, from which status, to which.
TRANSITIONS = {
    ApprovalAction.REVIEW: ({CategoryStatus.PROPOSED}, CategoryStatus.REVIEWED, (Role.COMMUNITY_WORKER,)),
    ApprovalAction.APPROVE: ({CategoryStatus.REVIEWED}, CategoryStatus.APPROVED, (Role.STREET_OFFICER,)),
    ApprovalAction.REJECT: (
        {CategoryStatus.PROPOSED, CategoryStatus.REVIEWED},
        CategoryStatus.REJECTED,
        (Role.COMMUNITY_WORKER, Role.STREET_OFFICER),
    ),
    ApprovalAction.REVOKE: (
        {CategoryStatus.APPROVED},
        CategoryStatus.REVOKED,
        (Role.COMMUNITY_WORKER, Role.STREET_OFFICER),
    ),
}
LIVE_STATUSES = (CategoryStatus.PROPOSED, CategoryStatus.REVIEWED, CategoryStatus.APPROVED)


def _household_for_write(actor, household_id: int, roles=LEDGER_WRITERS) -> Household:
    require_role(actor, *roles)
    return get_scoped_or_404(Household, household_id, actor, options=household_options())


def _text(value: str, limit: int, field: str, required: bool = True) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > limit:
        raise InvalidInput(
            _l("Enter a text of up to %(n)d characters.", n=limit), code="invalid_text", field=field
        )
    return value


def _past_date(day: date | None, today: date, field: str = "on") -> date:
    if day is None or day > today:
        raise InvalidInput(_l("That date is in the future."), code="invalid_date", field=field)
    return day


# --- categories ------------------------------------------------------------


def propose_category(actor, household_id: int, category: Category, note: str = "") -> CategoryAssignment:
    """A grid worker (or above) proposes a category; it then awaits review; commit."""
    assignment = _propose(actor, _household_for_write(actor, household_id), category, note)
    db.session.commit()
    return assignment


def _propose(actor, household: Household, category: Category, note: str) -> CategoryAssignment:
    live = db.session.scalar(
        sa.select(CategoryAssignment).where(
            CategoryAssignment.household_id == household.id,
            CategoryAssignment.category == category,
            CategoryAssignment.status.in_(LIVE_STATUSES),
        )
    )
    if live is not None:
        raise Conflict(_l("This category is already proposed or approved."), code="category_exists")
    assignment = CategoryAssignment(
        household_id=household.id, category=category, status=CategoryStatus.PROPOSED, proposed_by_id=actor.id
    )
    assignment.steps = [
        ApprovalStep(action=ApprovalAction.PROPOSE, by_id=actor.id, note=_text(note, 500, "note", False))
    ]
    db.session.add(assignment)
    db.session.flush()
    audit.record(actor, "propose", "category", assignment.id, household=household, note=category.value)
    return assignment


def decide_category(actor, assignment_id: int, action: ApprovalAction, note: str = "") -> CategoryAssignment:
    """Review, approve, reject or revoke a category assignment; commit.

    Review (审核) is the community's, approval (审批) the street's; a step
    from the wrong status is a Conflict naming the status it is in.
    """
    assignment = _decide(actor, assignment_id, action, note)
    db.session.commit()
    db.session.refresh(assignment)
    return assignment


def _decide(actor, assignment_id: int, action: ApprovalAction, note: str, household_id: int | None = None):
    if action not in TRANSITIONS:
        raise InvalidInput(code="invalid_action")
    sources, target, roles = TRANSITIONS[action]
    require_role(actor, *roles)
    assignment = db.session.get(CategoryAssignment, assignment_id) if isinstance(assignment_id, int) else None
    if assignment is None:
        raise NotFound()
    if household_id is not None and assignment.household_id != household_id:
        raise InvalidInput(_l("Choose one of this household's categories."), code="unknown_category")
    household = get_scoped_or_404(Household, assignment.household_id, actor, options=())
    if assignment.status not in sources:
        raise Conflict(
            _l("This step is not possible: the category is %(status)s.", status=label(assignment.status)),
            code="invalid_transition",
        )
    if action in (ApprovalAction.REJECT, ApprovalAction.REVOKE):
        note = _text(note, 500, "note")
    # The status condition is in the UPDATE itself, so two staff deciding at
    # once cannot both succeed.
    updated = db.session.execute(
        sa.update(CategoryAssignment)
        .where(CategoryAssignment.id == assignment.id, CategoryAssignment.status == assignment.status)
        .values(status=target)
    ).rowcount
    if updated != 1:
        db.session.rollback()
        raise Conflict(_l("Someone else decided this a moment ago."), code="invalid_transition")
    db.session.add(ApprovalStep(assignment_id=assignment.id, action=action, by_id=actor.id, note=note or ""))
    audit.record(
        actor, action.value, "category", assignment.id, household=household, note=assignment.category.value
    )
    return assignment


def categories_of(household_id: int) -> list[CategoryAssignment]:
    """All category assignments of a household, with their steps, newest first."""
    stmt = (
        sa.select(CategoryAssignment)
        .where(CategoryAssignment.household_id == household_id)
        .options(selectinload(CategoryAssignment.steps).selectinload(ApprovalStep.by))
        .order_by(CategoryAssignment.id.desc())
    )
    return list(db.session.scalars(stmt))


def approved_categories(household_ids) -> dict[int, set[Category]]:
    """Approved categories per household id (one query)."""
    rows = db.session.execute(
        sa.select(CategoryAssignment.household_id, CategoryAssignment.category).where(
            CategoryAssignment.household_id.in_(household_ids),
            CategoryAssignment.status == CategoryStatus.APPROVED,
        )
    )
    result: dict[int, set[Category]] = {}
    for household_id, category in rows:
        result.setdefault(household_id, set()).add(category)
    return result


def pending_decisions_stmt(actor) -> sa.Select:
    """Assignments waiting for this actor: review for community staff, approval for the street."""
    from app.auth_scope import scoped

    statuses = []
    if actor.has_role(Role.ADMIN, Role.COMMUNITY_WORKER):
        statuses.append(CategoryStatus.PROPOSED)
    if actor.has_role(Role.ADMIN, Role.STREET_OFFICER):
        statuses.append(CategoryStatus.REVIEWED)
    households = scoped(sa.select(Household.id), Household, actor)
    return (
        sa.select(CategoryAssignment)
        .where(CategoryAssignment.status.in_(statuses), CategoryAssignment.household_id.in_(households))
        .order_by(CategoryAssignment.proposed_at)
    )


# --- causes, needs, measures, follow-ups -----------------------------------


def add_cause(actor, household_id: int, cause: Cause, note: str = "") -> HardshipCause:
    household = _household_for_write(actor, household_id)
    record = HardshipCause(
        household_id=household.id, cause=cause, note=_text(note, 500, "note", False), recorded_by_id=actor.id
    )
    db.session.add(record)
    db.session.flush()
    audit.record(actor, "create", "cause", record.id, household=household)
    db.session.commit()
    return record


@dataclass
class NeedData:
    service_type_code: str
    description: str
    urgency: Urgency = Urgency.NORMAL


def add_need(actor, household_id: int, data: NeedData) -> Need:
    """Record a need for a service from the catalogue; commit."""
    household = _household_for_write(actor, household_id)
    if household.status is not HouseholdStatus.ACTIVE:
        raise Conflict(_l("The household has left the registry."), code="household_exited")
    service = (
        db.session.get(ServiceType, data.service_type_code)
        if isinstance(data.service_type_code, str)
        else None
    )
    if service is None or not service.active:
        raise InvalidInput(
            _l("Choose a service from the list."), code="unknown_service_type", field="service_type_code"
        )
    need = Need(
        household_id=household.id,
        service_type_code=service.code,
        description=_text(data.description, 500, "description"),
        urgency=data.urgency,
        created_by_id=actor.id,
    )
    db.session.add(need)
    db.session.flush()
    audit.record(actor, "create", "need", need.id, household=household)
    db.session.commit()
    return need


def close_need(actor, need_id: int, status: NeedStatus, note: str) -> Need:
    """Mark a need met or closed (no longer needed), with a note; commit."""
    if status not in (NeedStatus.MET, NeedStatus.CLOSED):
        raise InvalidInput(code="invalid_status")
    need = db.session.get(Need, need_id) if isinstance(need_id, int) else None
    if need is None:
        raise NotFound()
    household = _household_for_write(actor, need.household_id)
    if need.status is not NeedStatus.OPEN:
        raise Conflict(_l("This need is no longer open."), code="need_not_open")
    need.status = status
    need.closed_at = clock.now()
    need.closed_by_id = actor.id
    need.close_note = _text(note, 500, "note")
    audit.record(actor, status.value, "need", need.id, household=household, fields=["status"])
    db.session.commit()
    return need


def add_measure(
    actor,
    household_id: int,
    kind: MeasureKind,
    description: str,
    on: date,
    today: date,
    need_id: int | None = None,
) -> Measure:
    """Record a measure taken (帮扶措施) or why none was (未帮扶原因); commit."""
    household = _household_for_write(actor, household_id)
    if need_id is not None:
        need = db.session.get(Need, need_id) if isinstance(need_id, int) else None
        if need is None or need.household_id != household.id:
            raise InvalidInput(
                _l("Choose one of this household's needs."), code="unknown_need", field="need_id"
            )
    measure = Measure(
        household_id=household.id,
        need_id=need_id,
        kind=kind,
        description=_text(description, 500, "description"),
        on=_past_date(on, today),
        recorded_by_id=actor.id,
    )
    db.session.add(measure)
    db.session.flush()
    audit.record(actor, "create", kind.value, measure.id, household=household)
    db.session.commit()
    return measure


def add_follow_up(
    actor,
    household_id: int,
    on: date,
    method: FollowUpMethod,
    note: str,
    today: date,
    satisfaction: int | None = None,
) -> FollowUp:
    """Record a follow-up visit or call (回访); commit."""
    household = _household_for_write(actor, household_id)
    if satisfaction is not None and satisfaction not in (1, 2, 3, 4, 5):
        raise InvalidInput(_l("Satisfaction is 1 to 5."), code="invalid_satisfaction", field="satisfaction")
    record = FollowUp(
        household_id=household.id,
        on=_past_date(on, today),
        method=method,
        note=_text(note, 1000, "note"),
        satisfaction=satisfaction,
        recorded_by_id=actor.id,
    )
    db.session.add(record)
    db.session.flush()
    audit.record(actor, "create", "follow_up", record.id, household=household)
    db.session.commit()
    return record


# --- reviews ---------------------------------------------------------------


def record_review(
    actor,
    household_id: int,
    reviewed_on: date,
    outcome: ReviewOutcome,
    note: str,
    today: date,
    revoke: list[int] = (),
    propose: list[Category] = (),
) -> Review:
    """Record a review (复审) and act on its outcome; commit.

    CONTINUE keeps things as they are; CHANGE revokes the listed approved
    categories and proposes new ones (community or street staff revoke);
    EXIT takes the household out of the registry (community or street staff).
    The next review date follows from the household type.
    """
    household = _household_for_write(actor, household_id)
    if household.status is not HouseholdStatus.ACTIVE:
        raise Conflict(_l("The household has left the registry."), code="household_exited")
    reviewed_on = _past_date(reviewed_on, today, "reviewed_on")
    note = _text(note, 1000, "note", required=outcome is not ReviewOutcome.CONTINUE)
    if outcome is ReviewOutcome.EXIT:
        require_role(actor, *EXIT_APPROVERS)
    if outcome is ReviewOutcome.CHANGE and not (revoke or propose):
        raise InvalidInput(_l("Say which categories change."), code="nothing_changes", field="outcome")
    if revoke:
        require_role(actor, *EXIT_APPROVERS)
    # All or nothing: every step only flushes, one commit at the end.
    review = Review(
        household_id=household.id, reviewed_on=reviewed_on, outcome=outcome, note=note, by_id=actor.id
    )
    db.session.add(review)
    db.session.flush()
    audit.record(actor, "review", "household", household.id, household=household, note=outcome.value)
    for assignment_id in revoke:
        _decide(actor, assignment_id, ApprovalAction.REVOKE, note, household_id=household.id)
    for category in propose:
        _propose(actor, household, category, note)
    if outcome is ReviewOutcome.EXIT:
        change_status(actor, household, reviewed_on, note, today, HouseholdStatus.EXITED)
    schedule_review(household)
    review.next_review_on = household.next_review_on
    db.session.commit()
    return review

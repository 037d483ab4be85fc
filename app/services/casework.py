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
from app.auth_scope import child_or_404, get_scoped_or_404, require_role, unscoped_get
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
    Urgency,
    User,
)
from app.services import audit, catalogue
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.household_changes import change_status
from app.services.households import (
    EXIT_APPROVERS,
    LEDGER_WRITERS,
    get_household,
    household_options,
    schedule_review,
)
from app.services.tx import atomic

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
    if household.status is not HouseholdStatus.ACTIVE:
        raise Conflict(_l("The household has left the registry."), code="household_exited")
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
    assignment = unscoped_get(CategoryAssignment, assignment_id)
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
    if action in (ApprovalAction.REVIEW, ApprovalAction.APPROVE) and _took_a_step(actor, assignment.id):
        # 人情保/关系保 (seed 004): nobody reviews or approves a case they proposed or reviewed.
        raise Forbidden(
            _l("Someone else must decide this: you already proposed or reviewed it."), code="own_case"
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


def close_casework_on_exit(actor, household: Household, reason: str) -> None:
    """When a household leaves the registry: its open needs are closed and its
    categories end (approved ones revoked, pending ones rejected); flush only.

    Re-entry starts afresh: categories are proposed and approved again.
    """
    for need in db.session.scalars(
        sa.select(Need).where(Need.household_id == household.id, Need.status == NeedStatus.OPEN)
    ):
        need.status, need.closed_at, need.closed_by_id, need.close_note = (
            NeedStatus.CLOSED,
            clock.now(),
            actor.id,
            reason,
        )
        audit.record(actor, NeedStatus.CLOSED.value, "need", need.id, household=household, fields=["status"])
    live = db.session.scalars(
        sa.select(CategoryAssignment).where(
            CategoryAssignment.household_id == household.id, CategoryAssignment.status.in_(LIVE_STATUSES)
        )
    )
    for assignment in live:
        approved = assignment.status is CategoryStatus.APPROVED
        action = ApprovalAction.REVOKE if approved else ApprovalAction.REJECT
        assignment.status = CategoryStatus.REVOKED if approved else CategoryStatus.REJECTED
        db.session.add(ApprovalStep(assignment_id=assignment.id, action=action, by_id=actor.id, note=reason))
        audit.record(
            actor,
            action.value,
            "category",
            assignment.id,
            household=household,
            note=assignment.category.value,
        )


def _took_a_step(actor, assignment_id: int) -> bool:
    return db.session.scalar(
        sa.select(
            sa.exists().where(ApprovalStep.assignment_id == assignment_id, ApprovalStep.by_id == actor.id)
        )
    )


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
    need = _add_need(actor, household_id, data)
    db.session.commit()
    return need


def _add_need(actor, household_id: int, data: NeedData) -> Need:
    """add_need without the commit, for callers that write more in the same
    transaction (accepting a help request); flushes and audits."""
    household = _household_for_write(actor, household_id)
    if household.status is not HouseholdStatus.ACTIVE:
        raise Conflict(_l("The household has left the registry."), code="household_exited")
    service = catalogue.active_service_type(data.service_type_code, field="service_type_code")
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
    return need


def close_need(actor, need_id: int, status: NeedStatus, note: str) -> Need:
    """Mark a need met or closed (no longer needed), with a note; commit."""
    if status not in (NeedStatus.MET, NeedStatus.CLOSED):
        raise InvalidInput(code="invalid_status")
    need = unscoped_get(Need, need_id)
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
        need = unscoped_get(Need, need_id)
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
    The next review date follows from the household type. All or nothing.
    """
    roles = LEDGER_WRITERS + EXIT_APPROVERS if outcome is ReviewOutcome.EXIT else LEDGER_WRITERS
    household = _household_for_write(actor, household_id, roles=roles)
    if household.status is not HouseholdStatus.ACTIVE:
        raise Conflict(_l("The household has left the registry."), code="household_exited")
    reviewed_on = _past_date(reviewed_on, today, "reviewed_on")
    note = _text(note, 1000, "note", required=outcome is not ReviewOutcome.CONTINUE)
    if outcome is ReviewOutcome.EXIT:
        require_role(actor, *EXIT_APPROVERS)
    if outcome is ReviewOutcome.CHANGE and not (revoke or propose):
        raise InvalidInput(_l("Say which categories change."), code="nothing_changes", field="outcome")
    if outcome is not ReviewOutcome.CHANGE and (revoke or propose):
        raise InvalidInput(
            _l("Categories change only when the outcome is 'change categories'."),
            code="unexpected_change",
            field="outcome",
        )
    if revoke:
        require_role(actor, *EXIT_APPROVERS)
    with atomic():  # every step below only flushes
        review = Review(
            household_id=household.id, reviewed_on=reviewed_on, outcome=outcome, note=note, by_id=actor.id
        )
        db.session.add(review)
        db.session.flush()
        audit.record(
            actor, "periodic_review", "household", household.id, household=household, note=outcome.value
        )
        for assignment_id in revoke:
            _decide(actor, assignment_id, ApprovalAction.REVOKE, note, household_id=household.id)
        for category in propose:
            _propose(actor, household, category, note)
        if outcome is ReviewOutcome.EXIT:
            change_status(actor, household, reviewed_on, note, today, HouseholdStatus.EXITED)
        schedule_review(household)
        review.next_review_on = household.next_review_on
    return review


# --- for the registry pages (read only) -------------------------------------


@dataclass(frozen=True)
class CaseRecords:
    """A household's causes, measures, follow-ups and reviews, newest first,
    and the names of the staff who recorded them (by user id)."""

    causes: list[HardshipCause]
    measures: list[Measure]
    follow_ups: list[FollowUp]
    reviews: list[Review]
    authors: dict[int, str]


def records_of(household_id: int) -> CaseRecords:
    """The case records of a household whose scope the caller has checked."""

    def newest_first(model, *order):
        stmt = sa.select(model).where(model.household_id == household_id).order_by(*order, model.id.desc())
        return list(db.session.scalars(stmt))

    causes = newest_first(HardshipCause)
    measures = newest_first(Measure, Measure.on.desc())
    follow_ups = newest_first(FollowUp, FollowUp.on.desc())
    reviews = newest_first(Review, Review.reviewed_on.desc())
    ids = {r.recorded_by_id for r in (*causes, *measures, *follow_ups)} | {r.by_id for r in reviews}
    authors = dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())
    return CaseRecords(causes, measures, follow_ups, reviews, authors)


def decisions_for(actor, assignments) -> dict[int, list[ApprovalAction]]:
    """The steps (TRANSITIONS) the actor may take on each assignment, by assignment id."""
    return {
        a.id: [
            action
            for action, (sources, _target, roles) in TRANSITIONS.items()
            if a.status in sources and actor.has_role(Role.ADMIN, *roles)
        ]
        for a in assignments
    }


def get_assignment(actor, household_id: int, assignment_id: int) -> CategoryAssignment:
    """One category assignment of a household the actor may read, steps loaded, or NotFound."""
    household = get_household(actor, household_id, options=(selectinload(Household.grid),))
    assignment = next((a for a in categories_of(household.id) if a.id == assignment_id), None)
    if assignment is None:
        raise NotFound()
    return assignment


def get_need(actor, household_id: int, need_id: int) -> Need:
    """One need of a household the actor may read, service type loaded, or NotFound."""
    household = get_household(actor, household_id, options=(selectinload(Household.grid),))
    return child_or_404(
        Need, need_id, Need.household_id == household.id, options=(selectinload(Need.service_type),)
    )


def pending_decisions(actor, page: int = 1, per_page: int = 30):
    """One page of pending_decisions_stmt (steps loaded) and its households by id (members loaded)."""
    stmt = pending_decisions_stmt(actor).options(
        selectinload(CategoryAssignment.steps).selectinload(ApprovalStep.by)
    )
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    ids = {a.household_id for a in pagination.items}
    households = db.session.scalars(
        sa.select(Household).where(Household.id.in_(ids)).options(selectinload(Household.members))
    )
    return pagination, {h.id: h for h in households}

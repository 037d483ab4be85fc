"""Changes to a recorded household beyond its address and members: consent
(given and withdrawn), monthly finances, leaving and re-entering the registry
(有进有出), and revealing a member's full ID number.

Same conventions as app/services/households.py: the acting user is passed
in, role and scope are checked, an audit entry goes with every change, and
each public function commits once.
"""

from datetime import date

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash

from app.auth_scope import get_scoped_or_404, require_role, unscoped_get
from app.extensions import db
from app.models import (
    ConsentRecord,
    Household,
    HouseholdEvent,
    HouseholdEventKind,
    HouseholdStatus,
    Member,
    MonthlyFinance,
)
from app.services import audit
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.households import (
    EXIT_APPROVERS,
    ID_REVEALERS,
    ConsentData,
    _check_consent,
    _writable,
    household_options,
    schedule_review,
)


def record_consent(actor, household_id: int, consent: ConsentData, today: date) -> ConsentRecord:
    """Record the household's separate consent to keep sensitive details; commit."""
    household = _writable(actor, household_id)
    _check_consent(consent, today)
    record = ConsentRecord(given=True, on=consent.on, scope=consent.scope.strip(), taken_by_id=actor.id)
    household.consents.append(record)
    db.session.flush()
    audit.record(actor, "consent_given", "household", household.id, household=household)
    db.session.commit()
    return record


def withdraw_consent(actor, household_id: int, consent: ConsentData, today: date) -> ConsentRecord:
    """Record a withdrawal and erase ID numbers, health and finances; commit.

    The audit trail stays: it never held the values.
    """
    household = _writable(actor, household_id)
    if not household.has_consent:
        raise Conflict(_l("This household has not given consent."), code="no_consent")
    _check_consent(consent, today)
    record = ConsentRecord(given=False, on=consent.on, scope=consent.scope.strip(), taken_by_id=actor.id)
    household.consents.append(record)
    for member in household.members:
        for key in ("id_number", "id_index", "id_last4", "id_region", "serious_illness", "disability_grade"):
            setattr(member, key, None)
    household.finances.clear()
    audit.record(
        actor,
        "consent_withdrawn",
        "household",
        household.id,
        household=household,
        fields=["disability_grade", "finances", "id_number", "serious_illness"],
        note="sensitive details erased",
    )
    db.session.commit()
    return record


def set_monthly_finance(
    actor,
    household_id: int,
    month: date,
    income: int,
    illness: int,
    disaster: int,
    schooling: int,
    today: date,
) -> MonthlyFinance:
    """Record (or correct) one month's income and rigid expenses in fen; commit."""
    household = _writable(actor, household_id)
    if not household.has_consent:
        raise InvalidInput(
            _l("Record the household's consent before keeping income and expenses."),
            code="consent_required",
            field="income",
        )
    month = month.replace(day=1)
    if month > today:
        raise InvalidInput(_l("That month has not begun yet."), code="invalid_date", field="month")
    amounts = {
        "income": income,
        "illness_expense": illness,
        "disaster_expense": disaster,
        "schooling_expense": schooling,
    }
    for name, value in amounts.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidInput(_l("Amounts cannot be negative."), code="invalid_amount", field=name)
    row = next((f for f in household.finances if f.month == month), None)
    action = "update" if row else "create"
    if row is None:
        row = MonthlyFinance(month=month, recorded_by_id=actor.id, **amounts)
        household.finances.append(row)
    else:
        for name, value in amounts.items():
            setattr(row, name, value)
        row.recorded_by_id = actor.id
    db.session.flush()
    audit.record(
        actor,
        action,
        "finance",
        row.id,
        household=household,
        fields=list(amounts),
        note=month.isoformat()[:7],
    )
    db.session.commit()
    return row


def exit_household(actor, household_id: int, on: date, reason: str, today: date) -> HouseholdEvent:
    """Take a household out of the registry (有进有出); community or street staff; commit."""
    require_role(actor, *EXIT_APPROVERS)
    household = get_scoped_or_404(Household, household_id, actor, options=household_options())
    event = change_status(actor, household, on, reason, today, HouseholdStatus.EXITED)
    db.session.commit()
    return event


def reenter_household(actor, household_id: int, on: date, reason: str, today: date) -> HouseholdEvent:
    """Bring an exited household back into the registry; commit."""
    require_role(actor, *EXIT_APPROVERS)
    household = get_scoped_or_404(Household, household_id, actor, options=household_options())
    event = change_status(actor, household, on, reason, today, HouseholdStatus.ACTIVE)
    db.session.commit()
    return event


def change_status(actor, household: Household, on, reason, today, target: HouseholdStatus) -> HouseholdEvent:
    """Exit or re-enter a loaded household, recording who approved it; flush only."""
    require_role(actor, *EXIT_APPROVERS)
    if household.status is target:
        raise Conflict(
            _l("The household has already left the registry.")
            if target is HouseholdStatus.EXITED
            else _l("The household is already in the registry."),
            code="same_status",
        )
    if on is None or on > today:
        raise InvalidInput(_l("That date is in the future."), code="invalid_date", field="on")
    last_event = max((e.on for e in household.events), default=None)
    if last_event is not None and on < last_event:
        raise InvalidInput(
            _l("The date cannot be before the last change of status (%(day)s).", day=last_event.isoformat()),
            code="invalid_date",
            field="on",
        )
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise InvalidInput(
            _l("Give a reason (up to 500 characters)."), code="reason_required", field="reason"
        )
    kind = HouseholdEventKind.EXITED if target is HouseholdStatus.EXITED else HouseholdEventKind.REENTERED
    event = HouseholdEvent(kind=kind, on=on, reason=reason, approved_by_id=actor.id)
    household.events.append(event)
    household.status = target
    schedule_review(household)
    audit.record(actor, kind.value, "household", household.id, household=household, note=reason)
    if target is HouseholdStatus.EXITED:
        # Imported here: casework builds on this module (exit is where the two meet).
        from app.services.casework import close_casework_on_exit

        close_casework_on_exit(actor, household, reason)
    return event


def reveal_id_number(actor, member_id: int, password: str) -> str:
    """The full ID number, after the actor re-enters their password; audit-logged.

    Community and street staff only (grid workers see it masked).
    """
    require_role(actor, *ID_REVEALERS)
    member = unscoped_get(Member, member_id)
    if member is None:
        raise NotFound()
    household = get_scoped_or_404(Household, member.household_id, actor, options=())
    if not check_password_hash(actor.password_hash, password or ""):
        raise Forbidden(_l("Re-enter your password to see the full ID number."), code="reauth_required")
    if member.id_number is None:
        raise Conflict(_l("No ID number is recorded for this member."), code="no_id_number")
    audit.record(actor, "reveal", "member", member.id, household=household, fields=["id_number"])
    db.session.commit()
    return member.id_number


# --- for the registry pages (read only) -------------------------------------

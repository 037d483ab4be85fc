"""Human labels for every enum shown on a page, translatable, in one place.

Templates use the `label` filter: `{{ household.status|label }}`.
"""

from flask_babel import lazy_gettext as _l

from app.models import (
    ApprovalAction,
    Category,
    CategoryStatus,
    Cause,
    FollowUpMethod,
    HelpRequestStatus,
    HouseholdEventKind,
    HouseholdStatus,
    MeasureKind,
    NeedStatus,
    RegisterType,
    Relation,
    ReviewOutcome,
    Schooling,
    Sex,
    Urgency,
    WorkCapacity,
)

LABELS = {
    Category.DIBAO: _l("Minimum subsistence (低保)"),
    Category.TEKUN: _l("Extremely poor (特困)"),
    Category.ORPHAN: _l("Orphan"),
    Category.CHILD_IN_DIFFICULTY: _l("Child in difficulty"),
    Category.SEVERE_DISABILITY: _l("Severe disability"),
    Category.ELDERLY_ALONE: _l("Elderly living alone"),
    Category.ELDERLY_80: _l("Aged 80 or over"),
    Category.MARGINAL: _l("Marginal household (低保边缘)"),
    Category.INCOME_TYPE: _l("Income-type hardship"),
    Category.EXPENDITURE_TYPE: _l("Expenditure-type hardship"),
    CategoryStatus.PROPOSED: _l("awaiting community review"),
    CategoryStatus.REVIEWED: _l("awaiting street approval"),
    CategoryStatus.APPROVED: _l("approved"),
    CategoryStatus.REJECTED: _l("rejected"),
    CategoryStatus.REVOKED: _l("revoked"),
    ApprovalAction.PROPOSE: _l("proposed"),
    ApprovalAction.REVIEW: _l("reviewed (审核)"),
    ApprovalAction.APPROVE: _l("approved (审批)"),
    ApprovalAction.REJECT: _l("rejected"),
    ApprovalAction.REVOKE: _l("revoked"),
    Cause.ILLNESS: _l("Illness"),
    Cause.DISABILITY: _l("Disability"),
    Cause.DISASTER: _l("Disaster or accident"),
    Cause.SCHOOLING: _l("Schooling costs"),
    Cause.UNEMPLOYMENT: _l("Unemployment"),
    Cause.OLD_AGE: _l("Old age"),
    Cause.NO_LABOUR: _l("No one able to work"),
    Cause.OTHER: _l("Other"),
    Urgency.NORMAL: _l("Normal"),
    Urgency.URGENT: _l("Urgent"),
    Urgency.CRITICAL: _l("Critical"),
    NeedStatus.OPEN: _l("Open"),
    NeedStatus.MET: _l("Met"),
    NeedStatus.CLOSED: _l("Closed"),
    MeasureKind.MEASURE: _l("Measure taken"),
    MeasureKind.NOT_HELPED: _l("Not helped, because"),
    FollowUpMethod.VISIT: _l("Home visit"),
    FollowUpMethod.PHONE: _l("Phone call"),
    ReviewOutcome.CONTINUE: _l("Continue as before"),
    ReviewOutcome.CHANGE: _l("Change categories"),
    ReviewOutcome.EXIT: _l("Leave the registry"),
    RegisterType.LOCAL: _l("Local household register"),
    RegisterType.RESIDENT: _l("Resident for 2 years or more"),
    Relation.HEAD: _l("Householder"),
    Relation.SPOUSE: _l("Spouse"),
    Relation.CHILD: _l("Child"),
    Relation.PARENT: _l("Parent"),
    Relation.GRANDCHILD: _l("Grandchild"),
    Relation.GRANDPARENT: _l("Grandparent"),
    Relation.SIBLING: _l("Sibling"),
    Relation.OTHER: _l("Other relative"),
    Sex.MALE: _l("Male"),
    Sex.FEMALE: _l("Female"),
    WorkCapacity.NONE: _l("Cannot work"),
    WorkCapacity.PARTIAL: _l("Can partly work"),
    WorkCapacity.FULL: _l("Can work"),
    Schooling.NONE: _l("Not in school"),
    Schooling.PRESCHOOL: _l("Preschool"),
    Schooling.PRIMARY: _l("Primary school"),
    Schooling.JUNIOR: _l("Junior middle school"),
    Schooling.SENIOR: _l("Senior middle school"),
    Schooling.VOCATIONAL: _l("Vocational school"),
    Schooling.UNIVERSITY: _l("University"),
    HouseholdStatus.ACTIVE: _l("In the registry"),
    HouseholdStatus.EXITED: _l("Left the registry"),
    HouseholdEventKind.ENTERED: _l("Entered"),
    HouseholdEventKind.EXITED: _l("Left"),
    HouseholdEventKind.REENTERED: _l("Re-entered"),
    HelpRequestStatus.NEW: _l("New"),
    HelpRequestStatus.ACCEPTED: _l("Accepted"),
    HelpRequestStatus.DISMISSED: _l("Dismissed"),
}


def label(value) -> str:
    """The translated label of an enum member (its value if none is defined)."""
    text = LABELS.get(value)
    if text is None:
        text = getattr(value, "label", None) or getattr(value, "value", value)
    return str(text)


def choices(enum_cls) -> list[tuple[str, str]]:
    """(value, label) pairs for a form's choices, in declaration order."""
    return [(member.value, label(member)) for member in enum_cls]

"""Request and response shapes of the households API (台账): the household
ledger, its members and needs. Enums travel as their `.value` strings,
dates as ISO 8601, money in fen as integers."""

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from app.blueprints.api.schemas import GridOut, Strict
from app.models import (
    ApprovalAction,
    Category,
    CategoryStatus,
    HouseholdEventKind,
    HouseholdStatus,
    NeedStatus,
    RegisterType,
    Relation,
    Schooling,
    Sex,
    Urgency,
    WorkCapacity,
)
from app.services.warnings import WarningKind


def _one_of(enum_cls) -> ma.validate.OneOf:
    """Documents an enum's values on an output field (dumping does not validate)."""
    return ma.validate.OneOf([member.value for member in enum_cls])


def _enum_in(enum_cls, **kwargs) -> ma.fields.Enum:
    return ma.fields.Enum(enum_cls, by_value=True, **kwargs)


def _printable(value: str) -> None:
    """Control characters have no place in a ledger (and PostgreSQL refuses NUL)."""
    if any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127 for ch in value):
        raise ma.ValidationError(_l("Control characters are not allowed."))


def _text(max_length: int, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=[ma.validate.Length(max=max_length), _printable], **kwargs)


def _row_id(**kwargs) -> ma.fields.Integer:
    """A row id: refused here when no row can have it (the database would raise)."""
    return ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**31 - 1), **kwargs)


# --- requests --------------------------------------------------------------


class HouseholdQuery(ma.Schema):
    """Query parameters; unknown ones are ignored (webargs' rule for the query string)."""

    status = _enum_in(HouseholdStatus)
    grid_id = _row_id()
    q = _text(50, metadata={"description": "part of the address or a member's name"})
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100_000))
    per_page = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


class HeadIn(Strict):
    """The householder (户主). ID number, illness and disability need `consent`."""

    name = _text(50, required=True)
    id_number = _text(30, allow_none=True, metadata={"description": "18 characters"})
    birth_date = ma.fields.Date(allow_none=True)
    sex = _enum_in(Sex, allow_none=True)
    serious_illness = ma.fields.Boolean(allow_none=True)
    disability_grade = ma.fields.Integer(
        strict=True, allow_none=True, metadata={"description": "1 (most severe) to 4"}
    )
    work_capacity = _enum_in(WorkCapacity, load_default=WorkCapacity.FULL)
    schooling = _enum_in(Schooling, load_default=Schooling.NONE)


class ConsentIn(Strict):
    """The household's separate consent (单独同意) to keep sensitive details."""

    on = ma.fields.Date(required=True)
    scope = _text(300, required=True)


class HouseholdIn(Strict):
    grid_id = _row_id(required=True, strict=True)
    building = _text(30, required=True)
    unit = _text(10, load_default="")
    room = _text(10, required=True)
    contact_phone = _text(20, required=True)
    register_type = _enum_in(RegisterType, load_default=RegisterType.LOCAL)
    resident_since = ma.fields.Date(allow_none=True, load_default=None)
    lives_alone = ma.fields.Boolean(load_default=False)
    income_stable = ma.fields.Boolean(load_default=False)
    property_within_limits = ma.fields.Boolean(load_default=True)
    head = ma.fields.Nested(HeadIn, required=True)
    consent = ma.fields.Nested(ConsentIn, allow_none=True, load_default=None)


class NeedIn(Strict):
    service_type_code = _text(32, required=True)
    description = _text(500, required=True)
    urgency = _enum_in(Urgency, load_default=Urgency.NORMAL)


# --- responses -------------------------------------------------------------


class CommunityBrief(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class GridWithCommunity(GridOut):
    community = ma.fields.Nested(CommunityBrief, required=True)


class HouseholdSummary(ma.Schema):
    id = ma.fields.Integer(required=True)
    grid = ma.fields.Nested(GridOut, required=True)
    address = ma.fields.String(required=True)
    head_name = ma.fields.String(required=True, allow_none=True, metadata={"description": "householder"})
    member_count = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=_one_of(HouseholdStatus))
    next_review_on = ma.fields.Date(required=True, allow_none=True)


class HouseholdPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(HouseholdSummary), required=True)
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)


class MemberOut(ma.Schema):
    """A member; the ID number only ever masked (region and last four)."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    relation = ma.fields.String(required=True, validate=_one_of(Relation))
    id_masked = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "e.g. 110105********1234"}
    )
    birth_date = ma.fields.Date(required=True, allow_none=True)
    age = ma.fields.Integer(required=True, allow_none=True)
    sex = ma.fields.String(required=True, allow_none=True, validate=_one_of(Sex))
    serious_illness = ma.fields.Boolean(required=True, allow_none=True)
    disability_grade = ma.fields.Integer(required=True, allow_none=True)
    work_capacity = ma.fields.String(required=True, validate=_one_of(WorkCapacity))
    schooling = ma.fields.String(required=True, validate=_one_of(Schooling))


class ConsentOut(ma.Schema):
    given = ma.fields.Boolean(required=True)
    on = ma.fields.Date(required=True, allow_none=True)
    scope = ma.fields.String(required=True)


class EventOut(ma.Schema):
    kind = ma.fields.String(required=True, validate=_one_of(HouseholdEventKind))
    on = ma.fields.Date(required=True)
    reason = ma.fields.String(required=True)
    approved_by_id = ma.fields.Integer(required=True)


class UserRef(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class StepOut(ma.Schema):
    action = ma.fields.String(required=True, validate=_one_of(ApprovalAction))
    by = ma.fields.Nested(UserRef, required=True)
    at = ma.fields.DateTime(required=True)
    note = ma.fields.String(required=True)


class CategoryOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    category = ma.fields.String(required=True, validate=_one_of(Category))
    status = ma.fields.String(required=True, validate=_one_of(CategoryStatus))
    proposed_at = ma.fields.DateTime(required=True)
    steps = ma.fields.List(ma.fields.Nested(StepOut), required=True)


class ServiceTypeBrief(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class NeedOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    service_type = ma.fields.Nested(ServiceTypeBrief, required=True)
    description = ma.fields.String(required=True)
    urgency = ma.fields.String(required=True, validate=_one_of(Urgency))
    status = ma.fields.String(required=True, validate=_one_of(NeedStatus))
    urgency_score = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "higher is more urgent; null once the need is met or closed"},
    )
    created_at = ma.fields.DateTime(required=True)
    closed_at = ma.fields.DateTime(required=True, allow_none=True)


class FinanceOut(ma.Schema):
    month = ma.fields.Date(required=True, metadata={"description": "the first day of the month"})
    income = ma.fields.Integer(required=True, metadata={"description": "fen"})
    illness_expense = ma.fields.Integer(required=True, metadata={"description": "fen"})
    disaster_expense = ma.fields.Integer(required=True, metadata={"description": "fen"})
    schooling_expense = ma.fields.Integer(required=True, metadata={"description": "fen"})


class StandardOut(ma.Schema):
    effective_from = ma.fields.Date(required=True)
    monthly_amount = ma.fields.Integer(required=True, metadata={"description": "fen per person per month"})


class AssessmentOut(ma.Schema):
    """What the city's standard in force says of the household today."""

    categories = ma.fields.List(
        ma.fields.String(validate=_one_of(Category)),
        required=True,
        allow_none=True,
        metadata={"description": "computed categories; null when no classification is possible"},
    )
    per_capita_monthly = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "fen, rounded"}
    )
    below_standard = ma.fields.Boolean(required=True, allow_none=True)
    standard = ma.fields.Nested(StandardOut, required=True, allow_none=True)
    reason = ma.fields.String(required=True, metadata={"description": "why there is no classification"})


class HouseholdDetail(ma.Schema):
    id = ma.fields.Integer(required=True)
    grid = ma.fields.Nested(GridWithCommunity, required=True)
    address = ma.fields.String(required=True)
    building = ma.fields.String(required=True)
    unit = ma.fields.String(required=True)
    room = ma.fields.String(required=True)
    contact_phone = ma.fields.String(required=True)
    register_type = ma.fields.String(required=True, validate=_one_of(RegisterType))
    resident_since = ma.fields.Date(required=True, allow_none=True)
    lives_alone = ma.fields.Boolean(required=True)
    income_stable = ma.fields.Boolean(required=True)
    property_within_limits = ma.fields.Boolean(required=True)
    status = ma.fields.String(required=True, validate=_one_of(HouseholdStatus))
    next_review_on = ma.fields.Date(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    members = ma.fields.List(ma.fields.Nested(MemberOut), required=True)
    consent = ma.fields.Nested(
        ConsentOut, required=True, metadata={"description": "the latest consent record; given=false if none"}
    )
    events = ma.fields.List(
        ma.fields.Nested(EventOut), required=True, metadata={"description": "status history"}
    )
    categories = ma.fields.List(ma.fields.Nested(CategoryOut), required=True)
    warnings = ma.fields.List(ma.fields.String(validate=_one_of(WarningKind)), required=True)
    open_needs = ma.fields.List(
        ma.fields.Nested(NeedOut), required=True, metadata={"description": "most urgent first"}
    )
    finances = ma.fields.List(ma.fields.Nested(FinanceOut), required=True)
    assessment = ma.fields.Nested(AssessmentOut, required=True)

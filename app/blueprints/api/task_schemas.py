"""Request and response shapes of the tasks API (服务任务) and the service
catalogue. Times travel as ISO 8601 with an offset (UTC on the way out);
enums as their `.value` strings."""

import marshmallow as ma

from app.blueprints.api.household_schemas import ServiceTypeBrief, UserRef, _enum_in, _one_of, _row_id, _text
from app.blueprints.api.schemas import GridOut, Strict
from app.models import ClaimStatus, TaskStatus, Urgency
from app.services import tasks

# --- the catalogue -----------------------------------------------------------


class ServiceTypeOut(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True, metadata={"description": "in the request's language"})
    skill = ma.fields.String(required=True, metadata={"description": "the skill code it needs"})
    points_per_visit = ma.fields.Integer(required=True)
    points_per_hour = ma.fields.Integer(required=True)


# --- requests ----------------------------------------------------------------


class TaskQuery(ma.Schema):
    """Query parameters; unknown ones are ignored (webargs' rule for the query string).

    Volunteers: without `status`, or with `status=open`, the task board (open
    tasks of their community that have not started, most urgent first, then
    soonest); with another status, the tasks of their community (and those they
    hold a place on) in that status, newest first. A `community_id` other than
    their own gives an empty list. Staff: every task in their part of the tree,
    in any status unless filtered, newest start first.
    """

    status = _enum_in(TaskStatus)
    service_type = _text(32)
    community_id = _row_id()
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100_000))
    per_page = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


TASK_TIME_RANGE = ma.validate.Range(
    min=tasks.EARLIEST_TIME, max=tasks.LATEST_TIME, max_inclusive=False, error=tasks.TIME_RANGE_MESSAGE
)


def _task_time(description: str) -> ma.fields.AwareDateTime:
    return ma.fields.AwareDateTime(
        required=True,
        validate=TASK_TIME_RANGE,
        metadata={"description": description + "; UTC from 2000 up to 2100"},
    )


class TaskIn(Strict):
    """A task for a household; the rules (window, slots, duration) are the service's."""

    household_id = _row_id(required=True, strict=True)
    service_type = _text(32, required=True, metadata={"description": "a code from GET /service-types"})
    starts_at = _task_time("ISO 8601 with an offset; a time without one is refused")
    ends_at = _task_time("after starts_at, within a day")
    slots = ma.fields.Integer(
        strict=True, load_default=1, metadata={"description": "volunteers wanted, 1 to 20"}
    )
    description = _text(500, required=True, metadata={"description": "the note for the volunteer"})
    expected_minutes = ma.fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        metadata={"description": "10 to the window's length; default the window's length"},
    )
    urgency = _enum_in(Urgency, load_default=Urgency.NORMAL)
    need_id = _row_id(
        strict=True, allow_none=True, load_default=None, metadata={"description": "an open need it meets"}
    )


class UnclaimIn(Strict):
    reason = _text(300, required=True)


# --- responses ---------------------------------------------------------------


class HouseholdContact(ma.Schema):
    """What a visit needs: shown only to staff and to volunteers holding a place."""

    id = ma.fields.Integer(required=True)
    address = ma.fields.String(required=True)
    contact_phone = ma.fields.String(required=True)
    head_name = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the householder, masked (张*明)"},
    )


class TaskSummary(ma.Schema):
    id = ma.fields.Integer(required=True)
    service_type = ma.fields.Nested(ServiceTypeBrief, required=True)
    description = ma.fields.String(required=True)
    grid = ma.fields.Nested(GridOut, required=True)
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    expected_minutes = ma.fields.Integer(required=True)
    slots = ma.fields.Integer(required=True)
    taken = ma.fields.Integer(required=True, metadata={"description": "places held"})
    urgency = ma.fields.String(required=True, validate=_one_of(Urgency))
    status = ma.fields.String(required=True, validate=_one_of(TaskStatus))
    created_at = ma.fields.AwareDateTime(required=True)


class TaskPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TaskSummary), required=True)
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)


class ClaimOut(ma.Schema):
    """A volunteer's place on a task, and their visit."""

    id = ma.fields.Integer(required=True)
    task_id = ma.fields.Integer(required=True)
    volunteer = ma.fields.Nested(UserRef, required=True)
    status = ma.fields.String(required=True, validate=_one_of(ClaimStatus))
    claimed_at = ma.fields.AwareDateTime(required=True)
    released_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    release_reason = ma.fields.String(required=True)
    check_in_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    check_out_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    confirmed_at = ma.fields.AwareDateTime(required=True, allow_none=True)


class TaskEventOut(ma.Schema):
    from_status = ma.fields.String(required=True, allow_none=True, validate=_one_of(TaskStatus))
    to_status = ma.fields.String(required=True, validate=_one_of(TaskStatus))
    actor_id = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "null: the system"})
    at = ma.fields.AwareDateTime(required=True)
    note = ma.fields.String(required=True)


class TaskDetail(TaskSummary):
    household = ma.fields.Nested(
        HouseholdContact,
        required=True,
        allow_none=True,
        metadata={"description": "null for a volunteer who holds no place on the task"},
    )
    claims = ma.fields.List(
        ma.fields.Nested(ClaimOut),
        required=True,
        metadata={"description": "staff: every claim; a volunteer: only their own"},
    )
    on_waitlist = ma.fields.Boolean(
        required=True, metadata={"description": "the caller is waiting for a place"}
    )
    events = ma.fields.List(
        ma.fields.Nested(TaskEventOut),
        required=True,
        allow_none=True,
        metadata={"description": "the status history; null for volunteers"},
    )


class WaitlistOut(ma.Schema):
    task_id = ma.fields.Integer(required=True)
    position = ma.fields.Integer(required=True, metadata={"description": "1: first in line"})
    created_at = ma.fields.AwareDateTime(required=True)

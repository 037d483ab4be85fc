"""Service tasks over the API: the board, posting, claiming, the waiting list.

Grid and community workers post tasks for households in their scope;
volunteers see the open tasks of their own community and claim them; a
household's address and phone reach a volunteer only once they hold a place
(app/services/privacy.py). Check-in, check-out and confirmation live in
visits.py. A task outside the caller's reach answers 404 like a missing one.
"""

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.blueprints.api.blueprint import Blueprint
from app.blueprints.api.paths import id_path
from app.blueprints.api.security import (
    BAD_BODY,
    BAD_QUERY,
    BEARER,
    UNAUTHORIZED,
    current_api_user,
    token_required,
)
from app.blueprints.api.serializers import page_of
from app.blueprints.api.task_schemas import (
    ClaimOut,
    TaskDetail,
    TaskIn,
    TaskPage,
    TaskQuery,
    UnclaimIn,
    WaitlistOut,
)
from app.blueprints.api.task_serializers import claim_out, task_detail, task_summary, waitlist_out
from app.extensions import ErrorBody, db
from app.models import Claim, Role, Task
from app.services import tasks
from app.services.households import LEDGER_READERS, LEDGER_WRITERS

blp = Blueprint("api_tasks", __name__, url_prefix="/tasks", description="Service tasks")

TASK = "/" + id_path("task_id")

READERS = (Role.VOLUNTEER, *LEDGER_READERS)
FORBIDDEN_READ = "forbidden: only volunteers and staff see tasks"
FORBIDDEN_WRITE = "forbidden: only grid workers and community workers post tasks"
FORBIDDEN_VOLUNTEER = "forbidden: only volunteers claim tasks"
NOT_FOUND = "not_found: no such task, or not in the caller's community or part of the tree"
CLAIM_CONFLICTS = (
    "task_full: every place is taken (join the waiting list); already_claimed; "
    "task_started; task_not_open; own_household; overlapping_task: another task at this time; "
    "partner_volunteers_only: the task came from a partner organisation's offer and only that "
    "organisation's volunteers may claim it"
)

DETAIL_OPTIONS = (
    selectinload(Task.service_type),
    selectinload(Task.grid),
    selectinload(Task.claims).selectinload(Claim.volunteer),
    selectinload(Task.events),
)


@blp.get("")
@token_required(*READERS)
@blp.arguments(TaskQuery, location="query", as_kwargs=True)
@blp.response(200, TaskPage)
@blp.alt_response(400, schema=ErrorBody, description=BAD_QUERY)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN_READ)
@blp.alt_response(422, schema=ErrorBody, description="validation_error: a query parameter is not acceptable")
@blp.doc(security=BEARER)
def list_tasks(page, per_page, status=None, service_type=None, community_id=None):
    """Tasks the caller may see, a page at a time, never with a household's address.

    Volunteers: without `status` or with `status=open`, the board — open tasks
    of their community that have not started, most urgent first, then soonest;
    with another status, their community's tasks (and those they hold a place
    on) in that status. A `community_id` other than their own gives an empty
    list. Staff: every task in their part of the tree, newest start first.
    """
    stmt = tasks.tasks_stmt(
        current_api_user(), status=status, service_type=service_type, community_id=community_id
    )
    return page_of(stmt, page, per_page, task_summary)


@blp.post("")
@token_required(*LEDGER_WRITERS)
@blp.arguments(TaskIn)
@blp.response(201, TaskDetail)
@blp.alt_response(400, schema=ErrorBody, description=BAD_BODY)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN_WRITE)
@blp.alt_response(404, schema=ErrorBody, description="not_found: no such household in the caller's scope")
@blp.alt_response(409, schema=ErrorBody, description="household_exited: the household has left the registry")
@blp.alt_response(
    422,
    schema=ErrorBody,
    description="validation_error (shape, a time without an offset), unknown_service_type, invalid_time, "
    "invalid_window, start_in_past, invalid_slots, invalid_duration, invalid_text, unknown_need",
)
@blp.doc(security=BEARER)
def create_task(body):
    """Post a task for a household: a service, a time window and the volunteers wanted."""
    actor = current_api_user()
    data = tasks.TaskData(service_type_code=body.pop("service_type"), **body)
    task = tasks.create_task(actor, data)
    return _detail(actor, task.id)


@blp.get(TASK)
@token_required(*READERS)
@blp.response(200, TaskDetail)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN_READ)
@blp.alt_response(404, schema=ErrorBody, description=NOT_FOUND)
@blp.doc(security=BEARER)
def get_task(task_id):
    """One task with its status and claims. A volunteer sees only their own
    claim, and the household's address, phone and masked householder only
    while holding a place; staff see every claim and the status history."""
    return _detail(current_api_user(), task_id)


@blp.post(TASK + "/claim")
@token_required(Role.VOLUNTEER)
@blp.response(200, ClaimOut)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN_VOLUNTEER)
@blp.alt_response(404, schema=ErrorBody, description=NOT_FOUND)
@blp.alt_response(409, schema=ErrorBody, description=CLAIM_CONFLICTS)
@blp.doc(security=BEARER)
def claim_task(task_id):
    """Take a place on the task; the household's address is then in GET /tasks/{id}."""
    claim = tasks.claim_task(current_api_user(), task_id)
    return claim_out(_claim(claim.id))


@blp.post(TASK + "/unclaim")
@token_required(Role.VOLUNTEER)
@blp.arguments(UnclaimIn)
@blp.response(200, ClaimOut)
@blp.alt_response(400, schema=ErrorBody, description=BAD_BODY)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN_VOLUNTEER)
@blp.alt_response(
    404, schema=ErrorBody, description="not_claimed: the caller holds no open claim on this task"
)
@blp.alt_response(409, schema=ErrorBody, description="task_started: too late to give the place back")
@blp.alt_response(422, schema=ErrorBody, description="validation_error (shape), reason_required")
@blp.doc(security=BEARER)
def unclaim_task(body, task_id):
    """Give the place back before the task starts, with a reason; the first
    volunteer on the waiting list who can take it gets it."""
    claim = tasks.unclaim_task(current_api_user(), task_id, body["reason"])
    return claim_out(_claim(claim.id))


@blp.post(TASK + "/waitlist")
@token_required(Role.VOLUNTEER)
@blp.response(201, WaitlistOut)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN_VOLUNTEER)
@blp.alt_response(404, schema=ErrorBody, description=NOT_FOUND)
@blp.alt_response(
    409,
    schema=ErrorBody,
    description="not_full: only a full task has a waiting list; already_waiting; already_claimed; "
    "own_household; partner_volunteers_only; overlapping_task",
)
@blp.doc(security=BEARER)
def join_waitlist(task_id):
    """Wait for a place on a full task; a freed place goes to the first in line."""
    volunteer = current_api_user()
    entry = tasks.join_waitlist(volunteer, task_id)
    return waitlist_out(entry, tasks.waitlist_position(volunteer, task_id))


@blp.delete(TASK + "/waitlist")
@token_required(Role.VOLUNTEER)
@blp.response(204)
@blp.alt_response(401, schema=ErrorBody, description=UNAUTHORIZED)
@blp.alt_response(403, schema=ErrorBody, description=FORBIDDEN_VOLUNTEER)
@blp.alt_response(
    404, schema=ErrorBody, description="not_waiting: the caller is not on this task's waiting list"
)
@blp.doc(security=BEARER)
def leave_waitlist(task_id):
    """Leave the task's waiting list."""
    tasks.leave_waitlist(current_api_user(), task_id)


def _detail(actor, task_id: int) -> dict:
    task = tasks.get_task(actor, task_id, options=DETAIL_OPTIONS)
    waiting = tasks.waitlist_position(actor, task.id) is not None
    return task_detail(actor, task, on_waitlist=waiting)


def _claim(claim_id: int) -> Claim:
    """The claim with its volunteer, as committed."""
    return db.session.scalar(
        sa.select(Claim).where(Claim.id == claim_id).options(selectinload(Claim.volunteer))
    )

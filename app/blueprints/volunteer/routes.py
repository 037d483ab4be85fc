"""The volunteer's task pages: thin views over app/services/tasks.py.

A refusal (task full, already started, overlapping…) is flashed and the
volunteer is sent back to the task; a task outside their community is 404.
What of the household a volunteer sees is decided by app/services/privacy.py.
"""

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app import clock
from app.auth_scope import role_required
from app.blueprints.volunteer import bp
from app.blueprints.volunteer.forms import BoardFilterForm
from app.extensions import db
from app.models import Claim, Grid, Role, Task, WaitlistEntry
from app.services import tasks
from app.services.catalogue import active_service_types, list_skills
from app.services.errors import DomainError
from app.services.privacy import household_contact

PER_PAGE = 20


@bp.get("/")
@role_required(Role.VOLUNTEER)
def board():
    form = BoardFilterForm(request.args)
    form.set_choices(active_service_types(), list_skills())
    stmt = tasks.board_stmt(current_user, **form.filters()).options(
        selectinload(Task.grid).selectinload(Grid.community)
    )
    page = db.paginate(stmt, per_page=PER_PAGE)
    return render_template("volunteer/board.html", form=form, page=page, args=form.query_args())


@bp.get("/<int:task_id>")
@role_required(Role.VOLUNTEER)
def task(task_id: int):
    task = tasks.get_task(
        current_user,
        task_id,
        options=(selectinload(Task.service_type), selectinload(Task.grid).selectinload(Grid.community)),
    )
    claim, waiting = _standing(task.id)
    return render_template(
        "volunteer/task.html",
        task=task,
        contact=household_contact(current_user, task),
        claim=claim,
        waiting=waiting,
        started=task.starts_at <= clock.now(),
    )


def _standing(task_id: int) -> tuple[Claim | None, bool]:
    """The current user's claim on the task (if any) and whether they are waiting."""
    claim = db.session.scalar(
        sa.select(Claim).where(Claim.task_id == task_id, Claim.volunteer_id == current_user.id)
    )
    waiting = db.session.scalar(
        sa.select(
            sa.exists().where(WaitlistEntry.task_id == task_id, WaitlistEntry.volunteer_id == current_user.id)
        )
    )
    return claim, bool(waiting)


def _act(task_id: int, call, done: str):
    """Run a service call for this task; flash its success or its refusal; back to the task."""
    tasks.get_task(current_user, task_id)  # outside the volunteer's area: 404
    try:
        call()
    except DomainError as error:
        flash(str(error.message), "error")
    else:
        flash(done, "success")
    return redirect(url_for("volunteer.task", task_id=task_id))


@bp.post("/<int:task_id>/claim")
@role_required(Role.VOLUNTEER)
def claim(task_id: int):
    return _act(
        task_id,
        lambda: tasks.claim_task(current_user, task_id),
        _("You have a place on this task. The address is below."),
    )


@bp.post("/<int:task_id>/unclaim")
@role_required(Role.VOLUNTEER)
def unclaim(task_id: int):
    reason = request.form.get("reason", "")
    return _act(
        task_id,
        lambda: tasks.unclaim_task(current_user, task_id, reason),
        _("You have given your place back."),
    )


@bp.post("/<int:task_id>/waitlist")
@role_required(Role.VOLUNTEER)
def join_waitlist(task_id: int):
    return _act(
        task_id,
        lambda: tasks.join_waitlist(current_user, task_id),
        _("You are on the waiting list. If a place is freed, it is yours."),
    )


@bp.post("/<int:task_id>/waitlist/leave")
@role_required(Role.VOLUNTEER)
def leave_waitlist(task_id: int):
    return _act(
        task_id, lambda: tasks.leave_waitlist(current_user, task_id), _("You have left the waiting list.")
    )


@bp.get("/mine")
@role_required(Role.VOLUNTEER)
def mine():
    page = db.paginate(tasks.my_claims_stmt(current_user, current=True), per_page=PER_PAGE)
    return render_template("volunteer/claims.html", page=page, current=True)


@bp.get("/history")
@role_required(Role.VOLUNTEER)
def history():
    page = db.paginate(tasks.my_claims_stmt(current_user, current=False), per_page=PER_PAGE)
    return render_template("volunteer/claims.html", page=page, current=False)

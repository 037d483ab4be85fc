"""Staff task pages: thin views over app/services/tasks.py and series.py."""

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.auth_scope import role_required, scoped
from app.blueprints.forms import attach_error
from app.blueprints.tasks_staff import bp
from app.blueprints.tasks_staff.forms import CancelForm, TaskFilterForm, TaskForm
from app.extensions import db
from app.models import Claim, Grid, Household, Need, NeedStatus, Role, Task, TaskEvent
from app.services import households, series, tasks
from app.services.accounts import find_by_phone
from app.services.catalogue import active_service_types
from app.services.errors import DomainError, NotFound

READERS = households.LEDGER_READERS
WRITERS = households.LEDGER_WRITERS
WEEK = 7


def _open_needs(household_id: int) -> list[Need]:
    return list(
        db.session.scalars(
            sa.select(Need)
            .where(Need.household_id == household_id, Need.status == NeedStatus.OPEN)
            .options(selectinload(Need.service_type))
            .order_by(Need.id)
        )
    )


def _post(form, household_id: int):
    """Post one task or a weekly series; the first task, or None with errors on the form."""
    data = form.task_data(household_id)
    try:
        if not form.repeat.data:
            return tasks.create_task(current_user, data)
        paired = None
        if form.paired_volunteer.data:
            paired = find_by_phone(form.paired_volunteer.data.strip())
            if paired is None:
                form.paired_volunteer.errors.append(_("No volunteer has this phone number."))
                return None
        posted = series.create_series(
            current_user, data, WEEK, form.until.data, paired_volunteer_id=paired.id if paired else None
        )[1]
        flash(
            ngettext("%(num)d visit has been posted.", "%(num)d visits have been posted.", len(posted)),
            "success",
        )
        return posted[0]
    except NotFound:
        raise
    except DomainError as error:
        if not attach_error(form, error):
            flash(str(error.message), "error")
        return None


@bp.route("/new", methods=["GET", "POST"])
@role_required(*WRITERS)
def new_task():
    household_id = request.args.get("household_id", type=int)
    household = households.get_household(current_user, household_id)
    needs = _open_needs(household.id)
    form = TaskForm()
    form.set_choices(needs, active_service_types())
    if request.method == "GET":
        need = next((n for n in needs if n.id == request.args.get("need_id", type=int)), None)
        if need is not None:
            form.need_id.data, form.service_type.data = need.id, need.service_type_code
            form.urgency.data, form.description.data = need.urgency, need.description
    if form.validate_on_submit() and (task := _post(form, household.id)) is not None:
        if not form.repeat.data:
            flash(_("The task has been posted."), "success")
        return redirect(url_for("tasks_staff.task", task_id=task.id))
    return render_template("tasks_staff/new.html", form=form, household=household)


@bp.get("/")
@role_required(*READERS)
def index():
    form = TaskFilterForm(request.args)
    stmt = scoped(sa.select(Task), Task, current_user).options(
        selectinload(Task.service_type),
        selectinload(Task.grid),
        selectinload(Task.household).selectinload(Household.members),
    )
    status = form.filters().get("status")
    if status is not None:
        stmt = stmt.where(Task.status == status)
    page = db.paginate(stmt.order_by(Task.created_at.desc(), Task.id.desc()), per_page=30)
    return render_template("tasks_staff/index.html", form=form, page=page, args=form.query_args())


TASK_PAGE = (
    selectinload(Task.service_type),
    selectinload(Task.grid).selectinload(Grid.community),
    selectinload(Task.household).selectinload(Household.members),
    selectinload(Task.events).selectinload(TaskEvent.actor),
    selectinload(Task.claims).selectinload(Claim.volunteer),
)


@bp.get("/<int:task_id>")
@role_required(*READERS)
def task(task_id: int):
    task = tasks.get_task(current_user, task_id, options=TASK_PAGE)
    can_cancel = current_user.has_role(Role.ADMIN, *WRITERS) and task.status in tasks.CANCELLABLE
    return render_template("tasks_staff/task.html", task=task, form=CancelForm(), can_cancel=can_cancel)


@bp.post("/<int:task_id>/cancel")
@role_required(*WRITERS)
def cancel(task_id: int):
    form = CancelForm()
    if not form.validate_on_submit():
        for message in form.reason.errors:
            flash(str(message), "error")
        tasks.get_task(current_user, task_id)  # another grid's task: 404, not a flash
        return redirect(url_for("tasks_staff.task", task_id=task_id))
    try:
        tasks.cancel_task(current_user, task_id, form.reason.data)
    except NotFound:
        raise
    except DomainError as error:
        flash(str(error.message), "error")
    else:
        flash(_("The task has been cancelled; its volunteers have been told."), "success")
    return redirect(url_for("tasks_staff.task", task_id=task_id))

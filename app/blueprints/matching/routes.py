"""Suggested volunteers for a task with invitations, and visit follow-ups."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.auth_scope import role_required
from app.blueprints.forms import attach_error
from app.blueprints.matching import bp
from app.blueprints.matching.forms import FollowUpForm, InviteForm
from app.extensions import db
from app.models import Task, User
from app.services import follow_up, matching
from app.services.errors import DomainError
from app.services.households import LEDGER_WRITERS
from app.services.notifications import local_time


def _actor():
    return current_user._get_current_object()


@bp.get("/tasks/<int:task_id>")
@role_required(*LEDGER_WRITERS)
def task(task_id: int):
    found = matching.get_matchable_task(_actor(), task_id)
    suggestions = matching.suggest_volunteers(_actor(), task_id)
    return render_template(
        "matching/task.html",
        task=found,
        when=local_time(found.starts_at),
        matchable=matching.is_matchable(found),
        suggestions=suggestions,
        form=InviteForm(),
    )


@bp.post("/tasks/<int:task_id>/invite")
@role_required(*LEDGER_WRITERS)
def invite(task_id: int):
    matching.get_matchable_task(_actor(), task_id)  # 404 before anything else
    form = InviteForm()
    if not form.validate_on_submit():
        flash(_("Choose a volunteer from the list."), "error")
        return redirect(url_for("matching.task", task_id=task_id))
    try:
        sent = matching.invite(_actor(), task_id, int(form.volunteer_id.data))
    except DomainError as error:
        flash(str(error.message), "error")
    else:
        if sent is None:
            flash(_("This volunteer has turned invitations off; nothing was sent."), "error")
        else:
            flash(_("Invitation sent."), "success")
    return redirect(url_for("matching.task", task_id=task_id))


@bp.route("/claims/<int:claim_id>/follow-up", methods=["GET", "POST"])
@role_required(*LEDGER_WRITERS)
def claim_follow_up(claim_id: int):
    claim, found = follow_up.get_follow_up_claim(_actor(), claim_id)
    form = FollowUpForm()
    if form.validate_on_submit():
        try:
            follow_up.record_visit_follow_up(
                _actor(), claim_id, int(form.satisfaction.data), form.note.data, form.complaint.data
            )
        except DomainError as error:
            if not attach_error(form, error):
                flash(str(error.message), "error")
        else:
            flash(_("Follow-up saved."), "success")
            return redirect(url_for("matching.claim_follow_up", claim_id=claim_id))
    task = db.session.scalar(
        db.select(Task).where(Task.id == found.id).options(selectinload(Task.service_type))
    )
    volunteer = db.session.get(User, claim.volunteer_id)
    return render_template(
        "matching/follow_up.html",
        claim=claim,
        task=task,
        when=local_time(task.starts_at),
        volunteer=volunteer,
        flags=follow_up.volunteer_flags(claim.volunteer_id),
        form=form,
    )

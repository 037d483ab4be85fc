"""The visit pages for volunteers, residents and family proxies.

`/d/<door_token>` is what a phone camera opens from a door card and
`/c/<token>` what it opens from a volunteer's confirmation QR; both are
public and never show anything about the household.
"""

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth_scope import role_required
from app.blueprints.forms import attach_error
from app.blueprints.visits import bp
from app.blueprints.visits.forms import ActionForm, ConfirmForm, DoorActionForm
from app.extensions import limiter
from app.models import Role
from app.services import proxy_confirmations, qr, visits
from app.services.errors import DomainError
from app.services.privacy import mask_name

NO_STORE = {"Cache-Control": "no-store"}


def _refused(error: DomainError):
    """A plain page saying why, with the error's status (never a stack trace)."""
    return render_template("visits/refused.html", message=str(error.message)), error.status


# --- at the door ------------------------------------------------------------------


@bp.get("/d")
def door_by_code():
    """The short code typed from a printed door card: on to that card's page."""
    code = (request.args.get("code") or "").strip().replace(" ", "")
    if not code or len(code) > 12:
        return redirect(request.referrer or url_for("public.index"))
    return redirect(url_for("visits.door", door_token=code))


@bp.get("/d/<door_token>")
def door(door_token: str):
    """The door card's page: a check-in or check-out button for a volunteer due here now."""
    try:
        card = visits.card_from_token(door_token)
    except DomainError:
        return render_template("visits/door.html", valid=False, actions=[]), 404
    actions = [
        (task, action, DoorActionForm(task_id=task.id))
        for task, action in visits.door_actions(current_user, card)
    ]
    return render_template("visits/door.html", valid=True, actions=actions, door_token=door_token)


@bp.post("/d/<door_token>/<any('check-in', 'check-out'):action>")
@role_required(Role.VOLUNTEER)
def door_action(door_token: str, action: str):
    form = DoorActionForm()
    if not form.validate_on_submit() or not form.task_id.data.isdigit():
        flash(_("The form was not complete. Please try again."), "error")
        return redirect(url_for("visits.door", door_token=door_token))
    task_id = int(form.task_id.data)
    try:
        if action == "check-in":
            visits.check_in(current_user, task_id, door_token)
        else:
            visits.check_out(current_user, task_id, door_token)
    except DomainError as error:
        flash(str(error.message), "error")
        return redirect(url_for("visits.door", door_token=door_token))
    if action == "check-in":
        flash(_("Checked in. Thank you for coming!"), "success")
        return redirect(url_for("visits.door", door_token=door_token))
    flash(_("Checked out. Now show the resident this QR code to confirm the visit."), "success")
    return redirect(url_for("visits.confirm_qr", task_id=task_id))


# --- the volunteer's confirmation QR ----------------------------------------------------


@bp.get("/visits/<int:task_id>/confirm-qr")
@role_required(Role.VOLUNTEER)
def confirm_qr(task_id: int):
    try:
        _url, expires_at = visits.current_confirmation_link(current_user, task_id)
    except DomainError as error:
        return _refused(error)
    page = render_template(
        "visits/confirm_qr.html",
        task_id=task_id,
        expires=format_datetime(expires_at, "short"),
        form=ActionForm(),
    )
    return page, 200, NO_STORE


@bp.post("/visits/<int:task_id>/confirm-qr")
@role_required(Role.VOLUNTEER)
def new_confirm_qr(task_id: int):
    """A fresh link: the one shown before stops working."""
    if ActionForm().validate_on_submit():
        try:
            visits.confirmation_link(current_user, task_id)
        except DomainError as error:
            return _refused(error)
    return redirect(url_for("visits.confirm_qr", task_id=task_id))


@bp.get("/visits/<int:task_id>/confirmation.png")
@role_required(Role.VOLUNTEER)
def confirmation_png(task_id: int):
    url, _expires = visits.current_confirmation_link(current_user, task_id)
    response = make_response(qr.png(url))
    response.headers.update({"Content-Type": "image/png", **NO_STORE})
    return response


# --- the resident's confirmation ------------------------------------------------------


@bp.route("/c/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def confirm(token: str):
    """One question in large type: did this volunteer help you today? No login."""
    try:
        _claim, volunteer_name = visits.confirmation_view(token, current_user)
    except DomainError as error:
        return _refused(error)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            visits.confirm_visit(token, form.rating.data, form.comment.data, viewer=current_user)
        except DomainError as error:
            if error.field and attach_error(form, error):
                return render_template(
                    "visits/confirm.html", form=form, volunteer=volunteer_name, token=token
                )
            return _refused(error)
        return redirect(url_for("visits.confirmed"))
    status = 422 if form.is_submitted() else 200
    return render_template("visits/confirm.html", form=form, volunteer=volunteer_name, token=token), status


@bp.get("/c/thanks")
def confirmed():
    return render_template("visits/confirmed.html")


# --- family proxies (亲情代理) -------------------------------------------------------------


@bp.get("/visits/pending")
@login_required
def pending():
    """Visits to the households the user is a family proxy of, waiting for confirmation."""
    claims = proxy_confirmations.pending_for_proxy(current_user)
    forms = {claim.id: ConfirmForm(prefix=f"c{claim.id}") for claim in claims}
    return render_template("visits/pending.html", claims=claims, forms=forms, mask=mask_name)


@bp.post("/visits/pending/<int:claim_id>")
@login_required
def confirm_pending(claim_id: int):
    form = ConfirmForm(prefix=f"c{claim_id}")
    if not form.validate_on_submit():
        flash(_("Choose a score from 1 to 5."), "error")
        return redirect(url_for("visits.pending"))
    try:
        proxy_confirmations.confirm_as_proxy(current_user, claim_id, form.rating.data, form.comment.data)
    except DomainError as error:
        if error.status == 404:
            raise
        flash(str(error.message), "error")
    else:
        flash(_("Thank you. The visit is confirmed."), "success")
    return redirect(url_for("visits.pending"))

"""A volunteer's organisations (/me/organisations): invitations to accept or
decline, memberships to leave, and the open tasks reserved for their
organisations."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth_scope import role_required
from app.blueprints.forms import apply_form
from app.blueprints.supply import me_bp
from app.blueprints.supply.forms import ActionForm
from app.models import Role
from app.services import supply_members


def _actor():
    return current_user._get_current_object()


@me_bp.get("")
@role_required(Role.VOLUNTEER)
def organisations():
    return render_template(
        "supply/me.html",
        memberships=supply_members.my_memberships(_actor()),
        tasks=supply_members.organisation_tasks(_actor()),
        form=ActionForm(),
    )


@me_bp.post("/<int:member_id>/accept")
@role_required(Role.VOLUNTEER)
def accept(member_id: int):
    if apply_form(ActionForm(), supply_members.answer, member_id, True)[0]:
        flash(_("You are now a volunteer of this organisation; its tasks are on your task board."), "success")
    return redirect(url_for("supply_me.organisations"))


@me_bp.post("/<int:member_id>/decline")
@role_required(Role.VOLUNTEER)
def decline(member_id: int):
    if apply_form(ActionForm(), supply_members.answer, member_id, False)[0]:
        flash(_("Invitation declined."), "success")
    return redirect(url_for("supply_me.organisations"))


@me_bp.post("/<int:member_id>/leave")
@role_required(Role.VOLUNTEER)
def leave(member_id: int):
    if apply_form(ActionForm(), supply_members.leave, member_id)[0]:
        flash(_("You have left the organisation."), "success")
    return redirect(url_for("supply_me.organisations"))

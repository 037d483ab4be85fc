"""Staff pages of matching (需求与供给): a community's open needs with the
offers and volunteers that could meet them and why; accepting or declining
an offer for a need; inviting a suggested volunteer to a need's task."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth_scope import role_required
from app.blueprints.forms import apply_form, attach_error, form_status
from app.blueprints.supply import bp
from app.blueprints.supply.forms import AcceptForm, DeclineForm, InviteVolunteerForm
from app.models import Role
from app.services import matching, supply_decisions, supply_matching
from app.services.errors import DomainError
from app.services.households import LEDGER_READERS, LEDGER_WRITERS


def _actor():
    return current_user._get_current_object()


@bp.get("/communities")
@role_required(*LEDGER_READERS)
def communities():
    rows = supply_matching.communities_in_scope(_actor())
    if len(rows) == 1:
        return redirect(url_for("supply.community", community_id=rows[0][0].id))
    return render_template("supply/communities.html", rows=rows)


@bp.get("/communities/<int:community_id>")
@role_required(*LEDGER_READERS)
def community(community_id: int):
    page_number = request.args.get("page", 1, type=int)
    found, page, cards = supply_matching.community_needs(_actor(), community_id, page_number)
    return render_template(
        "supply/community.html",
        community=found,
        page=page,
        cards=cards,
        decides=current_user.has_role(Role.ADMIN, *LEDGER_WRITERS),
        invite_form=InviteVolunteerForm(),
    )


def _match_page(need_id: int, offer_id: int, accept_form, decline_form):
    view = supply_decisions.match_view(_actor(), need_id, offer_id)
    if not accept_form.is_submitted():
        accept_form.org_description.data = supply_decisions.default_org_description(view.service, view.need)
    page = render_template("supply/match.html", view=view, accept_form=accept_form, decline_form=decline_form)
    return page, form_status(accept_form, decline_form)


@bp.get("/needs/<int:need_id>/offers/<int:offer_id>")
@role_required(*LEDGER_WRITERS)
def match(need_id: int, offer_id: int):
    return _match_page(need_id, offer_id, AcceptForm(formdata=None), DeclineForm(formdata=None))


def _back(need_id: int):
    need, _household, community = supply_decisions.need_in_scope(_actor(), need_id)
    return redirect(url_for("supply.community", community_id=community.id, _anchor=f"need-{need.id}"))


@bp.post("/needs/<int:need_id>/offers/<int:offer_id>/accept")
@role_required(*LEDGER_WRITERS)
def accept(need_id: int, offer_id: int):
    supply_decisions.match_view(_actor(), need_id, offer_id)  # 404 before reading the form
    form = AcceptForm()
    if form.validate_on_submit():
        try:
            supply_decisions.accept_match(_actor(), need_id, offer_id, form.to_data())
        except DomainError as error:
            if error.status == 404:
                raise
            if not attach_error(form, error):
                flash(str(error.message), "error")
        else:
            flash(_("Accepted. The organisation sees the need as you described it."), "success")
            return _back(need_id)
    return _match_page(need_id, offer_id, form, DeclineForm(formdata=None))


@bp.post("/needs/<int:need_id>/offers/<int:offer_id>/decline")
@role_required(*LEDGER_WRITERS)
def decline(need_id: int, offer_id: int):
    form = DeclineForm()
    supply_decisions.match_view(_actor(), need_id, offer_id)
    if apply_form(form, supply_decisions.decline_match, need_id, offer_id, form.reason.data)[0]:
        flash(_("Declined; this offer is no longer suggested for this need."), "success")
        return _back(need_id)
    return _match_page(need_id, offer_id, AcceptForm(formdata=None), form)


@bp.post("/communities/<int:community_id>/invite")
@role_required(*LEDGER_WRITERS)
def invite(community_id: int):
    """Invite a suggested volunteer to a need's open task (matching.invite), then back to the page."""
    supply_matching.get_community(_actor(), community_id)
    form = InviteVolunteerForm()
    if not form.validate_on_submit():
        flash(_("Choose a volunteer from the list."), "error")
    else:
        try:
            sent = matching.invite(_actor(), int(form.task_id.data), int(form.volunteer_id.data))
        except DomainError as error:
            if error.status == 404:
                raise
            flash(str(error.message), "error")
        else:
            if sent is None:
                flash(_("This volunteer has turned invitations off; nothing was sent."), "error")
            else:
                flash(_("Invitation sent."), "success")
    return redirect(url_for("supply.community", community_id=community_id))

"""Staff pages of the visit: door cards (one household, or a grid's printable
sheet), family proxies, and confirming a visit by follow-up call (回访)."""

from flask import flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth_scope import role_required
from app.blueprints.forms import attach_error
from app.blueprints.visits import bp
from app.blueprints.visits.forms import ActionForm, FollowUpCallForm, ProxyForm
from app.models import Role
from app.services import households, proxy_confirmations, qr, visits
from app.services.errors import DomainError, NotFound
from app.services.households import LEDGER_READERS as READERS
from app.services.households import LEDGER_WRITERS as WRITERS
from app.services.privacy import mask_name

HOUSEHOLD = "/registry/<int:household_id>"


def _to_card(household_id: int):
    return redirect(url_for("visits.door_card", household_id=household_id))


def _card_or_404(household_id: int):
    _household, card = visits.door_card_of(current_user, household_id)
    if card is None:
        raise NotFound(_("This household has no door card yet."), code="no_door_card")
    return card


def _image(body, mimetype: str):
    response = make_response(body)
    response.headers.update({"Content-Type": mimetype, "Cache-Control": "private, no-store"})
    return response


@bp.get(HOUSEHOLD + "/door-card")
@role_required(*READERS)
def door_card(household_id: int):
    household, card = visits.door_card_of(current_user, household_id)
    proxies = proxy_confirmations.proxies_of(current_user, household_id)
    return render_template(
        "visits/door_card.html",
        household=household,
        card=card,
        proxies=proxies,
        action=ActionForm(),
        proxy_form=ProxyForm(),
        can_write=current_user.has_role(Role.ADMIN, *WRITERS),
    )


@bp.post(HOUSEHOLD + "/door-card/<any(issue, revoke):change>")
@role_required(*WRITERS)
def change_door_card(household_id: int, change: str):
    if ActionForm().validate_on_submit():
        call = visits.issue_door_card if change == "issue" else visits.revoke_door_card
        try:
            call(current_user, household_id)
        except NotFound:
            raise
        except DomainError as error:
            flash(str(error.message), "error")
        else:
            message = (
                _("The door card was issued. Any earlier card no longer works.")
                if change == "issue"
                else _("The door card was revoked.")
            )
            flash(message, "success")
    return _to_card(household_id)


@bp.get(HOUSEHOLD + "/door-card.png")
@role_required(*READERS)
def door_card_png(household_id: int):
    return _image(qr.png(visits.door_url(_card_or_404(household_id))), "image/png")


@bp.get(HOUSEHOLD + "/door-card.svg")
@role_required(*READERS)
def door_card_svg(household_id: int):
    return _image(qr.svg(visits.door_url(_card_or_404(household_id))), "image/svg+xml")


@bp.get("/registry/grids/<int:grid_id>/door-cards")
@role_required(*READERS)
def door_card_sheet(grid_id: int):
    """A printable A4 sheet of the grid's door cards, QR and short code each."""
    households = visits.grid_households(current_user, grid_id)
    cards = [(household, visits.current_card(household.id)) for household in households]
    return render_template("visits/door_card_sheet.html", grid_id=grid_id, cards=cards, action=ActionForm())


@bp.post("/registry/grids/<int:grid_id>/door-cards")
@role_required(*WRITERS)
def issue_missing_cards(grid_id: int):
    if ActionForm().validate_on_submit():
        issued = visits.issue_missing_cards(current_user, grid_id)
        flash(_("%(n)d door cards issued.", n=issued), "success")
    return redirect(url_for("visits.door_card_sheet", grid_id=grid_id))


@bp.post(HOUSEHOLD + "/proxies")
@role_required(*WRITERS)
def link_proxy(household_id: int):
    households.get_household(current_user, household_id)  # another grid's household: 404, not a flash
    form = ProxyForm()
    if form.validate_on_submit():
        try:
            proxy_confirmations.link_proxy(current_user, household_id, form.phone.data, form.relation.data)
        except NotFound:
            raise
        except DomainError as error:
            flash(str(error.message), "error")
        else:
            flash(_("The family member can now confirm visits for this household."), "success")
    else:
        flash(_("Enter the family member's phone number and relation."), "error")
    return _to_card(household_id)


@bp.post(HOUSEHOLD + "/proxies/<int:proxy_id>/unlink")
@role_required(*WRITERS)
def unlink_proxy(household_id: int, proxy_id: int):
    if ActionForm().validate_on_submit():
        proxy_confirmations.unlink_proxy(current_user, household_id, proxy_id)
        flash(_("The family proxy was removed."), "success")
    return _to_card(household_id)


@bp.get("/registry/visits/awaiting")
@role_required(*READERS)
def awaiting():
    """Checked-out visits still waiting for the resident's confirmation."""
    return render_template(
        "visits/awaiting.html", claims=proxy_confirmations.awaiting_in_scope(current_user), mask=mask_name
    )


@bp.route("/registry/visits/<int:claim_id>/follow-up-call", methods=["GET", "POST"])
@role_required(*WRITERS)
def follow_up_call(claim_id: int):
    claim = proxy_confirmations.claim_for_staff(current_user, claim_id)
    form = FollowUpCallForm()
    if form.validate_on_submit():
        try:
            proxy_confirmations.confirm_by_follow_up_call(
                current_user, claim_id, form.note.data, form.rating_value
            )
        except NotFound:
            raise
        except DomainError as error:
            if not attach_error(form, error):
                flash(str(error.message), "error")
        else:
            flash(_("The visit is confirmed by follow-up call."), "success")
            return redirect(url_for("visits.awaiting"))
    return render_template("visits/follow_up.html", claim=claim, form=form, mask=mask_name)

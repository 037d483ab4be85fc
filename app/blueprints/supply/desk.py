"""The organisation desk: its offers (供给清单), accepted matches and volunteers;
and the street's offers for street officers, who may record one on an
organisation's behalf. Each view parses, calls one service and flashes or
redirects; refusals show beside their field."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import clock
from app.auth_scope import role_required
from app.blueprints.forms import apply_form, form_status
from app.blueprints.supply import bp
from app.blueprints.supply.forms import ActionForm, CloseOfferForm, InviteMemberForm, OfferForm
from app.extensions import db
from app.models import Role
from app.services import supply, supply_members
from app.services.catalogue import active_service_types
from app.services.errors import NotFound
from app.services.supply_org import org_matches

DESK = (Role.PARTNER, Role.STREET_OFFICER)


def _actor():
    return current_user._get_current_object()


@bp.get("/org")
@role_required(*DESK)
def desk_home():
    """An organisation's user goes to its desk (or chooses one); street officers to the street's offers."""
    if not current_user.has_role(Role.PARTNER):
        return redirect(url_for("supply.street_offers"))
    partners = supply.my_partners(_actor())
    if len(partners) == 1:
        return redirect(url_for("supply.desk", partner_id=partners[0].id))
    return render_template("supply/desk_choose.html", partners=partners)


@bp.get("/org/<int:partner_id>")
@role_required(*DESK)
def desk(partner_id: int):
    partner = supply.desk_partner(_actor(), partner_id)
    today = clock.today()
    offers = [(o, supply.offer_phase(o, today)) for o in supply.partner_offers(_actor(), partner_id)]
    return render_template(
        "supply/desk.html",
        partner=partner,
        offers=offers,
        phases=supply.PHASE_LABELS,
        can_edit=supply.can_edit,
    )


def _offer_form(partner, **kwargs) -> OfferForm:
    form = OfferForm(**kwargs)
    form.setup(active_service_types(), supply.street_communities(partner))
    return form


@bp.route("/org/<int:partner_id>/offers/new", methods=["GET", "POST"])
@role_required(*DESK)
def new_offer(partner_id: int):
    partner = supply.desk_partner(_actor(), partner_id)
    form = _offer_form(partner)
    if apply_form(form, supply.create_offer, partner_id, form.to_data())[0]:
        flash(_("The offer is published."), "success")
        return redirect(url_for("supply.desk", partner_id=partner_id))
    return render_template("supply/offer_form.html", partner=partner, form=form, offer=None), form_status(
        form
    )


def _partner_offer(partner_id: int, offer_id: int):
    offer = supply.get_offer(_actor(), offer_id, options=supply.OFFER_LOAD)
    if offer.partner_id != partner_id:
        raise NotFound()
    return offer


@bp.route("/org/<int:partner_id>/offers/<int:offer_id>", methods=["GET", "POST"])
@role_required(*DESK)
def offer(partner_id: int, offer_id: int):
    partner = supply.desk_partner(_actor(), partner_id)
    found = _partner_offer(partner_id, offer_id)
    form = _offer_form(partner)
    if not form.is_submitted():
        form.fill(found, [c.id for c in found.communities])
    if apply_form(form, supply.update_offer, offer_id, form.to_data())[0]:
        flash(_("Saved."), "success")
        return redirect(url_for("supply.desk", partner_id=partner_id))
    return _offer_page(partner, found, form, CloseOfferForm(formdata=None))


def _offer_page(partner, found, form, close_form):
    page = render_template(
        "supply/offer_form.html",
        partner=partner,
        form=form,
        offer=found,
        editable=supply.can_edit(found),
        phase=supply.PHASE_LABELS[supply.offer_phase(found, clock.today())],
        close_form=close_form,
    )
    return page, form_status(form, close_form)


@bp.post("/org/<int:partner_id>/offers/<int:offer_id>/close")
@role_required(*DESK)
def close_offer(partner_id: int, offer_id: int):
    partner = supply.desk_partner(_actor(), partner_id)
    found = _partner_offer(partner_id, offer_id)
    close_form = CloseOfferForm()
    done, closed = apply_form(close_form, supply.close_offer, offer_id, close_form.reason.data or "")
    if done:
        flash(_("The offer is %(status)s.", status=supply.PHASE_LABELS[closed.status.value]), "success")
        return redirect(url_for("supply.desk", partner_id=partner_id))
    form = _offer_form(partner)
    form.fill(found, [c.id for c in found.communities])
    return _offer_page(partner, found, form, close_form)


@bp.get("/org/<int:partner_id>/matches")
@role_required(*DESK)
def matches(partner_id: int):
    partner = supply.desk_partner(_actor(), partner_id)
    page = org_matches(_actor(), partner_id, request.args.get("page", 1, type=int))
    return render_template("supply/desk_matches.html", partner=partner, page=page)


@bp.route("/org/<int:partner_id>/members", methods=["GET", "POST"])
@role_required(*DESK)
def members(partner_id: int):
    partner = supply.desk_partner(_actor(), partner_id)
    form = InviteMemberForm()
    if apply_form(form, supply_members.invite, partner_id, form.phone.data)[0]:
        flash(_("Invitation sent. The volunteer becomes a member once they accept it."), "success")
        return redirect(url_for("supply.members", partner_id=partner_id))
    page = render_template(
        "supply/desk_members.html",
        partner=partner,
        rows=supply_members.members(_actor(), partner_id),
        manages=supply.acts_for(_actor(), partner.id),
        form=form,
        action=ActionForm(),
    )
    return page, form_status(form)


@bp.post("/org/<int:partner_id>/members/<int:user_id>/remove")
@role_required(*DESK)
def remove_member(partner_id: int, user_id: int):
    if apply_form(ActionForm(), supply_members.remove, partner_id, user_id)[0]:
        flash(_("Removed."), "success")
    return redirect(url_for("supply.members", partner_id=partner_id))


# --- street officers ----------------------------------------------------------------------------


@bp.get("/offers")
@role_required(Role.STREET_OFFICER)
def street_offers():
    """Every offer of the street's organisations, and where to record one on an organisation's behalf."""
    stmt = supply.street_offers_stmt(_actor())
    page = db.paginate(stmt, per_page=30)
    today = clock.today()
    rows = [(o, supply.offer_phase(o, today)) for o in page.items]
    return render_template(
        "supply/street_offers.html",
        page=page,
        rows=rows,
        phases=supply.PHASE_LABELS,
        partners=supply.street_partners(_actor()),
    )

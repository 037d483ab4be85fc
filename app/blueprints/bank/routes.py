"""The public welfare bank's pages (公益银行).

Volunteers browse the rewards of their community, redeem them and show the
voucher's QR; partner users open that QR (`/bank/v/<token>`) or type its code
and hand the reward over; staff manage partners, the catalogue and stock.
Each view parses, calls one service and flashes or redirects.
"""

from flask import flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth_scope import role_required, scope_of
from app.blueprints.bank import bp
from app.blueprints.bank.forms import (
    ActionForm,
    CodeForm,
    DonateForm,
    LinkUserForm,
    PartnerForm,
    ReceiveForm,
    RewardForm,
    WriteOffForm,
)
from app.blueprints.forms import apply_form, form_status
from app.extensions import db
from app.models import Role
from app.services import bank, donations, qr, stock, vouchers
from app.services.errors import DomainError

STAFF = (Role.COMMUNITY_WORKER, Role.STREET_OFFICER)
NO_STORE = {"Cache-Control": "no-store"}
PER_PAGE = 20


def _refused(error: DomainError):
    return render_template("bank/refused.html", message=str(error.message)), error.status


# --- volunteers --------------------------------------------------------------------------


@bp.get("")
@role_required(Role.VOLUNTEER)
def catalogue():
    rewards = donations.catalogue(current_user)
    balance = donations.balance_of(current_user)
    return render_template("bank/catalogue.html", rewards=rewards, balance=balance, form=ActionForm())


@bp.post("/rewards/<int:reward_id>/redeem")
@role_required(Role.VOLUNTEER)
def redeem(reward_id: int):
    done, voucher = apply_form(ActionForm(), vouchers.redeem, reward_id)
    if not done:  # the refusal was flashed
        return redirect(url_for("bank.catalogue"))
    flash(_("Redeemed. Show voucher %(code)s at the partner to collect it.", code=voucher.code), "success")
    return redirect(url_for("bank.my_vouchers"))


@bp.get("/vouchers")
@role_required(Role.VOLUNTEER)
def my_vouchers():
    page = db.paginate(vouchers.my_vouchers_stmt(current_user), per_page=PER_PAGE)
    return render_template("bank/vouchers.html", page=page, form=ActionForm()), 200, NO_STORE


@bp.get("/vouchers/<int:voucher_id>/qr.png")
@role_required(Role.VOLUNTEER)
def voucher_qr(voucher_id: int):
    response = make_response(qr.png(vouchers.open_voucher_url(current_user, voucher_id)))
    response.headers.update({"Content-Type": "image/png", **NO_STORE})
    return response


@bp.post("/vouchers/<int:voucher_id>/cancel")
@role_required(Role.VOLUNTEER)
def cancel_voucher(voucher_id: int):
    if apply_form(ActionForm(), vouchers.cancel_voucher, voucher_id)[0]:
        flash(_("The voucher is cancelled; its points are back in your account."), "success")
    return redirect(url_for("bank.my_vouchers"))


@bp.route("/donate", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def donate():
    targets = donations.donation_targets(current_user)
    form = DonateForm()
    form.target.choices = [(t.value, _target_label(t)) for t in targets]
    if not form.is_submitted():
        form.request_key.data = donations.new_request_key()
    data = (form.target.data, form.amount.data, form.request_key.data)
    if apply_form(form, donations.donate, *data)[0]:
        flash(_("Thank you. %(points)d points were donated.", points=form.amount.data), "success")
        return redirect(url_for("bank.donate"))
    balance = donations.balance_of(current_user)
    return render_template("bank/donate.html", form=form, balance=balance), form_status(form)


def _target_label(target) -> str:
    if target.kind == "pool":
        return _("The pool of %(community)s", community=target.name)
    day = target.served_on.isoformat() if target.served_on else ""
    return _("The household of %(name)s (visited %(date)s)", name=target.name, date=day)


# --- partner users ------------------------------------------------------------------------


@bp.route("/partner", methods=["GET", "POST"])
@role_required(Role.PARTNER)
def partner_home():
    """The partner's desk: type a voucher's code, see the rewards and recent hand-overs."""
    form = CodeForm()
    status = form_status(form)
    if form.validate_on_submit():
        try:
            return redirect(
                url_for("bank.handover", token=vouchers.token_for_code(current_user, form.code.data))
            )
        except DomainError as error:  # shown beside the code, 404 included: the partner typed it
            form.code.errors = [*form.code.errors, str(error.message)]
            status = error.status
    desk = vouchers.partner_desk(current_user)
    return render_template("bank/partner.html", form=form, desk=desk), status


@bp.route("/v/<token>", methods=["GET", "POST"])
@role_required(Role.PARTNER)
def handover(token: str):
    """What the voucher's QR opens: the reward, the holder's masked name and a hand-over button."""
    form = ActionForm()
    try:
        if form.validate_on_submit():
            voucher = vouchers.hand_over(current_user, token)
            flash(
                _(
                    "Handed over: %(reward)s (voucher %(code)s).",
                    reward=voucher.reward.name,
                    code=voucher.code,
                ),
                "success",
            )
            return redirect(url_for("bank.partner_home"))
        view = vouchers.handover_view(current_user, token)
    except DomainError as error:
        return _refused(error)
    return render_template("bank/handover.html", view=view, form=form, token=token), 200, NO_STORE


# --- staff: partners -----------------------------------------------------------------------


@bp.route("/staff/partners", methods=["GET", "POST"])
@role_required(*STAFF)
def partners():
    form = PartnerForm()
    if apply_form(form, bank.create_partner, form.to_data())[0]:
        flash(_("Partner added."), "success")
        return redirect(url_for("bank.partners"))
    rows = db.session.scalars(bank.partners_stmt(current_user)).all()
    return render_template("bank/staff_partners.html", partners=rows, form=form), form_status(form)


@bp.route("/staff/partners/<int:partner_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def partner(partner_id: int):
    found = bank.get_partner(current_user, partner_id)
    form = PartnerForm(obj=found)
    if apply_form(form, bank.update_partner, partner_id, form.to_data())[0]:
        flash(_("Saved."), "success")
        return redirect(url_for("bank.partner", partner_id=partner_id))
    return _partner_page(found, form, LinkUserForm(formdata=None))


def _partner_page(found, form, link_form):
    users = bank.partner_users(current_user, found.id)
    page = render_template(
        "bank/staff_partner.html",
        partner=found,
        form=form,
        link_form=link_form,
        users=users,
        action=ActionForm(),
    )
    return page, form_status(form, link_form)


@bp.post("/staff/partners/<int:partner_id>/users")
@role_required(*STAFF)
def link_user(partner_id: int):
    found = bank.get_partner(current_user, partner_id)
    link_form = LinkUserForm()
    if apply_form(link_form, bank.link_partner_user, partner_id, link_form.phone.data)[0]:
        flash(_("The account now acts for this partner."), "success")
        return redirect(url_for("bank.partner", partner_id=partner_id))
    return _partner_page(found, PartnerForm(formdata=None, obj=found), link_form)


@bp.post("/staff/partners/<int:partner_id>/users/<int:user_id>/remove")
@role_required(*STAFF)
def unlink_user(partner_id: int, user_id: int):
    if apply_form(ActionForm(), bank.unlink_partner_user, partner_id, user_id)[0]:
        flash(_("The account no longer acts for this partner."), "success")
    return redirect(url_for("bank.partner", partner_id=partner_id))


# --- staff: rewards and stock -----------------------------------------------------------------


@bp.get("/staff/rewards")
@role_required(*STAFF)
def rewards():
    return render_template("bank/staff_rewards.html", rows=stock.stock_overview(current_user))


def _reward_form(creating: bool, **kwargs) -> RewardForm:
    form = RewardForm(**kwargs)
    partners = db.session.scalars(bank.partners_stmt(current_user)).all() if creating else []
    street_wide = scope_of(current_user).level in ("street", "all")
    form.setup(
        [p for p in partners if p.active],
        bank.communities_for(current_user),
        creating=creating,
        street_wide=street_wide,
    )
    return form


@bp.route("/staff/rewards/new", methods=["GET", "POST"])
@role_required(*STAFF)
def new_reward():
    form = _reward_form(creating=True)
    done, made = apply_form(form, bank.create_reward, form.partner_id.data, form.to_data())
    if done:
        flash(_("Reward added. Now record the goods received."), "success")
        return redirect(url_for("bank.reward", reward_id=made.id))
    return render_template("bank/staff_reward_new.html", form=form), form_status(form)


@bp.route("/staff/rewards/<int:reward_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def reward(reward_id: int):
    found = bank.get_reward(current_user, reward_id)
    form = _reward_form(creating=False, obj=found)
    if apply_form(form, bank.update_reward, reward_id, form.to_data())[0]:
        flash(_("Saved."), "success")
        return redirect(url_for("bank.reward", reward_id=reward_id))
    return _reward_page(
        reward_id, form, ReceiveForm(prefix="in", formdata=None), WriteOffForm(prefix="off", formdata=None)
    )


def _reward_page(reward_id, form, receive_form, write_off_form):
    book = stock.stock_book(current_user, reward_id)
    names = bank.user_names(m.actor_id for m in book.movements)
    page = render_template(
        "bank/staff_reward.html",
        book=book,
        names=names,
        form=form,
        receive_form=receive_form,
        write_off_form=write_off_form,
    )
    return page, form_status(form, receive_form, write_off_form)


@bp.post("/staff/rewards/<int:reward_id>/receive")
@role_required(*STAFF)
def receive(reward_id: int):
    found = bank.get_reward(current_user, reward_id)
    receive_form = ReceiveForm(prefix="in")
    data = (receive_form.quantity.data, receive_form.note.data)
    if apply_form(receive_form, stock.receive_stock, reward_id, *data)[0]:
        flash(_("%(n)d items added to stock.", n=receive_form.quantity.data), "success")
        return redirect(url_for("bank.reward", reward_id=reward_id))
    edit = _reward_form(creating=False, formdata=None, obj=found)
    return _reward_page(reward_id, edit, receive_form, WriteOffForm(prefix="off", formdata=None))


@bp.post("/staff/rewards/<int:reward_id>/write-off")
@role_required(*STAFF)
def write_off(reward_id: int):
    found = bank.get_reward(current_user, reward_id)
    off_form = WriteOffForm(prefix="off")
    data = (off_form.quantity.data, off_form.reason.data)
    if apply_form(off_form, stock.write_off_stock, reward_id, *data)[0]:
        flash(_("%(n)d items written off.", n=off_form.quantity.data), "success")
        return redirect(url_for("bank.reward", reward_id=reward_id))
    edit = _reward_form(creating=False, formdata=None, obj=found)
    return _reward_page(reward_id, edit, ReceiveForm(prefix="in", formdata=None), off_form)

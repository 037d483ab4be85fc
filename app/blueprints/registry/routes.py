"""The household registry (台账) pages: thin views over app/services/.

Each view parses a form, calls one service function, then flashes and
redirects or renders. A refusal from a service is shown on the form (status
200); an object outside the user's scope answers 404 through the services.
"""

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import clock
from app.auth_scope import role_required, scope_of
from app.blueprints.forms import attach_error
from app.blueprints.registry import bp
from app.blueprints.registry.forms import (
    ConsentForm,
    FinanceForm,
    HouseholdFilterForm,
    HouseholdForm,
    MemberForm,
    NewHouseholdForm,
    RemoveMemberForm,
    RevealForm,
    StatusForm,
    WithdrawConsentForm,
    fen_to_yuan,
)
from app.extensions import db, limiter
from app.models import Relation
from app.services import casework, household_changes, households, standards, warnings
from app.services.errors import DomainError, NotFound
from app.services.org import grids_in_scope

READERS = households.LEDGER_READERS
WRITERS = households.LEDGER_WRITERS
APPROVERS = households.EXIT_APPROVERS

bp.add_app_template_filter(fen_to_yuan, "yuan")


def _save(form, message: str, call) -> bool:
    """Validate `form` and run `call()`; True (with `message` flashed) once it succeeded.

    A service's refusal goes beside its field, or into a flash; NotFound
    still answers 404.
    """
    if not form.validate_on_submit():
        return False
    try:
        call()
    except NotFound:
        raise
    except DomainError as error:
        if not attach_error(form, error):
            flash(str(error.message), "error")
        return False
    flash(message, "success")
    return True


def _to_household(household_id: int, section: str | None = None):
    return redirect(url_for("registry.household", household_id=household_id, _anchor=section))


def _form_page(form, household, title: str, **context):
    return render_template("registry/form.html", form=form, household=household, title=title, **context)


def _household(household_id: int):
    return households.get_household(current_user, household_id)


# --- lists -----------------------------------------------------------------


@bp.get("/")
@role_required(*READERS)
def index():
    form = HouseholdFilterForm(request.args)
    grids = grids_in_scope(scope_of(current_user))
    form.set_grids(grids)
    page = db.paginate(households.households_stmt(current_user, **form.filters()), per_page=30)
    can = households.abilities(current_user)
    communities = list({grid.community_id: grid.community for grid in grids}.values())
    return render_template(
        "registry/index.html", form=form, page=page, args=form.query_args(), can=can, communities=communities
    )


# --- a household -----------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@role_required(*WRITERS)
def new_household():
    form = NewHouseholdForm()
    form.set_grids(grids_in_scope(scope_of(current_user)))
    if form.validate_on_submit():
        data, head, consent = form.household_data(), form.member_data(Relation.HEAD), form.consent_data()
        try:
            household = households.create_household(current_user, data, head, clock.today(), consent)
        except DomainError as error:
            if not attach_error(form, error):
                flash(str(error.message), "error")
        else:
            flash(_("The household has been recorded."), "success")
            return _to_household(household.id)
    return render_template("registry/new.html", form=form)


@bp.get("/<int:household_id>")
@role_required(*READERS)
def household(household_id: int):
    actor, today = current_user, clock.today()
    household = households.view_household(actor, household_id, options=households.household_page_options())
    categories = casework.categories_of(household.id)
    return render_template(
        "registry/household.html",
        household=household,
        today=today,
        can=households.abilities(actor),
        assessment=standards.assess(household, today),
        categories=categories,
        decisions=casework.decisions_for(actor, categories),
        needs=warnings.household_needs(actor, household.id, today),
        records=casework.records_of(household.id),
        warnings=warnings.warnings_by_household([household], today)[household.id],
    )


@bp.route("/<int:household_id>/edit", methods=["GET", "POST"])
@role_required(*WRITERS)
def edit_household(household_id: int):
    household = _household(household_id)
    form = HouseholdForm(obj=household)
    form.set_grids(grids_in_scope(scope_of(current_user)))
    if _save(
        form,
        _("The household has been saved."),
        lambda: households.update_household(current_user, household.id, form.household_data(), clock.today()),
    ):
        return _to_household(household.id)
    return _form_page(form, household, _("Edit the household"))


@bp.route("/<int:household_id>/exit", methods=["GET", "POST"])
@role_required(*APPROVERS)
def exit_household(household_id: int):
    household = _household(household_id)
    form = StatusForm()
    if _save(
        form,
        _("The household has left the registry."),
        lambda: household_changes.exit_household(
            current_user, household.id, form.on.data, form.reason.data, clock.today()
        ),
    ):
        return _to_household(household.id)
    return _form_page(form, household, _("Take the household out of the registry"))


@bp.route("/<int:household_id>/reenter", methods=["GET", "POST"])
@role_required(*APPROVERS)
def reenter_household(household_id: int):
    household = _household(household_id)
    form = StatusForm()
    if _save(
        form,
        _("The household is back in the registry."),
        lambda: household_changes.reenter_household(
            current_user, household.id, form.on.data, form.reason.data, clock.today()
        ),
    ):
        return _to_household(household.id)
    return _form_page(form, household, _("Bring the household back into the registry"))


@bp.route("/<int:household_id>/consent", methods=["GET", "POST"])
@role_required(*WRITERS)
def record_consent(household_id: int):
    household = _household(household_id)
    form = ConsentForm()
    if _save(
        form,
        _("The consent has been recorded."),
        lambda: household_changes.record_consent(
            current_user, household.id, form.consent_data(), clock.today()
        ),
    ):
        return _to_household(household.id, "consent")
    return _form_page(form, household, _("Record consent"), intro="consent")


@bp.route("/<int:household_id>/consent/withdraw", methods=["GET", "POST"])
@role_required(*WRITERS)
def withdraw_consent(household_id: int):
    household = _household(household_id)
    form = WithdrawConsentForm()
    if _save(
        form,
        _("Consent withdrawn; ID numbers, health details and finances have been erased."),
        lambda: household_changes.withdraw_consent(
            current_user, household.id, form.consent_data(), clock.today()
        ),
    ):
        return _to_household(household.id, "consent")
    return _form_page(form, household, _("Withdraw consent"), intro="withdraw")


@bp.route("/<int:household_id>/finances", methods=["GET", "POST"])
@role_required(*WRITERS)
def set_finances(household_id: int):
    household = _household(household_id)
    form = FinanceForm()
    if _save(
        form,
        _("The month has been saved."),
        lambda: household_changes.set_monthly_finance(
            current_user, household.id, form.month.data, *form.amounts(), today=clock.today()
        ),
    ):
        return _to_household(household.id, "finances")
    return _form_page(form, household, _("Income and expenses of a month"), intro="finances")


# --- members ---------------------------------------------------------------


@bp.route("/<int:household_id>/members/new", methods=["GET", "POST"])
@role_required(*WRITERS)
def add_member(household_id: int):
    household = _household(household_id)
    form = MemberForm()
    if _save(
        form,
        _("The member has been added."),
        lambda: households.add_member(current_user, household.id, form.member_data(), clock.today()),
    ):
        return _to_household(household.id, "members")
    return _form_page(form, household, _("Add a member"), intro="member")


@bp.route("/<int:household_id>/members/<int:member_id>/edit", methods=["GET", "POST"])
@role_required(*WRITERS)
def edit_member(household_id: int, member_id: int):
    household, member = households.get_member(current_user, household_id, member_id)
    form = MemberForm.for_member(member)
    if _save(
        form,
        _("The member has been saved."),
        lambda: households.update_member(
            current_user, member.id, form.member_data(member.relation), clock.today()
        ),
    ):
        return _to_household(household.id, "members")
    return _form_page(form, household, _("Edit %(name)s", name=member.name), intro="member", member=member)


@bp.route("/<int:household_id>/members/<int:member_id>/remove", methods=["GET", "POST"])
@role_required(*WRITERS)
def remove_member(household_id: int, member_id: int):
    household, member = households.get_member(current_user, household_id, member_id)
    form = RemoveMemberForm()
    if _save(
        form,
        _("The member has been removed."),
        lambda: households.remove_member(current_user, member.id, form.reason.data),
    ):
        return _to_household(household.id, "members")
    return _form_page(form, household, _("Remove %(name)s from the household", name=member.name))


@bp.route("/<int:household_id>/members/<int:member_id>/reveal", methods=["GET", "POST"])
@role_required(*households.ID_REVEALERS)
@limiter.limit("10 per minute", methods=["POST"])
def reveal_id_number(household_id: int, member_id: int):
    """Ask for the password again, then show the full number on this response only."""
    household, member = households.get_member(current_user, household_id, member_id)
    form, number = RevealForm(), None
    if form.validate_on_submit():
        try:
            number = household_changes.reveal_id_number(current_user, member.id, form.password.data)
        except NotFound:
            raise
        except DomainError as error:
            form.password.errors.append(str(error.message))
    page = render_template(
        "registry/reveal.html", form=form, household=household, member=member, number=number
    )
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response

"""The help-request inbox (一键求助): grid, community and street staff see the
requests sent to their grids and accept or dismiss them."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth_scope import role_required, scope_of
from app.blueprints.forms import attach_error
from app.blueprints.registry import bp
from app.blueprints.registry.inbox_forms import AcceptForm, DismissForm
from app.extensions import db
from app.models import HelpRequestStatus, Role
from app.services import help_requests
from app.services.casework import NeedData
from app.services.catalogue import active_service_types
from app.services.errors import DomainError
from app.services.org import grids_in_scope

STAFF = (Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.STREET_OFFICER)


def _actor():
    return current_user._get_current_object()


@bp.get("/inbox")
@role_required(*STAFF)
def inbox():
    """The requests sent to the actor's grids, new ones first; ?status= filters."""
    status = next((s for s in HelpRequestStatus if s.value == request.args.get("status")), None)
    page = db.paginate(help_requests.inbox_stmt(_actor(), status=status), per_page=30)
    grids = {grid.id: grid for grid in grids_in_scope(scope_of(_actor()))}
    return render_template(
        "registry/inbox.html",
        page=page,
        status=status,
        statuses=list(HelpRequestStatus),
        grids=grids,
        services=help_requests.service_types_by_code(),
    )


@bp.get("/inbox/<int:request_id>")
@role_required(*STAFF)
def inbox_request(request_id: int):
    help_request = help_requests.get_help_request(_actor(), request_id)
    return _detail(help_request, _accept_form(help_request), DismissForm(prefix="dismiss"))


@bp.post("/inbox/<int:request_id>/accept")
@role_required(*STAFF)
def accept(request_id: int):
    help_request = help_requests.get_help_request(_actor(), request_id)
    form = _accept_form(help_request)
    if form.validate_on_submit():
        need = NeedData(form.service_type_code.data, form.description.data, form.urgency.data)
        try:
            help_requests.accept_help_request(_actor(), request_id, form.household_id.data, need)
        except DomainError as error:
            if not attach_error(form, error):
                flash(str(error.message), "error")
                return redirect(url_for("registry.inbox_request", request_id=request_id))
        else:
            flash(_("Request accepted: the need is recorded on the household."), "success")
            return redirect(url_for("registry.inbox"))
    return _detail(help_request, form, DismissForm(prefix="dismiss"))


@bp.post("/inbox/<int:request_id>/dismiss")
@role_required(*STAFF)
def dismiss(request_id: int):
    help_request = help_requests.get_help_request(_actor(), request_id)
    form = DismissForm(prefix="dismiss")
    if form.validate_on_submit():
        try:
            help_requests.dismiss_help_request(_actor(), request_id, form.note.data)
        except DomainError as error:
            if not attach_error(form, error):
                flash(str(error.message), "error")
                return redirect(url_for("registry.inbox_request", request_id=request_id))
        else:
            flash(_("Request dismissed."), "success")
            return redirect(url_for("registry.inbox"))
    return _detail(help_request, _accept_form(help_request), form)


def _accept_form(help_request) -> AcceptForm:
    """The accept form, pre-filled from the request on first display."""
    form = AcceptForm(
        prefix="accept",
        data={"service_type_code": help_request.service_type_code or "", "description": help_request.need},
    )
    form.set_choices(help_requests.households_for(_actor(), help_request), active_service_types())
    return form


def _detail(help_request, accept_form: AcceptForm, dismiss_form: DismissForm):
    actor = _actor()
    return render_template(
        "registry/inbox_request.html",
        help_request=help_request,
        grid=help_requests.grid_for_help(help_request.grid_id),
        service=help_requests.service_types_by_code().get(help_request.service_type_code),
        household=help_requests.linked_household(actor, help_request),
        handler=help_requests.handled_by(help_request),
        may_accept=help_requests.may_accept(actor),
        accept_form=accept_form,
        dismiss_form=dismiss_form,
    )

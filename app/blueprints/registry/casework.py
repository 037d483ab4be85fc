"""The registry's casework pages (categories to reviews), its work lists, the audit log and city standards."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import clock
from app.auth_scope import role_required, scope_of
from app.blueprints.forms import attach_error
from app.blueprints.registry import bp
from app.blueprints.registry.casework_forms import (
    CauseForm,
    CloseNeedForm,
    DecisionForm,
    FollowUpForm,
    MeasureForm,
    NeedForm,
    ProposeCategoryForm,
    ReviewForm,
    ServiceTypeForm,
    StandardForm,
)
from app.blueprints.registry.routes import READERS, WRITERS, _form_page, _household, _save, _to_household
from app.extensions import db
from app.models import ApprovalAction, Role
from app.services import audit, casework, catalogue, households, standards, warnings
from app.services.catalogue import active_service_types
from app.services.errors import DomainError, NotFound

DECIDERS = tuple({role for _sources, _target, roles in casework.TRANSITIONS.values() for role in roles})
AUDIT_READERS = (Role.COMMUNITY_WORKER, Role.STREET_OFFICER)


# --- lists -----------------------------------------------------------------


@bp.get("/warnings")
@role_required(*READERS)
def warning_list():
    rows = warnings.warning_list(current_user, clock.today())
    return render_template("registry/warnings.html", rows=rows)


@bp.get("/reviews")
@role_required(*READERS)
def reviews_due():
    due = warnings.reviews_due(current_user, clock.today())
    return render_template("registry/reviews.html", due=due, can=households.abilities(current_user))


@bp.get("/approvals")
@role_required(*DECIDERS)
def approvals():
    page, homes = casework.pending_decisions(current_user, request.args.get("page", 1, type=int))
    decisions = casework.decisions_for(current_user, page.items)
    return render_template("registry/approvals.html", page=page, homes=homes, decisions=decisions)


@bp.get("/audit")
@role_required(*AUDIT_READERS)
def audit_log():
    household_id = request.args.get("household_id", type=int)
    stmt = audit.entries_stmt(scope_of(current_user), household_id=household_id)
    page = db.paginate(stmt, per_page=50)
    return render_template("registry/audit.html", page=page, household_id=household_id)


@bp.route("/standards", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def city_standards():
    form = StandardForm()
    cities = standards.cities()
    form.set_cities(cities)
    if _save(
        form,
        _("The standard has been added."),
        lambda: standards.set_standard(current_user, form.standard_data()),
    ):
        return redirect(url_for("registry.city_standards"))
    rows = db.session.scalars(standards.standards_stmt())
    names = {c.id: c.name for c in cities}
    return render_template("registry/standards.html", form=form, rows=rows, names=names)


# --- categories ------------------------------------------------------------


@bp.route("/<int:household_id>/categories/new", methods=["GET", "POST"])
@role_required(*WRITERS)
def propose_category(household_id: int):
    household = _household(household_id)
    form = ProposeCategoryForm()
    if _save(
        form,
        _("The category has been proposed for review."),
        lambda: casework.propose_category(
            current_user, household.id, form.category.data, form.note.data or ""
        ),
    ):
        return _to_household(household.id, "categories")
    return _form_page(form, household, _("Propose a category"))


def _decision_title(step: ApprovalAction) -> str:
    titles = {
        ApprovalAction.REVIEW: _("Pass the community review (审核)"),
        ApprovalAction.APPROVE: _("Approve (审批)"),
        ApprovalAction.REJECT: _("Reject"),
        ApprovalAction.REVOKE: _("Revoke"),
    }
    return titles[step]


@bp.route(
    "/<int:household_id>/categories/<int:assignment_id>/<any(review, approve, reject, revoke):action>",
    methods=["GET", "POST"],
)
@role_required(*DECIDERS)
def decide_category(household_id: int, assignment_id: int, action: str):
    assignment = casework.get_assignment(current_user, household_id, assignment_id)
    form, step = DecisionForm(), ApprovalAction(action)
    if request.method == "GET":
        form.back.data = request.args.get("back", "")
    back = url_for("registry.approvals") if form.back.data == "approvals" else None
    if form.validate_on_submit():
        try:
            casework.decide_category(current_user, assignment.id, step, form.note.data or "")
        except NotFound:
            raise
        except DomainError as error:
            if attach_error(form, error):
                return _form_page(
                    form, _household(household_id), _decision_title(step), assignment=assignment
                )
            flash(str(error.message), "error")
        else:
            flash(_("Your decision has been recorded."), "success")
        return redirect(
            back or url_for("registry.household", household_id=household_id, _anchor="categories")
        )
    return _form_page(form, _household(household_id), _decision_title(step), assignment=assignment)


# --- causes, needs, measures, follow-ups, reviews ----------------------------


@bp.route("/<int:household_id>/causes/new", methods=["GET", "POST"])
@role_required(*WRITERS)
def add_cause(household_id: int):
    household = _household(household_id)
    form = CauseForm()
    if _save(
        form,
        _("The cause has been recorded."),
        lambda: casework.add_cause(current_user, household.id, form.cause.data, form.note.data or ""),
    ):
        return _to_household(household.id, "causes")
    return _form_page(form, household, _("Add a cause of hardship"))


@bp.route("/<int:household_id>/needs/new", methods=["GET", "POST"])
@role_required(*WRITERS)
def add_need(household_id: int):
    household = _household(household_id)
    form = NeedForm()
    form.set_services(active_service_types())
    if _save(
        form,
        _("The need has been recorded."),
        lambda: casework.add_need(current_user, household.id, form.need_data()),
    ):
        return _to_household(household.id, "needs")
    return _form_page(form, household, _("Add a need"))


@bp.route("/<int:household_id>/needs/<int:need_id>/close", methods=["GET", "POST"])
@role_required(*WRITERS)
def close_need(household_id: int, need_id: int):
    need = casework.get_need(current_user, household_id, need_id)
    form = CloseNeedForm()
    if _save(
        form,
        _("The need has been closed."),
        lambda: casework.close_need(current_user, need.id, form.status.data, form.note.data),
    ):
        return _to_household(household_id, "needs")
    return _form_page(form, _household(household_id), _("Close a need"), need=need)


@bp.route("/<int:household_id>/measures/new", methods=["GET", "POST"])
@role_required(*WRITERS)
def add_measure(household_id: int):
    household = _household(household_id)
    form = MeasureForm()
    form.set_needs(warnings.household_needs(current_user, household.id, clock.today()))
    if _save(
        form,
        _("The measure has been recorded."),
        lambda: casework.add_measure(
            current_user,
            household.id,
            form.kind.data,
            form.description.data,
            form.on.data,
            clock.today(),
            form.need_id.data,
        ),
    ):
        return _to_household(household.id, "measures")
    return _form_page(form, household, _("Record a measure, or why none was taken"))


@bp.route("/<int:household_id>/follow-ups/new", methods=["GET", "POST"])
@role_required(*WRITERS)
def add_follow_up(household_id: int):
    household = _household(household_id)
    form = FollowUpForm()
    if _save(
        form,
        _("The follow-up has been recorded."),
        lambda: casework.add_follow_up(
            current_user,
            household.id,
            form.on.data,
            form.method.data,
            form.note.data,
            clock.today(),
            form.satisfaction.data,
        ),
    ):
        return _to_household(household.id, "follow-ups")
    return _form_page(form, household, _("Record a follow-up (回访)"))


@bp.route("/<int:household_id>/reviews/new", methods=["GET", "POST"])
@role_required(*WRITERS)
def record_review(household_id: int):
    household = _household(household_id)
    form = ReviewForm()
    categories = casework.categories_of(household.id)
    decisions = casework.decisions_for(current_user, categories)
    form.set_categories(categories, decisions, households.abilities(current_user)["exit"])
    if _save(
        form,
        _("The review has been recorded."),
        lambda: casework.record_review(
            current_user,
            household.id,
            form.reviewed_on.data,
            form.outcome.data,
            form.note.data or "",
            clock.today(),
            **form.changes(),
        ),
    ):
        return _to_household(household.id, "reviews")
    return _form_page(form, household, _("Record a review (复审)"))


@bp.route("/service-types", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def service_types():
    """The service catalogue: add a service, or change one by its code (administrators)."""
    form = ServiceTypeForm()
    form.set_skills(catalogue.list_skills())
    if _save(
        form,
        _("The service has been saved."),
        lambda: catalogue.save_service_type(current_user, form.service_data()),
    ):
        return redirect(url_for("registry.service_types"))
    services = catalogue.with_rates(catalogue.all_service_types())
    return render_template("registry/service_types.html", form=form, services=services)

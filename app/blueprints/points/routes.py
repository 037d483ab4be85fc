"""Points pages: the volunteer's statement, and staff pages for rules, ledger views,
reversals and the monthly credit export. Thin views over app/services/."""

from datetime import date, timedelta
from io import BytesIO

from flask import flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import clock
from app.auth_scope import role_required
from app.blueprints.forms import attach_error
from app.blueprints.points import bp
from app.blueprints.points.forms import AccountFilterForm, ExportForm, PolicyForm, RateForm, ReverseForm
from app.extensions import limiter
from app.models import Role
from app.services import credit_export, ledger_views, point_rules, points, statements
from app.services.catalogue import active_service_types
from app.services.errors import DomainError, NotFound

STAFF = ledger_views.READERS
EXPORTERS = (Role.STREET_OFFICER,)  # administrators pass every role check
MIMETYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _actor():
    return current_user._get_current_object()


def _page() -> int:
    return statements.page_number(request.args.get("page", 1, type=int))


def _private(response):
    """Personal figures: never kept by a shared cache or the browser's history."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the volunteer's statement ---------------------------------------------------------


@bp.get("/me/points")
@role_required(Role.VOLUNTEER)
def statement():
    return render_template("points/statement.html", statement=statements.statement(_actor(), _page()))


@bp.get("/me/points.xlsx")
@role_required(Role.VOLUNTEER)
def statement_xlsx():
    response = send_file(
        BytesIO(statements.statement_xlsx(_actor())),
        mimetype=statements.XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"points-{clock.today().isoformat()}.xlsx",
    )
    return _private(response)


# --- issuing rules (administrators) ------------------------------------------------------


def _rules_page(rate_form: RateForm | None = None, policy_form: PolicyForm | None = None, status: int = 200):
    rules = point_rules.rules_overview(_actor())
    rate_form = rate_form or RateForm(formdata=None)
    rate_form.set_choices(active_service_types())
    policy_form = policy_form or PolicyForm(formdata=None)
    page = render_template(
        "points/rules.html",
        rules=rules,
        rate_form=rate_form,
        policy_form=policy_form,
        rounding_labels=statements.ROUNDING_LABELS,
    )
    return page, status


@bp.get("/staff/points/rules")
@role_required(Role.ADMIN)
def rules():
    return _rules_page()


@bp.post("/staff/points/rules/rates")
@role_required(Role.ADMIN)
def add_rate():
    form = RateForm()
    form.set_choices(active_service_types())
    if form.validate_on_submit():
        try:
            point_rules.add_rate(
                _actor(),
                form.service_type.data,
                form.effective_from.data,
                form.points_per_visit.data,
                form.points_per_hour.data,
            )
        except DomainError as error:
            _refusal(form, error)
        else:
            flash(_("The new rate is saved. Visits from its first day on are paid by it."), "success")
            return redirect(url_for("points.rules"))
    return _rules_page(rate_form=form, status=422)


@bp.post("/staff/points/rules/policies")
@role_required(Role.ADMIN)
def add_policy():
    form = PolicyForm()
    if form.validate_on_submit():
        try:
            point_rules.add_policy(
                _actor(),
                form.effective_from.data,
                form.urgent_bonus.data,
                form.critical_bonus.data,
                form.daily_cap.data,
                form.rounding_value,
            )
        except DomainError as error:
            _refusal(form, error)
        else:
            flash(_("The new policy is saved. Visits from its first day on are paid by it."), "success")
            return redirect(url_for("points.rules"))
    return _rules_page(policy_form=form, status=422)


def _refusal(form, error: DomainError) -> None:
    """A service's refusal beside its field, or above the form when it has none."""
    if isinstance(error, NotFound) and error.code == "not_found":
        raise error
    if not attach_error(form, error):
        form.form_errors.append(str(error.message))


# --- ledger views (staff) ------------------------------------------------------------------


@bp.get("/staff/points/accounts")
@role_required(*STAFF)
def accounts():
    form = AccountFilterForm(request.args)
    found, rows = ledger_views.accounts_page(_actor(), form.kind_value, _page())
    args = {"kind": form.kind_value.value} if form.kind_value else {}
    return render_template(
        "points/accounts.html",
        form=form,
        page=found,
        rows=rows,
        args=args,
    )


@bp.get("/staff/points/accounts/<kind>/<int:owner_id>")
@role_required(*STAFF)
def account(kind: str, owner_id: int):
    view = ledger_views.account_view(_actor(), ledger_views.parse_kind(kind), owner_id, _page())
    return _private(render_template("points/account.html", view=view))


# --- awards and reversals ------------------------------------------------------------------


@bp.get("/staff/points/awards")
@role_required(*points.REVERSERS)
def awards():
    found, rows = ledger_views.awards_page(_actor(), _page())
    reversals = ledger_views.recent_reversals(_actor())
    return render_template("points/awards.html", page=found, rows=rows, reversals=reversals)


@bp.route("/staff/points/visits/<int:claim_id>/reverse", methods=["GET", "POST"])
@role_required(*points.REVERSERS)
@limiter.limit("10 per minute", methods=["POST"])
def reverse(claim_id: int):
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            points.reverse_visit(_actor(), claim_id, form.reason.data, form.password.data)
        except DomainError as error:
            _refusal(form, error)
        else:
            flash(_("The points have been taken back; the volunteer has been told why."), "success")
            return redirect(url_for("points.reverse", claim_id=claim_id))
    view = ledger_views.visit_award(_actor(), claim_id)
    status = 422 if form.errors else 200
    return _private((render_template("points/reverse.html", view=view, form=form), status))


# --- the monthly credit export -------------------------------------------------------------


def _last_month() -> str:
    first = clock.today().replace(day=1)
    previous = first - timedelta(days=1)
    return date(previous.year, previous.month, 1).strftime("%Y-%m")


@bp.route("/staff/points/export", methods=["GET", "POST"])
@role_required(*EXPORTERS)
def export():
    form = ExportForm()
    if request.method == "GET":
        form.month.data = _last_month()
    elif form.validate_on_submit():
        year, month = form.year_month
        try:
            data = credit_export.export_month(_actor(), year, month, form.fmt)
        except DomainError as error:
            _refusal(form, error)
        else:
            response = send_file(
                BytesIO(data),
                mimetype=MIMETYPES[form.fmt],
                as_attachment=True,
                download_name=f"points-{year:04d}-{month:02d}.{form.fmt}",
            )
            return _private(response)
    return render_template("points/export.html", form=form), 422 if form.errors else 200

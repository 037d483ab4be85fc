"""Dashboard pages: the figures of an area in a period, each chart with its
table and an XLSX download of that table. Thin views over app/services/dashboard*.py."""

from datetime import datetime
from io import BytesIO

from flask import abort, flash, make_response, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from app import clock
from app.auth_scope import role_required
from app.blueprints.dashboard import bp
from app.blueprints.dashboard.forms import DashboardForm
from app.blueprints.forms import attach_error
from app.services import dashboard
from app.services.dashboard_cache import cached_text, refresh_seconds
from app.services.dashboard_period import choose_period
from app.services.dashboard_tables import TABLES, XLSX_MIMETYPE, build_tables, table_xlsx
from app.services.errors import InvalidInput

FORM_ERRORS = "invalid_choice"  # the form shows them beside its fields


def _actor():
    return current_user._get_current_object()


def _private(response):
    """Internal figures: not kept by shared caches or the browser's history."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def _choice(form: DashboardForm, units=None):
    """The area (NotFound outside the viewer's scope) and the period asked for; InvalidInput otherwise."""
    unit = dashboard.resolve_unit(_actor(), form.unit.data, units)
    if not form.validate():
        first_error = next(iter(form.errors.values()))[0]
        raise InvalidInput(first_error, code=FORM_ERRORS)
    period = choose_period(form.period.data, form.on.data, form.date_from.data, form.date_to.data)
    return unit, period


@bp.get("/")
@role_required(*dashboard.VIEWERS)
def index():
    form = DashboardForm(request.args)
    units = dashboard.units_for(_actor())
    form.unit.choices = [(unit.key, unit.name) for unit in units]
    try:
        unit, period = _choice(form, units)
    except InvalidInput as error:
        if error.code != FORM_ERRORS and not attach_error(form, error):
            flash(str(error.message), "error")
        return _private((render_template("dashboard/index.html", form=form, view=None), 422))
    form.unit.data = unit.key
    if period.kind != "custom":
        form.on.data = form.on.data or period.first
    figures = dashboard.figures(unit, period)
    args = {"unit": unit.key, **period.query_args()}
    key = f"html|{unit.key}|{period.key}|{get_locale()}|{figures['computed_at']}"
    html = cached_text(
        key, lambda: render_template("dashboard/_figures.html", tables=build_tables(figures), args=args)
    )
    view = {
        "unit": unit,
        "period": period,
        "figures_html": Markup(html),
        "as_of": datetime.fromisoformat(figures["computed_at"]).astimezone(clock.LOCAL_TZ),
        "refresh_minutes": -(-refresh_seconds() // 60),  # 0: not cached
        "previous": _period_url(unit, period.previous()),
        "following": _period_url(unit, period.following()),
    }
    return _private(render_template("dashboard/index.html", form=form, view=view))


def _period_url(unit, period) -> str | None:
    return url_for("dashboard.index", unit=unit.key, **period.query_args()) if period else None


@bp.get("/<table>.xlsx")
@role_required(*dashboard.VIEWERS)
def export(table: str):
    """One table of the dashboard as XLSX, for the same area and period; audit-logged."""
    if table not in TABLES:
        abort(404)
    form = DashboardForm(request.args)
    unit, period = _choice(form)
    figures = dashboard.figures(unit, period)
    chosen = build_tables(figures)[table]
    as_of = datetime.fromisoformat(figures["computed_at"]).astimezone(clock.LOCAL_TZ)
    about = [
        (_("Table"), chosen.title),
        (_("Area"), unit.name),
        (_("Period"), f"{period.first.isoformat()} – {period.last.isoformat()}"),
        (_("Figures as of"), as_of.strftime("%Y-%m-%d %H:%M")),
        *((_("How it is counted"), note) for note in chosen.notes),
    ]
    data = table_xlsx(chosen, about)
    dashboard.record_export(_actor(), unit, period, table, len(chosen.rows))
    name = (
        f"dashboard-{table}-{unit.key.replace(':', '-')}-{period.first.isoformat()}-{period.last.isoformat()}"
    )
    response = send_file(
        BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=f"{name}.xlsx"
    )
    return _private(response)


@bp.app_template_filter("figure")
def figure(value) -> str:
    """A figure as shown: thousands separated, hours to one decimal, "—" for none."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)

"""Ledger export and import as XLSX (台账导出/导入), and the civil-affairs workbook of a
community: thin views over services/ledger_xlsx.py and services/civil_affairs_xlsx.py."""

from io import BytesIO

from flask import flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import clock
from app.auth_scope import role_required
from app.blueprints.forms import attach_error
from app.blueprints.registry import bp
from app.blueprints.registry.ledger_io_forms import LedgerImportForm
from app.services.civil_affairs_xlsx import export_civil_affairs_ledger
from app.services.errors import InvalidInput
from app.services.households import LEDGER_READERS, LEDGER_WRITERS
from app.services.ledger_xlsx import XLSX_MIMETYPE, export_ledger, import_ledger

SHOWN_ERRORS = 500  # a page of errors beyond this helps nobody; the count says the rest


@bp.get("/ledger.xlsx")
@role_required(*LEDGER_READERS)
def ledger_export():
    data = export_ledger(current_user._get_current_object())
    response = send_file(
        BytesIO(data),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"ledger-{clock.today().isoformat()}.xlsx",
    )
    response.headers["Cache-Control"] = "no-store"  # it holds personal data
    return response


@bp.get("/communities/<int:community_id>/ledger-report.xlsx")
@role_required(*LEDGER_READERS)
def civil_affairs_ledger(community_id: int):
    """The community's ledger as one workbook for civil-affairs offices (民政台账)."""
    report = export_civil_affairs_ledger(current_user._get_current_object(), community_id)
    response = send_file(
        BytesIO(report.content), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=report.filename
    )
    response.headers["Cache-Control"] = "no-store"  # it holds personal data
    return response


@bp.route("/import", methods=["GET", "POST"])
@role_required(*LEDGER_WRITERS)
def ledger_import():
    form = LedgerImportForm()
    result = None
    if form.validate_on_submit():
        try:
            result = import_ledger(current_user._get_current_object(), form.file.data.read(), clock.today())
        except InvalidInput as error:
            if not attach_error(form, error):
                flash(str(error.message), "error")
        else:
            if result.ok:
                flash(_summary(result), "success")
                return redirect(url_for("registry.index"))
    return render_template("registry/ledger_io.html", form=form, result=result, shown=SHOWN_ERRORS)


def _summary(result) -> str:
    if not result.changed:
        return _("The file matches the ledger; nothing was changed.")
    return _(
        "Imported %(rows)d rows: %(created)d households recorded, %(updated)d changed; "
        "%(members)d members added, %(members_changed)d changed.",
        rows=result.rows,
        created=result.households_created,
        updated=result.households_updated,
        members=result.members_created,
        members_changed=result.members_updated,
    )

"""The form for importing a ledger file (台账导入)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField


class LedgerImportForm(FlaskForm):
    """An .xlsx file; the service checks what is inside."""

    file = FileField(
        _l("Ledger file (.xlsx)"),
        validators=[
            FileRequired(_l("Choose a file to import.")),
            FileAllowed(["xlsx"], _l("Choose an Excel workbook (.xlsx).")),
        ],
        render_kw={"accept": ".xlsx"},
    )
    submit = SubmitField(_l("Check and import"))

"""The dashboard's choice of area and period: a GET form read from the query string."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from app.blueprints.forms import plausible_day

PERIOD_CHOICES = [
    SelectChoice("month", _l("Month")),
    SelectChoice("quarter", _l("Quarter")),
    SelectChoice("year", _l("Year")),
    SelectChoice("custom", _l("Range of days")),
]
BAD_DATE = _l("Enter a date as YYYY-MM-DD.")


class DashboardForm(FlaskForm):
    """Area (checked against the viewer's scope by the service, so another
    community's id answers 404 rather than a form error) and period."""

    class Meta:
        csrf = False

    unit = SelectField(_l("Area"), validate_choice=False)
    period = SelectField(_l("Period"), choices=PERIOD_CHOICES, default="month")
    on = DateField(_l("A day in the period"), validators=[Optional(), plausible_day])
    date_from = DateField(_l("From"), name="from", validators=[Optional(), plausible_day])
    date_to = DateField(_l("To"), name="to", validators=[Optional(), plausible_day])

    def validate(self, extra_validators=None) -> bool:
        """Shape only; a date the browser did not send as YYYY-MM-DD gets our own message."""
        valid = super().validate(extra_validators)
        for field in (self.on, self.date_from, self.date_to):
            if field.errors and field.data is None:
                field.errors = [str(BAD_DATE)]
        return valid

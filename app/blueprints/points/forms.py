"""Points forms: shape only (numbers, dates, lengths); the rules are in the services."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from app.blueprints.registry.forms import date_field, text_area
from app.models import AccountKind, Rounding
from app.services.ledger_views import kind_choices
from app.services.points import MAX_REASON
from app.services.statements import ROUNDING_LABELS

WHOLE = _l("Enter a whole number.")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def points_field(text, default=None) -> IntegerField:
    return IntegerField(
        text, validators=[InputRequired(message=WHOLE)], default=default, render_kw={"inputmode": "numeric"}
    )


class RateForm(FlaskForm):
    """A new rate for one service type from a date on."""

    service_type = SelectField(_l("Service"), validators=[InputRequired(message=_l("Choose a service."))])
    effective_from = date_field(_l("In force from"))
    points_per_visit = points_field(_l("Points per visit"))
    points_per_hour = points_field(_l("Points per hour"))
    submit = SubmitField(_l("Add the rate"))

    def set_choices(self, services) -> None:
        self.service_type.choices = [(s.code, s.name) for s in services]


class PolicyForm(FlaskForm):
    """A new policy (bonuses, daily cap, rounding) from a date on."""

    effective_from = date_field(_l("In force from"))
    urgent_bonus = points_field(_l("Bonus for an urgent task"), 5)
    critical_bonus = points_field(_l("Bonus for a critical task"), 10)
    daily_cap = points_field(_l("Most points one volunteer can earn in a day"), 100)
    rounding = SelectField(
        _l("Rounding of the per-hour points"),
        choices=lambda: [(r.value, str(ROUNDING_LABELS[r.value])) for r in Rounding],
        default=Rounding.HALF_UP.value,
    )
    submit = SubmitField(_l("Add the policy"))

    @property
    def rounding_value(self) -> Rounding:
        return Rounding(self.rounding.data)


class ReverseForm(FlaskForm):
    """Why the visit's points are taken back, and the password again (a fresh login)."""

    reason = text_area(_l("Reason (the volunteer is told)"), MAX_REASON)
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(message=_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Take the points back"))


class AccountFilterForm(FlaskForm):
    """The kind of account to list (GET, no CSRF)."""

    class Meta:
        csrf = False

    kind = SelectField(_l("Kind of account"), choices=kind_choices, default="")

    @property
    def kind_value(self) -> AccountKind | None:
        try:
            return AccountKind(self.kind.data) if self.kind.data else None
        except ValueError:
            return None


class ExportForm(FlaskForm):
    """A month (YYYY-MM) and the format, chosen by the button pressed."""

    month = StringField(
        _l("Month"),
        validators=[
            DataRequired(message=_l("Choose a month.")),
            Length(max=7),
            Regexp(MONTH, message=_l("Enter the month as YYYY-MM, such as 2026-10.")),
        ],
        render_kw={"type": "month"},
    )
    csv = SubmitField(_l("Download CSV"))
    json = SubmitField(_l("Download JSON"))

    @property
    def year_month(self) -> tuple[int, int]:
        year, month = MONTH.match(self.month.data).groups()
        return int(year), int(month)

    @property
    def fmt(self) -> str:
        return "json" if self.json.data else "csv"

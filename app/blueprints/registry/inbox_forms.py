"""Forms of the help-request inbox; shape only, the rules are in services/help_requests.py."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.labels import choices
from app.models import Urgency


class AcceptForm(FlaskForm):
    """Link the request to a household of its grid and record the need on it."""

    household_id = SelectField(
        _l("Household"),
        coerce=int,
        validate_choice=True,
        validators=[DataRequired(message=_l("Choose the household."))],
    )
    service_type_code = SelectField(
        _l("Service needed"),
        validate_choice=True,
        validators=[DataRequired(message=_l("Choose a service from the list."))],
    )
    urgency = SelectField(_l("Urgency"), coerce=Urgency, default=Urgency.NORMAL)
    description = TextAreaField(
        _l("Need"),
        validators=[DataRequired(message=_l("Describe the need.")), Length(max=500)],
        render_kw={"rows": 4, "maxlength": 500},
    )
    submit = SubmitField(_l("Accept and record the need"))

    def set_choices(self, households, service_types) -> None:
        """Households as "address · householder", active services, urgencies (labels
        are made per request so that they follow the page's language)."""
        self.household_id.choices = [
            (h.id, f"{h.address} · {h.head.name}" if h.head else h.address) for h in households
        ]
        self.service_type_code.choices = [("", _l("Choose…"))] + [(s.code, s.name) for s in service_types]
        self.urgency.choices = choices(Urgency)


class DismissForm(FlaskForm):
    """Close the request without recording a need, saying why."""

    note = TextAreaField(
        _l("Why is it dismissed?"),
        validators=[DataRequired(message=_l("Say why the request is dismissed.")), Length(max=500)],
        render_kw={"rows": 3, "maxlength": 500},
    )
    submit = SubmitField(_l("Dismiss the request"))

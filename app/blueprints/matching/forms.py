"""Forms of the matching and follow-up pages: shape only, the services check the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

SATISFACTION = [
    SelectChoice("5", _l("5 — very satisfied")),
    SelectChoice("4", _l("4 — satisfied")),
    SelectChoice("3", _l("3 — so-so")),
    SelectChoice("2", _l("2 — unsatisfied")),
    SelectChoice("1", _l("1 — very unsatisfied")),
]


class InviteForm(FlaskForm):
    volunteer_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,9}$")])


class FollowUpForm(FlaskForm):
    satisfaction = RadioField(
        _l("How satisfied is the household with the visit?"),
        choices=SATISFACTION,
        validators=[DataRequired(_l("Choose a satisfaction from 1 to 5."))],
    )
    complaint = BooleanField(_l("The household made a complaint"))
    note = TextAreaField(_l("What the household said"), validators=[Length(max=500)])
    submit = SubmitField(_l("Save the follow-up"))

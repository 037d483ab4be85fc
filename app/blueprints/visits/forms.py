"""Forms of the visit pages; they check shape, services/visits.py the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import ListWidget, RadioInput

RATINGS = [
    (5, _l("5 — very good")),
    (4, _l("4 — good")),
    (3, _l("3 — all right")),
    (2, _l("2 — poor")),
    (1, _l("1 — bad")),
]


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token and a submit."""

    submit = SubmitField(_l("Go"))


class DoorActionForm(FlaskForm):
    """Check in or out of one task at the door."""

    task_id = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Go"))


class RatingField(RadioField):
    widget = ListWidget(prefix_label=False)
    option_widget = RadioInput()


class ConfirmForm(FlaskForm):
    """The resident's answer: fields `rating`, `comment`, `csrf_token` (CONTRACT.md)."""

    rating = RatingField(
        _l("How was the help?"),
        choices=[SelectChoice(value, text) for value, text in RATINGS],
        coerce=int,
        validators=[InputRequired(message=_l("Choose a score from 1 to 5."))],
        render_kw={"class": "radios big"},
    )
    comment = TextAreaField(
        _l("Anything to add? (optional)"),
        validators=[Optional(), Length(max=500)],
        render_kw={"rows": 3, "maxlength": 500},
    )
    submit = SubmitField(_l("Yes, confirm the visit"))


class ProxyForm(FlaskForm):
    phone = TelField(
        _l("Family member's phone (their account)"),
        validators=[DataRequired(message=_l("Enter a phone number.")), Length(max=20)],
        render_kw={"inputmode": "tel", "maxlength": 20},
    )
    relation = StringField(
        _l("Relation to the resident"),
        validators=[DataRequired(message=_l("Say how they are related.")), Length(max=30)],
        render_kw={"maxlength": 30},
    )
    submit = SubmitField(_l("Link as family proxy"))


class FollowUpCallForm(FlaskForm):
    note = TextAreaField(
        _l("What the resident said on the call"),
        validators=[DataRequired(message=_l("Note what the resident said.")), Length(max=500)],
        render_kw={"rows": 4, "maxlength": 500},
    )
    rating = SelectField(
        _l("Rating given on the call"),
        choices=[SelectChoice("", _l("Not asked"))]
        + [SelectChoice(str(value), text) for value, text in RATINGS],
    )
    submit = SubmitField(_l("Confirm the visit by follow-up call"))

    @property
    def rating_value(self) -> int | None:
        return int(self.rating.data) if self.rating.data else None

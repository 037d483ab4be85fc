"""Public-notice forms: shape only, and local times typed on the page turned
into the aware UTC times the services take. The rules are app/services/public_notice*.py's."""

from datetime import UTC, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app import clock
from app.blueprints.registry.forms import date_field, optional_int, text_area
from app.services.public_notice import REASON_MAX, TITLE_MAX, WORDING_MAX, NoticeData
from app.services.public_notice_objections import CONTACT_MAX, NOTE_MAX, TEXT_MAX


def local_moment(day, at: time | None) -> datetime:
    """A local (Asia/Shanghai) date and time as an aware UTC datetime."""
    return datetime.combine(day, at or time(), tzinfo=clock.LOCAL_TZ).astimezone(UTC)


class NoticeForm(FlaskForm):
    """A new notice: whose, what it is called, which period."""

    community_id = SelectField(_l("Community"), coerce=int)
    title = StringField(
        _l("Title"),
        validators=[DataRequired(message=_l("Give the notice a title.")), Length(max=TITLE_MAX)],
        render_kw={"maxlength": TITLE_MAX},
    )
    period_start = date_field(_l("Period from"), today=False)
    period_end = date_field(_l("Period until (inclusive)"), today=False)
    submit = SubmitField(_l("Start the notice"))

    def set_choices(self, communities) -> None:
        self.community_id.choices = [SelectChoice(c.id, c.name) for c in communities]

    def notice_data(self) -> NoticeData:
        return NoticeData(
            self.community_id.data, self.title.data, self.period_start.data, self.period_end.data
        )


class ItemRowForm(FlaskForm):
    """One candidate line: whether to publish it, and staff's own wording."""

    class Meta:
        csrf = False  # the enclosing form carries the token

    ref = HiddenField()
    include = BooleanField(_l("Publish"))
    wording = StringField(_l("Public wording"), validators=[Length(max=WORDING_MAX)])


class ItemsForm(FlaskForm):
    """The lines of a notice: one row per candidate."""

    items = FieldList(FormField(ItemRowForm))
    submit = SubmitField(_l("Save the entries"))

    @classmethod
    def for_rows(cls, rows):
        """The form showing `rows` (public_notice.choice_rows) as they are stored."""
        items = [{"ref": r.row.ref, "include": r.included, "wording": r.wording} for r in rows]
        return cls(formdata=None, data={"items": items})

    def chosen(self) -> dict[str, str]:
        """ref → wording of the rows ticked."""
        return {entry.ref.data: entry.wording.data or "" for entry in self.items if entry.include.data}


class PublishForm(FlaskForm):
    """When the notice goes up, and until when (公示期, 7 days if left empty)."""

    when = RadioField(
        _l("Publish"),
        choices=[SelectChoice("now", _l("Now")), SelectChoice("later", _l("At a later time"))],
        default="now",
        render_kw={"class": "radios"},
    )
    day = date_field(_l("Date"), required=False, today=False)
    at = TimeField(_l("Time"), validators=[Optional()], render_kw={"step": 300})
    until_day = date_field(_l("Stays up until (date, optional)"), required=False, today=False)
    until_at = TimeField(_l("Until the time (optional)"), validators=[Optional()], render_kw={"step": 300})
    submit = SubmitField(_l("Publish"))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.when.data == "later" and self.day.data is None and not self.day.errors:
            self.day.errors = [*self.day.errors, _l("Enter the date it goes up.")]
            valid = False
        return valid

    def publish_at(self) -> datetime | None:
        return local_moment(self.day.data, self.at.data) if self.when.data == "later" else None

    def until(self) -> datetime | None:
        """The end: the date and time given, or the end of the date given (None: the default)."""
        if self.until_day.data is None:
            return None
        if self.until_at.data is None:
            return local_moment(self.until_day.data + timedelta(days=1), None)
        return local_moment(self.until_day.data, self.until_at.data)


class WithdrawForm(FlaskForm):
    reason = text_area(_l("Why it is withdrawn"), REASON_MAX)
    submit = SubmitField(_l("Withdraw the notice"))


class HandleForm(FlaskForm):
    note = text_area(_l("What was found and done"), NOTE_MAX)
    submit = SubmitField(_l("Mark as answered"))


class ObjectionForm(FlaskForm):
    """A resident's objection, from the public page (no account)."""

    item_id = SelectField(_l("Which entry"), coerce=optional_int, validate_choice=True)
    text = text_area(_l("What is wrong?"), TEXT_MAX)
    contact = StringField(
        _l("How we can reach you (optional)"),
        validators=[Optional(), Length(max=CONTACT_MAX)],
        render_kw={"maxlength": CONTACT_MAX, "autocomplete": "tel"},
    )
    # A trap for bots: hidden from people and screen readers, filled by scripts.
    website = StringField(_l("Leave this empty"), render_kw={"tabindex": "-1", "autocomplete": "off"})
    submit = SubmitField(_l("Send"))

    def set_choices(self, items: list[tuple[int, str]]) -> None:
        self.item_id.choices = [SelectChoice("", _l("The whole notice"))] + [
            SelectChoice(item_id, text) for item_id, text in items
        ]

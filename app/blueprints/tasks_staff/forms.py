"""Staff task forms: shape only, and turning local times typed on the page
into the aware UTC times the services take."""

import re
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from app import clock
from app.blueprints.registry.forms import date_field, enum_select, optional_int, text_area
from app.models import TaskStatus, Urgency
from app.services.tasks import EARLIEST_TIME, LATEST_TIME, MAX_SLOTS, TIME_RANGE_MESSAGE, TaskData

TIME_MESSAGE = _l("Enter a time, such as 09:30.")
PHONE = re.compile(r"^1\d{10}$")


def local_to_utc(day, time) -> datetime:
    """A date and wall-clock time in Asia/Shanghai as an aware UTC datetime."""
    return datetime.combine(day, time, tzinfo=clock.LOCAL_TZ).astimezone(UTC)


class TaskForm(FlaskForm):
    """Post a task for one household, from one of its open needs."""

    need_id = SelectField(_l("Need"), coerce=optional_int, validate_choice=False)
    service_type = SelectField(_l("Service"), validators=[InputRequired(message=_l("Choose a service."))])
    day = date_field(_l("Date"), today=False)
    starts_at = TimeField(
        _l("Starts at"), validators=[InputRequired(message=TIME_MESSAGE)], render_kw={"step": 300}
    )
    ends_at = TimeField(
        _l("Ends at"), validators=[InputRequired(message=TIME_MESSAGE)], render_kw={"step": 300}
    )
    expected_minutes = IntegerField(
        _l("Expected minutes of work (optional)"),
        validators=[Optional()],
        render_kw={"inputmode": "numeric"},
    )
    slots = IntegerField(
        _l("Volunteers needed"),
        validators=[InputRequired(message=_l("Enter a whole number."))],
        default=1,
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_SLOTS},
    )
    urgency = enum_select(_l("Urgency"), Urgency, default=Urgency.NORMAL)
    description = text_area(_l("Note for the volunteer"), 500)
    repeat = BooleanField(_l("Repeat weekly"))
    until = date_field(_l("Repeat until (date)"), required=False, today=False)
    paired_volunteer = StringField(
        _l("Paired volunteer's phone number (一帮一结对, optional)"),
        validators=[Optional(), Length(max=11)],
        render_kw={"inputmode": "tel"},
    )
    submit = SubmitField(_l("Post the task"))

    def set_choices(self, needs, service_types) -> None:
        self.need_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(n.id, f"{n.service_type.name} · {n.description[:40]}") for n in needs
        ]
        self.service_type.choices = [SelectChoice(s.code, s.name) for s in service_types]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.repeat.data and self.until.data is None and not self.until.errors:
            self.until.errors = [*self.until.errors, _l("Enter the date of the last visit.")]
            valid = False
        return valid

    def validate_day(self, field) -> None:
        # Before local_to_utc: a day near year 1 or 9999 has no UTC time.
        if field.data is not None and not EARLIEST_TIME.year <= field.data.year < LATEST_TIME.year:
            raise ValidationError(TIME_RANGE_MESSAGE)

    def validate_paired_volunteer(self, field) -> None:
        if field.data and not PHONE.fullmatch(field.data.strip()):
            raise ValidationError(_l("Enter an 11-digit mobile number."))
        if field.data and not self.repeat.data:
            raise ValidationError(_l("A paired volunteer is for a weekly series."))

    def task_data(self, household_id: int) -> TaskData:
        return TaskData(
            household_id=household_id,
            service_type_code=self.service_type.data,
            starts_at=local_to_utc(self.day.data, self.starts_at.data),
            ends_at=local_to_utc(self.day.data, self.ends_at.data),
            description=self.description.data or "",
            slots=self.slots.data,
            expected_minutes=self.expected_minutes.data,
            urgency=self.urgency.data,
            need_id=self.need_id.data,
        )


class TaskFilterForm(FlaskForm):
    """The status filter of the staff task list, from the query string."""

    class Meta:
        csrf = False

    status = enum_select(_l("Status"), TaskStatus, optional=True)

    def filters(self) -> dict:
        return {"status": self.status.data} if self.validate() else {}

    def query_args(self) -> dict[str, str]:
        return {"status": self.status.raw_data[0]} if self.status.raw_data and self.status.raw_data[0] else {}


class CancelForm(FlaskForm):
    reason = StringField(
        _l("Reason for cancelling"),
        validators=[InputRequired(message=_l("Give a reason (up to 300 characters).")), Length(max=300)],
    )
    submit = SubmitField(_l("Cancel the task"))

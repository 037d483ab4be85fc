"""Forms of the supply pages: shape only (lengths, formats, choices); the rules
live in app/services/supply*.py."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TelField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from app.blueprints.forms import MultiCheckboxField
from app.blueprints.registry.forms import date_field, text_area
from app.blueprints.tasks_staff.forms import TIME_MESSAGE, local_to_utc
from app.models import MatchOutcome
from app.services.supply import MAX_CAPACITY, OfferData
from app.services.supply_decisions import MAX_TEXT, AcceptData

STREET, COMMUNITIES = "street", "communities"


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token and a submit."""

    submit = SubmitField(_l("Go"))


# --- the organisation desk -----------------------------------------------------------------


class OfferForm(FlaskForm):
    service_type_code = SelectField(
        _l("Service"), validators=[InputRequired(message=_l("Choose a service."))]
    )
    capacity = IntegerField(
        _l("How many (visits or places) in the period"),
        validators=[InputRequired(message=_l("Enter a whole number."))],
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_CAPACITY},
    )
    area = RadioField(
        _l("Where"),
        choices=[
            SelectChoice(STREET, _l("The whole street")),
            SelectChoice(COMMUNITIES, _l("The communities chosen below")),
        ],
        default=STREET,
        render_kw={"class": "radios"},
    )
    community_ids = MultiCheckboxField(_l("Communities"), coerce=int, validate_choice=False)
    valid_from = date_field(_l("Valid from"))
    valid_until = date_field(_l("Valid until"), today=False)
    description = text_area(_l("What is offered (who does it, what it includes)"), 500)
    submit = SubmitField(_l("Publish the offer"))

    def setup(self, services, communities) -> None:
        self.service_type_code.choices = [SelectChoice(s.code, s.name) for s in services]
        self.community_ids.choices = [SelectChoice(c.id, c.name) for c in communities]

    def fill(self, offer, community_ids) -> None:
        """Show a saved offer (on GET)."""
        self.service_type_code.data, self.capacity.data = offer.service_type_code, offer.capacity
        self.area.data = STREET if offer.whole_street else COMMUNITIES
        self.community_ids.data = community_ids
        self.valid_from.data, self.valid_until.data = offer.valid_from, offer.valid_until
        self.description.data = offer.description

    def to_data(self) -> OfferData:
        return OfferData(
            service_type_code=self.service_type_code.data,
            capacity=self.capacity.data,
            valid_from=self.valid_from.data,
            valid_until=self.valid_until.data,
            description=self.description.data or "",
            whole_street=self.area.data != COMMUNITIES,
            community_ids=list(self.community_ids.data or []),
        )


class CloseOfferForm(FlaskForm):
    reason = StringField(
        _l("Why (optional)"), validators=[Optional(), Length(max=300)], render_kw={"maxlength": 300}
    )
    submit = SubmitField(_l("Close the offer"))


class InviteMemberForm(FlaskForm):
    phone = TelField(
        _l("Mobile number of a registered volunteer"),
        validators=[DataRequired(message=_l("Enter a phone number.")), Length(max=11)],
        render_kw={"inputmode": "tel", "maxlength": 11, "autocomplete": "off"},
    )
    submit = SubmitField(_l("Invite"))


# --- staff: accepting and declining ------------------------------------------------------


class AcceptForm(FlaskForm):
    outcome = RadioField(
        _l("Accept as"),
        choices=[
            SelectChoice(
                MatchOutcome.TASK.value, _l("A task that only the organisation's volunteers can claim")
            ),
            SelectChoice(MatchOutcome.MEASURE.value, _l("A measure by the organisation (帮扶措施)")),
        ],
        default=MatchOutcome.TASK.value,
        validators=[InputRequired(message=_l("Choose what accepting makes."))],
        render_kw={"class": "radios"},
    )
    org_description = text_area(_l("What the organisation is told about the need"), MAX_TEXT)
    day = date_field(_l("Date of the visit (for a task)"), required=False, today=False)
    starts_at = TimeField(_l("Starts at"), validators=[Optional()], render_kw={"step": 300})
    ends_at = TimeField(_l("Ends at"), validators=[Optional()], render_kw={"step": 300})
    submit = SubmitField(_l("Accept this offer"))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.outcome.data == MatchOutcome.TASK.value:
            for field, message in (
                (self.day, _l("Enter a date.")),
                (self.starts_at, TIME_MESSAGE),
                (self.ends_at, TIME_MESSAGE),
            ):
                if field.data is None and not field.errors:
                    field.errors = [*field.errors, message]
                    valid = False
        return valid

    def to_data(self) -> AcceptData:
        outcome = MatchOutcome(self.outcome.data)
        task = outcome is MatchOutcome.TASK
        return AcceptData(
            outcome=outcome,
            org_description=self.org_description.data or "",
            starts_at=local_to_utc(self.day.data, self.starts_at.data) if task else None,
            ends_at=local_to_utc(self.day.data, self.ends_at.data) if task else None,
        )


class DeclineForm(FlaskForm):
    reason = StringField(
        _l("Why not this offer"),
        validators=[DataRequired(message=_l("Give the reason.")), Length(max=MAX_TEXT)],
        render_kw={"maxlength": MAX_TEXT},
    )
    submit = SubmitField(_l("Decline"))


class InviteVolunteerForm(FlaskForm):
    task_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,9}$")])
    volunteer_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,9}$")])

"""Forms of the public help page; they check shape, services/help_requests.py the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from app.services.errors import InvalidInput
from app.services.help_requests import check_contact_phone


class GridChoiceForm(FlaskForm):
    """Which grid to ask: a GET form, so it works from a bookmark and without JavaScript."""

    class Meta:
        csrf = False

    grid_id = SelectField(
        _l("Where you live: community and grid"),
        coerce=int,
        validate_choice=True,
        validators=[DataRequired(message=_l("Choose your grid."))],
    )
    submit = SubmitField(_l("Continue"))

    def set_choices(self, grid_groups: dict[str, list[tuple[int, str]]]) -> None:
        """Grids grouped by "street · community" (services.org.grid_choices)."""
        self.grid_id.choices = [
            SelectChoice(grid_id, name, optgroup=group)
            for group, grids in grid_groups.items()
            for grid_id, name in grids
        ]


def contact_phone(form, field) -> None:
    """The service's phone rule, so that its message shows beside the other fields' errors."""
    try:
        check_contact_phone(field.data)
    except InvalidInput as error:
        raise ValidationError(str(error.message)) from None


class HelpRequestForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[DataRequired(message=_l("Enter your name.")), Length(max=50)],
        render_kw={"autocomplete": "name", "maxlength": 50},
    )
    phone = TelField(
        _l("Phone number"),
        validators=[DataRequired(message=_l("Enter a phone number we can call.")), contact_phone],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 20},
    )
    address = StringField(
        _l("Address"),
        validators=[DataRequired(message=_l("Enter where you live.")), Length(max=100)],
        render_kw={"autocomplete": "street-address", "maxlength": 100},
    )
    need = TextAreaField(
        _l("What help do you need?"),
        validators=[DataRequired(message=_l("Say what help you need.")), Length(max=500)],
        render_kw={"rows": 4, "maxlength": 500},
    )
    service_type_code = SelectField(_l("Kind of help (if you know)"), validate_choice=True)
    # A trap for bots: hidden from people and screen readers, filled by scripts.
    website = StringField(_l("Leave this empty"), render_kw={"tabindex": "-1", "autocomplete": "off"})
    submit = SubmitField(_l("Send my request"))

    def set_choices(self, service_types) -> None:
        self.service_type_code.choices = [("", _l("Not sure"))] + [(s.code, s.name) for s in service_types]

"""Forms check shape only; the account rules live in app/services/accounts.py."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from app.blueprints.forms import MultiCheckboxField
from app.models import FreeTime
from app.services.accounts import PASSWORD_MIN_LENGTH, PHONE_RE

phone_validators = [
    DataRequired(message=_l("Enter your mobile number.")),
    Regexp(PHONE_RE, message=_l("Enter an 11-digit mainland mobile number starting with 13–19.")),
]


class LoginForm(FlaskForm):
    phone = StringField(
        _l("Mobile number"),
        validators=phone_validators,
        render_kw={"inputmode": "numeric", "autocomplete": "username", "maxlength": 11},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me logged in on this phone"))
    submit = SubmitField(_l("Log in"))


class ProfileFields(FlaskForm):
    """Fields a volunteer fills in at registration and later on the profile page."""

    name = StringField(
        _l("Name"),
        validators=[DataRequired(message=_l("Enter your name.")), Length(max=50)],
        render_kw={"autocomplete": "name"},
    )
    grid_id = SelectField(
        _l("Your community and grid"),
        coerce=int,
        validate_choice=True,
        validators=[DataRequired(message=_l("Choose your grid."))],
    )
    skills = MultiCheckboxField(_l("What you can help with"))
    free_times = MultiCheckboxField(_l("When you are usually free"))

    def set_choices(self, grid_groups: dict[str, list[tuple[int, str]]], skills) -> None:
        """Grids grouped by community (see services.org.grid_choices), skills, free times."""
        self.grid_id.choices = [
            SelectChoice(grid_id, name, optgroup=group)
            for group, grids in grid_groups.items()
            for grid_id, name in grids
        ]
        self.skills.choices = [SelectChoice(s.code, s.name) for s in skills]
        self.free_times.choices = [SelectChoice(ft.value, ft.label) for ft in FreeTime]


class RegisterForm(ProfileFields):
    phone = StringField(
        _l("Mobile number"),
        validators=phone_validators,
        render_kw={"inputmode": "numeric", "autocomplete": "tel", "maxlength": 11},
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(message=_l("Choose a password.")),
            Length(
                min=PASSWORD_MIN_LENGTH,
                message=_l("The password must be at least %(n)d characters.", n=PASSWORD_MIN_LENGTH),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Register as a volunteer"))


class ProfileForm(ProfileFields):
    show_full_name = BooleanField(_l("Show my full name on the honour board"))
    submit = SubmitField(_l("Save"))


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(message=_l("Choose a password.")),
            Length(
                min=PASSWORD_MIN_LENGTH,
                message=_l("The password must be at least %(n)d characters.", n=PASSWORD_MIN_LENGTH),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[EqualTo("new_password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))

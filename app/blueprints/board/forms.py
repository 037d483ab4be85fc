"""Forms of the honour board (a GET form of choices) and the team pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.blueprints.forms import LongSelect
from app.services.teams import MOTTO_MAX, NAME_MAX, NAME_MIN

PERIOD_CHOICES = [
    SelectChoice("week", _l("This week")),
    SelectChoice("month", _l("This month")),
    SelectChoice("quarter", _l("This quarter")),
    SelectChoice("year", _l("This year")),
    SelectChoice("all", _l("All time")),
]


class BoardChoiceForm(FlaskForm):
    """Which board: a community, a street or the city, and a period (read from the query string)."""

    class Meta:
        csrf = False

    scope = SelectField(_l("Where"), widget=LongSelect())
    period = SelectField(_l("Period"), choices=PERIOD_CHOICES, default="month")

    def set_choices(self, scope_options: dict[str, list[tuple[str, str]]]) -> None:
        """Scopes grouped as honour.scope_options gives them (communities, streets, cities)."""
        self.scope.choices = [
            SelectChoice(key, name, optgroup=group)
            for group, options in scope_options.items()
            for key, name in options
        ]


class CommunityChoiceForm(FlaskForm):
    """Whose teams to list (read from the query string)."""

    class Meta:
        csrf = False

    community_id = SelectField(_l("Community"), coerce=int)

    def set_choices(self, communities) -> None:
        self.community_id.choices = [SelectChoice(c.id, c.name) for c in communities]


class TeamForm(FlaskForm):
    """A new team: its name and motto; the rules are app/services/teams.py's."""

    name = StringField(
        _l("Team name"),
        validators=[
            DataRequired(message=_l("Give the team a name.")),
            Length(
                min=NAME_MIN,
                max=NAME_MAX,
                message=_l(
                    "Give the team a name of %(low)d to %(high)d characters.", low=NAME_MIN, high=NAME_MAX
                ),
            ),
        ],
    )
    motto = TextAreaField(
        _l("Motto (optional)"),
        validators=[
            Length(max=MOTTO_MAX, message=_l("Write a motto of at most %(n)d characters.", n=MOTTO_MAX))
        ],
    )
    submit = SubmitField(_l("Create the team"))


class ActionForm(FlaskForm):
    """A button that posts (CSRF only): join or leave a team."""

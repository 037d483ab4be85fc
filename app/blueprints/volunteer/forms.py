"""Volunteer forms: the board's filters (read from the query string)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from app.blueprints.forms import plausible_day


class BoardFilterForm(FlaskForm):
    """Filter the task board by service, skill and day."""

    class Meta:
        csrf = False

    service_type = SelectField(_l("Service"), validators=[Optional()])
    skill = SelectField(_l("Skill"), validators=[Optional()])
    day = DateField(
        _l("Date"), validators=[Optional(), plausible_day], invalid_value_message=_l("Enter a date.")
    )

    def set_choices(self, service_types, skills) -> None:
        blank = [SelectChoice("", _l("All"))]
        self.service_type.choices = blank + [SelectChoice(s.code, s.name) for s in service_types]
        self.skill.choices = blank + [SelectChoice(s.code, s.name) for s in skills]

    def filters(self) -> dict:
        """Keyword arguments for tasks.board_stmt (none if the filters are not valid)."""
        if not self.validate():
            return {}
        return {
            "service_type": self.service_type.data or None,
            "skill": self.skill.data or None,
            "day": self.day.data,
        }

    def query_args(self) -> dict[str, str]:
        return {
            name: value
            for name in ("service_type", "skill", "day")
            if (value := self[name].raw_data and self[name].raw_data[0])
        }

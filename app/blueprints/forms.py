"""Form pieces shared by several blueprints."""

from datetime import date

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms import SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, Select

from app.services.errors import DomainError


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (easier to tap on a phone than a multi-select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LongSelect(Select):
    """A select of many options (a city's 190 board scopes), each rendered by
    one format string: WTForms' own builds and escapes an attribute dict per
    option, which cost the honour board a third of its time."""

    _OPTION = Markup('<option value="%s">%s</option>')
    _SELECTED = Markup('<option selected value="%s">%s</option>')  # as WTForms writes it

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        template = cls._SELECTED if choice.selected else cls._OPTION
        return template % (choice.value, choice.label or choice.value)


def attach_error(form, error: DomainError) -> bool:
    """Show a service's refusal beside the field it concerns.

    Returns False if the form has no such field (the caller flashes instead).
    """
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        return False
    field.errors = [*field.errors, str(error.message)]
    return True


def apply_form(form, service, *args) -> tuple[bool, object]:
    """Call `service(user, *args)` for a valid submitted form: (True, its
    result). A refusal goes beside its field or is flashed: (False, None); an
    object out of the user's reach answers 404."""
    if not form.validate_on_submit():
        return False, None
    try:
        return True, service(current_user._get_current_object(), *args)
    except DomainError as error:
        if error.status == 404:
            raise
        if not attach_error(form, error):
            flash(str(error.message), "error")
        return False, None


def form_status(*forms) -> int:
    """A page showing these forms: 422 when one was submitted (and refused), else 200."""
    return 422 if any(f.is_submitted() for f in forms) else 200


EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2099, 12, 31)


def plausible_day(form, field) -> None:
    """A date typed on a page lies in 1900–2099 (a birth date to a plan):
    a day near year 1 or 9999 has no time in another time zone, so it would
    break the code that turns it into UTC."""
    if field.data is not None and not EARLIEST_DAY <= field.data <= LATEST_DAY:
        raise ValidationError(
            _l("Enter a date from %(first)s to %(last)s.", first=EARLIEST_DAY, last=LATEST_DAY)
        )

"""Form pieces shared by several blueprints."""

from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from app.services.errors import DomainError


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (easier to tap on a phone than a multi-select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def attach_error(form, error: DomainError) -> bool:
    """Show a service's refusal beside the field it concerns.

    Returns False if the form has no such field (the caller flashes instead).
    """
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        return False
    field.errors = [*field.errors, str(error.message)]
    return True

"""Forms of the notification centre and the calendar page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField

from app.services.notifications import KIND_LABELS


class ActionForm(FlaskForm):
    """A button that posts (CSRF only): mark read, turn the feed on or off."""


def preferences_form(kinds, current: dict) -> FlaskForm:
    """One checkbox per kind the user can receive, ticked when it is on."""

    class PreferencesForm(FlaskForm):
        pass

    for kind in kinds:
        setattr(PreferencesForm, kind.value, BooleanField(KIND_LABELS[kind], default=current[kind]))
    PreferencesForm.submit = SubmitField(_l("Save"))
    return PreferencesForm()

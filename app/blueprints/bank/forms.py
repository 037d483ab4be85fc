"""Forms of the bank pages and the labels of the bank's enums; forms check shape,
app/services/bank.py, vouchers.py and donations.py the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, SubmitField, TelField
from wtforms.fields.choices import SelectChoice, enum_choices, enum_coerce
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.blueprints.registry.forms import date_field, optional_int, text_area
from app.labels import label
from app.models import PartnerKind
from app.services.bank import PartnerData, RewardData

WHOLE_NUMBER = _l("Enter a whole number.")


def number_field(text, **render) -> IntegerField:
    return IntegerField(
        text,
        validators=[InputRequired(message=WHOLE_NUMBER)],
        render_kw={"inputmode": "numeric", **render},
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token and a submit."""

    submit = SubmitField(_l("Go"))


# --- volunteers ---------------------------------------------------------------------


class DonateForm(FlaskForm):
    target = SelectField(_l("Give to"), validators=[InputRequired(message=_l("Choose whom to give to."))])
    amount = number_field(_l("Points"), min=1)
    # A random key issued with the form: a double submit of the same form pays once.
    request_key = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Donate the points"))


# --- partners ----------------------------------------------------------------------------


class CodeForm(FlaskForm):
    code = StringField(
        _l("Voucher code"),
        validators=[DataRequired(message=_l("Enter the code printed under the QR code.")), Length(max=20)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "maxlength": 20},
    )
    submit = SubmitField(_l("Find the voucher"))


# --- staff ---------------------------------------------------------------------------------


class PartnerForm(FlaskForm):
    name = StringField(
        _l("Partner name"), validators=[DataRequired(message=_l("Enter the name.")), Length(max=80)]
    )
    kind = SelectField(
        _l("Kind"),
        choices=enum_choices(PartnerKind, label=label),
        coerce=enum_coerce(PartnerKind),
        default=PartnerKind.MERCHANT,
    )
    contact_name = StringField(_l("Contact person (optional)"), validators=[Length(max=50)])
    contact_phone = TelField(
        _l("Contact phone (optional)"), validators=[Length(max=20)], render_kw={"inputmode": "tel"}
    )
    active = BooleanField(_l("Active (its rewards are offered)"), default=True)
    submit = SubmitField(_l("Save"))

    def to_data(self) -> PartnerData:
        return PartnerData(
            name=self.name.data,
            kind=self.kind.data,
            contact_name=self.contact_name.data or "",
            contact_phone=self.contact_phone.data or "",
            active=self.active.data,
        )


class LinkUserForm(FlaskForm):
    phone = TelField(
        _l("Mobile number of the partner's account"),
        validators=[DataRequired(message=_l("Enter a phone number.")), Length(max=11)],
        render_kw={"inputmode": "tel", "maxlength": 11},
    )
    submit = SubmitField(_l("Link the account"))


class RewardForm(FlaskForm):
    """A reward's details; `partner_id` only when it is created, `community_id` only for street officers."""

    partner_id = SelectField(_l("Partner"), coerce=optional_int)
    name = StringField(
        _l("Reward name"), validators=[DataRequired(message=_l("Enter the name.")), Length(max=80)]
    )
    description = text_area(_l("Description (optional)"), 500, required=False)
    point_price = number_field(_l("Price in points"), min=1, max=1_000_000)
    community_id = SelectField(_l("Offered in"), coerce=optional_int)
    valid_from = date_field(_l("Valid from"))
    valid_until = date_field(_l("Valid until (optional)"), required=False, today=False)
    active = BooleanField(_l("Offered now"), default=True)
    submit = SubmitField(_l("Save"))

    def setup(self, partners, communities, *, creating: bool, street_wide: bool) -> None:
        """Choices for this user; drop the fields that do not apply."""
        if creating:
            self.partner_id.choices = [SelectChoice(p.id, p.name) for p in partners]
        else:
            del self.partner_id
        if street_wide:
            options = [SelectChoice("", _l("The whole street"))]
            self.community_id.choices = options + [SelectChoice(c.id, c.name) for c in communities]
        else:
            del self.community_id

    def to_data(self) -> RewardData:
        return RewardData(
            name=self.name.data,
            point_price=self.point_price.data,
            valid_from=self.valid_from.data,
            valid_until=self.valid_until.data,
            community_id=self.community_id.data if "community_id" in self else None,
            description=self.description.data or "",
            active=self.active.data,
        )


class ReceiveForm(FlaskForm):
    quantity = number_field(_l("Items received"), min=1)
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=300)])
    submit = SubmitField(_l("Add to stock"))


class WriteOffForm(FlaskForm):
    quantity = number_field(_l("Items to write off"), min=1)
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Give the reason.")), Length(max=300)],
        render_kw={"maxlength": 300},
    )
    submit = SubmitField(_l("Write off"))

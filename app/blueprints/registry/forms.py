"""Registry forms: shape only (lengths, formats, choices), and turning what
was typed into the services' data. The rules live in app/services/."""

import re
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import MonthField
from wtforms.fields.choices import SelectChoice, enum_choices, enum_coerce
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app import clock
from app.blueprints.forms import plausible_day
from app.labels import label
from app.models import HouseholdStatus, RegisterType, Relation, Schooling, Sex, WorkCapacity
from app.services.households import ConsentData, HouseholdData, MemberData

DATE_MESSAGE = _l("Enter a date.")


def fen_to_yuan(fen) -> str:
    """An amount in fen as yuan with two decimals: 78700 → "787.00"."""
    if fen is None:
        return ""
    return str((Decimal(fen) / 100).quantize(Decimal("0.01")))


class YuanField(StringField):
    """An amount typed in yuan with up to two decimals, held as whole fen."""

    def __init__(self, *args, max_digits: int = 12, **kwargs):
        super().__init__(*args, **kwargs)
        self.pattern = re.compile(rf"^\d{{1,{max_digits}}}(\.\d{{1,2}})?$")

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0].strip()
        self.data = None
        if not raw:
            return
        if not self.pattern.fullmatch(raw):
            raise ValueError(_("Enter an amount in yuan, such as 1234.50 (not negative)."))
        self.data = int(Decimal(raw) * 100)

    def _value(self) -> str:
        return self.raw_data[0] if self.raw_data else fen_to_yuan(self.data)


def yuan_field(text, required: bool = False, max_digits: int = 12) -> YuanField:
    check = InputRequired(message=_l("Enter an amount.")) if required else Optional()
    return YuanField(
        text,
        validators=[check],
        default=None if required else 0,
        max_digits=max_digits,
        render_kw={"inputmode": "decimal"},
    )


def enum_select(text, enum_cls, *, optional: bool = False, radio: bool = False, **kwargs):
    """A select (or radio list) of an enum's members with their labels; "" is None if optional."""
    member = enum_coerce(enum_cls)

    def coerce(value):
        return None if optional and value in (None, "") else member(value)

    def options():
        blank = [SelectChoice("", "—")] if optional else []
        return blank + enum_choices(enum_cls, label=label)

    if radio:
        kwargs.setdefault("render_kw", {"class": "radios"})
    return (RadioField if radio else SelectField)(text, coerce=coerce, choices=options, **kwargs)


def optional_int(value):
    return None if value in (None, "") else int(value)


def date_field(text, required: bool = True, today: bool = True) -> DateField:
    check = InputRequired(message=DATE_MESSAGE) if required else Optional()
    return DateField(
        text,
        validators=[check, plausible_day],
        default=clock.today if today else None,
        invalid_value_message=DATE_MESSAGE,
    )


def text_area(text, limit: int, required: bool = True) -> TextAreaField:
    check = DataRequired(message=_l("Please fill this in.")) if required else Optional()
    return TextAreaField(text, validators=[check, Length(max=limit)], render_kw={"rows": 3})


def percent_field(text, default: int) -> IntegerField:
    return IntegerField(
        text,
        validators=[InputRequired(message=_l("Enter a whole number."))],
        default=default,
        render_kw={"inputmode": "numeric"},
    )


def grid_options(grids) -> list[SelectChoice]:
    return [SelectChoice(grid.id, f"{grid.community.name} · {grid.name}") for grid in grids]


# --- households and members ------------------------------------------------


class HouseholdFields(FlaskForm):
    grid_id = SelectField(_l("Grid"), coerce=int)
    building = StringField(
        _l("Building"), validators=[DataRequired(message=_l("Enter the building.")), Length(max=30)]
    )
    unit = StringField(_l("Unit (if any)"), validators=[Length(max=10)])
    room = StringField(_l("Room"), validators=[DataRequired(message=_l("Enter the room.")), Length(max=10)])
    contact_phone = StringField(
        _l("Contact phone"),
        validators=[DataRequired(message=_l("Enter a contact phone.")), Length(max=20)],
        render_kw={"inputmode": "tel"},
    )
    register_type = enum_select(_l("Household register"), RegisterType, default=RegisterType.LOCAL)
    resident_since = date_field(_l("Living in the city since"), required=False, today=False)
    lives_alone = BooleanField(_l("Lives alone"))
    income_stable = BooleanField(_l("Stable income"))
    property_within_limits = BooleanField(_l("Property within the limits"), default=True)

    def set_grids(self, grids) -> None:
        self.grid_id.choices = grid_options(grids)

    def household_data(self) -> HouseholdData:
        return HouseholdData(
            grid_id=self.grid_id.data,
            building=self.building.data,
            unit=self.unit.data or "",
            room=self.room.data,
            contact_phone=self.contact_phone.data,
            register_type=self.register_type.data,
            resident_since=self.resident_since.data,
            lives_alone=self.lives_alone.data,
            income_stable=self.income_stable.data,
            property_within_limits=self.property_within_limits.data,
        )


class HouseholdForm(HouseholdFields):
    submit = SubmitField(_l("Save"))


class MemberFields(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=50)])
    id_number = StringField(
        _l("ID number (needs consent)"),
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "off", "maxlength": 18},
    )
    birth_date = date_field(_l("Date of birth"), required=False, today=False)
    sex = enum_select(_l("Sex"), Sex, optional=True)
    work_capacity = enum_select(_l("Ability to work"), WorkCapacity, default=WorkCapacity.FULL)
    schooling = enum_select(_l("Schooling"), Schooling, default=Schooling.NONE)
    serious_illness = BooleanField(_l("Serious illness (needs consent)"))
    disability_grade = SelectField(
        _l("Disability grade (needs consent)"),
        coerce=optional_int,
        choices=lambda: [
            SelectChoice("", "—"),
            *(SelectChoice(n, _("Grade %(n)d", n=n)) for n in (1, 2, 3, 4)),
        ],
    )

    def member_data(self, relation: Relation) -> MemberData:
        return MemberData(
            name=self.name.data,
            relation=relation,
            id_number=(self.id_number.data or "").strip() or None,
            birth_date=self.birth_date.data,
            sex=self.sex.data,
            serious_illness=self.serious_illness.data,
            disability_grade=self.disability_grade.data,
            work_capacity=self.work_capacity.data,
            schooling=self.schooling.data,
        )


class ConsentFields(FlaskForm):
    on = date_field(_l("Consent given on"))
    scope = StringField(
        _l("What the consent covers"),
        validators=[DataRequired(message=_l("Say what the consent covers.")), Length(max=300)],
    )

    def consent_data(self) -> ConsentData:
        return ConsentData(on=self.on.data, scope=self.scope.data)


class NewHouseholdForm(HouseholdFields, MemberFields):
    """A household and its householder, with consent if it is given now."""

    consent_now = BooleanField(_l("The household gives its separate consent now"))
    on = date_field(_l("Consent given on"), required=False)
    scope = StringField(_l("What the consent covers"), validators=[Length(max=300)])
    submit = SubmitField(_l("Record the household"))

    def consent_data(self) -> ConsentData | None:
        return ConsentData(on=self.on.data, scope=self.scope.data or "") if self.consent_now.data else None


class MemberForm(MemberFields):
    relation = enum_select(_l("Relation to the householder"), Relation)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted():
            self.id_number.data = ""  # a stored ID number is never written back into a page
        # Field order: relation right after the name.
        self._fields.move_to_end("relation", last=False)
        self._fields.move_to_end("name", last=False)

    @classmethod
    def for_member(cls, member):
        """The form for editing `member`; the householder stays the householder."""
        form = cls(obj=member)
        if member.relation is Relation.HEAD:
            del form.relation
        return form

    def member_data(self, relation: Relation | None = None) -> MemberData:
        return super().member_data(self.relation.data if "relation" in self else relation)


class RemoveMemberForm(FlaskForm):
    reason = StringField(
        _l("Why (moved out, passed away…)"),
        validators=[DataRequired(message=_l("Give a reason.")), Length(max=500)],
    )
    submit = SubmitField(_l("Remove the member"))


class ConsentForm(ConsentFields):
    submit = SubmitField(_l("Record the consent"))


class WithdrawConsentForm(ConsentFields):
    on = date_field(_l("Consent withdrawn on"))
    scope = StringField(
        _l("Note: what is withdrawn and how it was asked"),
        validators=[DataRequired(message=_l("Please fill this in.")), Length(max=300)],
    )
    confirm = BooleanField(
        _l("I understand that ID numbers, health details and finances will be erased"),
        validators=[DataRequired(message=_l("Tick this box to confirm."))],
    )
    submit = SubmitField(_l("Withdraw consent and erase"))


class FinanceForm(FlaskForm):
    month = MonthField(
        _l("Month"),
        validators=[InputRequired(message=DATE_MESSAGE)],
        default=lambda: clock.today().replace(day=1),
        invalid_value_message=DATE_MESSAGE,
    )
    income = yuan_field(_l("Household income (yuan)"), required=True)
    illness = yuan_field(_l("Medical expenses (yuan)"))
    disaster = yuan_field(_l("Disaster or accident expenses (yuan)"))
    schooling = yuan_field(_l("Schooling expenses (yuan)"))
    submit = SubmitField(_l("Save the month"))

    def amounts(self) -> tuple[int, int, int, int]:
        """Income and the three rigid expenses in fen; an empty expense is 0."""
        return (
            self.income.data,
            self.illness.data or 0,
            self.disaster.data or 0,
            self.schooling.data or 0,
        )


class StatusForm(FlaskForm):
    """Leaving or re-entering the registry."""

    on = date_field(_l("Date"))
    reason = text_area(_l("Reason"), 500)
    submit = SubmitField(_l("Confirm"))


class RevealForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(message=_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Show the full ID number"))


# --- the household list ----------------------------------------------------


class HouseholdFilterForm(FlaskForm):
    """The filters of the household list, read from the query string."""

    class Meta:
        csrf = False

    status = enum_select(_l("Status"), HouseholdStatus, optional=True)
    grid_id = SelectField(_l("Grid"), coerce=optional_int)
    q = StringField(_l("Address or name"), validators=[Length(max=50)])

    def set_grids(self, grids) -> None:
        self.grid_id.choices = [SelectChoice("", "—"), *grid_options(grids)]

    def filters(self) -> dict:
        """Keyword arguments for households.households_stmt (none if the filters are not valid)."""
        if not self.validate():
            return {}
        return {"status": self.status.data, "grid_id": self.grid_id.data, "q": (self.q.data or "").strip()}

    def query_args(self) -> dict[str, str]:
        """The filters as given, for the pager's links."""
        return {
            name: value
            for name in ("status", "grid_id", "q")
            if (value := self[name].raw_data and self[name].raw_data[0])
        }

"""Registry forms for casework and city standards: shape only; the rules live in app/services/."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice, enum_choices, enum_coerce
from wtforms.validators import DataRequired, Length, NumberRange

from app.blueprints.forms import MultiCheckboxField
from app.blueprints.registry.forms import (
    date_field,
    enum_select,
    optional_int,
    percent_field,
    text_area,
    yuan_field,
)
from app.labels import label
from app.models import (
    ApprovalAction,
    Category,
    Cause,
    FollowUpMethod,
    MeasureKind,
    NeedStatus,
    ReviewOutcome,
    Urgency,
)
from app.services.casework import NeedData
from app.services.catalogue import ServiceTypeData
from app.services.standards import StandardData

# --- casework --------------------------------------------------------------


class ProposeCategoryForm(FlaskForm):
    category = enum_select(_l("Category"), Category)
    note = text_area(_l("Why (optional)"), 500, required=False)
    submit = SubmitField(_l("Propose"))


class DecisionForm(FlaskForm):
    note = text_area(_l("Note (required to reject or revoke)"), 500, required=False)
    back = HiddenField()
    submit = SubmitField(_l("Confirm"))


class CauseForm(FlaskForm):
    cause = enum_select(_l("Cause of hardship"), Cause)
    note = text_area(_l("Note (optional)"), 500, required=False)
    submit = SubmitField(_l("Add"))


class NeedForm(FlaskForm):
    service_type_code = SelectField(_l("Service needed"))
    description = text_area(_l("What is needed"), 500)
    urgency = enum_select(_l("Urgency"), Urgency, radio=True, default=Urgency.NORMAL)
    submit = SubmitField(_l("Add the need"))

    def set_services(self, service_types) -> None:
        self.service_type_code.choices = [SelectChoice(s.code, s.name) for s in service_types]

    def need_data(self) -> NeedData:
        return NeedData(
            service_type_code=self.service_type_code.data,
            description=self.description.data,
            urgency=self.urgency.data,
        )


class CloseNeedForm(FlaskForm):
    status = RadioField(
        _l("Outcome"),
        coerce=enum_coerce(NeedStatus),
        choices=lambda: [SelectChoice(s.value, label(s)) for s in (NeedStatus.MET, NeedStatus.CLOSED)],
        default=NeedStatus.MET,
        render_kw={"class": "radios"},
    )
    note = text_area(_l("Note"), 500)
    submit = SubmitField(_l("Close the need"))


class MeasureForm(FlaskForm):
    kind = enum_select(_l("Record"), MeasureKind, radio=True, default=MeasureKind.MEASURE)
    description = text_area(_l("What was done, or why nothing was"), 500)
    on = date_field(_l("Date"))
    need_id = SelectField(_l("For the need (optional)"), coerce=optional_int)
    submit = SubmitField(_l("Save"))

    def set_needs(self, scored_needs) -> None:
        """Choices from warnings.ScoredNeed rows (the open ones carry a score)."""
        self.need_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(s.need.id, f"{s.need.service_type.name}: {s.need.description[:40]}")
            for s in scored_needs
            if s.score is not None
        ]


class FollowUpForm(FlaskForm):
    on = date_field(_l("Date"))
    method = enum_select(_l("How"), FollowUpMethod, radio=True, default=FollowUpMethod.VISIT)
    note = text_area(_l("What you found"), 1000)
    satisfaction = SelectField(
        _l("Satisfaction (optional)"),
        coerce=optional_int,
        choices=lambda: [SelectChoice("", "—"), *(SelectChoice(n, "★" * n) for n in range(5, 0, -1))],
    )
    submit = SubmitField(_l("Save"))


class ReviewForm(FlaskForm):
    reviewed_on = date_field(_l("Reviewed on"))
    outcome = enum_select(_l("Outcome"), ReviewOutcome, radio=True, default=ReviewOutcome.CONTINUE)
    note = text_area(_l("Note (required unless continuing)"), 1000, required=False)
    revoke = MultiCheckboxField(_l("If changing: revoke these approved categories"), coerce=int)
    propose = MultiCheckboxField(_l("If changing: propose these categories"), coerce=enum_coerce(Category))
    submit = SubmitField(_l("Record the review"))

    def set_categories(self, assignments, decisions, may_exit: bool) -> None:
        """Revocable assignments (per casework.decisions_for), every category to propose;
        without the right to exit, no exit outcome is offered."""
        self.revoke.choices = [
            SelectChoice(a.id, label(a.category))
            for a in assignments
            if ApprovalAction.REVOKE in decisions.get(a.id, [])
        ]
        self.propose.choices = enum_choices(Category, label=label)
        if not may_exit:
            self.outcome.choices = [
                SelectChoice(o.value, label(o)) for o in ReviewOutcome if o is not ReviewOutcome.EXIT
            ]
        if not self.revoke.choices:
            del self.revoke

    def changes(self) -> dict:
        """The categories to revoke and propose; they belong to a CHANGE outcome only."""
        if self.outcome.data is not ReviewOutcome.CHANGE:
            return {"revoke": [], "propose": []}
        revoke = (self.revoke.data or []) if "revoke" in self else []
        return {"revoke": revoke, "propose": self.propose.data or []}


# --- settings --------------------------------------------------------------


class StandardForm(FlaskForm):
    city_id = SelectField(_l("City"), coerce=int)
    effective_from = date_field(_l("In force from"))
    monthly_amount = yuan_field(
        _l("Minimum-subsistence standard (yuan per person per month)"), required=True, max_digits=6
    )
    marginal_upper_pct = percent_field(_l("Marginal household: below (percent of the standard)"), 200)
    income_upper_pct = percent_field(_l("Income-type hardship: up to (percent of the standard)"), 200)
    expenditure_upper_pct = percent_field(
        _l("Expenditure-type hardship: up to (percent of the standard)"), 500
    )
    rigid_ratio_pct = percent_field(_l("Heavy rigid expenses: at least (percent of income)"), 150)
    submit = SubmitField(_l("Add the standard"))

    def set_cities(self, cities) -> None:
        self.city_id.choices = [SelectChoice(c.id, c.name) for c in cities]

    def standard_data(self) -> StandardData:
        return StandardData(
            city_id=self.city_id.data,
            effective_from=self.effective_from.data,
            monthly_amount=self.monthly_amount.data,
            marginal_upper_pct=self.marginal_upper_pct.data,
            income_upper_pct=self.income_upper_pct.data,
            expenditure_upper_pct=self.expenditure_upper_pct.data,
            rigid_ratio_pct=self.rigid_ratio_pct.data,
        )


class ServiceTypeForm(FlaskForm):
    """A service in the catalogue (shape only; the rules are in services.catalogue)."""

    code = StringField(_l("Code (letters, digits, _)"), validators=[DataRequired(), Length(max=32)])
    name_zh = StringField(_l("Name in Chinese"), validators=[DataRequired(), Length(max=50)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=80)])
    skill_code = SelectField(_l("Skill it needs"))
    points_per_visit = IntegerField(_l("Points per visit"), validators=[NumberRange(min=0, max=1000)])
    points_per_hour = IntegerField(_l("Points per hour"), validators=[NumberRange(min=0, max=1000)])
    active = BooleanField(_l("Offered"), default=True)
    submit = SubmitField(_l("Save the service"))

    def set_skills(self, skills) -> None:
        self.skill_code.choices = [SelectChoice(s.code, s.name) for s in skills]

    def service_data(self) -> ServiceTypeData:
        return ServiceTypeData(
            code=self.code.data,
            name_zh=self.name_zh.data,
            name_en=self.name_en.data,
            skill_code=self.skill_code.data,
            points_per_visit=self.points_per_visit.data,
            points_per_hour=self.points_per_hour.data,
            active=self.active.data,
        )

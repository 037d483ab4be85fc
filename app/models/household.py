"""The household ledger (台账): households, members, finances, consent, status history."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import EncryptedString, UTCDateTime, enum_column, utcnow


class RegisterType(enum.Enum):
    """Household register (户籍): local, or resident in the city for 2 years or more."""

    LOCAL = "local"
    RESIDENT = "resident"


class HouseholdStatus(enum.Enum):
    ACTIVE = "active"  # in the registry, being helped
    EXITED = "exited"  # left the registry (有进有出); may re-enter


class Relation(enum.Enum):
    """A member's relation to the householder (户主)."""

    HEAD = "head"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    GRANDCHILD = "grandchild"
    GRANDPARENT = "grandparent"
    SIBLING = "sibling"
    OTHER = "other"


class Sex(enum.Enum):
    MALE = "male"
    FEMALE = "female"


class WorkCapacity(enum.Enum):
    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


class Schooling(enum.Enum):
    NONE = "none"
    PRESCHOOL = "preschool"
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"
    VOCATIONAL = "vocational"
    UNIVERSITY = "university"


class Household(db.Model):
    """A household in a grid's ledger. Contact details are what a visit needs;
    health, income and ID numbers live on members and finance rows and are
    kept only with the household's separate consent (PIPL Art. 29)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(sa.ForeignKey("grid.id"), index=True)
    building: Mapped[str] = mapped_column(sa.String(30))
    unit: Mapped[str] = mapped_column(sa.String(10), default="")
    room: Mapped[str] = mapped_column(sa.String(10))
    contact_phone: Mapped[str] = mapped_column(sa.String(20))
    register_type: Mapped[RegisterType] = mapped_column(enum_column(RegisterType))
    resident_since: Mapped[date | None]
    lives_alone: Mapped[bool] = mapped_column(default=False)
    income_stable: Mapped[bool] = mapped_column(default=False)
    property_within_limits: Mapped[bool] = mapped_column(default=True)
    status: Mapped[HouseholdStatus] = mapped_column(
        enum_column(HouseholdStatus), default=HouseholdStatus.ACTIVE, index=True
    )
    next_review_on: Mapped[date | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    grid = relationship("Grid", lazy="raise")
    members: Mapped[list["Member"]] = relationship(
        back_populates="household", lazy="raise", order_by="Member.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["HouseholdEvent"]] = relationship(
        lazy="raise", order_by="HouseholdEvent.id", cascade="all, delete-orphan"
    )
    consents: Mapped[list["ConsentRecord"]] = relationship(
        lazy="raise", order_by="ConsentRecord.id", cascade="all, delete-orphan"
    )
    finances: Mapped[list["MonthlyFinance"]] = relationship(
        lazy="raise", order_by="MonthlyFinance.month", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.UniqueConstraint("grid_id", "building", "unit", "room"),)

    @property
    def address(self) -> str:
        unit = f"{self.unit}单元" if self.unit else ""
        return f"{self.building}{unit}{self.room}"

    @property
    def head(self) -> "Member | None":
        return next((m for m in self.members if m.relation is Relation.HEAD), None)

    @property
    def has_consent(self) -> bool:
        """True if the latest consent record gives consent."""
        return bool(self.consents) and self.consents[-1].given


class Member(db.Model):
    """A person in a household. The ID number is encrypted; `id_index` is its
    blind index, unique, so one person cannot be listed in two households."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    relation: Mapped[Relation] = mapped_column(enum_column(Relation))
    # The member's own account, if they have one (a resident who logs in).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), unique=True)
    id_number: Mapped[str | None] = mapped_column(EncryptedString)
    id_index: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    id_last4: Mapped[str | None] = mapped_column(sa.String(4))
    id_region: Mapped[str | None] = mapped_column(sa.String(6))
    birth_date: Mapped[date | None]
    sex: Mapped[Sex | None] = mapped_column(enum_column(Sex))
    serious_illness: Mapped[bool | None]
    disability_grade: Mapped[int | None]  # 1 (most severe) to 4; None: none or not recorded
    work_capacity: Mapped[WorkCapacity] = mapped_column(enum_column(WorkCapacity), default=WorkCapacity.FULL)
    schooling: Mapped[Schooling] = mapped_column(enum_column(Schooling), default=Schooling.NONE)

    household: Mapped[Household] = relationship(back_populates="members", lazy="raise")

    __table_args__ = (
        sa.CheckConstraint(
            "disability_grade IS NULL OR disability_grade BETWEEN 1 AND 4", name="disability_grade"
        ),
    )

    @property
    def id_masked(self) -> str | None:
        """The ID as shown by default: region and last four, e.g. 110105********1234."""
        if not self.id_last4:
            return None
        return f"{self.id_region}********{self.id_last4}"

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


class HouseholdEventKind(enum.Enum):
    ENTERED = "entered"
    EXITED = "exited"
    REENTERED = "reentered"


class HouseholdEvent(db.Model):
    """An entry into or exit from the registry, with who approved it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), index=True)
    kind: Mapped[HouseholdEventKind] = mapped_column(enum_column(HouseholdEventKind))
    on: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(500))
    approved_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    approved_by = relationship("User", lazy="raise")


class ConsentRecord(db.Model):
    """Separate consent (单独同意, PIPL Art. 29) to keep health, financial and
    ID details, given or withdrawn, with date, scope and who took it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), index=True)
    given: Mapped[bool]
    on: Mapped[date]
    scope: Mapped[str] = mapped_column(sa.String(300))
    taken_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    taken_by = relationship("User", lazy="raise")


class MonthlyFinance(db.Model):
    """A household's income and rigid expenses in one month, in fen (分)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), index=True)
    month: Mapped[date]  # the first day of the month
    income: Mapped[int] = mapped_column(sa.BigInteger)
    illness_expense: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    disaster_expense: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    schooling_expense: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("household_id", "month"),
        sa.CheckConstraint(
            "income >= 0 AND illness_expense >= 0 AND disaster_expense >= 0 AND schooling_expense >= 0",
            name="not_negative",
        ),
    )

    @property
    def rigid_expense(self) -> int:
        return self.illness_expense + self.disaster_expense + self.schooling_expense

"""Casework on a household: categories and their approval, causes, needs,
measures, follow-ups and reviews. Every record is dated and signed; none is
edited in place (a change is a new record, and the audit log keeps the rest)."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow


class Category(enum.Enum):
    """Hardship categories (DOMAIN.md). The last three are computed from
    figures by services.eligibility; the others staff assign."""

    DIBAO = "dibao"  # 低保 minimum-subsistence household
    TEKUN = "tekun"  # 特困 extremely poor
    ORPHAN = "orphan"  # 孤儿
    CHILD_IN_DIFFICULTY = "child_in_difficulty"  # 困境儿童
    SEVERE_DISABILITY = "severe_disability"  # 重残
    ELDERLY_ALONE = "elderly_alone"  # 独居老人
    ELDERLY_80 = "elderly_80"  # 高龄老人 (80+)
    MARGINAL = "marginal"  # 低保边缘
    INCOME_TYPE = "income_type"  # 收入型贫困
    EXPENDITURE_TYPE = "expenditure_type"  # 支出型贫困


class CategoryStatus(enum.Enum):
    """Proposed by a grid worker, reviewed (审核) by the community, approved (审批) by the street."""

    PROPOSED = "proposed"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"


class CategoryAssignment(db.Model):
    """One category for one household, moving through review and approval."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), index=True)
    category: Mapped[Category] = mapped_column(enum_column(Category))
    status: Mapped[CategoryStatus] = mapped_column(enum_column(CategoryStatus), index=True)
    proposed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    steps: Mapped[list["ApprovalStep"]] = relationship(
        lazy="raise", order_by="ApprovalStep.id", cascade="all, delete-orphan"
    )


class ApprovalAction(enum.Enum):
    PROPOSE = "propose"
    REVIEW = "review"  # 审核 passed by the community
    APPROVE = "approve"  # 审批 by the street
    REJECT = "reject"
    REVOKE = "revoke"


class ApprovalStep(db.Model):
    """Each step a category assignment took, by whom, when and why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("category_assignment.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[ApprovalAction] = mapped_column(enum_column(ApprovalAction))
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(sa.String(500), default="")

    by = relationship("User", lazy="raise")


class Cause(enum.Enum):
    """Causes of hardship (致困原因)."""

    ILLNESS = "illness"
    DISABILITY = "disability"
    DISASTER = "disaster"
    SCHOOLING = "schooling"
    UNEMPLOYMENT = "unemployment"
    OLD_AGE = "old_age"
    NO_LABOUR = "no_labour"
    OTHER = "other"


class HardshipCause(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), index=True)
    cause: Mapped[Cause] = mapped_column(enum_column(Cause))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Urgency(enum.Enum):
    NORMAL = "normal"
    URGENT = "urgent"
    CRITICAL = "critical"


class NeedStatus(enum.Enum):
    OPEN = "open"
    MET = "met"
    CLOSED = "closed"  # no longer needed, with a reason


class Need(db.Model):
    """A need for help (帮扶需求): a service from the catalogue, described."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), index=True)
    service_type_code: Mapped[str] = mapped_column(sa.ForeignKey("service_type.code"))
    description: Mapped[str] = mapped_column(sa.String(500))
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency), default=Urgency.NORMAL)
    status: Mapped[NeedStatus] = mapped_column(enum_column(NeedStatus), default=NeedStatus.OPEN, index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    close_note: Mapped[str] = mapped_column(sa.String(500), default="")

    service_type = relationship("ServiceType", lazy="raise")
    household = relationship("Household", lazy="raise")


class MeasureKind(enum.Enum):
    MEASURE = "measure"  # 帮扶措施 taken
    NOT_HELPED = "not_helped"  # 未帮扶原因


class Measure(db.Model):
    """A measure taken for a household, or the reason none was."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), index=True)
    need_id: Mapped[int | None] = mapped_column(sa.ForeignKey("need.id", ondelete="SET NULL"))
    kind: Mapped[MeasureKind] = mapped_column(enum_column(MeasureKind))
    description: Mapped[str] = mapped_column(sa.String(500))
    on: Mapped[date]
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowUpMethod(enum.Enum):
    VISIT = "visit"
    PHONE = "phone"


class FollowUp(db.Model):
    """A follow-up visit or call (回访)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), index=True)
    on: Mapped[date]
    method: Mapped[FollowUpMethod] = mapped_column(enum_column(FollowUpMethod))
    note: Mapped[str] = mapped_column(sa.String(1000))
    satisfaction: Mapped[int | None]  # 1–5
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction"),
    )


class ReviewOutcome(enum.Enum):
    CONTINUE = "continue"
    CHANGE = "change"  # categories changed
    EXIT = "exit"


class Review(db.Model):
    """A periodic review (复审) and what it decided."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), index=True)
    reviewed_on: Mapped[date]
    outcome: Mapped[ReviewOutcome] = mapped_column(enum_column(ReviewOutcome))
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    next_review_on: Mapped[date | None]
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by = relationship("User", lazy="raise")


class HelpRequestStatus(enum.Enum):
    NEW = "new"
    ACCEPTED = "accepted"  # turned into (or linked to) a household and a need
    DISMISSED = "dismissed"


class HelpRequest(db.Model):
    """A request for help (一键求助) sent from the public page, without login."""

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(sa.ForeignKey("grid.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    phone: Mapped[str] = mapped_column(sa.String(20))
    address: Mapped[str] = mapped_column(sa.String(100))
    need: Mapped[str] = mapped_column(sa.String(500))
    service_type_code: Mapped[str | None] = mapped_column(sa.ForeignKey("service_type.code"))
    status: Mapped[HelpRequestStatus] = mapped_column(
        enum_column(HelpRequestStatus), default=HelpRequestStatus.NEW, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handling_note: Mapped[str] = mapped_column(sa.String(500), default="")
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("household.id", ondelete="SET NULL"))

"""Public notices (公示) of a community: who was helped and how, posted for a
notice period (公示期), and residents' objections to them (群众举报/异议).

A notice holds a snapshot of what the public sees: each item keeps the
householder's name already masked and codes (categories, services), never a
full name, an ID number, a phone, an income or an illness. The household is
linked only so staff can trace an item and wording can be checked against it.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow


class NoticeStatus(enum.Enum):
    DRAFT = "draft"  # being composed; nobody outside sees it
    PUBLISHED = "published"  # shown from publish_at until publish_until
    WITHDRAWN = "withdrawn"  # taken down early, with a reason


class NoticeItemKind(enum.Enum):
    ASSISTED = "assisted"  # newly assisted: a category approved or measures started
    EXITED = "exited"  # left the registry (有进有出)
    SERVICES = "services"  # verified neighbour services of one type, counted


class PublicNotice(db.Model):
    """A community's public notice for a period (e.g. a month)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        sa.ForeignKey("community.id")
    )  # indexed by ix_public_notice_live
    title: Mapped[str] = mapped_column(sa.String(60))
    period_start: Mapped[date]
    period_end: Mapped[date]  # inclusive
    status: Mapped[NoticeStatus] = mapped_column(enum_column(NoticeStatus), default=NoticeStatus.DRAFT)
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    publish_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    withdraw_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community = relationship("Community", lazy="raise")
    items: Mapped[list["NoticeItem"]] = relationship(
        back_populates="notice", lazy="raise", order_by="NoticeItem.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("period_end >= period_start", name="period"),
        sa.CheckConstraint(
            "publish_at IS NULL OR publish_until IS NULL OR publish_until > publish_at", name="window"
        ),
        sa.Index("ix_public_notice_live", "community_id", "status", "publish_at"),
    )

    def is_live(self, now: datetime) -> bool:
        """Shown to the public at `now`."""
        return (
            self.status is NoticeStatus.PUBLISHED
            and self.publish_at is not None
            and self.publish_at <= now < self.publish_until
        )

    def is_editable(self, now: datetime) -> bool:
        """Items and schedule may change: a draft, or published but not yet shown."""
        return self.status is NoticeStatus.DRAFT or (
            self.status is NoticeStatus.PUBLISHED and self.publish_at is not None and now < self.publish_at
        )


class NoticeItem(db.Model):
    """One line of a notice. `ref` names its source (`assisted:12`,
    `exited:12`, `services:meal_help`), unique within the notice."""

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("public_notice.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(sa.String(60))
    kind: Mapped[NoticeItemKind] = mapped_column(enum_column(NoticeItemKind))
    position: Mapped[int] = mapped_column(default=0)
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("household.id", ondelete="SET NULL"))
    service_type_code: Mapped[str | None] = mapped_column(sa.ForeignKey("service_type.code"))
    masked_name: Mapped[str] = mapped_column(sa.String(60), default="")
    categories: Mapped[str] = mapped_column(sa.String(300), default="")  # category codes, comma-separated
    services: Mapped[str] = mapped_column(sa.String(300), default="")  # service type codes, comma-separated
    on: Mapped[date | None]  # when it happened (first in the period); None for counted services
    visits: Mapped[int | None]
    households: Mapped[int | None]
    wording: Mapped[str | None] = mapped_column(
        sa.String(60)
    )  # staff's own public wording; None: the default

    notice: Mapped[PublicNotice] = relationship(back_populates="items", lazy="raise")

    __table_args__ = (sa.UniqueConstraint("notice_id", "ref"),)


class ObjectionStatus(enum.Enum):
    OPEN = "open"
    HANDLED = "handled"


class NoticeObjection(db.Model):
    """A resident's objection to a notice (or one entry of it), sent without
    login from the public page; staff of the community answer it with a note."""

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("public_notice.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("notice_item.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(sa.String(500))
    contact: Mapped[str] = mapped_column(sa.String(50), default="")
    status: Mapped[ObjectionStatus] = mapped_column(
        enum_column(ObjectionStatus), default=ObjectionStatus.OPEN, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handling_note: Mapped[str] = mapped_column(sa.String(500), default="")

    handled_by = relationship("User", lazy="raise")

"""The supply list (供给清单) and its matching to needs (供需对接, seed 000).

A partner organisation publishes offers: a service, a capacity, an area
(its whole street or chosen communities of it) and a period. Community
and grid staff match them to households' open needs: accepting a match
posts a task that only the organisation's volunteers may claim, or records
a measure (帮扶措施) from the organisation; either uses one unit of the
offer's capacity. `SupplyOffer.used` counts those units and changes only in
conditional UPDATEs, so an offer is never used beyond its capacity.

An organisation's volunteers are `PartnerMember` rows: the organisation
invites a registered volunteer, who accepts (or declines) on their own page.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow


class OfferStatus(enum.Enum):
    ACTIVE = "active"  # published; matched while its period and capacity last
    CLOSED = "closed"  # stopped after some use; the accepted matches stand
    WITHDRAWN = "withdrawn"  # taken back before anyone used it


class SupplyOffer(db.Model):
    """What an organisation offers (供给): a service, how many units in the
    period (visits, places), where and when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    service_type_code: Mapped[str] = mapped_column(sa.ForeignKey("service_type.code"))
    description: Mapped[str] = mapped_column(sa.String(500))
    capacity: Mapped[int]
    used: Mapped[int] = mapped_column(default=0)  # accepted matches; changed only in conditional UPDATEs
    whole_street: Mapped[bool] = mapped_column(default=True)  # else: the OfferCommunity rows
    valid_from: Mapped[date]  # local (Asia/Shanghai) dates, both inclusive
    valid_until: Mapped[date]
    status: Mapped[OfferStatus] = mapped_column(enum_column(OfferStatus), default=OfferStatus.ACTIVE)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    close_reason: Mapped[str] = mapped_column(sa.String(300), default="")

    partner = relationship("Partner", lazy="raise")
    service_type = relationship("ServiceType", lazy="raise")
    communities = relationship(
        "Community", secondary="offer_community", lazy="raise", order_by="Community.id", viewonly=True
    )

    __table_args__ = (
        sa.CheckConstraint("capacity BETWEEN 1 AND 1000", name="capacity"),
        sa.CheckConstraint("used >= 0 AND used <= capacity", name="used"),
        sa.CheckConstraint("valid_until >= valid_from", name="period"),
        sa.Index("ix_supply_offer_status_service", "status", "service_type_code"),
    )

    @property
    def left(self) -> int:
        return self.capacity - self.used


class OfferCommunity(db.Model):
    """A community an offer covers, when it does not cover its whole street."""

    offer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("supply_offer.id", ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"), primary_key=True, index=True)


class MemberStatus(enum.Enum):
    INVITED = "invited"  # the organisation asked; the volunteer has not answered
    ACTIVE = "active"  # the volunteer accepted: they may claim the organisation's tasks
    DECLINED = "declined"  # the volunteer said no
    LEFT = "left"  # the volunteer left, or the organisation removed them


class PartnerMember(db.Model):
    """A volunteer of a partner organisation. The organisation invites a
    registered volunteer by phone; only the volunteer's acceptance makes
    them a member (their consent to be listed and to take its tasks)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    status: Mapped[MemberStatus] = mapped_column(enum_column(MemberStatus), default=MemberStatus.INVITED)
    invited_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # accepted or declined
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    partner = relationship("Partner", lazy="raise")
    user = relationship("User", foreign_keys=[user_id], lazy="raise")

    __table_args__ = (sa.UniqueConstraint("partner_id", "user_id"),)


class MatchStatus(enum.Enum):
    ACCEPTED = "accepted"
    DECLINED = "declined"  # hidden from the suggestions, with the reason


class MatchOutcome(enum.Enum):
    TASK = "task"  # a task only the organisation's volunteers may claim
    MEASURE = "measure"  # a measure (帮扶措施) by the organisation, in the household's ledger


class SupplyMatch(db.Model):
    """Staff's decision on one need and one offer: accepted (into a task or a
    measure) or declined. One decision per need and offer."""

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("need.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_offer.id"), index=True)
    status: Mapped[MatchStatus] = mapped_column(enum_column(MatchStatus))
    outcome: Mapped[MatchOutcome | None] = mapped_column(enum_column(MatchOutcome))
    task_id: Mapped[int | None] = mapped_column(sa.ForeignKey("task.id", ondelete="SET NULL"))
    measure_id: Mapped[int | None] = mapped_column(sa.ForeignKey("measure.id", ondelete="SET NULL"))
    # What the organisation is told about the need: written by staff for them,
    # never the household's name, address, phone, ID, income or illness.
    org_description: Mapped[str] = mapped_column(sa.String(300), default="")
    reason: Mapped[str] = mapped_column(sa.String(300), default="")  # why it was declined
    decided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("need_id", "offer_id"),
        sa.CheckConstraint(
            "(status = 'ACCEPTED' AND outcome IS NOT NULL) OR (status = 'DECLINED' AND outcome IS NULL)",
            name="outcome",
        ),
    )

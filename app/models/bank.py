"""The public welfare bank's shop (公益银行): partners, rewards, stock and vouchers.

Stock on hand is the sum of a reward's stock movements (账物相符); `stock`
caches it and changes only in conditional UPDATEs, so it never goes below
zero however many volunteers redeem at once.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow


class PartnerKind(enum.Enum):
    MERCHANT = "merchant"  # 爱心商家
    CHARITY = "charity"  # 慈善组织
    SOCIAL_WORK = "social_work"  # 社工机构
    COMPANY = "company"  # 企业


class Partner(db.Model):
    """A partner organisation (爱心商家 / 社会组织) working in one street."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    kind: Mapped[PartnerKind] = mapped_column(enum_column(PartnerKind))
    street_id: Mapped[int] = mapped_column(sa.ForeignKey("street.id"), index=True)
    contact_name: Mapped[str] = mapped_column(sa.String(50), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(20), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    street = relationship("Street", lazy="raise")

    __table_args__ = (sa.UniqueConstraint("street_id", "name"),)


class PartnerUser(db.Model):
    """A user (role partner) who acts for a partner: scans its vouchers."""

    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )


class Reward(db.Model):
    """Something a partner offers for points, in one community or its whole street."""

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(sa.ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    point_price: Mapped[int]
    stock: Mapped[int] = mapped_column(default=0)  # cache of the movements' sum
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship(lazy="raise")
    community = relationship("Community", lazy="raise")

    __table_args__ = (
        sa.CheckConstraint("stock >= 0", name="stock"),
        sa.CheckConstraint("point_price BETWEEN 1 AND 1000000", name="point_price"),
        sa.CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="validity"),
    )


class MovementKind(enum.Enum):
    RECEIVED = "received"  # goods in (+)
    REDEEMED = "redeemed"  # reserved by a voucher (−1)
    RETURNED = "returned"  # a cancelled or expired voucher's item back (+1)
    WRITTEN_OFF = "written_off"  # lost, spoiled, past date (−)


class StockMovement(db.Model):
    """One change of a reward's stock, with its reason; never updated."""

    id: Mapped[int] = mapped_column(primary_key=True)
    reward_id: Mapped[int] = mapped_column(sa.ForeignKey("reward.id"), index=True)
    kind: Mapped[MovementKind] = mapped_column(enum_column(MovementKind))
    quantity: Mapped[int]  # signed
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voucher.id"))
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "(kind IN ('RECEIVED', 'RETURNED') AND quantity > 0)"
            " OR (kind IN ('REDEEMED', 'WRITTEN_OFF') AND quantity < 0)",
            name="signed_by_kind",
        ),
    )


class VoucherStatus(enum.Enum):
    ISSUED = "issued"  # points paid, reward reserved, waiting for hand-over
    USED = "used"  # the partner handed the reward over
    CANCELLED = "cancelled"  # the holder cancelled; points and stock returned
    EXPIRED = "expired"  # not collected in time; points and stock returned


class Voucher(db.Model):
    """A redeemed reward waiting to be handed over. Its QR carries a signed
    token naming the voucher and its nonce; handing over clears the nonce
    in one conditional UPDATE, so a second scan finds nothing to use."""

    id: Mapped[int] = mapped_column(primary_key=True)
    reward_id: Mapped[int] = mapped_column(sa.ForeignKey("reward.id"), index=True)
    holder_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    price: Mapped[int]
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)  # printed under the QR
    nonce: Mapped[str | None] = mapped_column(sa.String(32))
    status: Mapped[VoucherStatus] = mapped_column(enum_column(VoucherStatus), default=VoucherStatus.ISSUED)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # used, cancelled or expired
    used_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    reward: Mapped[Reward] = relationship(lazy="raise")

    __table_args__ = (
        sa.Index("ix_voucher_holder_status", "holder_id", "status"),
        sa.Index("ix_voucher_status_expires", "status", "expires_at"),
        sa.CheckConstraint("price > 0", name="price"),
    )

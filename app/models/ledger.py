"""The public welfare bank's books (公益银行账本): double-entry points.

Every point lives in an account and moves only by a transaction whose
entries sum to zero. Entries and transactions are never updated or deleted
(database triggers refuse it, migration 0004); a correction is a reversing
transaction. Each transaction carries a unique idempotency key, so a retry
or a double click returns the first transaction instead of paying twice.
An account's `balance` is a cache of the sum of its entries, changed in the
same database transaction (checked by `flask ledger-check`).
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow


class AccountKind(enum.Enum):
    """Who an account belongs to; `owner_id` names the owner (0 for the two books' own accounts)."""

    ISSUE = "issue"  # where points come from; the only account allowed below zero
    SINK = "sink"  # points spent on vouchers not yet handed over
    VOLUNTEER = "volunteer"  # owner: user id
    HOUSEHOLD = "household"  # owner: household id; receives donations
    POOL = "pool"  # owner: community id; the community's pool, receives donations
    PARTNER = "partner"  # owner: partner id; points of the rewards it handed over


class LedgerAccount(db.Model):
    """An account with its cached balance (the sum of its entries) and a version."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AccountKind] = mapped_column(enum_column(AccountKind))
    owner_id: Mapped[int] = mapped_column(default=0)
    balance: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("kind", "owner_id"),
        sa.CheckConstraint("balance >= 0 OR kind = 'ISSUE'", name="not_negative"),
    )


class TxKind(enum.Enum):
    AWARD = "award"  # a verified visit paid: issue → volunteer
    REVERSAL = "reversal"  # a false visit's award taken back: volunteer → issue
    REDEMPTION = "redemption"  # a reward bought: volunteer → sink (a voucher is issued)
    HANDOVER = "handover"  # the partner handed the reward over: sink → partner
    REFUND = "refund"  # a voucher cancelled or expired: sink → volunteer
    DONATION = "donation"  # volunteer → household or community pool


class LedgerTransaction(db.Model):
    """A set of entries that sum to zero, with its reason, author and key.

    For an award, `earner_id` and `community_id` say who earned the points
    and in which community the service was given (the honour board counts
    by them), `claim_id` the visit, and `details` the rule used and the
    arithmetic. A reversal names the transaction it reverses (once only).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[TxKind] = mapped_column(enum_column(TxKind))
    reason: Mapped[str] = mapped_column(sa.String(300))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))  # None: the system
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claim_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claim.id"), index=True)
    earner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    community_id: Mapped[int | None] = mapped_column(sa.ForeignKey("community.id"))
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voucher.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transaction.id"), unique=True)
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    entries: Mapped[list["LedgerEntry"]] = relationship(lazy="raise", order_by="LedgerEntry.id")

    __table_args__ = (
        sa.Index("ix_ledger_transaction_kind_created", "kind", "created_at"),
        sa.Index("ix_ledger_transaction_earner_created", "earner_id", "created_at"),
        sa.Index("ix_ledger_transaction_community_created", "community_id", "created_at"),
    )


class LedgerEntry(db.Model):
    """One posting: an amount (positive in, negative out) on one account."""

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_transaction.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_account.id"))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[LedgerAccount] = relationship(lazy="raise")

    __table_args__ = (sa.Index("ix_ledger_entry_account_id", "account_id", "id"),)


class Rounding(enum.Enum):
    """How the per-hour part of an award is rounded to whole points."""

    HALF_UP = "half_up"
    DOWN = "down"
    UP = "up"


class PointRate(db.Model):
    """Points for one service type from a date on: base per verified visit plus per hour.

    Rates are never edited: a change is a new row. The rate in force on a
    day is the one with the latest `effective_from` on or before it (the
    newest row wins a tie).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    service_type_code: Mapped[str] = mapped_column(sa.ForeignKey("service_type.code"))
    effective_from: Mapped[date]
    points_per_visit: Mapped[int]
    points_per_hour: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.Index("ix_point_rate_type_from", "service_type_code", "effective_from"),
        sa.CheckConstraint("points_per_visit BETWEEN 0 AND 1000", name="per_visit"),
        sa.CheckConstraint("points_per_hour BETWEEN 0 AND 1000", name="per_hour"),
    )


class PointPolicy(db.Model):
    """The rules common to all service types from a date on: urgency bonuses,
    rounding, and the most points one volunteer can earn in one day.
    Never edited; the newest in force wins, as for PointRate."""

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[date] = mapped_column(index=True)
    urgent_bonus: Mapped[int] = mapped_column(default=5)
    critical_bonus: Mapped[int] = mapped_column(default=10)
    daily_cap: Mapped[int] = mapped_column(default=100)
    rounding: Mapped[Rounding] = mapped_column(enum_column(Rounding), default=Rounding.HALF_UP)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("urgent_bonus BETWEEN 0 AND 1000", name="urgent_bonus"),
        sa.CheckConstraint("critical_bonus BETWEEN 0 AND 1000", name="critical_bonus"),
        sa.CheckConstraint("daily_cap BETWEEN 1 AND 100000", name="daily_cap"),
    )

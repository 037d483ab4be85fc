"""Service tasks (服务任务): from a household's need to a verified visit.

A task has one status, changed only by app/services/tasks.py through its
table of allowed transitions; every change leaves a TaskEvent. Each
volunteer on a task holds a Claim, which carries that volunteer's visit:
check-in and check-out times from the door card, and the resident's
confirmation.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.casework import Urgency
from app.models.types import UTCDateTime, enum_column, utcnow


class TaskStatus(enum.Enum):
    OPEN = "open"  # slots free
    CLAIMED = "claimed"  # every slot taken
    IN_PROGRESS = "in_progress"  # a volunteer has checked in
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # every visit checked out
    VERIFIED = "verified"  # every visit confirmed
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # the window passed unclaimed or unvisited


class TaskSeries(db.Model):
    """A recurring visit, e.g. weekly, often with one paired volunteer (一帮一结对)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id"), index=True)
    need_id: Mapped[int | None] = mapped_column(sa.ForeignKey("need.id", ondelete="SET NULL"))
    service_type_code: Mapped[str] = mapped_column(sa.ForeignKey("service_type.code"))
    every_days: Mapped[int] = mapped_column(default=7)
    first_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int]
    until: Mapped[date]
    paired_volunteer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Task(db.Model):
    """Work for volunteers at one household in a time window, with a number of slots."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id"), index=True)
    grid_id: Mapped[int] = mapped_column(sa.ForeignKey("grid.id"))  # the household's, for scoped lists
    need_id: Mapped[int | None] = mapped_column(sa.ForeignKey("need.id", ondelete="SET NULL"), index=True)
    series_id: Mapped[int | None] = mapped_column(sa.ForeignKey("task_series.id"), index=True)
    # Set for a task from an accepted supply match: only this partner
    # organisation's volunteers may claim it (app/models/supply.py).
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    service_type_code: Mapped[str] = mapped_column(sa.ForeignKey("service_type.code"))
    description: Mapped[str] = mapped_column(sa.String(500))  # the note for the volunteer
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expected_minutes: Mapped[int]
    slots: Mapped[int] = mapped_column(default=1)
    taken: Mapped[int] = mapped_column(default=0)  # live claims; changed only in conditional UPDATEs
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency), default=Urgency.NORMAL)
    status: Mapped[TaskStatus] = mapped_column(enum_column(TaskStatus), default=TaskStatus.OPEN)
    flagged: Mapped[bool] = mapped_column(default=False)  # a low rating or complaint to look into
    # Who has been told it is still unclaimed: 0 nobody, 1 the grid worker, 2 the community worker.
    escalation_level: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    service_type = relationship("ServiceType", lazy="raise")
    household = relationship("Household", lazy="raise")
    grid = relationship("Grid", lazy="raise")
    claims: Mapped[list["Claim"]] = relationship(back_populates="task", lazy="raise", order_by="Claim.id")
    events: Mapped[list["TaskEvent"]] = relationship(lazy="raise", order_by="TaskEvent.id")

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="window"),
        sa.CheckConstraint("slots BETWEEN 1 AND 20", name="slots"),
        sa.CheckConstraint("taken >= 0 AND taken <= slots", name="taken"),
        sa.CheckConstraint("expected_minutes BETWEEN 10 AND 1440", name="expected_minutes"),
        sa.Index("ix_task_grid_status_starts", "grid_id", "status", "starts_at"),
        sa.Index("ix_task_status_starts", "status", "starts_at"),
    )


class TaskEvent(db.Model):
    """One status change of a task: from, to, who (None: the system), when, why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[TaskStatus | None] = mapped_column(enum_column(TaskStatus))
    to_status: Mapped[TaskStatus] = mapped_column(enum_column(TaskStatus))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(sa.String(500), default="")

    actor = relationship("User", lazy="raise")


class ClaimStatus(enum.Enum):
    ACTIVE = "active"  # claimed, visit not begun
    CHECKED_IN = "checked_in"
    CHECKED_OUT = "checked_out"  # awaiting the resident's confirmation
    CONFIRMED = "confirmed"
    RELEASED = "released"  # the volunteer unclaimed before the start
    NO_SHOW = "no_show"  # released by the system: never checked in
    CANCELLED = "cancelled"  # the task was cancelled

    @property
    def holds_slot(self) -> bool:
        return self in (
            ClaimStatus.ACTIVE,
            ClaimStatus.CHECKED_IN,
            ClaimStatus.CHECKED_OUT,
            ClaimStatus.CONFIRMED,
        )


class ConfirmedVia(enum.Enum):
    QR = "qr"  # the resident (or family) scanned the volunteer's confirmation QR
    PROXY = "proxy"  # a linked family member (亲情代理) confirmed on the resident's behalf
    FOLLOW_UP_CALL = "follow_up_call"  # the grid worker confirmed by calling (回访)


class Claim(db.Model):
    """A volunteer's place on a task, and their visit."""

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    status: Mapped[ClaimStatus] = mapped_column(enum_column(ClaimStatus), default=ClaimStatus.ACTIVE)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    check_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The confirmation QR is single-use: its token carries this nonce, and
    # confirming clears it in the same conditional UPDATE.
    confirm_nonce: Mapped[str | None] = mapped_column(sa.String(32))
    confirm_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the reminder before the visit
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_via: Mapped[ConfirmedVia | None] = mapped_column(enum_column(ConfirmedVia))
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    rating: Mapped[int | None]
    comment: Mapped[str] = mapped_column(sa.String(500), default="")
    follow_up_satisfaction: Mapped[int | None]
    follow_up_note: Mapped[str] = mapped_column(sa.String(500), default="")
    flagged: Mapped[bool] = mapped_column(default=False)

    task: Mapped[Task] = relationship(back_populates="claims", lazy="raise")
    volunteer = relationship("User", foreign_keys=[volunteer_id], lazy="raise")

    __table_args__ = (
        sa.UniqueConstraint("task_id", "volunteer_id"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        sa.CheckConstraint(
            "follow_up_satisfaction IS NULL OR follow_up_satisfaction BETWEEN 1 AND 5", name="satisfaction"
        ),
        sa.Index("ix_claim_volunteer_status", "volunteer_id", "status"),
    )


class WaitlistEntry(db.Model):
    """A volunteer waiting for a slot on a full task; the first in line gets a freed slot."""

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("task_id", "volunteer_id"),)


class DoorCard(db.Model):
    """A household's door card: its QR carries a signed token naming this card;
    `code` is the short code printed under it for manual entry. Revoking a
    card (lost, copied) and issuing a new one invalidates the old QR."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HouseholdProxy(db.Model):
    """A family member linked to a household as its proxy (亲情代理), who may
    confirm visits on the resident's behalf."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    relation: Mapped[str] = mapped_column(sa.String(30))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("household_id", "user_id"),)


class NotificationKind(enum.Enum):
    INVITATION = "invitation"  # a grid worker invites a volunteer to a task
    TASK_CLAIMED = "task_claimed"  # to the task's grid worker
    TASK_UNCLAIMED = "task_unclaimed"  # to the task's grid worker
    TASK_CANCELLED = "task_cancelled"  # to the claimants
    SLOT_OFFERED = "slot_offered"  # a waiting volunteer got a freed slot
    VISIT_CONFIRMED = "visit_confirmed"  # to the volunteer
    CLAIM_RELEASED = "claim_released"  # the visit never started: the claim was released
    VISIT_FLAGGED = "visit_flagged"  # a low rating or complaint, to the grid worker
    REMINDER = "reminder"  # a visit starts soon
    POINTS_REVERSED = "points_reversed"  # a visit's points were taken back, with the reason
    VOUCHER_CLOSED = "voucher_closed"  # a voucher expired or was cancelled: points returned
    TASK_ESCALATED = "task_escalated"  # to staff: a task is still unclaimed close to its start
    REVIEWS_DUE = "reviews_due"  # to a grid worker: reviews due this week and overdue


class Notification(db.Model):
    """An in-app notification. Text is rendered when shown, in the reader's
    language, from `kind` and `params` — never stored translated."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    task_id: Mapped[int | None] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_notification_user_read", "user_id", "read_at"),)


class NotificationPreference(db.Model):
    """A kind of notification a user turned off (absent row: on)."""

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)

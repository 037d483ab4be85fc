"""Periodic work: one row per job and due period, and the frozen monthly honour roll.

A JobRun row is claimed by INSERT before a job runs; its UNIQUE (job,
period) makes a second scheduler process (or a retry of the same moment)
find the period taken and do nothing (ENGINEERING.md "APScheduler").
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow


class JobOutcome(enum.Enum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"


class JobRun(db.Model):
    """One run of a job for one due period (e.g. `2026-11-01`, `2026-11-23T10:05`)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(sa.String(60))
    period: Mapped[str] = mapped_column(sa.String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[JobOutcome] = mapped_column(enum_column(JobOutcome), default=JobOutcome.RUNNING)
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    error: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (
        sa.UniqueConstraint("job", "period"),
        sa.Index("ix_job_run_job_started", "job", "started_at"),
    )


class HonourRoll(db.Model):
    """A community's honour board for one past month (月度爱心之星), frozen on the
    first of the next month; later reversals or corrections never rewrite it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"))
    month: Mapped[str] = mapped_column(sa.String(7))  # YYYY-MM, local
    rows: Mapped[list] = mapped_column(sa.JSON, default=list)  # [{rank, name, points, streak_months, team}]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("community_id", "month"),)

"""Neighbour love teams (邻里互帮爱心团队): volunteers who serve together.

A team's points are its members' earnings while they were members (from
`joined_at` until `left_at`), so joining a team brings no past points and
leaving takes none away from the team's history.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Team(db.Model):
    """A team of one community."""

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    motto: Mapped[str] = mapped_column(sa.String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community = relationship("Community", lazy="raise")

    __table_args__ = (sa.UniqueConstraint("community_id", "name"),)


class TeamMembership(db.Model):
    """A volunteer's time in a team; a volunteer is in at most one team at a time."""

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    team: Mapped[Team] = relationship(lazy="raise")

    __table_args__ = (
        sa.Index(
            "uq_team_membership_current",
            "user_id",
            unique=True,
            postgresql_where=sa.text("left_at IS NULL"),
            sqlite_where=sa.text("left_at IS NULL"),
        ),
        # The teams a volunteer was in at a moment (an award's honour-board tallies).
        sa.Index("ix_team_membership_user_joined", "user_id", "joined_at"),
        sa.CheckConstraint("left_at IS NULL OR left_at >= joined_at", name="period"),
    )

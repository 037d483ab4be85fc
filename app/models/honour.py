"""Honour-board tallies (爱心榜汇总): points earned, pre-added per local day.

Derived data, never edited by hand: each row is recomputed from its source
ledger rows in the same database transaction as every award or reversal
that touches it (app/services/honour_tally.py), so it cannot drift;
`flask ledger-check` compares the whole table with a fresh recomputation,
and `rebuild_tallies()` refills it from the ledger (after a bulk load).
No foreign keys: the rows are a cache of the ledger, keyed like it.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class HonourTally(db.Model):
    """One volunteer's counted awards in one community on one local (Asia/Shanghai) day.

    Counted: AWARD transactions never reversed. `points` adds their positive
    entries on the earner's volunteer account; `awards` counts them, 0-point
    ones (the daily cap) included, for the steadiness badge; `reached_at` is
    the latest one with points (None if all were 0). `community_id` is 0 for
    an award that names no community. A row exists only while `awards` > 0.
    """

    earner_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    community_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(primary_key=True)
    points: Mapped[int] = mapped_column(sa.BigInteger)
    awards: Mapped[int]
    reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # The board: a scope's communities over a range of days, summed per volunteer.
        sa.Index(
            "ix_honour_tally_community_day",
            "community_id",
            "day",
            "earner_id",
            postgresql_include=["points", "reached_at"],
        ),
    )


class TeamTally(db.Model):
    """A team's counted award points on one local day: its members' positive
    award entries (anywhere) made while they were members (`joined_at` ≤
    created_at < `left_at`), and the latest such award. Only days with
    points have a row."""

    team_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(primary_key=True)
    points: Mapped[int] = mapped_column(sa.BigInteger)
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HonourTotal(db.Model):
    """A volunteer's points in one scope over one period, ranked by an index:
    the board of a current period is read from here in one index range.

    `scope` is `community:<id>`, `street:<id>` or `city:<id>`; `period` is a
    period's name (`month:2024-05-01`, `all`: app/services/honour_periods.py).
    Each award and reversal recomputes its volunteer's rows for the periods
    of the award's day, from the day tallies. Only the current period of
    each kind is read (older ones are pruned monthly); only totals above 0
    have a row.
    """

    scope: Mapped[str] = mapped_column(sa.String(24), primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    earner_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    points: Mapped[int] = mapped_column(sa.BigInteger)
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        # Best first: points descending, then PostgreSQL sorts only the ties (incremental sort).
        sa.Index("ix_honour_total_rank", "scope", "period", "points"),
    )


class TeamTotal(db.Model):
    """A team's points over one current period (TeamTally days added up), so a
    board of teams reads one row per team in the scope, never their days.
    Kept like HonourTotal; only totals above 0 have a row."""

    period: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    team_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    points: Mapped[int] = mapped_column(sa.BigInteger)
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime)

"""The honour board's pre-added points (app/models/honour.py), kept equal to the ledger.

What counts (the honour board's rule, the one definition of it): AWARD
transactions that no REVERSAL names, whenever reversed; their points are
the positive entries on the earner's own volunteer account; a day is the
local (Asia/Shanghai) day of the award's `created_at`. Team points are the
same awards of members made while they were members (`joined_at` ≤
created_at < `left_at`).

Every tally row is a GROUP BY of those source rows (`_volunteer_source`,
`_team_source`), and it is only ever written by recomputing it from them:
  - `ledger.post` calls `transaction_posted` for each award and reversal,
    which recomputes the award's (volunteer, community, day) row, the
    (team, day) rows of the teams the earner was in at that moment, and the
    volunteer's ranked totals (app/services/honour_totals.py);
  - the team services call `membership_changed`, which recomputes the
    team's rows from the day the membership began or ended;
  - `rebuild_tallies()` recomputes the whole tables with one INSERT … SELECT
    each (for a bulk load that wrote ledger rows directly);
  - `check_tallies()` (in `flask ledger-check`) compares the tables with a
    fresh recomputation.
Recomputing (not adding) means a retried or concurrent write cannot make a
row drift: awards and reversals all update the issuing account's row, so
PostgreSQL runs them one after another, and each recomputation, a new
statement under READ COMMITTED, sees every award committed before it;
`membership_changed` takes the same row lock first. Nothing here commits.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import FunctionElement

from app import clock
from app.extensions import db
from app.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction, TeamMembership, TxKind
from app.models.honour import HonourTally, TeamTally
from app.services import honour_cache, honour_totals

# Asia/Shanghai has kept UTC+8 without daylight saving since 1991: a fixed
# offset gives the local day of any timestamp the platform holds, the same
# way on SQLite (no time zones) and PostgreSQL. Timestamps are stored as
# naive UTC (app/models/types.py).
LOCAL_OFFSET_HOURS = 8
NO_COMMUNITY = 0  # HonourTally.community_id of an award that names no community


class local_day(FunctionElement):
    """The local calendar day of a stored (naive UTC) timestamp, as a DATE."""

    type = sa.Date()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    moment = compiler.process(list(element.clauses)[0], **kw)
    # Whole seconds only: SQLite's date arithmetic rounds to milliseconds,
    # which would move 23:59:59.9999995 to the next day.
    return f"date(substr({moment}, 1, 19), '+{LOCAL_OFFSET_HOURS} hours')"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element, compiler, **kw):
    moment = compiler.process(list(element.clauses)[0], **kw)
    return f"CAST(({moment} + INTERVAL '{LOCAL_OFFSET_HOURS} hours') AS DATE)"


# --- the source rows -------------------------------------------------------------------


def _counted(award):
    """WHERE: `award` is an award that was never reversed."""
    reversal = aliased(LedgerTransaction)
    return sa.and_(
        award.kind == TxKind.AWARD,
        award.earner_id.is_not(None),
        ~sa.exists().where(reversal.reverses_id == award.id),
    )


def _earner_account(award):
    """An alias of the earner's volunteer account and its ON clause."""
    account = aliased(LedgerAccount)
    return account, sa.and_(account.kind == AccountKind.VOLUNTEER, account.owner_id == award.earner_id)


def _credit(award, account):
    """An alias of the award's positive entries on `account` and its ON clause."""
    entry = aliased(LedgerEntry)
    return entry, sa.and_(entry.transaction_id == award.id, entry.account_id == account.id, entry.amount > 0)


def _volunteer_source():
    """SELECT of every HonourTally row computed from the ledger (columns in table
    order), and the award alias to narrow it with."""
    award = aliased(LedgerTransaction)
    account, to_account = _earner_account(award)
    entry, to_entry = _credit(award, account)
    community = sa.func.coalesce(award.community_id, NO_COMMUNITY)
    day = local_day(award.created_at)
    stmt = (
        sa.select(
            award.earner_id.label("earner_id"),
            community.label("community_id"),
            day.label("day"),
            sa.func.coalesce(sa.func.sum(entry.amount), 0).label("points"),
            sa.func.count(sa.distinct(award.id)).label("awards"),
            sa.func.max(sa.case((entry.id.is_not(None), award.created_at))).label("reached_at"),
        )
        .select_from(award)
        .outerjoin(account, to_account)
        .outerjoin(entry, to_entry)
        .where(_counted(award))
        .group_by(award.earner_id, community, day)
    )
    return stmt, award


def _team_source():
    """SELECT of every TeamTally row computed from the ledger and the memberships,
    and the award and membership aliases to narrow it with."""
    award = aliased(LedgerTransaction)
    account, to_account = _earner_account(award)
    entry, to_entry = _credit(award, account)
    member = aliased(TeamMembership)
    day = local_day(award.created_at)
    stmt = (
        sa.select(
            member.team_id.label("team_id"),
            day.label("day"),
            sa.func.sum(entry.amount).label("points"),
            sa.func.max(award.created_at).label("reached_at"),
        )
        .select_from(award)
        .join(
            member,
            sa.and_(
                member.user_id == award.earner_id,
                member.joined_at <= award.created_at,
                sa.or_(member.left_at.is_(None), member.left_at > award.created_at),
            ),
        )
        .join(account, to_account)
        .join(entry, to_entry)
        .where(_counted(award))
        .group_by(member.team_id, day)
    )
    return stmt, award, member


_VOLUNTEER_COLUMNS = ["earner_id", "community_id", "day", "points", "awards", "reached_at"]
_TEAM_COLUMNS = ["team_id", "day", "points", "reached_at"]


# --- keeping the rows equal to their source ---------------------------------------------


def _bounds(first: date, last: date | None) -> tuple[datetime, datetime | None]:
    return clock.local_day_bounds(first)[0], clock.local_day_bounds(last)[1] if last else None


def refresh_volunteer_day(earner_id: int, community_id: int | None, day: date) -> None:
    """Recompute one volunteer's row for one community and local day (two statements)."""
    community_id = community_id or NO_COMMUNITY
    tally = HonourTally.__table__
    db.session.execute(
        tally.delete().where(
            tally.c.earner_id == earner_id, tally.c.community_id == community_id, tally.c.day == day
        )
    )
    source, award = _volunteer_source()
    start, end = _bounds(day, day)
    source = source.where(
        award.earner_id == earner_id,
        sa.func.coalesce(award.community_id, NO_COMMUNITY) == community_id,
        award.created_at >= start,
        award.created_at < end,
    )
    db.session.execute(tally.insert().from_select(_VOLUNTEER_COLUMNS, source))


def refresh_team_days(team_id: int, first: date, last: date | None = None) -> None:
    """Recompute a team's rows from local day `first` to `last` (None: every later day); two statements."""
    tally = TeamTally.__table__
    kept = [tally.c.team_id == team_id, tally.c.day >= first]
    if last is not None:
        kept.append(tally.c.day <= last)
    db.session.execute(tally.delete().where(*kept))
    source, award, member = _team_source()
    start, end = _bounds(first, last)
    source = source.where(member.team_id == team_id, award.created_at >= start)
    if end is not None:
        source = source.where(award.created_at < end)
    db.session.execute(tally.insert().from_select(_TEAM_COLUMNS, source))


def _teams_at(user_id: int, moment: datetime) -> list[tuple[int, int]]:
    """(team id, team's community id) of the user's memberships covering `moment`."""
    from app.models import Team

    return db.session.execute(
        sa.select(TeamMembership.team_id, Team.community_id)
        .join(Team, Team.id == TeamMembership.team_id)
        .where(
            TeamMembership.user_id == user_id,
            TeamMembership.joined_at <= moment,
            sa.or_(TeamMembership.left_at.is_(None), TeamMembership.left_at > moment),
        )
    ).all()


def transaction_posted(tx: LedgerTransaction) -> None:
    """Bring the tallies up to date after an award or a reversal was written (same transaction)."""
    if tx.kind is TxKind.REVERSAL and tx.reverses_id is not None:
        award = db.session.get(LedgerTransaction, tx.reverses_id)
    elif tx.kind is TxKind.AWARD:
        award = tx
    else:
        return
    if award is None or award.kind is not TxKind.AWARD or award.earner_id is None:
        return
    db.session.flush()
    refresh_award_rows(award.earner_id, award.community_id, award.created_at)


def refresh_award_rows(earner_id: int, community_id: int | None, created_at: datetime) -> None:
    """Recompute the rows an award made at `created_at` counts in: its
    volunteer's, and those of the teams the volunteer was in at that moment;
    then the volunteer's ranked totals from the day tallies."""
    day = clock.local_date(created_at)
    refresh_volunteer_day(earner_id, community_id, day)
    teams = _teams_at(earner_id, created_at)
    for team_id, _community in teams:
        refresh_team_days(team_id, day, day)
        honour_totals.refresh_team_totals(team_id, [day])
    scopes = honour_totals.scopes_of({community_id, *(community for _team, community in teams)} - {None})
    if community_id in scopes:
        honour_totals.refresh_totals(earner_id, scopes[community_id], day)
    honour_cache.changed(name for names in scopes.values() for name in names)


def membership_changed(membership: TeamMembership, since: datetime) -> None:
    """Recompute the team's rows from the local day of `since` (when the
    membership began or ended) on; call after the change is made, same transaction."""
    db.session.execute(
        sa.select(LedgerAccount.id)
        .where(LedgerAccount.kind == AccountKind.ISSUE, LedgerAccount.owner_id == 0)
        .with_for_update()
    )  # the books' lock: no award is paid while the team's rows are recomputed
    db.session.flush()
    refresh_team_days(membership.team_id, clock.local_date(since))
    honour_totals.refresh_team_totals(membership.team_id, [clock.local_date(since), clock.today()])
    honour_cache.changed_everywhere()


# --- rebuilding and checking ------------------------------------------------------------


def rebuild_tallies() -> tuple[int, int]:
    """Recompute both tally tables from the whole ledger (one DELETE and one
    INSERT … SELECT each), then the ranked totals of the current periods from
    them; the tally rows written (volunteer rows, team rows).

    For a bulk loader that wrote ledger rows directly (COPY): call it once at
    the end, in the loader's transaction, then commit; also a repair if
    `check_tallies` ever found a difference. Holds the books' lock meanwhile.
    """
    db.session.execute(
        sa.select(LedgerAccount.id).where(LedgerAccount.kind == AccountKind.ISSUE).with_for_update()
    )
    db.session.execute(HonourTally.__table__.delete())
    db.session.execute(TeamTally.__table__.delete())
    db.session.execute(HonourTally.__table__.insert().from_select(_VOLUNTEER_COLUMNS, _volunteer_source()[0]))
    db.session.execute(TeamTally.__table__.insert().from_select(_TEAM_COLUMNS, _team_source()[0]))
    honour_totals.rebuild_totals()
    honour_cache.changed_everywhere()
    count = sa.func.count()
    return (
        db.session.scalar(sa.select(count).select_from(HonourTally)),
        db.session.scalar(sa.select(count).select_from(TeamTally)),
    )


def _differences(table, source: sa.Select, limit: int) -> list[str]:
    """Rows of `table` not in `source` and rows of `source` not in `table` (at most `limit` each)."""
    stored = sa.select(*[table.c[column.name] for column in source.selected_columns])
    source = source.subquery()
    computed = sa.select(*source.c)
    problems = []
    for label, left, right in (("stored", stored, computed), ("computed", computed, stored)):
        rows = db.session.execute(sa.except_(left, right).limit(limit)).all()
        problems += [
            f"{table.name} {label} but not {'computed' if label == 'stored' else 'stored'}: "
            + ", ".join(f"{name}={value}" for name, value in zip(source.c.keys(), row, strict=True))
            for row in rows
        ]
    return problems


def check_tallies(limit: int = 20) -> list[str]:
    """Differences between the tally tables and a recomputation from the ledger, and
    between the current ranked totals and the tallies (empty: all equal)."""
    return (
        _differences(HonourTally.__table__, _volunteer_source()[0], limit)
        + _differences(TeamTally.__table__, _team_source()[0], limit)
        + honour_totals.check_totals(limit)
    )

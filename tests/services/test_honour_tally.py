"""The honour board's tallies stay equal to the ledger: after awards,
reversals, zero-point awards, team joins and leaves (tallies recomputed in
Python from raw rows, independently of the SQL that maintains them); a
broken tally is caught by `check_tallies` and `flask ledger-check`; and
`rebuild_tallies()` refills them after ledger rows were written directly,
as a bulk loader does, exactly as the migration's own SQL does."""

import importlib.util
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from app import clock
from app.extensions import db as _db
from app.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TeamMembership,
    TxKind,
)
from app.models.honour import HonourTally, HonourTotal, TeamTally, TeamTotal
from app.services import honour, honour_tally, honour_totals, ledger
from tests.factories import make_tree
from tests.services import test_honour
from tests.services.test_honour import (
    TODAY,
    award,
    brute_force,
    create,
    join,
    leave,
    local,
    reverse,
    scopes_of,
    volunteer,
)

world = test_honour.world  # the generated data of the board tests, as a fixture here too

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0009_perf_indexes.py"


def expected_tallies(db) -> tuple[dict, dict]:
    """Both tally tables recomputed in Python from raw ledger and membership rows."""
    accounts = {a.id: a for a in db.session.scalars(sa.select(LedgerAccount))}
    txs = list(db.session.scalars(sa.select(LedgerTransaction)))
    reversed_ids = {t.reverses_id for t in txs if t.kind is TxKind.REVERSAL}
    by_id = {t.id: t for t in txs}
    credit = defaultdict(int)
    credited = set()
    for e in db.session.scalars(sa.select(LedgerEntry)):
        account, tx = accounts[e.account_id], by_id[e.transaction_id]
        if account.kind is AccountKind.VOLUNTEER and account.owner_id == tx.earner_id and e.amount > 0:
            credit[tx.id] += e.amount
            credited.add(tx.id)
    memberships = list(db.session.scalars(sa.select(TeamMembership)))
    volunteers: dict[tuple, list] = {}
    teams: dict[tuple, list] = {}
    for t in txs:
        if t.kind is not TxKind.AWARD or t.earner_id is None or t.id in reversed_ids:
            continue
        day = t.created_at.astimezone(clock.LOCAL_TZ).date()
        row = volunteers.setdefault((t.earner_id, t.community_id or 0, day), [0, 0, None])
        row[0] += credit[t.id]
        row[1] += 1
        if t.id in credited:
            row[2] = max(row[2] or t.created_at, t.created_at)
        for m in memberships:
            if (
                t.id in credited
                and m.user_id == t.earner_id
                and m.joined_at <= t.created_at
                and (m.left_at is None or t.created_at < m.left_at)
            ):
                team = teams.setdefault((m.team_id, day), [0, t.created_at])
                team[0] += credit[t.id]
                team[1] = max(team[1], t.created_at)
    return (
        {key: tuple(value) for key, value in volunteers.items()},
        {key: tuple(value) for key, value in teams.items()},
    )


def expected_totals(db, today) -> dict:
    """The current periods' ranked totals recomputed in Python from the expected day tallies."""
    from app.models import Community, Street
    from app.services.honour_periods import PERIODS, local_days, period_key

    streets = {s.id: s.city_id for s in db.session.scalars(sa.select(Street))}
    scopes = {
        c.id: [f"community:{c.id}", f"street:{c.street_id}", f"city:{streets[c.street_id]}"]
        for c in db.session.scalars(sa.select(Community))
    }
    totals: dict[tuple, list] = {}
    for (earner, community, day), (points, _awards, reached) in expected_tallies(db)[0].items():
        for period in PERIODS:
            first, after = local_days(period, today)
            if community not in scopes or not points or (first and not first <= day < after):
                continue
            for scope in scopes[community]:
                total = totals.setdefault((scope, period_key(period, today), earner), [0, reached])
                total[0] += points
                total[1] = max(total[1], reached)
    return {key: tuple(value) for key, value in totals.items()}


def expected_team_totals(db, today) -> dict:
    """The current periods' team totals recomputed in Python from the expected team day tallies."""
    from app.services.honour_periods import PERIODS, local_days, period_key

    totals: dict[tuple, list] = {}
    for (team, day), (points, reached) in expected_tallies(db)[1].items():
        for period in PERIODS:
            first, after = local_days(period, today)
            if first and not first <= day < after:
                continue
            total = totals.setdefault((period_key(period, today), team), [0, reached])
            total[0] += points
            total[1] = max(total[1], reached)
    return {key: tuple(value) for key, value in totals.items()}


def stored_totals(db, today) -> dict:
    """The current periods' volunteer totals, and team totals keyed ("team", period, team id)."""
    from app.services.honour_periods import PERIODS, period_key

    keys = [period_key(period, today) for period in PERIODS]
    volunteers = {
        (r.scope, r.period, r.earner_id): (r.points, r.reached_at)
        for r in db.session.scalars(sa.select(HonourTotal).where(HonourTotal.period.in_(keys)))
    }
    teams = {
        (r.period, r.team_id): (r.points, r.reached_at)
        for r in db.session.scalars(sa.select(TeamTotal).where(TeamTotal.period.in_(keys)))
    }
    return volunteers, teams


def stored_tallies(db) -> tuple[dict, dict]:
    volunteers = {
        (r.earner_id, r.community_id, r.day): (r.points, r.awards, r.reached_at)
        for r in db.session.scalars(sa.select(HonourTally))
    }
    teams = {(r.team_id, r.day): (r.points, r.reached_at) for r in db.session.scalars(sa.select(TeamTally))}
    return volunteers, teams


def test_tallies_equal_the_ledger_recomputed_in_python(db, world):
    db.session.expire_all()
    assert stored_tallies(db) == expected_tallies(db)
    assert honour_tally.check_tallies() == []
    # Zero-point awards have a row (the streak counts them) but no points and no time.
    assert any(points == 0 and reached is None for points, _n, reached in stored_tallies(db)[0].values())


def test_current_totals_equal_the_tallies_added_up_in_python(db, world):
    clock.freeze(local(2024, 5, 15, 12))
    try:
        db.session.expire_all()
        expected = expected_totals(db, TODAY), expected_team_totals(db, TODAY)
        assert stored_totals(db, TODAY) == expected and len(expected[0]) > 50 and len(expected[1]) > 3
        assert honour_tally.check_tallies() == []
        honour_totals.rebuild_totals()  # the bulk path gives the same rows
        db.session.commit()
        db.session.expire_all()
        assert stored_totals(db, TODAY) == expected
    finally:
        clock.freeze(None)


def test_ended_periods_are_pruned_and_read_from_the_tallies(db, world):
    """On 1 June (a Saturday) May's totals are dropped; May's board, no longer current, is the same."""
    scope = honour.parse_scope(f"city:{world.street_a.city_id}")
    clock.freeze(local(2024, 5, 31, 12))
    may = honour.compute_board(scope, "month", "volunteers", 200, TODAY)
    may_teams = honour.compute_board(scope, "month", "teams", 200, TODAY)
    clock.freeze(local(2024, 6, 1, 0, 10))
    try:
        honour_totals.prune_totals()
        db.session.commit()
        periods = set(db.session.scalars(sa.select(HonourTotal.period).distinct()))
        periods |= set(db.session.scalars(sa.select(TeamTotal.period).distinct()))
        assert "month:2024-05-01" not in periods and "week:2024-05-13" not in periods
        assert periods <= {
            "week:2024-05-27",
            "month:2024-06-01",
            "quarter:2024-04-01",
            "year:2024-01-01",
            "all",
        }
        assert "all" in periods and "year:2024-01-01" in periods
        assert honour.compute_board(scope, "month", "volunteers", 200, TODAY) == may
        assert honour.compute_board(scope, "month", "teams", 200, TODAY) == may_teams
        assert honour_tally.check_tallies() == []
    finally:
        clock.freeze(None)


def test_each_change_keeps_them_equal(db):
    tree = make_tree("汇总")
    community = tree["community"].id
    a, b = volunteer(db, tree["grids"][0], "甲乙丙"), volunteer(db, tree["grids"][0], "丁戊己")
    steps = [
        lambda: create(a, "汇总队", local(2024, 5, 1, 9)),
        lambda: award(a, community, 7, local(2024, 5, 2, 10)),
        lambda: award(b, community, 4, local(2024, 5, 2, 11)),
        lambda: join(b, team.id, local(2024, 5, 2, 12)),  # later than b's award: it stays out
        lambda: award(b, community, 5, local(2024, 5, 2, 23, 59, 59, 999999)),  # still the 2nd locally
        lambda: award(a, None, 3, local(2024, 5, 3)),  # an award naming no community
        lambda: award(a, community, 0, local(2024, 5, 3, 8)),  # the daily cap: 0 points
        lambda: reverse(first_award, local(2024, 5, 4)),
        lambda: leave(a, local(2024, 5, 3, 9)),
        lambda: award(a, community, 6, local(2024, 5, 3, 10)),  # after leaving: not the team's
    ]
    team = first_award = None
    for n, step in enumerate(steps):
        result = step()
        if n == 0:
            team = result
        if n == 1:
            first_award = result
        db.session.commit()
        db.session.expire_all()
        assert stored_tallies(db) == expected_tallies(db), n
    assert honour_tally.check_tallies() == []
    may_2 = local(2024, 5, 2).astimezone(clock.LOCAL_TZ).date()
    # The team's 2nd of May: a's award was reversed; b's second award counts, the first does not.
    assert db.session.get(TeamTally, (team.id, may_2)).points == 5


def test_a_broken_tally_is_found_and_rebuilt(db, world, runner):
    row = db.session.scalars(sa.select(HonourTally).order_by(HonourTally.earner_id).limit(1)).one()
    key = (row.earner_id, row.community_id, row.day)
    db.session.execute(
        sa.update(HonourTally)
        .where(HonourTally.earner_id == key[0], HonourTally.community_id == key[1], HonourTally.day == key[2])
        .values(points=HonourTally.points + 1)
    )
    team_row = db.session.scalars(sa.select(TeamTally).limit(1)).one()
    db.session.execute(
        sa.delete(TeamTally).where(TeamTally.team_id == team_row.team_id, TeamTally.day == team_row.day)
    )
    db.session.commit()
    problems = honour_tally.check_tallies()
    tallies = [p for p in problems if p.startswith(("honour_tally", "team_tally"))]
    assert len(tallies) == 3, problems  # the changed row both ways, the missing team row
    assert any(f"earner_id={key[0]}" in p for p in tallies)
    # The ranked totals, added up from the right tallies, now disagree with the changed one.
    assert any(p.startswith("honour_total") and f"earner_id={key[0]}" in p for p in problems)
    assert not ledger.check_books().ok

    written = honour_tally.rebuild_tallies()
    db.session.commit()
    db.session.expire_all()
    assert honour_tally.check_tallies() == [] and ledger.check_books().ok
    assert stored_tallies(db) == expected_tallies(db)
    assert written == (
        db.session.scalar(sa.select(sa.func.count()).select_from(HonourTally)),
        db.session.scalar(sa.select(sa.func.count()).select_from(TeamTally)),
    )


def test_ledger_check_reports_a_drifted_tally_and_rebuild_tallies_repairs_it(app, runner):
    with app.app_context():
        _db.session.execute(sa.update(HonourTally).values(points=HonourTally.points + 2))
        _db.session.commit()
    result = runner.invoke(args=["ledger-check"])
    assert result.exit_code == 1 and "PROBLEM: honour_tally" in result.output
    result = runner.invoke(args=["rebuild-tallies"])
    assert result.exit_code == 0 and "volunteer-day rows" in result.output
    result = runner.invoke(args=["ledger-check"])
    assert result.exit_code == 0, result.output


def test_rebuild_after_a_bulk_load_matches_the_brute_force_board(db, world):
    """Ledger rows written directly (as a COPY would), no tally maintained; then one rebuild."""
    tree = make_tree("批量")
    community = tree["community"].id
    people = [volunteer(db, tree["grids"][0], f"批量{i}") for i in range(4)]
    issue = ledger.account(AccountKind.ISSUE)
    accounts = [ledger.account(AccountKind.VOLUNTEER, p.id) for p in people]
    db.session.commit()
    transactions, entries = [], []
    next_id = db.session.scalar(sa.select(sa.func.max(LedgerTransaction.id))) + 1
    for n in range(40):
        who = n % 4
        moment = local(2024, 5, 1) + timedelta(hours=7 * n)
        transactions.append(
            {
                "id": next_id + n,
                "key": f"bulk:{n}",
                "kind": "AWARD",
                "reason": "bulk",
                "created_at": moment,
                "earner_id": people[who].id,
                "community_id": community,
                "details": {},
            }
        )
        entries += [
            {"transaction_id": next_id + n, "account_id": issue.id, "amount": -(n + 1), "created_at": moment},
            {
                "transaction_id": next_id + n,
                "account_id": accounts[who].id,
                "amount": n + 1,
                "created_at": moment,
            },
        ]
    transactions.append(
        {
            "id": next_id + 40,
            "key": "bulk:reversal",
            "kind": "REVERSAL",
            "reason": "bulk",
            "created_at": local(2024, 5, 20),
            "earner_id": people[0].id,
            "community_id": community,
            "details": {},
            "reverses_id": next_id,
        }
    )
    entries += [
        {
            "transaction_id": next_id + 40,
            "account_id": accounts[0].id,
            "amount": -1,
            "created_at": local(2024, 5, 20),
        },
        {
            "transaction_id": next_id + 40,
            "account_id": issue.id,
            "amount": 1,
            "created_at": local(2024, 5, 20),
        },
    ]
    for row in transactions:
        row.setdefault("reverses_id", None)
    db.session.execute(sa.insert(LedgerTransaction.__table__), transactions)
    db.session.execute(sa.insert(LedgerEntry.__table__), entries)
    db.session.commit()
    assert honour_tally.check_tallies() != []  # the tallies know nothing of the bulk rows

    honour_tally.rebuild_tallies()
    db.session.commit()
    db.session.expire_all()
    assert honour_tally.check_tallies() == []
    assert stored_tallies(db) == expected_tallies(db)
    scope = f"community:{community}"
    for period in honour.PERIODS:
        rows = honour.compute_board(honour.parse_scope(scope), period, "volunteers", honour.MAX_LIMIT, TODAY)
        assert [(r.user_id, r.points) for r in rows] == [
            (row[5], row[2]) for row in brute_force(db, scope, period, "volunteers", TODAY)
        ]
    for scope in scopes_of(world):
        rows = honour.compute_board(honour.parse_scope(scope), "all", "teams", honour.MAX_LIMIT, TODAY)
        assert [(r.team_id, r.points) for r in rows] == [
            (row[4], row[2]) for row in brute_force(db, scope, "all", "teams", TODAY)
        ]


def test_the_migration_fills_the_same_rows_as_rebuild(db, world):
    spec = importlib.util.spec_from_file_location("perf_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    honour_totals.rebuild_totals()  # only the current periods, as the migration fills them
    db.session.commit()
    today = clock.today()
    expected = stored_tallies(db), stored_totals(db, today)
    for model in (HonourTally, TeamTally, HonourTotal, TeamTotal):
        db.session.execute(sa.delete(model))
    for statement in migration._fill_statements(db.session.get_bind().dialect.name, today):
        db.session.execute(sa.text(statement))
    db.session.commit()
    db.session.expire_all()
    assert (stored_tallies(db), stored_totals(db, today)) == expected
    assert len(expected[1][0]) > 10 and expected[1][1]

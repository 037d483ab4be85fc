"""The honour board against a brute-force recomputation in Python, on generated
data: awards in three communities of two streets at times across period
boundaries (local midnight on the 1st is 16:00 UTC the day before),
reversals, zero-point awards, team joins and leaves, ties; plus masking,
streaks and the number of SQL statements."""

import random
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app import clock
from app.models import (
    AccountKind,
    City,
    Community,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Role,
    Street,
    Team,
    TeamMembership,
    TxKind,
    User,
)
from app.services import honour, ledger, teams
from app.services.errors import InvalidInput, NotFound
from app.services.privacy import mask_name
from tests.factories import make_tree, make_user

TODAY = date(2024, 5, 15)  # a Wednesday; its week began on Monday 13 May


def local(y, m, d, h=0, mi=0, s=0, us=0) -> datetime:
    """An Asia/Shanghai wall-clock time as aware UTC."""
    return datetime(y, m, d, h, mi, s, us, tzinfo=clock.LOCAL_TZ).astimezone(UTC)


def at_time(moment: datetime, call):
    clock.freeze(moment)
    try:
        return call()
    finally:
        clock.freeze(None)


def award(user, community_id: int, points: int, moment: datetime) -> LedgerTransaction:
    """An AWARD transaction made at `moment` (synthetic: no visit behind it)."""
    return at_time(
        moment,
        lambda: ledger.post(
            TxKind.AWARD,
            f"test-award:{uuid.uuid4().hex}",
            "test award",
            [
                (ledger.account(AccountKind.ISSUE), -points),
                (ledger.account(AccountKind.VOLUNTEER, user.id), points),
            ],
            earner_id=user.id,
            community_id=community_id,
        ),
    )


def reverse(tx: LedgerTransaction, moment: datetime) -> LedgerTransaction:
    amount = sum(e.amount for e in _entries(tx.id) if e.amount > 0)
    return at_time(
        moment,
        lambda: ledger.post(
            TxKind.REVERSAL,
            f"test-reversal:{tx.id}",
            "found false",
            [
                (ledger.account(AccountKind.VOLUNTEER, tx.earner_id), -amount),
                (ledger.account(AccountKind.ISSUE), amount),
            ],
            earner_id=tx.earner_id,
            community_id=tx.community_id,
            reverses_id=tx.id,
        ),
    )


def _entries(tx_id):
    from app.extensions import db

    return list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.transaction_id == tx_id)))


def volunteer(db, grid, name: str, show_full_name: bool = False) -> User:
    user = make_user(Role.VOLUNTEER, grid_id=grid.id)
    user.name, user.show_full_name = name, show_full_name
    db.session.commit()
    return user


def join(user, team_id, moment):
    return at_time(moment, lambda: teams.join_team(user, team_id))


def leave(user, moment):
    return at_time(moment, lambda: teams.leave_team(user))


def create(user, name, moment):
    return at_time(moment, lambda: teams.create_team(user, name))


# --- the brute force -------------------------------------------------------------------


def brute_force(db, scope_key: str, period: str, kind: str, today: date) -> list[tuple]:
    """The board recomputed from raw rows in Python, with its own reading of the rules."""
    communities = {c.id: c for c in db.session.scalars(sa.select(Community))}
    streets = {s.id: s for s in db.session.scalars(sa.select(Street))}
    level, unit = scope_key.split(":")
    unit = int(unit)

    def in_scope(community_id):
        community = communities.get(community_id)
        if community is None:
            return False
        if level == "community":
            return community.id == unit
        if level == "street":
            return community.street_id == unit
        return streets[community.street_id].city_id == unit

    def in_period(moment):
        day = moment.astimezone(clock.LOCAL_TZ).date()
        return {
            "week": day.isocalendar()[:2] == today.isocalendar()[:2],
            "month": (day.year, day.month) == (today.year, today.month),
            "quarter": (day.year, (day.month - 1) // 3) == (today.year, (today.month - 1) // 3),
            "year": day.year == today.year,
            "all": True,
        }[period]

    accounts = {a.id: a for a in db.session.scalars(sa.select(LedgerAccount))}
    txs = list(db.session.scalars(sa.select(LedgerTransaction)))
    reversed_ids = {t.reverses_id for t in txs if t.kind is TxKind.REVERSAL}
    amount = defaultdict(int)
    for e in db.session.scalars(sa.select(LedgerEntry)):
        acc = accounts[e.account_id]
        amount[e.transaction_id] += e.amount if acc.kind is AccountKind.VOLUNTEER else 0
    awards = [
        (t.earner_id, t.community_id, t.created_at, amount[t.id])
        for t in txs
        if t.kind is TxKind.AWARD
        and t.id not in reversed_ids
        and amount[t.id] > 0
        and in_period(t.created_at)
    ]
    memberships = list(db.session.scalars(sa.select(TeamMembership)))
    users = {u.id: u for u in db.session.scalars(sa.select(User))}
    team_rows = {t.id: t for t in db.session.scalars(sa.select(Team))}
    totals: dict[int, list] = {}
    if kind == "volunteers":
        for earner, community_id, created, points in awards:
            if in_scope(community_id):
                entry = totals.setdefault(earner, [0, created])
                entry[0] += points
                entry[1] = max(entry[1], created)
    else:
        for m in memberships:
            team = team_rows[m.team_id]
            if not (team.active and in_scope(team.community_id)):
                continue
            for earner, _community, created, points in awards:
                if (
                    earner == m.user_id
                    and m.joined_at <= created
                    and (m.left_at is None or created < m.left_at)
                ):
                    entry = totals.setdefault(team.id, [0, created])
                    entry[0] += points
                    entry[1] = max(entry[1], created)
    order = sorted(totals, key=lambda k: (-totals[k][0], totals[k][1], k))
    if kind == "teams":
        current = defaultdict(int)
        for m in memberships:
            current[m.team_id] += m.left_at is None
        return [
            (rank, team_rows[k].name, totals[k][0], current[k], k) for rank, k in enumerate(order, start=1)
        ]
    current_team = {
        m.user_id: team_rows[m.team_id].name
        for m in memberships
        if m.left_at is None and team_rows[m.team_id].active
    }
    months = defaultdict(set)
    for t in txs:
        if t.kind is TxKind.AWARD and t.id not in reversed_ids:
            day = t.created_at.astimezone(clock.LOCAL_TZ).date()
            months[t.earner_id].add((day.year, day.month))
    return [
        (
            rank,
            users[k].name if users[k].show_full_name else mask_name(users[k].name),
            totals[k][0],
            current_team.get(k),
            brute_streak(months[k], today),
            k,
        )
        for rank, k in enumerate(order, start=1)
    ]


def brute_streak(months: set, today: date) -> int:
    y, m = today.year, today.month
    if (y, m) not in months:
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    streak = 0
    while (y, m) in months:
        streak += 1
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return streak


def as_tuples(rows) -> list[tuple]:
    if rows and isinstance(rows[0], honour.TeamRow):
        return [(r.rank, r.name, r.points, r.members, r.team_id) for r in rows]
    return [(r.rank, r.name, r.points, r.team, r.streak_months, r.user_id) for r in rows]


# --- generated data --------------------------------------------------------------------

# Times that sit on period boundaries, local and UTC.
BOUNDARIES = [
    local(2024, 5, 1),  # = 2024-04-30 16:00 UTC: May
    local(2024, 4, 30, 23, 59, 59, 999999),  # April
    local(2024, 5, 13),  # Monday: this week
    local(2024, 5, 12, 23, 59, 59),  # Sunday: last week
    local(2024, 4, 1),  # this quarter
    local(2024, 3, 31, 23, 59),  # last quarter
    local(2024, 1, 1),  # this year
    local(2023, 12, 31, 23, 59),  # last year
    local(2024, 5, 31, 23, 59),  # still May
    local(2024, 6, 1),  # June: outside every period but the year and all
]


@pytest.fixture
def world(db):
    """Three communities (two in street A, one in street B), volunteers,
    teams with joins and leaves, and ~90 awards with reversals; committed."""
    rng = random.Random(20240515)
    tree_a, tree_b = make_tree("甲"), make_tree("乙")
    a1, b1 = tree_a["community"], tree_b["community"]
    a2 = Community(street_id=tree_a["street"].id, name="甲二社区")
    db.session.add(a2)
    db.session.flush()
    from app.models import Grid

    a2_grid = Grid(community_id=a2.id, name="甲二网格")
    db.session.add(a2_grid)
    db.session.commit()
    grids = {a1.id: tree_a["grids"][0], a2.id: a2_grid, b1.id: tree_b["grids"][0]}
    names = ["欧阳秀华", "李建国", "张伟", "陈美玲", "赵国强", "孙丽", "周海涛", "吴桂芳", "郑大勇"]
    homes = [a1.id, a1.id, a1.id, a2.id, a2.id, b1.id, b1.id, b1.id, a1.id]
    people = [
        volunteer(db, grids[home], name, show_full_name=(i % 3 == 0))
        for i, (name, home) in enumerate(zip(names, homes, strict=True))
    ]

    # Teams: in A1 two teams, in B1 one; joins and leaves across the periods.
    t_a = create(people[0], "银发关爱队", local(2024, 1, 10))
    join(people[1], t_a.id, local(2024, 3, 1))
    t_a2 = create(people[2], "楼道修缮队", local(2024, 2, 1))
    leave(people[0], local(2024, 5, 14, 12))  # leaves the first team mid-week …
    join(people[0], t_a2.id, local(2024, 5, 14, 12))  # … and joins the second at the same moment
    t_b = create(people[5], "青春助老队", local(2023, 11, 1))
    join(people[6], t_b.id, local(2024, 4, 20))
    leave(people[6], local(2024, 5, 2))
    join(people[8], t_a.id, local(2024, 5, 1))

    communities = [a1.id, a2.id, b1.id]
    span_start, span_end = local(2023, 10, 1), local(2024, 6, 10)
    span = int((span_end - span_start).total_seconds())
    awards = []
    for n in range(90):
        person = rng.choice(people[:7] + [people[8]])
        moment = rng.choice(BOUNDARIES) if n % 3 == 0 else span_start + timedelta(seconds=rng.randrange(span))
        points = 0 if n % 17 == 0 else rng.randint(1, 20)
        awards.append(award(person, rng.choice(communities), points, moment))
    # Awards exactly when a membership began and ended (joined_at counts, left_at does not).
    awards.append(award(people[0], a1.id, 9, local(2024, 5, 14, 12)))
    awards.append(award(people[6], b1.id, 4, local(2024, 5, 2)))
    for tx in rng.sample(awards, 15):
        reverse(tx, tx.created_at + timedelta(days=rng.randint(0, 60)))

    # A tie: equal points, one reached earlier; two reached at the same instant.
    tie = [volunteer(db, grids[b1.id], f"并列{i}") for i in range(3)]
    moment = local(2024, 5, 14, 10)
    award(tie[0], b1.id, 50, moment)
    award(tie[1], b1.id, 30, moment - timedelta(hours=2))
    award(tie[1], b1.id, 20, moment - timedelta(hours=1))  # 50, reached an hour earlier
    award(tie[2], b1.id, 50, moment)  # 50 at the same instant as tie[0]: the smaller id first
    db.session.commit()
    return SimpleNamespace(
        a1=a1, a2=a2, b1=b1, street_a=tree_a["street"], street_b=tree_b["street"], people=people, tie=tie
    )


def scopes_of(world) -> list[str]:
    city = world.street_a.city_id
    return [
        f"community:{world.a1.id}",
        f"community:{world.a2.id}",
        f"community:{world.b1.id}",
        f"street:{world.street_a.id}",
        f"street:{world.street_b.id}",
        f"city:{city}",
    ]


@pytest.mark.parametrize("kind", honour.KINDS)
def test_board_matches_brute_force(db, world, kind):
    checked = 0
    for scope in scopes_of(world):
        for period in honour.PERIODS:
            rows = honour.board(scope, period, kind, limit=honour.MAX_LIMIT, today=TODAY)
            expected = brute_force(db, scope, period, kind, TODAY)
            assert as_tuples(rows) == expected, (scope, period)
            checked += bool(expected)
    assert checked >= 20  # the data really exercises the board


@pytest.mark.parametrize("kind", honour.KINDS)
def test_current_boards_match_brute_force(db, world, kind):
    """The same with TODAY as the real day: the current periods' volunteer boards
    come from the ranked totals, kept up by each award and reversal."""
    clock.freeze(local(2024, 5, 15, 12))
    try:
        checked = 0
        for scope in scopes_of(world):
            for period in honour.PERIODS:
                rows, statements = statements_run(
                    db,
                    lambda s=scope, p=period: honour.compute_board(
                        honour.parse_scope(s), p, kind, 200, TODAY
                    ),
                )
                expected = brute_force(db, scope, period, kind, TODAY)
                assert as_tuples(rows) == expected, (scope, period)
                assert kind == "teams" or any("honour_total" in s for s in statements)
                checked += bool(expected)
        assert checked >= 20
    finally:
        clock.freeze(None)


def test_tie_break_is_documented_order(db, world):
    rows = honour.board(f"community:{world.b1.id}", "week", today=TODAY)
    ids = [r.user_id for r in rows if r.points == 50]
    first, second, third = world.tie[1].id, *sorted([world.tie[0].id, world.tie[2].id])
    assert ids[:3] == [first, second, third]
    ranks = [r.rank for r in rows]
    assert ranks == list(range(1, len(rows) + 1))  # positions, even for equal points


def test_month_starts_at_local_midnight(db):
    tree = make_tree("边界")
    person = volunteer(db, tree["grids"][0], "林晓")
    community = tree["community"].id
    award(person, community, 5, datetime(2024, 4, 30, 16, 0, tzinfo=UTC))  # 1 May 00:00 in Beijing
    award(person, community, 7, datetime(2024, 4, 30, 15, 59, 59, tzinfo=UTC))  # still April there
    db.session.commit()
    may = honour.board(f"community:{community}", "month", today=date(2024, 5, 20))
    april = honour.board(f"community:{community}", "month", today=date(2024, 4, 20))
    assert [r.points for r in may] == [5] and [r.points for r in april] == [7]
    start, end = honour.period_bounds("month", date(2024, 5, 20))
    assert (start, end) == (datetime(2024, 4, 30, 16, tzinfo=UTC), datetime(2024, 5, 31, 16, tzinfo=UTC))
    assert honour.period_bounds("week", date(2024, 5, 19))[0] == datetime(2024, 5, 12, 16, tzinfo=UTC)
    assert honour.period_bounds("quarter", date(2024, 12, 31)) == (
        datetime(2024, 9, 30, 16, tzinfo=UTC),
        datetime(2024, 12, 31, 16, tzinfo=UTC),
    )
    assert honour.period_bounds("all", date(2024, 5, 20)) == (None, None)


def test_reversed_points_never_count_and_balance_plays_no_part(db):
    tree = make_tree("冲正")
    a, b = volunteer(db, tree["grids"][0], "甲乙丙"), volunteer(db, tree["grids"][0], "丁戊己")
    community = tree["community"].id
    kept = award(a, community, 10, local(2024, 5, 3))
    false = award(a, community, 40, local(2024, 5, 4))
    award(b, community, 20, local(2024, 5, 5))
    reverse(false, local(2024, 7, 1))  # reversed months later: still never counts
    db.session.commit()
    rows = honour.board(f"community:{community}", "month", today=TODAY)
    assert [(r.user_id, r.points) for r in rows] == [(b.id, 20), (a.id, 10)]
    assert kept.id and ledger.balance_of(AccountKind.VOLUNTEER, a.id) == 10


def test_names_are_masked_unless_the_volunteer_chose_otherwise(db):
    tree = make_tree("姓名")
    hidden = volunteer(db, tree["grids"][0], "欧阳秀华")
    shown = volunteer(db, tree["grids"][0], "李建国", show_full_name=True)
    award(hidden, tree["community"].id, 5, local(2024, 5, 3))
    award(shown, tree["community"].id, 3, local(2024, 5, 3))
    db.session.commit()
    rows = honour.board(f"community:{tree['community'].id}", "month", today=TODAY)
    assert [r.name for r in rows] == ["欧**华", "李建国"]


def test_streaks(db):
    tree = make_tree("连续")
    community = tree["community"].id
    steady, gap, reversed_, this_month, none = (
        volunteer(db, tree["grids"][0], n) for n in ("稳定者", "中断者", "冲正者", "新来者", "空白者")
    )
    for month in (1, 2, 3, 4):  # Jan–Apr, nothing yet in May: a month in progress breaks nothing
        award(steady, community, 1, local(2024, month, 28, 20))
    award(gap, community, 1, local(2024, 1, 5))
    award(gap, community, 1, local(2024, 3, 5))  # February missing
    award(gap, community, 1, local(2024, 4, 5))
    award(gap, community, 1, local(2024, 5, 1))  # 1 May local (30 April UTC)
    award(reversed_, community, 1, local(2024, 3, 5))
    reverse(award(reversed_, community, 1, local(2024, 4, 5)), local(2024, 4, 6))
    award(reversed_, community, 1, local(2024, 5, 5))
    award(this_month, community, 0, local(2024, 5, 2))  # a verified visit at the daily cap: 0 points
    award(none, community, 1, local(2024, 2, 5))  # too long ago
    db.session.commit()
    streaks = honour.streak_months([steady.id, gap.id, reversed_.id, this_month.id, none.id], TODAY)
    assert streaks == {steady.id: 4, gap.id: 3, reversed_.id: 1, this_month.id: 1}
    assert honour.count_streak({10, 11, 12}, 13) == 3 and honour.count_streak({10, 11}, 13) == 0


def test_bad_scope_period_kind_and_limit(db):
    for bad in (
        "community",
        "community:",
        "community:x",
        "town:1",
        " community:1",
        "community:1 ",
        None,
        3,
        "community:99999999999",
        "community:-1",
    ):
        with pytest.raises(InvalidInput) as refused:
            honour.parse_scope(bad)
        assert refused.value.code == "invalid_scope"
    for missing in ("community:2147483000", "street:2147483000", "city:2147483000"):
        with pytest.raises(NotFound):
            honour.parse_scope(missing)
    city = db.session.scalar(sa.select(City.id).limit(1))
    assert honour.parse_scope(f"city:{city}").level == "city"
    with pytest.raises(InvalidInput) as refused:
        honour.board(f"city:{city}", "decade")
    assert refused.value.code == "invalid_period"
    with pytest.raises(InvalidInput) as refused:
        honour.board(f"city:{city}", "month", kind="households")
    assert refused.value.code == "invalid_kind"
    for limit in (0, honour.MAX_LIMIT + 1, True, "5"):
        with pytest.raises(InvalidInput):
            honour.board(f"city:{city}", "month", limit=limit)


def statements_run(db, call) -> tuple[object, list[str]]:
    """What `call` returns, and the SQL statements it ran."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    bind = db.session.get_bind()
    sa.event.listen(bind, "before_cursor_execute", count)
    try:
        return call(), statements
    finally:
        sa.event.remove(bind, "before_cursor_execute", count)


def test_statements_do_not_grow_with_rows(db):
    """Same number of SQL statements for 3 and for 30 volunteers (and teams)."""
    counts = {}
    for size in (3, 30):
        tree = make_tree(f"计数{size}")
        scope = f"community:{tree['community'].id}"
        people = [volunteer(db, tree["grids"][0], f"计数者{i}") for i in range(size)]
        for i, person in enumerate(people):
            award(person, tree["community"].id, i + 1, local(2024, 5, 2))
            award(person, tree["community"].id, 1, local(2024, 4, 2))
            if i % 3 == 0:
                create(person, f"计数队{size}-{i}", local(2024, 4, 1))
        db.session.commit()
        (volunteers, team_rows), statements = statements_run(
            db,
            lambda scope=scope: (
                honour.board(scope, "month", today=TODAY),
                honour.board(scope, "month", "teams", today=TODAY),
            ),
        )
        assert len(volunteers) == size and len(team_rows) == len(range(0, size, 3))
        assert all(r.streak_months == 2 for r in volunteers)
        counts[size] = statements
    # The test session's SAVEPOINT, then scope + rows + streaks, scope + team rows.
    assert len(counts[3]) == len(counts[30]) <= 6, counts[30]

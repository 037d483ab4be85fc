"""The dashboard's figures against a brute-force recount in plain Python over
every row in the database, for grids, communities, streets and the city, and
for months, a quarter, a year and custom ranges whose edges fall at local
midnight; and the number of SQL statements, the same at two data sizes.

The world (tests/dashboard_world.py) is made through the real services; the
recount reads raw rows and applies the definitions stated on the page on its
own, never calling the dashboard code.
"""

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app import clock
from app.auth_scope import Scope
from app.models import (
    AccountKind,
    ApprovalAction,
    ApprovalStep,
    CategoryAssignment,
    Claim,
    ClaimStatus,
    Community,
    Grid,
    Household,
    HouseholdEvent,
    HouseholdEventKind,
    HouseholdStatus,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Need,
    NeedStatus,
    Review,
    Task,
    TeamMembership,
    TxKind,
    User,
)
from app.services import dashboard, dashboard_figures, tasks
from app.services.dashboard_period import Period, choose_period
from app.services.warnings import warnings_by_household
from tests.dashboard_world import TODAY, at, build_world, go, household, local, need, post
from tests.querycount import count_statements

SHANGHAI = clock.LOCAL_TZ


@pytest.fixture
def world(app, db):
    with app.test_request_context():
        built = build_world(db)
        yield built
    clock.freeze(None)


# --- the brute force --------------------------------------------------------------------


def rows(db, model):
    return list(db.session.scalars(sa.select(model)))


def bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(), SHANGHAI).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), SHANGHAI).astimezone(UTC)
    return start, end


def month_of(moment: datetime) -> int:
    local_day = moment.astimezone(SHANGHAI)
    return local_day.year * 12 + local_day.month - 1


def unit_grids(db, level: str, unit_id: int | None) -> set[int]:
    grids = rows(db, Grid)
    communities = {c.id: c for c in rows(db, Community)}
    if level == "all":
        return {g.id for g in grids}
    if level == "grid":
        return {unit_id}
    if level == "community":
        return {g.id for g in grids if g.community_id == unit_id}
    return {g.id for g in grids if communities[g.community_id].street_id == unit_id}


def recount(db, level: str, unit_id, first: date, last: date, today: date) -> dict:
    """Every figure, from raw rows, by the definitions on the page."""
    start, end = bounds(first, last)

    def in_period(moment):
        return moment is not None and start <= moment < end

    grids = unit_grids(db, level, unit_id)
    homes = {h.id: h for h in rows(db, Household) if h.grid_id in grids}
    result = {}

    # households and categories
    assignments = {a.id: a for a in rows(db, CategoryAssignment) if a.household_id in homes}
    steps = defaultdict(list)
    for step in rows(db, ApprovalStep):
        if step.assignment_id in assignments:
            steps[step.assignment_id].append(step)
    held, approved, ended = defaultdict(set), defaultdict(set), defaultdict(set)
    for a in assignments.values():
        done = steps[a.id]
        if any(s.action is ApprovalAction.APPROVE and s.at < end for s in done) and not any(
            s.action is ApprovalAction.REVOKE and s.at < end for s in done
        ):
            held[a.category.value].add(a.household_id)
        for s in done:
            if in_period(s.at) and s.action is ApprovalAction.APPROVE:
                approved[a.category.value].add(a.household_id)
            if in_period(s.at) and s.action is ApprovalAction.REVOKE:
                ended[a.category.value].add(a.household_id)
    result["categories"] = {
        c: (len(held[c]), len(approved[c]), len(ended[c])) for c in set(held) | set(approved) | set(ended)
    }
    events = defaultdict(list)
    for e in rows(db, HouseholdEvent):
        if e.household_id in homes:
            events[e.household_id].append(e)
    in_registry = entered = exited = 0
    for found in events.values():
        before = sorted((e for e in found if e.on <= last), key=lambda e: (e.on, e.id))
        in_registry += bool(before) and before[-1].kind is not HouseholdEventKind.EXITED
        entered += any(first <= e.on <= last and e.kind is not HouseholdEventKind.EXITED for e in found)
        exited += any(first <= e.on <= last and e.kind is HouseholdEventKind.EXITED for e in found)
    result["registry"] = (in_registry, entered, exited)

    # needs
    needs = [n for n in rows(db, Need) if n.household_id in homes]
    per_type = defaultdict(lambda: [0, 0, 0, 0])
    for n in needs:
        if n.created_at >= end:
            continue
        counts = per_type[n.service_type_code]
        counts[0] += in_period(n.created_at)
        counts[1] += n.status is NeedStatus.MET and in_period(n.closed_at)
        counts[2] += n.status is NeedStatus.CLOSED and in_period(n.closed_at)
        counts[3] += n.status is NeedStatus.OPEN or (n.closed_at is not None and n.closed_at >= end)
    result["needs"] = {code: tuple(c) for code, c in per_type.items()}

    # visits
    task_of = {t.id: t for t in rows(db, Task)}
    claims = rows(db, Claim)
    txs = rows(db, LedgerTransaction)
    reversed_claims = {t.claim_id for t in txs if t.kind is TxKind.REVERSAL}

    def is_verified(c):
        return c.status is ClaimStatus.CONFIRMED and c.check_in_at is not None and c.id not in reversed_claims

    # time from need to help
    times = {"claim": defaultdict(list), "visit": defaultdict(list)}
    for n in rows(db, Need):  # a need's tasks count in their grid's scope
        on_tasks = [
            c for c in claims if task_of[c.task_id].need_id == n.id and task_of[c.task_id].grid_id in grids
        ]
        first_claim = min((c.claimed_at for c in on_tasks if c.claimed_at >= n.created_at), default=None)
        first_visit = min(
            (c.check_in_at for c in on_tasks if is_verified(c) and c.check_in_at >= n.created_at),
            default=None,
        )
        for which, moment in (("claim", first_claim), ("visit", first_visit)):
            if in_period(moment):
                ms = round((moment - n.created_at).total_seconds() * 1000)
                times[which][n.service_type_code].append(ms)
                times[which]["*"].append(ms)
    result["times"] = {
        which: {code: (statistics.median(values), len(values)) for code, values in found.items()}
        for which, found in times.items()
    }

    # services, volunteers, teams
    services = defaultdict(lambda: [0, 0])
    volunteers, teams = set(), set()
    memberships = rows(db, TeamMembership)
    for c in claims:
        task = task_of[c.task_id]
        if task.grid_id in grids and is_verified(c) and in_period(c.check_in_at):
            key = (task.service_type_code, month_of(c.check_in_at))
            services[key][0] += 1
            services[key][1] += int((c.check_out_at - c.check_in_at).total_seconds() // 60)
            volunteers.add(c.volunteer_id)
            teams.update(
                m.team_id
                for m in memberships
                if m.user_id == c.volunteer_id
                and m.joined_at <= c.check_in_at
                and (m.left_at is None or m.left_at > c.check_in_at)
            )
    result["services"] = {key: tuple(v) for key, v in services.items()}
    result["people"] = (len(volunteers), len(teams))

    # points: awards and reversals where the service was given (the visit's
    # task's grid), the rest by the volunteer's home grid
    accounts = {a.id: a for a in rows(db, LedgerAccount)}
    users = {u.id: u for u in rows(db, User)}
    claim_of = {c.id: c for c in claims}
    by_tx = {t.id: t for t in txs}
    points = defaultdict(lambda: [0, set()])
    for e in rows(db, LedgerEntry):
        tx, account = by_tx[e.transaction_id], accounts[e.account_id]
        if account.kind is not AccountKind.VOLUNTEER or not in_period(tx.created_at):
            continue
        if tx.kind in (TxKind.AWARD, TxKind.REVERSAL):
            inside = tx.claim_id is not None and task_of[claim_of[tx.claim_id].task_id].grid_id in grids
        elif tx.kind in (TxKind.REDEMPTION, TxKind.REFUND, TxKind.DONATION):
            owner = users.get(account.owner_id)
            inside = owner is not None and (level == "all" or owner.grid_id in grids)
        else:
            inside = False
        if inside:
            key = (tx.kind.value, month_of(tx.created_at))
            points[key][0] += e.amount
            points[key][1].add(tx.id)
    result["points"] = {key: (abs(total), len(ids)) for key, (total, ids) in points.items()}

    # reviews, warnings
    reviews = defaultdict(int)
    for r in rows(db, Review):
        if r.household_id in homes and first <= r.reviewed_on <= last:
            reviews[r.outcome.value] += 1
    result["reviews"] = dict(reviews)
    active = list(
        db.session.scalars(
            sa.select(Household)
            .where(Household.id.in_(list(homes)), Household.status == HouseholdStatus.ACTIVE)
            .options(selectinload(Household.members), selectinload(Household.events))
        )
    )
    found = warnings_by_household(active, today)
    kinds = defaultdict(int)
    for warned in found.values():
        for kind in warned:
            kinds[kind.value] += 1
    result["warnings"] = (dict(kinds), sum(1 for w in found.values() if w), len(active))
    return result


def reshape(figures: dict) -> dict:
    """The dashboard's figures in the recount's shape (zeros left out)."""
    households = figures["households"]
    times = figures["times"]
    return {
        "categories": {
            code: (c["held"], c["approved"], c["ended"])
            for code, c in households["categories"].items()
            if any(c.values())
        },
        "registry": (households["in_registry"], households["entered"], households["exited"]),
        "needs": {
            code: (n["opened"], n["met"], n["closed"], n["open_at_end"])
            for code, n in figures["needs"].items()
        },
        "times": {
            which: {code: (ms, n) for code, (ms, n) in times[which].items()} for which in ("claim", "visit")
        },
        "services": {
            (code, month): (visits, minutes) for code, month, visits, minutes in figures["services"]
        },
        "people": (figures["people"]["volunteers"], figures["people"]["teams"]),
        "points": {(kind, month): (amount, count) for kind, month, amount, count in figures["points"]},
        "reviews": figures["reviews"],
        "warnings": (
            {k: v for k, v in figures["warnings"]["kinds"].items() if v},
            figures["warnings"]["any"],
            figures["warnings"]["active"],
        ),
    }


def units(w) -> list[tuple[str, int | None]]:
    return [
        ("grid", w.grid_a1.id),
        ("grid", w.grid_a2.id),
        ("community", w.community_a.id),
        ("community", w.community_b.id),
        ("street", w.street_s.id),
        ("community", w.community_c.id),
        ("street", w.street_t.id),
        ("all", None),
    ]


PERIODS = [
    choose_period("month", date(2031, 2, 14)),
    choose_period("month", date(2031, 3, 31)),
    choose_period("month", date(2031, 4, 1)),
    choose_period("quarter", date(2031, 2, 1)),
    choose_period("year", date(2031, 7, 1)),
    choose_period("custom", first=date(2031, 3, 15), last=date(2031, 4, 15)),
    choose_period("custom", first=date(2031, 4, 1), last=date(2031, 4, 1)),
]


def test_every_figure_matches_a_recount_for_every_unit_and_period(db, world):
    for level, unit_id in units(world):
        unit = dashboard.Unit(level, unit_id, "")
        for period in PERIODS:
            computed = reshape(dashboard.compute(unit, period, TODAY))
            expected = recount(db, level, unit_id, period.first, period.last, TODAY)
            for name, value in expected.items():
                assert computed[name] == value, (level, unit_id, period, name)


def test_the_world_has_something_in_every_figure(db, world):
    """The recount above would prove little on empty figures: the world fills them."""
    march = recount(db, "community", world.community_a.id, date(2031, 3, 1), date(2031, 3, 31), TODAY)
    april = recount(db, "community", world.community_a.id, date(2031, 4, 1), date(2031, 4, 30), TODAY)
    assert march["categories"] and april["categories"]
    assert april["registry"] == (5, 1, 2)  # h3 entered and re-entered (counted once); h3 and h4 left
    assert march["times"]["claim"] and march["times"]["visit"] and april["times"]["visit"]
    assert march["services"] and april["services"]
    assert {kind for kind, _month in april["points"]} == {"award", "redemption", "refund", "donation"}
    assert {kind for kind, _month in march["points"]} == {"award", "reversal"}
    assert march["reviews"] and april["reviews"] == {"continue": 1, "exit": 1}
    assert all(
        april["warnings"][0].get(k) for k in ("elderly_alone_80", "serious_illness", "severe_disability")
    )


def test_period_edges_fall_at_local_midnight(db, world):
    """A visit checked in at 23:30 on 31 March is March's service; its award,
    confirmed after midnight, is April's; an approval half a minute before
    midnight is March's, forty seconds after it April's."""
    unit = dashboard.Unit("grid", world.grid_a1.id, "")
    march = dashboard.compute(unit, choose_period("month", date(2031, 3, 1)), TODAY)
    april = dashboard.compute(unit, choose_period("month", date(2031, 4, 1)), TODAY)
    repairs_march = [row for row in march["services"] if row[0] == "repairs"]
    assert repairs_march == [["repairs", 2031 * 12 + 2, 1, 75]]
    assert not [row for row in april["services"] if row[0] == "repairs"]
    award_of_c2 = db.session.scalar(
        sa.select(LedgerTransaction).where(
            LedgerTransaction.claim_id == world.c2.id, LedgerTransaction.kind == TxKind.AWARD
        )
    )
    assert award_of_c2.created_at == local(2031, 4, 1, 0, 47)
    assert any(row[0] == "award" for row in april["points"])
    assert not any(row[0] == "award" for row in march["points"])
    assert march["households"]["categories"]["elderly_80"] == {"held": 1, "approved": 1, "ended": 0}
    assert march["households"]["categories"]["tekun"] == {"held": 0, "approved": 0, "ended": 0}
    assert april["households"]["categories"]["tekun"] == {"held": 1, "approved": 1, "ended": 0}
    # The need recorded ten seconds before April is open at the end of March.
    assert march["needs"]["tutoring"] == {"opened": 1, "met": 0, "closed": 0, "open_at_end": 1}
    assert april["needs"]["tutoring"] == {"opened": 0, "met": 0, "closed": 1, "open_at_end": 0}
    # The household entered half a minute into April is April's entry.
    assert (march["households"]["entered"], april["households"]["entered"]) == (2, 1)


def test_the_time_from_need_to_help_follows_the_first_claim_and_visit(db, world):
    """n1 in grid A1: claimed 2 h after it was recorded, visited 5 days later."""
    unit = dashboard.Unit("grid", world.grid_a1.id, "")
    february = dashboard.compute(unit, choose_period("month", date(2031, 2, 1)), TODAY)["times"]
    assert february["claim"]["housekeeping"] == [2 * 3600_000, 1]
    assert february["visit"]["housekeeping"] == [(5 * 24 * 3600 - 0) * 1000, 1]
    # n2 was first claimed by a volunteer who gave it back: that claim still counts.
    march = dashboard.compute(unit, choose_period("month", date(2031, 3, 1)), TODAY)["times"]
    assert march["claim"]["repairs"] == [3 * 3600_000, 1]


def test_a_reversed_visit_is_no_service_but_its_points_show(db, world):
    unit = dashboard.Unit("grid", world.grid_a2.id, "")
    march = dashboard.compute(unit, choose_period("month", date(2031, 3, 1)), TODAY)
    assert [row for row in march["services"] if row[0] == "visiting"] == []
    kinds = {row[0]: row[2] for row in march["points"]}
    assert kinds["award"] == kinds["reversal"] > 0
    assert march["times"]["visit"] == {}


def test_a_street_is_the_sum_of_its_communities(db, world):
    period = choose_period("custom", first=date(2031, 1, 1), last=date(2031, 6, 30))
    street = dashboard.compute(dashboard.Unit("street", world.street_s.id, ""), period, TODAY)
    parts = [
        dashboard.compute(dashboard.Unit("community", c.id, ""), period, TODAY)
        for c in (world.community_a, world.community_b)
    ]

    def visits(f):
        return sum(row[2] for row in f["services"])

    def issued(f):
        return sum(row[2] for row in f["points"] if row[0] == "award")

    def opened(f):
        return sum(n["opened"] for n in f["needs"].values())

    for measure in (visits, issued, opened):
        assert measure(street) == sum(measure(p) for p in parts) > 0
    assert street["households"]["in_registry"] == sum(p["households"]["in_registry"] for p in parts)


def test_warning_conditions_agree_with_the_warnings_page_rule_on_the_demo(db):
    """The SQL warnings equal app/services/warnings.py's rule household by household, on the demo data."""
    for today in (clock.today(), clock.today() + timedelta(days=200)):
        conditions = dashboard_figures.warning_conditions(today)
        active = list(
            db.session.scalars(
                sa.select(Household)
                .where(Household.status == HouseholdStatus.ACTIVE)
                .options(selectinload(Household.members), selectinload(Household.events))
            )
        )
        expected = warnings_by_household(active, today)
        for kind, condition in conditions.items():
            found = set(
                db.session.scalars(
                    sa.select(Household.id).where(Household.status == HouseholdStatus.ACTIVE, condition)
                )
            )
            assert found == {h for h, warned in expected.items() if kind in warned}, (today, kind)


def test_an_elderly_birthday_on_the_29th_of_february(db):
    assert dashboard_figures.years_before(date(2024, 2, 29), 80) == date(1944, 2, 29)
    assert dashboard_figures.years_before(date(2028, 2, 29), 81) == date(1947, 2, 28)


# --- a fixed number of statements ---------------------------------------------------------


def test_the_statement_count_does_not_grow_with_the_data(app, db, world):
    unit = dashboard.Unit("community", world.community_a.id, "")
    period = choose_period("custom", first=date(2031, 1, 1), last=date(2031, 12, 31))
    with count_statements(app) as small:
        dashboard.compute(unit, period, TODAY)
    _more_of_everything(db, world)
    with count_statements(app) as large:
        figures = dashboard.compute(unit, period, TODAY)
    assert sum(row[2] for row in figures["services"]) >= 8  # the data did grow
    assert len(large) == len(small), "\n".join(large)
    assert len(small) <= 16


def _more_of_everything(db, w) -> None:
    for i in range(4):
        home = household(w.gw_a1, local(2031, 6, 1 + i, 9))
        wanted = need(w.gw_a1, home.id, "visiting", local(2031, 6, 1 + i, 10))
        task = post(
            w.gw_a1, home.id, "visiting", local(2031, 6, 10 + i, 9), local(2031, 6, 1 + i, 11), wanted.id
        )
        at(local(2031, 6, 1 + i, 12), tasks.claim_task, w.v_a1b, task.id)
        go(w.gw_a1, w.v_a1b, task, local(2031, 6, 10 + i, 9), 40 + i)


def test_the_city_is_computed_with_the_same_statements(app, db, world):
    period = choose_period("month", date(2031, 4, 1))
    counts = []
    for unit in (dashboard.Unit("all", None, ""), dashboard.Unit("grid", world.grid_a1.id, "")):
        with count_statements(app) as statements:
            dashboard.compute(unit, period, TODAY)
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_scope_of_a_unit_is_the_auth_scope(world):
    assert dashboard.Unit("community", 3, "x").scope == Scope("community", 3)
    assert dashboard.Unit("all", None, "x").key == "all"
    assert isinstance(PERIODS[0], Period)

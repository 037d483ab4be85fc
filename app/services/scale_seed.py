"""A city-scale synthetic data set for benchmarks (`flask seed-scale`).

For N households it builds a city of the size DOMAIN.md plans for — about
17 streets, 170 communities and 1 360 grids per 50 000 households — with
their staff, the households' whole casework, 4 × N volunteers with skills,
free times and teams, two years of service tasks in every state with their
claims, visits and confirmations, and the points books that follow from
them: awards, reversals, redemptions, hand-overs, refunds and donations,
with partners, rewards, stock and vouchers.

Rows are made in Python with their ids and written in bulk
(scale_seed_writer); the same seed, N and as-of date give the same rows.
Everything keeps the app's invariants: `flask ledger-check` passes, every
record lies in the scope tree of its household, and the points follow the
rules in force (app/services/points.py does the arithmetic).

Modules: scale_seed_org (city, staff, partners, rewards), scale_seed_registry
(households and casework), scale_seed_people (volunteers, teams),
scale_seed_tasks (tasks, claims, visits), scale_seed_ledger (the books).
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from random import Random

import sqlalchemy as sa

from app.extensions import db
from app.models import Household, TaskStatus, User
from app.services.accounts import hash_password
from app.services.demo import DEMO_PASSWORD
from app.services.scale_seed_writer import BulkWriter, DeferredIndexes, Times

HOUSEHOLDS_PER_GRID = 50_000 / 1_360
GRIDS_PER_COMMUNITY = 8
COMMUNITIES_PER_STREET = 10
VOLUNTEERS_PER_HOUSEHOLD = 4
HISTORY_DAYS = 728  # two years of tasks before the as-of day
FUTURE_DAYS = 14  # tasks already posted for the next two weeks
MAX_HOUSEHOLDS = 1_000_000
EARLIEST_AS_OF, LATEST_AS_OF = date(2004, 1, 1), date(2099, 12, 31)


class SeedRefused(Exception):
    """The database is not one seed-scale may fill."""


@dataclass(frozen=True)
class Plan:
    """How big the city is for `households` households."""

    households: int
    streets: int
    communities: int
    grids: int

    @property
    def volunteers(self) -> int:
        return VOLUNTEERS_PER_HOUSEHOLD * self.households


def plan_for(households: int) -> Plan:
    grids = max(4, round(households / HOUSEHOLDS_PER_GRID))
    communities = max(2, round(grids / GRIDS_PER_COMMUNITY))
    streets = max(1, round(communities / COMMUNITIES_PER_STREET))
    return Plan(households, streets, communities, grids)


class Progress:
    """Reports phases; the CLI shows bars, tests stay quiet."""

    @contextmanager
    def phase(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        yield lambda _n: None


@dataclass
class Login:
    phone: str
    role: str
    note: str


@dataclass
class ScaleReport:
    plan: Plan
    seed: int
    as_of: date
    password: str
    rows: dict[str, int] = field(default_factory=dict)
    phases: list[tuple[str, float]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    logins: list[Login] = field(default_factory=list)
    fast_path: bool = False  # PostgreSQL as a superuser: foreign-key triggers skipped while loading
    dialect: str = ""

    @property
    def seconds(self) -> float:
        return sum(seconds for _, seconds in self.phases)


class World:
    """What the phases share: the plan, randomness, the clock, the writer and
    what earlier phases made (filled in by each module)."""

    def __init__(self, plan: Plan, seed: int, as_of: date, writer: BulkWriter):
        self.plan, self.seed, self.as_of = plan, seed, as_of
        self.times = writer.times
        self.w = writer
        self.password_hash = hash_password(DEMO_PASSWORD)
        self.logins: list[Login] = []
        self.task_statuses: dict[str, int] = {}  # by status name
        self._phone = 0
        self.phones: dict[int, str] = {}
        self.taken_phones: set[str] = set(db.session.scalars(sa.select(User.phone)))
        db.session.rollback()

    def rng(self, part: str) -> Random:
        """A random source of its own for each part, so one part's changes leave the others' rows alone."""
        return Random(f"seed-scale:{self.seed}:{part}")

    def phone(self) -> str:
        """The next synthetic mobile number (19x…), skipping any already in the database."""
        while True:
            self._phone += 1
            phone = f"19{self._phone:09d}"
            if phone not in self.taken_phones:
                return phone


def check_empty() -> None:
    """Refuse a database that already has households (the demo data, say)."""
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Household))
    db.session.rollback()
    if count:
        raise SeedRefused(
            f"The database already holds {count} households. seed-scale fills an empty database: "
            "create a fresh one and run `flask --app wsgi db upgrade` first."
        )


def seed_scale(households: int, seed: int, as_of: date, progress: Progress | None = None) -> ScaleReport:
    """Fill an empty database with a city of `households` households; returns what was made.

    Raises SeedRefused when households exist, ValueError for a bad size.
    """
    from app.services import (
        scale_seed_activity,
        scale_seed_finish,
        scale_seed_ledger,
        scale_seed_org,
        scale_seed_people,
        scale_seed_registry,
    )

    if not 1 <= households <= MAX_HOUSEHOLDS:
        raise ValueError(f"households must be 1 to {MAX_HOUSEHOLDS}")
    if not EARLIEST_AS_OF <= as_of <= LATEST_AS_OF:
        raise ValueError(f"the as-of day must be from {EARLIEST_AS_OF} to {LATEST_AS_OF}")
    check_empty()
    progress = progress or Progress()
    plan = plan_for(households)
    writer = BulkWriter(Times(as_of))
    report = ScaleReport(plan, seed, as_of, DEMO_PASSWORD, fast_path=writer.fast_path, dialect=writer.dialect)
    world = World(plan, seed, as_of, writer)

    def timed(label: str, total: int, work: Callable[[Callable[[int], None]], None]) -> None:
        started = time.monotonic()
        with progress.phase(label, total) as advance:
            work(advance)
            writer.flush_all()
        report.phases.append((label, time.monotonic() - started))

    indexes = DeferredIndexes(writer.engine)
    try:
        indexes.drop()
        timed("org tree and staff", 1, lambda advance: scale_seed_org.seed_org(world, advance))
        timed("households", households, lambda advance: scale_seed_registry.seed_households(world, advance))
        timed(
            "volunteers and teams", plan.volunteers, lambda adv: scale_seed_people.seed_volunteers(world, adv)
        )
        timed("partners and rewards", 1, lambda advance: scale_seed_org.seed_partners(world, advance))
        weeks = scale_seed_activity.week_count()
        books = scale_seed_ledger.Books(world)
        timed(
            "tasks, visits and points",
            weeks,
            lambda adv: scale_seed_activity.seed_activity(world, books, adv),
        )
        timed("balances and sequences", 1, lambda advance: scale_seed_finish.finish(world, books, advance))
        timed("honour board tallies", 1, _rebuild_tallies)
        timed(
            "indexes and statistics", 1, lambda advance: scale_seed_finish.index_and_analyze(indexes, advance)
        )
    finally:
        try:
            writer.close()
        finally:
            indexes.restore()
    report.rows = {table: count for table, count in sorted(writer.counts.items()) if count}
    report.statuses = {TaskStatus[name].value: count for name, count in world.task_statuses.items()}
    report.logins = world.logins
    return report


def _rebuild_tallies(advance) -> None:
    """The honour board's derived tables, from the ledger rows written directly above."""
    from app.services import honour_tally

    honour_tally.rebuild_tallies()
    db.session.commit()
    advance(1)

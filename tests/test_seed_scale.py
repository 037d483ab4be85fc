"""`flask seed-scale`: a synthetic city on a fresh database of its own.

The city is built once per module through the CLI (40 households) in a
database made for it — a SQLite file, or on PostgreSQL a schema of its own
in the test database — and every check below compares it with what the
app's rules say, counted straight from the tables.
"""

import hashlib
import os
import uuid
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.security import check_password_hash

from app import clock
from app.crypto import blind_index
from app.extensions import db as _db
from app.models import (
    AccountKind,
    Category,
    CategoryAssignment,
    CategoryStatus,
    Claim,
    ClaimStatus,
    Grid,
    Household,
    HouseholdStatus,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Member,
    Role,
    Task,
    TaskEvent,
    TaskStatus,
    Team,
    TeamMembership,
    TxKind,
    User,
    UserRole,
    Voucher,
    VoucherStatus,
)
from app.services import ledger, points, scale_seed
from app.services import scale_seed_text as text
from app.services.idcard import parse_id_number
from app.services.tasks import TRANSITIONS
from config import database_url
from tests.conftest import second_app

HOUSEHOLDS = 40
SEED = 7


def _fresh_database(tmp_path_factory) -> tuple[str, callable]:
    """A URL of an empty database and a function that removes it afterwards."""
    if os.environ.get("TEST_DB") != "postgres":
        return f"sqlite:///{tmp_path_factory.mktemp('scale') / 'city.db'}", lambda: None
    schema = f"seed_scale_{uuid.uuid4().hex[:8]}"
    base = sa.make_url(database_url(os.environ["TEST_DATABASE_URL"]))
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), drop


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """An app on a fresh, migrated database filled by `flask seed-scale` (the CLI's own output kept)."""
    url, drop = _fresh_database(tmp_path_factory)
    try:
        with second_app(SQLALCHEMY_DATABASE_URI=url) as app:
            with app.app_context():
                upgrade()
                _db.session.remove()
            result = app.test_cli_runner().invoke(
                args=["seed-scale", "--households", str(HOUSEHOLDS), "--seed", str(SEED)]
            )
            assert result.exit_code == 0, result.output
            app.seed_output = result.output
            yield app
    finally:
        drop()


@pytest.fixture
def cdb(city):
    with city.app_context():
        yield _db
        _db.session.rollback()


def count(stmt) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


def test_the_command_reports_what_it_wrote(city, cdb):
    output = city.seed_output
    assert f"A city of {HOUSEHOLDS} households" in output
    assert "demo1234" in output
    written = cdb.session.scalar(sa.select(sa.func.count(LedgerEntry.id)))
    line = next(line for line in output.splitlines() if line.strip().startswith("ledger_entry"))
    assert line.split()[-1] == f"{written:,}"


def test_the_books_balance(city, cdb):
    report = ledger.check_books()
    assert report.ok, report.problems
    assert city.test_cli_runner().invoke(args=["ledger-check"]).exit_code == 0
    held = cdb.session.scalar(
        sa.select(sa.func.sum(Voucher.price)).where(Voucher.status == VoucherStatus.ISSUED)
    )
    assert ledger.balance_of(AccountKind.SINK) == held > 0


def test_every_status_and_category_is_there(cdb):
    def present(column) -> set:
        return set(cdb.session.scalars(sa.select(column).distinct()))

    assert present(Task.status) == set(TaskStatus)
    assert present(Claim.status) == set(ClaimStatus)
    assert present(CategoryAssignment.status) == set(CategoryStatus)
    assert present(Voucher.status) == set(VoucherStatus)
    assert present(LedgerTransaction.kind) == set(TxKind)
    assert present(Household.status) == set(HouseholdStatus)
    approved = cdb.session.scalars(
        sa.select(CategoryAssignment.category)
        .where(CategoryAssignment.status == CategoryStatus.APPROVED)
        .distinct()
    )
    assert set(approved) == set(Category)


def test_four_volunteers_a_household_and_about_a_hundred_entries_each(cdb):
    households = count(sa.select(Household.id))
    volunteers = count(sa.select(UserRole.user_id).where(UserRole.role == Role.VOLUNTEER))
    entries = count(sa.select(LedgerEntry.id))
    assert households == HOUSEHOLDS and volunteers == 4 * HOUSEHOLDS
    assert 70 <= entries / volunteers <= 140


def test_everything_lies_in_its_households_scope(cdb):
    s = cdb.session
    task_grid = (
        sa.select(Task.id)
        .join(Household, Household.id == Task.household_id)
        .where(Task.grid_id != Household.grid_id)
    )
    assert count(task_grid) == 0
    volunteer_grid = sa.orm.aliased(Grid)
    outside = (
        sa.select(Claim.id)
        .join(Task, Task.id == Claim.task_id)
        .join(Grid, Grid.id == Task.grid_id)
        .join(User, User.id == Claim.volunteer_id)
        .join(volunteer_grid, volunteer_grid.id == User.grid_id)
        .where(volunteer_grid.community_id != Grid.community_id)
    )
    assert count(outside) == 0, "volunteers claim tasks of their own community only"
    award_elsewhere = (
        sa.select(LedgerTransaction.id)
        .join(Claim, Claim.id == LedgerTransaction.claim_id)
        .join(Task, Task.id == Claim.task_id)
        .join(Grid, Grid.id == Task.grid_id)
        .where(
            LedgerTransaction.kind == TxKind.AWARD,
            sa.or_(
                LedgerTransaction.community_id != Grid.community_id,
                LedgerTransaction.earner_id != Claim.volunteer_id,
            ),
        )
    )
    assert count(award_elsewhere) == 0
    creators = (
        sa.select(Task.id).join(User, User.id == Task.created_by_id).where(User.grid_id != Task.grid_id)
    )
    assert count(creators) == 0, "tasks are posted by their grid's worker"
    team_outside = (
        sa.select(TeamMembership.id)
        .join(Team, Team.id == TeamMembership.team_id)
        .join(User, User.id == TeamMembership.user_id)
        .join(Grid, Grid.id == User.grid_id)
        .where(Grid.community_id != Team.community_id)
    )
    assert count(team_outside) == 0
    current = s.scalars(sa.select(TeamMembership.user_id).where(TeamMembership.left_at.is_(None))).all()
    assert len(current) == len(set(current)), "one current team at most"


def test_id_numbers_decrypt_to_valid_numbers_matching_their_index(cdb):
    members = cdb.session.scalars(sa.select(Member).where(Member.id_index.is_not(None))).all()
    assert len(members) > HOUSEHOLDS
    for member in members:
        parsed = parse_id_number(member.id_number)  # decrypted by the column type
        assert blind_index(parsed.value) == member.id_index
        assert (parsed.region, parsed.value[-4:], parsed.birth_date) == (
            member.id_region,
            member.id_last4,
            member.birth_date,
        )


def test_task_histories_follow_the_state_machine(cdb):
    events = defaultdict(list)
    for event in cdb.session.scalars(sa.select(TaskEvent).order_by(TaskEvent.task_id, TaskEvent.id)):
        events[event.task_id].append(event)
    tasks = cdb.session.scalars(sa.select(Task)).all()
    anchor = clock.local_day_bounds(clock.today())[0]
    for task in tasks:
        history = events[task.id]
        assert history[0].from_status is None and history[0].to_status is TaskStatus.OPEN
        for before, after in zip(history, history[1:], strict=False):
            assert after.from_status is before.to_status and after.to_status in TRANSITIONS[before.to_status]
            assert before.at <= after.at
        assert history[-1].to_status is task.status and history[-1].at < anchor
    holding = Counter(
        cdb.session.scalars(
            sa.select(Claim.task_id).where(Claim.status.in_([s for s in ClaimStatus if s.holds_slot]))
        )
    )
    assert all(task.taken == holding[task.id] <= task.slots for task in tasks)


def test_visits_happen_in_order_once_a_day_and_pay_by_the_rules(cdb):
    rows = cdb.session.execute(
        sa.select(Claim, Task, User.created_at)
        .join(Task, Task.id == Claim.task_id)
        .join(User, User.id == Claim.volunteer_id)
        .where(Claim.check_in_at.is_not(None))
    ).all()
    days = Counter()
    for claim, task, registered in rows:
        assert registered < claim.claimed_at < claim.check_in_at
        assert claim.check_in_at >= task.starts_at - timedelta(minutes=30)
        if claim.check_out_at is not None:
            assert claim.check_in_at < claim.check_out_at
        if claim.confirmed_at is not None:
            assert claim.check_out_at < claim.confirmed_at
        days[claim.volunteer_id, clock.local_date(claim.check_in_at)] += 1
    assert max(days.values()) == 1, "never two visits on one day: the daily cap starts from nothing"
    paid = dict(
        cdb.session.execute(
            sa.select(LedgerTransaction.claim_id, LedgerEntry.amount)
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .where(LedgerTransaction.kind == TxKind.AWARD, LedgerEntry.amount >= 0)
        ).all()
    )
    confirmed = [(claim, task) for claim, task, _ in rows if claim.status is ClaimStatus.CONFIRMED]
    assert set(paid) == {claim.id for claim, _ in confirmed}
    for claim, task in confirmed[:: max(1, len(confirmed) // 400)]:
        day = clock.local_date(claim.check_in_at)
        rule = points.compute_award(
            task, claim, points.rate_in_force(task.service_type_code, day), points.policy_in_force(day), 0
        )
        assert paid[claim.id] == rule.points


def test_volunteer_balances_are_never_negative(cdb):
    low = cdb.session.scalar(
        sa.select(sa.func.min(LedgerAccount.balance)).where(LedgerAccount.kind == AccountKind.VOLUNTEER)
    )
    assert low >= 0


def test_the_indexes_dropped_for_the_load_are_all_back(cdb):
    """On PostgreSQL the load runs without its plain indexes (DeferredIndexes):
    the city's schema ends with every index the models declare, built again."""
    if cdb.engine.dialect.name != "postgresql":
        pytest.skip("seed-scale drops indexes for the load on PostgreSQL only")
    declared = {index.name for table in cdb.metadata.tables.values() for index in table.indexes}
    found = set(
        cdb.session.scalars(sa.text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"))
    )
    assert len(declared) > 50 and declared <= found
    assert (
        cdb.session.scalar(
            sa.text(
                "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND NOT (i.indisvalid AND i.indisready)"
            )
        )
        == 0
    )


def test_refuses_a_database_with_households(city, cdb):
    with pytest.raises(scale_seed.SeedRefused, match="already holds 40 households"):
        scale_seed.seed_scale(5, 1, date(2026, 1, 1))
    result = city.test_cli_runner().invoke(args=["seed-scale", "--households", "5"])
    assert result.exit_code != 0 and "already holds" in result.output


def test_refuses_production(city):
    city.config["APP_ENV"] = "production"
    try:
        result = city.test_cli_runner().invoke(args=["seed-scale", "--households", "5"])
    finally:
        city.config["APP_ENV"] = "testing"
    assert result.exit_code != 0 and "production" in result.output


def _login(client, phone: str) -> None:
    response = client.post("/auth/login", data={"phone": phone, "password": "demo1234"})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_key_pages_answer_for_synthetic_people(city):
    with city.app_context():
        s = _db.session
        busiest = s.scalar(
            sa.select(User.phone)
            .join(Claim, Claim.volunteer_id == User.id)
            .group_by(User.id)
            .order_by(sa.func.count(Claim.id).desc(), User.id)
            .limit(1)
        )
        household = s.scalar(sa.select(Household).order_by(Household.id).limit(1))
        worker = s.scalar(
            sa.select(User.phone)
            .join(UserRole)
            .where(User.grid_id == household.grid_id, UserRole.role == Role.GRID_WORKER)
            .limit(1)
        )
        task_id = s.scalar(
            sa.select(Task.id).where(Task.grid_id == household.grid_id).order_by(Task.id.desc())
        )
        city_id = s.scalar(sa.text("SELECT id FROM city"))
        assert check_password_hash(
            s.scalar(sa.select(User.password_hash).where(User.phone == busiest)), "demo1234"
        )
    pages = {
        busiest: ["/tasks/", "/me/points", "/bank", "/bank/vouchers", "/me/notifications", "/teams"],
        worker: [
            "/registry/",
            f"/registry/{household.id}",
            "/staff/tasks/",
            "/registry/warnings",
            "/registry/reviews",
        ],
    }
    for phone, urls in pages.items():
        client = city.test_client()
        _login(client, phone)
        for url in urls + [f"/honour-board?scope=city:{city_id}&period=all"]:
            assert client.get(url).status_code == 200, (phone, url)
    client = city.test_client()
    _login(client, worker)
    assert client.get(f"/staff/tasks/{task_id}").status_code == 200
    assert city.test_client().get(f"/api/v1/honour-board?scope=city:{city_id}&period=year").status_code == 200


# --- the same seed gives the same city -------------------------------------------------

RANDOM_BY_DESIGN = {("user_account", "password_hash")}  # one salted hash; ID ciphertexts compare decrypted
STAMPED_BY_MIGRATIONS = {"point_rate", "point_policy", "alembic_version"}


def _digests(url: str) -> dict[str, str]:
    with second_app(SQLALCHEMY_DATABASE_URI=url) as app, app.app_context():
        upgrade()
        _db.session.remove()
        scale_seed.seed_scale(24, 3, date(2026, 5, 17))
        found = {}
        for table in _db.metadata.sorted_tables:
            if table.name in STAMPED_BY_MIGRATIONS:
                continue
            columns = [c for c in table.columns if (table.name, c.name) not in RANDOM_BY_DESIGN]
            stmt = sa.select(*columns).order_by(*table.primary_key.columns)
            if table.name == "ledger_account":  # the issuing account and the sink are the migration's
                stmt = stmt.where(table.c.owner_id != 0)
            digest = hashlib.sha256()
            for row in _db.session.execute(stmt):
                digest.update(repr(tuple(row)).encode())
            found[table.name] = digest.hexdigest()
        return found


def test_same_seed_same_city(tmp_path):
    first = _digests(f"sqlite:///{tmp_path / 'one.db'}")
    second = _digests(f"sqlite:///{tmp_path / 'two.db'}")
    assert first == second
    assert first["task"] != hashlib.sha256().hexdigest(), "the tables are not empty"


def test_vocabularies_are_safe_to_copy_as_they_are():
    """The PostgreSQL writer sends texts without escaping them (scale_seed_writer)."""
    words = []
    for vocabulary in text.VOCABULARIES:
        if isinstance(vocabulary, dict):
            vocabulary = [w for value in vocabulary.values() for w in value] + list(vocabulary)
        for item in vocabulary:
            words += list(item) if isinstance(item, tuple) else [item]
    assert words and all(not any(c in str(w) for c in "\t\n\r\\") for w in words)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--households", "0"], "0 is not in the range"),
        (["--households", "x"], "is not a valid integer"),
        (["--households", "5", "--as-of", "2026-13-01"], "YYYY-MM-DD"),
        (["--households", "5", "--as-of", "1999-01-01"], "choose a day from 2004-01-01"),
    ],
)
def test_bad_arguments_get_a_clear_message_and_write_nothing(city, cdb, args, message):
    before = cdb.session.scalar(sa.select(sa.func.count(User.id)))
    result = city.test_cli_runner().invoke(args=["seed-scale", *args])
    assert result.exit_code == 2 and message in result.output
    assert cdb.session.scalar(sa.select(sa.func.count(User.id))) == before

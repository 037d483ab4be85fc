"""The point rules of app/services/points.py, without HTTP: the award arithmetic,
paying a visit once, reversal, and ledger rows that the database keeps as written.

Visits are driven through the real services (post, claim, door-card check-in
and check-out, the resident's QR confirmation) with the clock frozen; the
helpers here are shared with the other points tests.
"""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app import clock
from app.models import (
    AccountKind,
    AuditEntry,
    Claim,
    LedgerEntry,
    LedgerTransaction,
    Notification,
    NotificationKind,
    PointPolicy,
    PointRate,
    Rounding,
    TxKind,
    Urgency,
)
from app.services import ledger, ledger_views, points, tasks, visits
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import DEMO, count_rows
from tests.factories import make_household, user_by_phone

# 10:00 in Beijing on a day no demo data touches.
BASE = datetime(2031, 3, 10, 2, 0, tzinfo=UTC)
HOUSEKEEPING = (10, 5)  # the demo rate: points per visit, per hour


def volunteer(n: int = 1):
    return user_by_phone(DEMO.volunteer if n == 1 else DEMO.volunteer_2)


def drive_visit(
    who,
    starts: datetime,
    worked: int,
    *,
    expected: int | None = None,
    urgency: Urgency = Urgency.NORMAL,
    worker=None,
    confirm: bool = True,
) -> int:
    """A housekeeping visit: posted the day before, claimed, checked in at `starts`,
    out `worked` minutes later, confirmed by the resident's QR link (which pays it).
    Needs a request context (the link is an absolute URL). Returns the claim id."""
    worker = worker or user_by_phone(DEMO.grid_worker)
    household = make_household(worker, building="积分楼")
    clock.freeze(starts - timedelta(days=1))
    task = tasks.create_task(
        worker,
        tasks.TaskData(
            household_id=household.id,
            service_type_code="housekeeping",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            description="积分测试",
            expected_minutes=expected,
            urgency=urgency,
        ),
    )
    claim = tasks.claim_task(who, task.id)
    card = visits.issue_door_card(worker, household.id)
    token = visits.door_token(card)
    clock.freeze(starts)
    visits.check_in(who, task.id, token)
    clock.freeze(starts + timedelta(minutes=worked))
    visits.check_out(who, task.id, token)
    if confirm:
        url, _expires = visits.confirmation_link(who, task.id)
        visits.confirm_visit(urlsplit(url).path.removeprefix("/c/"), 5, "")
    return claim.id


def balance(user) -> int:
    return ledger.balance_of(AccountKind.VOLUNTEER, user.id)


def award_points(claim_id: int) -> int:
    return sum(e.amount for e in points._entries(points.award_of(claim_id).id) if e.amount > 0)


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield
    clock.freeze(None)


# --- compute_award, the pure arithmetic --------------------------------------------------


def award_for(worked, expected=120, rounding=Rounding.HALF_UP, urgency=Urgency.NORMAL, cap=100, already=0):
    task = SimpleNamespace(expected_minutes=expected, urgency=urgency, service_type_code="housekeeping")
    claim = SimpleNamespace(check_in_at=BASE, check_out_at=BASE + timedelta(minutes=worked))
    rate = PointRate(id=1, points_per_visit=10, points_per_hour=5)
    policy = PointPolicy(id=1, urgent_bonus=5, critical_bonus=10, daily_cap=cap, rounding=rounding)
    return points.compute_award(task, claim, rate, policy, already)


@pytest.mark.parametrize(
    ("worked", "rounding", "hour_points"),
    [
        (66, Rounding.HALF_UP, 6),  # 5.5 → 6
        (66, Rounding.DOWN, 5),
        (66, Rounding.UP, 6),
        (61, Rounding.HALF_UP, 5),  # 5.08 → 5
        (61, Rounding.DOWN, 5),
        (61, Rounding.UP, 6),
        (60, Rounding.UP, 5),  # exact: nothing to round
    ],
)
def test_base_plus_hours_rounded(worked, rounding, hour_points):
    award = award_for(worked, rounding=rounding)
    assert award.details["hour_points"] == hour_points
    assert award.points == 10 + hour_points
    assert award.details["minutes_paid"] == worked and award.details["rounding"] == rounding.value


@pytest.mark.parametrize(
    ("urgency", "bonus"), [(Urgency.NORMAL, 0), (Urgency.URGENT, 5), (Urgency.CRITICAL, 10)]
)
def test_urgency_bonus(urgency, bonus):
    award = award_for(60, urgency=urgency)
    assert award.details["urgency_bonus"] == bonus and award.points == 15 + bonus


def test_paid_time_is_capped_at_one_and_a_half_times_the_expected():
    award = award_for(150, expected=60)
    assert award.details["minutes_checked_in"] == 150 and award.details["minutes_paid"] == 90
    assert award.details["hour_points"] == 8  # 7.5 rounded half up
    assert award.points == 18


def test_daily_cap_and_never_below_zero():
    assert award_for(60, already=95).points == 5
    assert award_for(60, already=100).points == 0
    assert award_for(60, already=130).points == 0  # more than the cap already: nothing, not negative
    assert award_for(-30).points == 10  # a clock that ran backwards pays no negative hours


# --- paying real visits ---------------------------------------------------------------------


def test_a_confirmed_visit_is_paid_at_once_by_the_rate_in_force(db):
    who = volunteer()
    before = balance(who)
    claim_id = drive_visit(who, BASE, 60)
    award = points.award_of(claim_id)
    assert award is not None and award.kind is TxKind.AWARD and award.earner_id == who.id
    assert balance(who) == before + 15 == before + award_points(claim_id)
    rate = points.rate_in_force("housekeeping", clock.local_date(BASE))
    assert award.details["rate_id"] == rate.id
    assert (award.details["points_per_visit"], award.details["points_per_hour"]) == HOUSEKEEPING
    entries = points._entries(award.id)
    assert sum(e.amount for e in entries) == 0 and len(entries) == 2


def test_award_visit_is_idempotent(db):
    who = volunteer()
    claim_id = drive_visit(who, BASE, 60)
    first = points.award_of(claim_id)
    before, rows = balance(who), count_rows(LedgerTransaction)
    again = points.award_visit(claim_id)
    db.session.commit()
    assert again.id == first.id
    assert balance(who) == before and count_rows(LedgerTransaction) == rows


def test_an_unconfirmed_visit_is_not_paid(db):
    claim_id = drive_visit(volunteer(), BASE, 60, confirm=False)
    assert points.award_of(claim_id) is None
    with pytest.raises(Conflict) as error:
        points.award_visit(claim_id)
    assert error.value.code == "not_confirmed"


def test_daily_cap_across_two_visits_of_the_same_local_day(db):
    admin = user_by_phone(DEMO.admin)
    clock.freeze(BASE - timedelta(days=3))
    points.add_policy(admin, clock.local_date(BASE), 5, 10, 20, Rounding.HALF_UP)
    who = volunteer()
    first = drive_visit(who, BASE, 60)  # 15
    second = drive_visit(who, BASE + timedelta(hours=3), 60)  # 15, but only 5 fit under the cap of 20
    next_day = drive_visit(who, BASE + timedelta(days=1), 60)
    assert award_points(first) == 15
    assert award_points(second) == 5
    details = points.award_of(second).details
    assert (details["before_cap"], details["already_today"], details["daily_cap"]) == (15, 15, 20)
    assert award_points(next_day) == 15  # a new local day starts from zero


def test_a_later_rate_pays_later_visits_only(db):
    admin = user_by_phone(DEMO.admin)
    who = volunteer()
    early = drive_visit(who, BASE, 60)
    clock.freeze(BASE)
    new_rate = points.add_rate(admin, "housekeeping", clock.local_date(BASE) + timedelta(days=2), 20, 10)
    db.session.commit()
    late = drive_visit(who, BASE + timedelta(days=3), 60)
    assert award_points(early) == 15 and award_points(late) == 30
    assert points.award_of(late).details["rate_id"] == new_rate.id
    assert points.award_of(early).details["rate_id"] != new_rate.id


# --- reversal -------------------------------------------------------------------------------


@pytest.fixture
def paid(db):
    """A paid visit of volunteer 1 in community 1: (claim id, the community worker)."""
    claim_id = drive_visit(volunteer(), BASE, 60)
    return claim_id, user_by_phone(DEMO.community_worker)


def test_reversal_takes_the_points_back_tells_and_records(db, paid):
    claim_id, worker = paid
    who = volunteer()
    before = balance(who)
    reversal = points.reverse_visit(worker, claim_id, "  虚假签到，核实无此服务  ", DEMO.password)
    assert reversal.kind is TxKind.REVERSAL and reversal.reverses_id == points.award_of(claim_id).id
    assert reversal.reason == "虚假签到，核实无此服务" and reversal.actor_id == worker.id
    assert balance(who) == before - 15
    assert reversal.details == {"awarded": 15, "taken_back": 15, "shortfall": 0}
    assert db.session.scalar(
        sa.select(Notification.id).where(
            Notification.user_id == who.id, Notification.kind == NotificationKind.POINTS_REVERSED
        )
    )
    assert db.session.scalar(
        sa.select(AuditEntry.id).where(
            AuditEntry.action == "reverse_points", AuditEntry.object_id == claim_id
        )
    )


@pytest.mark.parametrize("phone", [DEMO.volunteer, DEMO.grid_worker, DEMO.resident, DEMO.partner])
def test_only_community_workers_and_street_officers_reverse(db, paid, phone):
    claim_id, _worker = paid
    rows = count_rows(LedgerTransaction)
    with pytest.raises(Forbidden):
        points.reverse_visit(user_by_phone(phone), claim_id, "虚假签到记录", DEMO.password)
    assert count_rows(LedgerTransaction) == rows


def test_a_street_officer_of_the_street_may_reverse(db, paid):
    claim_id, _worker = paid
    points.reverse_visit(user_by_phone(DEMO.street_officer), claim_id, "虚假签到记录", DEMO.password)
    assert points.reversal_of(points.award_of(claim_id).id) is not None


@pytest.mark.parametrize("huge", [2**31, 10**20])
def test_ids_that_cannot_exist_are_not_found_before_the_database(db, huge):
    """A claim or account id from a URL past 2**31 - 1 once reached the database:
    PostgreSQL's integer (and past 2**63 SQLite's) overflowed, a 500."""
    worker = user_by_phone(DEMO.community_worker)
    with pytest.raises(NotFound):
        points.reverse_visit(worker, huge, "虚假签到记录", DEMO.password)
    with pytest.raises(NotFound):
        ledger_views.visit_award(worker, huge)
    with pytest.raises(NotFound):
        ledger_views.account_view(worker, AccountKind.VOLUNTEER, huge)


def test_the_books_own_accounts_keep_owner_zero(db):
    admin = user_by_phone(DEMO.admin)
    assert ledger_views.account_view(admin, AccountKind.ISSUE, 0).account.owner_id == 0


def test_another_communitys_worker_gets_not_found(db, paid):
    claim_id, _worker = paid
    with pytest.raises(NotFound):
        points.reverse_visit(user_by_phone(DEMO.community_worker_2), claim_id, "虚假签到记录", DEMO.password)
    assert points.reversal_of(points.award_of(claim_id).id) is None


@pytest.mark.parametrize(
    ("reason", "password", "error_type", "code"),
    [
        ("短", DEMO.password, InvalidInput, "invalid_reason"),
        ("   ", DEMO.password, InvalidInput, "invalid_reason"),
        ("理" * 301, DEMO.password, InvalidInput, "invalid_reason"),
        (None, DEMO.password, InvalidInput, "invalid_reason"),
        ("虚假签到记录", "wrong-password", Forbidden, "reauth_required"),
        ("虚假签到记录", "", Forbidden, "reauth_required"),
    ],
)
def test_refused_reversals_change_nothing(db, paid, reason, password, error_type, code):
    claim_id, worker = paid
    before, rows = balance(volunteer()), count_rows(LedgerTransaction)
    with pytest.raises(error_type) as error:
        points.reverse_visit(worker, claim_id, reason, password)
    assert error.value.code == code
    assert balance(volunteer()) == before and count_rows(LedgerTransaction) == rows


def test_twice_is_refused(db, paid):
    claim_id, worker = paid
    points.reverse_visit(worker, claim_id, "虚假签到记录", DEMO.password)
    after, rows = balance(volunteer()), count_rows(LedgerTransaction)
    with pytest.raises(Conflict) as error:
        points.reverse_visit(worker, claim_id, "再次撤销试试", DEMO.password)
    assert error.value.code == "already_reversed"
    assert balance(volunteer()) == after and count_rows(LedgerTransaction) == rows


def test_an_unpaid_visit_cannot_be_reversed(db):
    claim_id = drive_visit(volunteer(), BASE, 60, confirm=False)
    with pytest.raises(NotFound) as error:
        points.reverse_visit(user_by_phone(DEMO.community_worker), claim_id, "虚假签到记录", DEMO.password)
    assert error.value.code == "not_paid"


def test_reversal_takes_back_at_most_the_balance_and_records_the_shortfall(db, paid):
    claim_id, worker = paid
    who = volunteer()
    held = balance(who)
    pool = ledger.account(AccountKind.POOL, worker.community_id)
    # The volunteer gives all but 5 points away before the visit is found false.
    ledger.post(
        TxKind.DONATION,
        f"test:donation:{claim_id}",
        "donation",
        [(ledger.account(AccountKind.VOLUNTEER, who.id), -(held - 5)), (pool, held - 5)],
        actor=who,
    )
    db.session.commit()
    reversal = points.reverse_visit(worker, claim_id, "虚假签到记录", DEMO.password)
    assert reversal.details == {"awarded": 15, "taken_back": 5, "shortfall": 10}
    assert balance(who) == 0
    assert ledger.check_books().ok


# --- entries are never changed ----------------------------------------------------------------


@pytest.mark.parametrize("model", [LedgerEntry, LedgerTransaction])
def test_ledger_rows_refuse_update_and_delete(db, paid, model):
    claim_id, _worker = paid
    award = points.award_of(claim_id)
    row_id = award.id if model is LedgerTransaction else points._entries(award.id)[0].id
    column = model.amount if model is LedgerEntry else model.reason
    for statement in (
        sa.update(model).where(model.id == row_id).values({column: 999 if model is LedgerEntry else "x"}),
        sa.delete(model).where(model.id == row_id),
    ):
        with pytest.raises(sa.exc.DBAPIError), db.session.begin_nested():
            db.session.execute(statement)
    db.session.expire_all()
    assert db.session.get(model, row_id) is not None
    assert award_points(claim_id) == 15 and db.session.get(Claim, claim_id) is not None

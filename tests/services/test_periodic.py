"""The task jobs of the scheduler, each driven with a set clock: escalation,
reminders, expiry, no-shows (with the waiting list and reliability), dead
confirmation links and expired vouchers. After every effect the same job is
run again for the same moment and must change nothing more."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app import clock
from app.models import (
    Claim,
    ClaimStatus,
    Notification,
    NotificationKind,
    Role,
    Task,
    TaskEvent,
    TaskStatus,
    VoucherStatus,
    WaitlistEntry,
)
from app.services import matching, periodic, tasks, visits, vouchers
from app.services.errors import Gone
from app.services.notifications import notification_text
from tests.conftest import DEMO, count_rows
from tests.factories import make_household, make_tree, make_user, user_by_phone
from tests.services.test_bank import balance, books_ok, fund, reward, shop
from tests.services.test_visits import path_tail

T0 = datetime(2031, 3, 3, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing


@pytest.fixture(autouse=True)
def request_context(app):
    """Confirmation links are absolute URLs: building them needs a request."""
    with app.test_request_context():
        yield


@pytest.fixture
def at():
    """Freeze the clock at a moment (aware); always unfrozen afterwards."""
    yield clock.freeze
    clock.freeze(None)


TASK_JOBS = (
    periodic.escalate_unclaimed_tasks,
    periodic.remind_claimants,
    periodic.expire_unclaimed_tasks,
    periodic.release_no_shows,
    periodic.expire_confirmation_links,
)


def begin(at):
    """Set the clock to T0 and let every task job deal with the demo data's past
    first, so that the summaries afterwards count this test's rows only."""
    at(T0)
    for job in TASK_JOBS:
        job(T0)


def grid_worker(n=1):
    return user_by_phone(DEMO.grid_worker if n == 1 else DEMO.grid_worker_2)


def community_worker():
    return user_by_phone(DEMO.community_worker)


def new_volunteer():
    """A volunteer of the demo grid 1 with no history, skills or free times."""
    return make_user(Role.VOLUNTEER, grid_id=grid_worker().grid_id)


def make_task(starts, slots=1, hours=3, worker=None, household=None) -> Task:
    worker = worker or grid_worker()
    household = household or make_household(worker, building="定时楼")
    return tasks.create_task(
        worker,
        tasks.TaskData(
            household_id=household.id,
            service_type_code="housekeeping",
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            description="打扫厨房",
            slots=slots,
        ),
    )


def fresh(db, obj):
    db.session.refresh(obj)
    return obj


def claim_of(db, task, volunteer) -> Claim:
    return db.session.scalar(
        sa.select(Claim)
        .where(Claim.task_id == task.id, Claim.volunteer_id == volunteer.id)
        .execution_options(populate_existing=True)
    )


def notes(db, user, kind, task=None) -> list[Notification]:
    stmt = sa.select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
    if task is not None:
        stmt = stmt.where(Notification.task_id == task.id)
    return list(db.session.scalars(stmt.order_by(Notification.id)))


def english(notification) -> str:
    with force_locale("en"):
        return notification_text(notification)


def snapshot(db) -> dict:
    """Everything a job may change, to check that a second run changes nothing."""
    db.session.expire_all()
    return {
        "notifications": count_rows(Notification),
        "events": count_rows(TaskEvent),
        "waiting": count_rows(WaitlistEntry),
        "tasks": db.session.execute(
            sa.select(Task.id, Task.status, Task.taken, Task.escalation_level).order_by(Task.id)
        ).all(),
        "claims": db.session.execute(
            sa.select(Claim.id, Claim.status, Claim.reminded_at, Claim.confirm_nonce).order_by(Claim.id)
        ).all(),
    }


def run_twice(db, job, now):
    """Run a job, then again for the same moment: the second run changes nothing."""
    summary = job(now)
    assert isinstance(summary, str) and "\n" not in summary
    after = snapshot(db)
    job(now)
    assert snapshot(db) == after
    return summary


# --- 1. escalation ------------------------------------------------------------------------


def test_an_unclaimed_task_goes_to_the_grid_worker_then_the_community_worker_once_each(db, at):
    begin(at)
    task = make_task(T0 + timedelta(hours=30), slots=2)
    tasks.claim_task(user_by_phone(DEMO.volunteer), task.id)  # one of two places taken: still open
    full = make_task(T0 + timedelta(hours=30))
    tasks.claim_task(user_by_phone(DEMO.volunteer_2), full.id)
    starts = task.starts_at

    assert periodic.escalate_unclaimed_tasks(T0).startswith("0 tasks escalated")
    assert fresh(db, task).escalation_level == 0

    at(starts - timedelta(hours=24))
    summary = run_twice(db, periodic.escalate_unclaimed_tasks, clock.now())
    assert summary.startswith("1 tasks escalated (1 to grid workers, 0 to community workers)")
    assert fresh(db, task).escalation_level == 1 and fresh(db, full).escalation_level == 0
    [told] = notes(db, grid_worker(), NotificationKind.TASK_ESCALATED, task)
    assert told.params == {"level": 1, "free": 1}
    assert "still has 1 free place. Find a volunteer" in english(told)
    assert notes(db, community_worker(), NotificationKind.TASK_ESCALATED, task) == []
    assert notes(db, grid_worker(2), NotificationKind.TASK_ESCALATED, task) == []
    assert notes(db, grid_worker(), NotificationKind.TASK_ESCALATED, full) == []  # no free place

    at(starts - timedelta(hours=7))  # later, still outside 6 hours: nothing new
    before = snapshot(db)
    periodic.escalate_unclaimed_tasks(clock.now())
    assert snapshot(db) == before

    at(starts - timedelta(hours=6))
    summary = run_twice(db, periodic.escalate_unclaimed_tasks, clock.now())
    assert summary.startswith("1 tasks escalated (0 to grid workers, 1 to community workers)")
    assert fresh(db, task).escalation_level == 2
    [urgent] = notes(db, community_worker(), NotificationKind.TASK_ESCALATED, task)
    assert urgent.params == {"level": 2, "free": 1}
    assert english(urgent).startswith("Urgent:")
    assert len(notes(db, grid_worker(), NotificationKind.TASK_ESCALATED, task)) == 1  # not told twice

    at(starts + timedelta(minutes=1))  # started: never escalated again
    before = snapshot(db)
    periodic.escalate_unclaimed_tasks(clock.now())
    assert snapshot(db) == before


def test_a_late_task_jumps_both_levels_and_without_a_grid_worker_its_poster_is_told(db, at):
    begin(at)
    tree = make_tree("升级")
    poster = make_user(Role.COMMUNITY_WORKER, community_id=tree["community"].id)
    household = make_household(poster, tree["grids"][0].id, building="升级楼")
    task = make_task(T0 + timedelta(hours=3), slots=3, worker=poster, household=household)

    summary = run_twice(db, periodic.escalate_unclaimed_tasks, T0)
    assert "1 to grid workers, 1 to community workers" in summary
    assert fresh(db, task).escalation_level == 2
    told = notes(db, poster, NotificationKind.TASK_ESCALATED, task)
    # Told once as the poster (the grid has no grid worker), once as its community worker.
    assert [n.params for n in told] == [{"level": 1, "free": 3}, {"level": 2, "free": 3}]
    assert notes(db, grid_worker(), NotificationKind.TASK_ESCALATED, task) == []
    assert notes(db, community_worker(), NotificationKind.TASK_ESCALATED, task) == []


# --- 2. reminders --------------------------------------------------------------------------


def test_claimants_are_reminded_once_two_hours_before(db, at):
    begin(at)
    volunteer = new_volunteer()
    soon = make_task(T0 + timedelta(hours=5))
    later = make_task(T0 + timedelta(hours=9))
    cancelled = make_task(T0 + timedelta(hours=5), household=make_household(grid_worker(), building="取消楼"))
    tasks.claim_task(volunteer, soon.id)
    tasks.claim_task(volunteer, later.id)
    tasks.claim_task(user_by_phone(DEMO.volunteer_2), cancelled.id)
    tasks.cancel_task(grid_worker(), cancelled.id, "住户外出")

    assert periodic.remind_claimants(T0) == "0 claimants reminded"

    at(soon.starts_at - timedelta(hours=2))
    assert run_twice(db, periodic.remind_claimants, clock.now()) == "1 claimants reminded"
    [reminder] = notes(db, volunteer, NotificationKind.REMINDER)
    assert reminder.task_id == soon.id
    assert claim_of(db, soon, volunteer).reminded_at == clock.now()
    assert claim_of(db, later, volunteer).reminded_at is None
    assert notes(db, user_by_phone(DEMO.volunteer_2), NotificationKind.REMINDER, cancelled) == []

    at(soon.starts_at - timedelta(minutes=30))  # closer still: no second reminder
    before = snapshot(db)
    periodic.remind_claimants(clock.now())
    assert snapshot(db) == before


# --- 3. expiry -----------------------------------------------------------------------------


def test_only_unclaimed_tasks_whose_window_has_passed_expire(db, at):
    begin(at)
    unclaimed = make_task(T0 + timedelta(hours=1), hours=2)
    claimed = make_task(T0 + timedelta(hours=1), hours=2)
    tasks.claim_task(new_volunteer(), claimed.id)
    cancelled = make_task(T0 + timedelta(hours=1), hours=2)
    tasks.cancel_task(grid_worker(), cancelled.id, "住户住院")
    ends = unclaimed.ends_at

    periodic.expire_unclaimed_tasks(ends - timedelta(seconds=1))
    assert fresh(db, unclaimed).status is TaskStatus.OPEN

    at(ends)
    summary = run_twice(db, periodic.expire_unclaimed_tasks, ends)
    assert summary.endswith("tasks expired") and not summary.startswith("0 ")
    assert fresh(db, unclaimed).status is TaskStatus.EXPIRED
    assert fresh(db, claimed).status is TaskStatus.CLAIMED  # someone holds a place
    assert fresh(db, cancelled).status is TaskStatus.CANCELLED
    event = db.session.scalar(
        sa.select(TaskEvent).where(TaskEvent.task_id == unclaimed.id).order_by(TaskEvent.id.desc()).limit(1)
    )
    assert (event.from_status, event.to_status, event.actor_id) == (TaskStatus.OPEN, TaskStatus.EXPIRED, None)
    assert event.note


# --- 4. no-shows ---------------------------------------------------------------------------


def test_a_no_show_is_released_told_why_and_the_waiting_volunteer_gets_the_place(db, at):
    begin(at)
    task = make_task(T0 + timedelta(hours=2), hours=3)
    absent, waiting = new_volunteer(), new_volunteer()
    tasks.claim_task(absent, task.id)
    tasks.join_waitlist(waiting, task.id)
    card = visits.issue_door_card(grid_worker(), task.household_id)
    start = task.starts_at

    at(start + timedelta(minutes=29))
    assert periodic.release_no_shows(clock.now()).startswith("0 places released")
    assert claim_of(db, task, absent).status is ClaimStatus.ACTIVE

    at(start + timedelta(minutes=30))
    summary = run_twice(db, periodic.release_no_shows, clock.now())
    assert summary.startswith("1 places released, 1 given to the waiting list")
    gone = claim_of(db, task, absent)
    assert gone.status is ClaimStatus.NO_SHOW and gone.released_at == clock.now() and gone.release_reason
    given = claim_of(db, task, waiting)
    assert given.status is ClaimStatus.ACTIVE and given.claimed_at == clock.now()
    assert (fresh(db, task).status, task.taken) == (TaskStatus.CLAIMED, 1)
    assert not db.session.scalar(sa.select(WaitlistEntry.id).where(WaitlistEntry.task_id == task.id))
    moves = db.session.execute(
        sa.select(TaskEvent.from_status, TaskEvent.to_status, TaskEvent.actor_id)
        .where(TaskEvent.task_id == task.id, TaskEvent.at == clock.now())
        .order_by(TaskEvent.id)
    ).all()
    assert moves == [(TaskStatus.CLAIMED, TaskStatus.OPEN, None), (TaskStatus.OPEN, TaskStatus.CLAIMED, None)]

    [why] = notes(db, absent, NotificationKind.CLAIM_RELEASED, task)
    assert why.params == {"minutes": 30}
    assert "because nobody checked in within 30 minutes of its start" in english(why)
    [offer] = notes(db, waiting, NotificationKind.SLOT_OFFERED, task)
    assert offer.params == {"started": True, "minutes": 30}
    assert "which has already begun" in english(offer)

    # The place is real: the waiting volunteer checks in, and is then never released.
    at(start + timedelta(minutes=45))
    visits.check_in(waiting, task.id, visits.door_token(card))
    at(start + timedelta(hours=2))
    assert periodic.release_no_shows(clock.now()).startswith("0 places released")
    assert claim_of(db, task, waiting).status is ClaimStatus.CHECKED_IN


def test_a_place_handed_over_late_and_unused_is_released_without_blame_then_the_task_expires(db, at):
    begin(at)
    task = make_task(T0 + timedelta(hours=2), hours=3)
    absent, waiting = new_volunteer(), new_volunteer()
    tasks.claim_task(absent, task.id)
    tasks.join_waitlist(waiting, task.id)
    start = task.starts_at
    at(start + timedelta(minutes=30))
    periodic.release_no_shows(clock.now())

    at(start + timedelta(minutes=59))  # the late place has its own 30 minutes
    assert periodic.release_no_shows(clock.now()).startswith("0 places released")
    at(start + timedelta(minutes=60))
    summary = run_twice(db, periodic.release_no_shows, clock.now())
    assert summary.startswith("1 places released, 0 given")
    assert claim_of(db, task, waiting).status is ClaimStatus.RELEASED  # not a no-show
    [why] = notes(db, waiting, NotificationKind.CLAIM_RELEASED, task)
    assert why.params == {}
    assert (fresh(db, task).status, task.taken) == (TaskStatus.OPEN, 0)

    periodic.expire_unclaimed_tasks(task.ends_at - timedelta(seconds=1))
    assert fresh(db, task).status is TaskStatus.OPEN  # its window is not over yet
    at(task.ends_at)
    run_twice(db, periodic.expire_unclaimed_tasks, clock.now())
    assert fresh(db, task).status is TaskStatus.EXPIRED


def test_releasing_the_last_expected_volunteer_moves_a_visit_under_way_on(db, at):
    begin(at)
    task = make_task(T0 + timedelta(hours=2), slots=2, hours=3)
    came, absent = new_volunteer(), new_volunteer()
    tasks.claim_task(came, task.id)
    tasks.claim_task(absent, task.id)
    token = visits.door_token(visits.issue_door_card(grid_worker(), task.household_id))
    at(task.starts_at + timedelta(minutes=5))
    visits.check_in(came, task.id, token)
    at(task.starts_at + timedelta(minutes=20))
    visits.check_out(came, task.id, token)
    assert fresh(db, task).status is TaskStatus.IN_PROGRESS  # still waiting for the second volunteer

    at(task.starts_at + timedelta(minutes=30))
    run_twice(db, periodic.release_no_shows, clock.now())
    assert claim_of(db, task, absent).status is ClaimStatus.NO_SHOW
    assert (fresh(db, task).status, task.taken) == (TaskStatus.AWAITING_CONFIRMATION, 1)


def test_a_no_show_counts_against_reliability_in_matching(db, at):
    begin(at)
    task = make_task(T0 + timedelta(hours=2))
    absent, twin = new_volunteer(), new_volunteer()
    tasks.claim_task(absent, task.id)
    at(task.starts_at + timedelta(minutes=30))
    periodic.release_no_shows(clock.now())
    assert claim_of(db, task, absent).status is ClaimStatus.NO_SHOW

    other = make_task(clock.now() + timedelta(days=2))
    found = {s.volunteer_id: s for s in matching.suggest_volunteers(grid_worker(), other.id, limit=500)}
    points = matching.RELIABILITY_POINTS
    assert found[twin.id].score - found[absent.id].score == round(points / 2) - round(points / 3)
    with force_locale("en"):
        assert "0 visits confirmed, 1 missed" in [str(r) for r in found[absent.id].reasons]
        assert "No visits yet" in [str(r) for r in found[twin.id].reasons]


# --- 5. confirmation links and vouchers --------------------------------------------------------


def test_an_expired_confirmation_link_dies_in_the_database_and_a_new_one_works(db, at):
    begin(at)
    task = make_task(T0 + timedelta(hours=1))
    volunteer = new_volunteer()
    tasks.claim_task(volunteer, task.id)
    token = visits.door_token(visits.issue_door_card(grid_worker(), task.household_id))
    at(task.starts_at + timedelta(minutes=5))
    visits.check_in(volunteer, task.id, token)
    visits.check_out(volunteer, task.id, token)
    url, expires = visits.confirmation_link(volunteer, task.id)
    at(expires - timedelta(minutes=5))
    assert periodic.expire_confirmation_links(clock.now()).startswith("0 confirmation links expired")
    # A page reload re-signs the same link: its signature is young, only the nonce can kill it.
    resigned, _ = visits.current_confirmation_link(volunteer, task.id)
    assert claim_of(db, task, volunteer).confirm_nonce

    at(expires)
    summary = run_twice(db, periodic.expire_confirmation_links, clock.now())
    assert summary.startswith("1 confirmation links expired")
    claim = claim_of(db, task, volunteer)
    assert claim.confirm_nonce is None and claim.status is ClaimStatus.CHECKED_OUT
    assert fresh(db, task).status is TaskStatus.AWAITING_CONFIRMATION
    for old in (url, resigned):
        with pytest.raises(Gone):
            visits.confirm_visit(path_tail(old, "/c/"), 5, "")

    new_url, _ = visits.confirmation_link(volunteer, task.id)
    confirmed = visits.confirm_visit(path_tail(new_url, "/c/"), 5, "很好")
    assert confirmed.status is ClaimStatus.CONFIRMED
    assert fresh(db, task).status is TaskStatus.VERIFIED


def test_expired_vouchers_return_points_and_stock_once(db, at):
    begin(at)
    made = reward(shop(), price=60, on_hand=2, name="理发券")
    holder = new_volunteer()
    fund((holder, 500))
    voucher = vouchers.redeem(holder, made.id)
    assert (balance(holder), fresh(db, made).stock) == (440, 1)

    at(voucher.expires_at - timedelta(seconds=1))
    periodic.expire_confirmation_links(clock.now())
    assert fresh(db, voucher).status is VoucherStatus.ISSUED

    at(voucher.expires_at)
    summary = periodic.expire_confirmation_links(clock.now())
    assert summary.endswith("vouchers expired") and not summary.endswith(" 0 vouchers expired")
    assert fresh(db, voucher).status is VoucherStatus.EXPIRED
    assert (balance(holder), fresh(db, made).stock) == (500, 2)
    [closed] = notes(db, holder, NotificationKind.VOUCHER_CLOSED)
    assert closed.params == {"reward": "理发券", "points": 60, "why": "expired"}
    books_ok()

    before = (snapshot(db), balance(holder), fresh(db, made).stock)
    assert (
        periodic.expire_confirmation_links(clock.now()) == "0 confirmation links expired, 0 vouchers expired"
    )
    assert (snapshot(db), balance(holder), fresh(db, made).stock) == before

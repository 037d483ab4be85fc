"""Donating points without HTTP: to the community pool or a household the
volunteer served (masked, never its address), once per form, and every bad
amount refused with the ledger unchanged."""

import pytest
import sqlalchemy as sa

from app import clock
from app.models import AccountKind, Household, LedgerEntry, TxKind
from app.services import donations, ledger, proxy_confirmations
from app.services.errors import Conflict, Forbidden, InvalidInput
from tests.services.test_bank import balance, books_ok, fund, snapshot, volunteer, worker
from tests.services.test_visits import checked_out, claim_of, grid_worker


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


@pytest.fixture
def at():
    yield clock.freeze
    clock.freeze(None)


@pytest.fixture
def served(db, at):
    """A household volunteer 1 visited, the visit confirmed by a follow-up call."""
    task, _card = checked_out(db, at)
    claim = claim_of(db, task)
    proxy_confirmations.confirm_by_follow_up_call(grid_worker(), claim.id, "电话回访，服务很好", 5)
    clock.freeze(None)
    return db.session.get(Household, task.household_id), claim_of(db, task)


def test_targets_are_the_pool_and_the_served_households_masked(db, served):
    household, claim = served
    targets = donations.donation_targets(volunteer())
    pool, visited = targets[0], targets[1:]
    assert (pool.value, pool.kind, pool.community_id) == ("pool", "pool", worker().community_id)
    assert [(t.value, t.name, t.served_on) for t in visited] == [
        (f"household:{household.id}", "测**主", clock.local_date(claim.confirmed_at))
    ]
    assert household.address not in repr(targets) and household.contact_phone not in repr(targets)
    # Volunteer 2 served nobody: only the pool.
    assert [t.kind for t in donations.donation_targets(volunteer(2))] == ["pool"]


def test_a_claimed_but_unconfirmed_visit_offers_no_household(db, at):
    checked_out(db, at)
    assert [t.kind for t in donations.donation_targets(volunteer())] == ["pool"]


def test_a_donation_to_the_pool_pays_once_per_form(db):
    fund((volunteer(), 100))
    key = donations.new_request_key()
    first = donations.donate(volunteer(), "pool", 30, key)
    again = donations.donate(volunteer(), "pool", 30, key)  # the same form sent twice
    assert again.id == first.id
    assert balance(volunteer()) == 70
    assert ledger.balance_of(AccountKind.POOL, worker().community_id) == 30
    assert first.kind is TxKind.DONATION and first.key == f"donation:{volunteer().id}:{key}"
    assert first.actor_id == volunteer().id and first.community_id == worker().community_id
    donations.donate(volunteer(), "pool", 40, donations.new_request_key())  # a new form pays again
    assert balance(volunteer()) == 30
    assert ledger.balance_of(AccountKind.POOL, worker().community_id) == 70
    books_ok()


def test_a_donation_to_a_served_household(db, served):
    household, _claim = served
    earned = balance(volunteer())
    assert earned > 0  # the confirmed visit paid points
    tx = donations.donate(volunteer(), f"household:{household.id}", earned, donations.new_request_key())
    assert balance(volunteer()) == 0
    assert ledger.balance_of(AccountKind.HOUSEHOLD, household.id) == earned
    assert "测**主" in tx.reason and household.address not in tx.reason
    amounts = db.session.scalars(
        sa.select(LedgerEntry.amount).where(LedgerEntry.transaction_id == tx.id).order_by(LedgerEntry.amount)
    ).all()
    assert amounts == [-earned, earned]
    books_ok()


def refused(db, call, error, code, field=None):
    before = snapshot(db)
    with pytest.raises(error) as raised:
        call()
    assert raised.value.code == code and raised.value.field == field
    assert snapshot(db) == before
    books_ok()


@pytest.mark.parametrize("amount", [0, -5, 1.5, 2.0, True, 10**9, 100_001, "10", None])
def test_bad_amounts_are_refused(db, amount):
    fund((volunteer(), 100))
    key = donations.new_request_key()
    refused(
        db,
        lambda: donations.donate(volunteer(), "pool", amount, key),
        InvalidInput,
        "invalid_amount",
        "amount",
    )


def test_more_than_the_balance_is_refused(db):
    fund((volunteer(), 100))
    key = donations.new_request_key()
    refused(
        db, lambda: donations.donate(volunteer(), "pool", 101, key), Conflict, "insufficient_points", "amount"
    )
    # The key was not used up: the same form can be corrected and sent.
    donations.donate(volunteer(), "pool", 100, key)
    assert balance(volunteer()) == 0


def test_households_not_served_and_odd_targets_are_refused(db, served):
    household, _claim = served
    other = db.session.scalar(
        sa.select(Household.id).where(Household.id != household.id).order_by(Household.id).limit(1)
    )
    key = donations.new_request_key()
    for target in (f"household:{other}", "household:", "household:abc", "pool ", "POOL", "", None, 5):
        refused(
            db,
            lambda target=target: donations.donate(volunteer(), target, 1, key),
            InvalidInput,
            "invalid_target",
            "target",
        )


@pytest.mark.parametrize(
    "key", ["", "short", "x" * 65, "有中文的键有中文的键有中文的键有中文的键", None, 123]
)
def test_a_form_without_a_proper_key_is_refused(db, key):
    fund((volunteer(), 100))
    refused(db, lambda: donations.donate(volunteer(), "pool", 10, key), InvalidInput, "invalid_request")


def test_only_volunteers_donate(db):
    with pytest.raises(Forbidden):
        donations.donate(worker(), "pool", 1, donations.new_request_key())


def test_a_volunteer_with_no_visits_gives_to_the_pool(db):
    fund((volunteer(2), 5))
    donations.donate(volunteer(2), "pool", 5, donations.new_request_key())
    assert ledger.balance_of(AccountKind.POOL, worker().community_id) == 5

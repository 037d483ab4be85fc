"""The ledger under random use: a hypothesis state machine drives awards,
retried awards, reversals, redemptions, hand-overs, cancellations and
donations (with bad amounts and double submits) through the real services,
and after every step checks the books (ENGINEERING.md "A ledger that cannot
lie"): every transaction sums to zero, cached balances equal the sums, no
account but the issuing one is below zero, the sink holds exactly the open
vouchers, stock equals its movements, no visit is paid twice, the honour
board's tallies equal a recomputation from the ledger (volunteers also join
and leave a team between awards) — and each volunteer's balance equals
what a plain model of the rules expects.

Each example runs in its own outer database transaction, opened and rolled
back by the state machine itself (a function-scoped fixture would span all
examples).
"""

import itertools
from datetime import timedelta

import hypothesis.strategies as st
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule
from sqlalchemy import orm

from app import clock
from app.extensions import db
from app.models import (
    AccountKind,
    Claim,
    ClaimStatus,
    ConfirmedVia,
    Household,
    LedgerEntry,
    PartnerKind,
    Role,
    Task,
    TaskStatus,
    Urgency,
    Voucher,
    VoucherStatus,
)
from app.services import bank, donations, honour_tally, ledger, points, stock, teams, vouchers
from app.services.accounts import create_user, find_by_phone
from app.services.errors import DomainError
from tests.conftest import DEMO

PRICE = 30
_phones = itertools.count(17600000000)


class LedgerMachine(RuleBasedStateMachine):
    visits = Bundle("visits")
    open_vouchers = Bundle("open_vouchers")

    def __init__(self):
        super().__init__()
        self.app = self.the_app
        self.context = self.app.app_context()
        self.context.push()
        self.connection = db.engine.connect()
        self.outer = self.connection.begin()
        self.real_session = db.session
        db.session = orm.scoped_session(
            orm.sessionmaker(bind=self.connection, join_transaction_mode="create_savepoint")
        )
        self.worker = find_by_phone(DEMO.community_worker)
        self.grid_worker = find_by_phone(DEMO.grid_worker)
        self.partner_user = find_by_phone(DEMO.partner)
        self.household_id = db.session.scalar(
            sa.select(Household.id)
            .where(Household.grid_id == self.grid_worker.grid_id)
            .order_by(Household.id)
        )
        self.volunteers = [
            create_user(
                f"属性{i}",
                str(next(_phones)),
                "test-pass-8642",
                [Role.VOLUNTEER],
                grid_id=self.grid_worker.grid_id,
            )
            for i in range(3)
        ]
        db.session.commit()
        partner = bank.create_partner(
            self.worker, bank.PartnerData(f"属性商店{next(_phones)}", PartnerKind.MERCHANT)
        )
        bank.link_partner_user(self.worker, partner.id, DEMO.partner)
        reward = bank.create_reward(
            self.worker,
            partner.id,
            bank.RewardData("大米", PRICE, clock.today(), community_id=self.worker.community_id),
        )
        stock.receive_stock(self.worker, reward.id, 4)
        self.reward_id = reward.id
        self.team_id = teams.create_team(self.volunteers[0], f"属性队{next(_phones)}").id
        self.expected = {v.id: 0 for v in self.volunteers}  # the model: each volunteer's balance
        self.paid: dict[int, int] = {}  # claim id → points paid
        self.reversed: set[int] = set()
        self.hour = 0

    def teardown(self):
        db.session.remove()
        db.session = self.real_session
        self.outer.rollback()
        self.connection.close()
        self.context.pop()

    def _visit(self, volunteer, minutes: int, urgency: Urgency) -> Claim:
        """A confirmed visit, written as rows (the award is what is under test)."""
        self.hour += 1
        starts = clock.now() - timedelta(days=30) + timedelta(hours=self.hour)
        task = Task(
            household_id=self.household_id,
            grid_id=self.grid_worker.grid_id,
            service_type_code="visiting",
            description="属性测试",
            starts_at=starts,
            ends_at=starts + timedelta(hours=4),
            expected_minutes=60,
            slots=1,
            taken=1,
            urgency=urgency,
            status=TaskStatus.VERIFIED,
            created_by_id=self.grid_worker.id,
        )
        db.session.add(task)
        db.session.flush()
        claim = Claim(
            task_id=task.id,
            volunteer_id=volunteer.id,
            status=ClaimStatus.CONFIRMED,
            check_in_at=starts,
            check_out_at=starts + timedelta(minutes=minutes),
            confirmed_at=starts + timedelta(minutes=minutes + 1),
            confirmed_via=ConfirmedVia.QR,
            rating=5,
        )
        db.session.add(claim)
        db.session.commit()
        return claim

    @rule(
        target=visits,
        who=st.integers(0, 2),
        minutes=st.integers(0, 200),
        urgency=st.sampled_from(list(Urgency)),
    )
    def award(self, who, minutes, urgency):
        volunteer = self.volunteers[who]
        claim = self._visit(volunteer, minutes, urgency)
        award = points.award_visit(claim.id)
        db.session.commit()
        amount = sum(e.amount for e in self._entries(award.id) if e.amount > 0)
        self.paid[claim.id] = amount
        self.expected[volunteer.id] += amount
        return claim.id

    @rule(claim_id=visits)
    def retry_award(self, claim_id):
        first = points.award_of(claim_id)
        again = points.award_visit(claim_id)
        db.session.commit()
        assert again.id == first.id

    @rule(claim_id=visits)
    def reverse(self, claim_id):
        claim = db.session.get(Claim, claim_id)
        before = self._balance(claim.volunteer_id)
        try:
            tx = points.reverse_visit(self.worker, claim_id, "服务未真实发生", DEMO.password)
        except DomainError as error:
            assert error.code == "already_reversed" and claim_id in self.reversed
            return
        assert claim_id not in self.reversed
        self.reversed.add(claim_id)
        taken = tx.details["taken_back"]
        assert taken == min(self.paid[claim_id], before)
        self.expected[claim.volunteer_id] -= taken

    @rule(target=open_vouchers, who=st.integers(0, 2))
    def redeem(self, who):
        volunteer = self.volunteers[who]
        on_hand = bank.get_reward(self.worker, self.reward_id).stock
        try:
            voucher = vouchers.redeem(volunteer, self.reward_id)
        except DomainError as error:
            if on_hand == 0:
                assert error.code == "out_of_stock"
            else:
                assert error.code == "insufficient_points" and self.expected[volunteer.id] < PRICE
            return None
        assert self.expected[volunteer.id] >= PRICE and on_hand >= 1
        self.expected[volunteer.id] -= PRICE
        return voucher.id

    @rule(voucher_id=consumes(open_vouchers))
    def cancel(self, voucher_id):
        if voucher_id is None:
            return
        voucher = db.session.get(Voucher, voucher_id)
        vouchers.cancel_voucher(db.session.get(type(self.volunteers[0]), voucher.holder_id), voucher_id)
        self.expected[voucher.holder_id] += PRICE

    @rule(voucher_id=consumes(open_vouchers))
    def hand_over(self, voucher_id):
        if voucher_id is None:
            return
        voucher = db.session.get(Voucher, voucher_id)
        token = vouchers.voucher_token(voucher)
        vouchers.hand_over(self.partner_user, token)
        with pytest.raises(DomainError):  # a second scan changes nothing
            vouchers.hand_over(self.partner_user, token)
        assert db.session.get(Voucher, voucher_id).status is VoucherStatus.USED

    @rule(
        who=st.integers(0, 2),
        amount=st.one_of(st.integers(-5, 60), st.sampled_from([0.5, True, "7", None])),
        double=st.booleans(),
    )
    def donate(self, who, amount, double):
        volunteer = self.volunteers[who]
        key = donations.new_request_key()
        tries = 2 if double else 1
        for attempt in range(tries):
            try:
                donations.donate(volunteer, donations.POOL, amount, key)
            except DomainError as error:
                valid = isinstance(amount, int) and not isinstance(amount, bool) and amount >= 1
                assert error.code == ("insufficient_points" if valid else "invalid_amount")
                assert not valid or self.expected[volunteer.id] < amount
                return
            if attempt == 0:
                self.expected[volunteer.id] -= amount

    @rule(who=st.integers(0, 2))
    def join_team(self, who):
        try:
            teams.join_team(self.volunteers[who], self.team_id)
        except DomainError as error:
            assert error.code == "already_in_team"

    @rule(who=st.integers(0, 2))
    def leave_team(self, who):
        try:
            teams.leave_team(self.volunteers[who])
        except DomainError as error:
            assert error.code == "not_in_team"

    @invariant()
    def tallies_match_the_ledger(self):
        assert honour_tally.check_tallies() == []

    @invariant()
    def books_balance(self):
        report = ledger.check_books()
        assert report.ok, report.problems

    @invariant()
    def balances_match_the_model(self):
        for volunteer_id, balance in self.expected.items():
            assert self._balance(volunteer_id) == balance >= 0

    def _balance(self, user_id: int) -> int:
        db.session.expire_all()
        return ledger.balance_of(AccountKind.VOLUNTEER, user_id)

    def _entries(self, transaction_id: int) -> list[LedgerEntry]:
        return list(
            db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.transaction_id == transaction_id))
        )


def test_the_ledger_keeps_its_invariants_under_random_use(_app):
    LedgerMachine.the_app = _app
    machine = LedgerMachine.TestCase
    machine.settings = settings(
        max_examples=20,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    with _app.test_request_context():
        machine().runTest()

"""Redeeming under contention, with real commits and one connection per thread.

Many volunteers redeem the last three items of a reward at the same moment:
exactly three vouchers, stock 0 and never below, the books balanced. The
threads must see each other's commits, so this runs outside the rolled-back
test transaction and deletes what it made afterwards — ledger rows too, which
the database refuses to delete unless its triggers are switched off for the
cleanup transaction. PostgreSQL only: on SQLite BEGIN IMMEDIATE serialises
every writer, so there is no race to test.
"""

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    AccountKind,
    AuditEntry,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Partner,
    PartnerKind,
    PartnerUser,
    Reward,
    Role,
    StockMovement,
    TxKind,
    User,
    Voucher,
    VoucherStatus,
)
from app.services import bank, ledger, stock, vouchers
from app.services.accounts import create_user, find_by_phone
from tests.conftest import DEMO
from tests.factories import at_once

THREADS = 16
STOCK = 3
PRICE = 50
FUND_KEY = "test:redemption-race"


@pytest.fixture
def race(_app):
    """A reward with 3 in stock and THREADS funded volunteers, committed for real; removed afterwards."""
    with _app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip(
                "needs PostgreSQL: SQLite serialises every writer (BEGIN IMMEDIATE), so nothing races"
            )
        worker = find_by_phone(DEMO.community_worker)
        grid_id = find_by_phone(DEMO.volunteer).grid_id
        books = {
            a.id: (a.balance, a.version)
            for a in db.session.scalars(
                sa.select(LedgerAccount).where(LedgerAccount.kind.in_([AccountKind.ISSUE, AccountKind.SINK]))
            )
        }
        volunteer_ids = [
            create_user(f"抢兑{i}", f"1760000{i:04d}", "test-pass-8642", [Role.VOLUNTEER], grid_id=grid_id).id
            for i in range(THREADS)
        ]
        db.session.commit()
        partner = bank.create_partner(worker, bank.PartnerData("抢兑测试店", PartnerKind.MERCHANT))
        reward = bank.create_reward(worker, partner.id, bank.RewardData("限量大米", PRICE, clock.today()))
        stock.receive_stock(worker, reward.id, STOCK)
        issue = ledger.account(AccountKind.ISSUE)
        grants = [(ledger.account(AccountKind.VOLUNTEER, v), PRICE * 2) for v in volunteer_ids]
        ledger.post(TxKind.AWARD, FUND_KEY, "test funding", [(issue, -PRICE * 2 * THREADS), *grants])
        db.session.commit()
        partner_id, reward_id = partner.id, reward.id
        db.session.remove()
    try:
        yield _app, reward_id, volunteer_ids
    finally:
        with _app.app_context():
            _clean_up(partner_id, reward_id, volunteer_ids, books)
            db.session.remove()


def _clean_up(partner_id, reward_id, volunteer_ids, books) -> None:
    voucher_ids = sa.select(Voucher.id).where(Voucher.reward_id == reward_id)
    tx_ids = sa.select(LedgerTransaction.id).where(
        sa.or_(LedgerTransaction.voucher_id.in_(voucher_ids), LedgerTransaction.key == FUND_KEY)
    )
    # The ledger's triggers refuse DELETE; replica mode skips them for this transaction only.
    db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    db.session.execute(sa.delete(LedgerEntry).where(LedgerEntry.transaction_id.in_(tx_ids)))
    db.session.execute(sa.delete(LedgerTransaction).where(LedgerTransaction.id.in_(tx_ids)))
    db.session.execute(
        sa.delete(LedgerAccount).where(
            LedgerAccount.kind == AccountKind.VOLUNTEER, LedgerAccount.owner_id.in_(volunteer_ids)
        )
    )
    for account_id, (balance, version) in books.items():
        db.session.execute(
            sa.update(LedgerAccount)
            .where(LedgerAccount.id == account_id)
            .values(balance=balance, version=version)
        )
    db.session.execute(sa.delete(StockMovement).where(StockMovement.reward_id == reward_id))
    db.session.execute(sa.delete(Voucher).where(Voucher.reward_id == reward_id))
    db.session.execute(sa.delete(Reward).where(Reward.id == reward_id))
    db.session.execute(sa.delete(PartnerUser).where(PartnerUser.partner_id == partner_id))
    db.session.execute(
        sa.delete(AuditEntry).where(
            sa.or_(
                sa.and_(AuditEntry.object_type == "partner", AuditEntry.object_id == partner_id),
                sa.and_(AuditEntry.object_type == "reward", AuditEntry.object_id == reward_id),
            )
        )
    )
    db.session.execute(sa.delete(Partner).where(Partner.id == partner_id))
    for user in db.session.scalars(sa.select(User).where(User.id.in_(volunteer_ids))):
        db.session.delete(user)
    db.session.commit()


def test_concurrent_redemptions_never_oversell(race):
    app, reward_id, volunteer_ids = race

    def redeem(volunteer_id: int):
        def call() -> str:
            vouchers.redeem(db.session.get(User, volunteer_id), reward_id)
            return "redeemed"

        return call

    answers = at_once(app, [redeem(v) for v in volunteer_ids])

    assert sorted(answers) == ["out_of_stock"] * (THREADS - STOCK) + ["redeemed"] * STOCK
    with app.app_context():
        reward = db.session.get(Reward, reward_id)
        issued = db.session.scalars(sa.select(Voucher).where(Voucher.reward_id == reward_id)).all()
        assert reward.stock == 0
        assert len(issued) == STOCK and all(v.status is VoucherStatus.ISSUED for v in issued)
        assert len({v.holder_id for v in issued}) == STOCK
        moved = db.session.scalar(
            sa.select(sa.func.sum(StockMovement.quantity)).where(StockMovement.reward_id == reward_id)
        )
        assert moved == 0
        spent = sorted(ledger.balance_of(AccountKind.VOLUNTEER, v) for v in volunteer_ids)
        assert spent == [PRICE] * STOCK + [PRICE * 2] * (THREADS - STOCK)
        report = ledger.check_books()
        assert report.ok, report.problems
        db.session.remove()

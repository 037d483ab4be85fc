"""The ledger (账本): accounts, posting a transaction, balances and the books check.

ENGINEERING.md "A ledger that cannot lie": integer points; a transaction's
entries sum to zero; the idempotency key is UNIQUE, and posting a key again
returns the first transaction; cached balances change in the same database
transaction as the entries, account by account in id order (so two
transactions never wait on each other in opposite orders), each by a
conditional UPDATE that refuses to take an account other than the issuing
one below zero. Nothing here commits: the calling service does.
"""

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app import clock
from app.extensions import db
from app.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Reward,
    StockMovement,
    TxKind,
    Voucher,
    VoucherStatus,
)
from app.services import honour_tally
from app.services.errors import Conflict

GLOBAL = 0  # owner_id of the issuing account and the sink


class InsufficientPoints(Conflict):
    code = "insufficient_points"
    default_message = _l("There are not enough points in the account for this.")


def account(kind: AccountKind, owner_id: int = GLOBAL) -> LedgerAccount:
    """The account of an owner, opened on first use (safe when two requests open it at once)."""
    stmt = sa.select(LedgerAccount).where(LedgerAccount.kind == kind, LedgerAccount.owner_id == owner_id)
    found = db.session.scalar(stmt)
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            found = LedgerAccount(kind=kind, owner_id=owner_id, balance=0, version=0)
            db.session.add(found)
    except IntegrityError:
        found = db.session.scalar(stmt)
    return found


def find_account(kind: AccountKind, owner_id: int = GLOBAL) -> LedgerAccount | None:
    """The account if it was ever opened (reading never opens one)."""
    return db.session.scalar(
        sa.select(LedgerAccount).where(LedgerAccount.kind == kind, LedgerAccount.owner_id == owner_id)
    )


def balance_of(kind: AccountKind, owner_id: int = GLOBAL) -> int:
    found = find_account(kind, owner_id)
    return found.balance if found else 0


def lock(*accounts: LedgerAccount) -> None:
    """Take the accounts' row locks in id order (PostgreSQL; SQLite holds the
    database write lock from BEGIN IMMEDIATE) and reload their balances."""
    ids = sorted({a.id for a in accounts})
    db.session.scalars(
        sa.select(LedgerAccount)
        .where(LedgerAccount.id.in_(ids))
        .order_by(LedgerAccount.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def by_key(key: str) -> LedgerTransaction | None:
    return db.session.scalar(sa.select(LedgerTransaction).where(LedgerTransaction.key == key))


def post(
    kind: TxKind,
    key: str,
    reason: str,
    postings: list[tuple[LedgerAccount, int]],
    actor=None,
    **attrs,
) -> LedgerTransaction:
    """Write one transaction, or return the one already written under `key`; flush only.

    `postings` are (account, signed amount); they must sum to zero over at
    least two entries. `attrs` fills the transaction's other columns
    (claim_id, earner_id, community_id, voucher_id, reverses_id, details).

    Raises InsufficientPoints when an account other than the issuing one
    would go below zero (the caller rolls back).
    """
    amounts = [amount for _, amount in postings]
    if len(postings) < 2 or sum(amounts) != 0 or not all(type(a) is int for a in amounts):
        raise ValueError(f"unbalanced transaction {key}: {amounts}")
    existing = by_key(key)
    if existing is not None:
        return existing
    now = clock.now()
    tx = LedgerTransaction(
        key=key, kind=kind, reason=reason[:300], actor_id=getattr(actor, "id", None), created_at=now, **attrs
    )
    try:
        with db.session.begin_nested():
            db.session.add(tx)
    except IntegrityError:
        # Another request wrote this key first (PostgreSQL waited for it to commit).
        return by_key(key)
    per_account: dict[int, int] = defaultdict(int)
    for acc, amount in postings:
        per_account[acc.id] += amount
    for account_id in sorted(per_account):
        _move(account_id, per_account[account_id])
    db.session.add_all(
        LedgerEntry(transaction_id=tx.id, account_id=acc.id, amount=amount, created_at=now)
        for acc, amount in postings
    )
    db.session.flush()
    for acc, _ in postings:
        db.session.expire(acc, ["balance", "version"])
    honour_tally.transaction_posted(tx)  # awards and reversals: the honour board's tallies
    return tx


def _move(account_id: int, amount: int) -> None:
    table = LedgerAccount.__table__
    allowed = sa.or_(table.c.kind == AccountKind.ISSUE, table.c.balance + amount >= 0)
    result = db.session.execute(
        table.update()
        .where(table.c.id == account_id, allowed)
        .values(balance=table.c.balance + amount, version=table.c.version + 1)
    )
    if result.rowcount != 1:
        raise InsufficientPoints()


def entries_of(account_id: int) -> sa.Select:
    """An account's entries with their transactions, newest first."""
    return (
        sa.select(LedgerEntry, LedgerTransaction)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.account_id == account_id)
        .order_by(LedgerEntry.id.desc())
    )


# --- the books check (`flask ledger-check`) -----------------------------------------


@dataclass
class BooksReport:
    transactions: int = 0
    accounts: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_books() -> BooksReport:
    """Prove the books: every transaction sums to zero over two or more
    entries; every cached balance equals the sum of its entries; no account
    but the issuing one is below zero; the sink holds exactly the price of
    the vouchers not yet handed over; each reward's stock equals the sum of
    its movements; no visit is paid twice; the honour board's tallies equal
    a recomputation from the ledger."""
    report = BooksReport()
    report.transactions = db.session.scalar(sa.select(sa.func.count(LedgerTransaction.id)))
    report.accounts = db.session.scalar(sa.select(sa.func.count(LedgerAccount.id)))
    unbalanced = db.session.execute(
        sa.select(LedgerEntry.transaction_id, sa.func.sum(LedgerEntry.amount), sa.func.count(LedgerEntry.id))
        .group_by(LedgerEntry.transaction_id)
        .having(sa.or_(sa.func.sum(LedgerEntry.amount) != 0, sa.func.count(LedgerEntry.id) < 2))
    ).all()
    report.problems += [f"transaction {t} sums to {s} over {n} entries" for t, s, n in unbalanced]
    empty = db.session.scalars(
        sa.select(LedgerTransaction.id).where(
            ~sa.exists().where(LedgerEntry.transaction_id == LedgerTransaction.id)
        )
    ).all()
    report.problems += [f"transaction {t} has no entries" for t in empty]
    sums = (
        sa.select(LedgerEntry.account_id, sa.func.sum(LedgerEntry.amount).label("total"))
        .group_by(LedgerEntry.account_id)
        .subquery()
    )
    drift = db.session.execute(
        sa.select(LedgerAccount.id, LedgerAccount.balance, sa.func.coalesce(sums.c.total, 0))
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(LedgerAccount.balance != sa.func.coalesce(sums.c.total, 0))
    ).all()
    report.problems += [f"account {a}: cached {b}, entries sum to {s}" for a, b, s in drift]
    negative = db.session.scalars(
        sa.select(LedgerAccount.id).where(LedgerAccount.balance < 0, LedgerAccount.kind != AccountKind.ISSUE)
    ).all()
    report.problems += [f"account {a} is below zero" for a in negative]
    held = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Voucher.price), 0)).where(
            Voucher.status == VoucherStatus.ISSUED
        )
    )
    sink = balance_of(AccountKind.SINK)
    if sink != held:
        report.problems.append(f"the sink holds {sink} points, open vouchers {held}")
    moved = (
        sa.select(StockMovement.reward_id, sa.func.sum(StockMovement.quantity).label("total"))
        .group_by(StockMovement.reward_id)
        .subquery()
    )
    stock = db.session.execute(
        sa.select(Reward.id, Reward.stock, sa.func.coalesce(moved.c.total, 0))
        .outerjoin(moved, moved.c.reward_id == Reward.id)
        .where(Reward.stock != sa.func.coalesce(moved.c.total, 0))
    ).all()
    report.problems += [f"reward {r}: stock {s}, movements sum to {m}" for r, s, m in stock]
    twice = db.session.scalars(
        sa.select(LedgerTransaction.claim_id)
        .where(LedgerTransaction.kind == TxKind.AWARD, LedgerTransaction.claim_id.is_not(None))
        .group_by(LedgerTransaction.claim_id)
        .having(sa.func.count(LedgerTransaction.id) > 1)
    ).all()
    report.problems += [f"visit {c} was paid more than once" for c in twice]
    report.problems += honour_tally.check_tallies()
    return report

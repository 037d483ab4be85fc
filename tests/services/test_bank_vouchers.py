"""Redeeming, vouchers and their single-use QR, hand-over, cancellation and
expiry without HTTP. Every refusal leaves the ledger, the stock and the
vouchers as they were; the books balance after every scenario."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import current_app
from itsdangerous import URLSafeSerializer

from app import clock
from app.extensions import db as _db
from app.models import (
    AccountKind,
    LedgerEntry,
    LedgerTransaction,
    MovementKind,
    Notification,
    NotificationKind,
    PartnerKind,
    Role,
    StockMovement,
    TxKind,
    VoucherStatus,
)
from app.services import bank, donations, ledger, qr, stock, vouchers
from app.services.errors import Conflict, DomainError, Forbidden, Gone, NotFound
from app.services.visits import CODE_ALPHABET
from tests.factories import make_tree, make_user
from tests.services.test_bank import (
    balance,
    books_ok,
    fund,
    officer,
    partner_user,
    reward,
    shop,
    snapshot,
    volunteer,
    worker,
)
from tests.services.test_visits import decode_qr, path_tail


@pytest.fixture(autouse=True)
def request_context(app):
    """The QR carries an absolute URL: building it needs a request (http://localhost/)."""
    with app.test_request_context():
        yield


@pytest.fixture
def at():
    yield clock.freeze
    clock.freeze(None)


def entries(voucher_id, kind):
    tx = ledger.by_key(f"{kind}:voucher:{voucher_id}")
    assert tx is not None, kind
    rows = sa.select(LedgerEntry.account_id, LedgerEntry.amount).where(LedgerEntry.transaction_id == tx.id)
    return tx, sorted(_db.session.execute(rows).all(), key=lambda row: row[1])


def account_id(kind, owner=0):
    return ledger.account(kind, owner).id


def token_of(voucher) -> str:
    return path_tail(decode_qr(qr.png(vouchers.open_voucher_url(volunteer(), voucher.id))), "/bank/v/")


# --- redeeming -------------------------------------------------------------------------


def test_redeeming_issues_a_voucher_and_moves_points_and_stock_together(db):
    made = reward(shop(), price=120, on_hand=3)
    fund((volunteer(), 500))
    voucher = vouchers.redeem(volunteer(), made.id)

    assert voucher.status is VoucherStatus.ISSUED and voucher.price == 120
    assert len(voucher.code) == 8 and set(voucher.code) <= set(CODE_ALPHABET)
    assert voucher.nonce and voucher.expires_at == voucher.issued_at + timedelta(days=30)
    db.session.refresh(made)
    assert made.stock == 2
    assert balance(volunteer()) == 380 and ledger.balance_of(AccountKind.SINK) == 120
    tx, moves = entries(voucher.id, "redeem")
    assert tx.kind is TxKind.REDEMPTION and tx.voucher_id == voucher.id and "大米" in tx.reason
    assert tx.actor_id == volunteer().id
    assert moves == [
        (account_id(AccountKind.VOLUNTEER, volunteer().id), -120),
        (account_id(AccountKind.SINK), 120),
    ]
    movement = db.session.scalar(sa.select(StockMovement).where(StockMovement.voucher_id == voucher.id))
    assert (movement.kind, movement.quantity, movement.reward_id) == (MovementKind.REDEEMED, -1, made.id)
    assert stock.stock_book(worker(), made.id).reconciles
    books_ok()


def test_a_voucher_expires_with_the_last_valid_day_of_its_reward(db, at):
    at(datetime(2030, 6, 1, 2, 0, tzinfo=UTC))  # 10:00 in Beijing
    made = reward(shop(), on_hand=1, valid_until=clock.today() + timedelta(days=3))
    fund((volunteer(), 100))
    voucher = vouchers.redeem(volunteer(), made.id)
    # The end of 2030-06-04 in Beijing is 16:00 UTC that day.
    assert voucher.expires_at == datetime(2030, 6, 4, 16, 0, tzinfo=UTC)


def refused(db, call, error, code):
    """Run a call that must be refused; nothing may change."""
    before = snapshot(db)
    with pytest.raises(error) as raised:
        call()
    assert raised.value.code == code
    assert snapshot(db) == before
    books_ok()
    return raised.value


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"active": False}, Conflict),
        ({"valid_from": "tomorrow"}, Conflict),
        ({"valid_until": "yesterday"}, Conflict),
        ({"partner_inactive": True}, Conflict),
        ({"community": 2}, NotFound),
        ({"street": "other"}, NotFound),
    ],
)
def test_unavailable_rewards_are_refused_and_change_nothing(db, change, error):
    partner = shop()
    today = clock.today()
    fields = {}
    if change.get("valid_from"):
        fields["valid_from"] = today + timedelta(days=1)
    if change.get("valid_until"):
        fields["valid_from"], fields["valid_until"] = today - timedelta(days=5), today - timedelta(days=1)
    actor = worker(2) if change.get("community") else worker()
    if change.get("street"):
        tree = make_tree("外街")
        actor = make_user(Role.COMMUNITY_WORKER, community_id=tree["community"].id)
        partner = shop("外街店", actor=actor)
    made = reward(partner, on_hand=5, actor=actor, active=change.get("active") is not False, **fields)
    if change.get("partner_inactive"):
        bank.update_partner(
            worker(), partner.id, bank.PartnerData("测试便民店", PartnerKind.MERCHANT, active=False)
        )
    fund((volunteer(), 500))
    refused(db, lambda: vouchers.redeem(volunteer(), made.id), error, "reward_unavailable")
    assert made.id not in [r.id for r in donations.catalogue(volunteer())]


def test_out_of_stock_and_too_few_points_are_refused_and_change_nothing(db):
    partner = shop()
    empty = reward(partner, on_hand=0)
    dear = reward(partner, price=600, on_hand=2, name="电饭煲")
    fund((volunteer(), 500))
    refused(db, lambda: vouchers.redeem(volunteer(), empty.id), Conflict, "out_of_stock")
    refused(db, lambda: vouchers.redeem(volunteer(), dear.id), Conflict, "insufficient_points")
    refused(db, lambda: vouchers.redeem(volunteer(2), empty.id), Conflict, "out_of_stock")
    # A volunteer who never earned a point has no account yet, and still none afterwards.
    refused(db, lambda: vouchers.redeem(volunteer(2), dear.id), Conflict, "insufficient_points")
    assert ledger.find_account(AccountKind.VOLUNTEER, volunteer(2).id) is None


@pytest.mark.parametrize("reward_id", [0, -1, 2**31, "1", None, True, 1.0])
def test_bad_reward_ids_are_not_found(db, reward_id):
    fund((volunteer(), 500))
    refused(db, lambda: vouchers.redeem(volunteer(), reward_id), NotFound, "reward_unavailable")


def test_only_volunteers_redeem(db):
    made = reward(shop(), on_hand=1)
    for user in (worker(), partner_user()):
        with pytest.raises(Forbidden):
            vouchers.redeem(user, made.id)


def test_street_wide_rewards_reach_every_community_of_the_street(db):
    made = reward(shop(), actor=officer(), on_hand=2, community_id=None)
    fund((volunteer(), 100), (volunteer(2), 100))
    for n in (1, 2):
        assert made.id in [r.id for r in donations.catalogue(volunteer(n))]
        vouchers.redeem(volunteer(n), made.id)
    db.session.refresh(made)
    assert made.stock == 0
    books_ok()


# --- the QR and the hand-over ---------------------------------------------------------------


def test_the_qr_carries_the_hand_over_url_with_id_and_nonce_only(db):
    fund((volunteer(), 500))
    voucher = vouchers.redeem(volunteer(), reward(shop(), on_hand=1).id)
    url = decode_qr(qr.png(vouchers.open_voucher_url(volunteer(), voucher.id)))
    assert url.startswith("http://localhost/bank/v/")
    payload = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="bank-voucher").loads(
        path_tail(url, "/bank/v/")
    )
    assert payload == {"v": voucher.id, "n": voucher.nonce}
    with pytest.raises(NotFound):  # someone else's voucher
        vouchers.open_voucher_url(volunteer(2), voucher.id)


def test_the_partner_hands_the_reward_over_once(db):
    partner = shop()
    made = reward(partner, price=120, on_hand=2)
    fund((volunteer(), 500))
    voucher = vouchers.redeem(volunteer(), made.id)
    token = token_of(voucher)

    view = vouchers.handover_view(partner_user(), token)
    assert view.voucher.id == voucher.id and view.holder == "王*明"  # 王小明, masked
    used = vouchers.hand_over(partner_user(), token)
    assert used.status is VoucherStatus.USED and used.nonce is None
    assert used.used_by_id == partner_user().id and used.closed_at is not None
    tx, moves = entries(voucher.id, "handover")
    assert tx.kind is TxKind.HANDOVER and tx.actor_id == partner_user().id
    assert moves == [(account_id(AccountKind.SINK), -120), (account_id(AccountKind.PARTNER, partner.id), 120)]
    assert ledger.balance_of(AccountKind.SINK) == 0 and balance(volunteer()) == 380
    books_ok()

    refused(db, lambda: vouchers.hand_over(partner_user(), token), Gone, "voucher_used")
    refused(db, lambda: vouchers.handover_view(partner_user(), token), Gone, "voucher_used")
    refused(db, lambda: vouchers.token_for_code(partner_user(), voucher.code), Gone, "voucher_used")
    refused(db, lambda: vouchers.cancel_voucher(volunteer(), voucher.id), Conflict, "voucher_closed")
    desk = vouchers.partner_desk(partner_user())
    assert [(v.id, name) for v, name in desk.handed_over] == [(voucher.id, "王*明")]
    assert partner.id in [p.id for p in desk.partners] and made.id in [r.id for r in desk.rewards]


def test_another_partner_learns_nothing_about_the_voucher(db):
    fund((volunteer(), 500))
    voucher = vouchers.redeem(volunteer(), reward(shop(), on_hand=1).id)
    token = token_of(voucher)
    stranger = make_user(Role.PARTNER)
    shop("隔壁药店", user=stranger)
    for call in (
        lambda: vouchers.hand_over(stranger, token),
        lambda: vouchers.handover_view(stranger, token),
        lambda: vouchers.token_for_code(stranger, voucher.code),
    ):
        error = refused(db, call, NotFound, "wrong_partner")
        assert voucher.code not in str(error.message)
    # The same answer as a code that does not exist at all.
    refused(db, lambda: vouchers.token_for_code(stranger, "ZZZZZZZZ"), NotFound, "wrong_partner")
    # After the hand-over, the stranger still cannot tell it was used.
    vouchers.hand_over(partner_user(), token)
    refused(db, lambda: vouchers.hand_over(stranger, token), NotFound, "wrong_partner")


@pytest.mark.parametrize("who", ["volunteer", "worker"])
def test_only_partner_users_hand_over(db, who):
    fund((volunteer(), 500))
    voucher = vouchers.redeem(volunteer(), reward(shop(), on_hand=1).id)
    token = token_of(voucher)
    user = volunteer() if who == "volunteer" else worker()
    refused(db, lambda: vouchers.hand_over(user, token), Forbidden, "forbidden")


def test_tampered_and_foreign_tokens_are_invalid(db):
    fund((volunteer(), 500))
    voucher = vouchers.redeem(volunteer(), reward(shop(), on_hand=1).id)
    token = token_of(voucher)
    secret = current_app.config["SECRET_KEY"]
    forged = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "not-a-token",
        "",
        None,
        URLSafeSerializer(secret, salt="door-card").dumps({"v": voucher.id, "n": voucher.nonce}),
        URLSafeSerializer(secret, salt="bank-voucher").dumps({"v": voucher.id, "n": "guessed"}),
        URLSafeSerializer(secret, salt="bank-voucher").dumps({"v": 999999, "n": voucher.nonce}),
        URLSafeSerializer(secret, salt="bank-voucher").dumps([voucher.id]),
    ]
    for bad in forged:
        error = refused(
            db, lambda bad=bad: vouchers.hand_over(partner_user(), bad), DomainError, "invalid_token"
        )
        assert error.status == 400


def test_the_short_code_finds_the_voucher_in_any_case(db):
    fund((volunteer(), 500))
    voucher = vouchers.redeem(volunteer(), reward(shop(), on_hand=1).id)
    typed = f" {voucher.code[:4].lower()}-{voucher.code[4:]} "
    token = vouchers.token_for_code(partner_user(), typed)
    assert vouchers.hand_over(partner_user(), token).status is VoucherStatus.USED


def test_an_expired_voucher_cannot_be_handed_over(db, at):
    fund((volunteer(), 500))
    voucher = vouchers.redeem(volunteer(), reward(shop(), on_hand=1).id)
    token = token_of(voucher)
    at(voucher.expires_at)
    refused(db, lambda: vouchers.hand_over(partner_user(), token), Gone, "voucher_expired")
    refused(db, lambda: vouchers.token_for_code(partner_user(), voucher.code), Gone, "voucher_expired")


# --- cancelling and expiry ---------------------------------------------------------------


def test_the_holder_cancels_and_gets_points_and_stock_back(db):
    made = reward(shop(), price=120, on_hand=1)
    fund((volunteer(), 500))
    voucher = vouchers.redeem(volunteer(), made.id)
    token = token_of(voucher)
    refused(db, lambda: vouchers.cancel_voucher(volunteer(2), voucher.id), NotFound, "not_found")

    cancelled = vouchers.cancel_voucher(volunteer(), voucher.id)
    assert cancelled.status is VoucherStatus.CANCELLED and cancelled.nonce is None and cancelled.closed_at
    db.session.refresh(made)
    assert made.stock == 1 and balance(volunteer()) == 500 and ledger.balance_of(AccountKind.SINK) == 0
    tx, moves = entries(voucher.id, "refund")
    assert tx.kind is TxKind.REFUND and tx.actor_id == volunteer().id
    assert moves[0] == (account_id(AccountKind.SINK), -120)
    returned = db.session.scalars(
        sa.select(StockMovement.kind).where(StockMovement.voucher_id == voucher.id).order_by(StockMovement.id)
    ).all()
    assert returned == [MovementKind.REDEEMED, MovementKind.RETURNED]
    books_ok()

    refused(db, lambda: vouchers.cancel_voucher(volunteer(), voucher.id), Conflict, "voucher_closed")
    refused(db, lambda: vouchers.hand_over(partner_user(), token), Gone, "voucher_cancelled")
    refused(db, lambda: vouchers.open_voucher_url(volunteer(), voucher.id), Gone, "voucher_closed")


def counts(db):
    return (
        db.session.scalar(sa.select(sa.func.count(LedgerTransaction.id))),
        db.session.scalar(sa.select(sa.func.count(StockMovement.id))),
        db.session.scalar(sa.select(sa.func.count(Notification.id))),
    )


def test_expiry_returns_points_and_stock_once_and_tells_the_holder(db, at):
    start = datetime(2030, 3, 1, 1, 0, tzinfo=UTC)
    at(start)
    made = reward(shop(), price=60, on_hand=3, name="理发券")
    fund((volunteer(), 500), (volunteer(2), 500))
    old = vouchers.redeem(volunteer(), made.id)
    at(start + timedelta(days=10))
    young = vouchers.redeem(volunteer(2), made.id)
    assert balance(volunteer()) == 440

    at(old.expires_at - timedelta(seconds=1))
    assert vouchers.expire_vouchers() == 0
    at(start + timedelta(days=31))
    before = counts(db)
    assert vouchers.expire_vouchers() == 1
    db.session.refresh(old)
    db.session.refresh(young)
    db.session.refresh(made)
    assert old.status is VoucherStatus.EXPIRED and old.nonce is None and old.closed_at == clock.now()
    assert young.status is VoucherStatus.ISSUED
    assert balance(volunteer()) == 500 and made.stock == 2
    assert ledger.by_key(f"refund:voucher:{old.id}").actor_id is None
    note = db.session.scalar(
        sa.select(Notification).where(Notification.user_id == volunteer().id).order_by(Notification.id.desc())
    )
    assert note.kind is NotificationKind.VOUCHER_CLOSED
    assert note.params == {"reward": "理发券", "points": 60, "why": "expired"}
    after = counts(db)
    assert after == (before[0] + 1, before[1] + 1, before[2] + 1)
    books_ok()

    assert vouchers.expire_vouchers() == 0  # idempotent: a second run changes nothing
    assert counts(db) == after
    assert vouchers.expire_vouchers(now=start + timedelta(days=45)) == 1  # the younger one, later
    books_ok()


def test_points_donated_elsewhere_do_not_block_a_refund(db):
    """A refund only moves the sink's points back; the holder's balance may be anything."""
    fund((volunteer(), 100))
    voucher = vouchers.redeem(volunteer(), reward(shop(), price=100, on_hand=1).id)
    assert balance(volunteer()) == 0
    vouchers.cancel_voucher(volunteer(), voucher.id)
    assert balance(volunteer()) == 100
    books_ok()

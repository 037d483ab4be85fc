"""Redeeming rewards and the vouchers that follow (兑换券): hand-over, cancellation, expiry.

Redeeming takes one item of stock (a conditional UPDATE that refuses below
zero), issues a voucher and moves its price from the volunteer to the sink,
all in one database transaction: any refusal leaves nothing behind. The
voucher's QR carries a signed token naming the voucher and its nonce (no
name, no phone); the partner's hand-over clears the nonce in one
conditional UPDATE and pays the sink's points to the partner, so a second
scan finds nothing to use (ENGINEERING.md "QR tokens"). A cancelled or
expired voucher returns its item to stock and its points to the holder.

Row locks are taken in one order everywhere — voucher, reward, ledger
accounts — so two of these never wait on each other in a circle.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy.orm import contains_eager, selectinload

from app import clock
from app.auth_scope import child_or_404, is_valid_id, require_role
from app.extensions import db
from app.models import (
    AccountKind,
    MovementKind,
    NotificationKind,
    Partner,
    PartnerUser,
    Reward,
    Role,
    TxKind,
    User,
    Voucher,
    VoucherStatus,
)
from app.services import ledger, tx
from app.services.donations import offered_to, on_offer
from app.services.errors import Conflict, DomainError, Gone, NotFound
from app.services.notifications import notify
from app.services.privacy import mask_name
from app.services.stock import change_stock
from app.services.visits import CODE_ALPHABET, CODE_LENGTH

VOUCHER_SALT = "bank-voucher"
LIFETIME = timedelta(days=30)
RECENT_HANDOVERS = 20


# --- redeeming -------------------------------------------------------------------------


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not db.session.scalar(sa.select(Voucher.id).where(Voucher.code == code)):
            return code


def expiry_for(reward: Reward, now: datetime) -> datetime:
    """30 days from now, or the end of the reward's last valid (local) day if sooner."""
    expires = now + LIFETIME
    if reward.valid_until is not None:
        expires = min(expires, clock.local_day_bounds(reward.valid_until)[1])
    return expires


def redeem(volunteer, reward_id) -> Voucher:
    """Spend points on one item of a reward: a voucher, a REDEMPTION and a
    REDEEMED movement, all or nothing; commit.

    Raises Forbidden; NotFound `reward_unavailable` (missing, or not offered in
    the volunteer's community); Conflict `reward_unavailable` (inactive,
    partner inactive, not yet or no longer valid), `out_of_stock`,
    `insufficient_points`.
    """
    require_role(volunteer, Role.VOLUNTEER)
    reward = None
    if is_valid_id(reward_id):
        reward = db.session.scalar(
            sa.select(Reward)
            .join(Partner, Partner.id == Reward.partner_id)
            .where(Reward.id == reward_id, offered_to(volunteer))
            .options(contains_eager(Reward.partner))
        )
    if reward is None:
        raise NotFound(_l("This reward is not offered in your community."), code="reward_unavailable")
    if not on_offer(reward, clock.today()):
        raise Conflict(_l("This reward cannot be redeemed at the moment."), code="reward_unavailable")
    now, price, name = clock.now(), reward.point_price, reward.name
    with tx.atomic():
        voucher = Voucher(
            reward_id=reward.id,
            holder_id=volunteer.id,
            price=price,
            code=_new_code(),
            nonce=secrets.token_urlsafe(12),
            status=VoucherStatus.ISSUED,
            issued_at=now,
            expires_at=expiry_for(reward, now),
        )
        db.session.add(voucher)
        db.session.flush()
        note = f"voucher {voucher.code}"
        if (
            change_stock(
                reward.id, -1, MovementKind.REDEEMED, actor=volunteer, voucher_id=voucher.id, note=note
            )
            is None
        ):
            raise Conflict(_l("Sorry, this reward has just run out."), code="out_of_stock")
        ledger.post(
            TxKind.REDEMPTION,
            f"redeem:voucher:{voucher.id}",
            f"redeemed {name} (voucher {voucher.code})",
            [
                (ledger.account(AccountKind.VOLUNTEER, volunteer.id), -price),
                (ledger.account(AccountKind.SINK), price),
            ],
            actor=volunteer,
            voucher_id=voucher.id,
        )
    return voucher


# --- the holder's vouchers ---------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=VOUCHER_SALT)


def voucher_token(voucher: Voucher) -> str:
    """The signed token in the voucher's QR: its id and nonce, nothing personal."""
    return _serializer().dumps({"v": voucher.id, "n": voucher.nonce})


def voucher_url(voucher: Voucher) -> str:
    """The absolute URL of the hand-over page the voucher's QR carries."""
    return url_for("bank.handover", token=voucher_token(voucher), _external=True)


def my_vouchers_stmt(volunteer) -> sa.Select:
    """The volunteer's vouchers, open ones first, newest first, rewards and partners loaded."""
    return (
        sa.select(Voucher)
        .where(Voucher.holder_id == volunteer.id)
        .options(selectinload(Voucher.reward).selectinload(Reward.partner))
        .order_by(
            (Voucher.status == VoucherStatus.ISSUED).desc(), Voucher.issued_at.desc(), Voucher.id.desc()
        )
    )


def own_voucher(volunteer, voucher_id) -> Voucher:
    """One of the volunteer's vouchers (fresh from the database); NotFound otherwise."""
    return child_or_404(
        Voucher,
        voucher_id,
        Voucher.holder_id == volunteer.id,
        options=(selectinload(Voucher.reward),),
        fresh=True,
    )


def open_voucher_url(volunteer, voucher_id) -> str:
    """The hand-over URL of one of the volunteer's open vouchers (for its QR image).

    Raises NotFound, Gone `voucher_closed`.
    """
    voucher = own_voucher(volunteer, voucher_id)
    if voucher.status is not VoucherStatus.ISSUED:
        raise Gone(_l("This voucher has been used or closed."), code="voucher_closed")
    return voucher_url(voucher)


def _close_and_refund(voucher: Voucher, status: VoucherStatus, actor, now: datetime, *conditions) -> bool:
    """Close an open voucher as cancelled or expired, return its item and its
    points (flush only); False if it was no longer open."""
    closed = db.session.execute(
        sa.update(Voucher)
        .where(Voucher.id == voucher.id, Voucher.status == VoucherStatus.ISSUED, *conditions)
        .values(status=status, nonce=None, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:
        return False
    db.session.expire(voucher, ["status", "nonce", "closed_at"])
    why = "expired" if status is VoucherStatus.EXPIRED else "cancelled"
    change_stock(
        voucher.reward_id, 1, MovementKind.RETURNED, actor=actor, voucher_id=voucher.id, note=f"voucher {why}"
    )
    ledger.post(
        TxKind.REFUND,
        f"refund:voucher:{voucher.id}",
        f"voucher {voucher.code} {why}: {voucher.reward.name}",
        [
            (ledger.account(AccountKind.SINK), -voucher.price),
            (ledger.account(AccountKind.VOLUNTEER, voucher.holder_id), voucher.price),
        ],
        actor=actor,
        voucher_id=voucher.id,
    )
    return True


def cancel_voucher(volunteer, voucher_id) -> Voucher:
    """The holder gives back an open voucher: its item returns to stock and its points to them; commit.

    Raises NotFound (not theirs), Conflict `voucher_closed` (used, cancelled or expired).
    """
    voucher = own_voucher(volunteer, voucher_id)
    with tx.atomic():
        if not _close_and_refund(voucher, VoucherStatus.CANCELLED, volunteer, clock.now()):
            raise Conflict(_l("This voucher has already been used or closed."), code="voucher_closed")
    return voucher


def expire_vouchers(now: datetime | None = None) -> int:
    """Close every open voucher whose time is up, with its refund and returned item,
    and tell the holder; commit per voucher. The number closed (0 on a second run)."""
    now = now or clock.now()
    due = db.session.scalars(
        sa.select(Voucher.id)
        .where(Voucher.status == VoucherStatus.ISSUED, Voucher.expires_at <= now)
        .order_by(Voucher.id)
    ).all()
    closed = 0
    for voucher_id in due:
        with tx.atomic():
            voucher = db.session.scalar(
                sa.select(Voucher)
                .where(Voucher.id == voucher_id)
                .options(selectinload(Voucher.reward))
                .execution_options(populate_existing=True)
            )
            if _close_and_refund(voucher, VoucherStatus.EXPIRED, None, now, Voucher.expires_at <= now):
                notify(
                    voucher.holder_id,
                    NotificationKind.VOUCHER_CLOSED,
                    reward=voucher.reward.name,
                    points=voucher.price,
                    why="expired",
                )
                closed += 1
    return closed


# --- the partner's side: hand-over ------------------------------------------------------


def partner_ids_of(user) -> list[int]:
    return list(db.session.scalars(sa.select(PartnerUser.partner_id).where(PartnerUser.user_id == user.id)))


def _invalid_token() -> DomainError:
    return DomainError(
        _l("This voucher code is not valid. Ask the holder to show the QR code again."), code="invalid_token"
    )


def _wrong_partner() -> NotFound:
    # The same answer as a missing voucher: another shop learns nothing about it.
    return NotFound(_l("No voucher of yours matches this code."), code="wrong_partner")


def _for_handover(user, voucher: Voucher | None, nonce: str | None = None) -> Voucher:
    """The voucher if this partner user may hand it over now; otherwise the refusal."""
    if voucher is None or voucher.reward.partner_id not in partner_ids_of(user):
        raise _wrong_partner()
    if voucher.status is VoucherStatus.USED:
        raise Gone(_l("This voucher has already been handed over."), code="voucher_used")
    if voucher.status is VoucherStatus.CANCELLED:
        raise Gone(_l("The holder cancelled this voucher."), code="voucher_cancelled")
    if voucher.status is VoucherStatus.EXPIRED or voucher.expires_at <= clock.now():
        raise Gone(_l("This voucher has expired."), code="voucher_expired")
    if nonce is not None and voucher.nonce != nonce:
        raise _invalid_token()
    return voucher


def _load(voucher_id) -> Voucher | None:
    if not is_valid_id(voucher_id):
        return None
    return db.session.scalar(
        sa.select(Voucher)
        .where(Voucher.id == voucher_id)
        .options(selectinload(Voucher.reward).selectinload(Reward.partner))
        .execution_options(populate_existing=True)
    )


def voucher_from_token(user, token) -> Voucher:
    """The open voucher a QR token names, for its partner's user.

    Raises Forbidden (not a partner user), DomainError `invalid_token` (400),
    NotFound `wrong_partner`, Gone `voucher_used`, `voucher_cancelled`, `voucher_expired`.
    """
    require_role(user, Role.PARTNER)
    try:
        payload = _serializer().loads(token) if isinstance(token, str) else None
    except BadData:
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("n"), str):
        raise _invalid_token()
    voucher = _load(payload.get("v"))
    if voucher is None:
        raise _invalid_token()
    return _for_handover(user, voucher, payload["n"])


def token_for_code(user, code) -> str:
    """The hand-over token of the open voucher with this printed code (any case, spaces or dashes).

    Raises what voucher_from_token raises (an unknown code: NotFound `wrong_partner`).
    """
    require_role(user, Role.PARTNER)
    value = code.strip().upper().replace("-", "").replace(" ", "") if isinstance(code, str) else ""
    voucher_id = None
    if 0 < len(value) <= CODE_LENGTH:
        voucher_id = db.session.scalar(sa.select(Voucher.id).where(Voucher.code == value))
    voucher = _for_handover(user, _load(voucher_id))
    return voucher_token(voucher)


@dataclass(frozen=True)
class Handover:
    """What the partner sees before handing over: the reward and the holder's masked name."""

    voucher: Voucher
    holder: str


def handover_view(user, token) -> Handover:
    voucher = voucher_from_token(user, token)
    return Handover(voucher, mask_name(db.session.get(User, voucher.holder_id).name))


def hand_over(user, token) -> Voucher:
    """The partner hands the reward over: the voucher is used (once) and its
    points move from the sink to the partner; commit.

    Raises what voucher_from_token raises; Gone `voucher_used` when another
    scan won the race.
    """
    voucher = voucher_from_token(user, token)
    now = clock.now()
    with tx.atomic():
        used = db.session.execute(
            sa.update(Voucher)
            .where(
                Voucher.id == voucher.id,
                Voucher.status == VoucherStatus.ISSUED,
                Voucher.nonce == voucher.nonce,
                Voucher.expires_at > now,
            )
            .values(status=VoucherStatus.USED, nonce=None, closed_at=now, used_by_id=user.id)
            .execution_options(synchronize_session=False)
        )
        if used.rowcount != 1:
            raise Gone(_l("This voucher has already been handed over."), code="voucher_used")
        ledger.post(
            TxKind.HANDOVER,
            f"handover:voucher:{voucher.id}",
            f"handed over {voucher.reward.name} (voucher {voucher.code})",
            [
                (ledger.account(AccountKind.SINK), -voucher.price),
                (ledger.account(AccountKind.PARTNER, voucher.reward.partner_id), voucher.price),
            ],
            actor=user,
            voucher_id=voucher.id,
        )
    db.session.refresh(voucher)
    return voucher


@dataclass(frozen=True)
class PartnerDesk:
    """A partner user's page: their partners, those partners' rewards and recent hand-overs."""

    partners: list[Partner]
    rewards: list[Reward]
    handed_over: list[tuple[Voucher, str]]  # with the holder's masked name


def partner_desk(user) -> PartnerDesk:
    require_role(user, Role.PARTNER)
    ids = partner_ids_of(user)
    partners = list(db.session.scalars(sa.select(Partner).where(Partner.id.in_(ids)).order_by(Partner.name)))
    rewards = list(
        db.session.scalars(
            sa.select(Reward)
            .where(Reward.partner_id.in_(ids))
            .options(selectinload(Reward.community))
            .order_by(Reward.active.desc(), Reward.name)
        )
    )
    vouchers = list(
        db.session.scalars(
            sa.select(Voucher)
            .join(Reward, Reward.id == Voucher.reward_id)
            .where(Reward.partner_id.in_(ids), Voucher.status == VoucherStatus.USED)
            .options(contains_eager(Voucher.reward))
            .order_by(Voucher.closed_at.desc(), Voucher.id.desc())
            .limit(RECENT_HANDOVERS)
        )
    )
    names = dict(
        db.session.execute(
            sa.select(User.id, User.name).where(User.id.in_({v.holder_id for v in vouchers}))
        ).all()
    )
    return PartnerDesk(partners, rewards, [(v, mask_name(names.get(v.holder_id))) for v in vouchers])

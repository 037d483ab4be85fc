"""Stock of the bank's rewards (账物相符): every change is a recorded movement.

`change_stock` is the only code that changes `Reward.stock`: one conditional
UPDATE that never takes it below zero, and the StockMovement row beside it,
so stock on hand always equals the sum of the movements.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import MovementKind, Reward, StockMovement
from app.services import audit
from app.services.bank import checked_text, get_reward, rewards_stmt
from app.services.errors import Conflict, InvalidInput

MAX_QUANTITY = 100_000  # one delivery or write-off
MIN_REASON, MAX_NOTE = 2, 300


def change_stock(
    reward_id: int, quantity: int, kind: MovementKind, *, actor=None, voucher_id=None, note: str = ""
) -> StockMovement | None:
    """Move stock by `quantity` (signed) with its movement row, in one conditional
    UPDATE that refuses to go below zero; None if it would. Flush only.

    The only way any code changes `Reward.stock`.
    """
    update = sa.update(Reward).where(Reward.id == reward_id)
    if quantity < 0:
        update = update.where(Reward.stock >= -quantity)
    result = db.session.execute(
        update.values(stock=Reward.stock + quantity).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    loaded = db.session.identity_map.get(db.session.identity_key(Reward, reward_id))
    if loaded is not None:
        db.session.expire(loaded, ["stock"])
    movement = StockMovement(
        reward_id=reward_id,
        kind=kind,
        quantity=quantity,
        voucher_id=voucher_id,
        note=note[:MAX_NOTE],
        actor_id=getattr(actor, "id", None),
    )
    db.session.add(movement)
    db.session.flush()
    return movement


def _check_quantity(quantity) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(
            _l("Enter a whole number from %(low)d to %(high)d.", low=1, high=MAX_QUANTITY),
            code="invalid_quantity",
            field="quantity",
        )
    return quantity


def receive_stock(actor, reward_id, quantity, note: str = "") -> StockMovement:
    """Goods in (+quantity, RECEIVED); audit-logged; commit.

    Raises Forbidden, NotFound, InvalidInput `invalid_quantity`, `invalid_note`.
    """
    reward = get_reward(actor, reward_id)
    quantity = _check_quantity(quantity)
    note = checked_text(note or "", "note", 0, MAX_NOTE, _l("Write at most %(n)d characters.", n=MAX_NOTE))
    movement = change_stock(reward.id, quantity, MovementKind.RECEIVED, actor=actor, note=note)
    audit.record(actor, "receive_stock", "reward", reward.id, note=f"+{quantity}")
    db.session.commit()
    return movement


def write_off_stock(actor, reward_id, quantity, reason) -> StockMovement:
    """Lost, spoiled or past date (−quantity, WRITTEN_OFF) with its reason; audit-logged; commit.

    Raises Forbidden, NotFound, InvalidInput `invalid_quantity`,
    `invalid_reason`, Conflict `insufficient_stock` (never below zero).
    """
    reward = get_reward(actor, reward_id)
    quantity = _check_quantity(quantity)
    reason = checked_text(
        reason,
        "reason",
        MIN_REASON,
        MAX_NOTE,
        _l("Give the reason in %(low)d to %(high)d characters.", low=MIN_REASON, high=MAX_NOTE),
    )
    movement = change_stock(reward.id, -quantity, MovementKind.WRITTEN_OFF, actor=actor, note=reason)
    if movement is None:
        db.session.rollback()
        raise Conflict(
            _l("There is not that much in stock to write off."), code="insufficient_stock", field="quantity"
        )
    audit.record(actor, "write_off_stock", "reward", reward.id, note=f"-{quantity}: {reason}")
    db.session.commit()
    return movement


@dataclass
class StockBook:
    """A reward's stock on hand against its movements (账物相符)."""

    reward: Reward
    movements: list[StockMovement] = field(default_factory=list)  # newest first
    moved: int = 0  # the sum of every movement

    @property
    def reconciles(self) -> bool:
        return self.reward.stock == self.moved


def stock_book(actor, reward_id) -> StockBook:
    """A reward with its movement history and whether the stock reconciles."""
    reward = get_reward(actor, reward_id)
    db.session.refresh(reward, ["stock"])
    movements = list(
        db.session.scalars(
            sa.select(StockMovement)
            .where(StockMovement.reward_id == reward.id)
            .order_by(StockMovement.id.desc())
        )
    )
    return StockBook(reward, movements, sum(m.quantity for m in movements))


def stock_overview(actor) -> list[tuple[Reward, int]]:
    """Every reward the staff user manages with the sum of its movements, in one query."""
    moved = (
        sa.select(StockMovement.reward_id, sa.func.sum(StockMovement.quantity).label("total"))
        .group_by(StockMovement.reward_id)
        .subquery()
    )
    stmt = rewards_stmt(actor).add_columns(sa.func.coalesce(moved.c.total, 0))
    stmt = stmt.outerjoin(moved, moved.c.reward_id == Reward.id)
    return [(reward, int(total)) for reward, total in db.session.execute(stmt)]

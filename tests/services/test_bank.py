"""The bank's shop for staff without HTTP: partners, partner users, the reward
catalogue and stock that always reconciles with its movements (账物相符).

The helpers at the top are shared by the other bank tests."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db as _db
from app.models import (
    AccountKind,
    AuditEntry,
    Community,
    LedgerEntry,
    LedgerTransaction,
    MovementKind,
    Partner,
    PartnerKind,
    PartnerUser,
    Reward,
    Role,
    StockMovement,
    TxKind,
    Voucher,
)
from app.services import bank, ledger, stock
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import DEMO, count_rows
from tests.factories import make_tree, make_user, user_by_phone

# --- shared helpers ---------------------------------------------------------------------


def worker(n=1):
    return user_by_phone(DEMO.community_worker if n == 1 else DEMO.community_worker_2)


def officer():
    return user_by_phone(DEMO.street_officer)


def volunteer(n=1):
    return user_by_phone({1: DEMO.volunteer, 2: DEMO.volunteer_2}[n])


def partner_user():
    return user_by_phone(DEMO.partner)


def shop(name="测试便民店", actor=None, user=None) -> Partner:
    """A partner of the demo street, with the demo partner user (or `user`) acting for it."""
    actor = actor or worker()
    partner = bank.create_partner(actor, bank.PartnerData(name=name, kind=PartnerKind.MERCHANT))
    bank.link_partner_user(actor, partner.id, (user or partner_user()).phone)
    return partner


def reward(partner, price=100, on_hand=5, actor=None, **fields) -> Reward:
    """A reward of `partner` valid from today, in the actor's community, with `on_hand` received."""
    actor = actor or worker()
    fields.setdefault("valid_from", clock.today())
    made = bank.create_reward(
        actor, partner.id, bank.RewardData(name=fields.pop("name", "大米"), point_price=price, **fields)
    )
    if on_hand:
        stock.receive_stock(actor, made.id, on_hand, "到货")
    return made


def fund(*grants) -> None:
    """Give volunteers points for a test: ONE award transaction from the issuing account
    (the books check counts awards per visit, so call it once per test)."""
    issue = ledger.account(AccountKind.ISSUE)
    postings = [(ledger.account(AccountKind.VOLUNTEER, user.id), points) for user, points in grants]
    ledger.post(TxKind.AWARD, "test:fund", "test funding", [(issue, -sum(p for _, p in grants)), *postings])
    _db.session.commit()


def balance(user) -> int:
    return ledger.balance_of(AccountKind.VOLUNTEER, user.id)


def snapshot(db) -> dict:
    """Everything a refused request must leave unchanged."""
    db.session.expire_all()
    return {
        "transactions": count_rows(LedgerTransaction),
        "entries": count_rows(LedgerEntry),
        "vouchers": count_rows(Voucher),
        "movements": count_rows(StockMovement),
        "balances": dict(
            db.session.execute(sa.select(ledger.LedgerAccount.id, ledger.LedgerAccount.balance)).all()
        ),
        "stock": dict(db.session.execute(sa.select(Reward.id, Reward.stock)).all()),
    }


def books_ok() -> None:
    report = ledger.check_books()
    assert report.ok, report.problems


def other_street():
    """A second street with its own community worker and street officer."""
    tree = make_tree("别处")
    return (
        tree,
        make_user(Role.COMMUNITY_WORKER, community_id=tree["community"].id),
        make_user(Role.STREET_OFFICER, street_id=tree["street"].id),
    )


def community_ids():
    return worker(1).community_id, worker(2).community_id


# --- partners ---------------------------------------------------------------------------


def test_a_community_worker_adds_a_partner_in_their_street(db):
    partner = shop()
    street_id = db.session.scalar(sa.select(Community.street_id).where(Community.id == worker().community_id))
    assert partner.street_id == street_id == officer().street_id
    assert bank.get_partner(officer(), partner.id).id == partner.id  # the street shares its partners
    assert bank.get_partner(worker(2), partner.id).id == partner.id
    assert [u.id for u in bank.partner_users(worker(), partner.id)] == [partner_user().id]
    actions = db.session.scalars(
        sa.select(AuditEntry.action).where(
            AuditEntry.object_type == "partner", AuditEntry.object_id == partner.id
        )
    ).all()
    assert actions == ["create", "link_user"]


def test_partners_of_another_street_answer_not_found(db):
    partner = shop()
    _tree, foreign_worker, foreign_officer = other_street()
    for actor in (foreign_worker, foreign_officer):
        with pytest.raises(NotFound):
            bank.get_partner(actor, partner.id)
        with pytest.raises(NotFound):
            bank.update_partner(actor, partner.id, bank.PartnerData("改名", PartnerKind.CHARITY))
        assert partner.id not in db.session.scalars(bank.partners_stmt(actor)).all()
    db.session.refresh(partner)
    assert partner.name == "测试便民店"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (bank.PartnerData("", PartnerKind.MERCHANT), "invalid_name"),
        (bank.PartnerData("x" * 81, PartnerKind.MERCHANT), "invalid_name"),
        (bank.PartnerData("好店", "merchant"), "invalid_kind"),
        (bank.PartnerData("好店", PartnerKind.MERCHANT, contact_phone="12345"), "invalid_phone"),
        (bank.PartnerData("好店", PartnerKind.MERCHANT, contact_name="x" * 51), "invalid_contact_name"),
    ],
)
def test_bad_partner_details_are_refused(db, data, code):
    before = count_rows(Partner)
    with pytest.raises(InvalidInput) as refused:
        bank.create_partner(worker(), data)
    assert refused.value.code == code and refused.value.field
    assert count_rows(Partner) == before


def test_partner_names_are_unique_in_a_street_and_roles_are_checked(db):
    shop("老王面馆")
    with pytest.raises(Conflict) as taken:
        bank.create_partner(officer(), bank.PartnerData(" 老王面馆 ", PartnerKind.MERCHANT))
    assert taken.value.code == "partner_exists"
    with pytest.raises(Forbidden):
        bank.create_partner(volunteer(), bank.PartnerData("志愿店", PartnerKind.MERCHANT))
    with pytest.raises(Forbidden) as admin:
        bank.create_partner(user_by_phone(DEMO.admin), bank.PartnerData("管理店", PartnerKind.MERCHANT))
    assert admin.value.code == "no_street"
    # The same name in another street is another partner.
    _tree, foreign_worker, _officer = other_street()
    assert bank.create_partner(foreign_worker, bank.PartnerData("老王面馆", PartnerKind.MERCHANT)).id


def test_deactivating_a_partner_is_audited(db):
    partner = shop()
    bank.update_partner(
        worker(),
        partner.id,
        bank.PartnerData("测试便民店", PartnerKind.MERCHANT, "王经理", "010-12345678", False),
    )
    db.session.refresh(partner)
    assert partner.active is False and partner.contact_phone == "010-12345678"
    last = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.object_type == "partner").order_by(AuditEntry.id.desc())
    )
    assert last.action == "update" and last.fields == "active,contact_name,contact_phone"
    bank.update_partner(
        worker(), partner.id, bank.PartnerData("测试便民店", PartnerKind.MERCHANT, active=True)
    )
    bank.update_partner(
        worker(), partner.id, bank.PartnerData("测试便民店", PartnerKind.MERCHANT, active=False)
    )
    last = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id.desc()))
    assert last.action == "deactivate"


def test_linking_partner_users_by_mobile_number(db):
    partner = bank.create_partner(worker(), bank.PartnerData("联络店", PartnerKind.MERCHANT))
    for phone in (volunteer().phone, "13999999999", "", None):
        with pytest.raises(InvalidInput) as refused:
            bank.link_partner_user(worker(), partner.id, phone)
        assert refused.value.code == "not_a_partner_user" and refused.value.field == "phone"
    assert bank.link_partner_user(worker(), partner.id, f" {DEMO.partner} ").id == partner_user().id
    with pytest.raises(Conflict) as twice:
        bank.link_partner_user(officer(), partner.id, DEMO.partner)
    assert twice.value.code == "already_linked"
    bank.unlink_partner_user(worker(), partner.id, partner_user().id)
    assert db.session.get(PartnerUser, (partner.id, partner_user().id)) is None
    with pytest.raises(NotFound):
        bank.unlink_partner_user(worker(), partner.id, partner_user().id)


# --- rewards ------------------------------------------------------------------------------


def test_a_community_worker_offers_rewards_in_their_own_community_only(db):
    partner = shop()
    c1, c2 = community_ids()
    made = reward(partner, on_hand=0)
    assert made.community_id == c1 and made.stock == 0 and made.created_by_id == worker().id
    with pytest.raises(InvalidInput) as other:
        reward(partner, community_id=c2)
    assert other.value.code == "invalid_community"
    # Community 2's worker manages none of community 1's rewards.
    with pytest.raises(NotFound):
        bank.get_reward(worker(2), made.id)
    with pytest.raises(NotFound):
        stock.receive_stock(worker(2), made.id, 5)
    assert made.id not in [r.id for r, _ in stock.stock_overview(worker(2))]
    assert made.id in [r.id for r, _ in stock.stock_overview(officer())]


def test_a_street_officer_offers_street_wide_or_in_any_community_of_the_street(db):
    partner = shop()
    c1, c2 = community_ids()
    street_wide = reward(partner, actor=officer(), on_hand=0, community_id=None)
    assert street_wide.community_id is None
    assert reward(partner, actor=officer(), on_hand=0, community_id=c2).community_id == c2
    tree, _worker, _officer = other_street()
    with pytest.raises(InvalidInput) as foreign:
        reward(partner, actor=officer(), community_id=tree["community"].id)
    assert foreign.value.code == "invalid_community"
    with pytest.raises(NotFound):  # a community worker does not manage street-wide rewards
        bank.get_reward(worker(), street_wide.id)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"price": 0}, "invalid_price"),
        ({"price": -5}, "invalid_price"),
        ({"price": 1_000_001}, "invalid_price"),
        ({"price": 1.5}, "invalid_price"),
        ({"price": True}, "invalid_price"),
        ({"price": "100"}, "invalid_price"),
        ({"name": " "}, "invalid_name"),
        ({"description": "x" * 501}, "invalid_description"),
        ({"valid_until": "yesterday"}, "invalid_validity"),
        ({"valid_from": None}, "invalid_date"),
    ],
)
def test_bad_reward_details_are_refused(db, fields, code):
    partner = shop()
    before = count_rows(Reward)
    if fields.get("valid_until") == "yesterday":
        fields["valid_until"] = clock.today() - timedelta(days=1)
    with pytest.raises(InvalidInput) as refused:
        reward(partner, on_hand=0, **fields)
    assert refused.value.code == code
    assert count_rows(Reward) == before


def test_rewards_need_an_active_partner_of_the_street(db):
    partner = shop()
    _tree, foreign_worker, _officer = other_street()
    foreign = bank.create_partner(foreign_worker, bank.PartnerData("外街店", PartnerKind.MERCHANT))
    bank.update_partner(
        worker(), partner.id, bank.PartnerData("测试便民店", PartnerKind.MERCHANT, active=False)
    )
    for partner_id in (partner.id, foreign.id, 0, "1", None):
        with pytest.raises(InvalidInput) as refused:
            bank.create_reward(worker(), partner_id, bank.RewardData("油", 10, clock.today()))
        assert refused.value.code == "invalid_partner"


def test_editing_a_reward_keeps_its_partner_and_stock(db):
    partner = shop()
    made = reward(partner, price=100, on_hand=4)
    until = clock.today() + timedelta(days=60)
    bank.update_reward(
        worker(),
        made.id,
        bank.RewardData("大米10斤", 180, clock.today(), until, description="新米", active=False),
    )
    db.session.refresh(made)
    assert (made.name, made.point_price, made.valid_until, made.active, made.stock) == (
        "大米10斤",
        180,
        until,
        False,
        4,
    )
    assert made.partner_id == partner.id
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.object_type == "reward").order_by(AuditEntry.id.desc())
    )
    assert entry.action == "update" and entry.fields == "active,description,name,point_price,valid_until"


# --- stock ------------------------------------------------------------------------------------


def test_stock_moves_only_by_recorded_movements_and_reconciles(db):
    made = reward(shop(), on_hand=10)
    movement = stock.write_off_stock(worker(), made.id, 3, "受潮发霉")
    assert (movement.kind, movement.quantity, movement.note) == (MovementKind.WRITTEN_OFF, -3, "受潮发霉")
    stock.receive_stock(officer(), made.id, 2)
    book = stock.stock_book(worker(), made.id)
    assert book.reward.stock == 9 == book.moved and book.reconciles
    assert [(m.kind, m.quantity) for m in book.movements] == [
        (MovementKind.RECEIVED, 2),
        (MovementKind.WRITTEN_OFF, -3),
        (MovementKind.RECEIVED, 10),
    ]
    assert [(r.id, moved) for r, moved in stock.stock_overview(worker()) if r.id == made.id] == [(made.id, 9)]
    notes = db.session.scalars(
        sa.select(AuditEntry.note).where(AuditEntry.object_type == "reward", AuditEntry.object_id == made.id)
    ).all()
    assert notes[-2:] == ["-3: 受潮发霉", "+2"]
    books_ok()


def test_a_write_off_never_takes_stock_below_zero(db):
    made = reward(shop(), on_hand=2)
    before = snapshot(db)
    with pytest.raises(Conflict) as refused:
        stock.write_off_stock(worker(), made.id, 3, "丢失")
    assert refused.value.code == "insufficient_stock" and refused.value.field == "quantity"
    assert snapshot(db) == before
    stock.write_off_stock(worker(), made.id, 2, "过期")
    db.session.refresh(made)
    assert made.stock == 0
    books_ok()


@pytest.mark.parametrize("quantity", [0, -1, 100_001, 1.5, True, "5", None])
def test_bad_quantities_are_refused(db, quantity):
    made = reward(shop(), on_hand=5)
    before = snapshot(db)
    for move in (
        lambda: stock.receive_stock(worker(), made.id, quantity),
        lambda: stock.write_off_stock(worker(), made.id, quantity, "损坏"),
    ):
        with pytest.raises(InvalidInput) as refused:
            move()
        assert refused.value.code == "invalid_quantity"
    assert snapshot(db) == before


def test_a_write_off_needs_a_reason(db):
    made = reward(shop(), on_hand=5)
    before = snapshot(db)
    for reason in ("", " ", "x", None, "x" * 301):
        with pytest.raises(InvalidInput) as refused:
            stock.write_off_stock(worker(), made.id, 1, reason)
        assert refused.value.code == "invalid_reason"
    assert snapshot(db) == before


def test_only_staff_manage_the_shop(db):
    made = reward(shop(), on_hand=1)
    for user in (volunteer(), partner_user(), user_by_phone(DEMO.grid_worker)):
        with pytest.raises(Forbidden):
            stock.receive_stock(user, made.id, 1)
        with pytest.raises(Forbidden):
            bank.get_partner(user, made.partner_id)


# --- demo data -----------------------------------------------------------------------------


def test_the_demo_shop_is_made_through_the_services_once(db):
    """seed_demo (run by the test session) made the shop; a second call changes nothing."""
    from app.services.demo_bank import PARTNER_NAME, seed_demo_bank

    street_id = officer().street_id
    community_id = worker().community_id
    partner = db.session.scalar(sa.select(Partner).where(Partner.name == PARTNER_NAME))
    assert partner.street_id == street_id
    assert [u.id for u in bank.partner_users(worker(), partner.id)] == [partner_user().id]
    rows = [(r.name, r.point_price, r.stock, moved) for r, moved in stock.stock_overview(worker())]
    assert sorted(rows) == sorted([("理发券", 60, 30, 30), ("大米5斤", 120, 20, 20), ("食用油", 200, 10, 10)])
    assert {r.community_id for r, _ in stock.stock_overview(worker())} == {community_id}
    movements = db.session.scalars(
        sa.select(StockMovement.kind).where(
            StockMovement.reward_id.in_(sa.select(Reward.id).where(Reward.partner_id == partner.id))
        )
    ).all()
    assert movements == [MovementKind.RECEIVED] * 3  # stock came in through the stock service
    before = snapshot(db), count_rows(Partner), count_rows(AuditEntry)
    assert seed_demo_bank(street_id, community_id, worker(), partner_user()) is None
    assert (snapshot(db), count_rows(Partner), count_rows(AuditEntry)) == before
    books_ok()

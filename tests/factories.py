"""Test data as plain functions; call them inside an app context."""

import itertools

import sqlalchemy as sa

from app.extensions import db
from app.models import City, Community, Grid, Role, Street
from app.services.accounts import create_user

_phones = itertools.count(13900000000)


def next_phone() -> str:
    return str(next(_phones))


def make_tree(name: str = "测试") -> dict[str, object]:
    """A city, a street, one community with two grids; flushed."""
    city = db.session.scalar(sa.select(City).limit(1))
    street = Street(city_id=city.id, name=f"{name}街道")
    db.session.add(street)
    db.session.flush()
    community = Community(street_id=street.id, name=f"{name}社区")
    db.session.add(community)
    db.session.flush()
    grids = [Grid(community_id=community.id, name=f"{name}网格{i}") for i in (1, 2)]
    db.session.add_all(grids)
    db.session.flush()
    return {"street": street, "community": community, "grids": grids}


def make_user(role: Role, password: str = "test-pass-8642", **unit) -> object:
    """A user with one role in an org unit (street_id=, community_id= or grid_id=); committed."""
    user = create_user(f"测试{role.value}", next_phone(), password, [role], **unit)
    db.session.commit()
    return user


def user_by_phone(phone: str):
    from app.services.accounts import find_by_phone

    return find_by_phone(phone)


def make_household(
    actor,
    grid_id: int | None = None,
    *,
    room: str | None = None,
    head_name: str = "测试户主",
    consent: bool = True,
    today=None,
    **household_fields,
):
    """A household recorded through the real service by `actor` (a grid worker
    or above), in the actor's grid unless `grid_id` is given; committed."""
    from app import clock
    from app.services.households import ConsentData, HouseholdData, MemberData, create_household

    today = today or clock.today()
    data = HouseholdData(
        grid_id=grid_id or actor.grid_id,
        building=household_fields.pop("building", "3号楼"),
        unit=household_fields.pop("unit", "2"),
        room=room or str(next(_rooms)),
        contact_phone=household_fields.pop("contact_phone", next_phone()),
        **household_fields,
    )
    head = MemberData(name=head_name, relation=None)
    given = ConsentData(on=today, scope="健康、收入和身份证号用于帮扶") if consent else None
    return create_household(actor, data, head, today, consent=given)


_rooms = itertools.count(101)


def purge_ledger(transaction_ids) -> None:
    """Remove ledger transactions committed for real by a concurrency test, and
    put the cached balances and the honour-board tallies back. Ledger rows
    refuse DELETE by trigger, so this runs with triggers off for its
    transaction (PostgreSQL only; superuser)."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import LedgerAccount, LedgerEntry, LedgerTransaction, TxKind
    from app.services import honour_tally

    ids = list(transaction_ids)
    if not ids:
        return
    awards = db.session.execute(
        sa.select(
            LedgerTransaction.earner_id, LedgerTransaction.community_id, LedgerTransaction.created_at
        ).where(LedgerTransaction.id.in_(ids), LedgerTransaction.kind == TxKind.AWARD)
    ).all()
    db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    for account_id, amount in db.session.execute(
        sa.select(LedgerEntry.account_id, LedgerEntry.amount).where(LedgerEntry.transaction_id.in_(ids))
    ).all():
        db.session.execute(
            sa.update(LedgerAccount)
            .where(LedgerAccount.id == account_id)
            .values(balance=LedgerAccount.balance - amount)
        )
    db.session.execute(sa.delete(LedgerEntry).where(LedgerEntry.transaction_id.in_(ids)))
    db.session.execute(
        sa.update(LedgerTransaction).where(LedgerTransaction.id.in_(ids)).values(reverses_id=None)
    )
    db.session.execute(sa.delete(LedgerTransaction).where(LedgerTransaction.id.in_(ids)))
    for earner_id, community_id, created_at in awards:
        honour_tally.refresh_award_rows(earner_id, community_id, created_at)


def at_once(app, calls) -> list[str]:
    """Run each call in its own thread, app context and database session, all
    released together; the sorted answers: what a call returns, or the code
    of the DomainError it raises. For races that need real commits."""
    import threading

    from app.extensions import db
    from app.services.errors import DomainError

    start = threading.Barrier(len(calls))
    answers: list[str] = []
    guard = threading.Lock()

    def run(call) -> None:
        with app.app_context(), app.test_request_context():
            db.session.rollback()  # hold no transaction (on SQLite: no write lock) while waiting
            start.wait()
            try:
                answer = call()
            except DomainError as error:
                answer = error.code
            finally:
                db.session.remove()
        with guard:
            answers.append(answer)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == len(calls), "a racing thread did not finish"
    return sorted(answers)

"""Rotating DATA_KEY rewrites every ID number and blind index under the new key, all or nothing."""

import base64
import hashlib
import hmac

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from app import crypto
from app.models import AuditEntry, Member
from app.services import key_rotation

OLD, NEW = "testing-data-key", "a-brand-new-data-key"


def fernet(secret: str) -> Fernet:
    """The Fernet key of app/crypto.py, rebuilt here from its documented derivation."""
    derived = hmac.new(secret.encode(), b"fernet-v1", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def stored(db) -> dict[int, str]:
    """Member id → the ciphertext as it lies in the database."""
    table = Member.__table__
    rows = db.session.execute(
        sa.select(table.c.id, sa.type_coerce(table.c.id_number, sa.Text)).where(
            table.c.id_number.is_not(None)
        )
    )
    return dict(rows.all())


def plaintexts(db) -> dict[int, str]:
    db.session.expire_all()
    return dict(
        db.session.execute(sa.select(Member.id, Member.id_number).where(Member.id_number.is_not(None))).all()
    )


@pytest.fixture
def rotating(app, monkeypatch):
    monkeypatch.setitem(app.config, "DATA_KEY", NEW)
    monkeypatch.setitem(app.config, "DATA_KEY_OLD", OLD)


def test_without_an_old_key_nothing_happens(app, db, runner):
    before = stored(db)
    result = runner.invoke(args=["rotate-data-key"])
    assert result.exit_code == 1 and "DATA_KEY_OLD is not set" in result.output
    assert stored(db) == before


def test_rotation_rewrites_every_value_and_index(app, db, runner, monkeypatch):
    numbers = plaintexts(db)
    assert len(numbers) >= 3  # the demo households carry ID numbers
    monkeypatch.setitem(app.config, "DATA_KEY", NEW)
    monkeypatch.setitem(app.config, "DATA_KEY_OLD", OLD)
    assert plaintexts(db) == numbers  # readable under the old key meanwhile

    result = runner.invoke(args=["rotate-data-key"])
    assert result.exit_code == 0, result.output
    assert f"Rewrote {len(numbers)} encrypted values and {len(numbers)} blind indexes" in result.output

    for member_id, ciphertext in stored(db).items():
        assert fernet(NEW).decrypt(ciphertext.encode()).decode() == numbers[member_id]
        with pytest.raises(InvalidToken):
            fernet(OLD).decrypt(ciphertext.encode())
    monkeypatch.setitem(app.config, "DATA_KEY_OLD", None)  # the old key is gone
    assert plaintexts(db) == numbers
    indexes = dict(
        db.session.execute(sa.select(Member.id, Member.id_index).where(Member.id_index.is_not(None))).all()
    )
    assert indexes == {member_id: crypto.blind_index(number) for member_id, number in numbers.items()}
    expected = hmac.new(
        hmac.new(NEW.encode(), b"blind-index-v1", hashlib.sha256).digest(), b"x", hashlib.sha256
    ).hexdigest()
    assert crypto.blind_index("x") == expected  # the index is keyed by the new key
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "rotate_data_key")).one()
    assert entry.note == f"{len(numbers)} values, {len(numbers)} indexes"
    assert not any(number in entry.note for number in numbers.values())


def test_a_second_run_changes_nothing_readable(app, db, rotating):
    numbers = plaintexts(db)
    key_rotation.rotate_data_key()
    key_rotation.rotate_data_key()  # e.g. run again by mistake before DATA_KEY_OLD was removed
    assert plaintexts(db) == numbers


def test_an_unreadable_value_stops_the_rotation_with_nothing_changed(app, db, runner, rotating):
    before = stored(db)
    damaged = db.session.scalars(sa.select(Member.id).where(Member.id_number.is_(None))).first()
    db.session.execute(
        sa.update(Member.__table__)
        .where(Member.__table__.c.id == damaged)
        .values(id_number=sa.type_coerce(fernet("some-unknown-key").encrypt(b"x").decode(), sa.Text))
    )
    db.session.commit()
    result = runner.invoke(args=["rotate-data-key"])
    assert result.exit_code == 1 and "cannot decrypt" in result.output
    after = stored(db)
    del after[damaged]
    assert after == before  # every other value still under the old key

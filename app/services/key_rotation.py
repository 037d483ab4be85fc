"""Rotating DATA_KEY: every encrypted value and blind index rewritten under the new key.

Procedure (README.md, "Security"): set DATA_KEY to the new key and
DATA_KEY_OLD to the old one, stop the web processes, run
`flask rotate-data-key`, start them again and remove DATA_KEY_OLD. The
rewrite is one database transaction: if anything fails (a value no key can
read, say) nothing is changed and the old key keeps working.

Blind indexes cannot be converted, only recomputed from the value, so the
web processes stay stopped meanwhile: a lookup by ID number under the new
key would miss a row not yet rewritten.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from app import crypto
from app.extensions import db
from app.models import Member
from app.models.types import EncryptedString
from app.services import audit
from app.services.errors import DomainError

BATCH = 1000


class RotationRefused(DomainError):
    status = 409
    code = "no_old_key"


@dataclass(frozen=True)
class RotationReport:
    values: int  # encrypted values rewritten, over every encrypted column
    indexes: int  # blind indexes recomputed


def encrypted_columns() -> list[sa.Column]:
    """Every column of the schema stored with EncryptedString."""
    return [
        column
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedString)
    ]


def rotate_data_key(actor=None) -> RotationReport:
    """Rewrite every encrypted value and blind index under DATA_KEY, then commit."""
    if not crypto.old_keys():
        raise RotationRefused("DATA_KEY_OLD is not set: there is no old key to rotate from.")
    values = sum(_rewrite(column) for column in encrypted_columns())
    indexes = _reindex_members()
    audit.record(actor, "rotate_data_key", "data_key", note=f"{values} values, {indexes} indexes")
    db.session.commit()
    return RotationReport(values=values, indexes=indexes)


def _raw(column: sa.Column):
    """The column as stored: ciphertext, with no decryption on the way out or in."""
    return sa.type_coerce(column, sa.Text)


def _pages(key: sa.Column, stmt: sa.Select):
    """The rows of `stmt` (whose first column is `key`) in key order, BATCH at a time."""
    last = None
    while True:
        page = stmt.order_by(key) if last is None else stmt.where(key > last).order_by(key)
        rows = db.session.execute(page.limit(BATCH)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _rewrite(column: sa.Column) -> int:
    table, key = column.table, column.table.primary_key.columns.values()[0]
    update = (
        sa.update(table)
        .where(key == sa.bindparam("row_id"))
        .values({column.name: sa.type_coerce(sa.bindparam("value"), sa.Text)})
    )
    done = 0
    for rows in _pages(key, sa.select(key, _raw(column)).where(column.is_not(None))):
        db.session.execute(
            update, [{"row_id": row_id, "value": crypto.reencrypt(value)} for row_id, value in rows]
        )
        done += len(rows)
    return done


def _reindex_members() -> int:
    """Recompute each member's blind index from the (now re-encrypted) ID number."""
    table = Member.__table__
    update = (
        sa.update(table).where(table.c.id == sa.bindparam("row_id")).values(id_index=sa.bindparam("index"))
    )
    done = 0
    for rows in _pages(
        table.c.id, sa.select(table.c.id, table.c.id_number).where(table.c.id_number.is_not(None))
    ):
        db.session.execute(
            update, [{"row_id": row_id, "index": crypto.blind_index(number)} for row_id, number in rows]
        )
        done += len(rows)
    return done

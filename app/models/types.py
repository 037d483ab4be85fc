"""Column types shared by the models."""

from datetime import UTC, datetime

import sqlalchemy as sa


def utcnow() -> datetime:
    """The current time, aware UTC, from the app's one clock (tests can set it)."""
    from app import clock  # app.clock imports nothing of ours; kept lazy for model import order

    return clock.now()


class UTCDateTime(sa.TypeDecorator):
    """A timestamp stored as naive UTC and always read back as aware UTC.

    SQLite drops time zones and PostgreSQL's `timestamp without time zone`
    does too; storing UTC everywhere and attaching it on the way out keeps
    both databases and every comparison in Python the same.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_column(enum_cls, length: int = 32) -> sa.Enum:
    """An enum stored by name in a VARCHAR (no native type to migrate)."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        validate_strings=True,
    )


class EncryptedString(sa.TypeDecorator):
    """A string encrypted with DATA_KEY on the way in, decrypted on the way out."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        from app.crypto import encrypt

        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        from app.crypto import decrypt

        return None if value is None else decrypt(value)

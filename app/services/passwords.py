"""Password rules for a password someone chooses: length, not common, not the phone number."""

from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

from app.services.errors import InvalidInput

PASSWORD_MIN_LENGTH = 8
# Hashing cost grows with length; nobody types more than this on a phone.
PASSWORD_MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"


@cache
def common_passwords() -> frozenset[str]:
    """The list of passwords too common to allow, lower-case (read once per process)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    """True if the password, ignoring case and surrounding spaces, is on the common list."""
    return password.strip().casefold() in common_passwords()


def check_password(password: str, phone: str | None = None, field: str = "password") -> str:
    """The password if it is acceptable to choose, else InvalidInput(code="weak_password").

    Applies when a password is chosen (registration, change, new staff or
    admin), never at login, so existing passwords keep working.
    """
    password = password or ""
    if len(password) < PASSWORD_MIN_LENGTH:
        message = _l("The password must be at least %(n)d characters.", n=PASSWORD_MIN_LENGTH)
    elif len(password) > PASSWORD_MAX_LENGTH:
        message = _l("The password must be at most %(n)d characters.", n=PASSWORD_MAX_LENGTH)
    elif is_common(password):
        message = _l("This password is one of the most common and easy to guess. Choose another.")
    elif phone and phone in password:
        message = _l("The password must not contain your mobile number.")
    else:
        return password
    raise InvalidInput(message, code="weak_password", field=field)

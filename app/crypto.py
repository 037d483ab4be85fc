"""Encryption at rest for sensitive fields, and blind indexes to look them up.

Both keys derive from DATA_KEY with distinct labels, so one secret is set in
production while the ciphertext key and the index key stay independent.
Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) gives authenticated
encryption; a tampered ciphertext fails to decrypt instead of reading wrong.

Rotation: with DATA_KEY_OLD set (the previous key, or several separated by
commas), values are still read under the old keys and always written under
DATA_KEY; `flask rotate-data-key` (app/services/key_rotation.py) then
rewrites every stored value and blind index under DATA_KEY, after which
DATA_KEY_OLD is removed.
"""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

_cache: dict[tuple[str, ...], MultiFernet] = {}


def _derive(label: str, secret: str | None = None) -> bytes:
    secret = secret if secret is not None else current_app.config["DATA_KEY"]
    return hmac.new(secret.encode(), label.encode(), hashlib.sha256).digest()


def old_keys() -> list[str]:
    """The previous DATA_KEYs still accepted for reading, from DATA_KEY_OLD."""
    value = current_app.config.get("DATA_KEY_OLD") or ""
    return [key.strip() for key in value.split(",") if key.strip()]


def _fernet() -> MultiFernet:
    """Encrypts under DATA_KEY; decrypts under DATA_KEY or any old key."""
    secrets = (current_app.config["DATA_KEY"], *old_keys())
    if secrets not in _cache:
        _cache[secrets] = MultiFernet(
            [Fernet(base64.urlsafe_b64encode(_derive("fernet-v1", secret))) for secret in secrets]
        )
    return _cache[secrets]


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise ValueError("cannot decrypt: wrong DATA_KEY or damaged value") from None


def reencrypt(ciphertext: str) -> str:
    """The same value encrypted under DATA_KEY (MultiFernet.rotate keeps its timestamp)."""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise ValueError("cannot decrypt: wrong DATA_KEY or damaged value") from None


def blind_index(value: str) -> str:
    """A keyed hash of `value`: equal values match, the value cannot be read back."""
    return hmac.new(_derive("blind-index-v1"), value.encode(), hashlib.sha256).hexdigest()

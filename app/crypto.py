"""Encryption at rest for sensitive fields, and blind indexes to look them up.

Both keys derive from DATA_KEY with distinct labels, so one secret is set in
production while the ciphertext key and the index key stay independent.
Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) gives authenticated
encryption; a tampered ciphertext fails to decrypt instead of reading wrong.
"""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

_cache: dict[str, Fernet] = {}


def _derive(label: str) -> bytes:
    secret = current_app.config["DATA_KEY"].encode()
    return hmac.new(secret, label.encode(), hashlib.sha256).digest()


def _fernet() -> Fernet:
    secret = current_app.config["DATA_KEY"]
    if secret not in _cache:
        _cache[secret] = Fernet(base64.urlsafe_b64encode(_derive("fernet-v1")))
    return _cache[secret]


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise ValueError("cannot decrypt: wrong DATA_KEY or damaged value") from None


def blind_index(value: str) -> str:
    """A keyed hash of `value`: equal values match, the value cannot be read back."""
    return hmac.new(_derive("blind-index-v1"), value.encode(), hashlib.sha256).hexdigest()

"""Encryption of store secrets at rest (Fernet / MultiFernet from `cryptography`).

Keys come from settings.SHIPBRIDGE_ENCRYPTION_KEYS: the first key encrypts, every key decrypts,
so rotation is: put a new key first, run `manage.py rotate_encryption_keys`, drop the old key.
"""
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_noop

# The messages below are kept (a refresh's error, a connection test's outcome): English here,
# shown in the reader's language with stores.i18n.translated().


class SecretDecryptionError(Exception):
    """A stored secret cannot be read with the configured keys (wrong or missing key)."""


def _fernet() -> MultiFernet:
    keys = settings.SHIPBRIDGE_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured(gettext_noop("SHIPBRIDGE_ENCRYPTION_KEYS is empty."))
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(gettext_noop(
            "SHIPBRIDGE_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes)."
        )) from exc


def encrypt_json(data: dict) -> str:
    if not data:
        return ""
    return _fernet().encrypt(json.dumps(data, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise SecretDecryptionError(gettext_noop(
            "Stored store secrets cannot be decrypted with SHIPBRIDGE_ENCRYPTION_KEYS "
            "(wrong key, or the key that encrypted them was removed)."
        )) from exc


def rotate_token(token: str) -> str:
    if not token:
        return token
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError(gettext_noop(
            "A stored secret cannot be decrypted with any configured key; rotation stopped."
        )) from exc

"""Encryption at rest for tokens and client secrets, with dedicated keys and rotation.

Keys come from ``ACCOUNTING_SYNC["ENCRYPTION_KEYS"]`` (Fernet keys; the first encrypts, all decrypt), read at
call time. A value that no key can decrypt never falls back to the ciphertext, so a wrong key cannot leak
ciphertext into an Authorization header: ``decrypt`` raises ``DecryptionError``, and a model field reads it as
``Undecryptable`` (not a string), so the row still loads, the connection can say what is wrong, and saving the row
keeps the stored value for the day the old key is restored.
"""
from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


class DecryptionError(Exception):
    """Raised when a stored secret cannot be decrypted with any configured key (wrong or removed key)."""


def _keys() -> tuple:
    keys = getattr(settings, "ACCOUNTING_SYNC", {}).get("ENCRYPTION_KEYS") or []
    if not keys:
        raise ImproperlyConfigured("ACCOUNTING_SYNC['ENCRYPTION_KEYS'] is empty: set at least one Fernet key.")
    return tuple(keys)


def _fernet() -> MultiFernet:
    return _fernet_for(_keys())


@functools.lru_cache(maxsize=8)
def _fernet_for(keys: tuple) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"ACCOUNTING_SYNC['ENCRYPTION_KEYS'] holds an invalid Fernet key: {exc}") from exc


def encrypt(plaintext: str) -> str:
    return PREFIX + _fernet().encrypt(plaintext.encode()).decode()


def seal(value):
    """A secret setting's value as stored: a non-empty string encrypted (once), anything else as it is."""
    if isinstance(value, str) and value and not value.startswith(PREFIX):
        return encrypt(value)
    return value


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise DecryptionError("stored secret is not in the encrypted format")
    return _decrypt(_keys(), stored)


@functools.lru_cache(maxsize=1024)
def _decrypt(keys: tuple, stored: str) -> str:
    """One stored secret decrypted once per process and set of keys: a connection's row is read several times per
    document, each read decrypting its tokens and client secret (a Fernet signature check and an AES decryption
    each, about a twentieth of a busy worker's CPU). The same ciphertext always holds the same secret; a secret
    that no key decrypts raises again every time (exceptions are not cached)."""
    try:
        return _fernet_for(keys).decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        raise DecryptionError("no configured encryption key can decrypt this secret "
                              "(was ACCOUNTING_SYNC['ENCRYPTION_KEYS'] changed?)") from None


KEYS_CHANGED = ("the encryption keys changed: no key in ACCOUNTING_SYNC['ENCRYPTION_KEYS'] can decrypt this "
                "connection's stored secrets")
KEYS_CHANGED_HINT = ("Restore the previous key (first the new key, then the old one, if you meant to rotate: then run "
                     "accounting_sync_rotate_keys), or reconnect the connection and enter its client secret again.")


class Undecryptable:
    """What an encrypted field holds when no configured key decrypts its stored value.

    Not a string, so it cannot be sent anywhere; it renders as an empty string in forms. Saving the row writes
    the original stored value back unchanged."""

    __slots__ = ("stored",)

    def __init__(self, stored: str) -> None:
        self.stored = stored

    def __str__(self) -> str:
        return ""

    def __repr__(self) -> str:
        return "<undecryptable secret>"

    def __eq__(self, other) -> bool:
        return isinstance(other, Undecryptable) and other.stored == self.stored

    def __hash__(self) -> int:
        return hash(self.stored)


def rotate(stored: str) -> str:
    """Re-encrypt with the first key (after adding a new key in front of the old ones)."""
    return PREFIX + _fernet().rotate(stored[len(PREFIX):].encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column stored encrypted. Empty strings stay empty (nothing to hide)."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        try:
            return decrypt(value)
        except DecryptionError:
            return Undecryptable(value)

    def get_prep_value(self, value):
        if isinstance(value, Undecryptable):
            return value.stored
        value = super().get_prep_value(value)
        return encrypt(value) if value else value

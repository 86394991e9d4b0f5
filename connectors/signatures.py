"""HMAC signatures of webhook deliveries: one helper for every platform that signs its notifications.

A platform signs the raw body with a shared secret and sends the digest in a header, base64- or hex-encoded.
We recompute it over the bytes we received (never over re-serialized JSON) and compare in constant time, so a
timing difference tells an attacker nothing about how much of a forged signature was right.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

ENCODINGS = ("base64", "hex")


def sign(body: bytes, secret: str | bytes, *, algorithm: str = "sha256", encoding: str = "base64") -> str:
    """The signature of ``body``: HMAC-``algorithm`` with ``secret``, encoded as ``encoding``."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, not {encoding!r}")
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, body, getattr(hashlib, algorithm)).digest()
    return base64.b64encode(digest).decode() if encoding == "base64" else digest.hex()


def verify(body: bytes, secret: str | bytes, signature: str | None, *, algorithm: str = "sha256",
           encoding: str = "base64") -> bool:
    """True when ``signature`` is ``body``'s signature with ``secret``. False for an empty secret or signature:
    an unconfigured secret must never accept everything. Hex signatures compare case-insensitively."""
    if not secret or not signature:
        return False
    expected = sign(body, secret, algorithm=algorithm, encoding=encoding)
    given = signature.strip()
    if encoding == "hex":
        given, expected = given.lower(), expected.lower()
    return hmac.compare_digest(given.encode(), expected.encode())


def header(headers: dict[str, str], name: str) -> str:
    """A header's value whatever its case ("" when absent): frameworks and proxies change header case."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), "")

"""NetSuite token-based authentication (TBA): OAuth 1.0a request signing with HMAC-SHA256 and ``realm`` = the
account id, as NetSuite's help describes it ("The Signature for Web Services and RESTlets"; "Using TBA for
REST Web Services"). Standard library only, so the sandbox verifies with the same rules the client signs with.

The base string is RFC 5849 section 3.4.1: the method, the base URI (scheme and host in lower case, the default
port left out, no query) and the normalised parameters (query parameters and the ``oauth_*`` parameters without
``realm`` and ``oauth_signature``, each name and value percent-encoded, sorted). A JSON body is not signed
(RFC 5849 signs only form bodies). The key is ``consumer_secret&token_secret``, each percent-encoded.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from urllib.parse import parse_qsl, quote, unquote, urlsplit

SIGNATURE_METHOD = "HMAC-SHA256"


def encode(value: str) -> str:
    """RFC 5849 percent-encoding: everything but ALPHA, DIGIT, ``-._~``."""
    return quote(str(value), safe="-._~")


def realm(account_id: str) -> str:
    """NetSuite's realm is the account id in upper case with ``_`` before a sandbox suffix (``123456_SB1``); the
    host uses ``-`` and lower case (``123456-sb1``)."""
    return account_id.strip().upper().replace("-", "_")


def base_uri(url: str) -> str:
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def base_string(method: str, url: str, oauth_params: dict[str, str]) -> str:
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    pairs = [(encode(k), encode(v)) for k, v in query]
    pairs += [(encode(k), encode(v)) for k, v in oauth_params.items() if k not in ("realm", "oauth_signature")]
    normalized = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    return "&".join((method.upper(), encode(base_uri(url)), encode(normalized)))


def signature(method: str, url: str, oauth_params: dict[str, str], consumer_secret: str, token_secret: str) -> str:
    key = f"{encode(consumer_secret)}&{encode(token_secret)}".encode()
    digest = hmac.new(key, base_string(method, url, oauth_params).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def authorization(method: str, url: str, account_id: str, consumer_key: str, consumer_secret: str, token_id: str,
                  token_secret: str, *, nonce: str | None = None, timestamp: int | None = None) -> str:
    """The ``Authorization: OAuth realm="...", oauth_...`` header for one request."""
    params = {"oauth_consumer_key": consumer_key, "oauth_token": token_id, "oauth_signature_method": SIGNATURE_METHOD,
              "oauth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
              "oauth_nonce": nonce or secrets.token_hex(10), "oauth_version": "1.0"}
    params["oauth_signature"] = signature(method, url, params, consumer_secret, token_secret)
    fields = [f'realm="{realm(account_id)}"'] + [f'{k}="{encode(v)}"' for k, v in params.items()]
    return "OAuth " + ", ".join(fields)


_FIELD = re.compile(r'([A-Za-z_]+)="([^"]*)"')


def parse(header: str) -> dict[str, str] | None:
    """The fields of an ``OAuth ...`` header, decoded; None when it is not one."""
    if header[:6].lower() != "oauth ":
        return None
    return {k: unquote(v) for k, v in _FIELD.findall(header[6:])}

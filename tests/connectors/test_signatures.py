"""The shared HMAC webhook-signature helper."""
import base64
import hashlib
import hmac

import pytest

from connectors.signatures import header, sign, verify

BODY = b'{"event": "invoice.update", "id": "7"}'


def test_sign_matches_a_plain_hmac_in_base64_and_hex():
    raw = hmac.new(b"k", BODY, hashlib.sha256).digest()
    assert sign(BODY, "k") == base64.b64encode(raw).decode()
    assert sign(BODY, b"k", encoding="hex") == raw.hex()
    assert sign(BODY, "k", algorithm="sha1", encoding="hex") == hmac.new(b"k", BODY, hashlib.sha1).hexdigest()


@pytest.mark.parametrize("encoding", ["base64", "hex"])
def test_verify_accepts_the_signature_and_refuses_tampering(encoding):
    signature = sign(BODY, "secret", encoding=encoding)
    assert verify(BODY, "secret", signature, encoding=encoding)
    assert not verify(BODY.replace(b"7", b"8"), "secret", signature, encoding=encoding)
    assert not verify(BODY, "other", signature, encoding=encoding)


def test_hex_is_case_insensitive_and_whitespace_is_ignored():
    assert verify(BODY, "secret", " " + sign(BODY, "secret", encoding="hex").upper(), encoding="hex")


@pytest.mark.parametrize("secret, signature", [("", "x"), ("secret", ""), ("secret", None)])
def test_nothing_configured_accepts_nothing(secret, signature):
    assert not verify(BODY, secret, signature)


def test_unknown_encoding_is_refused():
    with pytest.raises(ValueError):
        sign(BODY, "k", encoding="base32")


def test_header_lookup_ignores_case():
    assert header({"X-Signature": "abc"}, "x-signature") == "abc" and header({}, "X-Signature") == ""

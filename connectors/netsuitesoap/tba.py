"""NetSuite token-based authentication for SOAP: the ``tokenPassport`` signature.

The signature is HMAC-SHA256, base64, over ``account&consumerKey&tokenId&nonce&timestamp`` with the key
``consumerSecret&tokenSecret`` (NetSuite's help, "The tokenPassport Complex Type"). Used by the connector to sign
and by the sandbox to check; standard library only.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

ALGORITHM = "HMAC-SHA256"


def signature(account: str, consumer_key: str, consumer_secret: str, token_id: str, token_secret: str,
              nonce: str, timestamp: int) -> str:
    base = "&".join((account, consumer_key, token_id, nonce, str(timestamp)))
    key = f"{consumer_secret}&{token_secret}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()).decode()

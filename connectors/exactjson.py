"""JSON for money: ``Decimal`` written digit for digit as a JSON number, and a ``float`` anywhere refused.

``json`` cannot write a ``Decimal`` as a number, and converting to ``float`` loses cents (0.1 + 0.2). Every
connector encodes request bodies with ``dumps``; responses are parsed with ``json.loads(parse_float=Decimal)``.
"""
from __future__ import annotations

import json
import secrets
from decimal import Decimal

_NONCE = secrets.token_hex(6)
_MARK, _END = f"dec{_NONCE}:", f":ced{_NONCE}"  # around a Decimal's digits in a string, removed with its quotes


def dumps(payload) -> str:
    """JSON with Decimals written as exact numbers; a float anywhere in the payload is refused. Each Decimal is
    written as a marked string whose marks and quotes two plain replacements remove (cheaper than a regular
    expression substituting each number of a large listing)."""
    return json.dumps(_mark(payload), ensure_ascii=False).replace('"' + _MARK, "").replace(_END + '"', "")


def _mark(value):
    if isinstance(value, float):
        raise TypeError(f"float {value!r} in a payload; money must be Decimal")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError(f"{value!r} in a payload")
        return _MARK + format(value, "f") + _END
    if isinstance(value, dict):
        return {k: _mark(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mark(v) for v in value]
    return value

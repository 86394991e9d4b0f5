"""Keep secrets out of logs, sync-log rows and admin pages."""
from __future__ import annotations

import logging
import re
from typing import Any

SECRET_KEYS = {
    "access_token", "refresh_token", "client_secret", "authorization", "id_token", "password",
    "code_verifier", "webhook_key", "verifier_token",
}
MASK = "[redacted]"
_BEARER = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_PAIR = re.compile(r"((?:{})[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}}]+".format("|".join(sorted(SECRET_KEYS))), re.IGNORECASE)


def redact(value: Any) -> Any:
    """Return a copy of ``value`` with secret-looking keys and bearer strings masked."""
    if isinstance(value, dict):
        return {k: (MASK if str(k).lower() in SECRET_KEYS else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _PAIR.sub(lambda m: m.group(1) + MASK, _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", value))
    return value


class RedactingFilter(logging.Filter):
    """Logging filter that masks tokens in every record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(str(record.msg))
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, (str, dict, list)) else a for a in record.args) \
                if isinstance(record.args, tuple) else redact(record.args)
        return True

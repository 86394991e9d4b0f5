"""Kashoo over the shared request loop. Every call carries ``Authorization: TOKEN json:{...}``: the token the
connection stores is the whole ``json:{...}`` text, the shared loop adds the ``TOKEN`` scheme. Record lists are
polled by date range (``startDate``, ``endDate``, ``limit``); ``offset`` pages on (a guess: the public pages name
only the three date-range parameters; see docs/connectors/kashoo.md)."""
from __future__ import annotations

from collections.abc import Iterator

from ..http import ApiClient
from . import errors

PAGE_SIZE = 100  # guessed largest ``limit``


class KashooClient(ApiClient):
    platform = "Kashoo"
    auth_scheme = "TOKEN"
    classify = staticmethod(errors.classify)

    def default_headers(self) -> dict:
        return {"Accept": "application/json"}

    def list(self, path: str, **params) -> Iterator[dict]:
        """Every row of a list answer (a JSON array), ``limit`` at a time, ``offset`` moving on."""
        offset = 0
        while True:
            rows = self.request("GET", path, params={**params, "limit": PAGE_SIZE, "offset": offset})
            rows = rows if isinstance(rows, list) else (rows or {}).get("items") or []
            yield from rows
            if len(rows) < PAGE_SIZE:
                return
            offset += len(rows)

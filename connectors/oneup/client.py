"""OneUp REST JSON (API v1) over the shared request loop.

Every call carries HTTP Basic authentication: the API email as the user name, the API key as the password. That
is what the official PHP client of myERP (OneUp's former name) sends and what public scripts against
``api.oneup.com/v1`` send. The token the connection stores is the ``base64(email:key)`` text (encrypted at rest);
the shared loop adds the ``Basic`` scheme. Lists are JSON arrays paged with ``offset`` and ``limit`` (public
scripts); another page follows while the answer says so in ``X-OneUp-Has-Next-Page`` (GUESS: myERP answered
``X-MyERP-Has-Next-Page``) or, without that header, while a page comes back full. See docs/connectors/oneup.md.
"""
from __future__ import annotations

import base64
from collections.abc import Iterator

from ..http import ApiClient, parse_json
from . import errors

API_BASE = "https://api.oneup.com/v1"
PAGE_SIZE = 100  # the page size public scripts use; the largest ``limit`` is not documented to us
#: The "another page follows" header: OneUp's (GUESS) and myERP's (seen in the official client's fixtures).
NEXT_PAGE_HEADERS = ("X-OneUp-Has-Next-Page", "X-MyERP-Has-Next-Page")


def basic_token(api_email: str, api_key: str) -> str:
    """The text after ``Basic`` in the Authorization header: base64 of ``email:key``."""
    return base64.b64encode(f"{api_email}:{api_key}".encode()).decode()


class OneUpClient(ApiClient):
    platform = "OneUp"
    auth_scheme = "Basic"
    classify = staticmethod(errors.classify)

    def list(self, path: str, **params) -> Iterator[dict]:
        """Every row of a list (a JSON array), ``limit`` at a time, ``offset`` moving on."""
        offset = 0
        while True:
            response = self.send("GET", path, params={**params, "limit": PAGE_SIZE, "offset": offset})
            rows = parse_json(response)
            rows = rows if isinstance(rows, list) else []
            yield from rows
            flag = next((response.headers[h] for h in NEXT_PAGE_HEADERS if h in response.headers), None)
            more = flag.strip().lower() == "true" if flag is not None else len(rows) >= PAGE_SIZE
            if not more or not rows:
                return
            offset += len(rows)

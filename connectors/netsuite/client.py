"""NetSuite REST web services on the shared request loop.

- Auth: token-based authentication (TBA, OAuth 1.0a HMAC-SHA256 signed per request, :mod:`.tba`) or an OAuth 2.0
  bearer token (the kit's OAuth2). With TBA the loop's ``Authorization`` header is replaced by the request's
  signature (:class:`TbaSession`), as the Acumatica and Bill.com clients turn it into their own headers.
- ``POST /record/v1/<type>`` answers 204 with the new record's URL in ``Location``; ``PATCH`` and ``DELETE`` answer
  204; ``PUT /record/v1/<type>/eid:<externalId>`` upserts. A write may carry ``X-NetSuite-Idempotency-Key``.
- SuiteQL: ``POST /query/v1/suiteql`` with ``Prefer: transient``, pages by ``limit``/``offset`` until ``hasMore``
  is false.
"""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import requests

from ..errors import DuplicateError
from ..http import ApiClient
from . import errors, tba

SUITEQL_PAGE = 1000  # SuiteQL's largest page
TBA_SCHEME = "NetSuite-TBA"


class TbaSession(requests.Session):
    """Signs each request with TBA: the loop's ``Authorization: NetSuite-TBA <anything>`` becomes the OAuth 1.0a
    header for this method and URL (query included). ``credentials`` is (account, consumer key, consumer secret,
    token id, token secret)."""

    def __init__(self, credentials: tuple[str, str, str, str, str]) -> None:
        super().__init__()
        self.credentials = credentials

    def request(self, method, url, *args, params=None, headers=None, **kwargs):  # noqa: D401 - requests' own
        headers = dict(headers or {})
        if headers.get("Authorization", "").startswith(TBA_SCHEME):
            full = requests.Request(method, url, params=params).prepare().url
            headers["Authorization"] = tba.authorization(method, full, *self.credentials)
        return super().request(method, url, *args, params=params, headers=headers, **kwargs)


class NetSuiteClient(ApiClient):
    platform = "NetSuite"
    classify = staticmethod(errors.classify)
    key_headers = ("X-NetSuite-Idempotency-Key",)
    trace_headers = ("Location",)

    def __init__(self, base_url: str, token_getter, *, tba_credentials: tuple[str, ...] | None = None,
                 **kwargs) -> None:
        """``base_url`` is ``https://<account>.suitetalk.api.netsuite.com/services/rest``. With
        ``tba_credentials`` every request is TBA-signed and ``token_getter`` is not asked."""
        if tba_credentials:
            kwargs.setdefault("session", TbaSession(tuple(tba_credentials)))
            token_getter = lambda fresh: "signed"  # noqa: E731 - replaced by the signature in TbaSession
        super().__init__(base_url, token_getter, **kwargs)
        if tba_credentials:
            self.auth_scheme = TBA_SCHEME
            self.retry_unauthorized = False  # a refused signature stays refused; a retry would burn a nonce

    def default_headers(self) -> dict:
        # NetSuite refuses an unknown field rather than ignoring it
        return {"Accept": "application/json", "X-NetSuite-PropertyNameValidation": "Error"}

    # -- records -------------------------------------------------------------------------------------------------
    def read(self, kind: str, ident: str, expand: bool = True) -> dict:
        params = {"expandSubResources": "true"} if expand else None
        return self.request("GET", f"record/v1/{kind}/{quote(ident, safe=':')}", params=params)

    def create(self, kind: str, body: dict, key: str = "") -> str:
        """POST; the new record's internal id from ``Location``. Sent again with a key NetSuite has seen (an
        answer lost on the way back), the first request's ``Location`` is read from the refusal instead."""
        return self._write("POST", f"record/v1/{kind}", body, key)

    def upsert(self, kind: str, external_id: str, body: dict, key: str = "") -> str:
        """PUT by external id; the sublists the body sends (``item``, ``apply``) replace the record's own
        (``?replace=``), since NetSuite otherwise adds the lines to those it has."""
        sublists = ",".join(name for name in ("item", "apply") if name in body)
        return self._write("PUT", f"record/v1/{kind}/eid:{quote(external_id, safe=':')}", body, key,
                           {"replace": sublists} if sublists else None)

    def _write(self, method: str, path: str, body: dict, key: str, params: dict | None = None) -> str:
        headers = {"X-NetSuite-Idempotency-Key": key} if key else None
        try:
            return self.new_id(self.send(method, path, body=body, headers=headers, params=params))
        except DuplicateError as exc:
            location = (exc.raw or {}).get("location") if exc.platform_code == errors.IDEMPOTENCY else None
            if not location:
                raise
            return location.rstrip("/").rsplit("/", 1)[-1]

    def patch(self, kind: str, ident: str, body: dict, replace: str = "") -> None:
        self.send("PATCH", f"record/v1/{kind}/{ident}", body=body, params={"replace": replace} if replace else None)

    def delete(self, kind: str, ident: str) -> None:
        self.send("DELETE", f"record/v1/{kind}/{ident}")

    @staticmethod
    def new_id(response: requests.Response) -> str:
        location = response.headers.get("Location", "")
        return location.rstrip("/").rsplit("/", 1)[-1]

    # -- SuiteQL -------------------------------------------------------------------------------------------------
    def suiteql(self, query: str, page_size: int = SUITEQL_PAGE) -> Iterator[dict]:
        """Every row of a SuiteQL query, page by page (``limit``/``offset``) while ``hasMore``; the ``links`` of
        each row dropped."""
        offset = 0
        while True:
            body = self.request("POST", "query/v1/suiteql", body={"q": query}, headers={"Prefer": "transient"},
                                params={"limit": page_size, "offset": offset})
            for row in body.get("items") or []:
                yield {k: v for k, v in row.items() if k != "links"}
            if not body.get("hasMore"):
                return
            offset += page_size

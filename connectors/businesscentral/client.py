"""Business Central API v2.0 over the shared request loop: Bearer tokens from Entra ID, the company in every path
(``companies({id})/...``), OData collections under ``value`` followed through ``@odata.nextLink``, and ``If-Match``
ETags on every change."""
from __future__ import annotations

from collections.abc import Iterator

from ..http import ApiClient
from . import errors

PAGE_SIZE = 1000  # asked with Prefer: odata.maxpagesize (Business Central allows up to 20,000 per page)


def quote(value: str) -> str:
    """An OData string literal: single quotes, an inner quote doubled."""
    return "'" + str(value).replace("'", "''") + "'"


class BusinessCentralClient(ApiClient):
    platform = "Business Central"
    trace_headers = ("request-id", "ms-correlation-x")
    classify = staticmethod(errors.classify)

    def __init__(self, api_base: str, company_id: str, token_getter, **kwargs) -> None:
        super().__init__(api_base, token_getter, **kwargs)
        self.company_id = company_id

    def default_headers(self) -> dict:
        return {"Accept": "application/json", "Prefer": f"odata.maxpagesize={PAGE_SIZE}"}

    def path(self, tail: str) -> str:
        return f"companies({self.company_id})/{tail}"

    # -- records -------------------------------------------------------------------------------------------------
    def get(self, tail: str, params: dict | None = None) -> dict:
        return self.request("GET", self.path(tail), params=params)

    def post(self, tail: str, body: dict | None = None) -> dict:
        return self.request("POST", self.path(tail), body=body if body is not None else {})

    def patch(self, tail: str, body: dict, etag: str) -> dict:
        return self.request("PATCH", self.path(tail), body=body, headers={"If-Match": etag or "*"})

    def delete(self, tail: str, etag: str = "*") -> None:
        self.send("DELETE", self.path(tail), headers={"If-Match": etag or "*"})

    def action(self, tail: str, name: str) -> None:
        """A bound action (``salesInvoices({id})/Microsoft.NAV.post``): 204 No Content."""
        self.send("POST", self.path(f"{tail}/Microsoft.NAV.{name}"), text=b"",
                  headers={"Content-Type": "application/json"})

    def rows(self, tail: str, params: dict | None = None) -> Iterator[dict]:
        """Every row of a collection: the ``value`` of each page, following ``@odata.nextLink``."""
        body = self.get(tail, params)
        while True:
            yield from body.get("value") or []
            link = body.get("@odata.nextLink")
            if not link:
                return
            body = self.request("GET", link)

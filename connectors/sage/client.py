"""The Sage Business Cloud Accounting HTTP client on the shared request loop (``connectors.http.ApiClient``).

Every call carries ``Authorization: Bearer <token>`` and ``X-Business: <business id>``. Writes wrap the record in
its singular name (``{"sales_invoice": {...}}``); lists answer an envelope whose rows are under ``$items`` and
whose ``$next`` is null on the last page.
"""
from __future__ import annotations

from collections.abc import Iterator

import requests

from ..errors import SyncError
from ..http import ApiClient, Throttle, TokenGetter
from .errors import classify

PAGE_SIZE = 200  # ``items_per_page`` is at most 200
#: resource path -> the singular key Sage wraps its bodies in
SINGULAR = {"contacts": "contact", "products": "product", "services": "service", "sales_invoices": "sales_invoice",
            "sales_credit_notes": "sales_credit_note", "contact_payments": "contact_payment",
            "contact_allocations": "contact_allocation", "other_payments": "other_payment", "journals": "journal",
            "purchase_invoices": "purchase_invoice"}


class SageClient(ApiClient):
    platform = "Sage Business Cloud Accounting"

    def __init__(self, base_url: str, business_id: str, token_getter: TokenGetter, *, throttle: Throttle | None = None,
                 timeout: float = 30.0) -> None:
        super().__init__(base_url, token_getter, throttle=throttle, timeout=timeout)
        self.business_id = business_id

    def default_headers(self) -> dict:
        headers = {"Accept": "application/json"}
        if self.business_id:  # without it Sage answers for the user's lead business
            headers["X-Business"] = self.business_id
        return headers

    def classify(self, response: requests.Response) -> SyncError:
        return classify(response)

    # -- records ------------------------------------------------------------------------------------------------
    def read(self, resource: str, remote_id: str, params: dict | None = None) -> dict:
        return self.request("GET", f"{resource}/{remote_id}", params=params)

    def create(self, resource: str, body: dict) -> dict:
        return self.request("POST", resource, body={SINGULAR[resource]: body})

    def update(self, resource: str, remote_id: str, body: dict) -> dict:
        return self.request("PUT", f"{resource}/{remote_id}", body={SINGULAR[resource]: body})

    def delete(self, resource: str, remote_id: str, params: dict | None = None) -> None:
        self.send("DELETE", f"{resource}/{remote_id}", params=params)

    def rows(self, resource: str, params: dict | None = None) -> Iterator[dict]:
        """Every row of a list, 200 a page, with all attributes (a list row otherwise holds only id, displayed_as
        and $path)."""
        yield from self.pages(resource, "$items", params={"attributes": "all", **(params or {})}, size=PAGE_SIZE,
                              size_param="items_per_page", more=lambda body, rows: bool(body.get("$next")))

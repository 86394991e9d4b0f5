"""Zoho Books v3 over the shared request loop: ``Zoho-oauthtoken`` auth, ``organization_id`` on every call, page
numbers with ``page_context.has_more_page``, and every call counted in the per-minute and the daily budget."""
from __future__ import annotations

from collections.abc import Iterator

from ..http import ApiClient
from . import errors
from .translate import ENTITIES

PAGE_SIZE = 200  # Zoho's largest per_page


class ZohoClient(ApiClient):
    platform = "Zoho Books"
    auth_scheme = "Zoho-oauthtoken"
    kind = "daily"  # each call counts against the per-minute limit and the plan's daily cap
    classify = staticmethod(errors.classify)

    def __init__(self, api_base: str, organization_id: str, token_getter, **kwargs) -> None:
        super().__init__(api_base, token_getter, **kwargs)
        self.organization_id = organization_id

    def default_params(self) -> dict:
        return {"organization_id": self.organization_id} if self.organization_id else {}

    # -- records -------------------------------------------------------------------------------------------------
    def read(self, entity: str, remote_id: str) -> dict:
        path, key, *_ = ENTITIES[entity]
        return self.request("GET", f"{path}/{remote_id}")[key]

    def create(self, entity: str, body: dict, params: dict | None = None) -> dict:
        path, key, *_ = ENTITIES[entity]
        return self.request("POST", path, params=params, body=body)[key]

    def update(self, entity: str, remote_id: str, body: dict, params: dict | None = None) -> dict:
        path, key, *_ = ENTITIES[entity]
        return self.request("PUT", f"{path}/{remote_id}", params=params, body=body)[key]

    def action(self, method: str, entity: str, remote_id: str, action: str = "", body: dict | None = None) -> dict:
        """``POST /invoices/{id}/status/void``, ``DELETE /creditnotes/{id}``, ``POST /items/{id}/inactive``..."""
        path = ENTITIES[entity][0]
        return self.request(method, f"{path}/{remote_id}" + (f"/{action}" if action else ""), body=body)

    def list(self, entity: str, **filters) -> Iterator[dict]:
        path, _, keys, *_ = ENTITIES[entity]
        return self.rows(path, keys, **filters)

    def rows(self, path: str, keys, **filters) -> Iterator[dict]:
        """Every row of a Zoho list, page by page (``per_page`` 200) until ``has_more_page`` is false."""
        return self.pages(path, keys, params=filters, size=PAGE_SIZE, more=self.has_more)

    @staticmethod
    def has_more(body: dict, rows: list) -> bool:
        return bool((body.get("page_context") or {}).get("has_more_page"))

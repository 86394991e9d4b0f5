"""Reckon One API v2 over the shared request loop: a Bearer token from Reckon's identity server and the API
Management subscription key (``Ocp-Apim-Subscription-Key``) on every call, the book id as the first path segment,
``page`` / ``perPage`` paging over ``{"list": [...]}`` answers, ``filter`` / ``orderby`` query expressions."""
from __future__ import annotations

from collections.abc import Iterator

from ..exactjson import dumps
from ..http import ApiClient
from . import errors
from .translate import ENTITIES

#: Rows asked per page. Reckon publishes no largest page; 100 is what we ask (a guess, see the docs page).
PAGE_SIZE = 100
SUBSCRIPTION_HEADER = "Ocp-Apim-Subscription-Key"


class ReckonClient(ApiClient):
    platform = "Reckon One"
    auth_scheme = "Bearer"
    classify = staticmethod(errors.classify)

    def __init__(self, api_base: str, book_id: str, subscription_key: str, token_getter, **kwargs) -> None:
        super().__init__(api_base, token_getter, **kwargs)
        self.book_id = book_id
        self.subscription_key = subscription_key

    def default_headers(self) -> dict:
        headers = {"Accept": "application/json"}
        if self.subscription_key:
            headers[SUBSCRIPTION_HEADER] = self.subscription_key
        return headers

    def book(self, path: str) -> str:
        """``{bookId}/path``: every resource of a book lives under its id."""
        return f"{self.book_id}/{path}"

    # -- records -------------------------------------------------------------------------------------------------
    def read(self, entity: str, remote_id: str) -> dict:
        return self.request("GET", self.book(f"{ENTITIES[entity][1]}/{remote_id}"))

    def create(self, entity: str, body: dict) -> str:
        """``POST``; Reckon answers 201 with ``{"id": ...}`` only."""
        return str(self.request("POST", self.book(ENTITIES[entity][1]), body=body)["id"])

    def update(self, entity: str, remote_id: str, body: dict) -> None:
        """``PUT`` the whole record; Reckon answers 204."""
        self.request("PUT", self.book(f"{ENTITIES[entity][1]}/{remote_id}"), body=body)

    def patch(self, entity: str, remote_id: str, body: dict) -> None:
        """``PATCH`` some fields, as the merge patch Reckon requires (415 for any other content type)."""
        self.request("PATCH", self.book(f"{ENTITIES[entity][1]}/{remote_id}"), text=dumps(body),
                     headers={"Content-Type": "application/merge-patch+json"})

    def delete(self, entity: str, remote_id: str) -> None:
        self.request("DELETE", self.book(f"{ENTITIES[entity][1]}/{remote_id}"))

    def list(self, entity: str, filter: str = "", orderby: str = "") -> Iterator[dict]:
        return self.rows(self.book(ENTITIES[entity][0]), filter=filter, orderby=orderby)

    def rows(self, path: str, filter: str = "", orderby: str = "") -> Iterator[dict]:
        """Every row of a list, page by page, until a page comes back short."""
        params = {k: v for k, v in (("filter", filter), ("orderby", orderby)) if v}
        return self.pages(path, "list", params=params, size=PAGE_SIZE, page_param="page", size_param="perPage")

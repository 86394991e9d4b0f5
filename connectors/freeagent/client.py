"""FreeAgent API v2 over the shared request loop: ``Bearer`` auth, JSON bodies wrapped in the record's name,
page numbers with the ``Link`` header's ``rel="next"``, and every call counted in the per-minute and the hourly
budget of the user the connection acts as."""
from __future__ import annotations

from collections.abc import Iterator

from ..http import ApiClient, parse_json
from . import errors
from .translate import ENTITIES

PAGE_SIZE = 100  # FreeAgent's largest per_page


class FreeAgentClient(ApiClient):
    platform = "FreeAgent"
    auth_scheme = "Bearer"
    kind = "hourly"  # each call counts against the per-minute limit and the hourly one
    classify = staticmethod(errors.classify)

    def default_headers(self) -> dict:
        """FreeAgent asks every app to name itself in User-Agent."""
        return {"Accept": "application/json", "User-Agent": "accounting-sync"}

    # -- records -------------------------------------------------------------------------------------------------
    def read(self, entity: str, remote_id: str) -> dict:
        path, key, *_ = ENTITIES[entity]
        return self.request("GET", f"{path}/{remote_id}")[key]

    def create(self, entity: str, body: dict) -> dict:
        path, key, *_ = ENTITIES[entity]
        return self.request("POST", path, body={key: body})[key]

    def update(self, entity: str, remote_id: str, body: dict) -> dict:
        """PUT answers the record on FreeAgent (its examples show ``200 OK`` with the record)."""
        path, key, *_ = ENTITIES[entity]
        answer = self.request("PUT", f"{path}/{remote_id}", body={key: body})
        return answer.get(key) or self.read(entity, remote_id)

    def delete(self, entity: str, remote_id: str) -> None:
        self.request("DELETE", f"{ENTITIES[entity][0]}/{remote_id}")

    def transition(self, entity: str, remote_id: str, name: str) -> None:
        """``PUT /invoices/{id}/transitions/mark_as_sent`` and the like."""
        self.request("PUT", f"{ENTITIES[entity][0]}/{remote_id}/transitions/{name}")

    # -- lists ---------------------------------------------------------------------------------------------------
    def rows(self, path: str, key: str, **params) -> Iterator[dict]:
        """Every row of a FreeAgent list, ``per_page`` 100, following ``Link: <...>; rel="next"``."""
        page = 1
        while True:
            response = self.send("GET", path, params={**params, "page": page, "per_page": PAGE_SIZE})
            body = parse_json(response)
            yield from body.get(key) or []
            if "next" not in response.links:
                return
            page += 1

    def list(self, entity: str, **params) -> Iterator[dict]:
        path, _, key, _ = ENTITIES[entity]
        return self.rows(path, key, **params)

"""FreshBooks over the shared request loop: Bearer auth, the account id in every accounting path, the answer
wrapped in ``{"response": {"result": ...}}``, page numbers with ``page`` / ``pages`` in the result."""
from __future__ import annotations

from collections.abc import Iterator

from ..http import ApiClient
from . import errors
from .translate import ENTITIES

PAGE_SIZE = 100  # FreshBooks' largest per_page


class FreshBooksClient(ApiClient):
    platform = "FreshBooks"
    classify = staticmethod(errors.classify)

    def __init__(self, api_base: str, account_id: str, token_getter, **kwargs) -> None:
        super().__init__(api_base, token_getter, **kwargs)
        self.account_id = account_id

    def default_headers(self) -> dict:
        return {"Accept": "application/json", "Api-Version": "alpha"}

    def result(self, method: str, path: str, **kwargs) -> dict:
        """``request`` and unwrap ``response.result``."""
        body = self.request(method, path, **kwargs)
        return (body.get("response") or {}).get("result") or {}

    def accounting(self, path: str) -> str:
        return f"accounting/account/{self.account_id}/{path}"

    # -- records -------------------------------------------------------------------------------------------------
    def read(self, entity: str, remote_id: str) -> dict:
        path, key, *_ = ENTITIES[entity]
        return self.result("GET", self.accounting(f"{path}/{remote_id}"))[key]

    def create(self, entity: str, body: dict) -> dict:
        path, key, *_ = ENTITIES[entity]
        return self.result("POST", self.accounting(path), body={key: body})[key]

    def update(self, entity: str, remote_id: str, body: dict) -> dict:
        path, key, *_ = ENTITIES[entity]
        return self.result("PUT", self.accounting(f"{path}/{remote_id}"), body={key: body})[key]

    def list(self, entity: str, **search) -> Iterator[dict]:
        """Every row of an accounting list; ``search`` becomes ``search[name]=value``."""
        path, _, key, *_ = ENTITIES[entity]
        return self.rows(self.accounting(path), key, **search)

    def rows(self, path: str, key: str, **search) -> Iterator[dict]:
        params = {f"search[{k}]": v for k, v in search.items()}
        page = 1
        while True:
            found = self.result("GET", path, params={**params, "page": page, "per_page": PAGE_SIZE})
            yield from found.get(key) or []
            if int(found.get("page") or 1) >= int(found.get("pages") or 1):
                return
            page += 1

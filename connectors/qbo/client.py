"""Thin HTTP client for the QBO v3 API on the shared request loop (``connectors.http``): the company path,
``minorversion`` on every call, the ``requestid`` and ``intuit_tid`` in each exchange record, batches counted
in their own budget."""
from __future__ import annotations

from collections.abc import Callable

import requests

from ..http import ApiClient
from .errors import classify, transport_error

MINOR_VERSION = "75"


class QBOClient(ApiClient):
    platform = "QuickBooks"
    trace_headers = ("intuit_tid",)
    key_params = ("requestid",)
    classify = staticmethod(classify)
    transport_error = staticmethod(transport_error)

    def __init__(self, api_base: str, realm_id: str, token_getter: Callable[[bool], str], *,
                 timeout: float = 30.0, session: requests.Session | None = None,
                 throttle: Callable[[str], Callable[[], None] | None] | None = None) -> None:
        self.api_base = api_base.rstrip("/")
        self.realm_id = realm_id
        super().__init__(f"{self.api_base}/company/{realm_id}", token_getter, throttle=throttle, timeout=timeout,
                         session=session)

    def default_params(self) -> dict:
        return {"minorversion": MINOR_VERSION}

    def request(self, method: str, path: str, *, params: dict | None = None, body: dict | None = None,
                text: str | None = None) -> dict:
        """A JSON body, or a query statement as ``application/text``; ``/batch`` also takes a "batch" token."""
        headers = None if body is not None else {"Content-Type": "application/text"}
        return super().request(method, path, params=params, body=body, text=text, headers=headers,
                               kind="batch" if path == "batch" else "request")

    # -- operations --------------------------------------------------------------------------------------
    def create(self, entity: str, body: dict, requestid: str) -> dict:
        return self.request("POST", entity.lower(), params={"requestid": requestid}, body=body)[entity]

    def update(self, entity: str, body: dict, requestid: str) -> dict:
        return self.request("POST", entity.lower(), params={"requestid": requestid}, body=body)[entity]

    def read(self, entity: str, remote_id: str) -> dict:
        return self.request("GET", f"{entity.lower()}/{remote_id}")[entity]

    def delete(self, entity: str, remote_id: str, sync_token: str, requestid: str) -> dict:
        return self.request("POST", entity.lower(), params={"operation": "delete", "requestid": requestid},
                            body={"Id": remote_id, "SyncToken": sync_token})

    def void(self, entity: str, remote_id: str, sync_token: str, requestid: str) -> dict:
        if entity == "Invoice":
            params = {"operation": "void", "requestid": requestid}
            body = {"Id": remote_id, "SyncToken": sync_token}
        else:  # Payment, SalesReceipt: a sparse update with include=void
            params = {"operation": "update", "include": "void", "requestid": requestid}
            body = {"Id": remote_id, "SyncToken": sync_token, "sparse": True}
        return self.request("POST", entity.lower(), params=params, body=body)[entity]

    def batch(self, items: list[dict], requestid: str) -> dict[str, dict]:
        """One batch request (at most 30 items); returns each item's response by its ``bId``."""
        response = self.request("POST", "batch", params={"requestid": requestid}, body={"BatchItemRequest": items})
        return {str(item.get("bId")): item for item in response.get("BatchItemResponse", [])}

    def query(self, statement: str) -> list[dict]:
        response = self.request("POST", "query", text=statement)["QueryResponse"]
        entity = statement.split()[3] if statement.lower().startswith("select * from") else ""
        return response.get(entity, []) if entity else response


def quote(value: str) -> str:
    """A QBO query string literal: backslashes and single quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

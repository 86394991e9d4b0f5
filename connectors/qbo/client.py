"""Thin HTTP client for the QBO v3 API: auth header, minorversion, requestid, one refresh-and-retry on 401."""
from __future__ import annotations

import time
from decimal import Decimal
from typing import Callable

import requests

from ..exactjson import dumps
from .errors import classify, transport_error

MINOR_VERSION = "75"


class QBOClient:
    def __init__(self, api_base: str, realm_id: str, token_getter: Callable[[bool], str], *,
                 timeout: float = 30.0, session: requests.Session | None = None,
                 throttle: Callable[[str], Callable[[], None] | None] | None = None) -> None:
        self.throttle = throttle or (lambda kind: None)
        self.api_base = api_base.rstrip("/")
        self.realm_id = realm_id
        self.token_getter = token_getter
        self.timeout = timeout
        self.session = session or requests.Session()
        self.exchanges: list[dict] = []  # one dict per HTTP exchange, for the sync log (no secrets)

    def request(self, method: str, path: str, *, params: dict | None = None, body: dict | None = None,
                text: str | None = None) -> dict:
        url = f"{self.api_base}/company/{self.realm_id}/{path}"
        params = {**(params or {}), "minorversion": MINOR_VERSION}
        data = dumps(body) if body is not None else text
        content_type = "application/json" if body is not None else "application/text"
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.token_getter(attempt == 2)}", "Accept": "application/json",
                       "Content-Type": content_type}
            release = self.throttle("batch" if path == "batch" else "request")
            started = time.monotonic()
            try:
                response = self.session.request(method, url, params=params, data=data, headers=headers,
                                                timeout=self.timeout)
            except requests.RequestException as exc:
                self._record(method, path, params, None, started, None)
                raise transport_error(exc) from exc
            finally:
                if release is not None:
                    release()  # the response is read (requests reads the body unless told to stream)
            self._record(method, path, params, response.status_code, started, response.headers.get("intuit_tid"))
            if response.status_code == 401 and attempt == 1:
                continue  # token may have expired early or been rotated elsewhere: refresh once and retry
            if response.ok:
                return response.json(parse_float=Decimal)
            raise classify(response)
        raise AssertionError("unreachable")

    def _record(self, method, path, params, status, started, tid) -> None:
        self.exchanges.append({"method": method, "path": path, "requestid": params.get("requestid", ""),
                               "status": status, "ms": int((time.monotonic() - started) * 1000),
                               "intuit_tid": tid or ""})

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

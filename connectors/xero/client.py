"""Xero API access through the official SDK (xero-python), one isolated SDK client per connector instance.

Why the SDK is wrapped the way it is (each point is a trap in xero-python 15):

* ``Configuration`` is a process-wide singleton in disguise: every ``Configuration()`` after the first is a
  shallow copy of the first, *including its OAuth2Token*. Each ``XeroClient`` therefore gives its copy a fresh
  ``OAuth2Token`` of its own, and hands the SDK this connection's access token through the ``ApiClient``'s token
  getter right before every call. Two connections in one process never see each other's token.
* The SDK refreshes tokens by itself (via the class attribute ``TokenApi.refresh_token_url``) when the stored
  token has ``refresh_token``, ``expires_at`` and a list ``scope``. Our pipeline owns refresh (single-flight,
  ``connectors.tokens``), so the token dict we give the SDK has none of those: the SDK can never refresh, and
  never calls a token saver. On a 401 we ask the pipeline for a fresh token once and retry.
* The SDK turns every ``Decimal`` into a ``float`` before ``json.dumps``. We hand it request bodies already
  encoded as exact JSON (``translate.dumps``, which refuses floats), and our transport sends those bytes as
  they are; responses are read with ``parse_float=Decimal`` instead of the SDK's float models.
* urllib3's default ``Retry`` silently re-sends PUTs after a read error. Our transport uses ``retries=False``:
  retries belong to the pipeline (same idempotency key, visible in the sync log).
"""
from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Callable
from urllib.parse import urlencode, urlsplit

import urllib3
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException, HTTPStatusException
from xero_python.rest import RESTClientObject, RESTResponse

from .errors import TRANSPORT_ERRORS, classify, transport_error

#: Scopes we report to the SDK (it never uses them: there is no refresh token in what it sees).
_NO_REFRESH = {"refresh_token": None, "expires_at": None, "expires_in": None, "scope": None, "id_token": None}


class _Transport(RESTClientObject):
    """The SDK's REST layer for one client: pre-encoded bodies, no hidden retries, one record per exchange."""

    def __init__(self, configuration, owner: "XeroClient") -> None:
        super().__init__(configuration)
        self.owner = owner

    def request(self, method, url, query_params=None, headers=None, body=None, post_params=None,
                _preload_content=True, _request_timeout=None):
        method = method.upper()
        headers = dict(headers or {})
        if query_params:
            url += ("&" if "?" in url else "?") + urlencode([(k, _query_value(v)) for k, v in query_params])
        data = None
        if body is not None:
            if not isinstance(body, (str, bytes)):  # the SDK would have turned Decimals into floats
                raise TypeError("Xero request bodies must be pre-encoded with translate.dumps")
            data = body.encode("utf-8") if isinstance(body, str) else body
            headers["Content-Type"] = "application/json"
        elif method in ("GET", "HEAD", "DELETE"):
            headers.pop("Content-Type", None)
        return self.owner._send(self.pool_manager, method, url, headers, data)


def _query_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class XeroClient:
    """One Xero organisation (tenant) reached with one connection's tokens."""

    def __init__(self, api_base: str, tenant_id: str, token_getter: Callable[[bool], str], *,
                 timeout: float = 30.0,
                 throttle: Callable[[str], Callable[[], None] | None] | None = None) -> None:
        self.api_base = api_base.rstrip("/")
        self.tenant_id = tenant_id
        self.token_getter = token_getter
        self.timeout = urllib3.Timeout(connect=float(timeout), read=float(timeout))
        self.throttle = throttle or (lambda kind: None)
        self.exchanges: list[dict] = []  # one dict per HTTP exchange, for the sync log (no secrets)
        self._access_token = ""
        configuration = Configuration()  # a copy of the process-wide default...
        configuration.oauth2_token = OAuth2Token()  # ...so it gets a token object of its own
        self.api_client = ApiClient(configuration, pool_threads=1)
        self.api_client.rest_client = _Transport(configuration, self)
        self.api_client.oauth2_token_getter(self._sdk_token)
        self.api_client.oauth2_token_saver(self._refuse_sdk_refresh)
        self.accounting = AccountingApi(self.api_client, base_url=self.api_base)

    # -- token plumbing ------------------------------------------------------------------------------------
    def _sdk_token(self) -> dict:
        return {**_NO_REFRESH, "access_token": self._access_token, "token_type": "Bearer"}

    @staticmethod
    def _refuse_sdk_refresh(token) -> None:
        raise RuntimeError("xero-python tried to refresh a token itself; refresh belongs to connectors.tokens")

    # -- calls ---------------------------------------------------------------------------------------------
    def call(self, operation: str, *args, **kwargs) -> dict:
        """Run ``AccountingApi.<operation>`` for this tenant; returns the parsed JSON body (Decimals exact).

        A 401 refreshes the token once (through the pipeline) and retries; everything else is classified.
        """
        method = getattr(self.accounting, operation)
        return self._with_auth(lambda: method(self.tenant_id, *args, _preload_content=False, **kwargs))

    def get_url(self, url: str) -> object:
        """GET an absolute URL outside the accounting API (the identity service's /connections)."""
        return self._with_auth(lambda: self.api_client.call_api(
            url, "GET", header_params={"Accept": "application/json"}, auth_settings=["OAuth2"],
            _return_http_data_only=True, _preload_content=False))

    def _with_auth(self, send: Callable[[], object]):
        for attempt in (1, 2):
            self._access_token = self.token_getter(attempt == 2)
            try:
                response = send()
            except ApiException as exc:
                if exc.status == 401 and attempt == 1:
                    continue  # expired early or rotated elsewhere: one forced refresh, then retry
                raise classify(exc) from None
            except TRANSPORT_ERRORS as exc:
                raise transport_error(exc) from exc
            finally:
                self._access_token = ""
            return _parse(response)
        raise AssertionError("unreachable")

    def _send(self, pool_manager, method: str, url: str, headers: dict, data: bytes | None) -> RESTResponse:
        release = self.throttle("request")
        started = time.monotonic()
        try:
            raw = pool_manager.request(method, url, body=data, headers=headers, timeout=self.timeout,
                                       retries=False, redirect=False, preload_content=True)
        except TRANSPORT_ERRORS as exc:
            self._record(method, url, headers, None, started, error=type(exc).__name__)
            raise
        finally:
            if release is not None:
                release()  # preload_content: the body is read
        response = RESTResponse(raw)
        self._record(method, url, headers, raw.status, started, response_headers=raw.headers)
        if not 200 <= raw.status <= 299:
            raise HTTPStatusException(http_resp=response)
        return response

    def _record(self, method, url, headers, status, started, *, error: str = "", response_headers=None) -> None:
        parts = urlsplit(url)
        path = parts.path
        if parts.path.startswith(urlsplit(self.api_base).path):
            path = parts.path[len(urlsplit(self.api_base).path):] or "/"
        entry = {"method": method, "path": (path + (f"?{parts.query}" if parts.query else ""))[:300],
                 "status": status, "ms": int((time.monotonic() - started) * 1000),
                 "idempotency_key": headers.get("Idempotency-Key", "")}
        if error:
            entry["error"] = error
        if response_headers is not None:
            for header, key in (("Xero-Correlation-Id", "correlation_id"), ("X-DayLimit-Remaining", "day_remaining"),
                                ("X-MinLimit-Remaining", "minute_remaining"),
                                ("X-Rate-Limit-Problem", "rate_limit_problem")):
                if response_headers.get(header):
                    entry[key] = response_headers.get(header)
        self.exchanges.append(entry)


def _parse(response) -> dict:
    data = getattr(response, "data", b"")
    if not data:
        return {}
    try:
        return json.loads(data, parse_float=Decimal)
    except ValueError:
        return {"text": data.decode("utf-8", "replace")[:2000]}


def where_equals(field: str, value: str) -> str:
    """A Xero ``where`` clause ``Field=="value"`` with backslashes and double quotes escaped."""
    return f'{field}=="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

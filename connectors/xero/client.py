"""Xero API access: the official SDK (xero-python) builds each operation, the shared request loop sends it.

``AccountingApi`` still turns an operation and its arguments into a URL, query parameters and headers (tenant,
``Idempotency-Key``, ``If-Modified-Since``, ``summarizeErrors``, ``unitdp``...). Its REST layer is replaced by
``_Transport``, which hands that request to ``XeroClient.send`` (``connectors.http.ApiClient``): the connection's
minute and day budget, one send with a timeout and no redirects followed, the exchange record (our idempotency
key, Xero's correlation id and remaining limits), one refresh-and-retry on 401 through the pipeline's token
getter, and ``errors.classify`` for every non-2xx answer. The answer goes back to the SDK in the shape of its
``RESTResponse``.

Why the SDK is wrapped the way it is (each point is a trap in xero-python 15):

* ``Configuration`` is a process-wide singleton in disguise: every ``Configuration()`` after the first is a
  shallow copy of the first, *including its OAuth2Token*. Each ``XeroClient`` therefore gives its copy a fresh
  ``OAuth2Token`` of its own. The SDK never holds a real access token: the request loop sets ``Authorization``
  itself from the token getter, replacing the placeholder the SDK writes. Two connections in one process never
  see each other's token.
* The SDK refreshes tokens by itself (via the class attribute ``TokenApi.refresh_token_url``) when the stored
  token has ``refresh_token``, ``expires_at`` and a list ``scope``. Our pipeline owns refresh (single-flight,
  ``connectors.tokens``), so the token dict we give the SDK has none of those: the SDK can never refresh, and
  its token saver refuses. On a 401 the request loop asks the pipeline for a fresh token once and retries.
* The SDK turns every ``Decimal`` into a ``float`` before ``json.dumps``. We hand it request bodies already
  encoded as exact JSON (``translate.dumps``, which refuses floats), and the transport sends those bytes as
  they are; responses are read with ``parse_float=Decimal`` instead of the SDK's float models.
* urllib3's default ``Retry`` silently re-sends PUTs after a read error. The SDK's urllib3 pool is never used:
  ``requests`` sends once, and retries belong to the pipeline (same idempotency key, visible in the sync log).
"""
from __future__ import annotations

from collections.abc import Callable

import requests
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient as SdkApiClient
from xero_python.api_client import Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.rest import RESTClientObject

from ..http import ApiClient, Throttle, parse_json
from .errors import classify, transport_error

#: The token the SDK sees: no access token (the request loop sends ours), nothing it could refresh with.
_NO_TOKEN = {"access_token": None, "token_type": "Bearer", "refresh_token": None, "expires_at": None,  # nosec B105
             "expires_in": None, "scope": None, "id_token": None}  # nosec B105


class _Response:
    """What the SDK reads of an answer (the shape of ``xero_python.rest.RESTResponse``), over a ``requests``
    response; the client parses ``response`` itself with exact Decimals."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self.status, self.reason, self.data = response.status_code, response.reason, response.content

    def getheaders(self):
        return self.response.headers

    def getheader(self, name: str, default=None):
        return self.response.headers.get(name, default)


class _Transport(RESTClientObject):
    """The SDK's REST layer for one client: hands each request the SDK built to ``XeroClient.send``.

    The SDK's ``GET``/``PUT``/... methods all end in ``request``; the urllib3 pool of the base class is never
    created (its ``__init__`` is not called)."""

    def __init__(self, owner: XeroClient) -> None:  # no super().__init__(): no urllib3 pool
        self.owner = owner

    def request(self, method, url, query_params=None, headers=None, body=None, post_params=None,
                _preload_content=True, _request_timeout=None):
        method = method.upper()
        # The SDK's Authorization is a placeholder (it holds no token); the request loop sends ours.
        headers = {k: v for k, v in (headers or {}).items() if k.lower() != "authorization"}
        data = None
        if body is not None:
            if not isinstance(body, (str, bytes)):  # the SDK would have turned Decimals into floats
                raise TypeError("Xero request bodies must be pre-encoded with translate.dumps")
            data = body.encode("utf-8") if isinstance(body, str) else body
            headers["Content-Type"] = "application/json"
        elif method in ("GET", "HEAD", "DELETE"):
            headers.pop("Content-Type", None)
        params = {k: _query_value(v) for k, v in query_params or ()}
        return _Response(self.owner.send(method, url, params=params, text=data, headers=headers))


def _query_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class XeroClient(ApiClient):
    """One Xero organisation (tenant) reached with one connection's tokens."""

    platform = "Xero"
    trace_headers = ("Xero-Correlation-Id", "X-DayLimit-Remaining", "X-MinLimit-Remaining", "X-Rate-Limit-Problem")
    key_headers = ("Idempotency-Key",)
    kind = "day"  # every call counts against the per-minute limit and the organisation's daily cap
    follow_redirects = False
    classify = staticmethod(classify)
    transport_error = staticmethod(transport_error)

    def __init__(self, api_base: str, tenant_id: str, token_getter: Callable[[bool], str], *,
                 timeout: float = 30.0, throttle: Throttle | None = None,
                 session: requests.Session | None = None) -> None:
        super().__init__(api_base, token_getter, throttle=throttle, timeout=float(timeout), session=session)
        self.api_base = self.base_url
        self.tenant_id = tenant_id
        configuration = Configuration()  # a copy of the process-wide default...
        configuration.oauth2_token = OAuth2Token()  # ...so it gets a token object of its own
        self.api_client = SdkApiClient(configuration, pool_threads=1)
        self.api_client.rest_client = _Transport(self)
        self.api_client.oauth2_token_getter(lambda: dict(_NO_TOKEN))
        self.api_client.oauth2_token_saver(self._refuse_sdk_refresh)
        self.accounting = AccountingApi(self.api_client, base_url=self.api_base)

    @staticmethod
    def _refuse_sdk_refresh(token) -> None:
        raise RuntimeError("xero-python tried to refresh a token itself; refresh belongs to connectors.tokens")

    # -- calls ---------------------------------------------------------------------------------------------
    def call(self, operation: str, *args, **kwargs) -> dict:
        """Run ``AccountingApi.<operation>`` for this tenant; returns the parsed JSON body (Decimals exact).

        A 401 refreshes the token once (through the pipeline) and retries; everything else is classified.
        """
        response = getattr(self.accounting, operation)(self.tenant_id, *args, _preload_content=False, **kwargs)
        return parse_json(response.response)

    def get_url(self, url: str) -> object:
        """GET an absolute URL outside the accounting API (the identity service's /connections)."""
        return parse_json(self.api_client.call_api(
            url, "GET", header_params={"Accept": "application/json"}, auth_settings=["OAuth2"],
            _return_http_data_only=True, _preload_content=False).response)


def where_equals(field: str, value: str) -> str:
    """A Xero ``where`` clause ``Field=="value"`` with backslashes and double quotes escaped."""
    return f'{field}=="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

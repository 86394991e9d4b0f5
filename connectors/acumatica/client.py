"""Acumatica's contract-based REST API (``/entity/Default/<version>/``) on the shared request loop.

- ``POST /entity/auth/login`` ``{name, password, company, branch?}`` answers 204 and sets the session cookies
  (``.ASPXAUTH``, ``ASP.NET_SessionId`` and others); every later call carries them. ``POST /entity/auth/logout``
  ends the session: Acumatica's licence caps the API sessions open at once, so one left open locks others out
  until it idles out. The session is the cookie header itself (``name=value; ...``); the loop's
  ``Authorization`` header is turned into that ``Cookie`` header (:class:`SessionCookies`), so the loop's one retry
  on a 401 asks the token getter for a new session like any refresh.
- Records are JSON with every value wrapped (``wire``). ``PUT /<Entity>`` inserts or updates by the entity's key
  fields (or its ``id``) and answers the record; ``GET /<Entity>/<id>`` and ``GET /<Entity>?$filter=...`` read;
  ``DELETE /<Entity>/<id>``; ``POST /<Entity>/<Action>`` ``{"entity": {...}, "parameters": {...}}`` runs an action,
  answered 202 with a ``Location`` whose ``GET`` answers 202 while it runs and 204 once done.
"""
from __future__ import annotations

from http.cookies import SimpleCookie
from collections.abc import Iterator

import requests

from ..errors import AuthError, RetryableError
from ..http import ApiClient
from . import errors, wire

SCHEME = "Session"
PAGE_SIZE = 100
#: How often an action's status is asked before the call is given up as still running (retried later; a
#: document left unreleased is finished by the next attempt's search, see the connector).
STATUS_CHECKS = 10


class SessionCookies(requests.Session):
    """Sends the session the loop puts in ``Authorization: Session <cookies>`` as the ``Cookie`` header."""

    def request(self, method, url, *args, headers=None, **kwargs):  # noqa: D401 - requests' own signature
        headers = dict(headers or {})
        value = headers.pop("Authorization", "")
        if value.startswith(f"{SCHEME} ") and value[len(SCHEME) + 1:]:
            headers["Cookie"] = value[len(SCHEME) + 1:]
        return super().request(method, url, *args, headers=headers, **kwargs)


def cookie_header(response: requests.Response) -> str:
    """The session cookies a login set, as one ``Cookie`` header value (read from every ``Set-Cookie``)."""
    jar = SimpleCookie()
    for raw in response.raw.headers.get_all("Set-Cookie") if response.raw is not None else []:
        jar.load(raw)
    if not jar:
        for name, value in response.cookies.items():
            jar[name] = value
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


class ContractClient(ApiClient):
    platform = "Acumatica"
    auth_scheme = SCHEME
    classify = staticmethod(errors.classify)
    trace_headers = ("Location",)

    def __init__(self, site: str, endpoint: str, token_getter, **kwargs) -> None:
        kwargs.setdefault("session", SessionCookies())
        super().__init__(site, token_getter, **kwargs)
        self.endpoint = endpoint.strip("/")  # "entity/Default/24.200.001"

    def default_headers(self) -> dict:
        return {"Accept": "application/json"}

    def path(self, entity: str, *rest: str) -> str:
        return "/".join([self.endpoint, entity, *[str(r) for r in rest if r != ""]])

    # -- the session -------------------------------------------------------------------------------------------
    def login(self, name: str, password: str, company: str, branch: str = "") -> str:
        """A new session (its cookies as one header value). Wrong credentials are an ``AuthError``; the
        licence's login limit a ``RateLimitedError``."""
        body = {"name": name, "password": password, "company": company, **({"branch": branch} if branch else {})}
        response = self._alone("", LoginClient).send("POST", "entity/auth/login", body=body, kind="login")
        cookies = cookie_header(response)
        if not cookies:
            raise AuthError("Acumatica answered the login without a session cookie", platform_code="no_session")
        return cookies

    def logout(self, cookies: str) -> None:
        """End the session (204)."""
        self._alone(cookies).send("POST", "entity/auth/logout", text=b"", kind="login")

    def _alone(self, cookies: str, kind: type | None = None) -> ContractClient:
        """A client for one call with ``cookies`` (none for the login) rather than the token getter's; its
        exchanges are recorded with ours."""
        once = (kind or ContractClient)(self.base_url, self.endpoint, lambda fresh: cookies, throttle=self.throttle,
                                        timeout=self.timeout, session=self.session)
        once.exchanges = self.exchanges
        return once

    # -- records -------------------------------------------------------------------------------------------------
    def get(self, entity: str, key: str, params: dict | None = None) -> dict:
        """One record by its ``id`` (or its key fields joined by ``/``), unwrapped."""
        return wire.unwrap(self.request("GET", self.path(entity, key), params=params))

    def put(self, entity: str, record: dict, params: dict | None = None) -> dict:
        """Insert or update by key fields (or ``id``); the record as Acumatica now holds it, unwrapped."""
        return wire.unwrap(self.request("PUT", self.path(entity), body=wire.wrap(record), params=params))

    def delete(self, entity: str, key: str) -> None:
        self.send("DELETE", self.path(entity, key))

    def rows(self, entity: str, params: dict | None = None, size: int = PAGE_SIZE) -> Iterator[dict]:
        """Every record a query gives, ``$top`` / ``$skip`` page by page, unwrapped."""
        skip = 0
        while True:
            page = self.request("GET", self.path(entity), params={**(params or {}), "$top": size, "$skip": skip})
            records = page if isinstance(page, list) else []
            yield from (wire.unwrap(r) for r in records)
            if len(records) < size:
                return
            skip += size

    def action(self, entity: str, action: str, record: dict, parameters: dict | None = None) -> None:
        """Run ``action`` on the record ``record`` names (its ``id`` or key fields) and wait for it to finish."""
        body = {"entity": wire.wrap(record), "parameters": wire.wrap(parameters or {})}
        response = self.send("POST", self.path(entity, action), body=body)
        location = response.headers.get("Location", "")
        if response.status_code != 202 or not location:
            return
        for _ in range(STATUS_CHECKS):
            status = self.send("GET", location)
            if status.status_code != 202:
                return
        raise RetryableError(f"Acumatica is still running {action} on the {entity}", platform_code="202")


class LoginClient(ContractClient):
    """The login call: a refused login is final, never sent a second time (failed logins count towards a lock)."""

    retry_unauthorized = False

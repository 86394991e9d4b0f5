"""The Service Layer (``/b1s/v2/``) on the shared request loop.

- ``POST Login`` with ``{CompanyDB, UserName, Password}`` answers ``{SessionId, Version, SessionTimeout}`` (minutes)
  and sets the ``B1SESSION`` cookie (with ``ROUTEID`` behind a load balancer); every later call carries the cookie.
  ``POST Logout`` ends it. The loop's ``Authorization`` header is turned into that cookie (:class:`SessionCookies`),
  so the loop's one retry on a 401 asks the token getter for a new session like any refresh.
- ``POST $batch`` carries many requests in one (OData's multipart batch, ``connectors.multipart``): :meth:`batch`
  sends each write in a change set of its own (one refused document rolls back only itself) and asks
  ``Prefer: odata.continue-on-error`` so every part is answered.
- Collections are under ``value``; the page size is asked with ``Prefer: odata.maxpagesize`` and further pages are
  followed through ``odata.nextLink`` (``@odata.nextLink`` in strict OData v4; both are read). The Service Layer's
  next link is relative to the service root (``Invoices?$skip=20``).
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from collections.abc import Iterator, Sequence

import requests
from requests.structures import CaseInsensitiveDict

from .. import multipart
from ..errors import AuthError, RetryableError, SyncError
from ..exactjson import dumps
from ..http import ApiClient, parse_json
from . import errors

PAGE_SIZE = 100  # asked with Prefer: odata.maxpagesize (the Service Layer's default page is 20 entities)
SCHEME = "B1SESSION"


def quote(value: str) -> str:
    """An OData string literal: single quotes, an inner quote doubled."""
    return "'" + str(value).replace("'", "''") + "'"


class SessionCookies(requests.Session):
    """Sends the session the loop puts in ``Authorization: B1SESSION <id>`` as the ``B1SESSION`` cookie instead
    (``ROUTEID``, when the login set one, rides along in the cookie jar)."""

    def request(self, method, url, *args, headers=None, **kwargs):  # noqa: D401 - requests' own signature
        headers = dict(headers or {})
        value = headers.pop("Authorization", "")
        if value.startswith(f"{SCHEME} ") and value[len(SCHEME) + 1:]:
            cookies = {**(kwargs.pop("cookies", None) or {}), SCHEME: value[len(SCHEME) + 1:]}
            kwargs["cookies"] = cookies
        return super().request(method, url, *args, headers=headers, **kwargs)


class ServiceLayerClient(ApiClient):
    platform = "SAP Business One"
    auth_scheme = SCHEME
    classify = staticmethod(errors.classify)

    def __init__(self, base_url: str, token_getter, **kwargs) -> None:
        kwargs.setdefault("session", SessionCookies())
        super().__init__(base_url, token_getter, **kwargs)

    def default_headers(self) -> dict:
        return {"Accept": "application/json", "Prefer": f"odata.maxpagesize={PAGE_SIZE}"}

    # -- the session -------------------------------------------------------------------------------------------
    def login(self, company_db: str, user: str, password: str) -> tuple[str, dt.datetime]:
        """A new session id and when it will have idled out (``SessionTimeout`` minutes from now). Wrong
        credentials are an ``AuthError``."""
        response = self._alone("", LoginClient).send("POST", "Login", body={"CompanyDB": company_db,
                                                                           "UserName": user, "Password": password})
        data = parse_json(response)
        session = str(data.get("SessionId") or response.cookies.get(SCHEME) or "")
        if not session:
            raise AuthError("SAP Business One answered the login without a session", platform_code="no_session")
        minutes = int(data.get("SessionTimeout") or 30)
        return session, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)

    def logout(self, session: str) -> None:
        """End ``session`` (the Service Layer answers 204)."""
        self._alone(session).send("POST", "Logout", text=b"")

    def _alone(self, session: str, kind: type | None = None) -> ServiceLayerClient:
        """A client for one call with ``session`` (none for the login) rather than the token getter's; its
        exchanges are recorded with ours."""
        once = (kind or ServiceLayerClient)(self.base_url, lambda fresh: session, throttle=self.throttle,
                                  timeout=self.timeout, session=self.session)
        once.exchanges = self.exchanges
        return once

    # -- records -------------------------------------------------------------------------------------------------
    def get(self, path: str, params: dict | None = None) -> dict:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: dict | None = None) -> dict:
        return self.request("POST", path, body=body if body is not None else {})

    def patch(self, path: str, body: dict) -> None:
        self.send("PATCH", path, body=body)

    def action(self, path: str) -> None:
        """A bound action (``Invoices(12)/Cancel``): 204 No Content."""
        self.send("POST", path, text=b"")

    def batch(self, calls: Sequence[tuple[str, str, dict | None]]) -> list[dict | SyncError]:
        """Many calls, ``(method, path relative to the service root, JSON body or None)``, in one ``$batch``
        request; per call, in order, its JSON answer (``{}`` for 204) or the error it met, classified like a call of
        its own. A write goes in a change set of its own, a GET on its own. Raises when the batch request itself
        failed (then nothing is known of any call); a call the answer does not cover is a ``RetryableError``."""
        groups: list[multipart.Group] = []
        for number, (method, path, body) in enumerate(calls, 1):
            request = multipart.SubRequest(method.upper(), path, dumps(body).encode() if body is not None else b"",
                                           {"content-type": "application/json"} if body is not None else {},
                                           str(number))
            groups.append(request if request.method == "GET" else [request])
        content_type, payload = multipart.encode_requests(groups)
        response = self.send("POST", "$batch", text=payload,
                             headers={"Content-Type": content_type, "Prefer": "odata.continue-on-error"})
        try:
            answers = multipart.decode_responses(response.headers.get("Content-Type", ""), response.content)
        except ValueError as exc:
            raise RetryableError(f"SAP Business One answered the batch with what is not a batch answer: {exc}",
                                 platform_code="batch_answer") from exc
        results: list[dict | SyncError] = []
        for position in range(len(calls)):
            answer = answers[position] if position < len(answers) else None
            if isinstance(answer, list):  # a change set's responses: ours is its only one
                answer = answer[0] if answer else None
            results.append(self._answer(answer))
        return results

    def _answer(self, answer: multipart.SubResponse | None) -> dict | SyncError:
        if answer is None:
            return RetryableError("SAP Business One did not answer this part of the batch",
                                  platform_code="batch_unanswered")
        if answer.ok:
            return json.loads(answer.body, parse_float=Decimal) if answer.body.strip() else {}
        response = requests.Response()  # classified by the same rules as a call of its own
        response.status_code, response._content = answer.status, answer.body
        response.headers = CaseInsensitiveDict(answer.headers)
        response.url = f"{self.base_url}/$batch"
        return self.classify(response)

    def rows(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every row of a collection: the ``value`` of each page, following the next link."""
        body = self.get(path, params)
        while True:
            yield from body.get("value") or []
            link = body.get("odata.nextLink") or body.get("@odata.nextLink")
            if not link:
                return
            body = self.request("GET", link)


class LoginClient(ServiceLayerClient):
    """The login call: a refused login (401) is final, never sent a second time (a user's failed logins count
    towards the lock-out)."""

    retry_unauthorized = False

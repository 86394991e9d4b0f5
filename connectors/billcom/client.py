"""Bill.com v3 over the shared request loop. Every call carries the ``devKey`` header and the login session as the
``sessionId`` header (the token getter hands out the session id; the shared loop's one re-login on a 401 is
Bill.com's "Session is invalid. Please log in."). Lists page with ``max`` and the opaque ``page`` cursor the
answer names in ``nextPage``; ``filters`` is Bill.com's ``field:op:value`` list."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import requests

from ..http import ApiClient
from . import errors

PAGE_SIZE = 100  # Bill.com's largest ``max``


class SessionHeaders(requests.Session):
    """Sends the token the shared loop puts in ``Authorization`` as Bill.com's ``sessionId`` header instead."""

    def request(self, method, url, *args, headers=None, **kwargs):  # noqa: D401 - requests' own signature
        headers = dict(headers or {})
        token = headers.pop("Authorization", "").partition(" ")[2]
        if token:
            headers["sessionId"] = token
        return super().request(method, url, *args, headers=headers, **kwargs)


def quoted(value: str) -> str:
    """A filter value: in double quotes, a double quote inside escaped."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def time_filter(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


class BillcomClient(ApiClient):
    platform = "Bill.com"
    auth_scheme = "Session"  # never sent as such: SessionHeaders turns it into the sessionId header
    trace_headers = ("X-Request-Id",)
    classify = staticmethod(errors.classify)

    def __init__(self, api_base: str, dev_key: str, token_getter, **kwargs) -> None:
        kwargs.setdefault("session", SessionHeaders())
        super().__init__(api_base, token_getter, **kwargs)
        self.dev_key = dev_key

    def default_headers(self) -> dict:
        return {"Accept": "application/json", "devKey": self.dev_key}

    def list(self, path: str, filters: tuple[str, ...] = (), **params) -> Iterator[dict]:
        """Every row of a list, page by page (``max`` 100, ``page`` = the previous answer's ``nextPage``)."""
        query = {"max": PAGE_SIZE, **params}
        if filters:
            query["filters"] = ",".join(filters)
        while True:
            body = self.request("GET", path, params=query)
            yield from body.get("results") or []
            cursor = body.get("nextPage")
            if not cursor or not body.get("results"):
                return
            query = {**query, "page": cursor}


class LogoutClient(BillcomClient):
    """The sign-out call: a session Bill.com no longer knows is signed out already, so its 401 is final (no new
    session is asked for just to end it)."""

    retry_unauthorized = False

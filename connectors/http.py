"""One HTTP request loop for every platform client.

Every call to a platform goes through ``ApiClient.send``, which:

1. takes the connection's rate budget and an in-flight slot (``throttle(kind)``), and gives the slot back once
   the response is read, also when the request failed;
2. sends once, with a timeout. Nothing here retries on its own: a retry belongs to the pipeline, which keeps
   the idempotency key and writes a sync-log row for it;
3. records the exchange in ``self.exchanges`` (method, path and query without secrets, status, milliseconds,
   the platform's trace headers, our idempotency key, the error class). The engine redacts these again before
   it stores them;
4. on HTTP 401 asks the token getter once for a fresh token (``token_getter(True)``) and retries once. The
   token may have expired early, or another worker may have rotated it;
5. turns every failure into a ``connectors.errors.SyncError``: timeouts, resets and connection errors become
   ``RetryableError``, and any other non-2xx response goes to the platform's ``classify``.

A platform subclass declares what is its own: the base URL, how the token is sent, the extra headers and query
parameters on every call, the headers worth recording, whether redirects are followed, and ``classify``. The QBO,
Zoho and Xero clients run on this loop (Xero's with the official SDK building each request).
"""
from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar
from urllib.parse import urlencode, urlsplit

import requests

from .errors import (AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError, SyncError,
                     ValidationFailed)
from .exactjson import dumps
from .redaction import redact

#: What ``BaseConnector.throttle`` is: wait for the budget, return the callable that frees the in-flight slot.
Throttle = Callable[[str], Callable[[], None] | None]
TokenGetter = Callable[[bool], str]


class ApiClient:
    """The request loop. Subclass it per platform and set the class attributes below; call ``request``."""

    #: How error messages name the platform ("QuickBooks request timed out").
    platform: ClassVar[str] = "The platform"
    #: The Authorization header is ``f"{auth_scheme} {token}"``.
    auth_scheme: ClassVar[str] = "Bearer"
    #: Response headers copied into each exchange record (trace ids, remaining quota), under their own name.
    trace_headers: ClassVar[tuple[str, ...]] = ()
    #: Request headers and query parameters that carry our idempotency key, copied into the exchange record.
    key_headers: ClassVar[tuple[str, ...]] = ()
    key_params: ClassVar[tuple[str, ...]] = ()
    #: The budget kind every call is counted under (the throttle counts "request" too): a platform with a daily
    #: cap besides its per-minute limit counts each call in both.
    kind: ClassVar[str] = "request"
    #: Whether a 3xx answer is followed; when not, it is a non-2xx answer like any other and goes to ``classify``.
    follow_redirects: ClassVar[bool] = True
    #: Whether a 401 gets one fresh token and one retry (step 4). Off for a call whose 401 is final, such as a
    #: login with a password: sent twice, a refused one would count twice towards the user's lock-out.
    retry_unauthorized: ClassVar[bool] = True

    def __init__(self, base_url: str, token_getter: TokenGetter, *, throttle: Throttle | None = None,
                 timeout: float = 30.0, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_getter = token_getter
        self.throttle: Throttle = throttle or (lambda kind: None)
        self.timeout = timeout
        self.session = session or requests.Session()
        if self.session.auth is None:  # else requests reads ~/.netrc before every request (and would let it set an
            self.session.auth = _no_netrc  # Authorization header over ours); proxies from the environment still apply
        self.exchanges: list[dict] = []  # one dict per HTTP exchange, for the sync log (no secrets)

    # -- what a platform declares ---------------------------------------------------------------------------
    def default_params(self) -> dict:
        """Query parameters sent with every call (a company or organisation id, an API minor version)."""
        return {}

    def default_headers(self) -> dict:
        """Headers sent with every call, besides Authorization."""
        return {"Accept": "application/json"}

    def classify(self, response: requests.Response) -> SyncError:
        """The error for one non-2xx response (the platform's own error bodies and codes)."""
        raise NotImplementedError

    def transport_error(self, exc: requests.RequestException) -> RetryableError:
        """The error for a request that got no response: the platform may or may not have applied it."""
        kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
        return RetryableError(f"{self.platform} request {kind} ({type(exc).__name__})")

    # -- the loop ---------------------------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs) -> dict:
        """``send`` and parse the JSON answer with exact Decimals ({} for an empty body)."""
        return parse_json(self.send(method, path, **kwargs))

    def send(self, method: str, path: str, *, params: dict | None = None, body=None,
             text: str | bytes | None = None, headers: dict | None = None, kind: str = "") -> requests.Response:
        """One call: budget, send, record, refresh once on 401, classify. Returns the 2xx response.

        ``body`` is encoded as exact JSON (a float anywhere is refused); ``text`` (or bytes) is sent as it is."""
        url = path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"
        params = {**self.default_params(), **(params or {})}
        extra = {**self.default_headers(), **(headers or {})}
        data = text
        if body is not None:
            data, extra = dumps(body), {**extra, "Content-Type": "application/json"}
        for attempt in (1, 2):
            sent = {**extra, "Authorization": f"{self.auth_scheme} {self.token_getter(attempt == 2)}"}
            release = self.throttle(kind or self.kind)
            started = time.monotonic()
            try:
                response = self.session.request(method, url, params=params, data=data, headers=sent,
                                                timeout=self.timeout, allow_redirects=self.follow_redirects)
            except requests.RequestException as exc:
                error = self.transport_error(exc)
                self._record(method, url, params, sent, started, None, error)
                raise error from exc
            finally:
                if release is not None:
                    release()  # requests has read the whole body (we never stream)
            if response.status_code == 401 and attempt == 1 and self.retry_unauthorized:
                self._record(method, url, params, sent, started, response, None)
                continue  # expired early or rotated by another worker: one fresh token, one retry
            error = None if 200 <= response.status_code < 300 else self.classify(response)
            self._record(method, url, params, sent, started, response, error)
            if error is not None:
                raise error
            return response
        raise AssertionError("unreachable")

    def pages(self, path: str, key: str | tuple[str, ...], *, params: dict | None = None, size: int = 200,
              more: Callable[[dict, list], bool] | None = None, page_param: str = "page",
              size_param: str = "per_page") -> Iterator[dict]:
        """The rows under ``key`` (the first of several names present) of every page of a page-numbered list,
        lazily. ``more(body, rows)`` says whether another page follows (default: a full page)."""
        for _, rows in self.page_bodies(path, key, params=params, size=size, more=more, page_param=page_param,
                                        size_param=size_param):
            yield from rows

    def page_bodies(self, path: str, key: str | tuple[str, ...], *, params: dict | None = None, size: int = 200,
                    more: Callable[[dict, list], bool] | None = None, page_param: str = "page",
                    size_param: str = "per_page") -> Iterator[tuple[dict, list]]:
        """Like :meth:`pages`, one (answer, rows) pair per page: for what the answer says about its rows."""
        keys = (key,) if isinstance(key, str) else key
        page = 1
        while True:
            body = self.request("GET", path, params={**(params or {}), page_param: page, size_param: size})
            rows = next((body[k] for k in keys if body.get(k)), [])
            yield body, rows
            if not (more(body, rows) if more else len(rows) >= size):
                return
            page += 1

    def changed(self, path: str, key: str | tuple[str, ...], since: dt.datetime,
                modified: Callable[[dict], dt.datetime | None], *, newest_first: Callable[[dict], bool],
                **paging) -> Iterator[dict]:
        """Rows of a list asked newest change first that changed at or after ``since`` (polling by last-modified
        time where the platform has no modified-since filter). Paging stops at the first older row, but only
        when ``newest_first(answer)`` confirms that order; otherwise every page is read and older rows are
        skipped. A row without a time (``modified(row)`` None) is kept: it may have changed. ``paging`` goes to
        :meth:`page_bodies`."""
        for body, rows in self.page_bodies(path, key, **paging):
            ordered = newest_first(body)
            for row in rows:
                when = modified(row)
                if when is not None and when < since:
                    if ordered:
                        return
                    continue
                yield row

    def _record(self, method: str, url: str, params: dict, headers: dict, started: float,
                response: requests.Response | None, error: SyncError | None) -> None:
        parts = urlsplit(url)
        base = urlsplit(self.base_url).path
        path = (parts.path[len(base):] or "/") if parts.path.startswith(base) else parts.path
        query = urlencode({k: v for k, v in params.items() if v is not None})
        entry = {"method": method, "path": redact(f"{path}?{query}" if query else path)[:300],
                 "status": response.status_code if response is not None else None,
                 "ms": int((time.monotonic() - started) * 1000)}
        key = next((str(params[p]) for p in self.key_params if params.get(p)), "") or next(
            (headers[h] for h in self.key_headers if headers.get(h)), "")
        if key:
            entry["idempotency_key"] = key
        for header in self.trace_headers:
            if response is not None and response.headers.get(header):
                entry[header.lower()] = response.headers[header]
        if error is not None:
            entry["error"] = error.code + (f" {error.platform_code}" if error.platform_code else "")
        self.exchanges.append(entry)


def parse_json(response: requests.Response) -> dict:
    """A response's JSON body with exact Decimals; {} when empty, ``{"text": ...}`` when it is not JSON."""
    if not response.content:
        return {}
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        return {"text": response.text[:2000]}


def retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date; ``default`` when
    absent or unreadable."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


_ALREADY_EXISTS = re.compile(r"already (exists|been (created|used))", re.I)
_DOES_NOT_EXIST = re.compile(r"(does not|doesn't) exist|not found", re.I)


@dataclass(frozen=True)
class ErrorCodes:
    """A platform's error codes by meaning, for :meth:`ErrorCodes.classify`. ``bad_url``: codes of a 404 that
    means "no such path" (our bug), not a gone record. ``hints``: plain-language hint per kind ("duplicate",
    "not_found", "validation", "auth"). ``wait``: seconds to wait after a rate limit without a Retry-After."""

    platform: str
    rate_limited: frozenset[str] = frozenset()
    internal: frozenset[str] = frozenset()
    auth: frozenset[str] = frozenset()
    duplicate: frozenset[str] = frozenset()
    not_found: frozenset[str] = frozenset()
    bad_url: frozenset[str] = frozenset()
    hints: Mapping[str, str] = field(default_factory=dict)
    wait: float = 60.0

    def classify(self, response: requests.Response, code: str, message: str, body) -> SyncError:
        """The error for one non-2xx answer whose platform ``code`` and ``message`` were read from ``body``:
        rate limited (429 or a rate code), retryable (5xx or an internal code), auth (401, 403 or an auth code),
        else a business refusal (:meth:`refusal`)."""
        status, name = response.status_code, self.platform
        if status == 429 or code in self.rate_limited:
            return RateLimitedError(f"{name} rate limit reached: {message}", http_status=status, platform_code=code,
                                    retry_after=retry_after(response.headers.get("Retry-After"), self.wait), raw=body)
        if status >= 500 or code in self.internal:
            return RetryableError(f"{name} answered HTTP {status}: {message}", http_status=status,
                                  platform_code=code, raw=body)
        if status in (401, 403) or code in self.auth:
            return AuthError(f"{name} refused our credentials: {message}", http_status=status, platform_code=code,
                             hint=self.hints.get("auth", ""), raw=body)
        return self.refusal(code, message, status, body)

    def refusal(self, code: str, message: str, status: int = 400, body=None) -> SyncError:
        """A business refusal: a duplicate (its code, or a message saying it "already exists" whatever the code),
        a gone record (its code, a 404 other than a bad path, or "does not exist"), else a validation error."""
        if code in self.duplicate or _ALREADY_EXISTS.search(message):
            return DuplicateError(message, platform_code=code or "duplicate", http_status=status,
                                  hint=self.hints.get("duplicate", ""), raw=body)
        if code in self.not_found or (status == 404 and code not in self.bad_url) or _DOES_NOT_EXIST.search(message):
            return RemoteNotFound(message, platform_code=code or str(status), http_status=status,
                                  hint=self.hints.get("not_found", ""), raw=body)
        return ValidationFailed(message, platform_code=code or str(status), http_status=status,
                                hint=self.hints.get("validation", ""), raw=body)


def _no_netrc(request):
    """The session's own "authentication": nothing. Its presence keeps requests from looking up ``~/.netrc``; each
    call sets its own Authorization header."""
    return request

"""The login-session family of the platform kit: platforms where a login yields a session (a cookie, a session id,
a user id) instead of an OAuth grant.

A session connector says how to log in (``login`` -> :class:`Session`), how to log out (``logout``), how long the
platform keeps an idle session (``session_lifetime``) and which refusals mean "your session is gone"
(``session_expired``). The rest is shared with the OAuth family, so it is single-flight in the same place:

- the session is stored as the connection's access token (encrypted, like one) with its expiry, and
  ``connectors.tokens.get_access_token`` renews it under the connection's row lock: of N workers that find it
  expired, one logs in and all continue with the new session;
- a renewal (``refresh``, called under that lock) logs the replaced session out first, so a platform whose
  licence counts sessions never holds two for one connection; a failing logout does not stop the login;
- a call refused as "session expired" logs in once more and is sent again once (:meth:`SessionConnector.call`;
  a client on the shared HTTP loop gets the same from its 401 handling); refused again, it is an ``AuthError``;
- ``release`` logs a connection's session out for good (disconnecting it, or a command that ends).

Staff connect with the usual Connect button: there is no consent page, so ``authorization_url`` goes straight to
the callback (or to a sandbox's stand-in page) and ``exchange_code`` logs in, which refuses wrong credentials
before anything is stored. Nothing here names a platform.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar
from urllib.parse import urlencode

from . import oauth
from .base import BaseConnector, TokenSet
from .errors import AuthError, SyncError

T = TypeVar("T")
#: The expiry stored for a session the platform keeps until it refuses it (no idle timeout).
UNTIMED = dt.timedelta(days=3650)


@dataclass(frozen=True)
class Session:
    """What a login yields: the ``token`` each call carries, when the platform will have forgotten it (None: not
    before it refuses it), and the company it opened when the login names one."""

    token: str
    expires_at: dt.datetime | None = None
    company_id: str = ""

    def tokens(self) -> TokenSet:
        """As the connection stores it: the session in both token fields (a renewal needs the old one to log it
        out), expiring when the session does."""
        expires = self.expires_at or dt.datetime.now(dt.UTC) + UNTIMED
        return TokenSet(self.token, self.token, expires, None, self.company_id)


class SessionConnector(BaseConnector):
    """Base of the connectors whose platform logs in to a session. Subclasses implement ``login`` and, where the
    platform has one, ``logout``; they declare ``session_lifetime`` and recognise ``session_expired``."""

    #: How long the platform keeps an idle session (None: until it refuses it). The session is renewed
    #: ``token_refresh_margin`` before that.
    session_lifetime: ClassVar[dt.timedelta | None] = None
    token_refresh_margin: ClassVar[dt.timedelta] = dt.timedelta(minutes=2)

    def login(self) -> Session:
        """Open a session with the connection's credentials; ``AuthError`` when they are refused."""
        raise NotImplementedError

    def logout(self, token: str) -> None:
        """Close the session ``token`` on the platform. Default: the platform has nothing to close."""

    def session_expired(self, exc: SyncError) -> bool:
        """True when ``exc`` says the session is gone (expired, logged out, unknown): log in again and resend.
        Default: an ``AuthError``."""
        return isinstance(exc, AuthError)

    def new_session(self) -> Session:
        """``login``, with the expiry the platform's idle timeout gives when the login's answer names none."""
        session = self.login()
        if session.expires_at is None and self.session_lifetime is not None:
            expires = dt.datetime.now(dt.UTC) + self.session_lifetime
            session = Session(session.token, expires, session.company_id)
        return session

    # -- the token store's hooks: a session stands in for a grant ---------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """No consent page: back to the callback at once (a sandbox may stand in a page: ``authorize_url``)."""
        if self.setting("authorize_url"):
            return oauth.authorization_url(self.setting("authorize_url"), self.config.client_id, redirect_uri, "",
                                           state)
        joiner = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{joiner}{urlencode({'code': 'login', 'state': state})}"

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        return self.new_session().tokens()

    def refresh(self, refresh_token: str) -> TokenSet:
        """Renew (called under the connection's row lock): log the replaced session out, then log in."""
        self.release(refresh_token)
        return self.new_session().tokens()

    def release(self, token: str) -> None:
        """Log ``token`` out; a platform that cannot be reached or refuses does not stop what follows (the
        session then lapses by itself after ``session_lifetime``)."""
        if not token:
            return
        with contextlib.suppress(SyncError):
            self.logout(token)

    # -- one call with the session ------------------------------------------------------------------------------
    def call(self, send: Callable[[str], T]) -> T:
        """``send(session token)``; when the platform answers that the session is gone, a new session (single
        flight, through the token getter) and one more ``send``. Refused again, an ``AuthError``."""
        try:
            return send(self.access_token(False))
        except SyncError as exc:
            if not self.session_expired(exc):
                raise
        try:
            return send(self.access_token(True))
        except SyncError as exc:
            if self.session_expired(exc) and not isinstance(exc, AuthError):
                raise AuthError(f"{self.name} refused a new session too: {exc.message}",
                                platform_code=exc.platform_code, hint="Check the connection's login and key, "
                                "then reconnect it in the admin.", raw=exc.raw) from exc
            raise

"""Odoo's two external-API protocols on the shared request loop (budget, timeout, exchange record, transport
errors), behind one call: ``call(model, method, ids, params)`` with named parameters, which both take.

- :class:`XmlRpcClient`: ``POST /xmlrpc/2/object`` ``execute_kw(db, uid, password, model, method, args, kwargs)``
  (the record ids as the one positional argument, everything else by name) and ``/xmlrpc/2/common``. Bodies are
  built and read by ``wire`` (the standard library's XML-RPC with Decimal doubles). The session (the user id
  ``authenticate`` answered) comes in per call; a fault is classified by ``errors.from_fault``.
- :class:`Json2Client`: ``POST /json/2/<model>/<method>`` with ``Authorization: bearer <API key>`` and
  ``X-Odoo-Database``; the body is the named parameters plus ``ids`` and ``context``. The loop's one retry on a 401
  asks for the key again (a new session).
"""
from __future__ import annotations

import json
import xml.parsers.expat
import xmlrpc.client  # nosec B411: for its Fault class; answers are parsed by wire.loads (defusedxml)
from decimal import Decimal
from typing import Any

import requests

from ..errors import RetryableError
from ..http import ApiClient
from . import errors, wire


class WithoutAuthorization(requests.Session):
    """XML-RPC carries its credentials in the body: the loop's Authorization header is not sent."""

    def request(self, method, url, *args, headers=None, **kwargs):  # noqa: D401 - requests' own signature
        headers = {k: v for k, v in (headers or {}).items() if k != "Authorization"}
        return super().request(method, url, *args, headers=headers, **kwargs)


class XmlRpcClient(ApiClient):
    platform = "Odoo"
    classify = staticmethod(errors.classify)

    def __init__(self, base_url: str, database: str, secret: str, **kwargs) -> None:
        kwargs.setdefault("session", WithoutAuthorization())
        super().__init__(base_url, lambda force: "", **kwargs)
        self.database, self.secret = database, secret

    def default_headers(self) -> dict:
        return {"Accept": "text/xml", "Content-Type": "text/xml"}

    def rpc(self, endpoint: str, method: str, params: list, kind: str = "", label: str = "") -> Any:
        """One XML-RPC call; ``label`` (``model.method``) goes into its exchange record, since every call has the
        same path."""
        try:
            response = self.send("POST", f"xmlrpc/2/{endpoint}", text=wire.dumps(tuple(wire.plain(params)), method),
                                 kind=kind)
        finally:
            if self.exchanges:
                self.exchanges[-1].setdefault("call", label or method)
        try:
            (result,), _ = wire.loads(response.content)
        except xmlrpc.client.Fault as fault:
            error = errors.from_fault(fault)
            self.exchanges[-1]["error"] = f"{error.code} {error.platform_code}"
            raise error from None
        except (xml.parsers.expat.ExpatError, ValueError) as exc:
            raise RetryableError(f"Odoo answered something that is not XML-RPC ({exc})") from None
        return result

    def authenticate(self, login: str) -> int | bool:
        return self.rpc("common", "authenticate", [self.database, login, self.secret, {}], kind="login")

    def version(self) -> dict:
        return self.rpc("common", "version", [])

    def call(self, session: str, model: str, method: str, ids: list | None, params: dict) -> Any:
        uid = int(session) if session.isdigit() else session
        args = [ids] if ids is not None else []
        return self.rpc("object", "execute_kw", [self.database, uid, self.secret, model, method, args, params],
                        label=f"{model}.{method}")


class Json2Client(ApiClient):
    platform = "Odoo"
    auth_scheme = "bearer"  # as Odoo's documentation writes it
    classify = staticmethod(errors.classify)

    def __init__(self, base_url: str, database: str, token_getter, **kwargs) -> None:
        super().__init__(base_url, token_getter, **kwargs)
        self.database = database

    def default_headers(self) -> dict:
        return {"Accept": "application/json", "X-Odoo-Database": self.database}

    def call(self, model: str, method: str, ids: list | None, params: dict, kind: str = "") -> Any:
        body = {**({"ids": ids} if ids is not None else {}), **params}
        response = self.send("POST", f"json/2/{model}/{method}", body=body, kind=kind)
        return wire_json(response)


def wire_json(response: requests.Response) -> Any:
    """A JSON-2 answer: any JSON value (a list, a number, true), Decimals exact."""
    return json.loads(response.content, parse_float=Decimal) if response.content else None

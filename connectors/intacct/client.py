"""Sage Intacct's XML gateway (``POST /ia/xml/xmlgw.phtml``) on the shared request loop (budget, timeout,
exchange record, transport errors).

:meth:`GatewayClient.execute` sends one request (sender credentials, a control id, ``uniqueid``, the
authentication and one or more functions) and gives back one :class:`Result` per function, in order. A refusal of
the whole request or of its authentication is raised (``errors.from_errors``); a refused function is a result
whose ``error`` is set, so a request of several functions (a batch) reports each on its own.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET  # nosec B405: the Element type only; parsing is wire.parse (defusedxml)
from dataclasses import dataclass

import requests

from ..errors import RetryableError, SyncError
from ..http import ApiClient
from . import errors, wire


class WithoutAuthorization(requests.Session):
    """The gateway carries its credentials in the body: the loop's Authorization header is not sent."""

    def request(self, method, url, *args, headers=None, **kwargs):  # noqa: D401 - requests' own signature
        headers = {k: v for k, v in (headers or {}).items() if k != "Authorization"}
        return super().request(method, url, *args, headers=headers, **kwargs)


@dataclass
class Result:
    """One function's answer: its status, ``data`` (the ``<data>`` element of a read), ``key`` (what a legacy
    create answers: ``<key>``), the error when it failed, and the authentication element of the request."""

    function: str
    controlid: str
    data: ET.Element | None = None
    key: str = ""
    error: SyncError | None = None
    authentication: ET.Element | None = None

    def records(self) -> list[dict]:
        return [wire.record(child) for child in self.data] if self.data is not None else []

    def raise_for_error(self) -> Result:
        if self.error is not None:
            raise self.error
        return self


class GatewayClient(ApiClient):
    platform = "Sage Intacct"
    classify = staticmethod(errors.classify)
    retry_unauthorized = False  # a refused session is in the body (HTTP 200); the connector logs in again

    def __init__(self, base_url: str, sender_id: str, sender_password: str, **kwargs) -> None:
        kwargs.setdefault("session", WithoutAuthorization())
        super().__init__(base_url, lambda force: "", **kwargs)
        self.sender_id, self.sender_password = sender_id, sender_password

    def default_headers(self) -> dict:
        return {"Accept": "application/xml", "Content-Type": "application/xml"}

    def execute(self, authentication: dict, functions: list[wire.Function], control_id: str,
                unique: bool = False, kind: str = "") -> list[Result]:
        body = wire.request(self.sender_id, self.sender_password, control_id, unique, authentication, functions)
        try:
            response = self.send("POST", wire.GATEWAY_PATH, text=body, kind=kind)
        finally:
            if self.exchanges:
                self.exchanges[-1].setdefault("call", ",".join(f.call for f in functions))
                self.exchanges[-1].setdefault("control_id", control_id)
        try:
            root = wire.parse(response.content)
        except ValueError as exc:
            raise RetryableError(f"Sage Intacct answered something that is not XML ({exc})") from None
        raw = response.text[:2000]
        if wire.child_text(root, "control/status") != "success":
            raise self._failed(errors.from_errors(root.find("errormessage"), "control", raw))
        operation = root.find("operation")
        if operation is None:
            raise RetryableError("Sage Intacct answered without an operation")
        authentication = operation.find("authentication")
        if wire.child_text(authentication, "status") != "success":
            raise self._failed(errors.from_errors(operation.find("errormessage"), "authentication", raw))
        results = [self._result(element, raw) for element in operation.findall("result")]
        for result in results:
            result.authentication = authentication
        if len(results) != len(functions):
            raise RetryableError(f"Sage Intacct answered {len(results)} results for {len(functions)} functions")
        return results

    def _failed(self, error: SyncError) -> SyncError:
        if self.exchanges:
            self.exchanges[-1]["error"] = f"{error.code} {error.platform_code}"
        return error

    @staticmethod
    def _result(element: ET.Element, raw: str) -> Result:
        function = wire.child_text(element, "function")
        result = Result(function, wire.child_text(element, "controlid"), element.find("data"),
                        wire.child_text(element, "key"))
        if wire.child_text(element, "status") != "success":
            result.error = errors.from_errors(element.find("errormessage"), function, raw)
        return result

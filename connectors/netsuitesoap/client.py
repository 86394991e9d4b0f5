"""NetSuite SuiteTalk SOAP on the shared request loop, with zeep as the SOAP stack.

zeep loads the vendored WSDL (``spec/netsuite.wsdl``, v2025_2, trimmed to what is called) and builds each SOAP 1.1
envelope, with a freshly signed ``tokenPassport`` header (a new nonce and timestamp per request: NetSuite refuses a
nonce it has seen); the envelope goes out through the kit's loop (budget, timeout, exchange record, transport
errors) and zeep parses the answer back into the WSDL's types, given to the connector as plain dicts. A SOAP fault
(HTTP 500) is classified by ``errors.classify``; a refused write is an answer with ``status isSuccess="false"``,
raised by ``errors.from_status``.
"""
from __future__ import annotations

import secrets
import time
from pathlib import Path

import requests
import zeep
from lxml import etree  # nosec B410: serialising zeep's own envelope only; answers are parsed by zeep
from zeep.helpers import serialize_object

from ..errors import AuthError
from ..http import ApiClient
from . import errors, tba

WSDL = Path(__file__).resolve().parent / "spec" / "netsuite.wsdl"
SERVICE_PATH = "services/NetSuitePort_2025_2"
NAMESPACES = {"core": "urn:core_2025_2.platform.webservices.netsuite.com",
              "common": "urn:common_2025_2.platform.webservices.netsuite.com",
              "rel": "urn:relationships_2025_2.lists.webservices.netsuite.com",
              "acct": "urn:accounting_2025_2.lists.webservices.netsuite.com",
              "sales": "urn:sales_2025_2.transactions.webservices.netsuite.com",
              "cust": "urn:customers_2025_2.transactions.webservices.netsuite.com",
              "bank": "urn:bank_2025_2.transactions.webservices.netsuite.com",
              "general": "urn:general_2025_2.transactions.webservices.netsuite.com",
              "purch": "urn:purchases_2025_2.transactions.webservices.netsuite.com"}
_SCHEMA: zeep.Client | None = None


def schema() -> zeep.Client:
    """The WSDL, loaded once per process (offline: the files are vendored)."""
    global _SCHEMA  # noqa: PLW0603 - a parsed WSDL is immutable and costly to load
    if _SCHEMA is None:
        _SCHEMA = zeep.Client(str(WSDL))
    return _SCHEMA


class WithoutAuthorization(requests.Session):
    """TBA is in the SOAP header: the loop's Authorization header is not sent."""

    def request(self, method, url, *args, headers=None, **kwargs):  # noqa: D401 - requests' own signature
        headers = {k: v for k, v in (headers or {}).items() if k != "Authorization"}
        return super().request(method, url, *args, headers=headers, **kwargs)


class SoapClient(ApiClient):
    platform = "NetSuite"
    classify = staticmethod(errors.classify)
    retry_unauthorized = False

    def __init__(self, base_url: str, account: str, consumer: tuple[str, str], token_getter, token_secret: str,
                 **kwargs) -> None:
        """``token_getter(force)`` gives the access token's id (the token store's access token: see the connector's
        ``login``); its secret is the connection's encrypted setting."""
        kwargs.setdefault("session", WithoutAuthorization())
        super().__init__(base_url, lambda force: "", **kwargs)  # the loop's Authorization header is not sent
        self.account, self.consumer, self.token_secret = account, consumer, token_secret
        self.token_id = token_getter
        self.zeep = schema()

    def type(self, ns: str, name: str):
        return self.zeep.get_type(f"{{{NAMESPACES[ns]}}}{name}")

    def passport(self, token_id: str) -> dict:
        nonce, timestamp = secrets.token_hex(10), int(time.time())
        signature = tba.signature(self.account, self.consumer[0], self.consumer[1], token_id, self.token_secret,
                                  nonce, timestamp)
        return {"account": self.account, "consumerKey": self.consumer[0], "token": token_id, "nonce": nonce,
                "timestamp": timestamp, "signature": {"_value_1": signature, "algorithm": tba.ALGORITHM}}

    def call(self, operation: str, headers: dict | None = None, **kwargs) -> dict:
        """One operation: the envelope built and parsed by zeep, sent through the loop; the answer as dicts (zeep
        unwraps a response of one element: ``writeResponse``, ``readResponse``, ``searchResult``...). A refused
        token (``invalidCredentialsFault``: a SOAP fault, not an HTTP 401) asks the token getter once for a renewed
        one and sends once more; refused again, the ``AuthError`` stands."""
        try:
            return self.call_once(operation, self.token_id(False), headers, **kwargs)
        except AuthError:
            return self.call_once(operation, self.token_id(True), headers, **kwargs)

    def call_once(self, operation: str, token_id: str, headers: dict | None = None, **kwargs) -> dict:
        service = self.zeep.service
        envelope = self.zeep.create_message(service, operation, **kwargs,
                                            _soapheaders={"tokenPassport": self.passport(token_id), **(headers or {})})
        body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        try:
            response = self.send("POST", SERVICE_PATH, text=body, kind="write" if operation in errors.WRITES
                                 else "read", headers={"SOAPAction": f'"{operation}"'})
        finally:
            if self.exchanges:
                self.exchanges[-1].setdefault("call", operation)
        binding = service._binding  # noqa: SLF001 - zeep's documented way to process a raw reply
        result = binding.process_reply(self.zeep, binding.get(operation), response)
        return serialize_object(result, dict)

    def default_headers(self) -> dict:
        return {"Content-Type": "text/xml; charset=utf-8"}

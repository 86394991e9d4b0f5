"""The sandbox's ``JournalEntryCreateRequestConfirmation_In`` (Journal Entry - Post (Synchronous), SAP_COM_0002):
the request read from its SOAP 1.1 envelope, the confirmation written in SAP's shape.

- ``POST /sap/bc/srt/scs_ext/sap/journalentrycreaterequestconfi`` with ``JournalEntryBulkCreateRequest`` (one or more
  ``JournalEntryCreateRequest``, each a ``JournalEntry`` of ``Item`` (G/L), ``DebtorItem`` (customer) and
  ``ProductTaxItem`` (tax) elements, amounts signed with a ``currencyCode`` attribute) answers 200 with
  ``JournalEntryBulkCreateConfirmation``: per request a ``JournalEntryCreateConfirmation`` with ``AccountingDocument``,
  ``CompanyCode``, ``FiscalYear`` and a ``Log``. A refused entry is not an HTTP error: its ``AccountingDocument`` is
  ``0000000000`` and its log's ``MaximumLogItemSeverityCode`` is 3, each ``Log/Item`` a ``TypeID`` such as
  ``702(F5)`` (number and message class), ``SeverityCode`` and ``Note``.
- An envelope that cannot be read (not XML, no such message) is a SOAP fault, HTTP 500.
- A SOAP endpoint takes no CSRF token (that is the OData services' protocol).
- ``GET /sap/bc/srt/wsdl/journalentrycreaterequestconfi.wsdl`` serves the vendored WSDL with this sandbox's address
  (a tenant offers it for download in its communication arrangement instead).
"""
from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape  # nosec B406 - escaping what is written; nothing is parsed with it

from defusedxml.ElementTree import fromstring

POST_PATH = "/sap/bc/srt/scs_ext/sap/journalentrycreaterequestconfi"
WSDL_PATH = "/sap/bc/srt/wsdl/journalentrycreaterequestconfi.wsdl"
WSDL = Path(__file__).resolve().parent.parent / "spec" / "journalentrycreaterequestconfirmation.wsdl"
WSDL_ADDRESS = b"https://my000000-api.s4hana.cloud.sap/sap/bc/srt/scs_ext/sap/journalentrycreaterequestconfi"
SFIN = "http://sap.com/xi/SAPSCORE/SFIN"
ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
XML = "text/xml; charset=utf-8"
SYSTEM = "S4H"


class Refused(Exception):
    """A posting refused with one log item (the message class and number, the text)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child(element, name: str):
    return next((c for c in element if local(c.tag) == name), None) if element is not None else None


def children(element, name: str) -> list:
    return [c for c in element if local(c.tag) == name] if element is not None else []


def text(element, name: str) -> str:
    found = child(element, name)
    return (found.text or "").strip() if found is not None else ""


def fault(code: str, message: str) -> tuple[int, list, bytes]:
    body = (f'<soap-env:Envelope xmlns:soap-env="{ENVELOPE}"><soap-env:Header/><soap-env:Body><soap-env:Fault>'
            f"<faultcode>soap-env:{code}</faultcode><faultstring xml:lang=\"en\">{escape(message)}</faultstring>"
            "<detail/></soap-env:Fault></soap-env:Body></soap-env:Envelope>")
    return 500, [("Content-Type", XML)], body.encode()


def requests_of(raw: bytes) -> list:
    """The ``JournalEntryCreateRequest`` elements of an envelope (``ValueError`` when it is not one)."""
    try:
        envelope = fromstring(raw)
    except Exception as exc:  # noqa: BLE001 - any parse error is the caller's malformed envelope
        raise ValueError("The request is not a well-formed SOAP envelope") from exc
    body = child(envelope, "Body") if local(envelope.tag) == "Envelope" else None
    bulk = child(body, "JournalEntryBulkCreateRequest")
    if bulk is None or bulk.tag != f"{{{SFIN}}}JournalEntryBulkCreateRequest":
        raise ValueError("Message JournalEntryBulkCreateRequest of namespace http://sap.com/xi/SAPSCORE/SFIN "
                         "expected in the SOAP body")
    found = children(bulk, "JournalEntryCreateRequest")
    if child(bulk, "MessageHeader") is None or not found:
        raise ValueError("JournalEntryBulkCreateRequest needs a MessageHeader and at least one "
                         "JournalEntryCreateRequest")
    return found


def _amount(element, name: str, index: int) -> tuple[Decimal, str]:
    found = child(element, name)
    if found is None:
        raise Refused("F5/760", f"Item {index}: enter an amount ({name})")
    try:
        value = Decimal((found.text or "").strip())
    except InvalidOperation:
        raise Refused("F5/760", f"Item {index}: {name} is not a number") from None
    currency = found.get("currencyCode") or ""
    if not currency:
        raise Refused("F5/097", f"Item {index}: {name} names no currencyCode")
    return value, currency


def _side(element, value: Decimal, index: int) -> str:
    """``DebitCreditCode`` as sent, or from the sign; a sign that contradicts it is refused."""
    code = text(element, "DebitCreditCode") or ("H" if value < 0 else "S")
    if code not in ("S", "H") or (code == "S" and value < 0) or (code == "H" and value > 0) or not value:
        raise Refused("F5/760", f"Item {index}: the amount's sign must match DebitCreditCode {code} "
                                "(debit S positive, credit H negative)")
    return code


def entry_of(request) -> dict:
    """One ``JournalEntry`` as the sandbox's posting body: header, items (G/L and customer) and the tax items
    sent (``_tax``), every amount positive with its side."""
    entry = child(request, "JournalEntry")
    if entry is None:
        raise Refused("FINS_ACDOC_POST/001", "JournalEntryCreateRequest has no JournalEntry")
    for field in ("OriginalReferenceDocumentType", "BusinessTransactionType", "AccountingDocumentType", "CompanyCode",
                  "DocumentDate", "PostingDate", "CreatedByUser"):
        if not text(entry, field):
            raise Refused("FINS_ACDOC_POST/002", f"Enter a value in field {field}")
    items, currencies = [], set()
    for index, element in enumerate(list(entry), start=1):
        kind = local(element.tag)
        if kind not in ("Item", "DebtorItem", "ProductTaxItem"):
            continue
        value, currency = _amount(element, "AmountInTransactionCurrency", index)
        currencies.add(currency)
        side = _side(element, value, index)
        item: dict[str, Any] = {"DebitCreditCode": side, "AmountInTransactionCurrency": abs(value),
                                "DocumentItemText": text(element, "DocumentItemText") or None}
        if kind == "Item":
            item.update(GLAccount=text(element, "GLAccount"), TaxCode=text(child(element, "Tax"), "TaxCode") or None)
        elif kind == "DebtorItem":
            item.update(Customer=text(element, "Debtor"), InvoiceReference=text(element, "InvoiceReference") or None,
                        InvoiceReferenceFiscalYear=text(element, "InvoiceReferenceFiscalYear") or None)
            if not item["Customer"]:
                raise Refused("F5/104", f"Item {index}: enter a customer (Debtor)")
        else:
            base, base_currency = _amount(element, "TaxBaseAmountInTransCrcy", index)
            currencies.add(base_currency)
            item.update(_tax=True, TaxCode=text(element, "TaxCode"), _base=abs(base))
        items.append(item)
    if len(currencies) > 1:
        raise Refused("F5/097", f"The items name more than one currency ({', '.join(sorted(currencies))})")
    return {"CompanyCode": text(entry, "CompanyCode"), "AccountingDocumentType": text(entry, "AccountingDocumentType"),
            "DocumentReferenceID": text(entry, "DocumentReferenceID") or None,
            "DocumentHeaderText": text(entry, "DocumentHeaderText") or None,
            "PostingDate": text(entry, "PostingDate"), "DocumentDate": text(entry, "DocumentDate"),
            "TransactionCurrency": next(iter(currencies), None), "to_Item": {"results": items}}


def _header(reference: str) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (f"<MessageHeader><UUID>{secrets.token_hex(16)}</UUID><ReferenceID>{escape(reference)}</ReferenceID>"
            f"<CreationDateTime>{now}</CreationDateTime></MessageHeader>")


def _log(severity: str, items: list[tuple[str, str, str]]) -> str:
    rows = "".join(f"<Item><TypeID>{escape(type_id)}</TypeID><SeverityCode>{level}</SeverityCode>"
                   f"<Note>{escape(note)}</Note></Item>" for type_id, level, note in items)
    return f"<Log><MaximumLogItemSeverityCode>{severity}</MaximumLogItemSeverityCode>{rows}</Log>"


def type_id(code: str) -> str:
    """Our "F5/702" as the log's ``TypeID`` "702(F5)"."""
    cls, _, number = code.rpartition("/")
    return f"{number}({cls})" if cls else code


def confirmation(reference: str, document: dict | None, refusal: Refused | None) -> str:
    """One ``JournalEntryCreateConfirmation``: the document posted, or ``0000000000`` with the refusal's log."""
    if document is not None:
        key = f"{document['AccountingDocument']}{document['CompanyCode']}{document['FiscalYear']}"
        made = (f"<AccountingDocument>{document['AccountingDocument']}</AccountingDocument>"
                f"<CompanyCode>{document['CompanyCode']}</CompanyCode><FiscalYear>{document['FiscalYear']}</FiscalYear>")
        log = _log("1", [("605(RW)", "1", f"Document posted successfully: BKPFF {key} {SYSTEM}")])
    else:
        made = "<AccountingDocument>0000000000</AccountingDocument><CompanyCode/><FiscalYear>0000</FiscalYear>"
        assert refusal is not None  # nosec B101 - one of the two is always given
        log = _log("3", [(type_id(refusal.code), "3", refusal.message),
                         ("609(RW)", "3", "Error in document: BKPFF $ " + SYSTEM)])
    return (f"<JournalEntryCreateConfirmation>{_header(reference)}<JournalEntryCreateConfirmation>{made}"
            f"</JournalEntryCreateConfirmation>{log}</JournalEntryCreateConfirmation>")


def envelope(bulk_reference: str, confirmations: list[str]) -> bytes:
    return (f'<soap-env:Envelope xmlns:soap-env="{ENVELOPE}"><soap-env:Header/><soap-env:Body>'
            f'<n0:JournalEntryBulkCreateConfirmation xmlns:n0="{SFIN}">{_header(bulk_reference)}'
            "<ConfirmationInterfaceOrignName/>" + "".join(confirmations) + "<Log/>"
            "</n0:JournalEntryBulkCreateConfirmation></soap-env:Body></soap-env:Envelope>").encode()


def message_id(request) -> str:
    return text(child(request, "MessageHeader"), "ID")

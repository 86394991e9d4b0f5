"""One in-memory Xero organisation (tenant): entities, Xero's business rules, listing, idempotency memory.

The point is to fail the way Xero fails, so rules and messages follow the platform (Xero's OpenAPI document
and developer documentation) rather than any one client. Everything runs under one re-entrant lock; a batch
write keeps an undo log so "one bad element fails the whole request" leaves nothing behind, exactly like Xero
without ``summarizeErrors=false``.

Rows are kept close to their wire shape: ids are lower-case UUID strings, money is ``Decimal``, dates are
``datetime.date`` and every row has ``_updated`` (epoch milliseconds). :meth:`Store.render` produces the JSON
shape (``/Date(ms+0000)/`` dates, Xero's decimal places).
"""
from __future__ import annotations

import copy
import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, NamedTuple

from . import costs, seed
from .documents import line_amounts, line_tax, totals
from .query import compile_where, sort_rows
from .wire import (
    ElementError,
    XeroError,
    date_string,
    epoch_ms,
    ms_date,
    new_id,
    parse_date,
    post_data_invalid,
    q,
    render_date,
    to_decimal,
    utc_string,
    validation_exception,
)

try:
    from zoneinfo import ZoneInfo

    ORG_TZ: dt.tzinfo = ZoneInfo("America/New_York")
except Exception:  # pragma: no cover - no tz database
    ORG_TZ = dt.timezone(dt.timedelta(hours=-5))

#: collection -> its id field
COLLECTIONS = {"Contacts": "ContactID", "Items": "ItemID", "Invoices": "InvoiceID", "CreditNotes": "CreditNoteID",
               "Payments": "PaymentID", "Accounts": "AccountID", "TaxRates": "TaxType", "Currencies": "Code",
               "BankTransactions": "BankTransactionID", "ManualJournals": "ManualJournalID",
               "Overpayments": "OverpaymentID"}
WRITABLE = ("Contacts", "Items", "Invoices", "CreditNotes", "Payments", "BankTransactions", "ManualJournals")
PAGED = ("Contacts", "Invoices", "CreditNotes", "Payments", "BankTransactions", "ManualJournals", "Overpayments")
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
DEFAULT_ORDER = {"Contacts": [("Name", False)], "Items": [("Code", False)], "Accounts": [("Code", False)],
                 "TaxRates": [("Name", False)], "Currencies": [("Code", False)],
                 "Invoices": [("UpdatedDateUTC", False), ("InvoiceID", False)],
                 "CreditNotes": [("UpdatedDateUTC", False), ("CreditNoteID", False)],
                 "Payments": [("UpdatedDateUTC", False), ("PaymentID", False)],
                 "BankTransactions": [("UpdatedDateUTC", False), ("BankTransactionID", False)],
                 "ManualJournals": [("UpdatedDateUTC", False), ("ManualJournalID", False)],
                 "Overpayments": [("UpdatedDateUTC", False), ("OverpaymentID", False)]}

INVOICE_TYPES = ("ACCREC", "ACCPAY")
CREDIT_TYPES = ("ACCRECCREDIT", "ACCPAYCREDIT")
CREATE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
TRANSITIONS = {"DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
               "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
               "AUTHORISED": {"AUTHORISED", "VOIDED"}, "PAID": {"PAID"}, "VOIDED": set(), "DELETED": set()}
ALLOCATED = "This document cannot be edited as it has a payment or credit note allocated to it."
EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")

# Messages. Verbatim from Xero's OpenAPI examples or SDK tests where noted; the rest are paraphrases.
MSG_CONTACT_IDENTIFY = ("The Contact must contain at least 1 of the following elements to identify the contact: "
                        "Name, ContactID, ContactNumber")  # verbatim (spec)
MSG_INVOICE_NUMBER = "Invoice # must be unique."  # verbatim (spec)
MSG_OVERPAID = "Payment amount exceeds the amount outstanding on this document"  # verbatim (spec)
MSG_NOT_AUTHORISED = "Payments can only be made against Authorised documents"


def _contact_name_taken(name: str) -> str:  # verbatim (spec)
    return (f"The contact name {name} is already assigned to another contact. The contact name must be unique "
            "across all active contacts.")


def _bad_account(code: str) -> str:  # verbatim (widely quoted)
    return f"Account code '{code}' is not a valid code for this document."


def _archived_account(code: str) -> str:
    return (f"Account code '{code}' has been archived, or has been deleted. Each line item must reference a valid "
            "account.")


def _bad_tax_type(tax_type: str) -> str:
    return f"The TaxType code '{tax_type}' does not exist or cannot be used for this type of transaction."


def _item_code_taken(code: str) -> str:  # verbatim (spec, including the doubled quotes)
    return f"Price List Item with Code ''{code}'' already exists"


class StoreChange(NamedTuple):
    """One committed change to a row: new (``created``) or with a new ``UpdatedDateUTC`` (``updated_ms``)."""

    tenant_id: str
    collection: str
    resource_id: str
    created: bool
    updated_ms: int
    data: dict  # Type and Status of documents (credit note events carry them)


class Store:
    """One Xero organisation. Public methods are thread-safe."""

    def __init__(self, tenant_id: str, name: str = "Sandbox Company (US)",
                 clock: Callable[[], float] = time.time) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.clock = clock
        self.lock = threading.RLock()
        self._listeners: list[Callable[[StoreChange], None]] = []
        self.reset()

    def subscribe(self, listener: Callable[[StoreChange], None]) -> None:
        """Call ``listener`` for every committed change (under the store lock: it must be quick).

        A request reports each row it created, or whose ``UpdatedDateUTC`` it moved, once, in the order first
        touched; a request that fails reports nothing (its undo log rolled it back), and neither do elements
        that failed under ``summarizeErrors=false``. Flags Xero sets without moving ``UpdatedDateUTC``
        (``IsCustomer``) are not changes, so webhooks and ``If-Modified-Since`` agree.
        """
        with self.lock:
            self._listeners.append(listener)

    # -- lifecycle -------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Wipe all data and idempotency memory; re-seed the reference lists."""
        with self.lock:
            self._rows: dict[str, dict[str, dict]] = {name: {} for name in COLLECTIONS}
            self._undo: list | None = None
            self._idempotency: dict[str, tuple[str, float, Any]] = {}
            self._last_stamp = 0
            stamp = self._stamp()
            self._org = seed.organisation(self.tenant_id, self.name, stamp)
            for row in seed.accounts(new_id, stamp):
                self._rows["Accounts"][row["AccountID"]] = row
            for row in seed.tax_rates():
                self._rows["TaxRates"][row["TaxType"]] = row
            for row in seed.currencies():
                self._rows["Currencies"][row["Code"]] = row

    def forget_idempotency_keys(self) -> None:
        with self.lock:
            self._idempotency.clear()

    def idempotent(self, key: str | None, fingerprint: str, ttl: float | None,
                   run: Callable[[], Any]) -> Any:
        """Run a write once per ``Idempotency-Key``; a repeat gets the original result and changes nothing.

        Errors are remembered too. The same key with a different request is refused.
        """
        with self.lock:
            now = self.clock()
            if ttl is not None:
                self._idempotency = {k: v for k, v in self._idempotency.items() if v[1] + ttl > now}
            if key:
                seen = self._idempotency.get(key)
                if seen is not None:
                    if seen[0] != fingerprint:
                        raise XeroError(10, "ValidationException",
                                        f"Idempotency Key: {key} is used with a different request.", [])
                    return seen[2]
            result = run()
            if key:
                self._idempotency[key] = (fingerprint, now, result)
            return result

    # -- time -------------------------------------------------------------------------------------------------

    def _stamp(self) -> int:
        """A strictly increasing ``UpdatedDateUTC`` in epoch milliseconds."""
        self._last_stamp = max(epoch_ms(self.clock()), self._last_stamp + 1)
        return self._last_stamp

    def today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.clock(), ORG_TZ).date()

    # -- undo log (one batch = one transaction) ---------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """All or nothing for the writes inside; on success the changes are published to the listeners."""
        with self.lock:
            if self._undo is not None:  # nested: the outermost transaction commits
                yield
                return
            self._undo = []
            try:
                yield
                changes = self._changes(self._undo)
            except BaseException:
                self._rollback(0)
                raise
            finally:
                self._undo = None
            for change in changes:
                for listener in self._listeners:
                    listener(change)

    def _changes(self, undo: list) -> list[StoreChange]:
        changes, seen = [], set()
        for collection, key, previous in undo:
            if (collection, key) in seen:
                continue
            seen.add((collection, key))
            row = self._rows[collection].get(key)
            if row is None or (previous is not None and previous.get("_updated") == row.get("_updated")):
                continue
            data = {k: row[k] for k in ("Type", "Status") if k in row}
            changes.append(StoreChange(self.tenant_id, collection, key, previous is None, row.get("_updated", 0),
                                       data))
        return changes

    def _save(self, collection: str, row: dict) -> dict:
        key = row[COLLECTIONS[collection]]
        if self._undo is not None:
            self._undo.append((collection, key, self._rows[collection].get(key)))
        self._rows[collection][key] = row
        return row

    def _rollback(self, point: int) -> None:
        while self._undo is not None and len(self._undo) > point:
            collection, key, previous = self._undo.pop()
            if previous is None:
                self._rows[collection].pop(key, None)
            else:
                self._rows[collection][key] = previous

    @staticmethod
    def _edit(row: dict) -> dict:
        """A private copy of ``row`` to modify and then :meth:`_save` (keeps the undo log honest)."""
        return copy.deepcopy(row)

    # -- reads ------------------------------------------------------------------------------------------------

    def organisation(self) -> dict:
        with self.lock:
            return copy.deepcopy(self._org)

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {name: len(rows) for name, rows in self._rows.items()}

    def entities(self, collection: str, unitdp: int = 2) -> list[dict]:
        """Every row of a collection, rendered (test helper; no filtering, no paging)."""
        with self.lock:
            rows = [self.render(collection, r, unitdp) for r in self._rows[collection].values()]
        return sort_rows(rows, None, DEFAULT_ORDER[collection])

    def find(self, collection: str, key: str) -> dict | None:
        """Internal row by id, or by natural key (InvoiceNumber, CreditNoteNumber, ContactNumber, Item Code)."""
        rows = self._rows[collection]
        key = str(key or "").strip()
        row = rows.get(key.lower()) or rows.get(key)
        if row is not None:
            return row
        natural = {"Invoices": "InvoiceNumber", "CreditNotes": "CreditNoteNumber", "Contacts": "ContactNumber",
                   "Items": "Code", "Accounts": "Code", "TaxRates": "TaxType"}.get(collection)
        if natural and key:
            matches = [r for r in rows.values() if str(r.get(natural, "")).lower() == key.lower()
                       and r.get("Status") != "DELETED"]
            matches.sort(key=lambda r: r.get("Type") not in ("ACCREC", "ACCRECCREDIT"))
            return matches[0] if matches else None
        return None

    def get(self, collection: str, key: str, unitdp: int = 2) -> dict | None:
        with self.lock:
            row = self.find(collection, key)
            return self.render(collection, row, unitdp) if row is not None else None

    def list(self, collection: str, params: dict[str, str], since: float | None = None
             ) -> tuple[list[dict], dict | None]:
        """A GET list: filters, ``where``, ``order`` and paging. Returns rows and the pagination block."""
        p = {k.lower(): v for k, v in params.items()}
        unitdp = 4 if p.get("unitdp") == "4" else 2
        where = compile_where(p["where"]) if p.get("where", "").strip() else None
        with self.lock:
            rows = list(self._rows[collection].values())
            if since is not None:
                rows = [r for r in rows if r.get("_updated", 0) >= int(since * 1000)]
            rows = [self.render(collection, r, unitdp) for r in rows]
        id_field = COLLECTIONS[collection]
        rows = [r for r in rows if self._matches(collection, r, p, id_field)]
        if where is not None:
            rows = [r for r in rows if where(r)]
        rows = sort_rows(rows, p.get("order"), DEFAULT_ORDER[collection])
        if collection in ("Invoices", "Contacts") and p.get("summaryonly", "").lower() == "true":
            for row in rows:
                for field in ("LineItems", "Payments", "CreditNotes", "Prepayments", "Overpayments",
                              "ContactPersons", "Addresses", "Phones"):
                    row.pop(field, None)
        if collection not in PAGED or "page" not in p:
            if collection in ("Invoices", "CreditNotes"):
                for row in rows:  # Xero shows line items only on single reads and paged lists
                    if "LineItems" in row:
                        row["LineItems"] = []
            return rows, None
        page = max(_int(p.get("page"), 1), 1)
        size = min(max(_int(p.get("pagesize"), DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE)
        pagination = {"page": page, "pageSize": size, "pageCount": -(-len(rows) // size), "itemCount": len(rows)}
        return rows[(page - 1) * size:page * size], pagination

    @staticmethod
    def _matches(collection: str, row: dict, p: dict[str, str], id_field: str) -> bool:
        ids = _csv(p.get("ids"))
        if ids and str(row.get(id_field, "")).lower() not in {i.lower() for i in ids}:
            return False
        if collection == "Contacts" and row.get("ContactStatus") == "ARCHIVED" \
                and p.get("includearchived", "").lower() != "true" and not ids:
            return False
        if collection == "Invoices":
            numbers = _csv(p.get("invoicenumbers"))
            if numbers and str(row.get("InvoiceNumber", "")).lower() not in {n.lower() for n in numbers}:
                return False
            contacts = _csv(p.get("contactids"))
            if contacts and row["Contact"]["ContactID"].lower() not in {c.lower() for c in contacts}:
                return False
            statuses = _csv(p.get("statuses"))
            if statuses and row["Status"] not in {s.upper() for s in statuses}:
                return False
        term = (p.get("searchterm") or "").strip().lower()
        if term:
            fields = {"Invoices": ("InvoiceNumber", "Reference"),
                      "Contacts": ("Name", "FirstName", "LastName", "ContactNumber", "CompanyNumber",
                                   "EmailAddress")}.get(collection, ())
            if fields and not any(term in str(row.get(f, "")).lower() for f in fields):
                return False
        return True

    # -- rendering --------------------------------------------------------------------------------------------

    def render(self, collection: str, row: dict, unitdp: int = 2) -> dict:
        out = {k: copy.deepcopy(v) for k, v in row.items() if not k.startswith("_")}
        if "_updated" in row:
            out["UpdatedDateUTC"] = ms_date(row["_updated"])
        if collection == "Contacts":
            out["HasValidationErrors"] = False
        elif collection == "Items":
            for details in ("SalesDetails", "PurchaseDetails"):
                if "UnitPrice" in out.get(details, {}):
                    out[details]["UnitPrice"] = q(out[details]["UnitPrice"], unitdp)
        elif collection in ("Invoices", "CreditNotes"):
            out = self._render_document(collection, row, out, unitdp)
        elif collection == "Payments":
            out = self._render_payment(row, out)
        elif collection == "BankTransactions":
            out["Date"] = render_date(row["Date"])
            out["Contact"] = self._contact_summary(row["_contact"])
            account = self._rows["Accounts"][row["_account"]]
            out["BankAccount"] = {"AccountID": account["AccountID"], "Code": account["Code"], "Name": account["Name"]}
            out["HasAttachments"] = False
        elif collection == "ManualJournals":
            out = costs.render_journal(row, out)
        elif collection == "Overpayments":
            out = self._render_overpayment(row, out)
        return out

    def _render_overpayment(self, row: dict, out: dict) -> dict:
        """An overpayment (made by a RECEIVE-OVERPAYMENT bank transaction) with its refunds as ``Payments``."""
        out["Date"] = render_date(row["Date"])
        out["Contact"] = self._contact_summary(row["_contact"])
        out["CurrencyRate"] = q(row["CurrencyRate"], 6)
        out["LineItems"] = [self._render_line(line, 2) for line in row["LineItems"]]
        out["Payments"] = [self._payment_summary(pid) for pid in row["_payments"]
                           if self._rows["Payments"][pid]["Status"] != "DELETED"]
        out["Allocations"] = []
        for internal in ("AmountPaid", "AmountCredited", "FullyPaidOnDate"):  # not fields of an Overpayment
            out.pop(internal, None)
        out["HasAttachments"] = False
        return out

    def _render_document(self, collection: str, row: dict, out: dict, unitdp: int) -> dict:
        out["Contact"] = self._contact_summary(row["_contact"])
        for field in ("Date", "DueDate", "FullyPaidOnDate", "ExpectedPaymentDate", "PlannedPaymentDate"):
            if isinstance(row.get(field), dt.date):
                out[field] = render_date(row[field])
                if field in ("Date", "DueDate"):
                    out[f"{field}String"] = date_string(row[field])
        out["UpdatedDateUTCString"] = utc_string(row["_updated"])
        out["CurrencyRate"] = q(row["CurrencyRate"], 6)
        out["LineItems"] = [self._render_line(line, unitdp) for line in row["LineItems"]]
        out["Payments"] = [self._payment_summary(pid) for pid in row["_payments"]
                           if self._rows["Payments"][pid]["Status"] != "DELETED"]
        out["HasErrors"] = False
        out["HasAttachments"] = False
        if collection == "Invoices":
            out["CreditNotes"] = [self._credit_summary(cn_id, alloc_id) for cn_id, alloc_id in row["_credits"]]
            out["Prepayments"], out["Overpayments"] = [], []
        else:
            out["Allocations"] = [self._allocation(row, a) for a in row["_allocations"] if not a.get("_deleted")]
            out.pop("AmountPaid", None)
            out.pop("AmountCredited", None)
        return out

    @staticmethod
    def _render_line(line: dict, unitdp: int) -> dict:
        out = {k: v for k, v in line.items() if not k.startswith("_")}
        if "UnitAmount" in out:
            out["UnitAmount"] = q(out["UnitAmount"], unitdp)
        out.setdefault("Tracking", [])
        out["ValidationErrors"] = []
        return out

    def _contact_summary(self, contact_id: str) -> dict:
        contact = self._rows["Contacts"][contact_id]
        summary = {"ContactID": contact["ContactID"], "ContactStatus": contact["ContactStatus"],
                   "Name": contact["Name"]}
        for field in ("ContactNumber", "EmailAddress", "FirstName", "LastName"):
            if field in contact:
                summary[field] = contact[field]
        summary.update(Addresses=[], Phones=[], ContactGroups=[], ContactPersons=[], HasValidationErrors=False)
        return summary

    def _payment_summary(self, payment_id: str) -> dict:
        pay = self._rows["Payments"][payment_id]
        out = {"PaymentID": pay["PaymentID"], "Date": render_date(pay["Date"]), "Amount": pay["Amount"],
               "CurrencyRate": q(pay["CurrencyRate"], 6), "HasAccount": False, "HasValidationErrors": False}
        if pay.get("Reference"):
            out["Reference"] = pay["Reference"]
        return out

    def _credit_summary(self, cn_id: str, alloc_id: str) -> dict:
        note = self._rows["CreditNotes"][cn_id]
        alloc = next(a for a in note["_allocations"] if a["AllocationID"] == alloc_id)
        out = {"CreditNoteID": cn_id, "ID": cn_id, "AppliedAmount": alloc["Amount"], "Date": render_date(note["Date"]),
               "Total": note["Total"], "HasErrors": False}
        if note.get("CreditNoteNumber"):
            out["CreditNoteNumber"] = note["CreditNoteNumber"]
        return out

    def _allocation(self, note: dict, alloc: dict) -> dict:
        invoice = self._rows["Invoices"][alloc["_invoice"]]
        inv = {"InvoiceID": invoice["InvoiceID"], "Payments": [], "CreditNotes": [], "Prepayments": [],
               "Overpayments": [], "HasErrors": False, "IsDiscounted": False, "LineItems": [],
               "ValidationErrors": []}
        if invoice.get("InvoiceNumber"):
            inv["InvoiceNumber"] = invoice["InvoiceNumber"]
        cn = {"CreditNoteID": note["CreditNoteID"], "ID": note["CreditNoteID"], "LineItems": []}
        if note.get("CreditNoteNumber"):
            cn["CreditNoteNumber"] = note["CreditNoteNumber"]
        out = {"AllocationID": alloc["AllocationID"], "Amount": alloc["Amount"], "Date": render_date(alloc["Date"]),
               "Invoice": inv, "CreditNote": cn, "ValidationErrors": []}
        if alloc.get("_deleted"):
            out["IsDeleted"] = True
        return out

    def _render_payment(self, row: dict, out: dict) -> dict:
        out["Date"] = render_date(row["Date"])
        out["UpdatedDateUTCString"] = utc_string(row["_updated"])
        out["CurrencyRate"] = q(row["CurrencyRate"], 6)
        account = self._rows["Accounts"][row["_account"]]
        out["Account"] = {"AccountID": account["AccountID"], "Code": account["Code"], "Name": account["Name"]}
        collection, doc_id = row["_document"]
        doc = self._rows[collection][doc_id]
        key = {"Invoices": "Invoice", "CreditNotes": "CreditNote"}.get(collection, "Overpayment")
        summary = {"Type": doc["Type"], COLLECTIONS[collection]: doc_id,
                   "Contact": self._contact_summary(doc["_contact"]),
                   "CurrencyCode": doc["CurrencyCode"], "Status": doc["Status"], "Total": doc["Total"],
                   "LineItems": []}
        number_field = "InvoiceNumber" if key == "Invoice" else "CreditNoteNumber"
        if doc.get(number_field):
            summary[number_field] = doc[number_field]
        out[key] = summary
        out["HasAccount"] = True
        out["HasValidationErrors"] = False
        return out

    # -- batch writes -----------------------------------------------------------------------------------------

    def write(self, collection: str, elements: list, *, method: str, summarize: bool = True, unitdp: int = 2,
              path_id: str | None = None) -> list[dict]:
        """Create or update ``elements``; returns the rendered results (failed elements carry their errors).

        Without ``summarizeErrors=false`` one failed element fails the request: nothing is kept and a
        ValidationException listing the failed elements is raised. With it, each element stands alone.
        """
        apply = {"Contacts": self._apply_contact, "Items": self._apply_item, "Invoices": self._apply_document,
                 "CreditNotes": self._apply_document, "Payments": self._apply_payment,
                 "BankTransactions": lambda *args: costs.apply_bank_transaction(self, *args),
                 "ManualJournals": lambda *args: costs.apply_manual_journal(self, *args)}[collection]
        return self._batch(collection, elements, summarize, unitdp,
                           lambda el: apply(collection, el, method, path_id, unitdp))

    def allocate(self, note_key: str, elements: list, summarize: bool = True) -> list[dict]:
        """``PUT /CreditNotes/{id}/Allocations`` (the caller has checked that the credit note exists)."""
        with self.lock:
            note_id = self.find("CreditNotes", note_key)["CreditNoteID"]
            return self._batch("Allocations", elements, summarize, 2, lambda el: self._apply_allocation(note_id, el))

    def _batch(self, collection: str, elements: list, summarize: bool, unitdp: int,
               apply: Callable[[dict], Any]) -> list[dict]:
        with self._transaction():
            results, failed = [], []
            for index, element in enumerate(elements):
                if not isinstance(element, dict):
                    raise post_data_invalid(f"An object was expected. Path '{collection}[{index}]'.")
                point = len(self._undo)
                try:
                    results.append(self._ok(collection, apply(element), unitdp))
                except ElementError as err:
                    self._rollback(point)
                    echo = self._failed(collection, element, err.messages)
                    results.append(echo)
                    failed.append(echo)
            if failed and summarize:
                raise validation_exception(failed)
            return results

    def _ok(self, collection: str, result: Any, unitdp: int) -> dict:
        out = result if collection == "Allocations" else self.render(collection, result, unitdp)
        out["StatusAttributeString"] = "OK"
        return out

    @staticmethod
    def _failed(collection: str, element: Any, messages: list[str]) -> dict:
        echo = copy.deepcopy(element) if isinstance(element, dict) else {}
        flag = {"Invoices": "HasErrors", "CreditNotes": "HasErrors", "Contacts": "HasValidationErrors",
                "Payments": "HasValidationErrors"}.get(collection)  # BankTransaction, ManualJournal: none in the spec
        if flag:
            echo[flag] = True
        echo["StatusAttributeString"] = "ERROR"
        echo["ValidationErrors"] = [{"Message": m} for m in messages]
        return echo

    # -- acting as a person in Xero's web app -----------------------------------------------------------------
    #
    # Office staff change things in Xero itself. These helpers make those changes through the same write path
    # as the API, so UpdatedDateUTC, AmountDue/AmountPaid, statuses, If-Modified-Since and webhooks move exactly
    # as they would. Xero's rules still apply (a paid invoice cannot be voided or have its lines changed until
    # the payment is removed): a refused change raises XeroError, as the API would answer it.

    def record_payment_as_user(self, invoice_id: str, amount: Any = None, date: Any = None,
                               account_code: str = "090", reference: str | None = None) -> dict:
        """"Record a payment" on an invoice: ``amount`` (default: the amount due) into bank account
        ``account_code``, dated ``date`` (default: today). Returns the rendered Payment."""
        with self.lock:
            invoice = self._doc("Invoices", invoice_id)
            element: dict[str, Any] = {
                "Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": account_code},
                "Date": self.today() if date is None else date,
                "Amount": invoice["AmountDue"] if amount is None else to_decimal(amount)}
            if reference:
                element["Reference"] = reference
            return self.write("Payments", [element], method="PUT")[0]

    def edit_invoice_line_as_user(self, invoice_id: str, line: int | str = 0, amount: Any = None,
                                  quantity: Any = None, unit_amount: Any = None,
                                  description: str | None = None) -> dict:
        """Change one line of an invoice, as the invoice editor does.

        ``line`` is the line's index (0 = the first) or its ``LineItemID``. A new ``amount`` keeps the quantity
        and recalculates the unit price; a new ``quantity`` or ``unit_amount`` recalculates the amount. Tax,
        totals and AmountDue follow. Returns the rendered Invoice.
        """
        with self.lock:
            invoice = self._doc("Invoices", invoice_id)
            lines = [{k: copy.deepcopy(v) for k, v in ln.items()  # as sent: computed tax is computed again
                      if not k.startswith("_") and not (k == "TaxAmount" and ln.get("_tax_computed"))}
                     for ln in invoice["LineItems"]]
            if isinstance(line, int):
                if not 0 <= line < len(lines):
                    raise IndexError(f"invoice {invoice['InvoiceID']} has {len(lines)} lines, no line {line}")
                target = lines[line]
            else:
                target = next((ln for ln in lines if ln["LineItemID"] == str(line).lower()), None)
                if target is None:
                    raise KeyError(f"invoice {invoice['InvoiceID']} has no line {line!r}")
            if description is not None:
                target["Description"] = description
            if quantity is not None:
                target["Quantity"] = to_decimal(quantity)
            if unit_amount is not None:
                target["UnitAmount"] = to_decimal(unit_amount)
            if amount is not None:
                target["LineAmount"] = to_decimal(amount)
                if unit_amount is None:
                    target.pop("UnitAmount", None)
            elif quantity is not None or unit_amount is not None:
                target.pop("LineAmount", None)
            return self.write("Invoices", [{"InvoiceID": invoice["InvoiceID"], "LineItems": lines}], method="POST",
                              unitdp=4)[0]

    def edit_as_user(self, collection: str, key: str, changes: dict) -> dict:
        """Any other edit (``Reference``, ``DueDate``, a contact's details, ...): a POST of ``changes``."""
        with self.lock:
            row = self._doc(collection, key)
            id_field = COLLECTIONS[collection]
            return self.write(collection, [{**changes, id_field: row[id_field]}], method="POST")[0]

    def create_customer_as_user(self, name: str, email: str | None = None, tax_number: str | None = None) -> dict:
        """"Add contact": a name, an e-mail and a tax number."""
        contact = {"Name": name}
        if email:
            contact["EmailAddress"] = email
        if tax_number:
            contact["TaxNumber"] = tax_number
        return self.write("Contacts", [contact], method="PUT")[0]

    def edit_customer_as_user(self, customer_id: str, name: str | None = None, email: str | None = None,
                              tax_number: str | None = None, active: bool | None = None) -> dict:
        """Edit a contact's name, e-mail or tax number, or archive it (``active=False``) or restore it."""
        changes: dict[str, Any] = {}
        for field, value in (("Name", name), ("EmailAddress", email), ("TaxNumber", tax_number)):
            if value is not None:
                changes[field] = value
        if active is not None:
            changes["ContactStatus"] = "ACTIVE" if active else "ARCHIVED"
        return self.edit_as_user("Contacts", customer_id, changes)

    def create_item_as_user(self, name: str, unit_price: Any = None, code: str | None = None) -> dict:
        """"New item": a code (Xero requires one; the name's first 30 characters when none is given), a name and
        a sales price to the Sales account."""
        item: dict[str, Any] = {"Code": code or name[:30], "Name": name, "SalesDetails": {"AccountCode": "200"}}
        if unit_price is not None:
            item["SalesDetails"]["UnitPrice"] = to_decimal(unit_price)
        return self.write("Items", [item], method="PUT")[0]

    def edit_item_as_user(self, item_id: str, name: str | None = None, unit_price: Any = None,
                          code: str | None = None) -> dict:
        """Edit an item's name, code or sales price."""
        with self.lock:
            row = self._doc("Items", item_id)
            changes: dict[str, Any] = {"Code": row["Code"] if code is None else code}
            if name is not None:
                changes["Name"] = name
            if unit_price is not None:
                changes["SalesDetails"] = {**(row.get("SalesDetails") or {}), "UnitPrice": to_decimal(unit_price)}
            return self.edit_as_user("Items", item_id, changes)

    def void_invoice_as_user(self, invoice_id: str) -> dict:
        """Void an approved invoice (Xero refuses while payments or credit are applied)."""
        return self.edit_as_user("Invoices", invoice_id, {"Status": "VOIDED"})

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        """Delete a draft or submitted invoice (approved ones can only be voided, as in Xero)."""
        return self.edit_as_user("Invoices", invoice_id, {"Status": "DELETED"})

    def delete_payment_as_user(self, payment_id: str) -> dict:
        """Remove a payment: the invoice's AmountDue goes back up (and PAID back to AUTHORISED)."""
        with self.lock:
            payment = self._doc("Payments", payment_id)
            return self.write("Payments", [{"Status": "DELETED"}], method="POST",
                              path_id=payment["PaymentID"])[0]

    def settlement_deposit_as_user(self, amount: Any, date: Any = None, reference: str = "", fee: Any = None,
                                   account_code: str = "090", contact_name: str = "Card processor",
                                   income_code: str = "260", fee_code: str = "404",
                                   reconciled: bool = True) -> dict:
        """"Receive money" in a bank account: a RECEIVE bank transaction, as a card processor's settlement is
        coded when it is reconciled from the bank feed. Its total is ``amount`` (what reached the bank); with
        ``fee`` it has two lines, the gross to ``income_code`` and the fee as a negative line to ``fee_code``
        (Bank Fees). Returns the rendered BankTransaction."""
        with self.lock:
            net = q(to_decimal(amount))
            account = self._account_by_code(account_code)
            if account is None or account["Type"] != "BANK" or account["Status"] != "ACTIVE":
                raise XeroError(10, "ValidationException", "Account type is invalid for making a payment to/from")
            fees = q(to_decimal(fee)) if fee not in (None, "", 0) else Decimal("0.00")
            lines = [{"Description": "Card settlement", "Quantity": Decimal("1.0000"), "UnitAmount": net + fees,
                      "AccountCode": income_code, "TaxType": "NONE", "TaxAmount": Decimal("0.00"),
                      "LineAmount": net + fees, "LineItemID": new_id(), "Tracking": []}]
            if fees:
                lines.append({"Description": "Processor fees", "Quantity": Decimal("1.0000"), "UnitAmount": -fees,
                              "AccountCode": fee_code, "TaxType": "NONE", "TaxAmount": Decimal("0.00"),
                              "LineAmount": -fees, "LineItemID": new_id(), "Tracking": []})
            if net <= 0:
                raise XeroError(10, "ValidationException", "The Total must be greater than zero.")
            with self._transaction():
                contact = next((c for c in self._rows["Contacts"].values() if c["Name"] == contact_name), None)
                if contact is None:
                    created = self.write("Contacts", [{"Name": contact_name}], method="PUT")[0]
                    contact = self._rows["Contacts"][created["ContactID"]]
                row = {"BankTransactionID": new_id(), "Type": "RECEIVE", "Status": "AUTHORISED",
                       "Date": self.today() if date is None else self._date(date, "Date"),
                       "Reference": str(reference or ""), "LineAmountTypes": "NoTax", "LineItems": lines,
                       "SubTotal": net, "TotalTax": Decimal("0.00"), "Total": net, "CurrencyCode":
                       account.get("CurrencyCode", self._org["BaseCurrency"]), "CurrencyRate": Decimal("1.000000"),
                       "IsReconciled": bool(reconciled), "_contact": contact["ContactID"],
                       "_account": account["AccountID"], "_updated": self._stamp()}
                self._save("BankTransactions", row)
            return self.render("BankTransactions", row)

    def reconcile_payments_as_user(self, payment_ids: list) -> list[dict]:
        """Match payments to bank statement lines (Reconcile in the bank account): their ``IsReconciled`` turns
        true and ``UpdatedDateUTC`` moves. Returns the rendered Payments."""
        with self.lock, self._transaction():
            done = []
            for payment_id in payment_ids:
                row = self._edit(self._doc("Payments", payment_id))
                row["IsReconciled"], row["_updated"] = True, self._stamp()
                self._save("Payments", row)
                done.append(row)
        return [self.render("Payments", row) for row in done]

    def archive_account_as_user(self, code: str) -> dict:
        """Archive an account (Chart of accounts → Archive), by its ``Code`` or ``AccountID``.

        As in Xero: ``Status`` turns ARCHIVED and ``UpdatedDateUTC`` moves; documents already posted to it keep
        it; a new line or payment using it is refused ("Account code '...' has been archived, or has been
        deleted. ..."). System accounts (receivables, payables, tax, retained earnings) cannot be archived: that
        raises ``XeroError`` as Xero's web app refuses it. Returns the rendered Account."""
        with self.lock:
            account = self._account_by_code(code) or self._rows["Accounts"].get(str(code).lower())
            if account is None:
                raise LookupError(f"no account {code!r}")
            if account.get("SystemAccount"):
                raise XeroError(10, "ValidationException", f"System account {account['Code']} cannot be archived.")
            if account["Status"] == "ARCHIVED":
                return self.render("Accounts", account)
            with self._transaction():
                row = self._edit(account)
                row["Status"], row["_updated"] = "ARCHIVED", self._stamp()
                self._save("Accounts", row)
            return self.render("Accounts", row)

    def _doc(self, collection: str, key: str) -> dict:
        row = self.find(collection, key)
        if row is None:
            raise LookupError(f"no {collection} row {key!r}")
        return row

    # -- contacts ---------------------------------------------------------------------------------------------

    def _apply_contact(self, collection: str, el: dict, method: str, path_id: str | None, unitdp: int) -> dict:
        key = path_id or el.get("ContactID")
        existing = None
        if key:
            existing = self.find("Contacts", key)
            if existing is None:
                raise ElementError(f"The contact with the ContactID {key} could not be found.")
        elif method == "POST" and el.get("ContactNumber"):
            existing = self.find("Contacts", el["ContactNumber"])
        row = self._edit(existing) if existing else {
            "ContactID": new_id(), "ContactStatus": "ACTIVE", "Addresses": [], "Phones": [], "ContactGroups": [],
            "ContactPersons": [], "IsSupplier": False, "IsCustomer": False, "HasAttachments": False}
        computed = {"ContactID", "IsSupplier", "IsCustomer", "UpdatedDateUTC", "Balances", "HasValidationErrors",
                    "ValidationErrors", "StatusAttributeString", "HasAttachments", "Attachments",
                    "MergedToContactID"}
        for field, value in el.items():
            if field not in computed:
                row[field] = copy.deepcopy(value)
        name = str(row.get("Name", "")).strip()
        errors = []
        if not name:
            errors.append("The contact name must be specified.")
        elif len(name) > 255:
            errors.append("The contact name must be 255 characters or fewer.")
        row["Name"] = name
        if row.get("ContactStatus") not in ("ACTIVE", "ARCHIVED"):
            errors.append("ContactStatus can only be ACTIVE or ARCHIVED.")
        if name and row.get("ContactStatus") == "ACTIVE" and self._name_taken(name, row["ContactID"]):
            errors.append(_contact_name_taken(el.get("Name", name)))
        email = row.get("EmailAddress")
        if email and not EMAIL_RE.match(str(email)):
            errors.append("Email address must be valid.")
        number = row.get("ContactNumber")
        if number:
            if len(str(number)) > 50:
                errors.append("The ContactNumber must be 50 characters or fewer.")
            other = self.find("Contacts", number)
            if other is not None and other["ContactID"] != row["ContactID"]:
                errors.append(f"The contact number {number} is already assigned to another contact.")
        if errors:
            raise ElementError(*errors)
        row["_updated"] = self._stamp()
        return self._save("Contacts", row)

    def _name_taken(self, name: str, own_id: str | None) -> bool:
        folded = name.strip().casefold()
        return any(c["Name"].strip().casefold() == folded and c["ContactStatus"] == "ACTIVE"
                   and c["ContactID"] != own_id for c in self._rows["Contacts"].values())

    def _document_contact(self, ref: Any, doc_type: str) -> dict:
        """Resolve the ``Contact`` of an invoice or credit note; Xero creates a contact for an unknown name."""
        if not isinstance(ref, dict) or not ref:
            raise ElementError("A Contact must be specified for this type of transaction")
        contact_id, name, number = ref.get("ContactID"), ref.get("Name"), ref.get("ContactNumber")
        if not (contact_id or name or number):
            raise ElementError(MSG_CONTACT_IDENTIFY)
        contact = None
        if contact_id:
            contact = self.find("Contacts", contact_id)
            if contact is None and not name:
                raise ElementError(f"The contact with the ContactID {contact_id} could not be found.")
            if contact is not None and name and name.strip() != contact["Name"]:
                if self._name_taken(name, contact["ContactID"]):
                    raise ElementError(_contact_name_taken(name))
                contact = self._edit(contact)
                contact.update(Name=name.strip(), _updated=self._stamp())
                self._save("Contacts", contact)
        if contact is None and number:
            contact = self.find("Contacts", number)
        if contact is None and name:
            folded = name.strip().casefold()
            contact = next((c for c in self._rows["Contacts"].values()
                            if c["Name"].casefold() == folded and c["ContactStatus"] == "ACTIVE"), None)
            if contact is None:
                fields = {"Name": name.strip()}
                if number:
                    fields["ContactNumber"] = number
                contact = self._apply_contact("Contacts", fields, "PUT", None, 2)
        if contact is None:
            raise ElementError(MSG_CONTACT_IDENTIFY)
        if contact["ContactStatus"] != "ACTIVE":
            raise ElementError(f"The contact {contact['Name']} is archived and cannot be used on a transaction.")
        flag = "IsCustomer" if doc_type in ("ACCREC", "ACCRECCREDIT") else "IsSupplier"
        if not contact.get(flag):  # Xero sets these without touching UpdatedDateUTC
            contact = self._edit(contact)
            contact[flag] = True
            self._save("Contacts", contact)
        return contact

    # -- items ------------------------------------------------------------------------------------------------

    def _apply_item(self, collection: str, el: dict, method: str, path_id: str | None, unitdp: int) -> dict:
        key = path_id or el.get("ItemID")
        existing = None
        if key:
            existing = self.find("Items", key)
            if existing is None:
                raise ElementError(f"The item with the ItemID {key} could not be found.")
        elif method == "POST" and el.get("Code"):
            existing = self.find("Items", el["Code"])
        row = self._edit(existing) if existing else {
            "ItemID": new_id(), "IsSold": True, "IsPurchased": True, "IsTrackedAsInventory": False}
        for field, value in el.items():
            if field not in ("ItemID", "UpdatedDateUTC", "ValidationErrors", "StatusAttributeString",
                             "QuantityOnHand", "TotalCostPool", "IsTrackedAsInventory"):
                row[field] = copy.deepcopy(value)
        code = str(row.get("Code", "")).strip()
        errors = self._item_code_errors(row, code)
        if len(str(row.get("Name", ""))) > 50:
            errors.append("Item Name must be 50 characters or fewer.")
        if el.get("InventoryAssetAccountCode"):
            errors.append("Tracked inventory items are not supported by the sandbox.")
        for details in ("SalesDetails", "PurchaseDetails"):
            if isinstance(row.get(details), dict):
                errors.extend(self._item_details_errors(row[details], unitdp))
        if errors:
            raise ElementError(*errors)
        row["Code"] = code
        row["_updated"] = self._stamp()
        return self._save("Items", row)

    def _item_code_errors(self, row: dict, code: str) -> list[str]:
        if not code:
            return ["Item Code must be specified."]
        if len(code) > 30:
            return ["Item Code must be 30 characters or fewer."]
        other = self.find("Items", code)
        return [_item_code_taken(code)] if other is not None and other["ItemID"] != row["ItemID"] else []

    def _item_details_errors(self, part: dict, unitdp: int) -> list[str]:
        """An item's SalesDetails or PurchaseDetails: its price rounded in place; its account and tax type checked."""
        errors = []
        if "UnitPrice" in part:
            price = to_decimal(part["UnitPrice"])
            part["UnitPrice"] = q(price, unitdp) if price is not None else Decimal("0")
        if part.get("AccountCode") and (refused := self._account_error(part["AccountCode"])):
            errors.append(refused)
        if part.get("TaxType") and not self._usable_tax(part["TaxType"]):
            errors.append(_bad_tax_type(part["TaxType"]))
        return errors

    def _account_error(self, code: Any) -> str | None:
        """Why a line or an item may not use the account with this code (unknown, a bank account, archived)."""
        account = self._account_by_code(code)
        if account is None or account["Type"] == "BANK":
            return _bad_account(code)
        if account["Status"] != "ACTIVE":
            return _archived_account(code)
        return None

    def delete_item(self, key: str) -> bool:
        with self.lock:
            row = self.find("Items", key)
            if row is None:
                return False
            del self._rows["Items"][row["ItemID"]]
            return True

    # -- reference lookups ------------------------------------------------------------------------------------

    def _account_by_code(self, code: Any) -> dict | None:
        text = str(code).strip().lower()
        return next((a for a in self._rows["Accounts"].values() if a["Code"].lower() == text), None)

    def _account_ref(self, ref: Any) -> dict | None:
        if not isinstance(ref, dict):
            return None
        if ref.get("AccountID"):
            return self._rows["Accounts"].get(str(ref["AccountID"]).lower())
        if ref.get("Code"):
            return self._account_by_code(ref["Code"])
        return None

    def _usable_tax(self, tax_type: Any) -> dict | None:
        rate = self._rows["TaxRates"].get(str(tax_type))
        return rate if rate is not None and rate["Status"] == "ACTIVE" else None

    def _date(self, value: Any, field: str) -> dt.date:
        parsed = parse_date(value)
        if parsed is None:
            raise post_data_invalid(f"Could not convert string to DateTime: {value}. Path '{field}'.")
        return parsed

    # -- invoices and credit notes ----------------------------------------------------------------------------

    def _apply_document(self, collection: str, el: dict, method: str, path_id: str | None, unitdp: int) -> dict:
        is_invoice = collection == "Invoices"
        id_field = COLLECTIONS[collection]
        number_field = "InvoiceNumber" if is_invoice else "CreditNoteNumber"
        label = "Invoice" if is_invoice else "Credit Note"
        key = path_id or el.get(id_field)
        existing = None
        if key:
            existing = self.find(collection, key)
            if existing is None:
                raise ElementError(f"An existing {label} with the specified {id_field} could not be found")
        elif method == "POST" and el.get(number_field):
            existing = self._by_number(collection, el[number_field], el.get("Type"))
        if existing is None:
            return self._create_document(collection, el, unitdp)
        return self._update_document(collection, existing, el, unitdp)

    def _by_number(self, collection: str, number: Any, doc_type: Any) -> dict | None:
        field = "InvoiceNumber" if collection == "Invoices" else "CreditNoteNumber"
        unique_type = "ACCREC" if collection == "Invoices" else "ACCRECCREDIT"
        if doc_type not in (None, unique_type):
            return None  # only sales documents have unique numbers to match on
        text = str(number).strip().lower()
        return next((r for r in self._rows[collection].values() if r["Type"] == unique_type
                     and str(r.get(field, "")).lower() == text and r["Status"] != "DELETED"), None)

    def _create_document(self, collection: str, el: dict, unitdp: int) -> dict:
        is_invoice = collection == "Invoices"
        types = INVOICE_TYPES if is_invoice else CREDIT_TYPES
        label = "Invoice" if is_invoice else "Credit Note"
        doc_type = el.get("Type")
        if doc_type not in types:
            raise ElementError(f"{label} not of valid type for creation")
        status = el.get("Status", "DRAFT")
        if status not in CREATE_STATUSES:
            raise ElementError(f"{label} not of valid status for creation")
        row = {COLLECTIONS[collection]: new_id(), "Type": doc_type, "Status": status, "LineItems": [],
               "LineAmountTypes": "Exclusive", "SentToContact": False, "AmountPaid": Decimal("0.00"),
               "AmountCredited": Decimal("0.00"), "_payments": [], "_credits": [], "_allocations": []}
        return self._fill_document(collection, row, el, unitdp, creating=True)

    def _update_document(self, collection: str, existing: dict, el: dict, unitdp: int) -> dict:
        label = "Invoice" if collection == "Invoices" else "Credit Note"
        current = existing["Status"]
        target = el.get("Status", current)
        if current in ("VOIDED", "DELETED") or target not in TRANSITIONS[current]:
            if target in ("VOIDED", "DELETED") and current in ("AUTHORISED", "PAID") and self._money_applied(existing):
                raise ElementError(ALLOCATED)
            raise ElementError(f"{label} not of valid status for modification")
        if el.get("Type") not in (None, existing["Type"]):
            raise ElementError(f"The Type of an existing {label.lower()} cannot be changed")
        if self._money_applied(existing):
            # Once paid or credited only references and dates may change (Xero's list for paid documents).
            probe = self._fill_document(collection, self._edit(existing), el, unitdp, creating=False,
                                        dry_run=True)
            if target != current or _money_view(probe) != _money_view(existing):
                raise ElementError(ALLOCATED)
        row = self._edit(existing)
        return self._fill_document(collection, row, el, unitdp, creating=False)

    @staticmethod
    def _money_applied(row: dict) -> bool:
        return row["AmountPaid"] > 0 or row["AmountCredited"] > 0

    def _fill_document(self, collection: str, row: dict, el: dict, unitdp: int, *, creating: bool,
                       dry_run: bool = False) -> dict:
        """Apply the sent fields to ``row``, validate, compute totals; save unless ``dry_run``."""
        is_invoice = collection == "Invoices"
        number_field = "InvoiceNumber" if is_invoice else "CreditNoteNumber"
        errors: list[str] = []
        if creating or "Contact" in el:
            self._fill_contact(row, el, dry_run)
        for field in ("Reference", "Url", "BrandingThemeID", "SentToContact"):
            if field in el:
                row[field] = el[field]
        if len(str(row.get("Reference", ""))) > 255:
            errors.append("Reference must be 255 characters or fewer.")
        status = el.get("Status", row["Status"])
        self._fill_dates(row, el, is_invoice)
        if "LineAmountTypes" in el:
            row["LineAmountTypes"] = el["LineAmountTypes"]
        self._fill_currency(row, el, errors)
        if "LineItems" in el:
            row["LineItems"] = self._lines(row, el["LineItems"], unitdp, status, errors)
        else:  # re-check stored lines against the new status / tax mode; they already carry their precision
            row["LineItems"] = self._lines(row, row["LineItems"], 4, status, errors)
        if status != "DRAFT" and not row["LineItems"]:
            errors.append("At least one line item is required for a document that is not a draft.")
        sums = totals(row["LineItems"], row["LineAmountTypes"])
        row.update(SubTotal=sums.sub_total, TotalTax=sums.total_tax, Total=sums.total)
        if sums.total < 0:
            errors.append("The document total cannot be negative.")
        row["IsDiscounted"] = sums.total_discount > 0
        if is_invoice:
            if row["IsDiscounted"]:
                row["TotalDiscount"] = sums.total_discount
            else:
                row.pop("TotalDiscount", None)
        self._fill_number(collection, row, el, errors, number_field)
        if errors:
            raise ElementError(*errors)
        if dry_run:
            return row
        row["Status"] = status
        self._settle(collection, row)
        row["_updated"] = self._stamp()
        return self._save(collection, row)

    def _fill_contact(self, row: dict, el: dict, dry_run: bool) -> None:
        if dry_run:
            ref = el.get("Contact") or {}
            found = self.find("Contacts", ref.get("ContactID") or "") if isinstance(ref, dict) else None
            row["_contact"] = found["ContactID"] if found else row.get("_contact")
        else:
            row["_contact"] = self._document_contact(el.get("Contact"), row["Type"])["ContactID"]

    def _fill_dates(self, row: dict, el: dict, is_invoice: bool) -> None:
        """The sent dates; today by default, and an invoice's due date from the organisation's payment terms."""
        if "Date" in el:
            row["Date"] = self._date(el["Date"], "Date")
        row.setdefault("Date", self.today())
        for field in ("DueDate", "ExpectedPaymentDate", "PlannedPaymentDate"):
            if field in el:
                row[field] = self._date(el[field], field)
        if "DueDate" not in row and is_invoice:
            terms = seed.PAYMENT_TERMS["Sales" if row["Type"] == "ACCREC" else "Bills"]
            row["DueDate"] = row["Date"] + dt.timedelta(days=terms["Day"])

    def _fill_currency(self, row: dict, el: dict, errors: list[str]) -> None:
        base = self._org["BaseCurrency"]
        code = el.get("CurrencyCode", row.get("CurrencyCode", base))
        if code not in self._rows["Currencies"]:
            errors.append(f"The currency code {code} has not been added to this organisation.")
            code = base
        row["CurrencyCode"] = code
        rate = to_decimal(el.get("CurrencyRate"))
        if code == base:
            row["CurrencyRate"] = Decimal("1")
        elif rate is not None:
            if rate <= 0:
                errors.append("The CurrencyRate must be greater than zero.")
            row["CurrencyRate"] = q(rate, 6)
        elif "CurrencyCode" in el or "CurrencyRate" not in row:  # Xero would use the XE.com day rate
            row["CurrencyRate"] = seed.RATES.get(code, Decimal("1"))

    def _fill_number(self, collection: str, row: dict, el: dict, errors: list[str], field: str) -> None:
        unique_type = "ACCREC" if collection == "Invoices" else "ACCRECCREDIT"
        if field in el:
            row[field] = str(el[field]).strip()
        if row["Type"] != unique_type:
            return
        if not row.get(field):
            prefix = "INV-" if collection == "Invoices" else "CN-"
            used = [int(m.group(1)) for r in self._rows[collection].values()
                    if (m := re.match(rf"^{prefix}(\d+)$", str(r.get(field, ""))))]
            row[field] = f"{prefix}{max(used, default=0) + 1:04d}"
            return
        if len(row[field]) > 255:
            errors.append(f"{field} must be 255 characters or fewer.")
        other = self._by_number(collection, row[field], unique_type)
        if other is not None and other[COLLECTIONS[collection]] != row[COLLECTIONS[collection]]:
            errors.append(MSG_INVOICE_NUMBER if collection == "Invoices" else "Credit Note # must be unique.")

    def _lines(self, row: dict, sent: Any, unitdp: int, status: str, errors: list[str]) -> list[dict]:
        if not isinstance(sent, list):
            return []
        previous = {line.get("LineItemID"): line for line in row.get("LineItems", [])}
        lines = []
        for raw in sent:
            raw = raw if isinstance(raw, dict) else {}
            line = {k: v for k, v in raw.items() if not k.startswith("_")}
            for computed in ("ValidationErrors", "TaxBreakdown"):
                line.pop(computed, None)
            if raw.get("_tax_computed"):
                line.pop("TaxAmount", None)  # a stored line: its tax is recomputed, not an override
            line_id = str(line.get("LineItemID") or "").lower()
            line["LineItemID"] = line_id if line_id in previous else new_id()
            try:
                lines.append(self._line(row, line, unitdp, status))
            except ElementError as err:
                errors.extend(err.messages)
        return lines

    def _line(self, row: dict, line: dict, unitdp: int, status: str) -> dict:
        errors = []
        doc_type = row["Type"]
        if line.get("ItemCode"):
            self._line_item(line, sales=doc_type in ("ACCREC", "ACCRECCREDIT"))
        if ("DiscountRate" in line or "DiscountAmount" in line) and doc_type != "ACCREC":
            raise ElementError("Discounts can only be applied to sales invoices (ACCREC).")
        account = self._line_account(line, errors)
        numbers = line_amounts(line, unitdp)
        line.update(numbers)
        errors.extend(_line_text_errors(line, numbers["LineAmount"], status))
        if row["LineAmountTypes"] == "NoTax":
            line["TaxType"] = line.get("TaxType", "NONE")
        elif not line.get("TaxType"):
            line["TaxType"] = account["TaxType"] if account is not None and account.get("TaxType") else "NONE"
        rate = self._usable_tax(line["TaxType"])
        if rate is None:
            errors.append(_bad_tax_type(line["TaxType"]))
        if errors:
            raise ElementError(*errors)
        override = to_decimal(line["TaxAmount"]) if "TaxAmount" in line else None
        line["TaxAmount"] = line_tax(numbers["LineAmount"], rate["EffectiveRate"], row["LineAmountTypes"], override)
        line["_tax_computed"] = override is None
        for field in ("Quantity", "UnitAmount", "LineAmount", "TaxAmount"):
            if field in line and isinstance(line[field], Decimal):
                continue
            line.pop(field, None)
        return line

    def _line_item(self, line: dict, sales: bool) -> None:
        """The item's code, description, price, account and tax type where the line does not give its own."""
        item = self.find("Items", line["ItemCode"])
        if item is None:
            raise ElementError(f"Item code '{line['ItemCode']}' is not valid.")
        details = item.get("SalesDetails" if sales else "PurchaseDetails") or {}
        line["ItemCode"] = item["Code"]
        line.setdefault("Description", item.get("Description" if sales else "PurchaseDescription",
                                                item.get("Name", "")))
        if "UnitPrice" in details and "UnitAmount" not in line and "LineAmount" not in line:
            line["UnitAmount"] = details["UnitPrice"]
        for field, source in (("AccountCode", "AccountCode"), ("TaxType", "TaxType")):
            if source in details and field not in line:
                line[field] = details[source]
        line["Item"] = {"ItemID": item["ItemID"], "Name": item.get("Name", ""), "Code": item["Code"]}

    def _line_account(self, line: dict, errors: list[str]) -> dict | None:
        """The line's account (by AccountID or AccountCode), its code and id filled in; a refusal goes to
        ``errors``."""
        account = None
        if line.get("AccountID") and not line.get("AccountCode"):
            account = self._rows["Accounts"].get(str(line["AccountID"]).lower())
            if account is None:
                errors.append(f"The AccountID {line['AccountID']} is not valid for this document.")
            else:
                line["AccountCode"] = account["Code"]
        if line.get("AccountCode"):
            account = self._account_by_code(line["AccountCode"])
            if refused := self._account_error(line["AccountCode"]):
                errors.append(refused)
            else:
                line["AccountCode"], line["AccountID"] = account["Code"], account["AccountID"]
        return account

    def _settle(self, collection: str, row: dict) -> None:
        """AmountDue / RemainingCredit and the PAID status from what has been applied."""
        applied = row["AmountPaid"] + row["AmountCredited"]
        if row["Status"] in ("VOIDED", "DELETED"):
            due = Decimal("0.00")
        else:
            due = q(row["Total"] - applied)
            if row["Status"] == "AUTHORISED" and due == 0 and applied > 0:
                row["Status"] = "PAID"
            elif row["Status"] == "PAID" and due > 0:
                row["Status"] = "AUTHORISED"
                row.pop("FullyPaidOnDate", None)
        if collection == "Invoices":
            row["AmountDue"] = due
        else:
            row["RemainingCredit"] = due
            row["AppliedAmount"] = q(applied)

    # -- payments ---------------------------------------------------------------------------------------------

    def _apply_payment(self, collection: str, el: dict, method: str, path_id: str | None, unitdp: int) -> dict:
        key = path_id or el.get("PaymentID")
        if key:
            return self._delete_payment(key, el)
        doc, doc_collection = self._payment_document(el)
        account = self._account_ref(el.get("Account") or ({"Code": el["Code"]} if el.get("Code") else None))
        amount = to_decimal(el.get("Amount"))
        errors = [*_payment_account_errors(el, account), *_payment_amount_errors(el, amount)]
        if doc is not None:
            errors.extend(_payment_document_errors(doc, doc_collection, amount))
        if errors:
            raise ElementError(*errors)
        pay_date = self._date(el["Date"], "Date")
        rate = to_decimal(el.get("CurrencyRate")) or doc["CurrencyRate"]
        amount = q(amount)
        bank_amount = amount
        account_currency = account.get("CurrencyCode", self._org["BaseCurrency"])
        if account_currency != doc["CurrencyCode"] and rate:
            bank_amount = q(amount / rate)
        payment_type = {"ACCREC": "ACCRECPAYMENT", "ACCPAY": "ACCPAYPAYMENT", "ACCRECCREDIT": "ARCREDITPAYMENT",
                        "ACCPAYCREDIT": "APCREDITPAYMENT", "RECEIVE-OVERPAYMENT": "AROVERPAYMENTPAYMENT"}[doc["Type"]]
        row = {"PaymentID": new_id(), "Date": pay_date, "Amount": amount, "BankAmount": bank_amount,
               "CurrencyRate": rate, "PaymentType": payment_type, "Status": "AUTHORISED",
               "IsReconciled": bool(el.get("IsReconciled", False)), "_account": account["AccountID"],
               "_document": (doc_collection, doc[COLLECTIONS[doc_collection]]), "_updated": self._stamp()}
        if el.get("Reference"):
            row["Reference"] = str(el["Reference"])
        self._save("Payments", row)
        doc = self._edit(doc)
        doc["AmountPaid"] = q(doc["AmountPaid"] + amount)
        doc["_payments"].append(row["PaymentID"])
        self._settle(doc_collection, doc)
        if doc["Status"] == "PAID":
            doc["FullyPaidOnDate"] = pay_date
        doc["_updated"] = self._stamp()
        self._save(doc_collection, doc)
        return row

    def _payment_document(self, el: dict) -> tuple[dict | None, str]:
        invoice, note = el.get("Invoice") or {}, el.get("CreditNote") or {}
        overpayment = el.get("Overpayment") or {}
        refs = [("Invoices", invoice.get("InvoiceID"), invoice.get("InvoiceNumber") or el.get("InvoiceNumber")),
                ("CreditNotes", note.get("CreditNoteID"), note.get("CreditNoteNumber") or el.get("CreditNoteNumber")),
                ("Overpayments", overpayment.get("OverpaymentID"), None)]  # a refund of an overpayment
        for collection, doc_id, number in refs:
            if doc_id or number:
                doc = self.find(collection, doc_id) if doc_id else self.find(collection, number)
                if doc is None:
                    label = {"Invoices": "Invoice", "CreditNotes": "Credit Note"}.get(collection, "Overpayment")
                    raise ElementError(f"{label} could not be found")
                return doc, collection
        raise ElementError("You must specify either an Invoice ID or Invoice Number or CreditNote ID or "
                           "CreditNote Number for the payment")

    def _delete_payment(self, key: str, el: dict) -> dict:
        existing = self.find("Payments", key)
        if existing is None:
            raise ElementError(f"The payment with the PaymentID {key} could not be found.")
        if el.get("Status") != "DELETED" or set(el) - {"Status", "PaymentID"}:
            raise ElementError("A payment can only be updated by setting its Status to DELETED.")
        if existing["Status"] == "DELETED":
            raise ElementError("Payment not of valid status for modification")
        if existing.get("IsReconciled"):
            raise ElementError("A reconciled payment cannot be deleted.")
        row = self._edit(existing)
        row.update(Status="DELETED", _updated=self._stamp())
        self._save("Payments", row)
        collection, doc_id = row["_document"]
        doc = self._edit(self._rows[collection][doc_id])
        doc["AmountPaid"] = q(doc["AmountPaid"] - row["Amount"])
        self._settle(collection, doc)
        doc["_updated"] = self._stamp()
        self._save(collection, doc)
        return row

    # -- credit note allocations ------------------------------------------------------------------------------

    def _apply_allocation(self, note_id: str, el: dict) -> dict:
        note = self._rows["CreditNotes"][note_id]
        errors = []
        ref = el.get("Invoice") or {}
        invoice = None
        if ref.get("InvoiceID") or ref.get("InvoiceNumber"):
            invoice = self.find("Invoices", ref.get("InvoiceID") or ref.get("InvoiceNumber"))
        if invoice is None:
            raise ElementError("Invoice could not be found")
        amount = to_decimal(el.get("Amount"))
        if note["Status"] != "AUTHORISED":
            errors.append("Only an AUTHORISED credit note can be allocated.")
        if invoice["Status"] != "AUTHORISED":
            errors.append("Credit can only be allocated to an AUTHORISED invoice.")
        if {note["Type"], invoice["Type"]} not in ({"ACCRECCREDIT", "ACCREC"}, {"ACCPAYCREDIT", "ACCPAY"}):
            errors.append("The credit note type does not match the invoice type.")
        if invoice["_contact"] != note["_contact"]:
            errors.append("The credit note and the invoice must belong to the same contact.")
        if invoice["CurrencyCode"] != note["CurrencyCode"]:
            errors.append("The credit note and the invoice must be in the same currency.")
        if amount is None or amount <= 0:
            errors.append("The allocation Amount must be greater than zero.")
        elif not errors and (q(amount) > note["RemainingCredit"] or q(amount) > invoice["AmountDue"]):
            errors.append("The allocation amount exceeds the remaining credit or the amount outstanding on the "
                          "invoice.")
        if errors:
            raise ElementError(*errors)
        when = self._date(el.get("Date") or self.today(), "Date")
        amount = q(amount)
        alloc = {"AllocationID": new_id(), "Amount": amount, "Date": when, "_invoice": invoice["InvoiceID"]}
        note = self._edit(note)
        note["_allocations"].append(alloc)
        note["AmountCredited"] = q(note["AmountCredited"] + amount)
        self._settle("CreditNotes", note)
        if note["Status"] == "PAID":
            note["FullyPaidOnDate"] = when
        note["_updated"] = self._stamp()
        self._save("CreditNotes", note)
        invoice = self._edit(invoice)
        invoice["AmountCredited"] = q(invoice["AmountCredited"] + amount)
        invoice["_credits"].append((note_id, alloc["AllocationID"]))
        self._settle("Invoices", invoice)
        if invoice["Status"] == "PAID":
            invoice["FullyPaidOnDate"] = when
        invoice["_updated"] = self._stamp()
        self._save("Invoices", invoice)
        return self._allocation(note, alloc)

    def delete_allocation(self, note_key: str, alloc_id: str) -> dict | None:
        """``DELETE /CreditNotes/{id}/Allocations/{AllocationID}``; None when either is unknown."""
        with self._transaction():
            note = self.find("CreditNotes", note_key)
            alloc = next((a for a in (note or {}).get("_allocations", [])
                          if a["AllocationID"] == str(alloc_id).lower() and not a.get("_deleted")), None)
            if alloc is None:
                return None
            note = self._edit(note)
            alloc = next(a for a in note["_allocations"] if a["AllocationID"] == str(alloc_id).lower())
            alloc["_deleted"] = True
            note["AmountCredited"] = q(note["AmountCredited"] - alloc["Amount"])
            self._settle("CreditNotes", note)
            note["_updated"] = self._stamp()
            self._save("CreditNotes", note)
            invoice = self._edit(self._rows["Invoices"][alloc["_invoice"]])
            invoice["AmountCredited"] = q(invoice["AmountCredited"] - alloc["Amount"])
            invoice["_credits"] = [c for c in invoice["_credits"] if c[1] != alloc["AllocationID"]]
            self._settle("Invoices", invoice)
            invoice["_updated"] = self._stamp()
            self._save("Invoices", invoice)
            return self._allocation(note, alloc)


def _money_view(row: dict) -> tuple:
    """What a payment or allocation has been applied against: it must not change afterwards."""
    fields = ("Description", "Quantity", "UnitAmount", "LineAmount", "TaxAmount", "TaxType", "AccountCode",
              "ItemCode", "DiscountRate", "DiscountAmount")
    lines = tuple(tuple(line.get(f) for f in fields) for line in row["LineItems"])
    return (lines, row["Total"], row["CurrencyCode"], row["CurrencyRate"], row["Date"], row["LineAmountTypes"],
            row["_contact"])


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _payment_account_errors(el: dict, account: dict | None) -> list[str]:
    if not el.get("Account") and not el.get("Code"):
        return ["You must specify an Account for the payment (AccountID or Code)."]
    if account is None:
        return ["The Account for the payment could not be found."]
    if account["Status"] != "ACTIVE" or not (account["Type"] == "BANK" or account.get("EnablePaymentsToAccount")):
        return ["Account type is invalid for making a payment to/from"]
    return []


def _payment_amount_errors(el: dict, amount: Decimal | None) -> list[str]:
    errors = [] if "Date" in el else ["A Date must be specified for the payment."]
    if amount is None:
        errors.append("An Amount must be specified for the payment.")
    elif amount <= 0:
        errors.append("The payment Amount must be greater than zero.")
    return errors


def _payment_document_errors(doc: dict, collection: str, amount: Decimal | None) -> list[str]:
    """A payment applies only to an authorised document, and for no more than it still owes."""
    if doc["Status"] == "PAID":
        return [MSG_OVERPAID]
    if doc["Status"] != "AUTHORISED":
        return [MSG_NOT_AUTHORISED]
    if amount is not None and amount > 0:
        outstanding = doc["AmountDue"] if collection == "Invoices" else doc["RemainingCredit"]
        if q(amount) > outstanding:
            return [MSG_OVERPAID]
    return []


def _line_text_errors(line: dict, amount: Decimal, status: str) -> list[str]:
    """What Xero refuses in a line's description, account and tracking (a draft may lack the first two)."""
    errors = []
    if status != "DRAFT":
        if not str(line.get("Description", "")).strip():
            errors.append("Description is required for each line item of a document that is not a draft.")
        if not line.get("AccountCode") and amount != 0:
            errors.append("An AccountCode must be specified for each line item of a document that is not a draft.")
    if len(str(line.get("Description", ""))) > 4000:
        errors.append("Description must be 4000 characters or fewer.")
    if len(line.get("Tracking") or []) > 2:
        errors.append("A line item can have at most 2 tracking categories.")
    return errors


def _csv(value: str | None) -> list[str]:
    if not value:
        return []
    return [part.strip().strip('"').strip("'") for part in value.split(",") if part.strip().strip('"').strip("'")]

"""In-memory QuickBooks Online company: its entities' state and business rules.

The point of the sandbox is to fail the way QBO fails, so the rules here follow
the platform (Finance.xsd field names, QBO fault codes and messages) rather
than whatever our own connector happens to send. Everything is guarded by one
re-entrant lock: a write, its side effects on linked transactions and its
``requestid`` memory are applied atomically.

Money is ``Decimal`` end to end; request bodies must be parsed with
``json.loads(..., parse_float=Decimal)`` and responses serialised with
:func:`dumps` so amounts never pass through binary floats.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from .schema import (ALLOWED_FIELDS, CDC_ENTITIES, CDC_LOOKBACK_DAYS, CDC_MAX_OBJECTS, CENT, COMPUTED, CURRENCY_NAMES,
                     ENTITIES, EXCHANGE_RATES, HOME_CURRENCY, LINE_TYPES, MAX_DOCNUMBER, NAME_LISTS, PATH_ENTITIES,
                     TRANSACTIONS, WRITABLE)
from .wire import (QBOFault, id_key, strip_private, txn_date, as_date, bad_enum, bad_length, bad_property,
                   business, currency, inactive_ref, invalid_param, invalid_ref, is_true, iso_time, parse_stamp,
                   period_closed, q2, query_error, ref_value, required, stale, to_decimal, unsupported)
from .query import field_value, in_texts, matches, parse_query, sort_key
from . import costs


# ---------------------------------------------------------------------------
# Store


class StoreChange(NamedTuple):
    """One entity change as QBO's webhooks announce it: ``operation`` is Create, Update, Delete or Void."""

    name: str
    entity_id: str
    operation: str
    at: float  # epoch seconds on the store's clock


class Rows(dict):
    """One entity's rows by Id, with the Ids of each DocNumber kept beside them, so the duplicate-number check reads
    the rows with that number rather than every row (QuickBooks' own check does not slow down as a company grows;
    a scan did, to a fifth of the sandbox's CPU at 14,000 invoices). Every write to the dict keeps it."""

    def __init__(self) -> None:
        super().__init__()
        self._numbered: dict[str, set[str]] = {}

    def __setitem__(self, key: str, row: dict) -> None:
        if key in self:
            self._forget(key, self[key])
        super().__setitem__(key, row)
        doc = row.get("DocNumber")
        if doc not in (None, ""):
            self._numbered.setdefault(str(doc), set()).add(key)

    def __delitem__(self, key: str) -> None:
        self._forget(key, self[key])
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        if key in self:
            self._forget(key, self[key])
        return super().pop(key, *default)

    def _forget(self, key: str, row: dict) -> None:
        self._numbered.get(str(row.get("DocNumber")), set()).discard(key)

    def numbered(self, doc: str) -> list[dict]:
        """The rows whose DocNumber is ``doc``."""
        return [self[key] for key in sorted(self._numbered.get(doc, ()), key=id_key)
                if key in self and self[key].get("DocNumber") == doc]

    def update(self, *args: Any, **kwargs: Any) -> None:  # writes that would bypass the index
        raise TypeError("Rows.update would bypass the DocNumber index; assign one row at a time")

    def setdefault(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("Rows.setdefault would bypass the DocNumber index; assign one row at a time")


class Store:
    """One QBO company (realm). Public methods are thread-safe."""

    def __init__(self, realm_id: str = "9130000000000001", clock: Callable[[], float] = time.time) -> None:
        self.realm_id = realm_id
        self.clock = clock
        self.lock = threading.RLock()
        self._listeners: list[Callable[[StoreChange], None]] = []
        self.reset()

    def subscribe(self, listener: Callable[[StoreChange], None]) -> None:
        """Call ``listener`` (under the store lock, so it must be quick) for every change to a writable entity.

        Changes are reported as they are applied: creates, updates, deletes, voids, and the balance updates a
        payment makes to the invoices and credit memos it touches. ``reset()`` and seeding report nothing.
        """
        with self.lock:
            self._listeners.append(listener)

    def _notify(self, name: str, entity_id: str, operation: str) -> None:
        change = StoreChange(name, entity_id, operation, self.clock())
        for listener in self._listeners:
            listener(change)

    # -- lifecycle ----------------------------------------------------------

    def reset(self) -> None:
        """Wipe all company data (and requestid memory) and re-seed reference lists."""
        with self.lock:
            self._rows: dict[str, Rows] = {name: Rows() for name in ENTITIES}
            self._deleted: dict[str, dict[str, dict]] = {name: {} for name in ENTITIES}
            self._seq: dict[str, int] = {}
            self._request_ids: dict[str, tuple[int, bytes]] = {}
            self._closing_date: dt.date | None = None
            self._id_orders: dict[str, tuple[set, list[str]]] = {}  # see _id_order
            self._seed()

    @property
    def closing_date(self) -> dt.date | None:
        """Books closed up to and including this date (Preferences.AccountingInfoPrefs.BookCloseDate).

        Creating, updating, voiding or deleting a transaction dated on or before it gives 6210. Accepts a date,
        an ISO date string or None (books open). ``reset()`` opens the books again.
        """
        return self._closing_date

    @closing_date.setter
    def closing_date(self, value: Any) -> None:
        closing = as_date(value)
        with self.lock:
            self._closing_date = closing

    def forget_request_ids(self) -> None:
        """Simulate the platform no longer remembering earlier ``requestid`` values."""
        with self.lock:
            self._request_ids.clear()

    def idempotent(self, request_id: str | None, run: Callable[[], tuple[int, bytes]]) -> tuple[int, bytes]:
        """Run a write once per ``requestid``; repeats get the original status and body."""
        with self.lock:
            if request_id and request_id in self._request_ids:
                return self._request_ids[request_id]
            result = run()
            if request_id:
                self._request_ids[request_id] = result
            return result

    # -- public read API ------------------------------------------------------

    def now_iso(self, millis: bool = False) -> str:
        return iso_time(self.clock(), millis)

    def entities(self, name: str) -> list[dict]:
        """Rendered, non-deleted rows of one entity type, ordered by Id."""
        name = self._entity(name)
        with self.lock:
            rows = self._rows[name]
            return [self._render(name, rows[i]) for i in sorted(rows, key=id_key)]

    def get(self, name: str, entity_id: Any) -> dict | None:
        """Rendered row, or None when it never existed or was deleted."""
        name = self._entity(name)
        with self.lock:
            row = self._rows[name].get(str(entity_id))
            return self._render(name, row) if row else None

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {name: len(rows) for name, rows in self._rows.items()}

    def deleted_counts(self) -> dict[str, int]:
        with self.lock:
            return {name: len(rows) for name, rows in self._deleted.items() if rows}

    def read(self, name: str, entity_id: str) -> dict:
        """GET one entity; deleted/unknown ids give 610 like QBO."""
        with self.lock:
            if name == "CompanyInfo" or name == "Preferences":
                return self._render(name, next(iter(self._rows[name].values())))
            row = self._rows[name].get(str(entity_id))
            if row is None:
                raise inactive_ref()
            return self._render(name, row)

    def exchange_rate(self, source: str, as_of: str | None) -> dict:
        code = (source or "").upper()
        if code not in EXCHANGE_RATES:
            raise invalid_ref("Currency", source, "sourcecurrencycode")
        now = self.now_iso()
        return {"SourceCurrencyCode": code, "TargetCurrencyCode": HOME_CURRENCY, "Rate": EXCHANGE_RATES[code],
                "AsOfDate": as_of or now[:10], "SyncToken": "0", "domain": "QBO", "sparse": False,
                "MetaData": {"LastUpdatedTime": now}}

    # -- writes ---------------------------------------------------------------

    def write(self, name: str, body: Any, operation: str | None = None,
              include: Iterable[str] = ()) -> dict:
        """POST to an entity endpoint: create, update, delete or void."""
        include = {i.strip().lower() for i in include if i}
        op = (operation or "").lower()
        if not isinstance(body, dict):
            raise QBOFault("2010", "Request has invalid or unsupported property",
                           "Request body must be a JSON object")
        with self.lock:
            if name not in WRITABLE:
                raise unsupported(f"{op.capitalize() or 'Create'} on {name}")
            if op == "delete":
                if name == "Payment":
                    self._not_deposited(ref_value(body.get("Id")) or "")
                return self._delete(name, body)
            if op == "void" or (op == "update" and "void" in include):
                if name not in ("Invoice", "Payment", "BillPayment"):
                    raise unsupported(f"Void on {name}")
                if name == "Payment":
                    self._not_deposited(ref_value(body.get("Id")) or "")
                return self._void(name, body)
            if op not in ("", "create", "update"):
                raise unsupported(op)
            if op == "update" and body.get("Id") in (None, ""):
                raise required("Id")
            for key in body:
                if key not in ALLOWED_FIELDS[name]:
                    raise bad_property(key, name)
            if body.get("Id") not in (None, ""):
                if name == "Payment":
                    self._not_deposited(ref_value(body.get("Id")) or "")
                return self._update(name, body, include)
            return self._create(name, body, include)

    def _create(self, name: str, body: dict, include: set) -> dict:
        row = self._build(name, body, None, include)
        self._check_period(name, row)
        row["Id"] = self._next_id(name)
        row["SyncToken"] = "0"
        now = self.now_iso()
        row["MetaData"] = {"CreateTime": now, "LastUpdatedTime": now}
        row.update(domain="QBO", sparse=False)
        self._rows[name][row["Id"]] = row
        self._notify(name, row["Id"], "Create")
        self._after_write(name, None, row)
        return self._render(name, row)

    def _update(self, name: str, body: dict, include: set) -> dict:
        old = self._current(name, body)
        if old.get("_voided"):
            raise business(f"This {name} has been voided and can't be changed.")
        if is_true(body.get("sparse")):
            merged = strip_private(copy.deepcopy(old))
            if "TxnTaxDetail" not in body and not old.get("_tax_override"):
                merged.get("TxnTaxDetail", {}).pop("TotalTax", None)
            merged.update(body)
        else:
            merged = body
        row = self._build(name, merged, old, include)
        self._check_period(name, old, row)
        row["Id"] = old["Id"]
        self._bump(row, old)
        row.update(domain="QBO", sparse=False)
        self._rows[name][row["Id"]] = row
        self._notify(name, row["Id"], "Update")
        self._after_write(name, old, row)
        return self._render(name, row)

    def _delete(self, name: str, body: dict) -> dict:
        if name in ("Customer", "Item", "Vendor"):
            raise unsupported("Delete")
        old = self._current(name, body)
        self._check_period(name, old)
        if name in ("Invoice", "CreditMemo") and self._applications(name, old["Id"]):
            raise business(f"This {name} is linked to a payment. Remove the payment before deleting it.")
        if name == "Bill" and self._bill_paid(old["Id"]):
            raise business("This bill is linked to a bill payment. Remove the bill payment before deleting it.")
        if name == "Purchase" and self._applied_to_purchase(old["Id"]):
            raise business("This transaction is linked to a payment. Remove the payment before deleting it.")
        del self._rows[name][old["Id"]]
        old["_deleted_at"] = self.now_iso()
        self._deleted[name][old["Id"]] = old
        self._notify(name, old["Id"], "Delete")
        self._after_write(name, old, None)
        return {"domain": "QBO", "status": "Deleted", "Id": old["Id"]}

    def _void(self, name: str, body: dict) -> dict:
        old = self._current(name, body)
        self._check_period(name, old)
        if old.get("_voided"):
            return self._render(name, old)
        if name == "Invoice" and self._applications(name, old["Id"]):
            raise business("This invoice has payments applied to it. Remove the payments before voiding it.")
        row = copy.deepcopy(old)
        zero = Decimal("0.00")
        for line in row.get("Line", []):
            if "Amount" in line:
                line["Amount"] = zero
            detail = line.get("SalesItemLineDetail")
            if detail and "Qty" in detail:
                detail["Qty"] = Decimal("0")
        for key in ("TotalAmt", "Balance", "HomeTotalAmt", "HomeBalance", "UnappliedAmt"):
            if key in row:
                row[key] = zero
        tax = row.get("TxnTaxDetail")
        if tax:
            tax["TotalTax"] = zero
            for line in tax.get("TaxLine", []):
                line["Amount"] = zero
        note = row.get("PrivateNote")
        row["PrivateNote"] = f"Voided - {note}" if note else "Voided"
        row["_voided"] = True
        self._bump(row, old)
        self._rows[name][row["Id"]] = row
        self._notify(name, row["Id"], "Void")
        self._after_write(name, old, row)
        return self._render(name, row)

    # -- acting as a person in QBO's web UI -----------------------------------
    #
    # Office staff change things in QuickBooks itself. These helpers make the same changes through the same
    # write path as the API (so SyncToken, MetaData.LastUpdatedTime, balances, CDC and webhooks move exactly as
    # they would), with what the UI does differently: the person always edits the current version (no stale
    # SyncToken), and voiding or deleting an invoice that has payments first unapplies them (the payments stay,
    # as unapplied credit), where the API refuses with 6000. Business rules (closed books, overpayment, ...)
    # still apply and raise QBOFault.

    def record_payment_as_user(self, invoice_id: Any, amount: Any = None, txn_date: Any = None,
                               deposit_account_id: str | None = None, ref_num: str | None = None) -> dict:
        """"Receive payment" on an invoice: a Payment for its customer, ``amount`` (default: the open balance)
        applied to it. Returns the rendered Payment."""
        with self.lock:
            invoice = self._live("Invoice", invoice_id)
            paid = invoice["Balance"] if amount is None else q2(to_decimal(amount, "Amount"))
            body: dict[str, Any] = {
                "CustomerRef": {"value": ref_value(invoice["CustomerRef"])}, "TotalAmt": paid,
                "CurrencyRef": {"value": ref_value(invoice["CurrencyRef"])},
                "Line": [{"Amount": paid, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]}
            if invoice.get("ExchangeRate") is not None and ref_value(invoice["CurrencyRef"]) != HOME_CURRENCY:
                body["ExchangeRate"] = invoice["ExchangeRate"]
            if txn_date is not None:
                body["TxnDate"] = str(as_date(txn_date))
            if deposit_account_id is not None:
                body["DepositToAccountRef"] = {"value": str(deposit_account_id)}
            if ref_num is not None:
                body["PaymentRefNum"] = ref_num
            return self.write("Payment", body)

    def make_deposit_as_user(self, payment_ids: Iterable[Any] = (), fee: Any = None, date: Any = None,
                             memo: str | None = None, account_id: str = "7", fee_account_id: str = "9") -> dict:
        """"Bank deposit" of payments waiting in Undeposited Funds: one line per payment (LinkedTxn), and the
        processor's fee as a negative line to ``fee_account_id`` (Bank Charges), so the deposit's total is what
        reached the bank. Returns the rendered Deposit."""
        with self.lock:
            lines: list[dict] = []
            for payment_id in payment_ids:
                payment = self._live("Payment", payment_id)
                lines.append({"Amount": payment["TotalAmt"], "DetailType": "DepositLineDetail",
                              "DepositLineDetail": {},
                              "LinkedTxn": [{"TxnId": payment["Id"], "TxnType": "Payment", "TxnLineId": "0"}]})
            if fee not in (None, "", 0):
                lines.append({"Amount": -q2(to_decimal(fee, "fee")), "DetailType": "DepositLineDetail",
                              "Description": "Processor fees",
                              "DepositLineDetail": {"AccountRef": {"value": str(fee_account_id)}}})
            body: dict[str, Any] = {"DepositToAccountRef": {"value": str(account_id)}, "Line": lines}
            if date is not None:
                body["TxnDate"] = str(as_date(date))
            if memo is not None:
                body["PrivateNote"] = memo
            return self.write("Deposit", body)

    def bank_deposit_as_user(self, amount: Any, date: Any = None, memo: str | None = None,
                             account_id: str = "7", from_account_id: str = "4") -> dict:
        """A deposit linked to no payment (money the bank received that nobody recorded as a payment): one
        ``DepositLineDetail`` line of ``amount`` from ``from_account_id``. Returns the rendered Deposit."""
        with self.lock:
            body: dict[str, Any] = {
                "DepositToAccountRef": {"value": str(account_id)},
                "Line": [{"Amount": q2(to_decimal(amount, "amount")), "DetailType": "DepositLineDetail",
                          "DepositLineDetail": {"AccountRef": {"value": str(from_account_id)}}}]}
            if date is not None:
                body["TxnDate"] = str(as_date(date))
            if memo is not None:
                body["PrivateNote"] = memo
            return self.write("Deposit", body)

    def edit_invoice_line_as_user(self, invoice_id: Any, line: int | str = 0, amount: Any = None, qty: Any = None,
                                  unit_price: Any = None, description: str | None = None) -> dict:
        """Change one sales line of an invoice, as the invoice form does.

        ``line`` is the index among the invoice's item lines (0 = the first) or a line ``Id``. Typing a new
        ``amount`` keeps the quantity and recalculates the rate; a new ``qty`` or ``unit_price`` recalculates
        the amount. Tax, total and balance follow. Returns the rendered Invoice.
        """
        with self.lock:
            invoice = self._live("Invoice", invoice_id)
            lines = [ln for ln in strip_private(copy.deepcopy(invoice["Line"]))
                     if ln.get("DetailType") != "SubTotalLineDetail"]
            items = [ln for ln in lines if ln.get("DetailType") == "SalesItemLineDetail"]
            if isinstance(line, int):
                if not 0 <= line < len(items):
                    raise IndexError(f"invoice {invoice['Id']} has {len(items)} item lines, no line {line}")
                target = items[line]
            else:
                target = next((ln for ln in items if ln.get("Id") == str(line)), None)
                if target is None:
                    raise KeyError(f"invoice {invoice['Id']} has no item line with Id {line!r}")
            detail = target["SalesItemLineDetail"]
            if description is not None:
                target["Description"] = description
            if qty is not None:
                detail["Qty"] = to_decimal(qty, "Qty")
            if unit_price is not None:
                detail["UnitPrice"] = to_decimal(unit_price, "UnitPrice")
            if amount is not None:
                target["Amount"] = q2(to_decimal(amount, "Amount"))
                if unit_price is None:
                    detail.pop("UnitPrice", None)  # derived again from amount / qty
            elif detail.get("Qty") is not None and detail.get("UnitPrice") is not None:
                target["Amount"] = q2(detail["Qty"] * detail["UnitPrice"])
            return self.write("Invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"], "sparse": True,
                                          "Line": lines})

    def set_shipping_as_user(self, enabled: bool = True, account_id: str | None = None) -> dict:
        """Account and settings > Sales > Shipping: the invoice form gets its shipping box (``SalesFormsPrefs.
        AllowShipping``; ``DefaultShippingAccount`` is where it posts). Returns the Preferences."""
        with self.lock:
            prefs = self._sales_prefs()
            prefs["AllowShipping"] = bool(enabled)
            if account_id is not None:
                prefs["DefaultShippingAccount"] = str(account_id)
            return copy.deepcopy(self._rows["Preferences"]["1"])

    def allows_shipping(self) -> bool:
        return self._sales_prefs().get("AllowShipping") is True

    def _sales_prefs(self) -> dict:
        return self._rows["Preferences"]["1"].setdefault("SalesFormsPrefs", {})

    def edit_as_user(self, name: str, entity_id: Any, changes: dict) -> dict:
        """Any other edit: a sparse update of ``changes`` (top-level fields) on the current version."""
        name = self._entity(name)
        with self.lock:
            row = self._live(name, entity_id)
            return self.write(name, {**changes, "Id": row["Id"], "SyncToken": row["SyncToken"], "sparse": True})

    def create_customer_as_user(self, name: str, email: str | None = None, tax_number: str | None = None) -> dict:
        """"New customer": a display name, an e-mail and a business number (the unmasked tax id a user types)."""
        body: dict[str, Any] = {"DisplayName": name}
        if email:
            body["PrimaryEmailAddr"] = {"Address": email}
        if tax_number:
            body["BusinessNumber"] = tax_number
        return self.write("Customer", body)

    def edit_customer_as_user(self, customer_id: Any, name: str | None = None, email: str | None = None,
                              tax_number: str | None = None, active: bool | None = None) -> dict:
        """Edit a customer's name, e-mail or business number, or "Make inactive" (``active=False``)."""
        with self.lock:
            row = self._live("Customer", customer_id)
            changes: dict[str, Any] = {}
            if name is not None:
                changes["DisplayName"] = name
            if email is not None:
                changes["PrimaryEmailAddr"] = {"Address": email}
            if tax_number is not None:
                changes["BusinessNumber"] = tax_number
            if active is not None:
                changes["Active"] = bool(active)
            return self.edit_as_user("Customer", row["Id"], changes)

    def create_item_as_user(self, name: str, unit_price: Any = None, code: str | None = None) -> dict:
        """"New product or service": a service item selling to the Sales income account."""
        with self.lock:
            income = next(a for a in self._rows["Account"].values() if a["Name"] == "Sales")
            body: dict[str, Any] = {"Name": name, "Type": "Service", "IncomeAccountRef": {"value": income["Id"]}}
            if unit_price is not None:
                body["UnitPrice"] = q2(to_decimal(unit_price, "UnitPrice"))
            if code:
                body["Sku"] = code
            return self.write("Item", body)

    def edit_item_as_user(self, item_id: Any, name: str | None = None, unit_price: Any = None,
                          code: str | None = None, active: bool | None = None) -> dict:
        """Edit an item's name, sales price or SKU, or "Make inactive" (``active=False``)."""
        with self.lock:
            row = self._live("Item", item_id)
            changes: dict[str, Any] = {}
            if name is not None:
                changes["Name"] = name
            if unit_price is not None:
                changes["UnitPrice"] = q2(to_decimal(unit_price, "UnitPrice"))
            if code is not None:
                changes["Sku"] = code
            if active is not None:
                changes["Active"] = bool(active)
            return self.edit_as_user("Item", row["Id"], changes)

    def void_invoice_as_user(self, invoice_id: Any) -> dict:
        """Void an invoice; payments applied to it are unapplied first (they remain as credit)."""
        with self.lock:
            invoice = self._unapply_all("Invoice", invoice_id)
            return self.write("Invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, "void")

    def delete_invoice_as_user(self, invoice_id: Any) -> dict:
        """Delete an invoice; payments applied to it are unapplied first (they remain as credit)."""
        with self.lock:
            invoice = self._unapply_all("Invoice", invoice_id)
            return self.write("Invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, "delete")

    def void_payment_as_user(self, payment_id: Any) -> dict:
        """Void a payment: its amount becomes 0 and the invoices it paid are open again."""
        with self.lock:
            payment = self._live("Payment", payment_id)
            return self.write("Payment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"], "sparse": True},
                              "update", ["void"])

    def delete_payment_as_user(self, payment_id: Any) -> dict:
        """Delete a payment: the invoices it paid are open again."""
        with self.lock:
            payment = self._live("Payment", payment_id)
            return self.write("Payment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"]}, "delete")

    def archive_account_as_user(self, account_id: Any) -> dict:
        """"Make inactive" an account in the chart of accounts (QBO's "delete" of an account).

        As in QBO: the row stays, ``Active`` turns false and " (deleted)" is appended to its name; the account is
        no longer listed by queries that do not ask for inactive rows, and a write referring to it gets 610
        (``inactive_ref``). Transactions already posted to it keep it. SyncToken and LastUpdatedTime move (CDC
        reports it) and webhook listeners hear an Account ``Update``. Returns the rendered Account."""
        with self.lock:
            old = self._rows["Account"].get(ref_value(account_id) or "")
            if old is None:
                raise invalid_ref("Accounts", account_id, "Id")
            if old.get("Active") is False:
                return self._render("Account", old)
            row = copy.deepcopy(old)
            row["Active"] = False
            for field in ("Name", "FullyQualifiedName"):
                row[field] = f"{old[field]} (deleted)"
            self._bump(row, old)
            self._rows["Account"][row["Id"]] = row
            self._notify("Account", row["Id"], "Update")
            return self._render("Account", row)

    def _live(self, name: str, entity_id: Any) -> dict:
        row = self._rows[name].get(ref_value(entity_id) or "")
        if row is None:
            raise inactive_ref("Id")
        return row

    def _unapply_all(self, txn_type: str, txn_id: Any) -> dict:
        """Take the document off every payment applied to it (one payment update each); its current row."""
        doc = self._live(txn_type, txn_id)
        for payment_id in dict.fromkeys(pid for pid, _ in self._applications(txn_type, doc["Id"])):
            payment = self._rows["Payment"][payment_id]
            keep = [ln for ln in strip_private(copy.deepcopy(payment["Line"]))
                    if ln["LinkedTxn"][0] != {"TxnId": doc["Id"], "TxnType": txn_type}]
            self.write("Payment", {"Id": payment_id, "SyncToken": payment["SyncToken"], "sparse": True, "Line": keep})
        return self._rows[txn_type][doc["Id"]]

    # -- write helpers --------------------------------------------------------

    def _current(self, name: str, body: dict) -> dict:
        """The live row addressed by ``body`` after Id / SyncToken checks."""
        entity_id = ref_value(body.get("Id"))
        if entity_id is None:
            raise required("Id")
        old = self._rows[name].get(entity_id)
        if old is None:
            raise inactive_ref("Id")
        token = body.get("SyncToken")
        if token is None or token == "":  # nosec B105
            raise required("SyncToken")
        if ref_value(token) != old["SyncToken"]:
            raise stale()
        return old

    def _check_period(self, name: str, *rows: dict) -> None:
        """6210 when any version of a transaction (before or after the change) is in the closed period."""
        closing = self._closing_date
        if closing is None or name not in TRANSACTIONS:
            return
        for row in rows:
            date = txn_date(row)
            if date is not None and date <= closing:
                raise period_closed()

    def _bump(self, row: dict, old: dict) -> None:
        row["SyncToken"] = str(int(old["SyncToken"]) + 1)
        row["MetaData"] = {"CreateTime": old["MetaData"]["CreateTime"], "LastUpdatedTime": self.now_iso()}

    def _next_id(self, name: str) -> str:
        key = "txn" if name in TRANSACTIONS else name  # transactions share one id sequence
        self._seq[key] = self._seq.get(key, 0) + 1
        return str(self._seq[key])

    def _build(self, name: str, body: dict, old: dict | None, include: set) -> dict:
        clean = {k: copy.deepcopy(v) for k, v in body.items()
                 if k not in COMPUTED.get(name, ()) and k not in ("Id", "SyncToken", "MetaData", "domain",
                                                                  "sparse", "status")}
        if name == "Customer":
            return self._build_customer(clean, old)
        if name == "Item":
            return self._build_item(clean, old)
        if name == "Payment":
            return self._build_payment(clean, old)
        if name == "Deposit":
            return self._build_deposit(clean, old)
        if name == "Vendor":
            return costs.build_vendor(self, clean, old)
        if name == "Purchase":
            return costs.build_purchase(self, clean, old)
        if name == "Bill":
            return costs.build_bill(self, clean, old)
        if name == "BillPayment":
            return costs.build_bill_payment(self, clean, old)
        if name == "JournalEntry":
            return costs.build_journal(self, clean, old)
        return self._build_sales(name, clean, old, include)

    def _lookup(self, name: str, ref: Any, element: str, kind: str, need: bool = True) -> dict | None:
        """Resolve a reference: missing -> 2020, unknown -> 2500, inactive -> 610."""
        value = ref_value(ref)
        if value is None:
            if need:
                raise required(element)
            return None
        row = self._rows[name].get(value)
        if row is None:
            raise invalid_ref(kind, value, element)
        if row.get("Active") is False:
            raise inactive_ref(element)
        return row

    def _check_length(self, row: dict, field: str, maximum: int) -> None:
        value = row.get(field)
        if isinstance(value, str) and len(value) > maximum:
            raise bad_length(field, maximum, len(value))

    # -- Customer / Item ------------------------------------------------------

    def _build_customer(self, row: dict, old: dict | None) -> dict:
        name = (row.get("DisplayName") or "").strip()
        if not name:
            parts = [row.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
            name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
            name = name or (row.get("CompanyName") or "").strip()
        if not name:
            raise required("DisplayName")
        row["DisplayName"] = name
        self._check_length(row, "DisplayName", 500)
        for other in self._rows["Customer"].values():
            if other["DisplayName"].lower() == name.lower() and (old is None or other["Id"] != old["Id"]):
                raise QBOFault("6240", "Duplicate Name Exists Error",
                               "The name supplied already exists. : Another customer, vendor or employee "
                               "is already using this name. Please use a different name.", "DisplayName")
        parent = self._lookup("Customer", row.get("ParentRef"), "ParentRef", "Names", need=False)
        if parent is not None:
            cursor: dict | None = parent
            while cursor is not None:  # a customer can't be its own ancestor
                if old is not None and cursor["Id"] == old["Id"]:
                    raise business("A customer can't be a sub-customer of itself.", "ParentRef")
                cursor = self._rows["Customer"].get(ref_value(cursor.get("ParentRef")) or "")
            row["ParentRef"] = {"value": parent["Id"]}
            row["Job"] = True
            row.setdefault("BillWithParent", False)
        else:
            row.pop("ParentRef", None)
            row["Job"] = bool(is_true(row.get("Job")))
            row["BillWithParent"] = False
        row["Active"] = row.get("Active", True) is not False and row.get("Active") != "false"
        row.setdefault("PrintOnCheckName", name)
        code = (ref_value(row.get("CurrencyRef")) or HOME_CURRENCY).upper()
        if code not in EXCHANGE_RATES:
            raise business(f"The currency {code} isn't in your currency list.", "CurrencyRef")
        if old is not None and ref_value(old.get("CurrencyRef")) != code and self._customer_txns(old["Id"]):
            raise business("You can't change the currency of a customer that has transactions.", "CurrencyRef")
        row["CurrencyRef"] = {"value": code, "name": CURRENCY_NAMES[code]}
        return row

    def _build_item(self, row: dict, old: dict | None) -> dict:
        name = (row.get("Name") or "").strip()
        if not name:
            raise required("Name")
        row["Name"] = name
        self._check_length(row, "Name", 100)
        for other in self._rows["Item"].values():
            if other["Name"].lower() == name.lower() and (old is None or other["Id"] != old["Id"]):
                raise QBOFault("6240", "Duplicate Name Exists Error",
                               "The name supplied already exists. : Another product or service is already "
                               "using this name. Please use a different name.", "Name")
        item_type = row.get("Type") or "Service"
        if item_type not in ("Service", "NonInventory", "Inventory"):
            raise bad_enum("Type", item_type)
        row["Type"] = item_type
        account = self._lookup("Account", row.get("IncomeAccountRef"), "IncomeAccountRef", "Accounts")
        row["IncomeAccountRef"] = {"value": account["Id"], "name": account["Name"]}
        if item_type == "Inventory":
            for field in ("AssetAccountRef", "InvStartDate", "QtyOnHand"):
                if row.get(field) in (None, ""):
                    raise required(field)
            self._lookup("Account", row.get("AssetAccountRef"), "AssetAccountRef", "Accounts")
            row["TrackQtyOnHand"] = True
        for ref_field in ("ExpenseAccountRef", "AssetAccountRef"):
            if row.get(ref_field):
                self._lookup("Account", row[ref_field], ref_field, "Accounts")
        if row.get("SalesTaxCodeRef"):
            self._lookup("TaxCode", row["SalesTaxCodeRef"], "SalesTaxCodeRef", "TaxCode")
        for money in ("UnitPrice", "PurchaseCost", "QtyOnHand"):
            if row.get(money) not in (None, ""):
                row[money] = to_decimal(row[money], money)
        row["Active"] = row.get("Active", True) is not False and row.get("Active") != "false"
        return row

    def _customer_txns(self, customer_id: str) -> bool:
        return any(ref_value(r.get("CustomerRef")) == customer_id
                   for name in TRANSACTIONS for r in self._rows[name].values())

    # -- Invoice / CreditMemo -------------------------------------------------

    def _build_sales(self, name: str, row: dict, old: dict | None, include: set) -> dict:
        customer = self._lookup("Customer", row.get("CustomerRef"), "CustomerRef", "Names")
        row["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
        if row.get("DepartmentRef"):  # a location: must be a seeded, active Department
            department = self._lookup("Department", row["DepartmentRef"], "DepartmentRef", "Department")
            row["DepartmentRef"] = {"value": department["Id"], "name": department["Name"]}
        lines_in = row.get("Line")
        if not isinstance(lines_in, list) or not lines_in:
            raise required("Line")
        code, rate = currency(row, customer)
        self._doc_number(name, row, old, include)
        row["TxnDate"] = row.get("TxnDate") or self.now_iso()[:10]
        if name == "Invoice":
            row["DueDate"] = row.get("DueDate") or row["TxnDate"]
        row.pop("LinkedTxn", None)
        if old is not None and self._links(name, old["Id"]):
            row["LinkedTxn"] = self._links(name, old["Id"])

        lines, subtotal, bases, discount = self._sales_lines(lines_in)
        if not lines:
            raise required("Line")
        tax_in = row.get("TxnTaxDetail") if isinstance(row.get("TxnTaxDetail"), dict) else {}
        apply_after = is_true(row.get("ApplyTaxAfterDiscount"))
        row["ApplyTaxAfterDiscount"] = apply_after
        row["TxnTaxDetail"], total_tax, override = self._tax(tax_in, bases, subtotal, discount, apply_after)
        total = subtotal - discount + total_tax
        if total < 0:
            raise business(f"{name} amount can't be negative.", "Line")
        lines.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
        row["Line"] = lines
        row["TotalAmt"] = total
        row["_tax_override"] = override
        applied = self._applied(name, old["Id"]) if old else Decimal("0")
        if applied > total:
            raise business(f"The {name} total ({total}) can't be less than the payments applied to it "
                           f"({applied}).", "Line")
        row["Balance"] = total - applied
        if name == "CreditMemo":
            row["RemainingCredit"] = row["Balance"]
        if code != HOME_CURRENCY:
            row["HomeTotalAmt"] = q2(total * rate)
            row["HomeBalance"] = q2(row["Balance"] * rate)
        row.setdefault("PrintStatus", "NotSet")
        row.setdefault("EmailStatus", "NotSet")
        return row

    def _doc_number(self, name: str, row: dict, old: dict | None, include: set) -> None:
        doc = row.get("DocNumber")
        if doc in (None, "") and is_true(row.get("AutoDocNumber")):
            numbers = [int(r["DocNumber"]) for r in self._rows[name].values()
                       if str(r.get("DocNumber", "")).isdigit()]
            doc = str(max(numbers, default=1000) + 1)
        if doc in (None, ""):
            row.pop("DocNumber", None)
            return
        doc = str(doc)
        row["DocNumber"] = doc
        self._check_length(row, "DocNumber", MAX_DOCNUMBER)
        if "allowduplicatedocnum" in include:
            return
        for other in self._rows[name].numbered(doc):
            if old is None or other["Id"] != old["Id"]:
                raise QBOFault("6140", "Duplicate Document Number Error",
                               "Duplicate Document Number Error : You must specify a different number. "
                               f"This number has already been used. DocNumber={doc} is assigned to "
                               f"TxnType={name} with TxnId={other['Id']}", "DocNumber")

    def _sales_lines(self, lines_in: list) -> tuple[list, Decimal, dict, Decimal]:
        """Validate lines; return (lines, subtotal, taxable base per tax code, discount)."""
        lines: list[dict] = []
        subtotal = Decimal("0.00")
        bases: dict[str, Decimal] = {}
        discount_line: dict | None = None
        used_ids = {str(ln.get("Id")) for ln in lines_in if isinstance(ln, dict) and ln.get("Id")}
        next_id = 1
        for index, line in enumerate(lines_in):
            where = f"Line[{index}]"
            if not isinstance(line, dict):
                raise QBOFault("2010", "Request has invalid or unsupported property", f"{where} is not an object")
            kind = line.get("DetailType")
            if not kind:
                raise required(f"{where}.DetailType")
            if kind not in LINE_TYPES:
                raise bad_enum(f"{where}.DetailType", kind)
            if kind == "SubTotalLineDetail":
                continue  # computed by QBO; input copies are ignored
            if kind not in ("SalesItemLineDetail", "DiscountLineDetail", "DescriptionOnly"):
                raise business(f"Line DetailType {kind} isn't supported by the sandbox.", where)
            out = copy.deepcopy(line)
            line_id = ref_value(line.get("Id"))
            if not line_id:
                while str(next_id) in used_ids:
                    next_id += 1
                line_id = str(next_id)
                used_ids.add(line_id)
            out["Id"] = line_id
            out["LineNum"] = len(lines) + 1
            if kind == "SalesItemLineDetail":
                amount, code = self._sales_line(out, where)
                subtotal += amount
                if code is not None:
                    bases[code] = bases.get(code, Decimal("0.00")) + amount
            elif kind == "DiscountLineDetail":
                if discount_line is not None:
                    raise business("Only one discount line is allowed per transaction.", where)
                discount_line = out
            else:
                out.setdefault("DescriptionLineDetail", {})
                out.pop("Amount", None)
            lines.append(out)
        discount = Decimal("0.00")
        if discount_line is not None:
            discount = self._discount(discount_line, subtotal)
        return lines, subtotal, bases, discount

    def _sales_line(self, out: dict, where: str) -> tuple[Decimal, str | None]:
        detail = out.get("SalesItemLineDetail")
        if not isinstance(detail, dict):
            raise required(f"{where}.SalesItemLineDetail")
        if ref_value(detail.get("ItemRef")) == SHIPPING_ITEM_ID and self.allows_shipping():
            # The shipping box of a company with shipping on: QBO's own pseudo-item, posted to the shipping account.
            detail["ItemRef"] = {"value": SHIPPING_ITEM_ID}
            account = self._sales_prefs().get("DefaultShippingAccount")
            if account:
                detail.setdefault("ItemAccountRef", {"value": str(account)})
        else:  # without the preference, SHIPPING_ITEM_ID is an unknown item like any other (2500)
            item = self._lookup("Item", detail.get("ItemRef"), f"{where}.SalesItemLineDetail.ItemRef", "Item")
            detail["ItemRef"] = {"value": item["Id"], "name": item["Name"]}
            detail.setdefault("ItemAccountRef", copy.deepcopy(item.get("IncomeAccountRef")))
        if out.get("Amount") in (None, ""):
            raise required(f"{where}.Amount")
        amount = q2(to_decimal(out["Amount"], f"{where}.Amount"))
        out["Amount"] = amount
        qty = to_decimal(detail["Qty"], "Qty") if detail.get("Qty") not in (None, "") else None
        price = to_decimal(detail["UnitPrice"], "UnitPrice") if detail.get("UnitPrice") not in (None, "") else None
        if qty is not None and price is not None:
            if abs(q2(qty * price) - amount) > CENT:
                raise business(f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}", where)
        elif qty is not None and qty != 0:
            price = (amount / qty).quantize(Decimal("0.0000001"), rounding=ROUND_HALF_UP).normalize()
        if qty is not None:
            detail["Qty"] = qty
        if price is not None:
            detail["UnitPrice"] = price
        if detail.get("ClassRef"):  # must be a seeded, active Class
            klass = self._lookup("Class", detail["ClassRef"], f"{where}.SalesItemLineDetail.ClassRef", "Class")
            detail["ClassRef"] = {"value": klass["Id"], "name": klass["Name"]}
        code = None
        if detail.get("TaxCodeRef"):
            tax_code = self._lookup("TaxCode", detail["TaxCodeRef"], f"{where}.SalesItemLineDetail.TaxCodeRef",
                                    "TaxCode")
            code = tax_code["Id"]
            detail["TaxCodeRef"] = {"value": code}
        return amount, code

    def _discount(self, line: dict, subtotal: Decimal) -> Decimal:
        detail = line.get("DiscountLineDetail")
        if not isinstance(detail, dict):
            detail = line["DiscountLineDetail"] = {}
        if is_true(detail.get("PercentBased")):
            if detail.get("DiscountPercent") in (None, ""):
                raise required("DiscountLineDetail.DiscountPercent")
            percent = to_decimal(detail["DiscountPercent"], "DiscountPercent")
            if not 0 <= percent <= 100:
                raise business("DiscountPercent must be between 0 and 100.", "DiscountPercent")
            detail["DiscountPercent"] = percent
            amount = q2(subtotal * percent / 100)
        else:
            if line.get("Amount") in (None, ""):
                raise required("DiscountLineDetail.Amount")
            amount = q2(to_decimal(line["Amount"], "Amount"))
            detail["PercentBased"] = False
        if amount < 0:
            raise business("Discount amount must be positive.", "DiscountLineDetail")
        account = self._lookup("Account", detail.get("DiscountAccountRef") or "5", "DiscountAccountRef", "Accounts")
        detail["DiscountAccountRef"] = {"value": account["Id"], "name": account["Name"]}
        line["Amount"] = amount
        return amount

    def _tax(self, tax_in: dict, bases: dict, subtotal: Decimal, discount: Decimal,
             apply_after: bool) -> tuple[dict, Decimal, bool]:
        """Compute TxnTaxDetail: one TaxLine per tax rate, each rounded half-up to cents.

        Lines coded ``TAX`` use the rates of ``TxnTaxDetail.TxnTaxCodeRef`` when
        given (US style), otherwise TAX's own default rate.
        """
        out: dict[str, Any] = {}
        txn_code = None
        if tax_in.get("TxnTaxCodeRef"):
            txn_code = self._lookup("TaxCode", tax_in["TxnTaxCodeRef"], "TxnTaxDetail.TxnTaxCodeRef", "TaxCode")
            out["TxnTaxCodeRef"] = {"value": txn_code["Id"]}
        per_rate: dict[str, Decimal] = {}
        for code_id, base in bases.items():
            code = txn_code if (code_id == "TAX" and txn_code is not None) else self._rows["TaxCode"][code_id]
            if apply_after and discount and subtotal:
                base = base - q2(discount * base / subtotal)
            for detail in code.get("SalesTaxRateList", {}).get("TaxRateDetail", []):
                rate_id = detail["TaxRateRef"]["value"]
                per_rate[rate_id] = per_rate.get(rate_id, Decimal("0.00")) + base
        tax_lines = []
        computed = Decimal("0.00")
        for rate_id in sorted(per_rate, key=id_key):
            percent = self._rows["TaxRate"][rate_id]["RateValue"]
            amount = q2(per_rate[rate_id] * percent / 100)
            computed += amount
            tax_lines.append({"Amount": amount, "DetailType": "TaxLineDetail", "TaxLineDetail": {
                "TaxRateRef": {"value": rate_id}, "PercentBased": True, "TaxPercent": percent,
                "NetAmountTaxable": per_rate[rate_id]}})
        override = tax_in.get("TotalTax") not in (None, "")
        total = q2(to_decimal(tax_in["TotalTax"], "TxnTaxDetail.TotalTax")) if override else computed
        if total < 0:
            raise business("TotalTax can't be negative.", "TxnTaxDetail.TotalTax")
        out["TotalTax"] = total
        out["TaxLine"] = tax_lines
        return out, total, override

    # -- Payment --------------------------------------------------------------

    def _build_payment(self, row: dict, old: dict | None) -> dict:
        customer = self._lookup("Customer", row.get("CustomerRef"), "CustomerRef", "Names")
        row["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
        if row.get("TotalAmt") in (None, ""):
            raise required("TotalAmt")
        total = q2(to_decimal(row["TotalAmt"], "TotalAmt"))
        if total < 0:
            raise business("Payment amount can't be negative.", "TotalAmt")
        row["TotalAmt"] = total
        code, rate = currency(row, customer)
        row["TxnDate"] = row.get("TxnDate") or self.now_iso()[:10]
        self._check_length(row, "PaymentRefNum", MAX_DOCNUMBER)
        deposit = self._lookup("Account", row.get("DepositToAccountRef") or "6", "DepositToAccountRef", "Accounts")
        row["DepositToAccountRef"] = {"value": deposit["Id"]}
        ar = self._lookup("Account", row.get("ARAccountRef") or "8", "ARAccountRef", "Accounts")
        row["ARAccountRef"] = {"value": ar["Id"]}
        lines_in = row.get("Line") or []
        if not isinstance(lines_in, list):
            raise required("Line")
        lines, applied = [], Decimal("0.00")
        for index, line in enumerate(lines_in):
            where = f"Line[{index}]"
            amount, txn_id, txn_type = _payment_line(line, where)
            if txn_type in costs.LINK_TYPES:  # a purchase to A/R refunding the customer's credit
                applied += self._purchase_link(txn_type, txn_id, customer["Id"], code, amount, old, where)
            else:
                applied += self._document_link(txn_type, txn_id, customer["Id"], code, amount, old, where)
            lines.append({"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": txn_type}]})
        if applied > total:
            raise business(f"The amount applied to transactions ({applied}) exceeds the payment amount "
                           f"({total}).", "Line")
        if applied < 0:
            raise business("Credits applied exceed the invoices being paid.", "Line")
        row["Line"] = lines
        row["UnappliedAmt"] = total - applied
        row.pop("LinkedTxn", None)
        if code != HOME_CURRENCY:
            row["HomeTotalAmt"] = q2(total * rate)
        return row

    def _document_link(self, txn_type: str, txn_id: str, customer_id: str, code: str, amount: Decimal,
                       old: dict | None, where: str) -> Decimal:
        """What a payment line linked to an invoice (paid) or a credit memo (used up) adds to the amount applied:
        the document must be the customer's, in the payment's currency, and still open for ``amount``."""
        target = self._rows[txn_type].get(txn_id)
        if target is None:
            raise invalid_ref("Txn", txn_id, f"{where}.LinkedTxn.TxnId")
        if ref_value(target["CustomerRef"]) != customer_id:
            raise business(f"{txn_type} {txn_id} belongs to another customer.", where)
        if ref_value(target["CurrencyRef"]) != code:
            raise business(f"{txn_type} {txn_id} is in another currency.", where)
        if amount < 0:
            raise business("Payment line amounts can't be negative.", where)
        available = target["TotalAmt"] - self._applied(txn_type, txn_id, exclude=old and old["Id"])
        if amount > available:
            raise business(f"The payment amount {amount} exceeds the open balance {available} of "
                           f"{txn_type} {txn_id}.", where)
        return amount if txn_type == "Invoice" else -amount

    # -- Deposit --------------------------------------------------------------

    def _build_deposit(self, row: dict, old: dict | None) -> dict:
        """A deposit to a Bank (or Other Current Asset) account. A ``LinkedTxn`` line takes a Payment out of
        Undeposited Funds: the payment must have been received there, not be deposited already, and the line's
        amount must be the payment's. Other lines name an account (``DepositLineDetail.AccountRef``); a negative
        line is how a processor's fee is booked. TotalAmt is the sum of the lines and may not be negative."""
        account = self._lookup("Account", row.get("DepositToAccountRef"), "DepositToAccountRef", "Accounts")
        if account.get("AccountType") not in ("Bank", "Other Current Asset") or \
                account.get("AccountSubType") == "UndepositedFunds":
            raise business("Deposit to account must be a bank account.", "DepositToAccountRef")
        row["DepositToAccountRef"] = {"value": account["Id"], "name": account["Name"]}
        lines_in = row.get("Line")
        if not isinstance(lines_in, list) or not lines_in:
            raise required("Line")
        row["TxnDate"] = row.get("TxnDate") or self.now_iso()[:10]
        row["CurrencyRef"] = {"value": HOME_CURRENCY, "name": CURRENCY_NAMES[HOME_CURRENCY]}
        lines, total, seen = [], Decimal("0.00"), set()
        for index, line in enumerate(lines_in):
            where = f"Line[{index}]"
            if not isinstance(line, dict):
                raise QBOFault("2010", "Request has invalid or unsupported property", f"{where} is not an object")
            if line.get("Amount") in (None, ""):
                raise required(f"{where}.Amount")
            amount = q2(to_decimal(line["Amount"], f"{where}.Amount"))
            out = {"Id": str(index + 1), "LineNum": index + 1, "Amount": amount, "DetailType": "DepositLineDetail"}
            if line.get("Description"):
                out["Description"] = str(line["Description"])
            links = line.get("LinkedTxn")
            detail = line.get("DepositLineDetail") or {}
            if links:
                if not isinstance(links, list) or len(links) != 1 or not isinstance(links[0], dict):
                    raise required(f"{where}.LinkedTxn")
                txn_id, txn_type = ref_value(links[0].get("TxnId")), links[0].get("TxnType")
                if txn_type != "Payment":
                    raise bad_enum(f"{where}.LinkedTxn.TxnType", txn_type)
                payment = self._rows["Payment"].get(txn_id or "")
                if payment is None:
                    raise invalid_ref("Txn", txn_id, f"{where}.LinkedTxn.TxnId")
                if ref_value(payment.get("DepositToAccountRef")) != "6":
                    raise business(f"Payment {txn_id} was not received to Undeposited Funds.", where)
                holder = self._deposit_of(txn_id, exclude=old and old["Id"])
                if holder is not None or txn_id in seen:
                    raise business(f"Payment {txn_id} has already been deposited.", where)
                if amount != payment["TotalAmt"]:
                    raise business(f"The amount {amount} does not match payment {txn_id} ({payment['TotalAmt']}).",
                                   where)
                seen.add(txn_id)
                out["LinkedTxn"] = [{"TxnId": txn_id, "TxnType": "Payment", "TxnLineId": "0"}]
                out["DepositLineDetail"] = {}
            else:
                ref = detail.get("AccountRef") if isinstance(detail, dict) else None
                line_account = self._lookup("Account", ref, f"{where}.DepositLineDetail.AccountRef", "Accounts")
                out["DepositLineDetail"] = {"AccountRef": {"value": line_account["Id"],
                                                           "name": line_account["Name"]}}
            total += amount
            lines.append(out)
        if total < 0:
            raise business("The deposit total can't be negative.", "Line")
        row["Line"] = lines
        row["TotalAmt"] = total
        return row

    def _purchase_link(self, txn_type: str, txn_id: str, customer_id: str, code: str, amount: Decimal,
                       old: dict | None, where: str) -> Decimal:
        """A payment line applying credit to a purchase on Accounts Receivable (how QBO refunds a credit memo):
        the purchase must be the customer's, in the payment's currency, paid the way the link type says, with
        enough left on A/R. Returns the amount (it counts like an invoice's)."""
        purchase = self._rows["Purchase"].get(txn_id)
        if purchase is None or (purchase["PaymentType"] == "Check") != (txn_type == "Check"):
            raise invalid_ref("Txn", txn_id, f"{where}.LinkedTxn.TxnId")
        if costs.purchase_customer(purchase) != customer_id:
            raise business(f"{txn_type} {txn_id} belongs to another customer.", where)
        if ref_value(purchase["CurrencyRef"]) != code:
            raise business(f"{txn_type} {txn_id} is in another currency.", where)
        if amount < 0:
            raise business("Payment line amounts can't be negative.", where)
        available = costs.receivable_amount(self, purchase) - self._applied_to_purchase(txn_id, old and old["Id"])
        if amount > available:
            raise business(f"The payment amount {amount} exceeds the open balance {available} of {txn_type} "
                           f"{txn_id}.", where)
        return amount

    def _applied_to_purchase(self, purchase_id: str, exclude: str | None = None) -> Decimal:
        return sum((a for t in costs.LINK_TYPES for _, a in self._applications(t, purchase_id, exclude)),
                   Decimal("0.00"))

    def _deposit_of(self, payment_id: str, exclude: str | None = None) -> str | None:
        """The id of the deposit that holds ``payment_id``, if any."""
        for deposit in self._rows["Deposit"].values():
            if deposit["Id"] == exclude:
                continue
            for line in deposit.get("Line", []):
                if any(link.get("TxnId") == payment_id for link in line.get("LinkedTxn", [])):
                    return deposit["Id"]
        return None

    def _not_deposited(self, payment_id: str) -> None:
        """6540 when a payment in a deposit is changed, voided or deleted (remove it from the deposit first)."""
        if payment_id and self._deposit_of(payment_id) is not None:
            raise QBOFault("6540", "Deposited Transaction cannot be changed",
                           f"Payment {payment_id} is in a deposit. Remove it from the deposit first.")

    def _applications(self, txn_type: str, txn_id: str, exclude: str | None = None) -> list[tuple[str, Decimal]]:
        """(payment id, amount) of every live payment line applied to the transaction."""
        result = []
        for payment in self._rows["Payment"].values():
            if payment["Id"] == exclude:
                continue
            for line in payment.get("Line", []):
                link = line["LinkedTxn"][0]
                if link["TxnType"] == txn_type and link["TxnId"] == txn_id and line["Amount"] > 0:
                    result.append((payment["Id"], line["Amount"]))
        return result

    def _links(self, txn_type: str, txn_id: str) -> list[dict]:
        """The ``LinkedTxn`` list QBO shows on an invoice/credit memo: its payments."""
        payment_ids = sorted({p for p, _ in self._applications(txn_type, txn_id)}, key=id_key)
        return [{"TxnId": pid, "TxnType": "Payment"} for pid in payment_ids]

    def _applied(self, txn_type: str, txn_id: str, exclude: str | None = None) -> Decimal:
        return sum((a for _, a in self._applications(txn_type, txn_id, exclude)), Decimal("0.00"))

    def _bill_payments(self, bill_id: str, exclude: str | None = None) -> list[tuple[str, Decimal]]:
        """(bill payment id, amount) of every live bill payment line applied to the bill."""
        return [(payment["Id"], line["Amount"]) for payment in self._rows["BillPayment"].values()
                if payment["Id"] != exclude for line in payment.get("Line", [])
                if line["LinkedTxn"][0]["TxnId"] == bill_id and line["Amount"] > 0]

    def _bill_paid(self, bill_id: str, exclude: str | None = None) -> Decimal:
        return sum((a for _, a in self._bill_payments(bill_id, exclude)), Decimal("0.00"))

    def _after_bill_payment(self, old: dict | None, new: dict | None) -> None:
        """A bill payment saved, voided or deleted: its bills' Balance and LinkedTxn follow."""
        for bill_id in sorted(costs.bill_links(old) | costs.bill_links(new), key=id_key):
            bill = self._rows["Bill"].get(bill_id)
            if bill is None:
                continue
            balance = bill["TotalAmt"] - self._bill_paid(bill_id)
            links = [{"TxnId": pid, "TxnType": "BillPayment"}
                     for pid in sorted({p for p, _ in self._bill_payments(bill_id)}, key=id_key)]
            if balance == bill["Balance"] and links == bill.get("LinkedTxn", []):
                continue
            updated = copy.deepcopy(bill)
            updated["Balance"] = balance
            if "HomeBalance" in updated:
                rate = updated.get("ExchangeRate") or Decimal("1")
                updated["HomeBalance"] = q2(balance * to_decimal(rate, "ExchangeRate"))
            if links:
                updated["LinkedTxn"] = links
            else:
                updated.pop("LinkedTxn", None)
            self._bump(updated, bill)
            self._rows["Bill"][bill_id] = updated
            self._notify("Bill", bill_id, "Update")

    def _after_write(self, name: str, old: dict | None, new: dict | None) -> None:
        """Payments change linked invoices/credit memos: balance, LinkedTxn, SyncToken (bill payments their bills)."""
        if name == "BillPayment":
            self._after_bill_payment(old, new)
            return
        if name != "Payment":
            return
        targets = set()
        for row in (old, new):
            for line in (row or {}).get("Line", []):
                link = line["LinkedTxn"][0]
                targets.add((link["TxnType"], link["TxnId"]))
        for txn_type, txn_id in sorted(targets):
            if txn_type in costs.LINK_TYPES:  # a purchase keeps no balance of its own
                continue
            target = self._rows[txn_type].get(txn_id)
            if target is None or target.get("_voided"):
                continue
            balance = target["TotalAmt"] - self._applied(txn_type, txn_id)
            links = self._links(txn_type, txn_id)
            if balance == target["Balance"] and links == target.get("LinkedTxn", []):
                continue
            updated = copy.deepcopy(target)
            updated["Balance"] = balance
            if txn_type == "CreditMemo":
                updated["RemainingCredit"] = balance
            if "HomeBalance" in updated:
                updated["HomeBalance"] = q2(balance * updated["ExchangeRate"])
            if links:
                updated["LinkedTxn"] = links
            else:
                updated.pop("LinkedTxn", None)
            self._bump(updated, target)
            self._rows[txn_type][txn_id] = updated
            self._notify(txn_type, txn_id, "Update")

    # -- rendering --------------------------------------------------------------

    def _entity(self, name: str) -> str:
        resolved = PATH_ENTITIES.get(name.lower())
        if resolved is None:
            raise KeyError(name)
        return resolved

    def _render(self, name: str, row: dict) -> dict:
        out = strip_private(row)  # a new dict and list at every level (the leaves are immutable): a copy already
        if name == "Customer":
            chain, cursor = [], row
            while cursor is not None:
                chain.append(cursor["DisplayName"])
                cursor = self._rows["Customer"].get(ref_value(cursor.get("ParentRef")) or "")
            out["FullyQualifiedName"] = ":".join(reversed(chain))
            out["Level"] = len(chain) - 1
            if out.get("ParentRef"):
                parent = self._rows["Customer"][out["ParentRef"]["value"]]
                out["ParentRef"] = {"value": parent["Id"], "name": parent["DisplayName"]}
            out["Balance"] = self._customer_balance(row["Id"])
            out["BalanceWithJobs"] = sum((self._customer_balance(cid) for cid in self._subtree(row["Id"])),
                                         Decimal("0.00"))
            if out.get("PrimaryTaxIdentifier"):  # QBO answers it masked: only the last four characters show
                tax_id = str(out["PrimaryTaxIdentifier"])
                out["PrimaryTaxIdentifier"] = "X" * max(len(tax_id) - 4, 0) + tax_id[-4:]
        elif name == "Item":
            out["FullyQualifiedName"] = out["Name"]
        elif name == "Preferences" and self._closing_date is not None:
            out.setdefault("AccountingInfoPrefs", {})["BookCloseDate"] = self._closing_date.isoformat()
        return out

    def _customer_balance(self, customer_id: str) -> Decimal:
        """Open invoices minus unused credit memos and unapplied payments."""
        total = Decimal("0.00")
        for name, field, sign in (("Invoice", "Balance", 1), ("CreditMemo", "RemainingCredit", -1),
                                  ("Payment", "UnappliedAmt", -1)):
            for row in self._rows[name].values():
                if ref_value(row.get("CustomerRef")) == customer_id:
                    total += sign * row.get(field, Decimal("0"))
        return total

    def _subtree(self, customer_id: str) -> list[str]:
        ids, frontier = [customer_id], [customer_id]
        while frontier:
            parent = frontier.pop()
            for row in self._rows["Customer"].values():
                if ref_value(row.get("ParentRef")) == parent:
                    ids.append(row["Id"])
                    frontier.append(row["Id"])
        return ids

    # -- query ------------------------------------------------------------------

    def query(self, text: str) -> dict:
        """Run a QBO query; returns the ``QueryResponse`` envelope body."""
        parsed = parse_query(text)
        name = PATH_ENTITIES.get(parsed.entity.lower())
        if name is None:
            raise query_error(f"Invalid entity name: {parsed.entity}")
        conditions = list(parsed.conditions)
        if name in NAME_LISTS and not any(c[0].lower() == "active" for c in conditions):
            conditions.append(("Active", "=", "true"))
        order = parsed.order or [("Id", False)]
        start = max(parsed.start, 1)
        window = slice(start - 1, start - 1 + min(parsed.max_results, 1000))
        with self.lock:
            stored = self._rows[name]
            picked = _by_id(stored, parsed.conditions)
            rendered = name in RENDERED or any(_private(f) for f, *_ in [*conditions, *order])
            if not conditions and order == [("Id", False)] and picked is None and not rendered:
                # A plain listing, page after page: sorted once per change, only the page's rows looked up.
                ids = self._id_order(name)
                if parsed.count:
                    return {"QueryResponse": {"totalCount": len(ids)}}
                page = [stored[i] for i in ids[window]]
            else:
                rows = stored.values() if picked is None else picked
                if rendered:
                    rows = [self._render(name, r) for r in rows]
                # else rendering only strips private fields: filter and sort stored rows, render only the page
                prepared = [(c, in_texts(c)) for c in conditions]
                rows = [r for r in rows if all(matches(r, c, texts) for c, texts in prepared)]
                for field, desc in reversed(order):
                    rows.sort(key=lambda r, f=field: sort_key(field_value(r, f)), reverse=desc)
                if parsed.count:
                    return {"QueryResponse": {"totalCount": len(rows)}}
                page = rows[window]
            if not rendered:
                page = [self._render(name, r) for r in page]
        if not page:
            return {"QueryResponse": {}}
        return {"QueryResponse": {name: page, "startPosition": start, "maxResults": len(page)}}

    def _id_order(self, name: str) -> list[str]:
        """Ids of ``name`` in query order (``sort_key`` of the Id), the order kept while the set of Ids stays the
        same (updates replace rows, not Ids): listing 100,000 rows in pages of 1,000 sorts them once, not once per
        page."""
        stored = self._rows[name]
        ids, order = self._id_orders.get(name, ((), []))
        if len(ids) != len(stored) or ids != stored.keys():
            order = sorted(stored, key=lambda i: sort_key(field_value(stored[i], "Id")))
            self._id_orders[name] = (set(order), order)
        return order

    # -- change data capture ----------------------------------------------------------

    def cdc(self, entities: str | None, changed_since: str | None) -> dict:
        """Objects of ``entities`` created, updated or deleted at or after ``changed_since`` (whole seconds).

        Grouped by entity in the order asked for, each group ordered by LastUpdatedTime with deletions last,
        at most 1000 objects in all: whatever does not fit is left out. Returns the ``CDCResponse`` envelope body.
        """
        names = self._cdc_entities(entities)
        since = self._cdc_since(changed_since)
        groups: list[dict] = []
        room = CDC_MAX_OBJECTS
        with self.lock:
            for name in names:
                live = self._cdc_changed(name, since)[:room]
                gone = self._cdc_deleted(name, since)[:room - len(live)]
                room -= len(live) + len(gone)
                found = [self._render(name, row) for row in live] + gone
                groups.append({name: found, "startPosition": 1, "maxResults": len(found)} if found else {})
        return {"CDCResponse": [{"QueryResponse": groups}]}

    def _cdc_entities(self, entities: str | None) -> list[str]:
        names: list[str] = []
        for raw in (entities or "").split(","):
            if not raw.strip():
                continue
            name = PATH_ENTITIES.get(raw.strip().lower())
            if name not in CDC_ENTITIES:
                raise unsupported(f"cdc for entity {raw.strip()}")
            if name not in names:
                names.append(name)
        if not names:
            raise required("entities")
        return names

    def _cdc_since(self, changed_since: str | None) -> dt.datetime:
        if not changed_since or not changed_since.strip():
            raise required("changedSince")
        try:
            since = parse_stamp(changed_since)
        except ValueError:
            raise invalid_param("changedSince", changed_since) from None
        if since.timestamp() < self.clock() - CDC_LOOKBACK_DAYS * 86400:
            raise unsupported(f"cdc with changedSince date {changed_since.strip()} which is older than fixed days")
        return since.replace(microsecond=0)

    def _cdc_changed(self, name: str, since: dt.datetime) -> list[dict]:
        rows = [r for r in self._rows[name].values() if parse_stamp(r["MetaData"]["LastUpdatedTime"]) >= since]
        rows.sort(key=lambda r: (parse_stamp(r["MetaData"]["LastUpdatedTime"]), id_key(r["Id"])))
        return rows

    def _cdc_deleted(self, name: str, since: dt.datetime) -> list[dict]:
        gone = [r for r in self._deleted[name].values() if parse_stamp(r["_deleted_at"]) >= since]
        gone.sort(key=lambda r: (parse_stamp(r["_deleted_at"]), id_key(r["Id"])))
        return [{"domain": "QBO", "status": "Deleted", "Id": r["Id"], "MetaData": {"LastUpdatedTime": r["_deleted_at"]}}
                for r in gone]

    # -- seed data ----------------------------------------------------------------

    def _seed(self) -> None:
        now = self.now_iso()
        meta = {"CreateTime": now, "LastUpdatedTime": now}

        def put(name: str, row: dict) -> None:
            row.update(SyncToken="0", MetaData=dict(meta), domain="QBO", sparse=False)
            self._rows[name][row["Id"]] = row

        accounts = [("1", "Sales", "Income", "SalesOfProductIncome", "Revenue"),
                    ("2", "Services", "Income", "ServiceFeeIncome", "Revenue"),
                    ("3", "Shipping Income", "Income", "OtherPrimaryIncome", "Revenue"),
                    ("4", "Fees", "Income", "ServiceFeeIncome", "Revenue"),
                    ("5", "Discounts given", "Income", "DiscountsRefundsGiven", "Revenue"),
                    ("6", "Undeposited Funds", "Other Current Asset", "UndepositedFunds", "Asset"),
                    ("7", "Checking", "Bank", "Checking", "Asset"),
                    ("8", "Accounts Receivable", "Accounts Receivable", "AccountsReceivable", "Asset"),
                    ("9", "Bank Charges", "Expense", "BankCharges", "Expense"),
                    ("10", "Card Clearing", "Other Current Asset", "OtherCurrentAssets", "Asset"),
                    ("11", "Company Visa", "Credit Card", "CreditCard", "Liability"),
                    ("12", "Shipping and Delivery", "Expense", "ShippingFreightDelivery", "Expense"),
                    ("13", "Supplies", "Expense", "SuppliesMaterials", "Expense"),
                    ("14", "Euro Card", "Credit Card", "CreditCard", "Liability"),
                    ("15", "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable", "Liability")]
        for acc_id, name, acc_type, sub_type, classification in accounts:
            put("Account", {"Id": acc_id, "Name": name, "FullyQualifiedName": name, "SubAccount": False,
                            "Active": True, "Classification": classification, "AccountType": acc_type,
                            "AccountSubType": sub_type, "CurrentBalance": Decimal("0"),
                            "CurrentBalanceWithSubAccounts": Decimal("0"),
                            "CurrencyRef": {"value": "EUR" if name.startswith("Euro") else "USD",
                                            "name": CURRENCY_NAMES["EUR" if name.startswith("Euro") else "USD"]}})
        self._seq["Account"] = len(accounts)
        for rate_id, name, value in (("1", "Sales Tax", "8"), ("2", "GST", "10"), ("3", "Exempt", "0")):
            put("TaxRate", {"Id": rate_id, "Name": name, "Description": name, "Active": True,
                            "RateValue": Decimal(value), "AgencyRef": {"value": "1"},
                            "SpecialTaxType": "NONE", "DisplayType": "ReadOnly"})

        def rates(*rate_ids: str) -> dict:
            return {"TaxRateDetail": [{"TaxRateRef": {"value": r, "name": self._rows["TaxRate"][r]["Name"]},
                                       "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0} for r in rate_ids]}

        for code_id, name, taxable, rate_ids in (("TAX", "TAX", True, ("1",)), ("NON", "NON", False, ()),
                                                  ("3", "GST 10%", True, ("2",)), ("4", "Exempt", False, ("3",))):
            put("TaxCode", {"Id": code_id, "Name": name, "Description": name, "Active": True, "Hidden": False,
                            "Taxable": taxable, "TaxGroup": False, "SalesTaxRateList": rates(*rate_ids),
                            "PurchaseTaxRateList": {"TaxRateDetail": []}})
        for class_id, name, active in (("1", "Retail", True), ("2", "Wholesale", True), ("3", "Old class", False)):
            put("Class", {"Id": class_id, "Name": name, "FullyQualifiedName": name, "SubClass": False,
                          "Active": active})
        for dept_id, name in (("1", "Downtown"), ("2", "Online")):
            put("Department", {"Id": dept_id, "Name": name, "FullyQualifiedName": name, "SubDepartment": False,
                               "Active": True})
        for index, code in enumerate(("CAD", "EUR", "GBP", "AUD"), start=1):
            put("CompanyCurrency", {"Id": str(index), "Code": code, "Name": CURRENCY_NAMES[code], "Active": True})
        put("CompanyInfo", {"Id": "1", "CompanyName": "Sandbox Company US", "LegalName": "Sandbox Company US",
                            "Country": "US", "SupportedLanguages": "en", "FiscalYearStartMonth": "January",
                            "CompanyAddr": {"Line1": "123 Sierra Way", "City": "San Pablo",
                                            "CountrySubDivisionCode": "CA", "PostalCode": "87999"},
                            "CompanyStartDate": now[:10]})
        put("Preferences", {"Id": "1",
                            "CurrencyPrefs": {"MultiCurrencyEnabled": True,
                                              "HomeCurrency": {"value": HOME_CURRENCY}},
                            "SalesFormsPrefs": {"CustomTxnNumbers": True, "AllowDiscount": True,
                                                "AllowShipping": False},
                            "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": False}})


#: QBO's pseudo-item for the shipping box on sales forms, valid when ``SalesFormsPrefs.AllowShipping`` is on.
SHIPPING_ITEM_ID = "SHIPPING_ITEM_ID"

#: Entities whose rendering adds fields (computed names, balances, preferences): queried as rendered.
RENDERED = ("Customer", "Item", "Preferences")


def _private(path: str) -> bool:
    """A field path that names a private (stored, never rendered) field: such a query looks at rendered rows."""
    return any(part.startswith("_") for part in path.split("."))


def _by_id(stored: dict[str, dict], conditions) -> list[dict] | None:
    """The rows an ``Id = x`` or ``Id IN (...)`` condition can match, looked up by key rather than scanned (the
    condition itself is still applied afterwards); None when no condition names the Id."""
    for field, op, wanted in conditions:
        if field.lower() == "id" and op in ("=", "in"):
            ids = wanted if op == "in" else [wanted]
            return [stored[key] for key in dict.fromkeys(str(w) for w in ids) if key in stored]
    return None


def _payment_line(line: Any, where: str) -> tuple[Decimal, str, str]:
    """A payment line's amount and the one transaction it links (id, type), checked as QBO checks them."""
    if not isinstance(line, dict):
        raise QBOFault("2010", "Request has invalid or unsupported property", f"{where} is not an object")
    if line.get("Amount") in (None, ""):
        raise required(f"{where}.Amount")
    amount = q2(to_decimal(line["Amount"], f"{where}.Amount"))
    links = line.get("LinkedTxn")
    if not isinstance(links, list) or len(links) != 1 or not isinstance(links[0], dict):
        raise required(f"{where}.LinkedTxn")
    txn_id, txn_type = ref_value(links[0].get("TxnId")), links[0].get("TxnType")
    if txn_type not in ("Invoice", "CreditMemo", *costs.LINK_TYPES):
        raise bad_enum(f"{where}.LinkedTxn.TxnType", txn_type)
    if txn_id is None:
        raise required(f"{where}.LinkedTxn.TxnId")
    return amount, txn_id, txn_type

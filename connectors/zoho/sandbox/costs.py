"""Money going the other way in the Zoho Books sandbox: refunds of credit notes, expenses and manual journals.

- ``/creditnotes/{id}/refunds`` (``GET`` list, ``POST``), ``/creditnotes/{id}/refunds/{creditnote_refund_id}``
  (``GET``, ``PUT``, ``DELETE``) and ``GET /creditnotes/refunds`` (every refund): a refund pays part or all of a
  credit note's balance back from a cash, bank or credit-card account (``from_account_id``) and lowers its
  balance; deleting it gives the credit back. Fields as Zoho's credit-note refund object (``creditnote_refund_id``,
  ``refund_mode``, ``reference_number``, ``amount_fcy`` / ``amount_bcy``, ``from_account_id``...).
- ``/expenses``: an expense on an expense account (``account_id``, or itemized ``line_items``), paid through a
  cash, bank or credit-card account (``paid_through_account_id``), with Zoho's tax from ``tax_id``, in a currency
  (``currency_id``, ``exchange_rate``), for a vendor (``vendor_id``). Deleted, never voided.
- ``/bills``: a supplier's bill (accounts payable) for a vendor contact (``vendor_id``), numbered by the supplier
  (``bill_number``, required, one per vendor), with ``reference_number``, ``date``, ``due_date``, a currency
  (``currency_id``, ``exchange_rate``) and ``line_items`` on accounts (``account_id``, ``rate``, ``quantity``,
  ``tax_id``); open (balance = total) until paid; voided (``POST /bills/{id}/status/void``) or deleted.
- ``/journals``: a manual journal (``journal_date``, ``reference_number``, ``notes``, ``line_items`` with
  ``account_id``, ``amount`` and ``debit_or_credit``) that must balance. Deleted, never voided.

The sources and guesses are listed in docs/sandbox-zoho.md ("Refunds, expenses and journals").
"""
from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from ...sandboxkit.platform import Request, Response
from ...sandboxkit.resources import Row
from .wire import CENT, REFUSED, ZERO, ZohoError, invalid, money

#: Accounts money can be paid from: a refund's ``from_account_id``, an expense's ``paid_through_account_id``.
PAYING = frozenset({"cash", "bank", "credit_card", "other_current_asset"})
REFUND_MODES = frozenset({"cash", "check", "creditcard", "banktransfer", "bankremittance", "autotransaction",
                          "others"})


class ZohoCosts:
    """Mixed into ``ZohoSandbox``: the refund, expense and journal routes and rules. ``entries`` numbers journals
    (restarted by the sandbox's ``seed``)."""

    entries = itertools.count(1)

    # -- refunds of a credit note -----------------------------------------------------------------------------------
    def refunds(self, req: Request, note_id: str, refund_id: str | None) -> Response:
        with self.store.lock:
            note = self.store.get("creditnotes", note_id)
            if refund_id is None and req.method == "GET":
                rows = [self._render_refund(r) for r in self.store.rows("creditnote_refunds")
                        if r.data["creditnote_id"] == note_id]
                return self._ok("", {"creditnote_refunds": rows, "page_context": _one_page(len(rows))})
            if refund_id is None and req.method == "POST":
                row = self.store.create("creditnote_refunds", self._refund(note, self._body(req), ZERO))
                self._settle_note(note_id)
                return self._ok("The refund information for this credit note has been saved.",
                                {"creditnote_refund": self._render_refund(row)}, 201)
            row = self.store.find("creditnote_refunds", refund_id or "")
            if row is None or row.data["creditnote_id"] != note_id:
                raise ZohoError(404, 1002, "The refund does not exist.")
            if req.method == "GET":
                return self._ok("", {"creditnote_refund": self._render_refund(row)})
            if req.method == "PUT":
                data = self._refund(note, {**row.data, **self._body(req)}, row.data["amount_fcy"])
                row = self.store.update("creditnote_refunds", refund_id, data)
                self._settle_note(note_id)
                return self._ok("The credit note refund information has been updated.",
                                {"creditnote_refund": self._render_refund(row)})
            if req.method == "DELETE":
                self.store.delete("creditnote_refunds", refund_id)
                self._settle_note(note_id)
                return self._ok("The refund has been deleted.", {})
        raise ZohoError(405, 5, "Invalid URL Passed")

    def all_refunds(self) -> Response:
        """``GET /creditnotes/refunds``: every credit-note refund of the organisation."""
        rows = [self._render_refund(r) for r in self.store.rows("creditnote_refunds")]
        return self._ok("", {"creditnote_refunds": rows, "page_context": _one_page(len(rows))})

    def refunded(self, note_id: str) -> Decimal:
        return self.store.total("creditnote_refunds", "amount_fcy", creditnote_id=note_id)

    def _refund(self, note: Row, body: dict, before: Decimal) -> dict:
        """A refund of ``note`` checked as Zoho does: an open credit note, a positive amount no more than its
        balance (plus what this refund already took, on an update), a paying account."""
        data = note.data
        if data["status"] == "void":
            raise ZohoError(400, REFUSED, "Refunds cannot be recorded for a void credit note.")
        amount = money(body.get("amount", body.get("amount_fcy")), "amount").quantize(CENT)
        if amount <= 0:
            raise invalid("amount")
        if amount > data["balance"] + before:
            raise ZohoError(400, REFUSED, "The amount entered is more than the balance of the credit note.")
        account = self._paying_account(body.get("from_account_id"), "from_account_id")
        mode = str(body.get("refund_mode") or "cash")
        if mode not in REFUND_MODES:
            raise invalid("refund_mode")
        rate = money(body.get("exchange_rate"), "exchange_rate", data["exchange_rate"])
        return {"creditnote_id": note.id, "creditnote_number": data["creditnote_number"],
                "customer_id": data["customer_id"], "customer_name": data["customer_name"],
                "date": body.get("date") or self.today(), "refund_mode": mode,
                "reference_number": str(body.get("reference_number") or "")[:100],
                "description": str(body.get("description") or ""), "from_account_id": account.id,
                "from_account_name": account.data["account_name"], "exchange_rate": rate,
                "currency_code": data["currency_code"], "amount_fcy": amount,
                "amount_bcy": (amount * rate).quantize(CENT)}

    @staticmethod
    def _render_refund(row: Row) -> dict:
        return row.public("creditnote_refund_id")

    # -- expenses ---------------------------------------------------------------------------------------------------
    def _expenses(self, data: dict, old: dict, params: dict) -> dict:
        """An expense, itemized (``line_items``) or on one account (``account_id``, ``amount``, ``tax_id``); tax
        per line from its ``tax_id``, exclusive unless ``is_inclusive_tax``; totals in its currency and the base."""
        inclusive = bool(data.get("is_inclusive_tax"))
        raw = data.get("line_items")
        if not raw:
            raw = [{"account_id": data.get("account_id"), "amount": data.get("amount"), "tax_id": data.get("tax_id"),
                    "description": data.get("description", "")}]
        lines, sub_total, tax_total = [], ZERO, ZERO
        for i, line in enumerate(raw):
            account = self.store.require("chartofaccounts", line.get("account_id"), invalid("account_id"))
            self._account(account.id)
            amount = money(line.get("amount"), "amount").quantize(CENT)
            if amount <= 0:
                raise invalid("amount")
            tax = self.store.require("taxes", line["tax_id"], invalid("tax_id")) if line.get("tax_id") else None
            pct = tax.data["tax_percentage"] if tax else ZERO
            tax_amount = (amount * pct / (100 + pct) if inclusive else amount * pct / 100).quantize(CENT)
            net = amount - tax_amount if inclusive else amount
            sub_total, tax_total = sub_total + net, tax_total + tax_amount
            lines.append({"line_item_id": line.get("line_item_id") or str(next(self._line_ids)),
                          "account_id": account.id, "account_name": account.data["account_name"],
                          "description": str(line.get("description") or ""), "amount": amount,
                          "tax_id": tax.id if tax else "", "tax_name": tax.data["tax_name"] if tax else "",
                          "tax_percentage": pct, "tax_amount": tax_amount, "item_total": net,
                          "item_order": line.get("item_order", i + 1)})
        paid = self._paying_account(data.get("paid_through_account_id"), "paid_through_account_id")
        currency = self.store.require("currencies", data["currency_id"], invalid("currency_id")) if data.get(
            "currency_id") else self._named("currencies", "currency_code", self.organization()["currency_code"])
        rate = money(data.get("exchange_rate"), "exchange_rate", currency.data["exchange_rate"])
        vendor = self.store.require("contacts", data["vendor_id"], ZohoError(400, 1002, "Vendor does not exist.")) \
            if data.get("vendor_id") else None
        total = sub_total + tax_total
        first = lines[0]
        return {**data, "date": data.get("date") or self.today(), "account_id": first["account_id"],
                "account_name": first["account_name"], "amount": sum((li["amount"] for li in lines), ZERO),
                "tax_id": first["tax_id"], "tax_name": first["tax_name"], "tax_percentage": first["tax_percentage"],
                "line_items": lines, "is_inclusive_tax": inclusive, "sub_total": sub_total, "tax_amount": tax_total,
                "total": total, "bcy_total": (total * rate).quantize(CENT), "paid_through_account_id": paid.id,
                "paid_through_account_name": paid.data["account_name"], "currency_id": currency.id,
                "currency_code": currency.data["currency_code"], "exchange_rate": rate,
                "vendor_id": vendor.id if vendor else "", "vendor_name": vendor.data["contact_name"] if vendor else "",
                "reference_number": str(data.get("reference_number") or "")[:100],
                "description": str(data.get("description") or ""), "status": "nonbillable", "is_billable": False}

    # -- supplier bills ------------------------------------------------------------------------------------------------
    def _bills(self, data: dict, old: dict, params: dict) -> dict:
        """A bill: a vendor, its bill number (not twice for one vendor), lines on accounts taxed per line from
        their ``tax_id`` (exclusive unless ``is_inclusive_tax``); open with its balance the total (no payments
        are recorded against bills here); a void bill is not edited."""
        if old.get("status") == "void":
            raise ZohoError(400, REFUSED, "The bill is void and cannot be edited.")
        vendor = self.store.require("contacts", data.get("vendor_id"), ZohoError(400, 1002, "Vendor does not exist.")) \
            if data.get("vendor_id") else None
        if vendor is None:
            raise invalid("vendor_id")
        number = str(data.get("bill_number") or "").strip()
        if not number:
            raise invalid("bill_number")
        same = old and old.get("vendor_id") == vendor.id and str(old.get("bill_number")).casefold() == number.casefold()
        if not same and any(r.data["vendor_id"] == vendor.id and str(r.data["bill_number"]).casefold()
                            == number.casefold() for r in self.store.rows("bills")):
            raise ZohoError(400, 1001, f'Bill "{number}" already exists for this vendor.')
        raw = data.get("line_items")
        if not isinstance(raw, list) or not raw:
            raise invalid("line_items")
        inclusive = bool(data.get("is_inclusive_tax"))
        lines, sub_total, tax_total = [], ZERO, ZERO
        for i, line in enumerate(raw):
            account = self.store.require("chartofaccounts", line.get("account_id"), invalid("account_id"))
            self._account(account.id)
            rate = money(line.get("rate"), "rate", ZERO)
            quantity = money(line.get("quantity"), "quantity", Decimal("1"))
            amount = (rate * quantity).quantize(CENT)
            tax = self.store.require("taxes", line["tax_id"], invalid("tax_id")) if line.get("tax_id") else None
            pct = tax.data["tax_percentage"] if tax else ZERO
            tax_amount = (amount * pct / (100 + pct) if inclusive else amount * pct / 100).quantize(CENT)
            sub_total += amount - tax_amount if inclusive else amount
            tax_total += tax_amount
            lines.append({"line_item_id": line.get("line_item_id") or str(next(self._line_ids)),
                          "account_id": account.id, "account_name": account.data["account_name"],
                          "description": str(line.get("description") or ""), "rate": rate, "quantity": quantity,
                          "tax_id": tax.id if tax else "", "tax_name": tax.data["tax_name"] if tax else "",
                          "tax_percentage": pct, "item_total": amount, "item_order": line.get("item_order", i + 1)})
        currency = self.store.require("currencies", data["currency_id"], invalid("currency_id")) if data.get(
            "currency_id") else self.store.get("currencies", vendor.data["currency_id"]) if vendor.data.get(
            "currency_id") else self._named("currencies", "currency_code", self.organization()["currency_code"])
        rate = money(data.get("exchange_rate"), "exchange_rate", currency.data["exchange_rate"])
        total = sub_total + tax_total
        day = data.get("date") or self.today()
        return {**data, "vendor_id": vendor.id, "vendor_name": vendor.data["contact_name"], "bill_number": number,
                "reference_number": str(data.get("reference_number") or "")[:100], "date": day,
                "due_date": data.get("due_date") or day, "currency_id": currency.id,
                "currency_code": currency.data["currency_code"], "exchange_rate": rate, "line_items": lines,
                "is_inclusive_tax": inclusive, "sub_total": sub_total, "tax_total": tax_total, "total": total,
                "balance": total, "payment_made": ZERO, "status": "open", "notes": str(data.get("notes") or "")}

    def void_bill_as_user(self, bill_id: str) -> dict:
        """A bill voided in Zoho Books (Bills, the bill, Void)."""
        self.void("bills", bill_id)
        return {"bill_id": bill_id, "status": "void"}

    # -- manual journals ----------------------------------------------------------------------------------------------
    def _journals(self, data: dict, old: dict, params: dict) -> dict:
        """A manual journal: two lines or more, each a debit or a credit on an active account, the debits equal
        to the credits; its total is the debits."""
        raw = data.get("line_items")
        if not isinstance(raw, list) or len(raw) < 2:
            raise invalid("line_items")
        lines, sides = [], {"debit": ZERO, "credit": ZERO}
        for line in raw:
            account = self.store.require("chartofaccounts", line.get("account_id"), invalid("account_id"))
            self._account(account.id)
            side = str(line.get("debit_or_credit") or "")
            if side not in sides:
                raise invalid("debit_or_credit")
            amount = money(line.get("amount"), "amount").quantize(CENT)
            if amount <= 0:
                raise invalid("amount")
            sides[side] += amount
            lines.append({"line_id": line.get("line_id") or str(next(self._line_ids)), "account_id": account.id,
                          "account_name": account.data["account_name"], "debit_or_credit": side, "amount": amount,
                          "description": str(line.get("description") or "")})
        if sides["debit"] != sides["credit"]:
            raise ZohoError(400, REFUSED, "Please ensure that the debits and credits are equal.")
        currency = self.store.require("currencies", data["currency_id"], invalid("currency_id")) if data.get(
            "currency_id") else self._named("currencies", "currency_code", self.organization()["currency_code"])
        status = str(data.get("status") or "published")
        if status not in ("draft", "published"):
            raise invalid("status")
        return {**data, "journal_date": data.get("journal_date") or self.today(),
                "entry_number": old.get("entry_number") or str(next(self.entries)),
                "reference_number": str(data.get("reference_number") or "")[:100],
                "notes": str(data.get("notes") or ""), "journal_type": data.get("journal_type") or "both",
                "currency_id": currency.id, "currency_code": currency.data["currency_code"],
                "exchange_rate": money(data.get("exchange_rate"), "exchange_rate", currency.data["exchange_rate"]),
                "line_items": lines, "line_item_total": sides["debit"], "total": sides["debit"], "status": status}

    # -- what a bookkeeper does in Zoho Books -------------------------------------------------------------------------
    def delete_refund_as_user(self, refund_id: str) -> dict:
        """The credit note's refund deleted from its refund history (Zoho has no void for one): the credit comes
        back to the note. ``refund_id`` is the refund's own id, or the connector's ``<creditnote_id>:<refund id>``."""
        own_id = str(refund_id).rpartition(":")[2]
        with self.store.lock:
            row = self.store.get("creditnote_refunds", own_id)
            self.store.delete("creditnote_refunds", own_id)
            self._settle_note(row.data["creditnote_id"])
        return {"creditnote_refund_id": own_id, "deleted": True}

    def delete_expense_as_user(self, expense_id: str) -> dict:
        """An expense deleted (Zoho voids none): gone from the list and from a read by id (1002)."""
        self.delete("expenses", expense_id)
        return {"expense_id": expense_id, "deleted": True}

    def delete_journal_as_user(self, journal_id: str) -> dict:
        """A manual journal deleted (Zoho voids none)."""
        self.delete("journals", journal_id)
        return {"journal_id": journal_id, "deleted": True}

    # -- references ---------------------------------------------------------------------------------------------------
    def _paying_account(self, account_id: Any, field: str) -> Row:
        if not account_id:
            raise invalid(field)
        row = self._account(account_id)
        if row.data["account_type"] not in PAYING:
            raise ZohoError(400, 2, f"Invalid value passed for {field}: {row.data['account_name']} is not a cash, "
                                    "bank or credit card account.")
        return row


def _one_page(count: int) -> dict:
    return {"page": 1, "per_page": max(200, count), "has_more_page": False}

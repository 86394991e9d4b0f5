"""Accounts payable in the Bill.com sandbox: vendors, bills and AP payments recorded as made outside Bill.com.

- ``vendors`` (create, read, PATCH, list, ``/{id}/archive``): ``name`` (required, at most 100 characters),
  ``accountType`` (BUSINESS, PERSON or NONE), ``email``; ids begin with ``009``. Address and bank details are
  only needed to pay a vendor through Bill.com ("Create a US vendor"), which the sandbox does not do.
- ``bills`` (create, read, PATCH, list, ``/{id}/archive``): ``vendorId``, ``dueDate``, ``invoice``
  (``invoiceNumber``, ``invoiceDate``), ``description``, ``payFromChartOfAccountId`` (the account the payment is
  made from) and ``billLineItems`` (``amount``, ``description``, ``classifications.chartOfAccountId``). Bill.com
  answers with ``amount`` (the total), ``dueAmount``, ``paidAmount`` and ``paymentStatus`` (UNPAID, PARTIAL,
  PAID); ids begin with ``00n``. A bill's total cannot fall below what was paid on it.
- ``POST bills/record-payment``: ``vendorId``, ``processDate``, ``payments`` (``billId``, ``amount``): each amount
  at most the bill's due amount, every bill the vendor's. Bill.com moves no money: the bills' due amounts fall.

Field names from developer.bill.com ("Bills", "Record AP payments", "Create a US vendor" and the changelogs of
2024-12-26 and 2025-01-31 for ``payFromChartOfAccountId`` / ``chartOfAccountId`` on bills). The answer of
``record-payment``, the ``sentPay`` id prefix, the ``paidAmount`` field, the rule that a bill total stays at or
above what was paid, and that a paid bill may be archived are guesses (docs/sandbox-billcom.md).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ...sandboxkit.resources import Row

ZERO = Decimal("0.00")
VENDOR_TYPES = ("BUSINESS", "PERSON", "NONE")


class BillcomPayables:
    """Mixed into ``BillcomSandbox``: the rules of vendors, bills and recorded AP payments (``invalid``, ``money``
    and ``cents`` are the server's)."""

    def vendor_fields(self, body: dict) -> dict:
        name = str(body.get("name") or "").strip()
        if not name or len(name) > 100:
            raise self.invalid("name is required (at most 100 characters).")
        kind = body.get("accountType") or "NONE"
        if kind not in VENDOR_TYPES:
            raise self.invalid(f"accountType must be one of {', '.join(VENDOR_TYPES)}.")
        return {"name": name, "accountType": kind, "email": body.get("email"),
                "archived": bool(body.get("archived", False))}

    def bill_fields(self, body: dict, paid: Decimal) -> dict:
        vendor = self.store.require("vendors", body.get("vendorId"), self.invalid("vendorId is invalid."))
        if vendor.data.get("archived"):
            raise self.invalid("The vendor is archived.")
        invoice = body.get("invoice") or {}
        number = str(invoice.get("invoiceNumber") or "").strip()
        if not number:
            raise self.invalid("invoice.invoiceNumber is required.")
        for field, value in (("dueDate", body.get("dueDate")), ("invoice.invoiceDate", invoice.get("invoiceDate"))):
            try:
                dt.date.fromisoformat(str(value or ""))
            except ValueError:
                raise self.invalid(f"{field} is required in the yyyy-MM-dd format.") from None
        pay_from = body.get("payFromChartOfAccountId")
        if pay_from is not None:
            self.active_account(pay_from, "payFromChartOfAccountId")
        lines = body.get("billLineItems")
        if not isinstance(lines, list) or not lines:
            raise self.invalid("billLineItems is required.")
        stored = []
        for i, line in enumerate(lines):
            amount = self.cents(self.money(line.get("amount"), f"billLineItems[{i}].amount"))
            account = (line.get("classifications") or {}).get("chartOfAccountId")
            if account is not None:
                self.active_account(account, f"billLineItems[{i}].classifications.chartOfAccountId")
            stored.append({"id": line.get("id") or f"0bl01{i + 1:010d}", "amount": amount,
                           "description": line.get("description"),
                           **({"classifications": {"chartOfAccountId": str(account)}} if account else {})})
        total = sum((line["amount"] for line in stored), ZERO)
        if total < paid:
            raise self.invalid("The bill amount cannot be less than the amount already paid.")
        due = total - paid
        return {"vendorId": vendor.id, "invoice": {"invoiceNumber": number, "invoiceDate": invoice["invoiceDate"]},
                "dueDate": body["dueDate"], "description": body.get("description"),
                **({"payFromChartOfAccountId": str(pay_from)} if pay_from else {}),
                "billLineItems": stored, "amount": total, "paidAmount": paid, "dueAmount": due,
                "paymentStatus": payment_status(total, due), "archived": bool(body.get("archived", False))}

    def active_account(self, account: Any, field: str) -> Row:
        row = self.store.find("chart-of-accounts", str(account))
        if row is None or row.data.get("archived"):
            raise self.invalid(f"{field} {account} is invalid.")
        return row

    def record_ap_payment(self, body: dict) -> dict:
        vendor = self.store.require("vendors", body.get("vendorId"), self.invalid("vendorId is invalid."))
        try:
            dt.date.fromisoformat(str(body.get("processDate") or ""))
        except ValueError:
            raise self.invalid("processDate is required in the yyyy-MM-dd format.") from None
        payments = body.get("payments")
        if not isinstance(payments, list) or not payments:
            raise self.invalid("payments is required.")
        with self.store.lock:
            rows = []
            for i, item in enumerate(payments):
                bill = self.store.require("bills", item.get("billId"),
                                          self.invalid(f"payments[{i}].billId is invalid."))
                if bill.data["vendorId"] != vendor.id:
                    raise self.invalid("The listed bills must belong to the same vendor.")
                if bill.data.get("archived"):
                    raise self.invalid(f"payments[{i}].billId is archived.")
                part = self.cents(self.money(item.get("amount"), f"payments[{i}].amount"))
                if part <= 0 or part > bill.data["dueAmount"]:
                    raise self.invalid(f"payments[{i}].amount is more than the bill's due amount.")
                rows.append((bill, part))
            for bill, part in rows:
                self.pay_bill(bill, part)
            sent = self.store.create("sent-payments", {
                "vendorId": vendor.id, "processDate": body["processDate"],
                "toPrintCheck": bool(body.get("toPrintCheck")),
                "amount": sum((part for _, part in rows), ZERO),
                "payments": [{"billId": bill.id, "amount": part} for bill, part in rows]})
        return self.show("sent-payments", sent)

    def pay_bill(self, bill: Row, amount: Decimal) -> None:
        """Raise (positive ``amount``) or lower what was paid on a bill, and set its status."""
        data = bill.data
        paid, due = data["paidAmount"] + amount, data["dueAmount"] - amount
        self.store.update("bills", bill.id, {"paidAmount": paid, "dueAmount": due,
                                             "paymentStatus": payment_status(data["amount"], due)})

    # -- what a person does in Bill.com's web app -------------------------------------------------------------------
    def edit_bill_line_as_user(self, bill_id: str, line: int, amount: Any) -> dict:
        """A line's amount typed over; what was paid stays (the bill then has an amount due, or is refused when
        its total would fall below what was paid)."""
        bill = self.store.get("bills", bill_id)
        lines = [dict(item) for item in bill.data["billLineItems"]]
        lines[int(line)]["amount"] = Decimal(str(amount))
        return self.patch("bills", bill_id, {"billLineItems": lines})

    def archive_bill_as_user(self, bill_id: str) -> dict:
        return self.show("bills", self.store.update("bills", bill_id, {"archived": True}))

    def delete_bill_as_user(self, bill_id: str) -> dict:
        """Bill.com deletes nothing: a person archives the bill."""
        return self.archive_bill_as_user(bill_id)


def payment_status(total: Decimal, due: Decimal) -> str:
    return "PAID" if due == 0 and total else "UNPAID" if due == total else "PARTIAL"

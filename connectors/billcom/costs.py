"""Expenses as Bill.com's accounts payable models them (field names from developer.bill.com: "Bills", "Record AP
payments", "Create a US vendor"). Pure: no I/O.

- **Expense**: Bill.com has no spend-money record; a cost paid on the spot is a bill for the payee (a vendor,
  ``POST /v3/vendors`` by name when Bill.com has none of that name) recorded as paid outside Bill.com. The bill
  (``POST /v3/bills``): ``vendorId``, ``invoice`` with our number as ``invoiceNumber`` and our date as
  ``invoiceDate``, ``dueDate`` the same day, ``description`` (our memo, and the receipt's name),
  ``payFromChartOfAccountId`` (the mapped paid-from account) and one ``billLineItems`` entry per our line
  (``amount`` before tax, ``description``, ``classifications.chartOfAccountId`` the mapped expense account). Bill.com
  bills carry no tax: our tax travels as a last line "Tax" on no account, as our sales tax does on invoices. Then
  ``POST /v3/bills/record-payment`` (``vendorId``, ``processDate``, ``payments`` ``[{billId, amount}]``) pays what
  is due: Bill.com moves no money for a recorded payment.
- Edited: the bill's lines are replaced (``PATCH``) and what it then has due is recorded as paid; a bill whose new
  total is below what was paid is refused by Bill.com (staff change it there). Voided or deleted: the bill is
  archived (Bill.com voids and deletes no bill). Polled like the AR documents (``bills`` filtered
  ``updatedTime:gte``): an archived bill is a deleted expense.
- **Supplier bill**: the same ``POST /v3/bills`` for the supplier (a vendor found or made by name as for an
  expense), ``invoice.invoiceNumber`` the supplier's bill number (ours when it has none), ``invoiceDate`` the
  bill's date, ``dueDate`` its due date, ``description`` our number and memo (and the attachment's name), the
  lines on the mapped expense accounts and the tax as a last line "Tax"; no ``payFromChartOfAccountId`` and no
  recorded payment: the bill stays UNPAID, ``dueAmount`` its ``amount``. Edited: its lines replaced (``PATCH``);
  voided or deleted: archived. Bill.com takes a second bill with the same invoice number (its changelog of
  2024-05-20), so a create first looks for the vendor's live bill with that number.
- Refunds and journals are not sent: Bill.com pays no customer credit out and keeps no general ledger
  (docs/connectors/billcom.md).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..base import DocumentTotals
from ..documents import BillSnapshot, Entity, ExpenseSnapshot, Mapping, RemoteResult
from ..rest import clean, content_hash, iso_date, money, parse_time

BILLS, VENDORS, RECORD_PAYMENT = "bills", "vendors", "bills/record-payment"
TAX_LINE = "Tax"
DESCRIPTION_LENGTH = 4000  # as the AR documents' description (a guess: Bill.com names no limit for bills)
NUMBER_LENGTH = 21  # as an invoice number (a guess for a bill's invoiceNumber)
NAME_LENGTH = 100
EDITABLE = ("vendorId", "dueDate", "description", "payFromChartOfAccountId")
LINE_FIELDS = ("amount", "description")
ZERO = Decimal("0.00")


def vendor_payload(payee: str) -> dict:
    """A vendor for the payee: its name only (an address and bank details are for paying it through Bill.com)."""
    return {"name": payee[:NAME_LENGTH], "accountType": "BUSINESS"}


def vendor_name(doc: ExpenseSnapshot | BillSnapshot) -> str:
    """The vendor's name: an expense's payee, a supplier bill's supplier."""
    return (doc.supplier if isinstance(doc, BillSnapshot) else doc.payee).strip()[:NAME_LENGTH]


def expense_problems(doc: ExpenseSnapshot) -> list[str]:
    if not vendor_name(doc):
        return ["a Bill.com bill is for a vendor: this expense names no payee; add the payee, or record the expense "
                "in Bill.com by hand"]
    return []


def bill_number(doc: ExpenseSnapshot | BillSnapshot) -> str:
    """The bill's ``invoice.invoiceNumber``: an expense's our number; a supplier bill's the supplier's number,
    else ours."""
    if isinstance(doc, BillSnapshot):
        return (doc.supplier_reference.strip() or doc.number)[:NUMBER_LENGTH]
    return doc.number[:NUMBER_LENGTH]


def bill_payload(doc: BillSnapshot, mapping: Mapping, vendor_id: str) -> dict:
    """A supplier bill left unpaid: no paid-from account (Bill.com's payment would name one), due on its due date
    (the bill's date when it has none)."""
    notes = [f"Bill {doc.number}", doc.memo, f"Attachment: {doc.attachment}" if doc.attachment else ""]
    day = iso_date(doc.issue_date)
    return clean({"vendorId": vendor_id, "invoice": {"invoiceNumber": bill_number(doc), "invoiceDate": day},
                  "dueDate": iso_date(doc.due_date) if doc.due_date else day,
                  "description": " — ".join(n for n in notes if n)[:DESCRIPTION_LENGTH],
                  "billLineItems": lines_of(doc, mapping)})


def lines_of(doc: ExpenseSnapshot | BillSnapshot, mapping: Mapping) -> list[dict]:
    lines = [clean({"amount": line.net_amount,
                    "description": (line.description or line.cost_kind.replace("_", " "))[:DESCRIPTION_LENGTH],
                    "classifications": {"chartOfAccountId": mapping.line_accounts[i]}
                    if i < len(mapping.line_accounts) and mapping.line_accounts[i] else None})
             for i, line in enumerate(doc.lines)]
    if doc.tax_total:
        lines.append({"amount": doc.tax_total, "description": TAX_LINE})
    return lines


def expense_payload(doc: ExpenseSnapshot, mapping: Mapping, vendor_id: str) -> dict:
    lines = lines_of(doc, mapping)
    notes = [doc.memo, f"Receipt: {doc.attachment}" if doc.attachment else ""]
    day = iso_date(doc.date)
    return clean({"vendorId": vendor_id, "invoice": {"invoiceNumber": doc.number[:NUMBER_LENGTH], "invoiceDate": day},
                  "dueDate": day, "description": (" — ".join(n for n in notes if n) or None),
                  "payFromChartOfAccountId": mapping.deposit_account or None, "billLineItems": lines})


def payment_payload(bill: dict, date: dt.date | None) -> dict:
    """What is due on ``bill``, recorded as paid on ``date``."""
    return {"vendorId": bill["vendorId"], "processDate": iso_date(date or dt.date.today()), "toPrintCheck": False,
            "payments": [{"billId": bill["id"], "amount": money(bill.get("dueAmount"))}]}


def due(bill: dict) -> Decimal:
    return money(bill.get("dueAmount")) or ZERO


def number(bill: dict) -> str:
    return str((bill.get("invoice") or {}).get("invoiceNumber") or "")


def fingerprint(bill: dict, entity: str = Entity.EXPENSE) -> str:
    return content_hash(entity, bill, EDITABLE, LINE_FIELDS, lines="billLineItems",
                        extra=[number(bill), str((bill.get("invoice") or {}).get("invoiceDate") or "")])


def modified(bill: dict) -> str:
    return str(bill.get("updatedTime") or bill.get("createdTime") or "")


def result(bill: dict, adopted: bool = False, entity: str = Entity.EXPENSE) -> RemoteResult:
    """A bill as our expense: its total, archived as deleted (Bill.com voids no bill). No balance: an expense has
    none of its own to pay (what is left due on the bill shows in Bill.com). As a supplier bill: its balance is
    its ``dueAmount``."""
    total = money(bill.get("amount"))
    mark = fingerprint(bill, entity)
    balance = due(bill) if entity == Entity.BILL else None
    return RemoteResult(remote_id=str(bill["id"]), version=f"{modified(bill)}/{mark[:12]}", number=number(bill),
                        total=total, balance=balance, status="deleted" if bill.get("archived") else "active",
                        adopted=adopted, raw=bill, fingerprint=mark, home_total=total)


def change_operation(bill: dict) -> str:
    """A listed bill's change as our expense's: archived is "delete" (Bill.com voids and deletes no bill; a person
    archives it), anything else (a line typed over, a payment recorded) an "update"."""
    return "delete" if bill.get("archived") else "update"


def totals(bill: dict) -> DocumentTotals:
    day = str((bill.get("invoice") or {}).get("invoiceDate") or "")[:10]
    return DocumentTotals.from_result(Entity.EXPENSE, result(bill), currency="USD",
                                      date=dt.date.fromisoformat(day) if day else None,
                                      modified=parse_time(modified(bill)) if modified(bill) else None)

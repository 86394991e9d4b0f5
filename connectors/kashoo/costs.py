"""Expenses as Kashoo records them, through the records public clients show. Pure: no I/O.

Kashoo's API reference (api.kashoo.com) could not be read; two public clients show the record types a cost can be
sent as: ``POST /businesses/{id}/records/bills`` and ``POST /businesses/{id}/records/billPayments`` (and their
lists with ``startDate``, ``endDate``, ``limit``, ``offset``). Their bodies are not shown anywhere we could read:
the field names below mirror the invoice and payment records' (themselves guesses, docs/connectors/kashoo.md).

- **Expense** = a bill owed to the payee (a Kashoo contact, found by name or created) with one line per our line on
  the mapped expense account (``accountId``), amounts in integer cents, our tax as its own last line ("Tax", like
  the invoices' "Sales tax"), our number in ``number``; and a **bill payment** of the whole total applied to it
  (``bills: [{billId, amount}]``) from the mapped paid-from account (``accountId``), carrying the same number. The
  bill is the expense's remote record (its id, total and number); the payment is found again by the bill it pays.
- **Supplier bill** = the expense's bill without its payment, so it stays open (``balanceDue`` its ``amount``): owed
  to the supplier (the contact found by name or created, as a payee is), ``number`` the supplier's bill number (ours
  when there is none), ``date`` and ``dueDate`` the bill's, our number at the head of ``memo`` (no other field for
  it is known). Deleted, not voided (Kashoo refuses to delete a bill with payments applied, a guess); an edit
  rewrites it (``PUT``).
- Kashoo voids no record: an expense is deleted (its payment first: a bill with payments applied cannot be
  deleted), and changed by deleting its payment, rewriting the bill and paying it again.
- Refunds and journals are not sent: no record type for either is shown in any source we could read
  (docs/connectors/kashoo.md, "Refunds, expenses and journals").
"""
from __future__ import annotations

from decimal import Decimal

from ..documents import BillSnapshot, ExpenseSnapshot, Mapping
from ..rest import clean, iso_date
from .translate import to_cents

BILLS, BILL_PAYMENTS = "records/bills", "records/billPayments"
TAX_LINE = "Tax"
NUMBER_LENGTH = 30
MEMO_LENGTH = 1000


def expense_problems(doc: ExpenseSnapshot, mapping: Mapping) -> list[str]:
    problems = []
    if not doc.payee.strip():
        problems.append("a Kashoo bill is owed to a contact: give the expense a payee")
    if not mapping.deposit_account:
        problems.append("map the account this expense was paid from (its bill payment comes out of it)")
    return problems


def bill_lines(doc: ExpenseSnapshot | BillSnapshot, mapping: Mapping) -> list[dict]:
    """One line per our line on its expense account (in cents), our tax as a last line."""
    lines = []
    for i, line in enumerate(doc.lines):
        code = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        lines.append(clean({"description": (line.description or line.cost_kind.replace("_", " ").title())[:255],
                            "quantity": Decimal("1"), "unitPrice": to_cents(line.net_amount),
                            "taxable": code == "TAXABLE",
                            "accountId": mapping.line_accounts[i] if i < len(mapping.line_accounts) else None}))
    if doc.tax_total:
        lines.append({"description": TAX_LINE, "quantity": Decimal("1"), "unitPrice": to_cents(doc.tax_total),
                      "taxable": False})
    return lines


def bill_payload(doc: ExpenseSnapshot, mapping: Mapping, contact_id: str) -> dict:
    """The expense as a bill: one line per our line on its expense account, our tax as a last line."""
    notes = [doc.memo, f"Receipt: {doc.attachment}" if doc.attachment else ""]
    return clean({"contactId": contact_id, "number": doc.number[:NUMBER_LENGTH], "date": iso_date(doc.date),
                  "dueDate": iso_date(doc.date), "currency": doc.currency or None,
                  "memo": " - ".join(n for n in notes if n)[:MEMO_LENGTH] or None,
                  "lineItems": bill_lines(doc, mapping)})


def bill_number(doc: BillSnapshot) -> str:
    """A supplier bill's ``number``: the supplier's bill number, else ours."""
    return (doc.supplier_reference.strip() or doc.number)[:NUMBER_LENGTH]


def supplier_bill_payload(doc: BillSnapshot, mapping: Mapping, contact_id: str) -> dict:
    """A supplier bill: the expense's bill with the supplier's number, its due date and our number in the memo."""
    notes = [f"Our reference {doc.number}", doc.memo, f"Bill: {doc.attachment}" if doc.attachment else ""]
    return clean({"contactId": contact_id, "number": bill_number(doc), "date": iso_date(doc.issue_date),
                  "dueDate": iso_date(doc.due_date or doc.issue_date), "currency": doc.currency or None,
                  "memo": " - ".join(n for n in notes if n)[:MEMO_LENGTH], "lineItems": bill_lines(doc, mapping)})


def payment_payload(doc: ExpenseSnapshot, mapping: Mapping, contact_id: str, bill: dict) -> dict:
    """The bill paid in full on the expense's date from the paid-from account."""
    return clean({"contactId": contact_id, "number": doc.number[:NUMBER_LENGTH], "date": iso_date(doc.date),
                  "amount": bill["amount"], "accountId": mapping.deposit_account,
                  "bills": [{"billId": bill["id"], "amount": bill["amount"]}]})


def pays(payment: dict, bill_id: str) -> bool:
    """Whether a bill payment is applied to the bill ``bill_id``."""
    return any(str(b.get("billId")) == str(bill_id) for b in payment.get("bills") or [])

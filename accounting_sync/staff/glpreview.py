"""GL preview: the journal lines a document will produce in the platform's books, before it is sent.

``journal(doc, explanation, reference)`` is pure: the snapshot's own amounts (the ones the connector sends), the
accounts and tax codes resolution chose (``mappings.resolve.explain``), and the platform's names for them.

- Invoice: debit accounts receivable with the total; credit each sales line's net to its income account; debit
  each discount line's net to the discount account; credit the tax to "tax payable", one line per tax code.
- Credit note: the same with debit and credit swapped; a line the business keeps (restocking fee, return shipping
  charged to the customer) is income netted from the credit: it credits its income account like a sales line of an
  invoice, and its tax is taken off the tax.
- Payment: debit the deposit account, credit accounts receivable.
- Refund: debit accounts receivable (the customer's credit is used up), credit the refund account.
- Expense: debit each line's net to its expense account, debit the tax it reclaims to "tax payable" per tax code,
  credit the account it was paid from with the total.
- Supplier bill: the expense's debits (each line's net to its expense account, the tax it reclaims to "tax
  payable"), and credit accounts payable with the total (the mapped accounts-payable account, else the platform's).
- Bill payment: debit accounts payable (the platform's), credit the bank account it is paid from (the paid-from
  account mapped for its method) with the amount.
- Journal entry: its own lines, each on the account its code is mapped to.
- A void document posts nothing.

What cannot be resolved is named in ``problems`` and its line kept (with no account), so the amounts still
balance and staff see the whole picture.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from connectors.base import AccountKind, ReferenceData
from connectors.documents import (BillPaymentSnapshot, BillSnapshot, CreditNoteSnapshot, ExpenseSnapshot,
                                  JournalSnapshot, PaymentSnapshot, RefundSnapshot, SalesDocumentSnapshot, Snapshot)
from ledger.money import quantize
from mappings.resolve import Decision, Explanation, explain

from ..core import sources
from ..policies.rules import apply_offline

ZERO = Decimal("0.00")
ENTITIES = ("invoice", "credit_note", "payment", "refund", "expense", "journal", "bill", "bill_payment")
DEFAULT_NAMES = {AccountKind.RECEIVABLE: "Accounts receivable", AccountKind.TAX_PAYABLE: "Tax payable",
                 AccountKind.PAYABLE: "Accounts payable"}


@dataclass(frozen=True)
class JournalLine:
    account_id: str  # empty when not known (nothing mapped, or the platform did not name it)
    account_name: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    tax_code: str = ""  # the platform tax code on this line, or the code a tax-payable line collects
    tax_name: str = ""
    description: str = ""


@dataclass(frozen=True)
class Journal:
    document: str
    currency: str
    lines: tuple[JournalLine, ...] = ()
    problems: tuple[str, ...] = ()
    note: str = ""

    @property
    def debits(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def credits(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)

    @property
    def balanced(self) -> bool:
        return self.debits == self.credits


def journal(doc: Snapshot, explanation: Explanation, reference: ReferenceData | None) -> Journal:
    """The journal ``doc`` will post, under the mapping ``explanation`` and the platform's ``reference`` data."""
    label = f"{doc.entity.replace('_', ' ').capitalize()} {getattr(doc, 'number', '')}".strip()
    names = _Names(reference)
    if getattr(doc, "is_void", False):
        return Journal(label, doc.currency, note="Void: the platform posts nothing for it.")
    if isinstance(doc, PaymentSnapshot):
        deposit, amount = names.account(explanation.account, "deposit account"), quantize(doc.amount)
        lines = (JournalLine(*deposit, debit=amount, description=f"Payment {doc.number} ({doc.method})"),
                 JournalLine(*names.control(AccountKind.RECEIVABLE), credit=amount))
        return Journal(label, doc.currency, lines, tuple(explanation.problems + names.problems))
    if isinstance(doc, RefundSnapshot):
        source = "credit note" if doc.credit_note_key else "overpayment"
        lines = (JournalLine(*names.control(AccountKind.RECEIVABLE), debit=quantize(doc.amount),
                             description=f"Refund {doc.number} of the customer's {source}"),
                 JournalLine(*names.account(explanation.account, "refund account"), credit=quantize(doc.amount),
                             description=f"Paid out by {doc.method}"))
        return Journal(label, doc.currency, lines, tuple(explanation.problems + names.problems))
    if isinstance(doc, (ExpenseSnapshot, BillSnapshot)):
        return _costs(doc, label, explanation, names)
    if isinstance(doc, BillPaymentSnapshot):
        amount = quantize(doc.amount)
        lines = (JournalLine(*names.control(AccountKind.PAYABLE), debit=amount,
                             description=f"Bill {doc.bill_number} paid to {doc.supplier}"),
                 JournalLine(*names.account(explanation.account, "paid-from account"), credit=amount,
                             description=f"Paid by {doc.paid_from}"))
        return Journal(label, doc.currency, lines, tuple(explanation.problems + names.problems))
    if isinstance(doc, JournalSnapshot):
        lines = tuple(JournalLine(*names.account(decided.account, f"account for code “{decided.line.account_code}”"),
                                  debit=decided.line.debit, credit=decided.line.credit,
                                  description=decided.line.description or decided.label)
                      for decided in explanation.lines)
        return Journal(label, doc.currency, lines, tuple(explanation.problems + names.problems))
    if not isinstance(doc, SalesDocumentSnapshot):
        return Journal(label, getattr(doc, "currency", ""), note="Customers and items post nothing.")
    lines = [JournalLine(*names.control(AccountKind.RECEIVABLE), debit=doc.total, description=f"{label} total")]
    taxes: dict[tuple[str, str], Decimal] = {}
    for decided in explanation.lines:
        line, discount = decided.line, decided.line.kind == "discount"
        subtracts = discount or line.kept  # taken off the total: a discount, or what a credit note keeps back
        account = names.account(decided.account, "discount account" if discount else "income account",
                                item=line.item_name if line.item_key and not discount else "")
        tax = names.tax(decided.tax, line.tax_rate_name) if decided.tax else ("", "")
        side = {"debit": line.net_amount} if subtracts else {"credit": line.net_amount}
        lines.append(JournalLine(*account, **side, tax_code=tax[0], tax_name=tax[1],
                                 description=decided.label[0].upper() + decided.label[1:]))
        if decided.tax:
            taxes[tax] = taxes.get(tax, ZERO) + (-line.tax_amount if subtracts else line.tax_amount)
    payable = names.control(AccountKind.TAX_PAYABLE)
    for (code, name), amount in taxes.items():
        if amount:
            side = {"credit": amount} if amount > 0 else {"debit": -amount}
            lines.append(JournalLine(*payable, **side, tax_code=code, tax_name=name, description=f"Tax: {name}"))
    if isinstance(doc, CreditNoteSnapshot):
        lines = [replace(line, debit=line.credit, credit=line.debit) for line in lines]
    return Journal(label, doc.currency, tuple(lines), tuple(explanation.problems + names.problems))


def _costs(doc: ExpenseSnapshot | BillSnapshot, label: str, explanation: Explanation, names: _Names) -> Journal:
    """An expense's or a bill's journal: the same debits; the credit goes to the paid-from account or to accounts
    payable."""
    lines, taxes = [], {}
    for decided in explanation.lines:
        line = decided.line
        tax = names.tax(decided.tax, line.tax_rate_name) if decided.tax else ("", "")
        lines.append(JournalLine(*names.account(decided.account, "expense account"), debit=line.net_amount,
                                 tax_code=tax[0], tax_name=tax[1],
                                 description=decided.label[0].upper() + decided.label[1:]))
        if decided.tax and line.tax_amount:
            taxes[tax] = taxes.get(tax, ZERO) + line.tax_amount
    payable = names.control(AccountKind.TAX_PAYABLE)
    lines += [JournalLine(*payable, debit=amount, tax_code=code, tax_name=name, description=f"Tax reclaimed: {name}")
              for (code, name), amount in taxes.items()]
    if isinstance(doc, BillSnapshot):
        payable = (names.account(explanation.account, "accounts payable account")
                   if explanation.account and explanation.account.rule else names.control(AccountKind.PAYABLE))
        reference = f" (their bill {doc.supplier_reference})" if doc.supplier_reference else ""
        lines.append(JournalLine(*payable, credit=doc.total, description=f"Owed to {doc.supplier}{reference}"))
    else:
        lines.append(JournalLine(*names.account(explanation.account, "paid-from account"), credit=doc.total,
                                 description=f"Paid to {doc.payee} ({doc.paid_from})"))
    return Journal(label, doc.currency, tuple(lines), tuple(explanation.problems + names.problems))


class _Names:
    """The platform's names for ids, and what is wrong with an id the platform does not offer."""

    def __init__(self, reference: ReferenceData | None) -> None:
        self.reference = reference
        self.problems: list[str] = []

    def account(self, decision: Decision | None, what: str, item: str = "") -> tuple[str, str]:
        if decision is None or decision.rule is None:
            if item:
                return "", f"the income account of item “{item}” on the platform"
            return "", f"(no {what} mapped)"
        rule = decision.rule
        known = self.reference.accounts if self.reference else {}
        if self.reference and rule.remote_id not in known:
            self.problems.append(f"{what} “{rule.remote_name or rule.remote_id}” ({rule.remote_id}) is not an active "
                                 "account on the platform")
        return rule.remote_id, known.get(rule.remote_id) or rule.remote_name or rule.remote_id

    def tax(self, decision: Decision, rate_name: str) -> tuple[str, str]:
        if decision.rule is None:
            return "", f"(no tax code for “{rate_name}”)"
        rule = decision.rule
        known = self.reference.tax_codes if self.reference else {}
        if self.reference and rule.remote_id not in known:
            self.problems.append(f"tax code “{rule.remote_name or rule.remote_id}” ({rule.remote_id}) is not active on "
                                 "the platform")
        return rule.remote_id, known.get(rule.remote_id) or rule.remote_name or rule.remote_id

    def control(self, kind: str) -> tuple[str, str]:
        found = self.reference.control_accounts.get(kind) if self.reference else None
        return tuple(found) if found else ("", DEFAULT_NAMES[kind])


def preview(conn, source_key: str, reference: ReferenceData | None) -> Journal:
    """The journal of one local document (by source key) for ``conn``; reads the database, calls no platform."""
    adapter, obj = sources.load(source_key)
    if obj is None:
        raise LookupError(f"{source_key} no longer exists")
    snapshot = apply_offline(conn, adapter.snapshot(obj))  # as the connection sends it: tax line, hierarchy
    if snapshot is None:
        return Journal(adapter.label(obj), "", note="Not sent on its own: its documents go to its parent's customer.")
    return journal(snapshot, explain(conn, snapshot), reference)


def render_text(entry: Journal) -> list[str]:
    """The journal as fixed-width text lines (for ``accounting_sync_resync --dry-run --gl``)."""
    if entry.note:
        return [entry.note]
    rows = [f"{'account':<36} {'debit':>12} {'credit':>12}  tax"]
    for line in entry.lines:
        account = f"{line.account_id} {line.account_name}".strip()
        rows.append(f"{account[:36]:<36} {_amount(line.debit):>12} {_amount(line.credit):>12}  "
                    f"{line.tax_name}".rstrip())
    verdict = "balanced" if entry.balanced else "NOT BALANCED"
    rows.append(f"{'total ' + entry.currency:<36} {entry.debits:>12} {entry.credits:>12}  {verdict}")
    rows += [f"problem: {p}" for p in entry.problems]
    return rows


def _amount(value: Decimal) -> str:
    return f"{value}" if value else ""

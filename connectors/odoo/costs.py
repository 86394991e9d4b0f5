"""Refunds, expenses and manual journals as Odoo models them (``account.payment``, ``account.move``). Pure: no I/O.

- **Refund** of a credit note: an outbound customer payment (``account.payment`` with ``payment_type`` outbound,
  ``partner_type`` customer) from the bank or cash journal of the mapped refund account, our number as its memo,
  posted, then its receivable journal item matched with the credit note's (``account.partial.reconcile``) for the
  amount refunded: what Odoo's "Register Payment" on a credit note makes. The credit note's ``amount_residual``
  falls by it. Edited: reset to draft, written, posted and matched again; voided: reset to draft and cancelled.
  A refund of an overpayment (a payment's unmatched part) is not sent: refused before sending.
- **Expense**: an ``account.move`` of ``move_type`` ``entry`` (Miscellaneous Operations), chosen over a vendor
  bill paid at once because a cost paid on the spot has no payable to settle: each line's net on its expense
  account with its tax (``tax_ids``: Odoo adds the tax line), and the total on the paid-from account. Foreign
  currency: ``debit`` / ``credit`` in the company's currency at the document's rate, ``amount_currency`` and
  ``currency_id`` in the expense's. Our number in ``ref``, the payee and receipt in ``narration``.
- **Journal**: an ``entry`` move with one journal item per line (``debit`` or ``credit``), posted. Voided: reset to
  draft and cancelled, as Odoo does.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .. import rest
from ..documents import ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot, RemoteResult
from ..errors import ConfigurationError
from .translate import many2one

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
#: Fields read from a journal entry's items (``line_ids``).
ENTRY_LINE_FIELDS = ["id", "name", "account_id", "tax_ids", "debit", "credit", "amount_currency", "display_type"]


def home(amount: Decimal, rate: Decimal | None) -> Decimal:
    """``amount`` in the company's currency at ``rate`` (company units per document unit), to the cent."""
    return (amount * (rate or Decimal("1"))).quantize(CENT, ROUND_HALF_UP)


def refund_vals(doc: RefundSnapshot, mapping: Mapping, partner_id: int, journal_id: int, memo_field: str) -> dict:
    return {"partner_id": partner_id, "amount": doc.amount, "date": rest.iso_date(doc.date) or False,
            "journal_id": journal_id, memo_field: doc.number, "payment_type": "outbound",
            "partner_type": "customer"}


def refund_problems(doc: RefundSnapshot) -> list[str]:
    if doc.credit_note_key:
        return []
    return ["this connector refunds credit notes only, not a customer's overpayment; register the refund of the "
            "payment in Odoo by hand"]


def _item(name: str, account: str | None, debit: Decimal, credit: Decimal, amount_currency: Decimal,
          currency_id: int, taxes: list[int] | None = None) -> tuple:
    if not account:
        raise ConfigurationError(f"the journal item “{name}” has no Odoo account mapped",
                                 hint="Map the account in the mapping editor.")
    vals = {"name": name[:256] or "-", "account_id": int(account), "debit": debit, "credit": credit,
            "amount_currency": amount_currency, "currency_id": currency_id}
    if taxes is not None:
        vals["tax_ids"] = [(6, 0, taxes)]
    return (0, 0, vals)


def expense_vals(doc: ExpenseSnapshot, mapping: Mapping, currency_id: int) -> dict:
    """The entry of an expense: each line's net (and its tax, added by Odoo) debited, the total credited to the
    paid-from account. The credit is the company-currency sum of the debits and of the tax Odoo computes on them,
    so the entry balances whatever the rate."""
    items, credit = [], ZERO
    for i, line in enumerate(doc.lines):
        tax = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        net = home(line.net_amount, doc.exchange_rate)
        credit += net + (net * (line.tax_rate_percent or ZERO) / 100).quantize(CENT, ROUND_HALF_UP) if tax else net
        items.append(_item(line.description or line.cost_kind.replace("_", " "), mapping.line_accounts[i], net, ZERO,
                           line.net_amount, currency_id, [int(tax)] if tax else []))
    items.append(_item(f"Paid to {doc.payee}" if doc.payee else doc.number, mapping.deposit_account, ZERO, credit,
                       -doc.total, currency_id))
    notes = [f"Paid to {doc.payee}" if doc.payee else "", doc.memo, f"Receipt: {doc.attachment}" if doc.attachment
             else ""]
    return {"move_type": "entry", "ref": doc.number, "date": rest.iso_date(doc.date) or False,
            "currency_id": currency_id, "narration": " — ".join(n for n in notes if n) or False, "line_ids": items}


def journal_vals(doc: JournalSnapshot, mapping: Mapping, currency_id: int) -> dict:
    items = [_item(line.description or f"Account {line.account_code}", mapping.line_accounts[i],
                   home(line.debit, doc.exchange_rate), home(line.credit, doc.exchange_rate), line.debit - line.credit,
                   currency_id) for i, line in enumerate(doc.lines)]
    return {"move_type": "entry", "ref": doc.number, "date": rest.iso_date(doc.date) or False,
            "currency_id": currency_id, "narration": doc.memo or False, "line_ids": items}


def entry_content(move: dict, lines: list[dict]) -> str:
    """What a person could edit on an entry: number, date, currency, and per journal item (Odoo's tax lines left
    out: Odoo computes them) its text, account, taxes and amounts."""
    head = {"ref": move.get("ref") or "", "date": move.get("date") or "", "currency": many2one(move.get("currency_id"))}
    rows = [{"name": line.get("name") or "", "account": many2one(line.get("account_id")),
             "taxes": ",".join(str(t) for t in sorted(line.get("tax_ids") or [])), "debit": line.get("debit"),
             "credit": line.get("credit"), "amount_currency": line.get("amount_currency")}
            for line in lines if line.get("display_type") != "tax"]
    return rest.content_hash("entry", {**head, "lines": rows}, ("ref", "date", "currency"),
                             ("name", "account", "taxes", "debit", "credit", "amount_currency"), lines="lines")


#: Fields read from a journal entry.
ENTRY_FIELDS = ["id", "name", "ref", "move_type", "state", "currency_id", "date", "narration", "amount_total",
                "amount_tax", "amount_total_signed", "amount_residual", "line_ids", "write_date"]


def entry_result(move: dict, lines: list[dict], adopted: bool = False) -> RemoteResult:
    """An expense or a journal: its debits in its currency as the total (and in the company's as ``home_total``);
    cancelled, voided with nothing."""
    content = entry_content(move, lines)
    cancelled = move.get("state") == "cancel"
    total = ZERO if cancelled else rest.money(move.get("amount_total"))
    return RemoteResult(str(move["id"]), f"{move.get('write_date') or ''}/{content[:12]}", str(move.get("ref") or ""),
                        total, ZERO, "voided" if cancelled else "active", adopted, move, content,
                        home_total=ZERO if cancelled else rest.money(move.get("amount_total_signed")))

"""Refunds as Wave's public API can record them. Pure: no I/O.

Wave has no credit notes: a credit note is a Wave invoice with every amount negated (``translate.invoice_input``).
A **refund** of a credit note is then what Wave itself shows when a credit is paid back: a negative manual payment
(``invoicePaymentCreateManual``) on that negative invoice, from the mapped refund account (``paymentAccountId``),
with our refund number in ``memo``. The negative invoice's amount due moves towards zero by it, as a credit note's
remaining credit does. Wave's public API has no payment update: a changed refund is deleted
(``invoicePaymentDelete``) and recorded again; a void is a delete (Wave voids no payment). A refund of an
overpayment (no credit note) is not sent: Wave's public API records no customer credit to refund from.

Expenses and journals are not sent: ``moneyTransactionCreate`` (beta) can create a bank transaction, but the public
API can neither read one back nor change or delete it, and a journal between two non-bank accounts has no anchor
account at all (docs/connectors/wave.md, with the sources).
"""
from __future__ import annotations

import datetime as dt

from ..documents import RefundSnapshot
from . import translate as t

#: The memo of the payment pair that applies a credit note to an invoice (``WaveConnector._apply_credit``); refunds
#: carry our refund number instead, so the two are told apart on the negative invoice.
APPLICATION_MEMO = "Credit note "


def is_application(payment: dict) -> bool:
    return str(payment.get("memo") or "").startswith(APPLICATION_MEMO)


def refund_problems(doc: RefundSnapshot) -> list[str]:
    if doc.credit_note_key:
        return []
    return ["Wave records refunds of credit notes only (a negative invoice paid back), not of a customer's "
            "payment on account; record the refund in Wave by hand"]


def refund_input(doc: RefundSnapshot, note_id: str, account: str) -> dict:
    """A negative manual payment on the credit note's negative invoice, from ``account``."""
    return {"invoiceId": note_id, "amount": str(-doc.amount), "paymentAccountId": account,
            "paymentDate": (doc.date or dt.date.today()).isoformat(),
            "paymentMethod": t.METHODS.get(doc.method, "OTHER"), "memo": doc.number}

"""Money going the other way in the Sage Accounting sandbox: customer refunds, other payments and journals.

- A **customer refund** is a contact payment of ``transaction_type_id`` CUSTOMER_REFUND from a bank account,
  allocated to the customer's credit notes (``allocated_artefacts``, a credit note's amount negative as in Sage's
  allocations); it lowers their ``outstanding_amount``. Edited with ``PUT``, deleted with ``DELETE``.
- An **other payment** (``/other_payments``, ``transaction_type_id`` OTHER_PAYMENT) pays costs from a bank account:
  ``payment_lines`` with ``ledger_account_id``, ``net_amount``, ``tax_rate_id``, ``tax_amount`` and
  ``total_amount`` (net plus tax), the payment's ``net_amount`` / ``tax_amount`` / ``total_amount`` their sums. In
  the bank account's currency (the resource has no currency of its own). ``PUT`` and ``DELETE``.
- A **journal** (``/journals``: ``date``, ``reference``, ``description``, ``journal_lines`` with
  ``ledger_account_id``, ``debit``, ``credit``, ``details``) must balance; its ``total`` is its debits. Sage's API
  has no ``PUT`` for journals: ``DELETE``, or ``POST /journals/{key}/reissue``.

Field names from Sage's published v3.1 swagger; sources and guesses in docs/sandbox-sage.md.
"""
from __future__ import annotations

from decimal import Decimal

from ...sandboxkit.resources import Row
from .wire import CENT, ZERO, SageError, amount, invalid, link

#: Sage's transaction types for these documents.
REFUND, OTHER_PAYMENT = "CUSTOMER_REFUND", "OTHER_PAYMENT"


class SageCosts:
    """Mixed into ``SageSandbox``: refunds (through ``_contact_payments``), other payments and journals."""

    def _refund_allocations(self, entries: list, contact: Row, old: dict) -> tuple[Decimal, list[dict]]:
        """A refund's allocations: the customer's credit notes, each amount negative and no more than what the note
        still has outstanding (plus what this refund took from it, on an update)."""
        before = {a["artefact"]["id"]: -a["amount"] for a in old.get("allocated_artefacts", [])}
        refunded, applied = ZERO, []
        for i, entry in enumerate(entries or []):
            source = f"allocated_artefacts.{i}"
            share = amount(entry.get("amount"), f"{source}.amount").quantize(CENT)
            note = self.store.require("sales_credit_notes", entry.get("artefact_id"), invalid(f"{source}.artefact_id"))
            if note.data["contact"]["id"] != contact.id:
                raise invalid(f"{source}.artefact_id", "belongs to another contact")
            room = note.data["outstanding_amount"] + before.get(note.id, ZERO)
            if note.data["status"]["id"] in ("VOID", "DRAFT") or share >= 0 or -share > room:
                raise invalid(f"{source}.amount", f"exceeds the outstanding amount of "
                                                  f"{note.data['credit_note_number']}")
            refunded -= share
            applied.append({"id": entry.get("id") or self.new_id(), "artefact": link(note), "amount": share,
                            "discount": ZERO})
        return refunded, applied

    # -- other payments ---------------------------------------------------------------------------------------------
    def _other_payments(self, data: dict, old: dict, record_id: str | None) -> dict:
        kind = data.get("transaction_type_id") or (old.get("transaction_type") or {}).get("id")
        if kind != OTHER_PAYMENT:
            raise invalid("transaction_type_id", "is invalid (this sandbox takes OTHER_PAYMENT)")
        bank = self.store.require("bank_accounts", data.get("bank_account_id") or (old.get("bank_account") or {})
                                  .get("id"), invalid("bank_account_id", "can't be blank"))
        if not data.get("date"):
            raise invalid("date", "can't be blank")
        raw = data.get("payment_lines")
        if not isinstance(raw, list) or not raw:
            raise invalid("payment_lines", "can't be blank")
        lines, net_total, tax_total = [], ZERO, ZERO
        for i, line in enumerate(raw):
            source = f"payment_lines.{i}"
            ledger_id = line.get("ledger_account_id") or (line.get("ledger_account") or {}).get("id")
            ledger = self._ledger(ledger_id, f"{source}.ledger_account_id")
            tax_id = line.get("tax_rate_id") or (line.get("tax_rate") or {}).get("id")
            tax = self._tax(tax_id, f"{source}.tax_rate_id") if tax_id else None
            total = amount(line.get("total_amount"), f"{source}.total_amount").quantize(CENT)
            computed = (total * 100 / (100 + tax.data["percentage"])).quantize(CENT) if tax else total
            net = amount(line.get("net_amount"), f"{source}.net_amount", computed).quantize(CENT)
            tax_amount = amount(line.get("tax_amount"), f"{source}.tax_amount", total - net).quantize(CENT)
            if total <= 0 or net + tax_amount != total:
                raise invalid(f"{source}.total_amount", "must equal the net amount plus the tax amount")
            lines.append({"id": line.get("id") or self.new_id(), "ledger_account": link(ledger),
                          "details": str(line.get("details") or ""), "tax_rate": link(tax) if tax else None,
                          "net_amount": net, "tax_amount": tax_amount, "total_amount": total})
            net_total, tax_total = net_total + net, tax_total + tax_amount
        total = amount(data.get("total_amount"), "total_amount").quantize(CENT)
        if total != net_total + tax_total:
            raise invalid("total_amount", "must equal the sum of the payment lines")
        contact_id = data.get("contact_id") or (old.get("contact") or {}).get("id")
        contact = self.store.require("contacts", contact_id, invalid("contact_id")) if contact_id else None
        method = data.get("payment_method_id") or (old.get("payment_method") or {}).get("id") or "BANK_TRANSFER"
        if method not in self.payment_methods:
            raise invalid("payment_method_id")
        return {"transaction_type": {"id": kind, "displayed_as": "Other Payment"}, "bank_account": link(bank),
                "contact": link(contact) if contact else None, "date": str(data["date"])[:10],
                "reference": str(data.get("reference") or ""), "displayed_as": str(data.get("reference") or ""),
                "payment_method": {"id": method, "displayed_as": self.payment_methods[method]},
                "payment_lines": lines, "net_amount": net_total, "tax_amount": tax_total, "total_amount": total,
                "editable": True, "deletable": True}

    # -- journals -----------------------------------------------------------------------------------------------------
    def _journals(self, data: dict, old: dict, record_id: str | None) -> dict:
        if record_id:
            raise SageError(405, "MethodNotAllowed", "Method Not Allowed")  # no PUT on journals
        for field in ("date", "reference"):
            if not str(data.get(field) or "").strip():
                raise invalid(field, "can't be blank")
        raw = data.get("journal_lines")
        if not isinstance(raw, list) or len(raw) < 2:
            raise invalid("journal_lines", "must have at least two lines")
        lines, debits, credits = [], ZERO, ZERO
        for i, line in enumerate(raw):
            source = f"journal_lines.{i}"
            ledger = self._ledger(line.get("ledger_account_id"), f"{source}.ledger_account_id")
            debit = amount(line.get("debit"), f"{source}.debit").quantize(CENT)
            credit = amount(line.get("credit"), f"{source}.credit").quantize(CENT)
            if debit < 0 or credit < 0 or (debit and credit) or not (debit or credit):
                raise invalid(f"{source}.debit", "a journal line is either a debit or a credit")
            lines.append({"id": self.new_id(), "ledger_account": link(ledger), "debit": debit, "credit": credit,
                          "details": str(line.get("details") or ""),
                          "include_on_tax_return": bool(line.get("include_on_tax_return", False))})
            debits, credits = debits + debit, credits + credit
        if debits != credits:
            raise invalid("journal_lines", "The total debits must equal the total credits")
        return {"date": str(data["date"])[:10], "reference": str(data["reference"]),
                "description": str(data.get("description") or ""), "displayed_as": str(data["reference"]),
                "journal_lines": lines, "total": debits,
                "transaction_type": {"id": "JOURNAL", "displayed_as": "Journal"}}

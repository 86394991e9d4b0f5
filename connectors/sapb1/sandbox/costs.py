"""Money going the other way in the SAP Business One sandbox: outgoing payments and journal entries.

- An **outgoing payment** (``VendorPayments``, keyed by ``DocEntry``) pays a customer (``DocType`` rCustomer: its
  ``CardCode``, applied to its A/R credit notes through ``PaymentInvoices`` rows of ``InvoiceType`` it_CredItnote,
  each within the credit note's open amount, which it lowers by raising ``PaidToDate``) or accounts (``DocType``
  rAccount: no business partner, ``PaymentAccounts`` rows with ``AccountCode``, ``SumPaid`` in the local currency
  or ``SumPaidFC`` in a foreign one, ``VatGroup`` and ``Decription``; each row's tax is computed from its group and
  the payment's means must equal the rows with their tax). Means: ``CashAccount`` / ``CashSum`` and
  ``TransferAccount`` / ``TransferSum``, active accounts. In a foreign currency a ``DocRate`` is needed (the sandbox
  keeps no rate table). Never changed once added but for its references; ``VendorPayments(n)/Cancel`` cancels it
  and gives its credit notes their open amount back. A credit note a live payment applies cannot be cancelled.
- A **journal entry** (``JournalEntries``, keyed by ``JdtNum``): ``ReferenceDate``, ``Memo`` (50 characters),
  ``Reference``, ``JournalEntryLines`` (``AccountCode``, ``Debit``, ``Credit``, ``LineMemo``) of active accounts,
  each row a debit or a credit, at least two, balanced; local amounts. ``Memo`` and the references can be patched.
  ``JournalEntries(n)/Cancel`` adds the reversing entry (the rows swapped, ``StornoToTransaction`` naming ``n``); a
  reversed entry, or a reversal, is not cancelled again.

Sources and guesses: docs/sandbox-sapb1.md and docs/connectors/sapb1.md.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ...sandboxkit.resources import Row

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
OUTGOING, JOURNALS = "VendorPayments", "JournalEntries"
CREDIT_NOTE_TYPE = "it_CredItnote"
MEMO_LENGTH = 50


class ServiceLayerCosts:
    """Mixed into the sandbox: it supplies ``store``, ``stamp``, ``add_paid``, ``render``, ``bad``, ``money`` and
    ``home`` (the local currency)."""

    # -- outgoing payments ---------------------------------------------------------------------------------------
    def _account(self, code: Any, what: str) -> str:
        row = self.store.find("ChartOfAccounts", str(code or ""))
        if row is None or row.data["ActiveAccount"] != "tYES":
            raise self.bad(f"{what}: invalid or inactive G/L account '{code}'", -5002)
        return row.id

    def _means(self, body: dict) -> Decimal:
        """The payment's cash and transfer sums, each from an active account; their total, above zero."""
        total = ZERO
        for account, amount in (("CashAccount", "CashSum"), ("TransferAccount", "TransferSum")):
            value = self.money(body.get(amount), amount)
            if value < 0:
                raise self.bad(f"Property '{amount}' cannot be negative", -5002)
            if value:
                self._account(body.get(account), account)
                total += value
        if total <= 0:
            raise self.bad("Payment amount must be greater than zero", -5002)
        return total

    def _rate(self, body: dict) -> Decimal:
        currency = str(body.get("DocCurrency") or self.home)
        if self.store.find("Currencies", currency) is None:
            raise self.bad(f"Invalid currency '{currency}'", -5002)
        if currency == self.home:
            return Decimal("1")
        rate = self.money(body.get("DocRate"), "DocRate")
        if rate <= 0:
            raise self.bad(f"Update the exchange rate for {currency}", -5002)
        return Decimal(str(body.get("DocRate")))

    def create_outgoing(self, body: dict) -> Row:
        kind = body.get("DocType") or "rCustomer"
        if kind not in ("rCustomer", "rAccount"):
            raise self.bad(f"DocType '{kind}': this sandbox takes outgoing payments to customers and to accounts",
                           -5002)
        rate, total = self._rate(body), self._means(body)
        currency = str(body.get("DocCurrency") or self.home)
        if kind == "rCustomer":
            applied, rows = self._applied(body, currency, total), []
        else:
            applied, rows = [], self._rows(body, currency, rate, total)
        for note, amount in applied:
            self.add_paid("CreditNotes", note, amount)
        data = {"DocNum": len(self.store.rows(OUTGOING)) + 1, "DocType": kind, "CardCode": body.get("CardCode"),
                "DocDate": body.get("DocDate") or self.stamp()["UpdateDate"][:10], "DocCurrency": currency,
                "DocRate": rate, "CashAccount": body.get("CashAccount"),
                "CashSum": self.money(body.get("CashSum"), "CashSum"), "TransferAccount": body.get("TransferAccount"),
                "TransferSum": self.money(body.get("TransferSum"), "TransferSum"),
                "CounterReference": body.get("CounterReference"), "Remarks": body.get("Remarks"),
                "JournalRemarks": body.get("JournalRemarks"), "Cancelled": "tNO",
                "PaymentInvoices": [{"LineNum": i, "DocEntry": int(note.id), "SumApplied": amount,
                                     "InvoiceType": CREDIT_NOTE_TYPE} for i, (note, amount) in enumerate(applied)],
                "PaymentAccounts": rows, **self.stamp()}
        return self.store.create(OUTGOING, data)

    def _applied(self, body: dict, currency: str, total: Decimal) -> list[tuple[Row, Decimal]]:
        """A payment to a customer: its credit notes, each within its open amount, together within the total."""
        partner = self.store.find("BusinessPartners", str(body.get("CardCode") or ""))
        if partner is None:
            raise self.bad(f"Invalid BP code '{body.get('CardCode')}'", -10)
        if body.get("PaymentAccounts"):
            raise self.bad("A payment to a business partner has no account rows", -5002)
        applied = []
        for index, item in enumerate(body.get("PaymentInvoices") or []):
            if item.get("InvoiceType") != CREDIT_NOTE_TYPE:
                raise self.bad(f"Row {index + 1}: this sandbox applies outgoing payments to A/R credit notes "
                               f"({CREDIT_NOTE_TYPE}) only", -5002)
            note = self.store.find("CreditNotes", str(item.get("DocEntry")))
            if note is None or note.data["CardCode"] != partner.id or note.data["Cancelled"] == "tYES":
                raise self.bad(f"Row {index + 1}: invalid credit note DocEntry {item.get('DocEntry')}", -5002)
            if note.data["DocCurrency"] != currency:
                raise self.bad(f"Row {index + 1}: the credit note is in {note.data['DocCurrency']}", -5002)
            amount = self.money(item.get("SumApplied"), "SumApplied")
            if amount <= 0 or amount > note.data["DocTotal"] - note.data["PaidToDate"]:
                raise self.bad(f"Row {index + 1}: amount applied exceeds the open amount of credit note "
                               f"{note.data['DocNum']}", -5002)
            applied.append((note, amount))
        if sum((a for _, a in applied), ZERO) > total:
            raise self.bad("Amount applied exceeds the payment amount", -5002)
        return applied

    def _rows(self, body: dict, currency: str, rate: Decimal, total: Decimal) -> list[dict]:
        """A payment to accounts: its rows with their tax, which with it make up the total."""
        if body.get("CardCode") or body.get("PaymentInvoices"):
            raise self.bad("A payment to accounts names no business partner and no documents", -5002)
        if not body.get("PaymentAccounts"):
            raise self.bad("Enter at least one G/L account row", -5002)
        rows, gross = [], ZERO
        field = "SumPaid" if currency == self.home else "SumPaidFC"
        for index, line in enumerate(body["PaymentAccounts"]):
            self._account(line.get("AccountCode"), f"Row {index + 1}")
            amount = self.money(line.get(field), field)
            if amount <= 0:
                raise self.bad(f"Row {index + 1}: enter the amount ({field})", -5002)
            group = self.store.find("VatGroups", str(line.get("VatGroup") or "S0"))
            if group is None or group.data["Inactive"] == "tYES":
                raise self.bad(f"Row {index + 1}: invalid tax code '{line.get('VatGroup')}'", -5002)
            vat = (amount * group.data["VatGroups_Lines"][0]["Rate"] / 100).quantize(CENT, ROUND_HALF_UP)
            gross += amount + vat
            rows.append({"LineNum": index, "AccountCode": line["AccountCode"],
                         "SumPaid": (amount * rate).quantize(CENT, ROUND_HALF_UP),
                         "SumPaidFC": ZERO if currency == self.home else amount, "VatGroup": group.id,
                         "VatAmount": vat, "GrossAmount": amount + vat,
                         "Decription": str(line.get("Decription") or "")[:250]})
        if gross != total:
            raise self.bad(f"Payment means ({total}) differ from the total of the account rows ({gross})", -5002)
        return rows

    def cancel_outgoing(self, row: Row) -> None:
        for item in row.data["PaymentInvoices"]:
            self.add_paid("CreditNotes", self.store.get("CreditNotes", str(item["DocEntry"])), -item["SumApplied"])

    def paid_out(self, note_id: str) -> bool:
        """True when a live outgoing payment applies the credit note."""
        return any(p.data["Cancelled"] == "tNO" and any(str(i["DocEntry"]) == note_id
                                                        for i in p.data["PaymentInvoices"])
                   for p in self.store.rows(OUTGOING))

    # -- journal entries -----------------------------------------------------------------------------------------
    def create_journal(self, body: dict, reverses: int | None = None) -> Row:
        memo = str(body.get("Memo") or "")
        if len(memo) > MEMO_LENGTH:
            raise self.bad(f"Value too long in property 'Memo' of 'JournalEntry' (at most {MEMO_LENGTH})", -5002)
        lines, debits, credits = [], ZERO, ZERO
        for index, line in enumerate(body.get("JournalEntryLines") or []):
            self._account(line.get("AccountCode"), f"Row {index + 1}")
            debit, credit = self.money(line.get("Debit"), "Debit"), self.money(line.get("Credit"), "Credit")
            if debit < 0 or credit < 0 or (debit and credit) or not (debit or credit):
                raise self.bad(f"Row {index + 1}: enter either a debit or a credit amount", -5002)
            debits, credits = debits + debit, credits + credit
            lines.append({"Line_ID": index, "AccountCode": line["AccountCode"], "ShortName": line["AccountCode"],
                          "Debit": debit, "Credit": credit, "LineMemo": str(line.get("LineMemo") or "")[:MEMO_LENGTH]})
        if len(lines) < 2:
            raise self.bad("A journal entry needs at least two rows", -5002)
        if debits != credits:
            raise self.bad(f"Unbalanced transaction: debits {debits} and credits {credits}", -5002)
        day = body.get("ReferenceDate") or self.stamp()["UpdateDate"][:10]
        data = {"ReferenceDate": day, "DueDate": body.get("DueDate") or day, "TaxDate": body.get("TaxDate") or day,
                "Memo": memo, "Reference": body.get("Reference"), "Reference2": body.get("Reference2"),
                "StornoToTransaction": reverses, "JournalEntryLines": lines, **self.stamp()}
        return self.store.create(JOURNALS, data)

    def reversal_of(self, number: str) -> Row | None:
        return next((r for r in self.store.rows(JOURNALS)
                     if str(r.data.get("StornoToTransaction") or "") == number), None)

    def cancel_journal(self, row: Row) -> None:
        """What cancelling a journal entry does: the reversing entry, dated like the original."""
        if row.data.get("StornoToTransaction"):
            raise self.bad("A reversal transaction cannot be cancelled", -5006)
        if self.reversal_of(row.id) is not None:
            raise self.bad("Transaction already reversed", -5006)
        lines = [{"AccountCode": line["AccountCode"], "Debit": line["Credit"], "Credit": line["Debit"],
                  "LineMemo": line["LineMemo"]} for line in row.data["JournalEntryLines"]]
        self.create_journal({"ReferenceDate": row.data["ReferenceDate"],
                             "Memo": f"Reversal - {row.id}"[:MEMO_LENGTH], "Reference": row.data["Reference"],
                             "Reference2": row.data.get("Reference2"), "JournalEntryLines": lines}, int(row.id))

    # -- what a person does in the client ------------------------------------------------------------------------
    def cancel_outgoing_payment_as_user(self, payment_id: str) -> dict:
        """An outgoing payment (a refund or an expense) cancelled in the client: Business One deletes none."""
        self.cancel(OUTGOING, self.store.get(OUTGOING, str(payment_id)))
        return self.render(OUTGOING, self.store.get(OUTGOING, str(payment_id)))

    def cancel_journal_as_user(self, journal_id: str) -> dict:
        """A journal entry cancelled in the client: the reversing entry is added."""
        self.cancel(JOURNALS, self.store.get(JOURNALS, str(journal_id)))
        return self.render(JOURNALS, self.reversal_of(str(journal_id)))

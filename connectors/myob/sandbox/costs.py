"""Money going the other way in the MYOB sandbox: credit refunds, spend money and general journals.

- ``Sale/CreditRefund`` (``GET``, ``POST``, ``DELETE``; no ``PUT``, as pymyob's endpoint table has it): a customer
  credit (a sale with a negative total) paid back from a bank or credit-card ``Account``; ``Customer`` and
  ``Invoice`` (the credit) name what is refunded, ``Amount`` at most what is left of the credit, ``Number`` (the
  cheque number), ``Date``, ``Payee``, ``Memo``. It lowers the credit's ``BalanceDueAmount``; deleting it gives
  the credit back.
- ``Banking/SpendMoneyTxn`` (``GET``, ``POST``, ``PUT``, ``DELETE``): money paid out of ``Account`` (``PayFrom``
  ``Account``), to an optional ``Contact`` card or a payee typed in ``PayeeAddress``, ``PaymentNumber``, ``Date``,
  ``IsTaxInclusive``, ``Memo`` and ``Lines`` (``Account``, ``TaxCode``, ``Amount``, ``Memo``); MYOB computes
  ``TotalTax`` per line from the tax code and ``AmountPaid`` (read-only).
- ``GeneralLedger/GeneralJournal`` (``GET``, ``POST``, ``PUT``, ``DELETE``): ``DisplayID``, ``DateOccurred``,
  ``IsTaxInclusive``, ``Memo``, ``GSTReportingMethod`` (Sale or Purchase, mandatory), ``IsYearEndAdjustment`` and
  ``Lines`` (``Account``, ``TaxCode``, ``Amount``, ``IsCredit``, ``Memo``) whose debits equal their credits.

Field names from the official .NET SDK's v2 contracts (``CreditRefund``, ``SpendMoneyTxn``, ``SpendMoneyTxnLine``,
``GeneralJournal``, ``GeneralJournalLine``) and MYOB's endpoint pages; the error ``Name``s of business rules are
guesses (docs/connectors/myob.md).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .wire import CENT, ZERO, MyobError, invalid, myob_date, not_found, number, required, uid_of

#: Accounts money can be paid out of: a refund's and a spend money's ``Account``.
PAYING = frozenset({"Bank", "CreditCard"})
#: Cheque, payment and journal numbers: at most this long (AccountRight's limit for sales; a guess here).
NUMBER_LENGTH = 13
GST_METHODS = frozenset({"Sale", "Purchase"})


class MyobCosts:
    """Mixed into ``MyobSandbox``: the rules of refunds, spend money and general journals. ``_numbers`` (the
    sandbox's counter) numbers what a client sends without a number."""

    # -- credit refunds -------------------------------------------------------------------------------------------
    def _refund(self, body: dict) -> dict:
        customer = uid_of(body.get("Customer"))
        if not customer:
            raise required("Customer")
        self.store.require("customers", customer, not_found("Customer"))
        credit_id = uid_of(body.get("Invoice"))
        if not credit_id:
            raise required("Invoice")
        credit = self.store.require("sales", credit_id, not_found("Invoice")).data
        if credit["TotalAmount"] >= 0 or credit["_customer"] != customer:
            raise invalid("Invoice", "Invoice is not a customer credit of this customer")
        account = self._paying_account(body.get("Account"), "Account")
        amount = number(body.get("Amount"), "Amount").quantize(CENT, ROUND_HALF_UP)
        if amount <= 0:
            raise invalid("Amount", "Amount must be more than zero")
        if amount > -credit["BalanceDueAmount"]:
            raise MyobError(400, "CreditAmountExceeded", f"The amount refunded exceeds the credit available on "
                            f"{credit['Number']}", "Amount", 4303)
        return {"Number": self._number(body.get("Number"), "Number", "CR"),
                "Date": myob_date(body.get("Date") or self.today()), "Amount": amount,
                "Payee": str(body.get("Payee") or ""), "Memo": str(body.get("Memo") or ""),
                "ChequePrinted": bool(body.get("ChequePrinted", False)),
                "DeliveryStatus": str(body.get("DeliveryStatus") or "Print"), "ForeignCurrency": None,
                "CurrencyExchangeRate": 1, "_customer": customer, "_credit": credit_id, "_account": account}

    def refunded(self, credit_id: str) -> Decimal:
        """What the credit refunds of a customer credit paid back."""
        return sum((r.data["Amount"] for r in self.store.rows("refunds") if r.data["_credit"] == credit_id), ZERO)

    # -- spend money -----------------------------------------------------------------------------------------------
    def _spend(self, body: dict, old: dict) -> dict:
        pay_from = str(body.get("PayFrom") or "Account")
        if pay_from != "Account":
            raise invalid("PayFrom", "PayFrom must be Account (electronic payments are not modelled here)")
        account = self._paying_account(body.get("Account"), "Account")
        contact = uid_of(body.get("Contact"))
        if contact:
            self.store.require("customers", contact, not_found("Contact"))
        if not body.get("Date"):
            raise required("Date")
        inclusive = bool(body.get("IsTaxInclusive", False))
        lines, subtotal, tax_total = self._taxed_lines(body.get("Lines"), inclusive, signed=False)
        return {"PayFrom": pay_from, "PaymentNumber": self._number(body.get("PaymentNumber") or old.get(
                    "PaymentNumber"), "PaymentNumber", ""),
                "Date": myob_date(body["Date"]), "PayeeAddress": str(body.get("PayeeAddress") or ""),
                "IsTaxInclusive": inclusive, "Memo": str(body.get("Memo") or ""), "Lines": lines,
                "TotalTax": tax_total, "AmountPaid": subtotal if inclusive else subtotal + tax_total,
                "ChequePrinted": bool(body.get("ChequePrinted", False)),
                "DeliveryStatus": str(body.get("DeliveryStatus") or "Print"), "ForeignCurrency": None,
                "CurrencyExchangeRate": 1, "_account": account, "_contact": contact or None}

    # -- general journals --------------------------------------------------------------------------------------------
    def _journal(self, body: dict, old: dict) -> dict:
        if not body.get("DateOccurred"):
            raise required("DateOccurred")
        method = body.get("GSTReportingMethod")
        if not method:
            raise required("GSTReportingMethod")
        if method not in GST_METHODS:
            raise invalid("GSTReportingMethod", "GSTReportingMethod must be Sale or Purchase")
        raw = body.get("Lines")
        if not isinstance(raw, list) or len(raw) < 2:
            raise MyobError(400, "Required", "A general journal needs two lines or more", "Lines", 100)
        inclusive = bool(body.get("IsTaxInclusive", False))
        lines, _, tax_total = self._taxed_lines(raw, inclusive, signed=True)
        debits = sum((li["Amount"] for li in lines if not li["IsCredit"]), ZERO)
        credits = sum((li["Amount"] for li in lines if li["IsCredit"]), ZERO)
        if debits != credits:
            raise MyobError(400, "OutOfBalance", f"The general journal is out of balance: debits {debits} and "
                            f"credits {credits} must be equal", "Lines", 4501)
        return {"DisplayID": self._number(body.get("DisplayID") or old.get("DisplayID"), "DisplayID", "GJ"),
                "DateOccurred": myob_date(body["DateOccurred"]), "IsTaxInclusive": inclusive,
                "Memo": str(body.get("Memo") or ""), "GSTReportingMethod": method,
                "IsYearEndAdjustment": bool(body.get("IsYearEndAdjustment", False)), "Lines": lines,
                "Category": None, "_tax": tax_total}

    # -- shared ------------------------------------------------------------------------------------------------------
    def _taxed_lines(self, raw: Any, inclusive: bool, signed: bool) -> tuple[list[dict], Decimal, Decimal]:
        """Lines with an account, a tax code and an amount; tax per line from its code, rounded to the cent.
        ``signed``: journal lines, each a debit or a credit (``IsCredit``)."""
        if not isinstance(raw, list) or not raw:
            raise required("Lines")
        lines, subtotal, tax_total = [], ZERO, ZERO
        for i, line in enumerate(raw):
            field = f"Lines[{i}]"
            account = self._account(line.get("Account"), f"{field}.Account")
            tax = self._tax(line.get("TaxCode"), f"{field}.TaxCode")
            amount = number(line.get("Amount"), "Amount").quantize(CENT, ROUND_HALF_UP)
            if amount <= 0 if signed else amount == 0:
                raise invalid(f"{field}.Amount", "Amount must be more than zero")
            rate = self.store.get("taxcodes", tax).data["Rate"]
            tax_amount = (amount * rate / (100 + rate) if inclusive else amount * rate / 100).quantize(
                CENT, ROUND_HALF_UP)
            out = {"RowID": i + 1, "Amount": amount, "Memo": str(line.get("Memo") or ""), "TaxAmount": tax_amount,
                   "RowVersion": str(-6933843581174022144 + i), "_account": account, "_tax": tax}
            if signed:
                out["IsCredit"] = bool(line.get("IsCredit", False))
                out["IsOverriddenTaxAmount"] = False
            else:
                out["UnitCount"] = line.get("UnitCount")
            lines.append(out)
            subtotal += amount
            tax_total += tax_amount
        return lines, subtotal, tax_total

    def _paying_account(self, link: Any, field: str) -> str:
        account = self._account(link, field)
        row = self.store.get("accounts", account)
        if row.data["Type"] not in PAYING:
            raise MyobError(400, "InvalidAccountType", f"The account {row.data['DisplayID']} is not a bank or credit "
                            "card account", field, 4102)
        return account

    def _number(self, value: Any, field: str, prefix: str) -> str:
        text = str(value or "").strip() or f"{prefix}{next(self._numbers):06d}"
        if len(text) > NUMBER_LENGTH:
            raise invalid(field, f"{field} cannot be longer than {NUMBER_LENGTH} characters")
        return text

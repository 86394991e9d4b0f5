"""Money going the other way in the NetSuite SOAP sandbox: customer refunds, checks and journal entries (no HTTP, no
XML here).

- A **customer refund** (``CustomerRefund``) pays a customer back from a bank ``account`` (required, a ``_bank`` or
  ``_creditCard`` account); its ``applyList`` rows (``doc``, ``apply``, ``amount``) name the customer's credit memos
  or customer payments (an overpayment: what the payment left unapplied), each amount more than zero and no more
  than the credit has unapplied; its ``total`` is the sum applied and must be more than zero. The credit's
  ``unapplied`` falls by it, and a credit memo or payment a refund applies cannot be deleted (``CANT_DELETE_RCRD``).
- A **check** (``Check``) pays costs from a bank ``account`` (required) to a payee ``entity`` (required: a vendor);
  its ``expenseList`` lines carry ``account``, ``amount`` and an optional ``taxCode`` whose rate gives the line's
  ``tax1Amt`` (legacy tax, as on invoice lines); ``userTotal`` (the check's Amount) is the amounts plus their tax,
  ``taxTotal`` the tax. ``exchangeRate`` defaults to 1 in the base currency, else to the currency's rate.
- A **vendor bill** (``VendorBill``) is owed to a vendor ``entity`` (required) on an accounts-payable ``account``
  (the account's A/P when none is named); its ``expenseList`` lines are a check's, ``userTotal`` and ``taxTotal``
  too. No vendor payments here: a bill stays ``status`` Open.
- A **journal entry** (``JournalEntry``): ``lineList`` rows with ``account`` and one of ``debit`` / ``credit``;
  at least two, and the debits must equal the credits.

A list sent on ``update`` replaces the record's list (``replaceAll`` defaults to true in the WSDL; merging by line
with ``replaceAll="false"`` is not emulated). SOAP has no void operation: a person voids in the UI (the user
actions here). Sources and guesses: docs/sandbox-netsuitesoap.md.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .values import CENT, NetSuiteError, money

ZERO = Decimal("0.00")
COST_TYPES = frozenset({"customerRefund", "check", "journalEntry", "vendorBill"})
PAYABLES = ("_accountsPayable",)
BANKS = ("_bank", "_creditCard")
#: The wording of an unbalanced journal entry (**guess** at the exact text and code: see the docs).
UNBALANCED = "The total debits must equal the total credits."
DEPENDENT = "This record cannot be deleted because it has dependent records."


class CostBooks:
    """Mixed into :class:`~.books.Books` (which supplies ``records``, ``reference``, ``tax_codes``, ``require``)."""

    def _account(self, ref: dict | None, field: str, kinds: tuple[str, ...] = ()) -> dict:
        wanted = (ref or {}).get("internalId", "")
        row = next((a for a in self.reference.get("account", []) if a["internalId"] == wanted
                    and not a.get("isInactive")), None)
        if row is None or (kinds and row["acctType"] not in kinds):
            raise NetSuiteError("INVALID_KEY_OR_REF", f"Invalid {field} reference key {wanted}.")
        return {"internalId": row["internalId"], "name": row["acctName"]}

    def _currency(self, draft: dict) -> None:
        currencies = self.reference.get("currency", [])
        wanted = (draft.get("currency") or {}).get("internalId") or next(
            (c["internalId"] for c in currencies if c.get("isBaseCurrency")), "")
        row = next((c for c in currencies if c["internalId"] == wanted), None)
        if row is None:
            raise NetSuiteError("INVALID_KEY_OR_REF", f"Invalid currency reference key {wanted}.")
        draft["currency"] = {"internalId": row["internalId"], "name": row["name"]}
        if draft.get("exchangeRate") in (None, ""):
            draft["exchangeRate"] = Decimal("1") if row.get("isBaseCurrency") else row.get("exchangeRate")
        draft["exchangeRate"] = Decimal(str(draft["exchangeRate"]))
        if draft["exchangeRate"] <= 0:
            raise NetSuiteError("INVALID_FLD_VALUE", "Invalid value for the field exchangeRate.")

    def save_cost(self, kind: str, record: dict, body: dict, draft: dict) -> None:
        """A refund's, check's or journal entry's fields and lists, checked; ``draft`` completed in place."""
        self._currency(draft)
        if kind == "customerRefund":
            customer = self.require("customer", draft.get("customer"), "customer")
            draft["_customer"] = customer["internalId"]
            draft["customer"] = {"internalId": customer["internalId"], "name": customer.get("companyName") or ""}
            draft["account"] = self._account(draft.get("account"), "account", BANKS)
            rows = body.get("applyList")
            draft["_refunded"] = self._refund_applications(rows, draft) if rows is not None else record["_refunded"]
        elif kind in ("check", "vendorBill"):
            vendor = (draft.get("entity") or {}).get("internalId", "")
            row = self.find("vendor", vendor) if vendor else None
            if row is None or row.get("isInactive"):
                raise NetSuiteError("INVALID_KEY_OR_REF" if vendor else "USER_ERROR",
                                    f"Invalid entity reference key {vendor}." if vendor
                                    else "Please enter value(s) for: Payee")
            draft["entity"] = {"internalId": vendor, "name": row["companyName"]}
            if kind == "check":
                draft["account"] = self._account(draft.get("account"), "account", BANKS)
            else:  # owed on accounts payable: the account's default A/P when none is named
                default = next((a for a in self.reference.get("account", []) if a["acctType"] in PAYABLES), {})
                draft["account"] = self._account(draft.get("account") or {"internalId": default.get("internalId")},
                                                 "account", PAYABLES)
            lines = body.get("expenseList", record.get("expenseList"))
            draft["expenseList"] = [self._expense_line(line, n) for n, line in enumerate(lines or [], 1)]
            if not draft["expenseList"]:
                raise NetSuiteError("USER_ERROR", "You must enter at least one line item for this transaction.")
        else:
            lines = body.get("lineList", record.get("lineList"))
            draft["lineList"] = [self._journal_line(line, n) for n, line in enumerate(lines or [], 1)]
            debits = sum((x.get("debit") or ZERO for x in draft["lineList"]), ZERO)
            credits = sum((x.get("credit") or ZERO for x in draft["lineList"]), ZERO)
            if len(draft["lineList"]) < 2 or debits != credits:
                raise NetSuiteError("USER_ERROR", UNBALANCED)

    def _expense_line(self, line: dict, number: int) -> dict:
        if line.get("amount") in (None, ""):
            raise NetSuiteError("USER_ERROR", "Please enter value(s) for: Amount")
        amount = money(line["amount"])
        out = {"line": number, "account": self._account(line.get("account"), "account"), "amount": amount,
               "memo": line.get("memo") or ""}
        code = (line.get("taxCode") or {}).get("internalId", "")
        if code:
            if code not in self.tax_codes:
                raise NetSuiteError("INVALID_KEY_OR_REF", f"Invalid taxcode reference key {code}.")
            out.update(taxCode={"internalId": code}, taxRate1=self.tax_codes[code],
                       tax1Amt=(amount * self.tax_codes[code] / 100).quantize(CENT, ROUND_HALF_UP))
        out["grossAmt"] = amount + (out.get("tax1Amt") or ZERO)
        return out

    def _journal_line(self, line: dict, number: int) -> dict:
        debit = money(line["debit"]) if line.get("debit") not in (None, "") else ZERO
        credit = money(line["credit"]) if line.get("credit") not in (None, "") else ZERO
        if debit < 0 or credit < 0 or (debit > 0) == (credit > 0):
            raise NetSuiteError("USER_ERROR", "Each journal line needs an amount in either Debit or Credit.")
        return {"account": self._account(line.get("account"), "account"), "line": number,
                **({"debit": debit} if debit else {"credit": credit}), "memo": line.get("memo") or ""}

    def _refund_applications(self, rows: list[dict], draft: dict) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for row in rows:
            if str(row.get("apply", "true")).lower() != "true":
                continue
            doc = str(row.get("doc") or "")
            credit = self.find("creditMemo", doc) or self.find("customerPayment", doc)
            if credit is None or credit["_customer"] != draft["_customer"]:
                raise NetSuiteError("INVALID_KEY_OR_REF", f"Invalid apply reference key {doc}.")
            left = self.credit_left(credit, skip=draft["internalId"])
            amount = money(row.get("amount") if row.get("amount") not in (None, "") else left)
            if amount <= 0 or amount > left:
                raise NetSuiteError("USER_ERROR", f"The amount refunded from {credit.get('tranId') or doc} "
                                    f"({amount}) exceeds its unapplied amount ({left}).")
            out[credit["internalId"]] = amount
        if sum(out.values(), ZERO) <= 0:
            raise NetSuiteError("USER_ERROR", "You must apply at least one credit or deposit to this refund.")
        return out

    # -- amounts ------------------------------------------------------------------------------------------------------
    def refunded(self, credit_id: str, skip: str = "") -> Decimal:
        """What customer refunds take from a credit memo or a customer payment."""
        return sum((r["_refunded"][credit_id] for r in self.records.values()
                    if r["_type"] == "customerRefund" and r["internalId"] != skip and credit_id in r["_refunded"]),
                   ZERO)

    def credit_left(self, credit: dict, skip: str = "") -> Decimal:
        return credit.get("unapplied", ZERO) + self.refunded(credit["internalId"]) - \
            self.refunded(credit["internalId"], skip)

    def refresh_cost(self, record: dict) -> None:
        kind = record["_type"]
        voided = record.get("_voided")
        if kind == "customerRefund":
            record.update(total=sum(record["_refunded"].values(), ZERO), status="Voided" if voided else "")
        elif kind in ("check", "vendorBill"):
            tax = sum((x.get("tax1Amt") or ZERO for x in record["expenseList"]), ZERO)
            record.update(taxTotal=tax, userTotal=sum((x["amount"] for x in record["expenseList"]), ZERO) + tax,
                          status="Voided" if voided else "Open" if kind == "vendorBill" else "")

    def refuse_delete_of_refunded(self, kind: str, record: dict) -> None:
        if kind in ("creditMemo", "customerPayment") and self.refunded(record["internalId"]):
            raise NetSuiteError("CANT_DELETE_RCRD", DEPENDENT)

    def void_cost(self, kind: str, internal_id: str) -> dict:
        """A void in the UI with reversing journals off: the record stays, its amounts zero, status Voided (a
        refund's credits whole again)."""
        record = self.find(kind, internal_id)
        if record is None:
            raise NetSuiteError("RCRD_DSNT_EXIST", "That record does not exist.")
        record["_voided"] = True
        if kind == "customerRefund":
            record["_refunded"] = {}
        elif kind == "check":
            record["expenseList"] = [{**x, "amount": ZERO, "grossAmt": ZERO, **({"tax1Amt": ZERO} if "taxCode" in x
                                                                               else {})}
                                     for x in record["expenseList"]]
        record["lastModifiedDate"] = self.clock()
        self._refresh_invoices()
        return record


class CostActions:
    """What a person does in NetSuite's UI to refunds, checks and journal entries; mixed into the sandbox (which
    supplies ``books``)."""

    def delete_refund_as_user(self, refund_id: str) -> dict:
        with self.books.lock:
            self.books.delete("customerRefund", {"internalId": str(refund_id)})
        return {"id": str(refund_id), "deleted": True}

    def delete_journal_as_user(self, journal_id: str) -> dict:
        with self.books.lock:
            self.books.delete("journalEntry", {"internalId": str(journal_id)})
        return {"id": str(journal_id), "deleted": True}

    def void_check_as_user(self, check_id: str) -> dict:
        with self.books.lock:
            self.books.void_cost("check", str(check_id))
        return {"id": str(check_id)}

    def edit_check_line_as_user(self, check_id: str, line: int = 0, amount=None) -> dict:
        """A check's expense line amount typed over (its tax follows from the tax code)."""
        with self.books.lock:
            check = self.books.require("check", {"internalId": str(check_id)}, "check")
            lines = [{k: v for k, v in x.items() if k not in ("tax1Amt", "taxRate1", "grossAmt", "line")}
                     for x in check["expenseList"]]
            lines[int(line)]["amount"] = str(amount)
            self.books.update("check", {"internalId": check["internalId"], "expenseList": lines})
        return {"id": str(check_id)}

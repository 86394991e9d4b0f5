"""Money going the other way in the Acumatica sandbox: customer refunds, vendor bills paid by check, GL journals.

- ``Payment`` of ``Type`` "Refund" (Payments and Applications, AR302000): money paid back to a customer from a
  ``CashAccount``; its ``DocumentsToApply`` name the released credit memos (``DocType`` "Credit Memo") it pays
  out, each for no more than the memo's balance, together no more than ``PaymentAmount``. ``ReleasePayment``
  lowers each memo's balance; ``VoidPayment`` gives it back and marks the refund Voided. A refund applied to an
  invoice or debit memo is refused (a refund pays out credit).
- ``Vendor`` (AP303000): keyed by ``VendorID``, ``VendorName``, ``Status``.
- ``Bill`` (Bills and Adjustments, AP301000): ``Type`` "Bill", ``Vendor``, ``VendorRef``, ``Date``, ``CurrencyID``,
  ``Description``, ``Hold`` and ``Details`` (``Account``, ``TransactionDescription``, ``Qty``, ``UnitCost``,
  ``ExtendedCost``, ``TaxCategory``, ``Subaccount``); tax per line from its category, ``Amount`` = lines + tax,
  ``Balance``. ``ReleaseBill``: Balanced -> Open.
- ``Check`` (Checks and Payments, AP302000): ``Type`` "Payment", ``Vendor``, ``CashAccount``, ``PaymentMethod``,
  ``PaymentAmount``, ``PaymentRef``, ``ApplicationDate``, ``CurrencyID`` and ``Details`` (``DocType`` "Bill",
  ``ReferenceNbr``, ``AmountPaid``: open bills of that vendor in the check's currency). ``ReleaseCheck`` lowers
  the bills' balances (a bill paid in full is Closed); ``VoidCheck`` gives them back (the check Voided).
- ``JournalTransaction`` (Journal Transactions, GL301000): keyed by ``Module`` and ``BatchNbr``; ``Module`` "GL",
  ``TransactionDate``, ``Description``, ``CurrencyID``, ``Hold`` and ``Details`` (``Account``, ``Subaccount``,
  ``DebitAmount``, ``CreditAmount``, ``TransactionDescription``, ``ReferenceNbr``). A batch taken off hold must
  balance ("Batch is out of balance, please review."); ``ReleaseJournalTransaction`` posts it (Posted). Only an
  unreleased batch is deleted.

Field and action names from the Default/24.200.001 endpoint's entity definitions; the business-rule messages are
written after Acumatica's where they are known and guessed otherwise (docs/sandbox-acumatica.md).
"""
from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ...sandboxkit.resources import Row
from .. import wire
from .answers import FieldErrors, business, merge_details, money
from .seed import HOME_CURRENCY

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DEFAULT_SUBACCOUNT = "000000"
#: What a refund may pay out (the sandbox holds credit memos only of these).
REFUNDABLE = ("Credit Memo",)


class AcumaticaCosts:
    """Mixed into ``AcumaticaSandbox``: the rules of refunds, bills, checks and journal batches. Uses the
    sandbox's ``store``, ``stamp``, ``find_record``, ``customer``, ``applications`` and error helpers."""

    # -- refunds ---------------------------------------------------------------------------------------------------
    def refund_applications(self, sent: list[dict] | None, raw: dict) -> None:
        for index, item in enumerate(sent or []):
            if str(item.get("DocType") or "") not in REFUNDABLE:
                raise FieldErrors("Payment", raw, {f"DocType#{index}": f"A refund cannot be applied to a document "
                                                   f"of the {item.get('DocType')!r} type."})

    # -- vendors ---------------------------------------------------------------------------------------------------
    def vendor(self, record: dict, raw: dict, entity: str) -> Row:
        found = self.find_record("Vendor", {"VendorID": record.get("Vendor")})
        if found is None or found.data.get("Status") != "Active":
            raise FieldErrors(entity, raw, {"Vendor": f"'Vendor' cannot be found in the system. "
                                            f"{record.get('Vendor')}"})
        return found

    def currency(self, record: dict, raw: dict, entity: str) -> str:
        code = str(record.get("CurrencyID") or HOME_CURRENCY)
        if self.store.first("Currency", CurrencyID=code) is None:
            raise FieldErrors(entity, raw, {"CurrencyID": f"'Currency' cannot be found in the system. {code}"})
        return code

    def account_error(self, code: Any) -> str | None:
        account = self.store.first("Account", AccountCD=str(code or ""))
        if code is None or account is None or not account.data["Active"]:
            return f"'Account' cannot be found in the system. {code}"
        return None

    # -- bills -----------------------------------------------------------------------------------------------------
    def put_bill(self, record: dict, raw: dict, existing: Row | None) -> Row:
        kind = str(record.get("Type") or (existing.data["Type"] if existing else "Bill"))
        if kind != "Bill" and (existing is None or kind != existing.data["Type"]):
            raise FieldErrors("Bill", raw, {"Type": f"'{kind}' is not a valid document type."})
        if existing is not None and existing.data["Status"] not in ("On Hold", "Balanced"):
            if set(record) - {"Description", "id", "Type", "ReferenceNbr"}:
                raise business(f"The document {existing.data['ReferenceNbr']} is released and cannot be changed.")
            return self.store.update("Bill", existing.id, {**record, **self.stamp()})
        base = dict(existing.data) if existing else {"Type": "Bill", "Hold": False, "CurrencyID": HOME_CURRENCY,
                                                     "Date": self.stamp()["LastModifiedDateTime"][:10],
                                                     "Details": []}
        merged = {**base, **{k: v for k, v in record.items() if k not in ("Details", "id", "rowNumber", "custom")}}
        self.vendor(merged, raw, "Bill")
        merged.setdefault("DueDate", merged["Date"])  # Acumatica's comes from the vendor's terms: none here
        merged["CurrencyID"] = self.currency(merged, raw, "Bill")
        lines = self.cost_lines(base["Details"], record.get("Details"), raw)
        tax = sum((line["_tax"] for line in lines), ZERO)
        amount = sum((line["ExtendedCost"] for line in lines), ZERO) + tax
        if amount <= 0:
            raise business("The document total must be greater than zero.")
        merged.update({"Details": lines, "TaxTotal": tax, "Amount": amount, "Balance": amount,
                       "Status": "On Hold" if merged.get("Hold") else "Balanced", **self.stamp()})
        if existing is not None:
            return self.store.update("Bill", existing.id, merged, replace=True)
        merged["ReferenceNbr"] = f"AP{len(self.store.rows('Bill')) + len(self.store.rows('Check')) + 1:06d}"
        return self.store.create("Bill", merged)

    def cost_lines(self, old: list[dict], sent: list[dict] | None, raw: dict) -> list[dict]:
        """A bill's lines after a PUT (matched by ``id``; ``delete`` removes one), each checked, its extended cost
        and tax computed."""
        lines = merge_details(old, sent)
        if not lines:
            raise FieldErrors("Bill", raw, {"Details": "The document cannot be saved: add at least one line."})
        errors: dict[str, str] = {}
        for index, line in enumerate(lines):
            if problem := self.account_error(line.get("Account")):
                errors[f"Account#{index}"] = problem
            category = self.store.first("TaxCategory", TaxCategoryID=str(line.get("TaxCategory") or "EXEMPT"))
            if category is None:
                errors[f"TaxCategory#{index}"] = f"'Tax Category' cannot be found in the system. " \
                                                 f"{line.get('TaxCategory')}"
                continue
            quantity = money(line.get("Qty", 1))
            cost = money(line["UnitCost"]) * quantity if line.get("UnitCost") is not None else money(
                line.get("ExtendedCost"))
            cost = cost.quantize(CENT, ROUND_HALF_UP)
            line.update({"Qty": quantity, "UnitCost": (cost / quantity).quantize(CENT, ROUND_HALF_UP) if quantity
                         else cost, "ExtendedCost": cost, "Amount": cost,
                         "Subaccount": line.get("Subaccount") or DEFAULT_SUBACCOUNT,
                         "TaxCategory": category.data["TaxCategoryID"],
                         "_tax": (cost * category.data["_rate"] / 100).quantize(CENT, ROUND_HALF_UP)})
        if errors:
            raise FieldErrors("Bill", {**raw, "Details": [wire.wrap(line) for line in lines]}, errors)
        return lines

    def release_bill(self, row: Row) -> None:
        """A bill opens; a debit adjustment made by ``ReverseBill`` is applied to the bill it reverses on release,
        closing both."""
        if row.data["Status"] == "On Hold":
            raise business("The document is on hold and cannot be released.")
        if row.data["Status"] != "Balanced":
            raise business(f"The document {row.data['ReferenceNbr']} is already released.")
        if row.data["Type"] == "Debit Adj.":
            original = self.find_record("Bill", {"Type": "Bill", "ReferenceNbr": row.data["_OrigRefNbr"]})
            if original.data["Balance"] < row.data["Amount"]:
                raise business(f"The document {original.data['ReferenceNbr']} has payments applied: void them "
                               "before the reversal is released.")
            self.adjust_bill(original.data["ReferenceNbr"], -row.data["Amount"])
            self.store.update("Bill", row.id, {"Status": "Closed", "Balance": ZERO, **self.stamp()})
            return
        self.store.update("Bill", row.id, {"Status": "Open", **self.stamp()})

    def reverse_bill(self, row: Row) -> Row:
        """Bills and Adjustments' Reverse: a Balanced debit adjustment copying the bill (lines, vendor, vendor
        reference, description), for its amount, its Orig. Ref. Nbr. the bill (``OrigDocType`` / ``OrigRefNbr``,
        read with ``$custom=Document.OrigRefNbr``)."""
        if row.data["Type"] != "Bill" or row.data["Status"] not in ("Open", "Closed"):
            raise business(f"The document {row.data['ReferenceNbr']} cannot be reversed: only a released bill can.")
        data = {k: v for k, v in row.data.items() if k not in ("ReferenceNbr", "Status")}
        data.update({"Type": "Debit Adj.", "Status": "Balanced", "Balance": data["Amount"],
                     "_OrigDocType": "INV", "_OrigRefNbr": row.data["ReferenceNbr"], **self.stamp(),
                     "ReferenceNbr": f"AP{len(self.store.rows('Bill')) + len(self.store.rows('Check')) + 1:06d}"})
        return self.store.create("Bill", data)

    # -- checks ----------------------------------------------------------------------------------------------------
    def put_check(self, record: dict, raw: dict, existing: Row | None) -> Row:
        kind = str(record.get("Type") or (existing.data["Type"] if existing else "Payment"))
        if kind != "Payment":
            raise FieldErrors("Check", raw, {"Type": f"'{kind}' is not a valid document type."})
        if existing is not None and existing.data["Status"] not in ("On Hold", "Balanced"):
            raise business(f"The payment {existing.data['ReferenceNbr']} is released and cannot be changed.")
        base = dict(existing.data) if existing else {"Type": "Payment", "Hold": False, "CurrencyID": HOME_CURRENCY,
                                                     "ApplicationDate": self.stamp()["LastModifiedDateTime"][:10],
                                                     "Details": [], "PaymentMethod": "CHECK"}
        merged = {**base, **{k: v for k, v in record.items() if k not in ("Details", "id", "rowNumber", "custom")}}
        vendor = self.vendor(merged, raw, "Check")
        merged["CurrencyID"] = self.currency(merged, raw, "Check")
        cash = self.store.first("Account", AccountCD=str(merged.get("CashAccount") or ""))
        if cash is None or cash.data["AccountClass"] != "CASH" or not cash.data["Active"]:
            raise FieldErrors("Check", raw, {"CashAccount": f"'Cash Account' cannot be found in the system. "
                                             f"{merged.get('CashAccount')}"})
        if cash.data["_currency"] != merged["CurrencyID"]:
            raise FieldErrors("Check", raw, {"CurrencyID": f"The currency of the payment must be the currency of "
                                             f"cash account {cash.data['AccountCD']} ({cash.data['_currency']})."})
        merged["PaymentAmount"] = money(merged.get("PaymentAmount"))
        if merged["PaymentAmount"] <= 0:
            raise FieldErrors("Check", raw, {"PaymentAmount": "The payment amount must be greater than zero."})
        details = base["Details"] if record.get("Details") is None else []
        for item in record.get("Details") or []:
            bill = self.find_record("Bill", {"Type": item.get("DocType") or "Bill",
                                             "ReferenceNbr": item.get("ReferenceNbr")})
            if bill is None or bill.data["Vendor"] != vendor.data["VendorID"] or bill.data["Status"] != "Open":
                raise business(f"The document {item.get('ReferenceNbr')} cannot be applied: it is not an open "
                               f"released document of vendor {vendor.data['VendorID']}.")
            if bill.data["CurrencyID"] != merged["CurrencyID"]:
                raise business(f"The document {bill.data['ReferenceNbr']} is in {bill.data['CurrencyID']}; the "
                               f"payment is in {merged['CurrencyID']}.")
            paid = money(item.get("AmountPaid"))
            if paid <= 0 or paid > bill.data["Balance"]:
                raise business(f"The amount paid {paid} exceeds the balance of document {bill.data['ReferenceNbr']}.")
            details.append({"id": str(uuid.uuid4()), "DocType": "Bill", "ReferenceNbr": bill.data["ReferenceNbr"],
                            "AmountPaid": paid, "Balance": bill.data["Balance"]})
        if sum((d["AmountPaid"] for d in details), ZERO) > merged["PaymentAmount"]:
            raise business("The total amount applied exceeds the amount of the document.")
        merged.update({"Details": details, "Status": "On Hold" if merged.get("Hold") else "Balanced",
                       **self.stamp()})
        if existing is not None:
            return self.store.update("Check", existing.id, merged, replace=True)
        merged["ReferenceNbr"] = f"AP{len(self.store.rows('Bill')) + len(self.store.rows('Check')) + 1:06d}"
        return self.store.create("Check", merged)

    def release_check(self, row: Row) -> None:
        if row.data["Status"] == "On Hold":
            raise business("The document is on hold and cannot be released.")
        if row.data["Status"] != "Balanced":
            raise business(f"The document {row.data['ReferenceNbr']} is already released.")
        for item in row.data["Details"]:
            self.adjust_bill(item["ReferenceNbr"], -item["AmountPaid"])
        applied = sum((d["AmountPaid"] for d in row.data["Details"]), ZERO)
        self.store.update("Check", row.id, {"Status": "Closed" if applied >= row.data["PaymentAmount"] else "Open",
                                            **self.stamp()})

    def void_check(self, row: Row) -> None:
        if row.data["Status"] not in ("Open", "Closed"):
            raise business(f"The document {row.data['ReferenceNbr']} cannot be voided: only a released payment can.")
        for item in row.data["Details"]:
            self.adjust_bill(item["ReferenceNbr"], item["AmountPaid"])
        self.store.update("Check", row.id, {"Status": "Voided", **self.stamp()})

    def adjust_bill(self, number: str, by: Decimal) -> None:
        bill = self.find_record("Bill", {"Type": "Bill", "ReferenceNbr": number})
        balance = bill.data["Balance"] + by
        self.store.update("Bill", bill.id, {"Balance": balance, "Status": "Closed" if balance == 0 else "Open",
                                            **self.stamp()})

    # -- journal batches -------------------------------------------------------------------------------------------
    def put_journal(self, record: dict, raw: dict, existing: Row | None) -> Row:
        module = str(record.get("Module") or (existing.data["Module"] if existing else "GL"))
        if module != "GL":
            raise FieldErrors("JournalTransaction", raw, {"Module": f"'{module}': only GL batches are entered "
                                                          "here; other modules' batches come from their documents."})
        if existing is not None and existing.data["Status"] not in ("On Hold", "Balanced"):
            raise business(f"The batch {existing.data['BatchNbr']} is released and cannot be changed.")
        base = dict(existing.data) if existing else {
            "Module": "GL", "Hold": False, "CurrencyID": HOME_CURRENCY, "LedgerID": "ACTUAL",
            "TransactionDate": self.stamp()["LastModifiedDateTime"][:10], "Details": []}
        merged = {**base, **{k: v for k, v in record.items() if k not in ("Details", "id", "rowNumber", "custom")}}
        merged["CurrencyID"] = self.currency(merged, raw, "JournalTransaction")
        lines = merge_details(base["Details"], record.get("Details"), missing=business)
        errors: dict[str, str] = {}
        for index, line in enumerate(lines):
            if problem := self.account_error(line.get("Account")):
                errors[f"Account#{index}"] = problem
            debit, credit = money(line.get("DebitAmount")), money(line.get("CreditAmount"))
            if debit < 0 or credit < 0 or (debit and credit):
                errors[f"DebitAmount#{index}"] = "A line is either a debit or a credit, not negative."
            line.update({"DebitAmount": debit.quantize(CENT), "CreditAmount": credit.quantize(CENT),
                         "Subaccount": line.get("Subaccount") or DEFAULT_SUBACCOUNT, "LineNbr": index + 1})
        if errors:
            raise FieldErrors("JournalTransaction", {**raw, "Details": [wire.wrap(line) for line in lines]}, errors)
        debits = sum((line["DebitAmount"] for line in lines), ZERO)
        credits = sum((line["CreditAmount"] for line in lines), ZERO)
        if not merged.get("Hold") and (debits != credits or not lines):
            raise business("Batch is out of balance, please review.")
        merged.update({"Details": lines, "DebitTotal": debits, "CreditTotal": credits,
                       "Status": "On Hold" if merged.get("Hold") else "Balanced", **self.stamp()})
        if existing is not None:
            return self.store.update("JournalTransaction", existing.id, merged, replace=True)
        merged["BatchNbr"] = f"{len(self.store.rows('JournalTransaction')) + 1:06d}"
        return self.store.create("JournalTransaction", merged)

    def release_journal(self, row: Row) -> None:
        if row.data["Status"] == "On Hold":
            raise business("The batch is on hold and cannot be released.")
        if row.data["Status"] != "Balanced":
            raise business(f"The batch {row.data['BatchNbr']} is already released.")
        self.store.update("JournalTransaction", row.id, {"Status": "Posted", **self.stamp()})

    # -- what a person does in Acumatica ----------------------------------------------------------------------------
    def reverse_bill_as_user(self, bill_id: str) -> dict:
        """A paid bill taken back as a person does it: each released check paying it voided (Checks and
        Payments, Void), then Reverse on the bill (Bills and Adjustments) and the debit adjustment released, which
        applies it to the bill (both Closed). The adjustment keeps the bill's description: a person retypes
        nothing."""
        with self.store.lock:
            bill = self.lookup("Bill", str(bill_id).split("/"))
            for check in self.store.rows("Check"):
                if check.data["Status"] in ("Open", "Closed") and any(
                        d["ReferenceNbr"] == bill.data["ReferenceNbr"] for d in check.data["Details"]):
                    self.void_check(check)
            self.release_bill(self.reverse_bill(self.store.get("Bill", bill.id)))
        return {"id": str(bill_id)}

    def reverse_journal_as_user(self, journal_id: str) -> dict:
        """Journal Transactions' Reverse on a released batch, then Release: a new GL batch copying it (its
        description too) with each line's debit and credit swapped, its ``OrigModule`` / ``OrigBatchNbr`` the
        batch and ``AutoReverseCopy`` set (read with ``$custom=BatchModule.OrigBatchNbr``). The batch reversed is
        not changed."""
        with self.store.lock:
            batch = self.lookup("JournalTransaction", str(journal_id).split("/"))
            if batch.data["Status"] not in ("Posted", "Unposted"):
                raise business(f"The batch {batch.data['BatchNbr']} cannot be reversed: only a released batch can.")
            lines = [{**line, "id": str(uuid.uuid4()), "DebitAmount": line["CreditAmount"],
                      "CreditAmount": line["DebitAmount"]} for line in batch.data["Details"]]
            data = {k: v for k, v in batch.data.items() if k not in ("BatchNbr", "Status", "Details")}
            data.update({"Details": lines, "DebitTotal": batch.data["CreditTotal"],
                         "CreditTotal": batch.data["DebitTotal"], "Status": "Balanced", "Hold": False,
                         "_OrigModule": batch.data["Module"], "_OrigBatchNbr": batch.data["BatchNbr"],
                         "_AutoReverseCopy": True, **self.stamp(),
                         "BatchNbr": f"{len(self.store.rows('JournalTransaction')) + 1:06d}"})
            reversal = self.store.create("JournalTransaction", data)
            self.release_journal(reversal)
        return {"id": f"{reversal.data['Module']}/{reversal.data['BatchNbr']}"}

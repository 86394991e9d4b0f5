"""Money going the other way in the Intacct sandbox company: customer refunds, vendors, AP bills and their
payments, GL journal entries. Objects under Intacct's names with Intacct's field names, as ``books.py`` keeps the AR
ones:

- ``ARREFUND`` (3.0 ``create``; by ``RECORDNO``): a customer refund of an active customer's credit memos, paid from
  ``FINANCIALENTITY`` (an active cash GL account here) with ``PAYMENTMETHOD``, ``DOCNUMBER``, ``PAYMENTDATE``,
  ``CURRENCY`` and ``ARREFUNDDETAILS`` / ``ARREFUNDDETAIL`` (``RECORDKEY`` a credit memo of the customer,
  ``TRX_PAYMENTAMOUNT`` within what it has left, which the refund lowers). ``TOTALENTERED`` their sum, ``STATE``
  Complete. ``reverse_arrefund key=`` makes it Voided and gives the credit memos their amounts back.
- ``VENDOR`` (3.0 ``create``; by ``VENDORID``, unique, with ``NAME``).
- ``APBILL`` (legacy ``create_bill``; by ``RECORDNO``): an active vendor, ``billno`` unique among the vendor's
  live bills, ``ponumber`` (read as ``DOCNUMBER``), ``datecreated``, ``datedue``, ``currency``, ``billitems`` /
  ``lineitem`` of active GL accounts with a ``taxentry`` of an active tax detail; read with ``APBILLITEMS``,
  ``TOTALENTERED``, ``TOTALPAID``, ``TOTALDUE``, ``STATE`` (Posted, Partially Paid, Paid, Reversed).
  ``reverse_bill key=`` reverses and ``delete_bill key=`` deletes one with nothing paid on it.
- ``APPYMT`` (3.0 ``create``; by ``RECORDNO``): ``FINANCIALENTITY`` an active cash GL account, ``PAYMENTMETHOD``,
  ``VENDORID``, ``PAYMENTDATE``, ``CURRENCY``, ``APPYMTDETAILS`` / ``APPYMTDETAIL`` (``RECORDKEY`` an open bill of
  that vendor, ``TRX_PAYMENTAMOUNT`` within what it owes). ``reverse_appayment key=`` voids it and gives the bills
  their amounts back.
- ``GLBATCH`` (3.0 ``create``; by ``RECORDNO``): ``JOURNAL``, ``BATCH_DATE``, ``BATCH_TITLE``, ``REFERENCENO``,
  ``ENTRIES`` / ``GLENTRY`` (``ACCOUNTNO`` active, ``TR_TYPE`` 1 or -1, ``TRX_AMOUNT`` more than zero, ``CURRENCY``,
  ``DESCRIPTION``, ``DOCUMENT``), at least two, balanced, ``STATE`` Posted. A batch created with ``REVERSEDFROM``
  reverses that batch (it must be posted and not reversed yet, with the same entries swapped), which then reads
  ``Reversed``.

Sources and guesses: docs/sandbox-intacct.md and docs/connectors/intacct.md.
"""
from __future__ import annotations

from decimal import Decimal

from ..wire import as_list
from .books import Books, IntacctError, create_failed, date_of, money

ZERO = Decimal("0.00")


class Costs:
    def __init__(self, books: Books) -> None:
        self.books, self.store = books, books.store

    def _cash(self, account) -> str:
        data = self.books.active("GLACCOUNT", account, "GL account")
        if "cash" not in str(data.get("CATEGORY") or "").lower():
            raise IntacctError("BL01001973", f"GL account {account} is not a bank or cash account",
                               "Could not create record!", "Pay from a bank or cash account.")
        return str(account)

    def _row(self, obj: str, key, what: str, action: str) -> dict:
        row = self.store.find(obj, str(key or ""))
        if row is None:
            raise IntacctError("BL01001973", f"{what} record {key} not found", f"Could not {action} {what} record!")
        return row.data

    # -- customer refunds ---------------------------------------------------------------------------------------------
    def create_refund(self, body: dict) -> dict:
        customer = self.books.active("CUSTOMER", body.get("CUSTOMERID"), "customer")
        for field in ("PAYMENTMETHOD", "PAYMENTDATE", "FINANCIALENTITY"):
            if not body.get(field):
                raise create_failed("Customer Refund", f"{field} is required")
        account = self._cash(body["FINANCIALENTITY"])
        details = body.get("ARREFUNDDETAILS")
        rows = as_list(details.get("ARREFUNDDETAIL") if isinstance(details, dict) else None)
        if not rows:
            raise create_failed("Customer Refund", "ARREFUNDDETAILS needs at least one ARREFUNDDETAIL")
        applied = []
        for row in rows:
            credit = self.books.adjustment(row.get("RECORDKEY"), "refund")
            amount = money(row.get("TRX_PAYMENTAMOUNT"), "TRX_PAYMENTAMOUNT")
            if credit["CUSTOMERID"] != customer["CUSTOMERID"] or amount <= 0 or amount > -credit["TOTALDUE"]:
                raise create_failed("Customer Refund", f"Credit memo {credit['RECORDID']} has {-credit['TOTALDUE']} "
                                                       f"left to refund for customer {credit['CUSTOMERID']}")
            applied.append({"RECORDKEY": credit["RECORDNO"], "TRX_PAYMENTAMOUNT": amount})
        recordno = self.books.next_recordno()
        data = {"RECORDNO": str(recordno), "CUSTOMERID": customer["CUSTOMERID"],
                "DOCNUMBER": str(body.get("DOCNUMBER") or ""), "PAYMENTDATE": date_of(body["PAYMENTDATE"],
                                                                                      "PAYMENTDATE"),
                "PAYMENTMETHOD": str(body["PAYMENTMETHOD"]), "FINANCIALENTITY": account,
                "CURRENCY": str(body.get("CURRENCY") or "USD"), "DESCRIPTION": str(body.get("DESCRIPTION") or ""),
                "TOTALENTERED": sum((a["TRX_PAYMENTAMOUNT"] for a in applied), ZERO), "STATE": "Complete",
                "_applied": applied, **self.books.stamp()}
        self._refund_credits(applied, 1)
        return self.store.create("ARREFUND", data, str(recordno)).data

    def _refund_credits(self, applied: list[dict], sign: int) -> None:
        for application in applied:
            credit = self.store.find("ARADJUSTMENT", application["RECORDKEY"])
            if credit is not None:
                used = credit.data["TOTALPAID"] + sign * application["TRX_PAYMENTAMOUNT"]
                self.store.update("ARADJUSTMENT", credit.id, {**self.books.credit_totals(credit.data["_lines"], used),
                                                              **self.books.stamp()})

    def reverse_refund(self, key: str) -> str:
        refund = self._row("ARREFUND", key, "Customer Refund", "reverse")
        if refund["STATE"] == "Voided":
            raise IntacctError("BL01001973", f"Customer refund {key} is already reversed",
                               "Could not reverse Customer Refund record!")
        self._refund_credits(refund["_applied"], -1)
        return self.store.update("ARREFUND", key, {"STATE": "Voided", **self.books.stamp()}).id

    # -- vendors --------------------------------------------------------------------------------------------------
    def create_vendor(self, body: dict) -> dict:
        vendor_id, name = str(body.get("VENDORID") or ""), str(body.get("NAME") or "")
        if not vendor_id or not name:
            raise create_failed("Vendor", "VENDORID and NAME are required")
        if self.store.find("VENDOR", vendor_id) is not None:
            raise IntacctError("BL34000061", "Another Vendor with the given value(s) already exists",
                               "Could not create Vendor record!", "Use a unique VENDORID.")
        data = {"RECORDNO": str(self.books.next_recordno()), "VENDORID": vendor_id, "NAME": name, "STATUS": "active",
                **self.books.stamp()}
        return self.store.create("VENDOR", data, vendor_id).data

    # -- bills (legacy create_bill / reverse_bill / delete_bill) ---------------------------------------------------
    def create_bill(self, body: dict) -> str:
        vendor = self.books.active("VENDOR", body.get("vendorid"), "vendor")
        number = str(body.get("billno") or "")
        if not body.get("datedue") and not body.get("termname"):
            raise create_failed("Bill", "Either datedue or termname is required")
        if number and any(r.data["RECORDID"] == number and r.data["VENDORID"] == vendor["VENDORID"] and
                          r.data["STATE"] != "Reversed" for r in self.store.rows("APBILL")):
            raise IntacctError("BL34000061", f"Bill number {number} already exists for vendor {vendor['VENDORID']}",
                               "Could not create Bill record!", "Use another bill number.")
        currency = str(body.get("currency") or "USD")
        self.books.active("TRXCURRENCIES", currency, "currency")
        lines = self.books.invoice_lines(body.get("billitems"), number)
        if any(line["AMOUNT"] <= 0 for line in lines):
            raise create_failed("Bill", "A bill line's amount must be more than zero")
        recordno = self.books.next_recordno()
        data = {"RECORDNO": str(recordno), "RECORDID": number or str(recordno), "VENDORID": vendor["VENDORID"],
                "VENDORNAME": vendor["NAME"], "WHENCREATED": date_of(body.get("datecreated"), "datecreated"),
                "WHENDUE": date_of(body.get("datedue") or body.get("datecreated"), "datedue"),
                "DOCNUMBER": str(body.get("ponumber") or ""), "DESCRIPTION": str(body.get("description") or ""),
                "CURRENCY": currency, **self.books.totals(lines, ZERO), **self.books.stamp()}
        return self.store.create("APBILL", data, str(recordno)).id

    def delete_bill(self, key: str) -> None:
        """``delete_bill key=``: only a bill with nothing paid on it."""
        bill = self._row("APBILL", key, "Bill", "delete")
        if bill["TOTALPAID"] > 0:
            raise IntacctError("BL01001973", f"Bill {bill['RECORDID']} has payments applied",
                               "Could not delete Bill record!", "Reverse its payments first.")
        self.store.delete("APBILL", key)

    def reverse_bill(self, key: str) -> str:
        bill = self._row("APBILL", key, "Bill", "reverse")
        if bill["STATE"] == "Reversed":
            raise IntacctError("BL01001973", f"Bill {bill['RECORDID']} is already reversed",
                               "Could not reverse Bill record!")
        if bill["TOTALPAID"] > 0:
            raise IntacctError("BL01001973", f"Bill {bill['RECORDID']} has payments applied",
                               "Could not reverse Bill record!", "Reverse its payments first.")
        return self.store.update("APBILL", key, {"STATE": "Reversed", "TOTALDUE": ZERO, **self.books.stamp()}).id

    # -- AP payments (3.0 create APPYMT / legacy reverse_appayment) -------------------------------------------------
    def create_bill_payment(self, body: dict) -> dict:
        vendor = self.books.active("VENDOR", body.get("VENDORID"), "vendor")
        for field in ("PAYMENTMETHOD", "PAYMENTDATE", "FINANCIALENTITY"):
            if not body.get(field):
                raise create_failed("AP Payment", f"{field} is required")
        account = self._cash(body["FINANCIALENTITY"])
        details = body.get("APPYMTDETAILS")
        rows = as_list(details.get("APPYMTDETAIL") if isinstance(details, dict) else None)
        if not rows:
            raise create_failed("AP Payment", "APPYMTDETAILS needs at least one APPYMTDETAIL")
        applied = []
        for row in rows:
            bill = self._row("APBILL", row.get("RECORDKEY"), "Bill", "pay")
            amount = money(row.get("TRX_PAYMENTAMOUNT"), "TRX_PAYMENTAMOUNT")
            if bill["VENDORID"] != vendor["VENDORID"] or bill["STATE"] not in ("Posted", "Partially Paid") or \
                    amount <= 0 or amount > bill["TOTALDUE"]:
                raise create_failed("AP Payment", f"Bill {bill['RECORDID']} is not open for vendor "
                                                  f"{vendor['VENDORID']} or owes less than {amount}")
            applied.append({"RECORDKEY": bill["RECORDNO"], "TRX_PAYMENTAMOUNT": amount})
        recordno = self.books.next_recordno()
        data = {"RECORDNO": str(recordno), "VENDORID": vendor["VENDORID"],
                "DOCNUMBER": str(body.get("DOCNUMBER") or ""), "PAYMENTDATE": date_of(body["PAYMENTDATE"],
                                                                                      "PAYMENTDATE"),
                "PAYMENTMETHOD": str(body["PAYMENTMETHOD"]), "FINANCIALENTITY": account,
                "CURRENCY": str(body.get("CURRENCY") or "USD"),
                "TOTALENTERED": sum((a["TRX_PAYMENTAMOUNT"] for a in applied), ZERO), "STATE": "Complete",
                "_applied": applied, **self.books.stamp()}
        self._pay_bills(applied, 1)
        return self.store.create("APPYMT", data, str(recordno)).data

    def _pay_bills(self, applied: list[dict], sign: int) -> None:
        for application in applied:
            bill = self.store.find("APBILL", application["RECORDKEY"])
            if bill is not None:
                paid = bill.data["TOTALPAID"] + sign * application["TRX_PAYMENTAMOUNT"]
                self.store.update("APBILL", bill.id, {**self.books.totals(bill.data["_lines"], paid),
                                                      **self.books.stamp()})

    def reverse_bill_payment(self, key: str) -> str:
        payment = self._row("APPYMT", key, "AP Payment", "reverse")
        if payment["STATE"] == "Voided":
            raise IntacctError("BL01001973", f"AP payment {key} is already reversed",
                               "Could not reverse AP Payment record!")
        self._pay_bills(payment["_applied"], -1)
        return self.store.update("APPYMT", key, {"STATE": "Voided", **self.books.stamp()}).id

    # -- journal entries (3.0 create GLBATCH) --------------------------------------------------------------------
    def create_batch(self, body: dict) -> dict:
        for field in ("JOURNAL", "BATCH_DATE", "BATCH_TITLE"):
            if not body.get(field):
                raise create_failed("Journal Entry", f"{field} is required")
        found = body.get("ENTRIES")
        entries = []
        for entry in as_list(found.get("GLENTRY") if isinstance(found, dict) else None):
            self.books.active("GLACCOUNT", entry.get("ACCOUNTNO"), "GL account")
            kind = str(entry.get("TR_TYPE") or "")
            amount = money(entry.get("TRX_AMOUNT"), "TRX_AMOUNT")
            if kind not in ("1", "-1") or amount <= 0:
                raise create_failed("Journal Entry", "Each entry is a debit (TR_TYPE 1) or a credit (-1) of an amount "
                                                     "more than zero")
            currency = str(entry.get("CURRENCY") or "USD")
            self.books.active("TRXCURRENCIES", currency, "currency")
            entries.append({"LINE_NO": str(len(entries) + 1), "ACCOUNTNO": str(entry["ACCOUNTNO"]), "TR_TYPE": kind,
                            "TRX_AMOUNT": amount, "CURRENCY": currency, "DOCUMENT": str(entry.get("DOCUMENT") or ""),
                            "DESCRIPTION": str(entry.get("DESCRIPTION") or "")})
        if len(entries) < 2:
            raise create_failed("Journal Entry", "A journal entry needs at least 2 lines")
        debits = sum((e["TRX_AMOUNT"] for e in entries if e["TR_TYPE"] == "1"), ZERO)
        credits = sum((e["TRX_AMOUNT"] for e in entries if e["TR_TYPE"] == "-1"), ZERO)
        if debits != credits:
            raise IntacctError("BL01001973", f"Debits ({debits}) and credits ({credits}) do not balance",
                               "Could not create Journal Entry record!", "Make the entry balance.")
        reverses = str(body.get("REVERSEDFROM") or "")
        if reverses:
            self._check_reversal(reverses, entries)
        recordno = self.books.next_recordno()
        data = {"RECORDNO": str(recordno), "JOURNAL": str(body["JOURNAL"]),
                "BATCH_DATE": date_of(body["BATCH_DATE"], "BATCH_DATE"), "BATCH_TITLE": str(body["BATCH_TITLE"]),
                "REFERENCENO": str(body.get("REFERENCENO") or ""), "REVERSEDFROM": reverses, "STATE": "Posted",
                "_entries": entries, **self.books.stamp()}
        made = self.store.create("GLBATCH", data, str(recordno)).data
        if reverses:
            self.store.update("GLBATCH", reverses, {"STATE": "Reversed", "REVERSEDKEY": str(recordno),
                                                    **self.books.stamp()})
        return made

    def _check_reversal(self, key: str, entries: list[dict]) -> None:
        batch = self._row("GLBATCH", key, "Journal Entry", "reverse")
        if batch["STATE"] != "Posted" or batch.get("REVERSEDFROM"):
            raise IntacctError("BL01001973", f"Journal entry {key} is {batch['STATE'].lower()} or a reversal itself",
                               "Could not reverse Journal Entry record!")
        swapped = sorted((e["ACCOUNTNO"], "-1" if e["TR_TYPE"] == "1" else "1", e["TRX_AMOUNT"])
                         for e in batch["_entries"])
        if sorted((e["ACCOUNTNO"], e["TR_TYPE"], e["TRX_AMOUNT"]) for e in entries) != swapped:
            raise IntacctError("BL01001973", f"The entries do not reverse journal entry {key}",
                               "Could not reverse Journal Entry record!")

    def reverse_batch(self, key: str) -> dict:
        """What the UI's Reverse does: the reversing batch, dated as the batch."""
        batch = self._row("GLBATCH", key, "Journal Entry", "reverse")
        swapped = [{**e, "TR_TYPE": "-1" if e["TR_TYPE"] == "1" else "1"} for e in batch["_entries"]]
        return self.create_batch({"JOURNAL": batch["JOURNAL"], "BATCH_DATE": batch["BATCH_DATE"],
                                  "BATCH_TITLE": f"Reversal of {batch['BATCH_TITLE']}",
                                  "REFERENCENO": batch["REFERENCENO"], "REVERSEDFROM": key,
                                  "ENTRIES": {"GLENTRY": swapped}})

"""The Intacct sandbox company's state and rules (the backend; ``server.py`` is the XML wire in front of it).

Objects are kept in the kit's ``ResourceStore`` under Intacct's object names with Intacct's field names:
``CUSTOMER`` (by ``CUSTOMERID``), ``ITEM`` (by ``ITEMID``), ``GLACCOUNT`` (by ``ACCOUNTNO``), ``LOCATION``,
``DEPARTMENT``, ``TAXDETAIL``,
``TRXCURRENCIES``, ``ARINVOICE`` and ``ARPYMT`` (by ``RECORDNO``). A refusal is an :class:`IntacctError` carrying
Intacct's error number and texts; the wire renders it as a failed ``<result>``.

Rules kept: a customer id and an invoice number are unique (a reversed invoice keeps its number); an invoice line
names an active GL account, and an existing location, department and tax detail when it names one; a customer
must be active; a payment is applied to open invoices of its own customer, never more than an invoice's amount
due; a reversed invoice owes nothing and takes no payment; an invoice with payments applied is neither deleted
nor changed below what was paid; a reversed payment gives its amounts back to the invoices.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ...sandboxkit.platform import decimal_value
from ...sandboxkit.resources import ResourceStore
from ..wire import as_list

CENT = Decimal("0.01")
OPEN_STATES = ("Posted", "Partially Paid")


class IntacctError(Exception):
    """A refusal in Intacct's shape: ``errorno``, ``description`` and ``description2`` (and ``correction``)."""

    def __init__(self, errorno: str, description2: str, description: str = "", correction: str = "") -> None:
        super().__init__(description2)
        self.errorno, self.description, self.description2, self.correction = (errorno, description, description2,
                                                                              correction)


def create_failed(what: str, reason: str, correction: str = "") -> IntacctError:
    return IntacctError("BL01001973", reason, f"Could not create {what} record!", correction)


def money(value: Any, what: str) -> Decimal:
    try:
        return decimal_value(value).quantize(CENT)
    except (ValueError, ArithmeticError):
        raise IntacctError("BL01001973", f"{what} is not a valid amount: {value!r}") from None


def date_of(value: Any, what: str) -> str:
    """A legacy split date (``{year, month, day}``) or an ISO / ``MM/DD/YYYY`` text, as ``MM/DD/YYYY``."""
    try:
        if isinstance(value, dict):
            day = dt.date(int(value["year"]), int(value["month"]), int(value["day"]))
        elif "/" in str(value):
            day = dt.datetime.strptime(str(value), "%m/%d/%Y").date()
        else:
            day = dt.date.fromisoformat(str(value))
    except (KeyError, TypeError, ValueError):
        raise IntacctError("BL01001973", f"{what} is not a valid date") from None
    return day.strftime("%m/%d/%Y")


class Books:
    def __init__(self, store: ResourceStore, clock) -> None:
        self.store, self.clock = store, clock

    def stamp(self) -> dict:
        return {"WHENMODIFIED": dt.datetime.fromtimestamp(self.clock(), dt.UTC).strftime("%m/%d/%Y %H:%M:%S")}

    # -- references -----------------------------------------------------------------------------------------------
    def active(self, resource: str, key: Any, what: str) -> dict:
        row = self.store.find(resource, str(key)) if key not in (None, "") else None
        if row is None or row.data.get("STATUS") != "active":
            raise IntacctError("BL01001973", f"Invalid {what} {key!r}: it does not exist or is inactive.",
                               f"Could not create record! {what} not found",
                               f"Use an active {what} of the company.")
        return row.data

    # -- customers ------------------------------------------------------------------------------------------------
    def create_customer(self, body: dict) -> dict:
        customer_id, name = str(body.get("CUSTOMERID") or ""), str(body.get("NAME") or "")
        if not customer_id or not name:
            raise create_failed("Customer", "CUSTOMERID and NAME are required")
        if self.store.find("CUSTOMER", customer_id) is not None:
            raise IntacctError("BL34000061", "Another Customer with the given value(s) already exists",
                               "Could not create Customer record!", "Use a unique CUSTOMERID.")
        contact = body.get("DISPLAYCONTACT") if isinstance(body.get("DISPLAYCONTACT"), dict) else {}
        data = {"RECORDNO": str(self.next_recordno()), "CUSTOMERID": customer_id, "NAME": name,
                "DISPLAYCONTACT.EMAIL1": str(contact.get("EMAIL1") or ""), "STATUS": str(body.get("STATUS") or
                                                                                       "active"), **self.stamp()}
        return self.store.create("CUSTOMER", data, customer_id).data

    def update_customer(self, body: dict) -> dict:
        customer_id = str(body.get("CUSTOMERID") or "")
        row = self.store.find("CUSTOMER", customer_id)
        if row is None:
            raise IntacctError("BL01001973", f"Customer {customer_id!r} not found", "Could not update Customer "
                                                                                      "record!")
        changes: dict = {}
        if body.get("NAME"):
            changes["NAME"] = str(body["NAME"])
        if isinstance(body.get("DISPLAYCONTACT"), dict):
            changes["DISPLAYCONTACT.EMAIL1"] = str(body["DISPLAYCONTACT"].get("EMAIL1") or "")
        if body.get("STATUS"):
            changes["STATUS"] = str(body["STATUS"])
        return self.store.update("CUSTOMER", customer_id, {**changes, **self.stamp()}).data

    def delete_customer(self, customer_id: str) -> None:
        if self.store.find("CUSTOMER", customer_id) is None:
            raise IntacctError("BL01001973", f"Customer {customer_id!r} not found", "Could not delete Customer "
                                                                                      "record!")
        if any(r.data["CUSTOMERID"] == customer_id for kind in ("ARINVOICE", "ARPYMT") for r in self.store.rows(kind)):
            raise IntacctError("BL01001973", f"Customer {customer_id} has transactions and cannot be deleted",
                               "Could not delete Customer record!", "Make the customer inactive instead.")
        self.store.delete("CUSTOMER", customer_id)

    # -- items (Inventory Control / Order Entry ``ITEM``) ---------------------------------------------------------
    def create_item(self, body: dict) -> dict:
        item_id, name = str(body.get("ITEMID") or ""), str(body.get("NAME") or "")
        if not item_id or not name:
            raise create_failed("Item", "ITEMID and NAME are required")
        if self.store.find("ITEM", item_id) is not None:
            raise IntacctError("BL34000061", "Another Item with the given value(s) already exists",
                               "Could not create Item record!", "Use a unique ITEMID.")
        data = {"RECORDNO": str(self.next_recordno()), "ITEMID": item_id, "NAME": name,
                "ITEMTYPE": str(body.get("ITEMTYPE") or "Non-Inventory"),
                "BASEPRICE": money(body.get("BASEPRICE") or "0", "BASEPRICE"), "STATUS": "active", **self.stamp()}
        return self.store.create("ITEM", data, item_id).data

    def update_item(self, body: dict) -> dict:
        item_id = str(body.get("ITEMID") or "")
        if self.store.find("ITEM", item_id) is None:
            raise IntacctError("BL01001973", f"Item {item_id!r} not found", "Could not update Item record!")
        changes = {k: str(body[k]) for k in ("NAME", "ITEMTYPE", "STATUS") if body.get(k)}
        if body.get("BASEPRICE") not in (None, ""):
            changes["BASEPRICE"] = money(body["BASEPRICE"], "BASEPRICE")
        return self.store.update("ITEM", item_id, {**changes, **self.stamp()}).data

    def next_recordno(self) -> int:
        self._recordno = getattr(self, "_recordno", 0) + 1
        return self._recordno

    # -- invoices (legacy create_invoice / update_invoice / reverse_invoice / delete_invoice) ----------------------
    def invoice_lines(self, items: Any, invoice: str) -> list[dict]:
        lines = []
        for number, item in enumerate(as_list(items.get("lineitem") if isinstance(items, dict) else None), 1):
            account = str(item.get("glaccountno") or "")
            self.active("GLACCOUNT", account, "GL account")
            line = {"LINE_NO": str(number), "ACCOUNTNO": account, "AMOUNT": money(item.get("amount"), "amount"),
                    "MEMO": str(item.get("memo") or ""), "LOCATIONID": str(item.get("locationid") or ""),
                    "DEPARTMENTID": str(item.get("departmentid") or ""), "TAXDETAILID": "", "TRX_TAX": Decimal("0.00")}
            if line["LOCATIONID"]:
                self.active("LOCATION", line["LOCATIONID"], "location")
            if line["DEPARTMENTID"]:
                self.active("DEPARTMENT", line["DEPARTMENTID"], "department")
            entries = item.get("taxentries")
            for entry in as_list(entries.get("taxentry") if isinstance(entries, dict) else None):
                self.active("TAXDETAIL", entry.get("detailid"), "tax detail")
                line["TAXDETAILID"] = str(entry.get("detailid"))
                line["TRX_TAX"] += money(entry.get("trx_tax") or "0", "trx_tax")
            lines.append(line)
        if not lines:
            raise create_failed("Invoice", f"Invoice {invoice} has no line items")
        return lines

    @staticmethod
    def totals(lines: list[dict], paid: Decimal) -> dict:
        total = sum((line["AMOUNT"] + line["TRX_TAX"] for line in lines), Decimal("0.00"))
        due = total - paid
        state = "Paid" if due == 0 and paid > 0 else "Partially Paid" if paid > 0 else "Posted"
        return {"TOTALENTERED": total, "TOTALPAID": paid, "TOTALDUE": due, "STATE": state, "_lines": lines}

    def create_invoice(self, body: dict) -> str:
        customer = self.active("CUSTOMER", body.get("customerid"), "customer")
        number = str(body.get("invoiceno") or "")
        if not body.get("datedue") and not body.get("termname"):
            raise create_failed("Invoice", "Either datedue or termname is required")
        if number and any(r.data["RECORDID"] == number for r in self.store.rows("ARINVOICE")):
            raise IntacctError("BL34000061", f"Invoice number {number} already exists", "Could not create Invoice "
                               "record!", "Use another invoice number.")
        currency = str(body.get("currency") or "USD")
        self.active("TRXCURRENCIES", currency, "currency")
        lines = self.invoice_lines(body.get("invoiceitems"), number)
        recordno = self.next_recordno()
        data = {"RECORDNO": str(recordno), "RECORDID": number or str(recordno), "CUSTOMERID": customer["CUSTOMERID"],
                "CUSTOMERNAME": customer["NAME"], "WHENCREATED": date_of(body.get("datecreated"), "datecreated"),
                "WHENDUE": date_of(body.get("datedue") or body.get("datecreated"), "datedue"),
                "DESCRIPTION": str(body.get("description") or ""), "CURRENCY": currency,
                **self.totals(lines, Decimal("0.00")), **self.stamp()}
        return self.store.create("ARINVOICE", data, str(recordno)).id

    def invoice(self, key: Any, action: str) -> dict:
        row = self.store.find("ARINVOICE", str(key or ""))
        if row is None:
            raise IntacctError("BL01001973", f"Invoice record {key} not found", f"Could not {action} Invoice record!")
        return row.data

    def update_invoice(self, key: str, body: dict) -> str:
        invoice = self.invoice(key, "update")
        if invoice["STATE"] == "Reversed":
            raise IntacctError("BL01001973", f"Invoice {invoice['RECORDID']} is reversed and cannot be changed",
                               "Could not update Invoice record!")
        changes: dict = {}
        if body.get("customerid"):
            changes["CUSTOMERID"] = self.active("CUSTOMER", body["customerid"], "customer")["CUSTOMERID"]
        for field, tag in (("WHENCREATED", "datecreated"), ("WHENDUE", "datedue")):
            if body.get(tag):
                changes[field] = date_of(body[tag], tag)
        if body.get("description") is not None:
            changes["DESCRIPTION"] = str(body.get("description") or "")
        if body.get("updateinvoiceitems"):
            lines = self.invoice_lines(body["updateinvoiceitems"], invoice["RECORDID"])
            changes.update(self.totals(lines, invoice["TOTALPAID"]))
            if changes["TOTALDUE"] < 0:
                raise IntacctError("BL01001973", f"Invoice {invoice['RECORDID']} has {invoice['TOTALPAID']} paid: "
                                   "its total cannot go below that", "Could not update Invoice record!")
        return self.store.update("ARINVOICE", key, {**changes, **self.stamp()}).id

    def reverse_invoice(self, key: str, body: dict) -> str:
        invoice = self.invoice(key, "reverse")
        if invoice["STATE"] == "Reversed":
            raise IntacctError("BL01001973", f"Invoice {invoice['RECORDID']} is already reversed",
                               "Could not reverse Invoice record!")
        if invoice["TOTALPAID"] > 0:
            raise IntacctError("BL01001973", f"Invoice {invoice['RECORDID']} has payments applied",
                               "Could not reverse Invoice record!", "Reverse its payments first.")
        when = date_of(body.get("datereversed"), "datereversed") if body.get("datereversed") else ""
        return self.store.update("ARINVOICE", key, {"STATE": "Reversed", "TOTALDUE": Decimal("0.00"),
                                                    "REVERSALDATE": when, **self.stamp()}).id

    def delete_invoice(self, key: str) -> None:
        invoice = self.invoice(key, "delete")
        if invoice["TOTALPAID"] > 0:
            raise IntacctError("BL01001973", f"Invoice {invoice['RECORDID']} has payments applied",
                               "Could not delete Invoice record!", "Reverse its payments first.")
        self.store.delete("ARINVOICE", key)

    # -- payments (legacy create_arpayment / reverse_arpayment) ---------------------------------------------------
    def create_payment(self, body: dict) -> str:
        customer = self.active("CUSTOMER", body.get("customerid"), "customer")
        amount = money(body.get("paymentamount"), "paymentamount")
        account = body.get("undepfundsacct") or body.get("bankaccountid")
        self.active("GLACCOUNT", account, "GL account")
        if amount <= 0:
            raise create_failed("Payment", "paymentamount must be more than zero")
        applied = []
        for item in as_list(body.get("arpaymentitem")):
            invoice = self.invoice(item.get("invoicekey"), "apply a payment to")
            part = money(item.get("amount"), "amount")
            if invoice["CUSTOMERID"] != customer["CUSTOMERID"] or invoice["STATE"] not in OPEN_STATES:
                raise create_failed("Payment", f"Invoice {invoice['RECORDID']} is not open for customer "
                                               f"{customer['CUSTOMERID']}")
            if part > invoice["TOTALDUE"]:
                raise create_failed("Payment", f"Amount {part} is more than invoice {invoice['RECORDID']} owes "
                                               f"({invoice['TOTALDUE']})")
            applied.append({"RECORDKEY": invoice["RECORDNO"], "TRX_PAYMENTAMOUNT": part})
        if sum((a["TRX_PAYMENTAMOUNT"] for a in applied), Decimal("0.00")) > amount:
            raise create_failed("Payment", "The amounts applied are more than the payment")
        recordno = self.next_recordno()
        data = {"RECORDNO": str(recordno), "CUSTOMERID": customer["CUSTOMERID"],
                "DOCNUMBER": str(body.get("refid") or ""), "RECEIPTDATE": date_of(body.get("datereceived"),
                                                                                  "datereceived"),
                "PAYMENTMETHOD": str(body.get("paymentmethod") or "Cash"), "UNDEPOSITEDACCOUNTNO": str(account),
                "CURRENCY": HOME, "TOTALENTERED": amount, "STATE": "Complete", "_applied": applied, **self.stamp()}
        row = self.store.create("ARPYMT", data, str(recordno))
        self.apply(applied, 1)
        return row.id

    def apply(self, applied: list[dict], sign: int) -> None:
        """Take the amounts of ``applied`` (payment details) off their invoices (``sign`` 1) or give them back
        (-1); a credit memo's part also changes what the credit memo has left."""
        for application in applied:
            amount = application.get("TRX_PAYMENTAMOUNT") or application.get("TRX_ADJUSTMENTAMOUNT")
            invoice = self.store.find("ARINVOICE", application["RECORDKEY"])
            if invoice is not None:
                paid = invoice.data["TOTALPAID"] + sign * amount
                self.store.update("ARINVOICE", invoice.id, {**self.totals(invoice.data["_lines"], paid),
                                                            **self.stamp()})
            credit = self.store.find("ARADJUSTMENT", application.get("ADJUSTMENTKEY") or "")
            if credit is not None:
                used = credit.data["TOTALPAID"] + sign * amount
                self.store.update("ARADJUSTMENT", credit.id, {**self.credit_totals(credit.data["_lines"], used),
                                                              **self.stamp()})

    # -- payments and credits applied (the ARPYMT object: ``create``) -------------------------------------------------
    def create_arpymt(self, body: dict) -> dict:
        """A payment with its details: cash applied to invoices (``RECORDKEY`` + ``TRX_PAYMENTAMOUNT``) and credit
        memos applied to invoices (``RECORDKEY`` + ``ADJUSTMENTKEY`` + ``TRX_ADJUSTMENTAMOUNT``)."""
        customer = self.active("CUSTOMER", body.get("CUSTOMERID"), "customer")
        for field in ("PAYMENTMETHOD", "RECEIPTDATE", "CURRENCY"):
            if not body.get(field):
                raise create_failed("AR Payment", f"{field} is required")
        details = body.get("ARPYMTDETAILS")
        rows = as_list(details.get("ARPYMTDETAIL") if isinstance(details, dict) else None)
        if not rows:
            raise create_failed("AR Payment", "ARPYMTDETAILS needs at least one ARPYMTDETAIL")
        applied = [self.detail(row, customer["CUSTOMERID"]) for row in rows]
        cash = sum((a.get("TRX_PAYMENTAMOUNT", Decimal("0.00")) for a in applied), Decimal("0.00"))
        account = body.get("UNDEPOSITEDACCOUNTNO")
        if cash and not account and not body.get("FINANCIALENTITY"):  # credits only move no cash
            raise create_failed("AR Payment", "FINANCIALENTITY or UNDEPOSITEDACCOUNTNO is required")
        if account:
            self.active("GLACCOUNT", account, "GL account")
        recordno = self.next_recordno()
        data = {"RECORDNO": str(recordno), "CUSTOMERID": customer["CUSTOMERID"],
                "DOCNUMBER": str(body.get("DOCNUMBER") or ""), "RECEIPTDATE": date_of(body["RECEIPTDATE"],
                                                                                      "RECEIPTDATE"),
                "PAYMENTMETHOD": str(body["PAYMENTMETHOD"]), "UNDEPOSITEDACCOUNTNO": str(account or ""),
                "CURRENCY": str(body["CURRENCY"]), "TOTALENTERED": cash, "STATE": "Complete", "_applied": applied,
                **self.stamp()}
        row = self.store.create("ARPYMT", data, str(recordno))
        self.apply(applied, 1)
        return row.data

    def detail(self, row: dict, customer_id: str) -> dict:
        invoice = self.invoice(row.get("RECORDKEY"), "apply a payment to")
        if invoice["CUSTOMERID"] != customer_id or invoice["STATE"] not in OPEN_STATES:
            raise create_failed("AR Payment", f"Invoice {invoice['RECORDID']} is not open for customer {customer_id}")
        if row.get("ADJUSTMENTKEY"):
            credit = self.adjustment(row["ADJUSTMENTKEY"], "apply")
            amount = money(row.get("TRX_ADJUSTMENTAMOUNT"), "TRX_ADJUSTMENTAMOUNT")
            if credit["CUSTOMERID"] != customer_id or amount > -credit["TOTALDUE"]:
                raise create_failed("AR Payment", f"Credit memo {credit['RECORDID']} has {-credit['TOTALDUE']} "
                                                  f"left for customer {credit['CUSTOMERID']}")
            found = {"RECORDKEY": invoice["RECORDNO"], "ADJUSTMENTKEY": credit["RECORDNO"],
                     "TRX_ADJUSTMENTAMOUNT": amount}
        else:
            amount = money(row.get("TRX_PAYMENTAMOUNT"), "TRX_PAYMENTAMOUNT")
            found = {"RECORDKEY": invoice["RECORDNO"], "TRX_PAYMENTAMOUNT": amount}
        if amount <= 0 or amount > invoice["TOTALDUE"]:
            raise create_failed("AR Payment", f"Amount {amount} is not between 0 and what invoice "
                                              f"{invoice['RECORDID']} owes ({invoice['TOTALDUE']})")
        return found

    # -- credit memos (legacy create_aradjustment / delete_aradjustment) --------------------------------------------
    @staticmethod
    def credit_totals(lines: list[dict], used: Decimal) -> dict:
        """A credit memo's amounts are negative (what the customer is owed); ``used`` is what was applied."""
        total = sum((line["AMOUNT"] + line["TRX_TAX"] for line in lines), Decimal("0.00"))
        due = total + used
        return {"TOTALENTERED": total, "TOTALPAID": used, "TOTALDUE": due,
                "STATE": "Paid" if due == 0 else "Partially Paid" if used else "Posted", "_lines": lines}

    def create_adjustment(self, body: dict) -> str:
        customer = self.active("CUSTOMER", body.get("customerid"), "customer")
        number = str(body.get("adjustmentno") or "")
        if number and any(r.data["RECORDID"] == number for r in self.store.rows("ARADJUSTMENT")):
            raise IntacctError("BL34000061", f"Adjustment number {number} already exists", "Could not create "
                               "Adjustment record!", "Use another adjustment number.")
        lines = self.invoice_lines(body.get("aradjustmentitems"), number)
        if sum((line["AMOUNT"] for line in lines), Decimal("0.00")) >= 0:
            raise create_failed("Adjustment", "A credit memo's line amounts are negative")
        recordno = self.next_recordno()
        data = {"RECORDNO": str(recordno), "RECORDID": number or str(recordno), "CUSTOMERID": customer["CUSTOMERID"],
                "WHENCREATED": date_of(body.get("datecreated"), "datecreated"),
                "DESCRIPTION": str(body.get("description") or ""), "CURRENCY": str(body.get("currency") or HOME),
                **self.credit_totals(lines, Decimal("0.00")), **self.stamp()}
        return self.store.create("ARADJUSTMENT", data, str(recordno)).id

    def adjustment(self, key: Any, action: str) -> dict:
        row = self.store.find("ARADJUSTMENT", str(key or ""))
        if row is None:
            raise IntacctError("BL01001973", f"Adjustment record {key} not found",
                               f"Could not {action} Adjustment record!")
        return row.data

    def delete_adjustment(self, key: str) -> None:
        credit = self.adjustment(key, "delete")
        if credit["TOTALPAID"]:
            raise IntacctError("BL01001973", f"Adjustment {credit['RECORDID']} is applied to invoices",
                               "Could not delete Adjustment record!", "Reverse its applications first.")
        self.store.delete("ARADJUSTMENT", key)

    def payment(self, key: Any, action: str) -> dict:
        row = self.store.find("ARPYMT", str(key or ""))
        if row is None:
            raise IntacctError("BL01001973", f"Payment record {key} not found", f"Could not {action} Payment record!")
        return row.data

    def reverse_payment(self, key: str) -> str:
        payment = self.payment(key, "reverse")
        if payment["STATE"] == "Voided":
            raise IntacctError("BL01001973", f"Payment {key} is already reversed", "Could not reverse Payment record!")
        self.apply(payment["_applied"], -1)
        return self.store.update("ARPYMT", key, {"STATE": "Voided", **self.stamp()}).id

    def delete_payment(self, key: str) -> None:
        payment = self.payment(key, "delete")
        if payment["STATE"] != "Voided":
            self.apply(payment["_applied"], -1)
        self.store.delete("ARPYMT", key)


HOME = "USD"

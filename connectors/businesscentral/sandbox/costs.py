"""Buying and posting in the Business Central sandbox: vendors, purchase invoices, general journals and their lines,
and the G/L entries a posted journal leaves.

- ``vendors``: ``displayName`` required (100 characters), a vendor ``number`` from the series, ``currencyCode``.
- ``purchaseInvoices``: a draft from a vendor, ``vendorInvoiceNumber`` (35), ``currencyCode`` (the vendor's unless
  sent), ``purchaseInvoiceLines`` inline or one by one (G/L account or comment lines here; the price is
  ``unitCost``), totals computed from the lines as on sales documents; ``Microsoft.NAV.post`` posts it (a vendor
  invoice number already posted for the vendor is refused, as Business Central does).
- ``journals``: a general journal batch (``code``, Code[10], unique; ``displayName``; template ``GENERAL``), and
  ``journals({id})/journalLines``: ``accountType`` "G/L Account" (the API lists G/L account and bank account lines
  only; this sandbox has no bank accounts), ``accountId`` or ``accountNumber``, ``postingDate``, ``documentNumber``
  (Code[20]), ``externalDocumentNumber`` (35), ``amount`` (positive a debit), ``description`` (100), optional
  balancing account. Deleting a batch deletes its lines.
- ``journals({id})/Microsoft.NAV.post``: each document number on each posting date must balance (a line with a
  balancing account balances itself), else Business Central's "out of balance" error and nothing is posted; the
  lines become ``generalLedgerEntries`` (read-only: debit and credit amounts per account) and leave the batch.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...sandboxkit.resources import Row
from .wire import CENT, NO_ID, ZERO, BCError, bad_request, dialog, field_error, guid_key, number, too_long

VENDOR_SERIES, PURCHASE_SERIES, POSTED_PURCHASE_SERIES = "V", "P-INV", "PP-INV"
JOURNAL_TEMPLATE = "GENERAL"
ACCOUNT_TYPES = ("G/L Account",)
JOURNAL_LINE_TABLE = "Gen. Journal Line"


class BusinessCentralCosts:
    """The mixin of the sandbox that holds vendors, purchase invoices and general journals."""

    store: Any

    def _vendors(self, data: dict, old: dict) -> dict:
        name = str(data.get("displayName") or "").strip()
        if not name:
            raise field_error("Name must have a value in Vendor: No.=. It cannot be zero or empty.")
        if len(name) > 100:
            raise too_long(name, 100)
        self._currency(data.get("currencyCode"))
        blocked = data.get("blocked") or " "
        if blocked not in (" ", "Payment", "All"):
            raise bad_request(f"The value '{blocked}' is not valid for blocked.", "BadRequest_InvalidRequestBody")
        return {"number": old.get("number") or self._next(VENDOR_SERIES), "displayName": name,
                "email": data.get("email", ""), "currencyCode": data.get("currencyCode") or "", "blocked": blocked,
                "taxRegistrationNumber": data.get("taxRegistrationNumber", "")}

    def _purchaseInvoices(self, data: dict, old: dict) -> dict:  # noqa: N802 - the entity set's name
        vendor_id = data.get("vendorId")
        if not vendor_id:
            raise field_error("Buy-from Vendor No. must have a value. It cannot be zero or empty.")
        vendor = self.store.require("vendors", guid_key(str(vendor_id)), dialog(f"The vendor {vendor_id} does not "
                                                                              "exist."))
        if vendor.data["blocked"] == "All":
            raise dialog(f"You cannot buy from vendor {vendor.data['number']} because it is blocked.")
        currency = data.get("currencyCode") if "currencyCode" in data else vendor.data["currencyCode"]
        self._currency(currency)
        today = self.today()
        body = {"number": old.get("number") or self._next(PURCHASE_SERIES),
                "vendorInvoiceNumber": str(data.get("vendorInvoiceNumber") or ""),
                "invoiceDate": data.get("invoiceDate") or today,
                "postingDate": data.get("postingDate") or data.get("invoiceDate") or today,
                "dueDate": data.get("dueDate") or data.get("invoiceDate") or today,
                "vendorId": vendor.id, "vendorNumber": vendor.data["number"], "vendorName": vendor.data["displayName"],
                "currencyCode": currency or "", "pricesIncludeTax": bool(data.get("pricesIncludeTax", False)),
                "discountAmount": number(data.get("discountAmount"), "discountAmount", ZERO),
                "status": old.get("status", "Draft"), "_lines": list(old.get("_lines", []))}
        if len(body["vendorInvoiceNumber"]) > 35:
            raise too_long(body["vendorInvoiceNumber"], 35)
        lines = data.get("purchaseInvoiceLines") if not old else None
        if lines is not None:
            if not isinstance(lines, list):
                raise bad_request("'purchaseInvoiceLines' must be a collection.", "BadRequest_InvalidRequestBody")
            body["_lines"] = []
            for line in lines:
                body["_lines"].append(self._line_data("purchaseInvoices", line, {}, len(body["_lines"])))
        return body

    def post_purchase_invoice(self, record_id: str, data: dict) -> None:
        """A draft with lines; the vendor invoice number is required and must not be posted already for the
        vendor."""
        if data["status"] != "Draft":
            raise dialog("The purchase invoice has already been posted.")
        if not data["vendorInvoiceNumber"]:
            raise field_error("Vendor Invoice No. must have a value in Purchase Header: Document Type=Invoice, "
                              f"No.={data['number']}. It cannot be zero or empty.")
        if any(r.id != record_id and r.data["status"] != "Draft" and r.data["vendorId"] == data["vendorId"]
               and r.data["vendorInvoiceNumber"] == data["vendorInvoiceNumber"]
               for r in self.store.rows("purchaseInvoices")):
            raise dialog(f"Purchase Invoice {data['vendorInvoiceNumber']} already exists for this vendor.")
        if not [line for line in data["_lines"] if line["lineType"] != "Comment"]:
            raise dialog("There is nothing to post.")
        self.store.update("purchaseInvoices", record_id, {"status": "Open",
                                                          "number": self._next(POSTED_PURCHASE_SERIES)})

    # -- general journals ---------------------------------------------------------------------------------------
    def _journals(self, data: dict, old: dict) -> dict:
        code = str(data.get("code") or "").strip().upper()
        if not code:
            raise field_error("Name must have a value in Gen. Journal Batch: Journal Template Name=GENERAL, Name=. "
                              "It cannot be zero or empty.")
        if len(code) > 10:
            raise too_long(code, 10)
        if any(r.data["code"] == code and r.data["code"] != old.get("code") for r in self.store.rows("journals")):
            raise BCError(400, "Internal_EntityWithSameKeyExists", "The record in table Gen. Journal Batch already "
                          "exists. Identification fields and values: Journal Template Name="
                          f"'{JOURNAL_TEMPLATE}',Name='{code}'")
        account = self._account(data["balancingAccountId"]) if data.get("balancingAccountId") not in (None, "",
                                                                                                       NO_ID) else None
        return {"code": code, "displayName": str(data.get("displayName") or code)[:100],
                "templateDisplayName": JOURNAL_TEMPLATE,
                "balancingAccountId": account.id if account else NO_ID,
                "balancingAccountNumber": account.data["number"] if account else ""}

    def _journalLines(self, data: dict, old: dict) -> dict:  # noqa: N802 - the entity set's name
        journal = self.store.require("journals", guid_key(str(data.get("journalId") or "")),
                                     dialog(f"The journal {data.get('journalId')} does not exist."))
        kind = data.get("accountType") or "G/L Account"
        if kind not in ACCOUNT_TYPES:
            raise bad_request(f"The value '{kind}' is not valid for accountType (this sandbox holds G/L account "
                              "lines only).", "BadRequest_InvalidRequestBody")
        account = self._account(data.get("accountId") if data.get("accountId") != NO_ID else None,
                                data.get("accountNumber"), JOURNAL_LINE_TABLE)
        balancing = None
        if data.get("balancingAccountId") not in (None, "", NO_ID) or data.get("balancingAccountNumber"):
            balancing = self._account(data.get("balancingAccountId") if data.get("balancingAccountId") != NO_ID
                                      else None, data.get("balancingAccountNumber"), JOURNAL_LINE_TABLE)
        elif journal.data["balancingAccountId"] != NO_ID and not old:
            balancing = self.store.get("accounts", journal.data["balancingAccountId"])
        document = str(data.get("documentNumber") or "")
        if len(document) > 20:
            raise too_long(document, 20)
        description = str(data.get("description") or account.data["displayName"])
        if len(description) > 100:
            raise too_long(description, 100)
        external = str(data.get("externalDocumentNumber") or "")
        if len(external) > 35:
            raise too_long(external, 35)
        line = old.get("lineNumber") or int(data.get("lineNumber") or 10000 * (1 + sum(
            1 for r in self.store.rows("journalLines") if r.data["journalId"] == journal.id)))
        return {"journalId": journal.id, "journalDisplayName": journal.data["code"], "lineNumber": line,
                "accountType": kind, "accountId": account.id, "accountNumber": account.data["number"],
                "postingDate": data.get("postingDate") or self.today(), "documentNumber": document,
                "externalDocumentNumber": external,
                "amount": number(data.get("amount"), "amount", ZERO).quantize(CENT),
                "description": description, "comment": str(data.get("comment") or "")[:250],
                "taxCode": str(data.get("taxCode") or ""),
                "balanceAccountType": "G/L Account",
                "balancingAccountId": balancing.id if balancing else NO_ID,
                "balancingAccountNumber": balancing.data["number"] if balancing else ""}

    def post_journal(self, journal: Row) -> None:
        """Post every line of the batch, or none: each document number on each posting date balances (Business
        Central's Gen. Jnl.-Post Batch check); the lines become G/L entries and leave the batch."""
        lines = sorted((r for r in self.store.rows("journalLines") if r.data["journalId"] == journal.id),
                       key=lambda r: r.data["lineNumber"])
        if not lines:
            raise dialog("There is nothing to post.")
        sums: dict[tuple[str, str], Decimal] = {}
        for row in lines:
            if not row.data["documentNumber"]:
                raise field_error("Document No. must have a value in Gen. Journal Line: Journal Template Name="
                                  f"{JOURNAL_TEMPLATE}, Journal Batch Name={journal.data['code']}, Line No.="
                                  f"{row.data['lineNumber']}. It cannot be zero or empty.")
            if row.data["balancingAccountId"] == NO_ID:
                group = (row.data["postingDate"], row.data["documentNumber"])
                sums[group] = sums.get(group, ZERO) + row.data["amount"]
        for (_day, document), left in sums.items():
            if left:
                raise dialog(f"Document No. {document} is out of balance by {left:.2f}. Please check that Posting "
                             "Date, Document Type, Document No. and Amount are correct for each line.")
        entry = 1 + len(self.store.rows("generalLedgerEntries"))
        for row in lines:
            legs = [(row.data["accountId"], row.data["accountNumber"], row.data["amount"])]
            if row.data["balancingAccountId"] != NO_ID:
                legs.append((row.data["balancingAccountId"], row.data["balancingAccountNumber"], -row.data["amount"]))
            for account_id, account_number, amount in legs:
                self.store.create("generalLedgerEntries", {
                    "entryNumber": entry, "postingDate": row.data["postingDate"],
                    "documentNumber": row.data["documentNumber"], "documentType": " ",
                    "accountId": account_id, "accountNumber": account_number,
                    "description": row.data["description"], "debitAmount": max(amount, ZERO),
                    "creditAmount": max(-amount, ZERO)})
                entry += 1
            self.store.delete("journalLines", row.id)

"""The NetSuite sandbox account's records and the rules NetSuite applies to them (no HTTP, no XML here).

Records are kept as plain dicts by ``internalId`` (one sequence for all types: NetSuite's ids are per type, which
nothing here depends on). Every write stamps ``lastModifiedDate``; a delete leaves a deleted-record entry for
``getDeleted``. Amounts are ``Decimal``; totals, ``amountRemaining`` and a transaction's ``status`` follow from the
lines and what payments and credit memos apply. The refusal codes are NetSuite's public status codes; which rule
answers which code is partly guessed (docs/sandbox-netsuitesoap.md says where).
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from decimal import Decimal

from .costs import COST_TYPES, CostBooks
from .values import CENT, NetSuiteError, money

__all__ = ["CENT", "SEARCH_TYPES", "TYPES", "Books", "Listed", "NetSuiteError", "money"]

TYPES = {"Customer": "customer", "Invoice": "invoice", "CustomerPayment": "customerPayment",
         "CreditMemo": "creditMemo", "NonInventorySaleItem": "nonInventorySaleItem",
         "CustomerRefund": "customerRefund", "Check": "check", "JournalEntry": "journalEntry",
         "VendorBill": "vendorBill", "Vendor": "vendor"}
#: Search ``type`` values of TransactionSearchBasic -> our record types.
SEARCH_TYPES = {"_invoice": "invoice", "_customerPayment": "customerPayment", "_creditMemo": "creditMemo",
                "_customerRefund": "customerRefund", "_check": "check", "_journal": "journalEntry",
                "_vendorBill": "vendorBill"}


@dataclass(frozen=True)
class Listed:
    """One record as the kit's control endpoints list it (``id`` and a copy of its fields)."""

    resource: str
    id: str
    data: dict


class Books(CostBooks):
    def __init__(self, clock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        self.records: dict[str, dict] = {}
        self.deleted: list[tuple[float, str, str, str]] = []  # (when, type, internalId, externalId)
        self.items: dict[str, dict] = {}
        self.tax_codes: dict[str, Decimal] = {}
        #: Accounts, sales tax items and currencies (record type -> rows): read-only over the API here.
        self.reference: dict[str, list[dict]] = {}
        self._ids = itertools.count(100)

    # -- lookups -----------------------------------------------------------------------------------------------------
    def find(self, kind: str, internal_id: str = "", external_id: str = "") -> dict | None:
        for record in self.records.values():
            if record["_type"] != kind:
                continue
            if internal_id and record["internalId"] == internal_id:
                return record
            if external_id and not internal_id and record.get("externalId") == external_id:
                return record
        return None

    def require(self, kind: str, ref: dict | None, field: str) -> dict:
        ref = ref or {}
        found = self.find(kind, ref.get("internalId", ""), ref.get("externalId", ""))
        if found is None:
            key = ref.get("internalId") or ref.get("externalId") or ""
            raise NetSuiteError("INVALID_KEY_OR_REF", f"Invalid {field} reference key {key}.")
        return found

    # -- writes --------------------------------------------------------------------------------------------------------
    def add(self, kind: str, body: dict) -> dict:
        external = body.get("externalId") or ""
        if external and self.find(kind, external_id=external) is not None:
            raise NetSuiteError("DUP_RCRD", "This record already exists.")
        record = {"_type": kind, "internalId": str(next(self._ids)), "externalId": external,
                  "createdDate": self.clock(), "_applied": {}, "_refunded": {}}
        return self._save(record, body)

    def update(self, kind: str, body: dict) -> dict:
        if not body.get("internalId") and not body.get("externalId"):
            raise NetSuiteError("USER_ERROR", "You must specify an internalId or an externalId to update a record.")
        record = self.find(kind, body.get("internalId", ""), body.get("externalId", ""))
        if record is None:
            raise NetSuiteError("RCRD_DSNT_EXIST", "That record does not exist.")
        return self._save(record, body)

    def upsert(self, kind: str, body: dict) -> dict:
        if not body.get("externalId"):
            raise NetSuiteError("USER_ERROR", "You must specify an externalId to upsert a record.")
        record = self.find(kind, external_id=body["externalId"])
        return self._save(record, body) if record is not None else self.add(kind, body)

    def delete(self, kind: str, ref: dict) -> dict:
        record = self.find(kind, ref.get("internalId", ""), ref.get("externalId", ""))
        if record is None:
            raise NetSuiteError("RCRD_DSNT_EXIST", "That record does not exist.")
        if kind == "customer" and any(r.get("_customer") == record["internalId"] for r in self.records.values()):
            raise NetSuiteError("CANT_DELETE_RCRD", "This record cannot be deleted because it has dependent records.")
        if kind == "vendor" and any(r["_type"] in ("check", "vendorBill") and (r.get("entity") or {}).get(
                "internalId") == record["internalId"] for r in self.records.values()):
            raise NetSuiteError("CANT_DELETE_RCRD", "This record cannot be deleted because it has dependent records.")
        if kind == "nonInventorySaleItem" and any(
                (line.get("item") or {}).get("internalId") == record["internalId"]
                for r in self.records.values() for line in r.get("itemList") or []):
            raise NetSuiteError("CANT_DELETE_RCRD", "This record cannot be deleted because it has dependent records.")
        if kind == "nonInventorySaleItem":
            self.items.pop(record["internalId"], None)
        if kind == "invoice" and self.applied_to(record["internalId"]):
            raise NetSuiteError("CANT_DELETE_RCRD", "This record cannot be deleted because it has dependent records.")
        self.refuse_delete_of_refunded(kind, record)
        if kind in ("customerPayment", "creditMemo"):
            record["_applied"] = {}
            self._refresh_invoices()
        del self.records[record["internalId"]]
        if kind == "customerRefund":  # the credits it took are unapplied again
            self._refresh_invoices()
        self.deleted.append((self.clock(), kind, record["internalId"], record.get("externalId") or ""))
        return record

    def void(self, kind: str, ref: dict) -> dict:
        record = self.find(kind, ref.get("internalId", ""), ref.get("externalId", ""))
        if record is None:
            raise NetSuiteError("RCRD_DSNT_EXIST", "That record does not exist.")
        if self.applied_to(record["internalId"]):
            raise NetSuiteError("CANT_DELETE_RCRD", "This transaction cannot be voided because it has dependent "
                                "records.")
        record["_voided"] = True
        record["itemList"] = [{**line, "amount": Decimal("0.00"), "rate": Decimal("0.00"), "tax1Amt": Decimal("0.00")}
                              for line in record["itemList"]]
        record["lastModifiedDate"] = self.clock()
        self._refresh_invoices()
        return record

    def _save(self, record: dict, body: dict) -> dict:
        kind = record["_type"]
        draft = {**record, **{k: v for k, v in body.items()
                              if k not in ("internalId", "itemList", "applyList", "expenseList", "lineList")}}
        if kind in COST_TYPES:
            self.save_cost(kind, record, body, draft)
        elif kind == "nonInventorySaleItem":
            if not draft.get("itemId"):
                raise NetSuiteError("USER_ERROR", "Please enter value(s) for: Item Name/Number")
            income = (draft.get("incomeAccount") or {}).get("internalId", "")
            if not any(a["internalId"] == income and a["acctType"] in ("_income", "_otherIncome")
                       for a in self.reference.get("account", [])):
                raise NetSuiteError("INVALID_KEY_OR_REF", f"Invalid incomeaccount reference key {income}.")
            draft["rate"] = money(draft.get("rate") or "0")
            self.items[draft["internalId"]] = {"internalId": draft["internalId"], "name": draft["itemId"],
                                               "rate": draft["rate"]}
        elif kind == "vendor":
            if not (draft.get("companyName") or draft.get("entityId")):
                raise NetSuiteError("USER_ERROR", "Please enter value(s) for: Company Name")
            draft["isInactive"] = str(draft.get("isInactive", "false")).lower() == "true"
        elif kind == "customer":
            if not (draft.get("companyName") or draft.get("entityId")):
                raise NetSuiteError("USER_ERROR", "Please enter value(s) for: Company Name")
            others = [r for r in self.records.values() if r["_type"] == "customer" and r is not record
                      and r.get("entityId") and r.get("entityId") == draft.get("entityId")]
            if others:
                raise NetSuiteError("DUP_ENTITY", "This entity already exists.")
        else:
            party = "customer" if kind == "customerPayment" else "entity"
            customer = self.require("customer", draft.get(party), party)
            draft["_customer"] = customer["internalId"]
            draft[party] = {"internalId": customer["internalId"], "name": customer.get("companyName") or ""}
            if kind in ("invoice", "creditMemo"):
                lines = body.get("itemList", record.get("itemList"))
                if not lines:
                    raise NetSuiteError("USER_ERROR", "You must enter at least one line item for this transaction.")
                draft["itemList"] = [self._line(line, n) for n, line in enumerate(lines, 1)]
            if kind in ("customerPayment", "creditMemo"):
                applies = body.get("applyList")
                draft["_applied"] = self._applies(applies, draft) if applies is not None else record["_applied"]
        draft["lastModifiedDate"] = self.clock()
        self.records[draft["internalId"]] = draft
        self._refresh_invoices()
        return draft

    def _line(self, line: dict, number: int) -> dict:
        item = self.items.get((line.get("item") or {}).get("internalId", ""))
        if item is None:
            raise NetSuiteError("INVALID_KEY_OR_REF", f"Invalid item reference key "
                                f"{(line.get('item') or {}).get('internalId', '')}.")
        quantity = Decimal(str(line.get("quantity") or "1"))
        rate = money(line.get("rate") if line.get("rate") not in (None, "") else item["rate"])
        amount = money(line["amount"]) if line.get("amount") not in (None, "") else (quantity * rate).quantize(CENT)
        out = {"item": {"internalId": item["internalId"], "name": item["name"]}, "line": number,
               "description": line.get("description") or item["name"], "quantity": quantity, "rate": rate,
               "amount": amount, "tax1Amt": Decimal("0.00")}
        code = (line.get("taxCode") or {}).get("internalId", "")
        if code:
            if code not in self.tax_codes:
                raise NetSuiteError("INVALID_KEY_OR_REF", f"Invalid taxcode reference key {code}.")
            out["taxCode"] = {"internalId": code}
            out["tax1Amt"] = money(line["tax1Amt"]) if line.get("tax1Amt") not in (None, "") else \
                (amount * self.tax_codes[code] / 100).quantize(CENT)
        return out

    def _applies(self, applies: list[dict], record: dict) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for apply in applies:
            if str(apply.get("apply", "true")).lower() != "true":
                continue
            invoice = self.find("invoice", str(apply.get("doc") or ""))
            if invoice is None or invoice["_customer"] != record["_customer"]:
                raise NetSuiteError("INVALID_KEY_OR_REF", f"Invalid apply reference key {apply.get('doc')}.")
            amount = money(apply.get("amount") or "0")
            due = invoice["total"] - sum(a for rid, a in self.applied_to(invoice["internalId"])
                                         if rid != record["internalId"])
            if amount > due:
                raise NetSuiteError("USER_ERROR", f"The amount applied to invoice {invoice.get('tranId')} "
                                    f"({amount}) is more than its amount due ({due}).")
            out[invoice["internalId"]] = amount
        if record["_type"] == "customerPayment":
            payment = money(record.get("payment") or "0")
            if sum(out.values(), Decimal("0")) > payment:
                raise NetSuiteError("USER_ERROR", "The total applied exceeds the payment amount.")
        return out

    def applied_to(self, invoice_id: str) -> list[tuple[str, Decimal]]:
        return [(r["internalId"], r["_applied"][invoice_id]) for r in self.records.values()
                if invoice_id in r.get("_applied", {})]

    def _refresh_invoices(self) -> None:
        """Totals of every transaction: lines, tax, what is applied, and the status that follows."""
        for record in self.records.values():
            kind = record["_type"]
            if kind in ("invoice", "creditMemo"):
                sub = sum((line["amount"] for line in record["itemList"]), Decimal("0.00"))
                tax = sum((line["tax1Amt"] for line in record["itemList"]), Decimal("0.00"))
                record.update(subTotal=sub, taxTotal=tax, total=sub + tax)
            if kind == "invoice":
                paid = sum((a for _, a in self.applied_to(record["internalId"])), Decimal("0.00"))
                record.update(amountPaid=paid, amountRemaining=record["total"] - paid,
                              status="Voided" if record.get("_voided") else
                              "Paid In Full" if paid >= record["total"] else "Open")
            elif kind == "creditMemo":  # what refunds take from it is no longer unapplied
                applied = sum(record["_applied"].values(), Decimal("0.00"))
                left = record["total"] - applied - self.refunded(record["internalId"])
                record.update(applied=applied, unapplied=left, status="Fully Applied" if left <= 0 else "Open")
            elif kind == "customerPayment":
                applied = sum(record["_applied"].values(), Decimal("0.00"))
                payment = money(record.get("payment") or "0")
                record.update(payment=payment, applied=applied,
                              unapplied=payment - applied - self.refunded(record["internalId"]), status="Deposited")
            elif kind in COST_TYPES:
                self.refresh_cost(record)

    # -- the kit's store interface (state counts, rows, delete) over these books ------------------------------------
    def _table(self, resource: str) -> list[dict]:
        if resource in self.reference:
            return self.reference[resource]
        return [r for r in self.records.values() if r["_type"] == resource]

    def counts(self) -> dict[str, int]:
        with self.lock:
            kinds = {r["_type"] for r in self.records.values()} | set(self.reference)
            return {kind: len(self._table(kind)) for kind in sorted(kinds)}

    def rows(self, resource: str) -> list[Listed]:
        with self.lock:
            return [Listed(resource, str(r["internalId"]), dict(r)) for r in self._table(resource)]

    def remove(self, resource: str, record_id: str) -> Listed:
        """What the kit's ``store.delete`` does: the record is gone (a transaction leaves a getDeleted entry)."""
        with self.lock:
            if resource in self.reference:
                table = self.reference[resource]
                row = next(r for r in table if str(r["internalId"]) == str(record_id))
                table.remove(row)
                self.items.pop(str(record_id), None) if resource == "item" else None
                return Listed(resource, str(record_id), dict(row))
            return Listed(resource, str(record_id), dict(self.delete(resource, {"internalId": str(record_id)})))

"""Refunds, expenses and journals as Acumatica's contract-based API (Default endpoint) models them. Pure: no I/O,
plain (unwrapped) records; the client wraps every value as ``{"value": ...}``.

- **Refund** of a credit note: a ``Payment`` of ``Type`` "Refund" (Payments and Applications) for the customer,
  paid from the mapped refund ``CashAccount`` with the connection's ``PaymentMethod``, our number in
  ``PaymentRef``, applied in ``DocumentsToApply`` to the released credit memo (``DocType`` "Credit Memo", its
  ``ReferenceNbr``, ``AmountPaid``); released with ``ReleasePayment``, which lowers the memo's balance. Acumatica
  cannot change a released refund: a changed one is voided (``VoidPayment``, the credit comes back) and entered
  again. A refund of an overpayment is not sent (refused before sending).
- **Expense**: a vendor ``Bill`` (our payee as a ``Vendor`` keyed by an id made from its name), our number in
  ``VendorRef``, in the expense's currency, one line per our line (``Account``, ``TransactionDescription``,
  ``Qty`` 1, ``UnitCost`` before tax, ``TaxCategory``: Acumatica adds the tax), released with ``ReleaseBill``;
  then a ``Check`` (``Type`` "Payment") from the mapped paid-from ``CashAccount`` for the bill's amount, applied
  to it and released (``ReleaseCheck``). Why a bill and a check: Default's ``CashTransaction`` carries only an
  amount and a description per line (no account, no tax category, no currency) and ``ExpenseReceipt`` belongs to
  an employee's expense claim; a bill takes accounts, tax and a currency, and the check pays it from the cash
  account (docs/connectors/acumatica.md).
- **Journal**: a ``JournalTransaction`` of ``Module`` "GL" (Journal Transactions), our number as its
  ``Description`` and each line's ``ReferenceNbr``, ``TransactionDate``, ``CurrencyID`` and ``Details``
  (``Account``, ``DebitAmount``, ``CreditAmount``, ``TransactionDescription``; the account's default
  ``Subaccount``), released with ``ReleaseJournalTransaction``. It must balance: preflight stops one that does not
  before Acumatica would refuse it ("Batch is out of balance").
"""
from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from .. import rest
from ..documents import BillSnapshot, ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot, RemoteResult
from ..errors import ConfigurationError
from .translate import CANCELLED, ref, version

ZERO = Decimal("0.00")
#: The remote id of a journal batch: ``GL/<BatchNbr>`` (its key fields ``Module`` and ``BatchNbr``).
JOURNAL_MODULE = "GL"
#: Acumatica's refusal of a bill whose vendor it does not know.
VENDOR_UNKNOWN = re.compile(r"'Vendor' cannot be found", re.I)
TEXT_LENGTH = 256  # a guess: Acumatica's description fields (TransactionDescr, TranDesc) take 256 characters


def refund_problems(doc: RefundSnapshot) -> list[str]:
    if doc.credit_note_key:
        return []
    return ["this connector refunds credit notes only, not a customer's overpayment; enter the refund in "
            "Acumatica by hand (Payments and Applications, type Refund, applied to the payment)"]


def refund_record(doc: RefundSnapshot, mapping: Mapping, method: str) -> dict:
    if not mapping.deposit_account:
        raise ConfigurationError("no refund account is mapped", hint="Map a refund account (an Acumatica cash "
                                 "account) for this payment method.")
    memo = ref(mapping, doc.credit_note_key, "credit note").partition("/")[2]
    return {"Type": "Refund", "CustomerID": ref(mapping, doc.customer_key, "customer"), "PaymentMethod": method,
            "CashAccount": str(mapping.deposit_account), "PaymentAmount": doc.amount, "PaymentRef": doc.number,
            "ApplicationDate": rest.iso_date(doc.date), "CurrencyID": doc.currency,
            "Description": (doc.memo or f"Refund {doc.number} ({doc.method})")[:TEXT_LENGTH], "Hold": False,
            "DocumentsToApply": [{"DocType": "Credit Memo", "ReferenceNbr": memo, "AmountPaid": doc.amount}]}


def same_refund(written: dict, read: dict) -> bool:
    fields = ("CustomerID", "PaymentAmount", "PaymentRef", "CashAccount", "CurrencyID")
    applied = {(a.get("DocType"), a.get("ReferenceNbr")) for a in read.get("DocumentsToApply") or []}
    return all(rest.plain(written.get(f)) == rest.plain(read.get(f)) for f in fields) and \
        str(written.get("ApplicationDate") or "")[:10] == str(read.get("ApplicationDate") or "")[:10] and \
        applied == {(a["DocType"], a["ReferenceNbr"]) for a in written["DocumentsToApply"]}


def refund_result(record: dict, adopted: bool = False) -> RemoteResult:
    head = {**record, "ApplicationDate": str(record.get("ApplicationDate") or "")[:10]}
    content = rest.content_hash("refund", head, ("CustomerID", "PaymentAmount", "ApplicationDate", "PaymentRef",
                                                 "CashAccount"))
    gone = record.get("Status") in CANCELLED
    total = ZERO if gone else rest.money(record.get("PaymentAmount"))
    return RemoteResult(f"{record['Type']}/{record['ReferenceNbr']}", version(record, content),
                        str(record.get("PaymentRef") or ""), total, None, "voided" if gone else "active", adopted,
                        record, content)


# -- expenses: a vendor bill paid by check ---------------------------------------------------------------------
def vendor_id(payee: str) -> str:
    """A ten-character ``VendorID`` from the payee's name: the same name always gives the same vendor."""
    return "V" + hashlib.sha256(payee.strip().casefold().encode()).hexdigest()[:9].upper()


def vendor_name(doc: ExpenseSnapshot | BillSnapshot) -> str:
    """The vendor's name: an expense's payee, a supplier bill's supplier."""
    name = doc.supplier if isinstance(doc, BillSnapshot) else doc.payee
    return name.strip() or "Expenses"


def vendor_record(doc: ExpenseSnapshot | BillSnapshot) -> dict:
    return {"VendorID": vendor_id(vendor_name(doc)), "VendorName": vendor_name(doc)[:TEXT_LENGTH], "Status": "Active"}


def bill_record(doc: ExpenseSnapshot | BillSnapshot, mapping: Mapping) -> dict:
    """An expense's bill (paid at once by a check) or a supplier bill (left open on accounts payable)."""
    if isinstance(doc, BillSnapshot):
        return supplier_bill_record(doc, mapping)
    return {"Type": "Bill", "Vendor": vendor_id(vendor_name(doc)), "VendorRef": doc.number,
            "Date": rest.iso_date(doc.date), "CurrencyID": doc.currency, "Hold": False,
            "Description": _description(doc, f"Expense {doc.number}"), "Details": cost_lines(doc, mapping)}


def supplier_number(doc: BillSnapshot) -> str:
    """A supplier bill's ``VendorRef`` (Vendor Ref.): the supplier's bill number, else ours. Acumatica's field is
    the vendor's own reference; our number then also heads the description."""
    return (doc.supplier_reference.strip() or doc.number)[:40]


def supplier_bill_record(doc: BillSnapshot, mapping: Mapping) -> dict:
    """A supplier bill: the same ``Bill`` as an expense's, with the supplier's number and a ``DueDate``; no check
    pays it, so released it stays Open (``Balance`` the bill's ``Amount``) on the vendor's A/P account."""
    record = {"Type": "Bill", "Vendor": vendor_id(vendor_name(doc)), "VendorRef": supplier_number(doc),
              "Date": rest.iso_date(doc.issue_date), "CurrencyID": doc.currency, "Hold": False,
              "Description": _description(doc, f"Bill {doc.number}"), "Details": cost_lines(doc, mapping)}
    if doc.due_date:
        record["DueDate"] = rest.iso_date(doc.due_date)
    return record


def _description(doc: ExpenseSnapshot | BillSnapshot, head: str) -> str:
    if isinstance(doc, BillSnapshot):
        notes = [head, doc.memo, f"Attachment: {doc.attachment}" if doc.attachment else ""]
    else:
        notes = [doc.memo, f"Receipt: {doc.attachment}" if doc.attachment else ""]
    return (" - ".join(n for n in notes if n) or head)[:TEXT_LENGTH]


def cost_lines(doc: ExpenseSnapshot | BillSnapshot, mapping: Mapping) -> list[dict]:
    what = "bill" if isinstance(doc, BillSnapshot) else "expense"
    lines = []
    for index, line in enumerate(doc.lines):
        account = mapping.line_account(index)
        if not account:
            raise ConfigurationError(f"line {index + 1} of {what} {doc.number} has no expense account mapped",
                                     hint="Map an expense account for its cost kind in the mapping editor.")
        lines.append({"Account": str(account), "Qty": Decimal("1"), "UnitCost": line.net_amount,
                      "TransactionDescription": (line.description or line.cost_kind.replace("_", " "))[:TEXT_LENGTH],
                      "TaxCategory": mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None})
    return lines


def check_record(doc: ExpenseSnapshot, mapping: Mapping, method: str, bill: dict) -> dict:
    if not mapping.deposit_account:
        raise ConfigurationError("no paid-from account is mapped for this expense",
                                 hint="Map a paid-from account (an Acumatica cash account) for its method.")
    amount = rest.money(bill.get("Amount"))
    return {"Type": "Payment", "Vendor": bill["Vendor"], "PaymentMethod": method,
            "CashAccount": str(mapping.deposit_account), "PaymentAmount": amount, "PaymentRef": doc.number,
            "ApplicationDate": rest.iso_date(doc.date), "CurrencyID": bill.get("CurrencyID") or doc.currency,
            "Description": f"Expense {doc.number}", "Hold": False,
            "Details": [{"DocType": "Bill", "ReferenceNbr": bill["ReferenceNbr"], "AmountPaid": amount}]}


def bill_content(record: dict) -> str:
    return rest.content_hash("bill", record, ("Vendor", "VendorRef", "CurrencyID"),
                             ("TransactionDescription", "UnitCost", "Account", "TaxCategory"), lines="Details")


def same_bill(written: dict, read: dict) -> bool:
    ours, theirs = written.get("Details") or [], read.get("Details") or []
    fields = ("TransactionDescription", "UnitCost", "Account", "TaxCategory")
    dates = ("Date", "DueDate") if "DueDate" in written else ()  # a supplier bill's dates count (not an expense's)
    return all(rest.plain(written.get(f)) == rest.plain(read.get(f)) for f in ("Vendor", "VendorRef", "CurrencyID")) \
        and all(str(written[f] or "")[:10] == str(read.get(f) or "")[:10] for f in dates) \
        and len(ours) == len(theirs) and all(
            rest.plain(mine.get(f)) == rest.plain(other.get(f)) for mine, other in zip(ours, theirs, strict=True)
            for f in fields if f != "TaxCategory" or mine.get(f) is not None)


#: The form fields the Default endpoint leaves out that link a reversing document to what it reverses, read with
#: ``$custom`` (``<View>.<Field>``): a debit adjustment's Orig. Ref. Nbr. (Bills and Adjustments' ``Document`` view,
#: ``APRegister.OrigRefNbr``, set by Reverse) and a GL batch's origin (Journal Transactions' ``BatchModule`` view,
#: ``Batch.OrigModule`` / ``OrigBatchNbr`` / ``AutoReverseCopy``, set by Reverse).
BILL_ORIGIN = "Document.OrigRefNbr"
BATCH_ORIGIN = "BatchModule.OrigModule,BatchModule.OrigBatchNbr,BatchModule.AutoReverseCopy"
#: The same fields in a ``$filter``.
CUSTOM_FILTER = {"OrigRefNbr": "cf.String(f='Document.OrigRefNbr')",
                 "OrigBatchNbr": "cf.String(f='BatchModule.OrigBatchNbr')",
                 "AutoReverseCopy": "cf.Boolean(f='BatchModule.AutoReverseCopy')"}
REVERSAL_PREFIX = "Reversal of "


def custom(record: dict, view: str, field: str):
    """A ``$custom`` field's value from a record's ``custom`` (``{View: {Field: {"type", "value"}}}``)."""
    value = ((record.get("custom") or {}).get(view) or {}).get(field)
    return value.get("value") if isinstance(value, dict) else value


def reversed_bill(adjustment: dict) -> str | None:
    """The remote id of the bill a debit adjustment reverses (its Orig. Ref. Nbr.), None for another document."""
    if adjustment.get("Type") != "Debit Adj.":
        return None
    number = custom(adjustment, "Document", "OrigRefNbr")
    return f"Bill/{number}" if number else None


def reversed_batch(batch: dict) -> str | None:
    """The remote id of the GL batch a batch reverses: a person's Reverse (``AutoReverseCopy``, ``OrigModule`` /
    ``OrigBatchNbr``) or our counter-batch ("Reversal of GL/<nbr>"); None for any other batch."""
    number = custom(batch, "BatchModule", "OrigBatchNbr")
    if number and custom(batch, "BatchModule", "AutoReverseCopy") in (True, "true", "True"):
        return f"{custom(batch, 'BatchModule', 'OrigModule') or JOURNAL_MODULE}/{number}"
    description = str(batch.get("Description") or "")
    return description[len(REVERSAL_PREFIX):] if description.startswith(REVERSAL_PREFIX) else None


def reversal_of(remote_id: str) -> str:
    """The ``Description`` of the debit adjustment or counter-batch that reverses ``remote_id``."""
    return f"{REVERSAL_PREFIX}{remote_id}"


def bill_result(record: dict, adopted: bool = False, reversed_: bool = False) -> RemoteResult:
    """An expense as its bill: the bill's amount with tax; nothing is left to pay once its check is released. A
    bill we reversed is reported voided."""
    content = bill_content(record)
    gone = record.get("Status") in CANCELLED or reversed_
    total = ZERO if gone else rest.money(record.get("Amount"))
    balance = ZERO if gone else rest.money(record.get("Balance"))
    return RemoteResult(f"{record['Type']}/{record['ReferenceNbr']}", version(record, content),
                        str(record.get("VendorRef") or ""), total, balance, "voided" if gone else "active", adopted,
                        record, content)


# -- journals ----------------------------------------------------------------------------------------------------
def journal_record(doc: JournalSnapshot, mapping: Mapping) -> dict:
    lines = []
    for index, line in enumerate(doc.lines):
        account = mapping.line_account(index)
        if not account:
            raise ConfigurationError(f"line {index + 1} of journal {doc.number} (account code {line.account_code}) "
                                     "has no Acumatica account mapped", hint="Map the account code to an Acumatica "
                                     "account in the mapping editor.")
        lines.append({"Account": str(account), "DebitAmount": line.debit, "CreditAmount": line.credit,
                      "ReferenceNbr": doc.number,
                      "TransactionDescription": (line.description or doc.memo or doc.number)[:TEXT_LENGTH]})
    return {"Module": JOURNAL_MODULE, "Description": doc.number, "TransactionDate": rest.iso_date(doc.date),
            "CurrencyID": doc.currency, "Hold": False, "Details": lines}


def journal_id(record: dict) -> str:
    return f"{record['Module']}/{record['BatchNbr']}"


def journal_keys(remote_id: str) -> dict:
    module, _, number = remote_id.partition("/")
    return {"Module": module, "BatchNbr": number}


def journal_total(record: dict) -> Decimal | None:
    """A batch's total as ours: its debits (Default's ``JournalTransaction`` has no total field)."""
    lines = record.get("Details")
    if lines is None:
        return None
    return sum((rest.money(line.get("DebitAmount")) for line in lines), ZERO)


def journal_content(record: dict) -> str:
    return rest.content_hash("journal", record, ("Description", "CurrencyID"),
                             ("Account", "DebitAmount", "CreditAmount", "TransactionDescription"), lines="Details")


def same_journal(written: dict, read: dict) -> bool:
    ours, theirs = written.get("Details") or [], read.get("Details") or []
    fields = ("Account", "DebitAmount", "CreditAmount", "TransactionDescription")
    return rest.plain(written.get("Description")) == rest.plain(read.get("Description")) and \
        str(written.get("TransactionDate") or "")[:10] == str(read.get("TransactionDate") or "")[:10] and \
        len(ours) == len(theirs) and all(rest.plain(mine.get(f)) == rest.plain(other.get(f))
                                         for mine, other in zip(ours, theirs, strict=True) for f in fields)


def counter_batch(batch: dict, description: str) -> dict:
    """A batch that takes ``batch`` back: its lines with debit and credit swapped, on its date and currency."""
    lines = [{"Account": line["Account"], "Subaccount": line.get("Subaccount"),
              "DebitAmount": rest.money(line.get("CreditAmount")), "CreditAmount": rest.money(line.get("DebitAmount")),
              "ReferenceNbr": line.get("ReferenceNbr"), "TransactionDescription": line.get("TransactionDescription")}
             for line in batch.get("Details") or []]
    return {"Module": batch["Module"], "Description": description, "TransactionDate": batch.get("TransactionDate"),
            "CurrencyID": batch.get("CurrencyID"), "Hold": False, "Details": lines}


def journal_result(record: dict, adopted: bool = False, reversed_: bool = False) -> RemoteResult:
    content = journal_content(record)
    gone = record.get("Status") in CANCELLED or reversed_
    total = journal_total(record)
    return RemoteResult(journal_id(record), version(record, content), str(record.get("Description") or ""),
                        ZERO if gone else total, None, "voided" if gone else "active", adopted, record, content)

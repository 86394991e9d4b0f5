"""Refunds, expenses and journals as Sage Intacct models them. Pure: no I/O; function bodies for the XML gateway
(``wire`` writes them) and Intacct's objects back to our results. Sources and guesses: docs/connectors/intacct.md.

- **Refund** of a credit note: a customer refund (``ARREFUND``, 3.0 ``create``): ``CUSTOMERID``, the mapped refund
  account as ``FINANCIALENTITY`` (the account the money leaves), ``PAYMENTMETHOD``, our number as ``DOCNUMBER``,
  ``PAYMENTDATE``, ``CURRENCY`` and one ``ARREFUNDDETAIL`` naming the credit memo (``RECORDKEY``, its
  ``RECORDNO``) and the amount (``TRX_PAYMENTAMOUNT``). Intacct lowers what the credit memo has left. Intacct does
  not edit a refund: a changed one is reversed (``reverse_arrefund``, the credit comes back) and issued again; a
  void reverses it. A refund of an overpayment is not sent (refused before sending).
- **Expense**: an AP bill paid at once, what an Intacct accountant keeps for a cost paid on the spot. The payee is
  a ``VENDOR`` whose ``VENDORID`` is made from its name; the bill is the legacy ``create_bill`` (as Sage's SDKs
  write it: ``vendorid``, split dates, ``billno`` our number, ``currency``, ``billitems`` of ``lineitem`` with
  ``glaccountno``, ``amount`` before tax, ``memo`` and a ``taxentry``); the payment an ``APPYMT`` (3.0 ``create``:
  ``FINANCIALENTITY`` the mapped paid-from account, ``PAYMENTMETHOD``, ``VENDORID``, ``DOCNUMBER``,
  ``PAYMENTDATE``, ``CURRENCY``, ``APPYMTDETAILS`` with the bill's ``RECORDKEY`` and ``TRX_PAYMENTAMOUNT``).
  Taken back: the payment reversed (``reverse_appayment``), then the bill (``reverse_bill``).
- **Supplier bill**: the expense's AP bill without its payment, so it stays open (``TOTALDUE`` its total). The
  supplier is the ``VENDOR`` made from its name as a payee's is; ``billno`` (the bill number, ``RECORDID``) is the
  supplier's own bill number, else ours; ``ponumber`` (the reference number, ``DOCNUMBER``, as Sage's SDKs map
  ``ReferenceNumber``) our number; ``datecreated`` the bill's date, ``datedue`` its due date. Intacct posts it to
  the accounts-payable account of its AP set-up (``create_bill`` names none: the optional accounts-payable rule is
  not used). Voided by ``reverse_bill`` (refused while payments are applied); a changed bill is reversed and sent
  again. No exchange rate is sent: Intacct takes its own for the bill's date (as for invoices).
- **Journal**: a ``GLBATCH`` (3.0 ``create``) in the general journal (``JOURNAL`` "GJ"), ``BATCH_DATE``,
  ``BATCH_TITLE``, our number as ``REFERENCENO`` and ``ENTRIES`` of ``GLENTRY`` (``ACCOUNTNO``, ``TR_TYPE`` 1 debit
  / -1 credit, ``TRX_AMOUNT``, ``CURRENCY``, ``DESCRIPTION``, ``DOCUMENT``), posted. It must balance. Voided by a
  reversing batch (its entries with debit and credit swapped, ``REVERSEDFROM`` naming the batch), after which
  Intacct shows the batch ``Reversed``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal

from .. import rest
from ..documents import BillSnapshot, Entity, ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot, RemoteResult
from ..errors import ConfigurationError
from .translate import METHODS, lines_of, ref_id, version
from .wire import as_list, split_date

ZERO = Decimal("0.00")
REFUND, BILL, BILL_PAYMENT, JOURNAL = "ARREFUND", "APBILL", "APPYMT", "GLBATCH"
#: What a reversed refund, bill or batch reads as (``STATE``).
VOIDED = {REFUND: "Voided", BILL: "Reversed", BILL_PAYMENT: "Voided", JOURNAL: "Reversed"}
#: The general journal's symbol (every company has it).
GENERAL_JOURNAL = "GJ"
DEBIT, CREDIT = "1", "-1"
TEXT = 1000  # a guess: Intacct's description and memo fields
#: Intacct's refusal of a bill whose vendor it does not know (a guess at its words: "Invalid vendor").
VENDOR_UNKNOWN = re.compile(r"invalid vendor|vendor .*not found", re.I)


def _day(day: dt.date | None) -> str:
    return (day or dt.date.today()).strftime("%m/%d/%Y")


def _account(mapping: Mapping, what: str) -> str:
    if not mapping.deposit_account:
        raise ConfigurationError(f"no {what} account is mapped", hint=f"Map a {what} account (an Intacct bank or "
                                 "cash GL account) for this payment method.")
    return str(mapping.deposit_account)


# -- refunds ---------------------------------------------------------------------------------------------------------
def refund_problems(doc: RefundSnapshot) -> list[str]:
    if doc.credit_note_key:
        return []
    return ["this connector refunds credit notes only, not a customer's overpayment; enter the refund in Sage "
            "Intacct by hand (Accounts Receivable, Customer refunds, against the payment)"]


def refund_body(doc: RefundSnapshot, mapping: Mapping) -> dict:
    if problems := refund_problems(doc):
        raise ConfigurationError("; ".join(problems), hint="Enter the refund in Sage Intacct by hand.")
    return {REFUND: {"CUSTOMERID": ref_id(mapping, doc.customer_key, "customer"),
                     "FINANCIALENTITY": _account(mapping, "refund"),
                     "PAYMENTMETHOD": METHODS.get(doc.method, "EFT"), "DOCNUMBER": doc.number,
                     "PAYMENTDATE": _day(doc.date), "CURRENCY": doc.currency or None,
                     "DESCRIPTION": (doc.memo or f"Refund {doc.number} ({doc.method})")[:TEXT],
                     "ARREFUNDDETAILS": {"ARREFUNDDETAIL": [{
                         "RECORDKEY": ref_id(mapping, doc.credit_note_key, "credit note"),
                         "TRX_PAYMENTAMOUNT": doc.amount}]}}}


def refund_details(record: dict) -> list[dict]:
    found = record.get("ARREFUNDDETAILS")
    return as_list(found.get("arrefunddetail") if isinstance(found, dict) else None)


def same_refund(body: dict, record: dict) -> bool:
    """Whether a refund already holds what ``refund_body`` would write (Intacct edits none)."""
    ours = body[REFUND]
    held = [(str(d.get("RECORDKEY")), rest.money(d.get("TRX_PAYMENTAMOUNT"))) for d in refund_details(record)]
    sent = [(str(d["RECORDKEY"]), rest.money(d["TRX_PAYMENTAMOUNT"]))
            for d in ours["ARREFUNDDETAILS"]["ARREFUNDDETAIL"]]
    return held == sent and all(str(record.get(f) or "") == str(ours.get(f) or "")
                                for f in ("CUSTOMERID", "FINANCIALENTITY", "DOCNUMBER", "PAYMENTDATE"))


def refund_result(record: dict, adopted: bool = False) -> RemoteResult:
    content = rest.content_hash("refund", record, ("CUSTOMERID", "TOTALENTERED", "PAYMENTDATE", "DOCNUMBER",
                                                   "FINANCIALENTITY"),
                                extra=[f"{d.get('RECORDKEY')}:{d.get('TRX_PAYMENTAMOUNT')}"
                                       for d in refund_details(record)])
    voided = record.get("STATE") == VOIDED[REFUND]
    total = ZERO if voided else rest.money(record.get("TOTALENTERED"))
    return RemoteResult(str(record["RECORDNO"]), version(record, content), str(record.get("DOCNUMBER") or ""), total,
                        None, "voided" if voided else "active", adopted, record, content)


# -- expenses: an AP bill paid at once -------------------------------------------------------------------------------
def vendor_id(payee: str) -> str:
    """A ``VENDORID`` from the payee's name (20 characters at most): the same name always gives the same vendor."""
    return "V" + hashlib.sha256((payee or "Expenses").strip().casefold().encode()).hexdigest()[:15].upper()


def party(doc: ExpenseSnapshot | BillSnapshot) -> str:
    """Whom the bill is owed to: an expense's payee, a supplier bill's supplier."""
    return doc.supplier if isinstance(doc, BillSnapshot) else doc.payee


def vendor_body(doc: ExpenseSnapshot | BillSnapshot) -> dict:
    name = (party(doc) or "Expenses").strip()
    return {"VENDOR": {"VENDORID": vendor_id(name), "NAME": name[:100], "DISPLAYCONTACT": {"PRINTAS": name[:100]}}}


def bill_items(doc: ExpenseSnapshot | BillSnapshot, mapping: Mapping) -> list[dict]:
    """One ``lineitem`` per our line on its mapped expense account, before tax, with its ``taxentry``."""
    items = []
    for index, line in enumerate(doc.lines):
        account = mapping.line_account(index)
        if not account:
            raise ConfigurationError(f"line {index + 1} of {doc.entity} {doc.number} has no expense account mapped",
                                     hint="Map an expense account for its cost kind in the mapping editor.")
        item = {"glaccountno": str(account), "amount": line.net_amount,
                "memo": (line.description or line.cost_kind.replace("_", " "))[:TEXT]}
        tax = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        if tax:
            item["taxentries"] = {"taxentry": {"detailid": tax, "trx_tax": line.tax_amount}}
        items.append(item)
    return items


def bill_body(doc: ExpenseSnapshot, mapping: Mapping) -> dict:
    items = bill_items(doc, mapping)
    notes = [doc.memo, f"Receipt: {doc.attachment}" if doc.attachment else ""]
    day = split_date(doc.date or dt.date.today())
    return {"vendorid": vendor_id(doc.payee), "datecreated": day, "datedue": day, "billno": doc.number,
            "description": (" - ".join(n for n in notes if n) or f"Expense {doc.number}")[:TEXT],
            "currency": doc.currency or None, "billitems": {"lineitem": items}}


def bill_number(doc: BillSnapshot) -> str:
    """A supplier bill's ``billno``: the supplier's bill number, else ours."""
    return doc.supplier_reference.strip() or doc.number


def supplier_bill_body(doc: BillSnapshot, mapping: Mapping) -> dict:
    """A supplier bill as the expense's ``create_bill`` writes it, with its own number, reference and due date."""
    notes = [doc.memo, f"Bill: {doc.attachment}" if doc.attachment else ""]
    day = doc.issue_date or dt.date.today()
    return {"vendorid": vendor_id(doc.supplier), "datecreated": split_date(day),
            "datedue": split_date(doc.due_date or day), "billno": bill_number(doc), "ponumber": doc.number,
            "description": (" - ".join(n for n in notes if n) or f"Bill {doc.number}")[:TEXT],
            "currency": doc.currency or None, "billitems": {"lineitem": bill_items(doc, mapping)}}


def bill_entity(record: dict) -> str:
    """Which of ours an ``APBILL`` is: a supplier bill carries our number as its reference number (``DOCNUMBER``);
    an expense's bill has none."""
    return Entity.BILL if record.get("DOCNUMBER") else Entity.EXPENSE


def bill_payment_body(doc: ExpenseSnapshot, mapping: Mapping, bill: dict) -> dict:
    return {BILL_PAYMENT: {"FINANCIALENTITY": _account(mapping, "paid-from"),
                           "PAYMENTMETHOD": METHODS.get(doc.paid_from, "EFT"), "VENDORID": bill["VENDORID"],
                           "DOCNUMBER": doc.number, "PAYMENTDATE": _day(doc.date),
                           "CURRENCY": bill.get("CURRENCY") or doc.currency or None,
                           "APPYMTDETAILS": {"APPYMTDETAIL": [{"RECORDKEY": bill["RECORDNO"],
                                                               "TRX_PAYMENTAMOUNT": rest.money(bill["TOTALDUE"])}]}}}


def _split_day(day: dict) -> str:
    """A ``split_date`` body as Intacct reads the date back (``MM/DD/YYYY``)."""
    return _day(dt.date(int(day["year"]), int(day["month"]), int(day["day"])))


def same_bill(body: dict, record: dict) -> bool:
    """Whether a bill already has what ``bill_body`` (or ``supplier_bill_body``) would write (Intacct edits no
    paid bill)."""
    held = [(str(line.get("ACCOUNTNO")), rest.money(line.get("AMOUNT")), str(line.get("TAXDETAILID") or ""))
            for line in lines_of(record)]
    sent = [(item["glaccountno"], rest.money(item["amount"]),
             str((item.get("taxentries") or {}).get("taxentry", {}).get("detailid") or ""))
            for item in body["billitems"]["lineitem"]]
    return held == sent and str(record.get("VENDORID")) == body["vendorid"] and \
        str(record.get("CURRENCY") or "") == str(body.get("currency") or record.get("CURRENCY") or "") and \
        str(record.get("WHENCREATED") or "") == _split_day(body["datecreated"]) and \
        str(record.get("WHENDUE") or "") == _split_day(body["datedue"]) and \
        str(record.get("RECORDID") or "") == str(body["billno"]) and \
        str(record.get("DOCNUMBER") or "") == str(body.get("ponumber") or record.get("DOCNUMBER") or "")


def bill_result(record: dict, adopted: bool = False) -> RemoteResult:
    """An expense or a supplier bill as its bill: the bill's total with tax and what it still owes (nothing for an
    expense once its payment is made). A reversed bill is reported voided."""
    content = rest.content_hash("bill", {**record, "lines": lines_of(record)}, ("VENDORID", "RECORDID", "CURRENCY"),
                                ("ACCOUNTNO", "AMOUNT", "MEMO", "TAXDETAILID", "TRX_TAX"), lines="lines")
    voided = record.get("STATE") == VOIDED[BILL]
    total = ZERO if voided else rest.money(record.get("TOTALENTERED"))
    balance = ZERO if voided else rest.money(record.get("TOTALDUE"))
    return RemoteResult(str(record["RECORDNO"]), version(record, content), str(record.get("RECORDID") or ""), total,
                        balance, "voided" if voided else "active", adopted, record, content)


def bill_tax(record: dict) -> Decimal:
    return ZERO if record.get("STATE") == VOIDED[BILL] else sum(
        (rest.money(line.get("TRX_TAX")) or ZERO for line in lines_of(record)), ZERO)


# -- journals ----------------------------------------------------------------------------------------------------------
def journal_body(doc: JournalSnapshot, mapping: Mapping) -> dict:
    entries = []
    for index, line in enumerate(doc.lines):
        account = mapping.line_account(index)
        if not account:
            raise ConfigurationError(f"line {index + 1} of journal {doc.number} (account code {line.account_code}) "
                                     "has no Sage Intacct account mapped", hint="Map the account code to an Intacct "
                                     "GL account in the mapping editor.")
        debit = line.debit > 0
        entries.append({"DOCUMENT": doc.number, "ACCOUNTNO": str(account), "TR_TYPE": DEBIT if debit else CREDIT,
                        "TRX_AMOUNT": line.debit if debit else line.credit, "CURRENCY": doc.currency or None,
                        "DESCRIPTION": (line.description or doc.memo or doc.number)[:TEXT]})
    return {JOURNAL: {"JOURNAL": GENERAL_JOURNAL, "BATCH_DATE": _day(doc.date),
                      "BATCH_TITLE": (doc.memo or f"Journal {doc.number}")[:TEXT], "REFERENCENO": doc.number,
                      "STATE": "Posted", "ENTRIES": {"GLENTRY": entries}}}


def entries(record: dict) -> list[dict]:
    found = record.get("ENTRIES")
    return as_list(found.get("glentry") if isinstance(found, dict) else None)


def same_journal(body: dict, record: dict) -> bool:
    ours = body[JOURNAL]
    held = [(str(e.get("ACCOUNTNO")), str(e.get("TR_TYPE")), rest.money(e.get("TRX_AMOUNT")),
             str(e.get("DESCRIPTION") or "")) for e in entries(record)]
    sent = [(e["ACCOUNTNO"], e["TR_TYPE"], rest.money(e["TRX_AMOUNT"]), e["DESCRIPTION"])
            for e in ours["ENTRIES"]["GLENTRY"]]
    return held == sent and all(str(record.get(f) or "") == str(ours[f]) for f in ("BATCH_DATE", "REFERENCENO",
                                                                                   "BATCH_TITLE"))


def reversing_body(record: dict) -> dict:
    """The batch that takes ``record`` back: its entries with debit and credit swapped, on its date, naming it in
    ``REVERSEDFROM``."""
    swapped = [{"DOCUMENT": e.get("DOCUMENT") or None, "ACCOUNTNO": e["ACCOUNTNO"],
                "TR_TYPE": CREDIT if str(e.get("TR_TYPE")) == DEBIT else DEBIT,
                "TRX_AMOUNT": rest.money(e.get("TRX_AMOUNT")), "CURRENCY": e.get("CURRENCY") or None,
                "DESCRIPTION": e.get("DESCRIPTION") or None} for e in entries(record)]
    return {JOURNAL: {"JOURNAL": record.get("JOURNAL") or GENERAL_JOURNAL, "BATCH_DATE": record.get("BATCH_DATE"),
                      "BATCH_TITLE": f"Reversal of {record.get('BATCH_TITLE') or record['RECORDNO']}"[:TEXT],
                      "REFERENCENO": record.get("REFERENCENO") or None, "REVERSEDFROM": record["RECORDNO"],
                      "STATE": "Posted", "ENTRIES": {"GLENTRY": swapped}}}


def journal_total(record: dict) -> Decimal:
    """A batch's total as ours: its debits."""
    return sum((rest.money(e.get("TRX_AMOUNT")) for e in entries(record) if str(e.get("TR_TYPE")) == DEBIT), ZERO)


def journal_result(record: dict, adopted: bool = False) -> RemoteResult:
    content = rest.content_hash("journal", {**record, "lines": entries(record)}, ("REFERENCENO", "BATCH_TITLE"),
                                ("ACCOUNTNO", "TR_TYPE", "TRX_AMOUNT", "DESCRIPTION"), lines="lines")
    voided = record.get("STATE") == VOIDED[JOURNAL]
    return RemoteResult(str(record["RECORDNO"]), version(record, content), str(record.get("REFERENCENO") or ""),
                        ZERO if voided else journal_total(record), None, "voided" if voided else "active", adopted,
                        record, content)

"""Money going out of a QuickBooks Online company: Vendor, Purchase (an expense, a check or a credit card charge),
Bill and JournalEntry, with the rules the platform applies to them (Finance.xsd field names, QBO fault codes).

- **Purchase**: ``PaymentType`` (Cash, Check, CreditCard) and the account it is paid from (``AccountRef``): a Bank
  or Other Current Asset account for Cash, a Bank account for Check, a Credit Card account for CreditCard. Lines are
  ``AccountBasedExpenseLineDetail`` (an account, an optional tax code and customer). ``EntityRef`` is the payee
  (a Vendor or a Customer). A line on Accounts Receivable needs a customer (the refund of a customer's credit is a
  purchase to A/R, applied to the credit memo with a zero payment). ``TotalAmt`` is the lines plus
  ``TxnTaxDetail.TotalTax`` (taxes are excluded from line amounts).
- **Bill** (Finance.xsd ``Bill``, a ``PurchaseByVendor``): a vendor's bill owed on Accounts Payable. ``VendorRef``
  is required; ``APAccountRef`` must be an Accounts Payable account and may be left out when the company has only
  one (QBO's documented rule: "If the company has a single AP account, the account is implicitly referenced.
  Otherwise, the AP Account must be specified"). Lines as a purchase's (``AccountBasedExpenseLineDetail``);
  ``TotalAmt`` is the lines plus ``TxnTaxDetail.TotalTax``; ``Balance`` is the total less the bill payments applied
  to it (a bill may not be edited below them); ``DueDate`` defaults to the ``TxnDate`` and may not be before it. The
  API has no void for a bill: it is deleted, and not while a bill payment is applied to it.
- **BillPayment** (Finance.xsd ``BillPayment``): ``VendorRef`` required; ``PayType`` Check (``CheckPayment.
  BankAccountRef``, a Bank account) or CreditCard (``CreditCardPayment.CCAccountRef``, a Credit Card account);
  ``APAccountRef`` optional (an Accounts Payable account); ``TotalAmt`` required, not negative; each ``Line`` an
  ``Amount`` and one ``LinkedTxn`` of ``TxnType`` Bill: the vendor's bill, in the payment's currency, and not paid
  beyond its open ``Balance``; the lines may not exceed ``TotalAmt`` (the rest is the vendor's credit). Saving,
  voiding (``operation=update&include=void``: the amounts are zeroed) or deleting one sets the bill's ``Balance``
  and ``LinkedTxn``. The wording of the faults is ours; the rules are QBO's documented ones.
- **JournalEntry**: ``JournalEntryLineDetail`` lines with ``PostingType`` Debit or Credit; debits must equal credits,
  and a line on Accounts Receivable names a customer (``Entity``). ``TotalAmt`` is the debits.
- **Vendor**: ``DisplayName`` unique across customers, vendors and employees (6240), like customers.

The store calls these with its lock held; they raise ``QBOFault`` like the rest of the sandbox.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from .schema import HOME_CURRENCY
from .wire import QBOFault, bad_enum, business, currency, invalid_ref, q2, ref_value, required, to_decimal

PAYMENT_TYPES = ("Cash", "Check", "CreditCard")
#: The accounts each payment type may be paid from (AccountType).
PAID_FROM = {"Cash": ("Bank", "Other Current Asset"), "Check": ("Bank",), "CreditCard": ("Credit Card",)}
#: How a payment's ``LinkedTxn`` names a purchase it applies credit to: a cash or credit card purchase is an
#: "Expense", one paid by check a "Check".
LINK_TYPES = {"Expense": "Purchase", "Check": "Purchase"}
RECEIVABLE = "Accounts Receivable"
PAYABLE = "Accounts Payable"


def build_vendor(store, row: dict, old: dict | None) -> dict:
    name = (row.get("DisplayName") or row.get("CompanyName") or "").strip()
    if not name:
        raise required("DisplayName")
    row["DisplayName"] = name
    store._check_length(row, "DisplayName", 500)
    for other in (*store._rows["Customer"].values(), *store._rows["Vendor"].values()):
        if other["DisplayName"].lower() == name.lower() and (old is None or other["Id"] != old["Id"]):
            raise QBOFault("6240", "Duplicate Name Exists Error",
                           "The name supplied already exists. : Another customer, vendor or employee is already "
                           "using this name. Please use a different name.", "DisplayName")
    row["Active"] = row.get("Active", True) is not False and row.get("Active") != "false"
    row.setdefault("Balance", Decimal("0"))
    return row


def build_purchase(store, row: dict, old: dict | None) -> dict:
    kind = row.get("PaymentType")
    if not kind:
        raise required("PaymentType")
    if kind not in PAYMENT_TYPES:
        raise bad_enum("PaymentType", kind)
    account = store._lookup("Account", row.get("AccountRef"), "AccountRef", "Accounts")
    if account.get("AccountType") not in PAID_FROM[kind]:
        wanted = " or ".join(PAID_FROM[kind])
        raise business(f"The account {account['Name']} can't be used for a {kind} payment: choose a "
                       f"{wanted} account.", "AccountRef")
    row["AccountRef"] = {"value": account["Id"], "name": account["Name"]}
    payee = _payee(store, row.get("EntityRef"))
    if payee is not None:
        row["EntityRef"] = payee
    code, _ = currency(row)
    account_currency = ref_value(account.get("CurrencyRef")) or HOME_CURRENCY
    if account_currency != code:
        raise business(f"The currency of the account {account['Name']} ({account_currency}) must match the "
                       f"transaction currency ({code}).", "AccountRef")
    row["TxnDate"] = row.get("TxnDate") or store.now_iso()[:10]
    store._check_length(row, "DocNumber", 21)
    lines = _expense_lines(store, row.get("Line"), payee)
    subtotal = sum((line["Amount"] for line in lines), Decimal("0.00"))
    tax = _tax_detail(row, lines)
    row["Line"] = lines
    row["TotalAmt"] = subtotal + tax if row["GlobalTaxCalculation"] == "TaxExcluded" else subtotal
    applied = store._applied_to_purchase(old["Id"]) if old else Decimal("0")
    if applied > receivable_amount(store, row):
        raise business(f"The purchase is applied to credit of {applied}; its Accounts Receivable lines can't be "
                       "less.", "Line")
    return row  # no HomeTotalAmt (Finance.xsd has none on a purchase): TotalAmt x ExchangeRate


def _tax_detail(row: dict, lines: list[dict]) -> Decimal:
    tax_in = row.get("TxnTaxDetail") if isinstance(row.get("TxnTaxDetail"), dict) else {}
    tax = q2(to_decimal(tax_in["TotalTax"], "TxnTaxDetail.TotalTax")) if tax_in.get("TotalTax") not in (None, "") \
        else Decimal("0.00")
    if tax < 0:
        raise business("TotalTax can't be negative.", "TxnTaxDetail.TotalTax")
    if tax and not any(line["AccountBasedExpenseLineDetail"].get("TaxCodeRef") for line in lines):
        raise business("A tax amount needs a line with a tax code.", "TxnTaxDetail.TotalTax")
    row["TxnTaxDetail"] = {"TotalTax": tax}
    row["GlobalTaxCalculation"] = row.get("GlobalTaxCalculation") or "TaxExcluded"
    if row["GlobalTaxCalculation"] not in ("TaxExcluded", "TaxInclusive", "NotApplicable"):
        raise bad_enum("GlobalTaxCalculation", row["GlobalTaxCalculation"])
    return tax


def build_bill(store, row: dict, old: dict | None) -> dict:
    vendor = store._lookup("Vendor", row.get("VendorRef"), "VendorRef", "Names")
    row["VendorRef"] = {"value": vendor["Id"], "name": vendor["DisplayName"]}
    if row.get("APAccountRef"):
        account = store._lookup("Account", row["APAccountRef"], "APAccountRef", "Accounts")
        if account.get("AccountType") != PAYABLE:
            raise business(f"The account {account['Name']} is not an Accounts Payable account: choose one for the "
                           "bill.", "APAccountRef")
    else:
        payables = [a for a in store._rows["Account"].values()
                    if a.get("AccountType") == PAYABLE and a.get("Active", True) is not False]
        if len(payables) != 1:
            raise business("Select an Accounts Payable account for this bill: the company has "
                           f"{len(payables) or 'no'} such accounts.", "APAccountRef")
        account = payables[0]
    row["APAccountRef"] = {"value": account["Id"], "name": account["Name"]}
    code, rate = currency(row)
    row["TxnDate"] = row.get("TxnDate") or store.now_iso()[:10]
    row["DueDate"] = row.get("DueDate") or row["TxnDate"]
    if str(row["DueDate"]) < str(row["TxnDate"]):
        raise business("The due date can't be earlier than the bill date.", "DueDate")
    store._check_length(row, "DocNumber", 21)
    lines = _expense_lines(store, row.get("Line"), None)
    subtotal = sum((line["Amount"] for line in lines), Decimal("0.00"))
    tax = _tax_detail(row, lines)
    row["Line"] = lines
    row["TotalAmt"] = subtotal + tax if row["GlobalTaxCalculation"] == "TaxExcluded" else subtotal
    paid = store._bill_paid(old["Id"]) if old else Decimal("0.00")
    if paid > row["TotalAmt"]:
        raise business(f"Bill payments of {paid} are applied to this bill: its total can't be less.", "Line")
    row["Balance"] = row["TotalAmt"] - paid
    row["HomeBalance"] = q2(row["Balance"] * rate) if code != HOME_CURRENCY else row["Balance"]
    return row


BILL_PAY_ACCOUNTS = {"Check": ("CheckPayment", "BankAccountRef", "Bank"),
                     "CreditCard": ("CreditCardPayment", "CCAccountRef", "Credit Card")}


def build_bill_payment(store, row: dict, old: dict | None) -> dict:
    vendor = store._lookup("Vendor", row.get("VendorRef"), "VendorRef", "Names")
    row["VendorRef"] = {"value": vendor["Id"], "name": vendor["DisplayName"]}
    kind = row.get("PayType")
    if not kind:
        raise required("PayType")
    if kind not in BILL_PAY_ACCOUNTS:
        raise bad_enum("PayType", kind)
    block, element, account_type = BILL_PAY_ACCOUNTS[kind]
    detail = row.get(block) if isinstance(row.get(block), dict) else {}
    account = store._lookup("Account", detail.get(element), f"{block}.{element}", "Accounts")
    if account.get("AccountType") != account_type:
        raise business(f"The account {account['Name']} can't be used for a {kind} bill payment: choose a "
                       f"{account_type} account.", f"{block}.{element}")
    row[block] = {**detail, element: {"value": account["Id"], "name": account["Name"]}}
    row.pop("CreditCardPayment" if kind == "Check" else "CheckPayment", None)
    if row.get("APAccountRef"):
        payable = store._lookup("Account", row["APAccountRef"], "APAccountRef", "Accounts")
        if payable.get("AccountType") != PAYABLE:
            raise business(f"The account {payable['Name']} is not an Accounts Payable account.", "APAccountRef")
        row["APAccountRef"] = {"value": payable["Id"], "name": payable["Name"]}
    if row.get("TotalAmt") in (None, ""):
        raise required("TotalAmt")
    total = q2(to_decimal(row["TotalAmt"], "TotalAmt"))
    if total < 0:
        raise business("Bill payment amount can't be negative.", "TotalAmt")
    row["TotalAmt"] = total
    code, _ = currency(row)
    account_currency = ref_value(account.get("CurrencyRef")) or HOME_CURRENCY
    if account_currency != code:
        raise business(f"The currency of the account {account['Name']} ({account_currency}) must match the "
                       f"transaction currency ({code}).", f"{block}.{element}")
    row["TxnDate"] = row.get("TxnDate") or store.now_iso()[:10]
    store._check_length(row, "DocNumber", 21)
    lines_in = row.get("Line")
    if not isinstance(lines_in, list) or not lines_in:
        raise required("Line")
    lines = [_bill_payment_line(store, line, f"Line[{index}]", vendor["Id"], code, old)
             for index, line in enumerate(lines_in)]
    applied = sum((line["Amount"] for line in lines), Decimal("0.00"))
    if applied > total:
        raise business(f"The amount applied to bills ({applied}) exceeds the bill payment amount ({total}).",
                       "Line")
    row["Line"] = lines
    row.pop("LinkedTxn", None)
    return row  # no HomeTotalAmt (Finance.xsd has none on a bill payment): TotalAmt x ExchangeRate


def _bill_payment_line(store, line: Any, where: str, vendor_id: str, code: str, old: dict | None) -> dict:
    """One bill payment line: an amount and the one bill it pays (the vendor's, in the payment's currency), not
    beyond the bill's open balance."""
    if not isinstance(line, dict):
        raise QBOFault("2010", "Request has invalid or unsupported property", f"{where} is not an object")
    if line.get("Amount") in (None, ""):
        raise required(f"{where}.Amount")
    amount = q2(to_decimal(line["Amount"], f"{where}.Amount"))
    links = line.get("LinkedTxn")
    if not isinstance(links, list) or len(links) != 1 or not isinstance(links[0], dict):
        raise required(f"{where}.LinkedTxn")
    txn_id, txn_type = ref_value(links[0].get("TxnId")), links[0].get("TxnType")
    if txn_type != "Bill":
        raise bad_enum(f"{where}.LinkedTxn.TxnType", txn_type)
    bill = store._rows["Bill"].get(txn_id or "")
    if bill is None:
        raise invalid_ref("Txn", txn_id, f"{where}.LinkedTxn.TxnId")
    if ref_value(bill["VendorRef"]) != vendor_id:
        raise business(f"Bill {txn_id} belongs to another vendor.", where)
    if ref_value(bill["CurrencyRef"]) != code:
        raise business(f"Bill {txn_id} is in another currency.", where)
    if amount < 0:
        raise business("Bill payment line amounts can't be negative.", where)
    open_balance = bill["TotalAmt"] - store._bill_paid(txn_id, exclude=old and old["Id"])
    if amount > open_balance:
        raise business(f"The payment amount {amount} exceeds the open balance {open_balance} of Bill {txn_id}.",
                       where)
    return {"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": "Bill"}]}


def bill_links(row: dict | None) -> set[str]:
    """The bills a bill payment's lines link."""
    return {line["LinkedTxn"][0]["TxnId"] for line in (row or {}).get("Line", [])}


def _payee(store, ref) -> dict | None:
    if not ref:
        return None
    kind = ref.get("type", "Vendor") if isinstance(ref, dict) else "Vendor"
    if kind not in ("Vendor", "Customer"):
        raise bad_enum("EntityRef.type", kind)
    payee = store._lookup(kind, ref, "EntityRef", "Names")
    return {"value": payee["Id"], "name": payee["DisplayName"], "type": kind}


def _expense_lines(store, lines_in, payee: dict | None) -> list[dict]:
    if not isinstance(lines_in, list) or not lines_in:
        raise required("Line")
    lines = []
    for index, line in enumerate(lines_in):
        where = f"Line[{index}]"
        if not isinstance(line, dict):
            raise QBOFault("2010", "Request has invalid or unsupported property", f"{where} is not an object")
        kind = line.get("DetailType")
        if not kind:
            raise required(f"{where}.DetailType")
        if kind != "AccountBasedExpenseLineDetail":
            raise bad_enum(f"{where}.DetailType", kind)
        detail = line.get("AccountBasedExpenseLineDetail")
        if not isinstance(detail, dict):
            raise required(f"{where}.AccountBasedExpenseLineDetail")
        account = store._lookup("Account", detail.get("AccountRef"),
                                f"{where}.AccountBasedExpenseLineDetail.AccountRef", "Accounts")
        out_detail = {"AccountRef": {"value": account["Id"], "name": account["Name"]}}
        if detail.get("TaxCodeRef"):
            code = store._lookup("TaxCode", detail["TaxCodeRef"], f"{where}.AccountBasedExpenseLineDetail.TaxCodeRef",
                                 "TaxCode")
            out_detail["TaxCodeRef"] = {"value": code["Id"]}
        customer = None
        if detail.get("CustomerRef"):
            customer = store._lookup("Customer", detail["CustomerRef"], f"{where}.AccountBasedExpenseLineDetail"
                                     ".CustomerRef", "Names")
            out_detail["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
        if account.get("AccountType") == RECEIVABLE:
            named = customer or (payee if payee and payee["type"] == "Customer" else None)
            if named is None:
                raise business("When you use Accounts Receivable, you must choose a customer in the Name field.",
                               where)
        out_detail["BillableStatus"] = detail.get("BillableStatus") or "NotBillable"
        if line.get("Amount") in (None, ""):
            raise required(f"{where}.Amount")
        amount = q2(to_decimal(line["Amount"], f"{where}.Amount"))
        if amount < 0:
            raise business("Line amounts can't be negative.", where)
        out = {"Id": str(index + 1), "LineNum": index + 1, "Amount": amount, "DetailType": kind,
               "AccountBasedExpenseLineDetail": out_detail}
        if line.get("Description"):
            out["Description"] = str(line["Description"])[:4000]
        lines.append(out)
    return lines


def receivable_amount(store, purchase: dict) -> Decimal:
    """What a purchase put on Accounts Receivable: the credit a payment may apply to it."""
    total = Decimal("0.00")
    for line in purchase.get("Line", []):
        account = store._rows["Account"].get(ref_value(line["AccountBasedExpenseLineDetail"]["AccountRef"]) or "")
        if account is not None and account.get("AccountType") == RECEIVABLE:
            total += line["Amount"]
    return total


def purchase_customer(purchase: dict) -> str | None:
    """The customer whose credit a purchase refunds (its payee, or its A/R lines' customer)."""
    payee = purchase.get("EntityRef") or {}
    if payee.get("type") == "Customer":
        return ref_value(payee)
    for line in purchase.get("Line", []):
        customer = ref_value(line["AccountBasedExpenseLineDetail"].get("CustomerRef"))
        if customer:
            return customer
    return None


def _journal_detail(store, line: Any, where: str) -> dict:
    """A journal line's JournalEntryLineDetail as QBO stores it: posting type, account and name (a customer or
    vendor; a receivable line needs a customer), each checked as QBO checks it."""
    if not isinstance(line, dict):
        raise QBOFault("2010", "Request has invalid or unsupported property", f"{where} is not an object")
    if line.get("DetailType") != "JournalEntryLineDetail":
        raise (required(f"{where}.DetailType") if not line.get("DetailType")
               else bad_enum(f"{where}.DetailType", line["DetailType"]))
    detail = line.get("JournalEntryLineDetail")
    if not isinstance(detail, dict):
        raise required(f"{where}.JournalEntryLineDetail")
    posting = detail.get("PostingType")
    if not posting:
        raise required(f"{where}.JournalEntryLineDetail.PostingType")
    if posting not in ("Debit", "Credit"):
        raise bad_enum(f"{where}.JournalEntryLineDetail.PostingType", posting)
    account = store._lookup("Account", detail.get("AccountRef"), f"{where}.JournalEntryLineDetail.AccountRef",
                            "Accounts")
    out_detail = {"PostingType": posting, "AccountRef": {"value": account["Id"], "name": account["Name"]}}
    entity = detail.get("Entity") or {}
    if entity:
        kind = entity.get("Type", "Customer")
        if kind not in ("Customer", "Vendor"):
            raise bad_enum(f"{where}.JournalEntryLineDetail.Entity.Type", kind)
        named = store._lookup(kind, entity.get("EntityRef"), f"{where}.JournalEntryLineDetail.Entity.EntityRef",
                              "Names")
        out_detail["Entity"] = {"Type": kind, "EntityRef": {"value": named["Id"], "name": named["DisplayName"]}}
    if account.get("AccountType") == RECEIVABLE and not entity:
        raise business("When you use Accounts Receivable, you must choose a customer in the Name field.", where)
    return out_detail


def build_journal(store, row: dict, old: dict | None) -> dict:
    lines_in = row.get("Line")
    if not isinstance(lines_in, list) or not lines_in:
        raise required("Line")
    code, rate = currency(row)
    row["TxnDate"] = row.get("TxnDate") or store.now_iso()[:10]
    store._check_length(row, "DocNumber", 21)
    lines, debits, credits = [], Decimal("0.00"), Decimal("0.00")
    for index, line in enumerate(lines_in):
        where = f"Line[{index}]"
        out_detail = _journal_detail(store, line, where)
        posting = out_detail["PostingType"]
        if line.get("Amount") in (None, ""):
            raise required(f"{where}.Amount")
        amount = q2(to_decimal(line["Amount"], f"{where}.Amount"))
        if amount < 0:
            raise business("Journal entry line amounts can't be negative.", where)
        if posting == "Debit":
            debits += amount
        else:
            credits += amount
        out = {"Id": str(index), "Amount": amount, "DetailType": "JournalEntryLineDetail",
               "JournalEntryLineDetail": out_detail}
        if line.get("Description"):
            out["Description"] = str(line["Description"])[:4000]
        lines.append(out)
    if debits != credits:
        raise business(f"Your transaction must be balanced. Debits ({debits}) and credits ({credits}) differ.",
                       "Line")
    row["Line"] = lines
    row["TotalAmt"] = debits
    row["Adjustment"] = row.get("Adjustment") in (True, "true")
    if code != HOME_CURRENCY:
        row["HomeTotalAmt"] = q2(debits * rate)
    return row

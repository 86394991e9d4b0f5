"""Money going out of a Xero organisation through the API: bank transactions (``SPEND``: an expense paid from a
bank or credit card account; ``RECEIVE``) and manual journals, with Xero's rules (field names from
xero_accounting.yaml; messages verbatim where the spec gives them, noted, else paraphrased).

- **BankTransactions**: ``Type``, ``Contact``, ``BankAccount`` (an active BANK account) and ``LineItems`` are
  required. The transaction is in its bank account's currency (a ``CurrencyCode`` that differs is refused);
  ``CurrencyRate`` applies to a bank account in a foreign currency (foreign units per base unit). Lines are coded
  like invoice lines (account, tax type, Xero's per-line tax). Updates are allowed until the transaction is
  reconciled; ``Status`` DELETED deletes it.
- **ManualJournals**: ``Narration`` is required, and at least two ``JournalLines`` whose ``LineAmount`` (debits
  positive, credits negative) sum to zero, else "The total debits (100.00) must equal total credits (-10.00)"
  (verbatim, spec example). Journals are in the base currency. ``Status`` DRAFT or POSTED on create; a posted
  journal is VOIDED, a draft DELETED.

The store calls these with its lock held and inside its transaction; they raise ``ElementError`` per element.
"""
from __future__ import annotations

from decimal import Decimal

from . import seed
from .documents import totals
from .wire import ElementError, new_id, q, render_date, to_decimal

SPEND_TYPES = ("SPEND", "RECEIVE", "RECEIVE-OVERPAYMENT")
JOURNAL_TRANSITIONS = {"DRAFT": {"DRAFT", "POSTED", "DELETED"}, "POSTED": {"POSTED", "VOIDED"},
                       "VOIDED": set(), "DELETED": set()}


def apply_bank_transaction(store, collection: str, el: dict, method: str, path_id: str | None,
                           unitdp: int) -> dict:
    key = path_id or el.get("BankTransactionID")
    existing = _editable(store, key) if key else None
    if existing is not None and (existing.get("OverpaymentID") or el.get("Status") == "DELETED"):
        return _delete_bank_transaction(store, existing, el)
    row = store._edit(existing) if existing else {"BankTransactionID": new_id(), "Status": "AUTHORISED",
                                                  "IsReconciled": False, "LineAmountTypes": "Exclusive"}
    errors: list[str] = []
    kind = el.get("Type", row.get("Type"))
    if not kind:
        errors.append("A Type must be specified for the bank transaction.")
    elif kind not in SPEND_TYPES:
        errors.append(f"Bank transactions of type {kind} are not supported by the sandbox.")
    row["Type"] = kind or "SPEND"
    account = _bank_account(store, row, el, existing is None, errors)
    if existing is None or "Contact" in el:
        try:
            row["_contact"] = store._document_contact(el.get("Contact"), "ACCPAY" if kind == "SPEND" else "ACCREC"
                                                      )["ContactID"]
        except ElementError as err:
            errors.extend(err.messages)
    for field in ("Reference", "Url", "IsReconciled"):
        if field in el:
            row[field] = el[field]
    if len(str(row.get("Reference", ""))) > 255:
        errors.append("Reference must be 255 characters or fewer.")
    if "Date" in el:
        row["Date"] = store._date(el["Date"], "Date")
    row.setdefault("Date", store.today())
    if "LineAmountTypes" in el:
        row["LineAmountTypes"] = el["LineAmountTypes"]
    _currency(store, row, el, account, errors)
    if "LineItems" in el:
        row["LineItems"] = store._lines(row, el["LineItems"], unitdp, "AUTHORISED", errors)
    if not row.get("LineItems") and not errors:
        errors.append("At least one line item is required.")
    sums = totals(row.get("LineItems", []), row["LineAmountTypes"])
    row.update(SubTotal=sums.sub_total, TotalTax=sums.total_tax, Total=sums.total)
    if sums.total <= 0 and not errors:
        errors.append("The Total must be greater than zero.")
    if errors:
        raise ElementError(*errors)
    row["_updated"] = store._stamp()
    _new_overpayment(store, row)
    return store._save("BankTransactions", row)


def _new_overpayment(store, row: dict) -> None:
    """The ``Overpayments`` record a RECEIVE-OVERPAYMENT bank transaction makes (its ``OverpaymentID`` is on the
    transaction): its whole total is credit the customer has, until allocated to invoices or refunded (a
    ``Payment`` on it)."""
    if row["Type"] != "RECEIVE-OVERPAYMENT" or row.get("OverpaymentID"):
        return
    overpayment = {"OverpaymentID": new_id(), "Type": "RECEIVE-OVERPAYMENT", "_contact": row["_contact"],
                   "Date": row["Date"], "Status": "AUTHORISED", "LineAmountTypes": row["LineAmountTypes"],
                   "LineItems": row["LineItems"], "SubTotal": row["SubTotal"], "TotalTax": row["TotalTax"],
                   "Total": row["Total"], "CurrencyCode": row["CurrencyCode"], "CurrencyRate": row["CurrencyRate"],
                   "RemainingCredit": row["Total"], "AppliedAmount": Decimal("0.00"), "AmountPaid": Decimal("0.00"),
                   "AmountCredited": Decimal("0.00"), "_payments": [], "_updated": row["_updated"]}
    if row.get("Reference"):
        overpayment["Reference"] = row["Reference"]
    store._save("Overpayments", overpayment)
    row["OverpaymentID"] = overpayment["OverpaymentID"]


def _delete_bank_transaction(store, existing: dict, el: dict) -> dict:
    """``Status`` DELETED. An overpayment's bank transaction is not edited (guessed: Xero's documentation describes
    no edit); deleted, its overpayment is voided, which is refused while a refund or an allocation uses the credit
    (guessed)."""
    if not existing.get("OverpaymentID"):
        row = store._edit(existing)
        row.update(Status="DELETED", _updated=store._stamp())
        return store._save("BankTransactions", row)
    if el.get("Status") != "DELETED":
        raise ElementError("This bank transaction cannot be edited as it is an overpayment.")
    overpayment = store._rows["Overpayments"][existing["OverpaymentID"]]
    if overpayment["RemainingCredit"] != overpayment["Total"]:
        raise ElementError("This overpayment cannot be deleted as it has payments or allocations applied to it.")
    stamp = store._stamp()
    row = store._edit(existing)
    row.update(Status="DELETED", _updated=stamp)
    voided = store._edit(overpayment)
    voided.update(Status="VOIDED", RemainingCredit=Decimal("0.00"), _updated=stamp)
    store._save("Overpayments", voided)
    return store._save("BankTransactions", row)


def _editable(store, key: str) -> dict:
    """The stored bank transaction ``key``, if it may still be edited (authorised, not reconciled)."""
    existing = store.find("BankTransactions", key)
    if existing is None:
        raise ElementError(f"The bank transaction with the BankTransactionID {key} could not be found.")
    if existing["Status"] != "AUTHORISED":
        raise ElementError("This bank transaction cannot be edited as it has been deleted or voided.")
    if existing.get("IsReconciled"):
        raise ElementError("This bank transaction cannot be edited as it has been reconciled.")
    return existing


def _bank_account(store, row: dict, el: dict, creating: bool, errors: list[str]) -> dict | None:
    """The bank account sent (or the stored one), kept on the row when it is an active bank account."""
    account = store._account_ref(el.get("BankAccount")) if "BankAccount" in el else \
        store._rows["Accounts"].get(row.get("_account", ""))
    if account is None:
        errors.append("A valid BankAccount must be specified." if "BankAccount" in el or creating
                      else "The BankAccount could not be found.")
    elif account["Type"] != "BANK" or account["Status"] != "ACTIVE":
        errors.append("Account type is invalid for making a payment to/from")
    else:
        row["_account"] = account["AccountID"]
    return account


def _currency(store, row: dict, el: dict, account: dict | None, errors: list[str]) -> None:
    base = store._org["BaseCurrency"]
    own = (account or {}).get("CurrencyCode", base)
    code = el.get("CurrencyCode", row.get("CurrencyCode", own))
    if code != own:
        errors.append(f"The currency of the bank transaction ({code}) must be the currency of its bank account "
                      f"({own}).")
    row["CurrencyCode"] = own
    rate = to_decimal(el.get("CurrencyRate"))
    if own == base:
        row["CurrencyRate"] = Decimal("1")
    elif rate is not None:
        if rate <= 0:
            errors.append("The CurrencyRate must be greater than zero.")
        row["CurrencyRate"] = q(rate, 6)
    else:  # the fixed table standing for XE.com's day rate
        row.setdefault("CurrencyRate", seed.RATES.get(own, Decimal("1")))


def apply_manual_journal(store, collection: str, el: dict, method: str, path_id: str | None,
                         unitdp: int) -> dict:
    key = path_id or el.get("ManualJournalID")
    existing = store.find("ManualJournals", key) if key else None
    if key and existing is None:
        raise ElementError(f"The manual journal with the ManualJournalID {key} could not be found.")
    row = store._edit(existing) if existing else {"ManualJournalID": new_id(), "Status": "DRAFT",
                                                  "LineAmountTypes": "NoTax", "ShowOnCashBasisReports": True}
    status = el.get("Status", "POSTED" if existing is None else row["Status"])
    if existing is not None and status not in JOURNAL_TRANSITIONS[row["Status"]]:
        raise ElementError(f"A manual journal with status {row['Status']} cannot be changed to {status}.")
    if existing is None and status not in ("DRAFT", "POSTED"):
        raise ElementError("A new manual journal must be DRAFT or POSTED.")
    if status in ("VOIDED", "DELETED"):
        row.update(Status=status, _updated=store._stamp())
        return store._save("ManualJournals", row)
    errors: list[str] = []
    for field in ("Narration", "Url", "ShowOnCashBasisReports", "LineAmountTypes"):
        if field in el:
            row[field] = el[field]
    if not str(row.get("Narration", "")).strip():
        errors.append("Narration is required.")
    if "Date" in el:
        row["Date"] = store._date(el["Date"], "Date")
    row.setdefault("Date", store.today())
    if "JournalLines" in el:
        row["JournalLines"] = _journal_lines(store, el["JournalLines"], errors)
    lines = row.get("JournalLines", [])
    if len(lines) < 2:
        errors.append("A manual journal must have at least two journal lines.")
    debits = sum((line["LineAmount"] for line in lines if line["LineAmount"] > 0), Decimal("0.00"))
    credits = sum((line["LineAmount"] for line in lines if line["LineAmount"] < 0), Decimal("0.00"))
    if debits + credits != 0:
        errors.append(f"The total debits ({q(debits)}) must equal total credits ({q(credits)})")  # verbatim (spec)
    if errors:
        raise ElementError(*errors)
    row["Status"], row["_updated"] = status, store._stamp()
    return store._save("ManualJournals", row)


def _journal_lines(store, sent, errors: list[str]) -> list[dict]:
    if not isinstance(sent, list):
        return []
    lines = []
    for raw in sent:
        raw = raw if isinstance(raw, dict) else {}
        amount = to_decimal(raw.get("LineAmount"))
        if amount is None:
            errors.append("A LineAmount must be specified for each journal line.")
            continue
        line = {"JournalLineID": new_id(), "LineAmount": q(amount), "Description": str(raw.get("Description", "")),
                "TaxType": raw.get("TaxType", "NONE"), "TaxAmount": Decimal("0.00"), "IsBlank": False,
                "Tracking": raw.get("Tracking") or []}
        account = store._account_by_code(raw["AccountCode"]) if raw.get("AccountCode") else \
            store._rows["Accounts"].get(str(raw.get("AccountID", "")).lower())
        if account is None:
            errors.append(f"Account code '{raw.get('AccountCode') or raw.get('AccountID')}' is not a valid code for "
                          "this document.")
            continue
        if account["Status"] != "ACTIVE":
            errors.append(f"Account code '{account['Code']}' has been archived, or has been deleted.")
            continue
        if store._usable_tax(line["TaxType"]) is None:
            errors.append(f"The TaxType code '{line['TaxType']}' does not exist or cannot be used with this type of "
                          "data.")
            continue
        line.update(AccountCode=account["Code"], AccountID=account["AccountID"])
        lines.append(line)
    return lines


def render_journal(row: dict, out: dict) -> dict:
    out["Date"] = render_date(row["Date"])
    out["HasAttachments"] = False
    return out

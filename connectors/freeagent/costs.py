"""Refunds, expenses and journals as FreeAgent API v2 models them (field names from dev.freeagent.com/docs: bank
transaction explanations, journal sets). Pure: no I/O.

- **Refund** of a credit note: a bank transaction explanation in the mapped refund bank account with
  ``paid_invoice`` the credit note's URL and a negative ``gross_value`` (money out), our number in ``description``
  (FreeAgent's API forum: "set the paid_invoice attribute to map to the credit note ... gross_value -120.0"; the
  explanation type is "Credit Note Refund"). FreeAgent lowers the credit note's due value by it. Edited with
  ``PUT``, deleted with ``DELETE`` (the manual bank transaction goes with it); FreeAgent voids no explanation. A
  refund of an overpayment (no credit note) is not sent: refused before sending.
- **Expense** paid by the business: a bank transaction explanation of type payment in the mapped paid-from bank
  account: ``category`` (the expense line's category), negative ``gross_value``, ``sales_tax_rate`` (FreeAgent
  splits the tax out of the gross at that rate) and ``description`` (our number, then payee and what was bought).
  Not ``/v2/expenses``: those are a user's out-of-pocket claims, owed back to the user, not money the business paid
  from its bank. An explanation has one category and one tax rate: lines that share both are sent as one; an
  expense whose lines differ in either is refused before sending.
- **Money in a foreign-currency bank account**: FreeAgent posts no foreign currency to a bank account, so a
  refund or an expense must be in its bank account's currency (refused before sending otherwise). In a bank account
  in the company's currency ``gross_value`` is the amount; in a foreign-currency bank account
  ``foreign_currency_value`` is the amount in the account's currency and ``gross_value`` the native value at the
  document's exchange rate.
- **Journal**: ``POST /journal_sets`` with ``dated_on``, ``description`` (our number, then the memo) and
  ``journal_entries`` (``category`` URL, ``debit_value`` positive for a debit and negative for a credit,
  ``description``); in the company's currency only. A line mapped to a bank account posts to category 750 (Bank
  Account) with that ``bank_account``, as FreeAgent's trial balance names a bank account's postings. Edited with
  ``PUT`` (entries by URL, extra ones ``_destroy``), deleted with ``DELETE``.
"""
from __future__ import annotations

from decimal import Decimal

from ledger.money import quantize
from ..documents import ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot
from ..rest import clean, iso_date
from .translate import NUMBER_SEPARATOR, number_of, tax_fields, url

DESCRIPTION_MAX = 255  # a guess: FreeAgent documents no length; 255 as for other descriptions


def described(number: str, rest: str = "") -> str:
    return (f"{number}{NUMBER_SEPARATOR}{rest}" if rest else number)[:DESCRIPTION_MAX]


def is_ours(description: str, number: str) -> bool:
    return number_of(description) == number[:DESCRIPTION_MAX]


def money_out(amount: Decimal, currency: str, rate: Decimal | None, bank: dict, home: str) -> dict:
    """``gross_value`` (and ``foreign_currency_value`` in a foreign-currency bank account) for money paid out."""
    bank_currency = str(bank.get("currency") or home)
    if bank_currency == home:
        return {"gross_value": -amount}
    return {"gross_value": -quantize(amount * (rate or Decimal("1"))), "foreign_currency_value": -amount}


def money_in(amount: Decimal, currency: str, rate: Decimal | None, bank: dict, home: str) -> dict:
    """The same for money received (an invoice receipt): positive values."""
    return {k: -v for k, v in money_out(amount, currency, rate, bank, home).items()}


def currency_problems(doc, bank: dict, home: str, what: str) -> list[str]:
    """A refund or an expense is in its bank account's currency, with a rate when that is not the company's."""
    bank_currency = str(bank.get("currency") or home)
    if doc.currency != bank_currency:
        return [f"FreeAgent records {what} in its bank account's currency: {bank.get('name') or 'the bank account'} "
                f"is in {bank_currency} and this {doc.entity} in {doc.currency}; map a bank account in "
                f"{doc.currency}"]
    if bank_currency != home and not doc.exchange_rate:
        return [f"this {doc.entity} is in {doc.currency}, not the company's {home}: it needs an exchange rate"]
    return []


# -- refunds ----------------------------------------------------------------------------------------------------------
def refund_problems(doc: RefundSnapshot) -> list[str]:
    if doc.credit_note_key:
        return []
    return ["this connector refunds credit notes only, not a customer's payment on account; record the refund in "
            "FreeAgent by hand"]


def refund_payload(doc: RefundSnapshot, mapping: Mapping, api_base: str, bank: dict, home: str) -> dict:
    return clean({"bank_account": bank["url"], "dated_on": iso_date(doc.date),
                  **money_out(doc.amount, doc.currency, doc.exchange_rate, bank, home),
                  "paid_invoice": url(api_base, "credit_notes", mapping.refs[doc.credit_note_key]),
                  "description": described(doc.number, doc.memo or f"Refund ({doc.method})")})


# -- expenses ---------------------------------------------------------------------------------------------------------
def expense_groups(doc: ExpenseSnapshot, mapping: Mapping) -> list[tuple[str | None, str | None]]:
    """The (category, tax code) pairs of an expense's lines, in order, each once."""
    pairs = []
    for i, line in enumerate(doc.lines):
        code = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        pair = (mapping.line_accounts[i] if i < len(mapping.line_accounts) else None, code)
        if pair not in pairs:
            pairs.append(pair)
    return pairs


def expense_problems(doc: ExpenseSnapshot, mapping: Mapping) -> list[str]:
    if len(expense_groups(doc, mapping)) > 1:
        return ["FreeAgent explains a bank payment with one category and one tax rate: this expense's lines post "
                "to several; send one expense per category and tax rate, or record it in FreeAgent by hand"]
    return []


def expense_payload(doc: ExpenseSnapshot, mapping: Mapping, api_base: str, bank: dict, home: str) -> dict:
    [(category, tax)] = expense_groups(doc, mapping) or [(None, None)]
    what = "; ".join(line.description or line.cost_kind.replace("_", " ") for line in doc.lines)
    return clean({"bank_account": bank["url"], "dated_on": iso_date(doc.date),
                  **money_out(doc.total, doc.currency, doc.exchange_rate, bank, home),
                  "category": url(api_base, "categories", category) if category else None,
                  **tax_fields(tax),
                  "description": described(doc.number, f"{doc.payee}: {what}" if doc.payee else what)})


# -- journals ---------------------------------------------------------------------------------------------------------
def journal_problems(doc: JournalSnapshot, home: str) -> list[str]:
    if home and doc.currency != home:
        return [f"FreeAgent records journals in the company's currency ({home}) only; this journal is in "
                f"{doc.currency}"]
    return []


BANK_CATEGORY = "750"  # FreeAgent's "Bank Account" category


def journal_payload(doc: JournalSnapshot, accounts: list[str], api_base: str, bank_urls: dict[str, str],
                    current: dict | None = None) -> dict:
    """``accounts``: each line's account, a category's nominal code or a bank account (``bank_accounts/<id>``,
    ``bank_urls`` gives its URL). ``current`` (the journal set as read) gives entries their
    URL back, so an update edits them in place; entries beyond ours are sent with ``_destroy``."""
    have = list((current or {}).get("journal_entries") or [])
    entries = []
    for i, line in enumerate(doc.lines):
        account = str(accounts[i] or "")
        bank = bank_urls.get(account)
        entry = {"category": url(api_base, "categories", BANK_CATEGORY if bank else account),
                 **({"bank_account": bank} if bank else {}), "debit_value": line.debit - line.credit,
                 "description": (line.description or f"Account {line.account_code}")[:DESCRIPTION_MAX]}
        if i < len(have) and have[i].get("url"):
            entry = {"url": have[i]["url"], **entry}
        entries.append(entry)
    entries += [{"url": extra["url"], "_destroy": True} for extra in have[len(doc.lines):]]
    return clean({"dated_on": iso_date(doc.date), "description": described(doc.number, doc.memo),
                  "journal_entries": entries})

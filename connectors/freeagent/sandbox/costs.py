"""Money going the other way in the FreeAgent sandbox: credit note refunds, categorised bank payments and journal
sets (mixed into ``FreeAgentSandbox``).

- A **credit note refund** is a bank transaction explanation whose ``paid_invoice`` is a credit note's URL and whose
  value is negative (money out; FreeAgent's API forum). It lowers the credit note's due value, no further than what
  is left; the explanation's type is "Credit Note Refund".
- A **payment** explanation (money out, no invoice) names a ``category`` (required when nothing is paid: a guess
  from a .NET client's notes; ``nominal_code`` is taken instead, as the ``freeagent`` Python library sends) and a
  sales tax rate; FreeAgent splits ``sales_tax_value`` out of the value at that rate.
- In a **foreign-currency bank account** an explanation carries ``foreign_currency_value`` (the amount in the
  account's currency, required there: a guess) beside ``gross_value`` (the company's currency); what it pays off a
  document is the bank account's amount.
- A **journal set** (``/journal_sets``: ``dated_on``, ``description``, ``tag``, ``journal_entries`` with
  ``category``, ``debit_value`` positive for a debit and negative for a credit, ``description``) must balance; an
  entry on category 750 (Bank Account) names its ``bank_account`` (as FreeAgent's trial balance names a bank
  account's postings: category 750 and the bank account; required there: a guess). ``PUT`` edits entries by ``url``
  and removes
  them with ``_destroy``; ``DELETE`` deletes it.

Sources and guesses: docs/sandbox-freeagent.md.
"""
from __future__ import annotations

from decimal import Decimal

from ...sandboxkit.resources import Row
from .seed import CURRENCY
from .wire import CENT, ZERO, FreeAgentError, last_part, money, unprocessable

TAX_STATUSES = ("TAXABLE", "EXEMPT", "OUT_OF_SCOPE")
BANK_CATEGORY = "750"  # FreeAgent's "Bank Account" category


class FreeAgentCosts:
    """Refunds, categorised payments and journal sets: the parts of ``FreeAgentSandbox`` for money going out."""

    def _bank_value(self, data: dict, account: Row, gross: Decimal) -> Decimal:
        """The explanation's value in its bank account's currency (``foreign_currency_value`` where that is not the
        company's)."""
        currency = str(account.data.get("currency") or CURRENCY)
        if currency == CURRENCY:
            data.pop("foreign_currency_value", None)
            return gross
        if data.get("foreign_currency_value") in (None, ""):
            raise unprocessable("Foreign currency value can't be blank for a bank account in a foreign currency")
        value = money(data["foreign_currency_value"], "foreign_currency_value")
        if value == 0 or (value > 0) != (gross > 0):
            raise unprocessable("Foreign currency value must have the same sign as the gross value")
        data.update(foreign_currency_value=value, currency=currency)
        return value

    def _refunded_note(self, data: dict, old: dict, value: Decimal) -> str:
        """The credit note a refund pays back, checked: sent, money out, no more than it has left."""
        note = self.store.require("credit_notes", last_part(data["paid_invoice"]) or None,
                                  unprocessable("Credit note not found for this company"))
        if not note.data["_sent"] or note.data["_cancelled"]:
            raise unprocessable("Credit note must be sent before a refund can be explained against it")
        if value >= 0:
            raise unprocessable("Gross value must be negative for a credit note refund")
        before = old.get("_value", ZERO) if old.get("_note") == note.id else ZERO
        if -value > self._due("credit_notes", note.id) + before:
            raise unprocessable("Gross value is more than the amount left to refund on the credit note")
        return note.id

    def _categorised(self, data: dict, value: Decimal) -> dict:
        """A payment's or a receipt's category and sales tax: the rate one of the company's, the tax split out of
        the value."""
        # ``nominal_code`` instead of ``category``: what the ``freeagent`` client library sends (taken, a guess)
        category = last_part(data.get("category")) or str(data.pop("nominal_code", "") or "") or None
        if category is None:
            raise unprocessable("Category can't be blank")
        if self.store.find("categories", category) is None:
            raise FreeAgentError(400, "Invalid nominal code")
        status = str(data.get("sales_tax_status") or "TAXABLE").upper()
        if status not in TAX_STATUSES:
            raise unprocessable(f"Sales tax status {status} is not included in the list")
        rate = money(data.get("sales_tax_rate"), "sales_tax_rate", ZERO) if status == "TAXABLE" else ZERO
        if rate not in self._tax_rates():
            raise unprocessable("Sales tax rate is not one of the company's sales tax rates")
        return {"category": self.url_of("categories", category), "sales_tax_status": status, "sales_tax_rate": rate,
                "sales_tax_value": (value * rate / (100 + rate)).quantize(CENT)}

    def _tax_rates(self) -> set[Decimal]:
        rates = {Decimal("0")}
        for period in self.store.rows("sales_tax_periods"):
            rates |= {Decimal(str(period.data[k])) for k in ("sales_tax_rate_1", "sales_tax_rate_2",
                                                              "sales_tax_rate_3") if period.data.get(k) is not None}
        return rates

    # -- journal sets -------------------------------------------------------------------------------------------------
    def _journal_sets(self, body: dict, old: dict, record_id: str | None) -> dict:
        data = {**old, **{k: v for k, v in body.items() if k != "journal_entries"}}
        if not data.get("dated_on"):
            raise unprocessable("Dated on can't be blank")
        if not str(data.get("description") or "").strip():
            raise unprocessable("Description can't be blank")
        entries = self._journal_entries(body.get("journal_entries"), old.get("journal_entries", []))
        if len(entries) < 2:
            raise unprocessable("Journal entries must have at least two entries")
        total = sum((e["debit_value"] for e in entries), ZERO)
        if total != 0:
            raise unprocessable(f"Journal entries must balance: their debit values add up to {total}, not 0")
        return {**data, "dated_on": str(data["dated_on"])[:10], "description": str(data["description"]),
                "tag": data.get("tag"), "journal_entries": entries}

    def _journal_entries(self, sent, current: list) -> list[dict]:
        if sent is None:
            sent = current  # a PUT without entries keeps them
        if not isinstance(sent, list):
            raise FreeAgentError(400, "journal_entries must be an array")
        kept = [dict(e) for e in current]
        for entry in sent:
            if entry.get("url"):
                index = next((n for n, e in enumerate(kept) if e["url"] == entry["url"]), None)
                if index is None:
                    raise unprocessable("Journal entry not found")
                if entry.get("_destroy") in (True, 1, "1", "true"):
                    kept.pop(index)
                else:
                    kept[index] = {**kept[index], **entry}
            else:
                kept.append(dict(entry))
        entries = []
        for entry in kept:
            debit = money(entry.get("debit_value"), "debit_value").quantize(CENT)
            if debit == 0:
                raise unprocessable("Debit value can't be zero")
            category = last_part(entry.get("category")) or None
            if category is None or self.store.find("categories", category) is None:
                raise FreeAgentError(400, "Invalid nominal code")
            bank = None
            if category == BANK_CATEGORY:
                bank = self.store.require("bank_accounts", last_part(entry.get("bank_account")) or None,
                                          unprocessable("Bank account can't be blank for the Bank Account category"))
            entries.append({"url": entry.get("url") or self.url_of("journal_entries", str(next(self._item_ids))),
                            "category": self.url_of("categories", category), "debit_value": debit,
                            "description": str(entry.get("description") or ""),
                            **({"bank_account": self.url_of("bank_accounts", bank.id)} if bank else {})})
        return entries

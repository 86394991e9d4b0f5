"""Journal entries (``account.move`` of ``move_type`` ``entry``) in the Odoo sandbox: what the connector's expenses
and manual journals are, mixed into ``orm.Database``.

An entry's journal items come as ``line_ids`` commands (``(0, 0, vals)``, and ``(5,)`` to clear on a write) with
``debit`` / ``credit`` in the company currency, ``amount_currency`` and ``currency_id`` in the entry's. A line
with taxes (``tax_ids``) gets Odoo's tax line beside it (``display_type`` ``tax``) on the tax's account, for the
tax on the line's balance. The items must balance, or Odoo refuses the entry ("The move ... is not balanced"),
when it is written. Posting numbers it ``MISC/<year>/<n>`` in the Miscellaneous Operations journal. Amounts:
``amount_total`` the debits in the entry's currency, ``amount_total_signed`` in the company's, nothing due.
Sources and guesses: docs/sandbox-odoo.md, "Journal entries".
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ...sandboxkit.resources import Row

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class Entries:
    """The entry rules of ``orm.Database`` (which provides ``store``, ``row``, ``clean``, ``user_error``...)."""

    def _entry_lines(self, move: Row, commands: list) -> None:
        """``line_ids`` commands on an entry, then the tax lines recomputed and the balance checked."""
        for command in commands or []:
            code = command[0]
            if code == 0:
                self.store.create("account.move.line", self._entry_line(move, command[2]))
            elif code in (2, 3):
                self.store.delete("account.move.line", self.row("account.move.line", command[1]).id)
            elif code == 5:
                for line in self._lines(move.id):
                    self.store.delete("account.move.line", line.id)
            else:
                raise ValueError(f"Unsupported command {code} for account.move.line_ids")
        self._entry_taxes(move)
        self._check_balanced(move)
        self.store.update("account.move", move.id, {})  # write_date moves with its lines

    def _entry_line(self, move: Row, vals: dict) -> dict:
        vals = {k: v for k, v in vals.items() if k not in ("move_id", "display_type")}
        taxes = vals.pop("tax_ids", None)
        data = self.clean("account.move.line", vals, False)
        tax_ids = [int(t) for command in taxes or [] if isinstance(command, (list, tuple)) and command[0] == 6
                   for t in command[2]]
        for tax_id in tax_ids:
            if not self.row("account.tax", tax_id).data.get("active"):
                raise self.error(f"The tax {tax_id} is archived.")
        if not data.get("account_id"):
            raise self.error("The account is required on a journal item.")
        account = self.row("account.account", data["account_id"])
        if account.data.get("deprecated"):
            raise self.error(f"The account {account.data['code']} {account.data['name']} is deprecated.")
        debit, credit = data.get("debit", ZERO), data.get("credit", ZERO)
        if debit < 0 or credit < 0 or (debit and credit):
            raise self.error("Wrong credit or debit value in accounting entry!")
        balance = debit - credit
        company = self.company_currency()
        currency = int(data.get("currency_id") or move.data.get("currency_id") or company)
        amount_currency = data.get("amount_currency", balance if currency == company else None)
        if amount_currency is None:
            raise self.error("A journal item in a foreign currency needs its amount in that currency.")
        return {"move_id": int(move.id), "payment_id": False, "display_type": "product",
                "name": data.get("name", ""), "quantity": Decimal("1"), "price_unit": ZERO,
                "account_id": int(account.id), "tax_ids": tax_ids, "product_id": False, "price_subtotal": ZERO,
                "price_total": ZERO, "debit": debit, "credit": credit, "balance": balance,
                "amount_currency": amount_currency, "currency_id": currency,
                "account_type": account.data["account_type"]}

    def _entry_taxes(self, move: Row) -> None:
        """Odoo's tax lines of an entry: one per taxed line, on the tax's account, for the tax on its balance."""
        for line in self._lines(move.id, "tax"):
            self.store.delete("account.move.line", line.id)
        for line in self._lines(move.id, "product"):
            for tax_id in line.data["tax_ids"]:
                tax = self.row("account.tax", tax_id)
                rate = Decimal(tax.data["amount"]) / 100
                balance = (line.data["balance"] * rate).quantize(CENT, ROUND_HALF_UP)
                if not balance:
                    continue
                account = self.row("account.account", tax.data.get("account_id") or self.store.first(
                    "account.account", account_type="liability_current").id)
                self.store.create("account.move.line", {
                    "move_id": int(move.id), "payment_id": False, "display_type": "tax", "name": tax.data["name"],
                    "quantity": Decimal("1"), "price_unit": ZERO, "account_id": int(account.id), "tax_ids": [],
                    "product_id": False, "price_subtotal": ZERO, "price_total": ZERO,
                    "debit": max(balance, ZERO), "credit": max(-balance, ZERO), "balance": balance,
                    "amount_currency": (line.data["amount_currency"] * rate).quantize(CENT, ROUND_HALF_UP),
                    "currency_id": line.data["currency_id"], "account_type": account.data["account_type"]})

    def _check_balanced(self, move: Row) -> None:
        lines = self._lines(move.id)
        debit = sum((line.data["debit"] for line in lines), ZERO)
        credit = sum((line.data["credit"] for line in lines), ZERO)
        if debit != credit:
            raise self.error(f"The move ({move.data['name']}) is not balanced.\nThe total of debits equals "
                             f"{debit} and the total of credits equals {credit}.\nYou might want to specify a "
                             "default account on journal \"Miscellaneous Operations\" to automatically balance "
                             "each move.")

    def _entry_amounts(self, move: Row) -> dict:
        lines = self._lines(move.id)
        total = sum((line.data["amount_currency"] for line in lines if line.data["balance"] > 0), ZERO)
        tax = sum((line.data["amount_currency"] for line in lines if line.data["display_type"] == "tax"), ZERO)
        return {"amount_untaxed": total - tax, "amount_tax": tax, "amount_total": total,
                "amount_total_signed": sum((line.data["balance"] for line in lines if line.data["balance"] > 0),
                                           ZERO),
                "amount_residual": ZERO, "payment_state": "not_paid", "invoice_line_ids": [],
                "line_ids": [int(line.id) for line in lines]}

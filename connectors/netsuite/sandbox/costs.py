"""Money going the other way in the NetSuite sandbox: customer refunds, checks and journal entries (record/v1).

- A **customer refund** (``customerrefund``) pays a customer back from a bank ``account`` (required); its ``apply``
  sublist (``{doc, apply, amount}``) names the customer's credit memos or customer payments (an overpayment: what
  the payment left unapplied), each amount no more than what it has unapplied; its ``total`` (the "Refund Amount")
  is the sum applied, and must be more than zero. The credit memo's or payment's ``unapplied`` falls by it. PATCH
  (``?replace=apply``) and DELETE; a credit memo or payment a refund applies cannot be deleted ("dependent
  records").
- A **check** (``check``) pays costs from a bank ``account`` (required) to a payee ``entity`` (required, a vendor
  here); its ``expense`` sublist lines carry ``account``, ``amount`` and an optional ``taxCode`` whose rate gives the
  line's ``tax1Amt`` (legacy tax, as on invoice lines). ``total`` is the amounts plus their tax. A bank account
  in a foreign currency takes checks in that currency only; ``exchangeRate`` defaults to the currency record's.
- A **journal entry** (``journalentry``): ``line`` sublist with ``account`` and one of ``debit`` / ``credit`` each;
  the debits must equal the credits. At least two lines.

REST cannot void any of them (NetSuite's help, "Check": voiding is UI only): the user actions here play what a
person does in the UI (delete, edit a line, a direct void). Sources and guesses: docs/sandbox-netsuite.md.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ...sandboxkit.resources import Row
from .wire import invalid, money, user_error

ZERO = Decimal("0.00")
#: The accounts-payable account a vendor bill is owed in when it names none (the seed's only one).
DEFAULT_PAYABLE = "111"
CENT = Decimal("0.01")
#: The line sublist of each cost record.
COST_SUBLISTS = {"check": "expense", "journalentry": "line", "vendorbill": "expense"}
#: The wording NetSuite shows for an unbalanced journal entry (**guess** at the exact text: see the docs).
UNBALANCED = "The total debits must equal the total credits."


class _UserView:
    """What the user actions render records as: sublists expanded, as the UI shows them."""

    params = {"expandSubResources": "true"}


USER_VIEW_PARAMS = _UserView()


class NetSuiteCosts:
    """Mixed into :class:`NetSuiteSandbox` (which supplies ``store``, ``_ref``, ``money`` and the errors)."""

    # -- body fields --------------------------------------------------------------------------------------------------
    def _cost_fields(self, kind: str, data: dict, merged: dict, new: bool) -> None:
        if kind == "customerrefund" and ("customer" in data or new):
            data["customer"] = self._ref("customer", merged.get("customer"), "customer")
        if kind in ("check", "vendorbill") and ("entity" in data or new):
            data["entity"] = self._ref("vendor", merged.get("entity"), "entity")
        if kind == "vendorbill" and ("account" in data or new):
            data["account"] = self._ref("account", merged.get("account") or {"id": DEFAULT_PAYABLE}, "account")
            if (self.store.get("account", data["account"]["id"]).data.get("acctType") or {}).get("id") != "AcctPay":
                raise user_error(f"Invalid account reference key {data['account']['id']}.", "account")
        if kind in ("customerrefund", "check") and ("account" in data or new):
            data["account"] = self._ref("account", merged.get("account"), "account")
            account = self.store.get("account", data["account"]["id"]).data
            if (account.get("acctType") or {}).get("id") not in ("Bank", "CredCard"):
                raise user_error(f"Invalid account reference key {data['account']['id']}.", "account")
        if "exchangeRate" in data:
            data["exchangeRate"] = money(data["exchangeRate"], "exchangeRate")
            if data["exchangeRate"] <= 0:
                raise invalid("Invalid value for the field exchangeRate.", "exchangeRate")

    def _check_currency(self, kind: str, data: dict) -> None:
        """A bank account in a foreign currency takes transactions in its own currency only; the exchange rate
        defaults to the currency record's."""
        currency = (data.get("currency") or {}).get("id")
        record = self.store.get("currency", currency).data
        data.setdefault("exchangeRate", Decimal("1") if record.get("isBaseCurrency") else record.get("exchangeRate"))
        account = data.get("account")
        if kind in ("customerrefund", "check") and account:
            own = (self.store.get("account", account["id"]).data.get("currency") or {}).get("id")
            base = self.store.get("currency", own).data.get("isBaseCurrency") if own else True
            if own and not base and own != currency:
                raise user_error("The currency of the transaction must match the currency of the bank account "
                                 f"{self.store.get('account', account['id']).data.get('acctName')}.", "currency")

    # -- sublists -----------------------------------------------------------------------------------------------------
    def _cost_lines(self, kind: str, items: list, current: list[dict], replace: bool) -> list[dict]:
        """Expense lines (``account``, ``amount``, ``taxCode``, ``memo``) or journal lines (``account``, ``debit``
        or ``credit``, ``memo``). Without ``replace`` a line naming an existing ``line`` changes it, others add."""
        name = COST_SUBLISTS[kind]
        lines = [] if replace else [dict(x) for x in current]
        for n, raw in enumerate(items):
            path = f"{name}.items[{n}]"
            if not isinstance(raw, dict):
                raise invalid(f"Invalid value for {path}.", path)
            number = raw.get("line")
            if not replace and number is not None:
                if not (isinstance(number, int) and 1 <= number <= len(current)):
                    raise invalid(f"Invalid value for {path}.line.", f"{path}.line")
                raw = {**{k: v for k, v in current[number - 1].items() if k not in ("line", "tax1Amt", "taxRate1")},
                       **{k: v for k, v in raw.items() if k != "line"}}
            line: dict[str, Any] = {"account": self._ref("account", raw.get("account"), f"{path}.account"),
                                    "memo": str(raw.get("memo") or "")}
            if kind in ("check", "vendorbill"):
                if raw.get("amount") in (None, ""):
                    raise user_error("Please enter value(s) for: Amount.", f"{path}.amount")
                line["amount"] = money(raw["amount"], f"{path}.amount")
                tax = raw.get("taxCode")
                if tax not in (None, ""):
                    line["taxCode"] = self._ref("salestaxitem", tax, f"{path}.taxCode")
                    percent = self.store.get("salestaxitem", line["taxCode"]["id"]).data["rate"]
                    line["taxRate1"] = percent
                    line["tax1Amt"] = (line["amount"] * percent / 100).quantize(CENT, ROUND_HALF_UP)
            else:
                debit = money(raw["debit"], f"{path}.debit") if raw.get("debit") not in (None, "") else ZERO
                credit = money(raw["credit"], f"{path}.credit") if raw.get("credit") not in (None, "") else ZERO
                if debit < 0 or credit < 0 or (debit > 0) == (credit > 0):
                    raise user_error("Each journal line needs an amount in either Debit or Credit.", path)
                line.update({"debit": debit} if debit else {"credit": credit})
            if not replace and number is not None:
                lines[number - 1] = line
            else:
                lines.append(line)
        if not lines:
            raise user_error("You must enter at least one line item for this transaction.", name)
        if kind == "journalentry":
            debits = sum((x.get("debit") or ZERO for x in lines), ZERO)
            credits = sum((x.get("credit") or ZERO for x in lines), ZERO)
            if len(lines) < 2 or debits != credits:
                raise user_error(UNBALANCED, "line")
        for k, line in enumerate(lines, 1):
            line["line"] = k
        return lines

    def _refund_applications(self, rid: str, data: dict) -> list[dict]:
        """A refund's ``apply`` list: each ``doc`` a credit memo of the refund's customer, in its currency, the
        amount no more than the credit memo has unapplied (not counting this refund); the total above zero."""
        customer = (data.get("customer") or {}).get("id")
        applied, total = [], ZERO
        for n, raw in enumerate(data.get("apply") or []):
            path = f"apply.items[{n}]"
            if not isinstance(raw, dict) or not isinstance(raw.get("doc"), dict):
                raise invalid(f"Invalid value for {path}.doc.", f"{path}.doc")
            if raw.get("apply") is False:
                continue
            ident = str(raw["doc"].get("id", ""))
            doc = self.store.find("creditmemo", ident) or self.store.find("customerpayment", ident)
            party = doc and (doc.data.get("entity") or doc.data.get("customer") or {}).get("id")
            if doc is None or party != customer or doc.data.get("_voided"):
                raise user_error(f"Invalid apply reference key {raw['doc'].get('id')}.", f"{path}.doc")
            if (doc.data.get("currency") or {}).get("id") != (data.get("currency") or {}).get("id"):
                raise user_error(f"Credit {doc.data.get('tranId')} is not in the refund's currency.", f"{path}.doc")
            left = self.credit_left(doc, skip=rid)
            amount = money(raw.get("amount", left), f"{path}.amount")
            if amount <= 0 or amount > left:
                raise user_error(f"The amount refunded from {doc.data.get('tranId')} exceeds its unapplied amount.",
                                 f"{path}.amount")
            applied.append({"doc": {"id": doc.id}, "apply": True, "amount": amount})
            total += amount
        if total <= 0:
            raise user_error("You must apply at least one credit or deposit to this refund.", "apply")
        return applied

    # -- amounts ------------------------------------------------------------------------------------------------------
    def refunded(self, credit: Row, skip: str = "") -> Decimal:
        """What customer refunds take from a credit memo."""
        return sum((a["amount"] for r in self.store.rows("customerrefund") if r.id != skip
                    for a in r.data.get("apply") or [] if a["doc"]["id"] == credit.id), ZERO)

    def credit_left(self, credit: Row, skip: str = "") -> Decimal:
        """A credit memo's or customer payment's unapplied amount: its total less what it applies to invoices and
        what refunds take."""
        applied = sum((a["amount"] for a in credit.data.get("apply") or []), ZERO)
        total = credit.data["payment"] if "payment" in credit.data else self.tran_total(credit.data)
        return total - applied - self.refunded(credit, skip)

    @staticmethod
    def cost_total(kind: str, data: dict) -> Decimal:
        if kind == "customerrefund":
            return sum((a["amount"] for a in data.get("apply") or []), ZERO)
        if kind in ("check", "vendorbill"):
            return sum((x["amount"] + (x.get("tax1Amt") or ZERO) for x in data.get("expense") or []), ZERO)
        return sum((x.get("debit") or ZERO for x in data.get("line") or []), ZERO)

    def render_cost(self, kind: str, row: Row, out: dict) -> None:
        out["total"] = self.cost_total(kind, row.data)
        if kind in ("check", "vendorbill"):
            out["taxTotal"] = sum((x.get("tax1Amt") or ZERO for x in row.data.get("expense") or []), ZERO)
            out["subtotal"] = out["total"] - out["taxTotal"]
        if kind == "vendorbill":  # no bill payments here: a bill stays Open, owing its total
            out["amountRemaining"] = out["total"]
            out["status"] = {"id": "A", "refName": "Open"}
        if row.data.get("_voided"):
            out["status"] = {"id": "V", "refName": "Voided"}

    # -- what a person does in NetSuite's UI --------------------------------------------------------------------------
    def delete_refund_as_user(self, refund_id: str) -> dict:
        self.delete("customerrefund", str(refund_id))
        return {"id": str(refund_id), "deleted": True}

    def delete_journal_as_user(self, journal_id: str) -> dict:
        self.delete("journalentry", str(journal_id))
        return {"id": str(journal_id), "deleted": True}

    def edit_check_line_as_user(self, check_id: str, line: int = 0, amount: Any = None) -> dict:
        """A check's expense line amount typed over (its tax follows from the tax code)."""
        current = self.store.get("check", str(check_id)).data
        lines = [{k: v for k, v in x.items() if k not in ("tax1Amt", "taxRate1", "line")}
                 for x in current["expense"]]
        lines[int(line)]["amount"] = str(amount)
        row = self.patch("check", str(check_id), {"expense": {"items": lines}}, frozenset({"expense"}))
        return self.render("check", row, USER_VIEW_PARAMS)

    def void_check_as_user(self, check_id: str) -> dict:
        """A direct void in the UI (no reversing journal): every amount zero, status Voided, the record kept."""
        with self.store.lock:
            row = self.store.get("check", str(check_id))
            lines = [{**x, "amount": ZERO, **({"tax1Amt": ZERO} if "taxCode" in x else {})}
                     for x in row.data["expense"]]
            row = self.store.update("check", row.id, {"expense": lines, "_voided": True})
        return self.render("check", row, USER_VIEW_PARAMS)

"""The Odoo sandbox's backend: the few models of an invoicing database and what their methods do, on the kit's
``ResourceStore`` (moto's split: this is the state and the rules; ``server.py`` is the wire).

Records are stored with Odoo's field names; many2one values as the target id (``False`` when empty), one2many
and many2many as lists of ids. ``read`` answers many2one as ``[id, display name]``, as Odoo does. Refusals are
:class:`OdooException` with the name of the Odoo exception class, rendered by the wire (XML-RPC fault codes, JSON-2
HTTP statuses). Every behaviour here is listed with its source, or marked as a guess, in docs/sandbox-odoo.md.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ...sandboxkit.platform import decimal_value
from ...sandboxkit.resources import NotFound, ResourceStore, Row
from .entries import Entries

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MOVE_TYPES = ("out_invoice", "out_refund", "entry")
#: model -> field -> type ("char", "money", "number", "bool", "date", "m2o:<model>", "x2m:<model>", "selection")
FIELDS: dict[str, dict[str, str]] = {
    "res.currency": {"name": "char", "symbol": "char", "active": "bool"},
    "res.company": {"name": "char", "currency_id": "m2o:res.currency"},
    "res.partner": {"name": "char", "email": "char", "ref": "char", "active": "bool", "customer_rank": "number",
                    "parent_id": "m2o:res.partner", "vat": "char"},
    "product.product": {"name": "char", "default_code": "char", "list_price": "money", "type": "selection",
                        "active": "bool"},
    "account.account": {"code": "char", "name": "char", "account_type": "selection", "deprecated": "bool"},
    "account.tax": {"name": "char", "amount": "number", "amount_type": "selection", "type_tax_use": "selection",
                    "active": "bool", "account_id": "m2o:account.account"},
    "account.journal": {"name": "char", "code": "char", "type": "selection",
                        "default_account_id": "m2o:account.account"},
    "account.move": {"name": "char", "move_type": "selection", "partner_id": "m2o:res.partner", "ref": "char",
                     "invoice_date": "date", "invoice_date_due": "date", "state": "selection",
                     "currency_id": "m2o:res.currency", "journal_id": "m2o:account.journal",
                     "invoice_line_ids": "x2m:account.move.line", "line_ids": "x2m:account.move.line",
                     "amount_untaxed": "money", "amount_tax": "money", "amount_total": "money",
                     "amount_residual": "money", "payment_state": "selection",
                     "reversed_entry_id": "m2o:account.move", "narration": "char", "date": "date",
                     "amount_total_signed": "money"},
    "account.move.line": {"move_id": "m2o:account.move", "payment_id": "m2o:account.payment", "name": "char",
                          "display_type": "selection", "quantity": "number", "price_unit": "money",
                          "account_id": "m2o:account.account", "tax_ids": "x2m:account.tax",
                          "product_id": "m2o:product.product", "price_subtotal": "money", "price_total": "money",
                          "balance": "money", "amount_residual": "money", "account_type": "selection",
                          "matched_debit_ids": "x2m:account.partial.reconcile",
                          "matched_credit_ids": "x2m:account.partial.reconcile", "reconciled": "bool",
                          "debit": "money", "credit": "money", "amount_currency": "money",
                          "currency_id": "m2o:res.currency"},
    "account.partial.reconcile": {"debit_move_id": "m2o:account.move.line", "credit_move_id": "m2o:account.move.line",
                                  "amount": "money", "debit_amount_currency": "money",
                                  "credit_amount_currency": "money"},
    "account.payment": {"name": "char", "partner_id": "m2o:res.partner", "amount": "money", "date": "date",
                        "journal_id": "m2o:account.journal", "state": "selection", "payment_type": "selection",
                        "partner_type": "selection", "currency_id": "m2o:res.currency",
                        "reconciled_invoice_ids": "x2m:account.move", "ref": "char", "memo": "char"},
    "account.payment.register": {"amount": "money", "payment_date": "date", "journal_id": "m2o:account.journal",
                                 "communication": "char", "line_ids": "x2m:account.move"},
}
#: Models whose ``name`` is required.
NAMED = {"res.partner", "product.product", "account.account", "account.tax", "account.journal", "res.currency"}
COMPUTED = {"write_date", "create_date", "display_name", "id"}
#: Odoo's default on create (a guess where Odoo's default is a computed one).
DEFAULTS = {"res.partner": {"active": True, "email": False, "ref": False, "customer_rank": 1, "parent_id": False,
                            "vat": False},
            "product.product": {"active": True, "default_code": False, "list_price": ZERO, "type": "service"},
            "account.account": {"deprecated": False}, "account.tax": {"active": True, "amount_type": "percent"},
            "res.currency": {"active": True}}


class OdooException(Exception):
    """An ``odoo.exceptions`` class by name (``UserError``, ``ValidationError``, ``AccessDenied``, ``AccessError``,
    ``MissingError``) with its message."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name, self.message = name, message


def user_error(message: str) -> OdooException:
    return OdooException("UserError", message)


def odoo_time(epoch: float) -> str:
    """Odoo's datetime text (UTC, to the second): ``2026-12-04 10:02:51``."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def money(value: Any) -> Decimal:
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


class Database(Entries):
    """One Odoo database: the store, the company, and the models' methods (``call``)."""

    error = staticmethod(user_error)

    def __init__(self, store: ResourceStore, clock: Callable[[], float], payment_ref_field: str = "ref") -> None:
        self.store, self.clock = store, clock
        #: Odoo 17 names a payment's memo ``ref``; Odoo 18 and later ``memo``.
        self.payment_ref_field = payment_ref_field
        for model in FIELDS:
            store.declare(model)

    # -- reading ----------------------------------------------------------------------------------------------
    def row(self, model: str, rid: Any) -> Row:
        try:
            return self.store.get(model, str(int(rid)))
        except (NotFound, TypeError, ValueError):
            raise OdooException("MissingError", "Record does not exist or has been deleted.\n"
                                f"(Record: {model}({rid},), User: 2)") from None

    def display_name(self, model: str, row: Row) -> str:
        data = self.view(model, row)
        if model == "account.account":
            return f"{data['code']} {data['name']}"
        return str(data.get("name") or f"{model},{row.id}")

    def view(self, model: str, row: Row) -> dict:
        """The record with its computed fields."""
        data = {"id": int(row.id), **row.data, "write_date": odoo_time(row.modified),
                "create_date": odoo_time(row.created)}
        if model == "account.move":
            data.update(self._move_amounts(row))
        elif model == "account.move.line" and data.get("account_type") == "asset_receivable":
            data["amount_residual"] = self._line_residual(row)
            data["reconciled"] = data["amount_residual"] == ZERO
            data["matched_debit_ids"] = [int(p.id) for p in self._partials(row.id, "credit_move_id")]
            data["matched_credit_ids"] = [int(p.id) for p in self._partials(row.id, "debit_move_id")]
        elif model == "account.payment":
            data["reconciled_invoice_ids"] = self._paid_invoices(row)
        return data

    def read(self, model: str, rows: list[Row], fields: list | None) -> list[dict]:
        known = FIELDS[model]
        wanted = list(fields) if fields else list(known)
        out = []
        for row in rows:
            data = self.view(model, row)
            record = {"id": int(row.id)}
            for name in wanted:
                if name not in known and name not in COMPUTED:
                    raise ValueError(f"Invalid field {name!r} on model {model!r}")
                value = data.get(name, False)
                kind = known.get(name, "")
                if kind.startswith("m2o:") and value:
                    target = kind[4:]
                    value = [int(value), self.display_name(target, self.row(target, value))]
                elif name == "display_name":
                    value = self.display_name(model, row)
                record[name] = False if value is None else value
            out.append(record)
        return out

    def search(self, model: str, domain: list, offset: int = 0, limit: int | None = None,
               order: str | None = None) -> list[Row]:
        test = compile_domain(domain or [], FIELDS[model])
        active = "active" in FIELDS[model] and not any(isinstance(c, (list, tuple)) and c and c[0] == "active"
                                                         for c in domain or [])
        rows = [r for r in self.store.rows(model) if (not active or self.view(model, r).get("active"))
                and test(self.view(model, r))]
        if order:
            column, _, direction = order.partition(" ")
            def key(row: Row) -> tuple:
                value = self.view(model, row).get(column)
                number = isinstance(value, (int, Decimal)) and not isinstance(value, bool)
                return (0, value, "", int(row.id)) if number else (1, 0, str(value), int(row.id))
            rows.sort(key=key, reverse=direction.strip().lower() == "desc")
        rows = rows[offset or 0:]
        return rows[:limit] if limit else rows

    # -- writing ----------------------------------------------------------------------------------------------
    def clean(self, model: str, vals: dict, creating: bool) -> dict:
        known, out = FIELDS[model], {}
        for name, value in vals.items():
            kind = known.get(name)
            if kind is None:
                raise ValueError(f"Invalid field {name!r} on model {model!r}")
            if kind == "money" or (kind == "number" and value not in (None, False)):
                try:
                    value = decimal_value(value if value is not False else 0, ZERO)
                except ValueError:
                    raise ValueError(f"Invalid value {value!r} for field {name!r}") from None
            elif kind.startswith("m2o:") and value not in (False, None):
                self.row(kind[4:], value)
                value = int(value)
            out[name] = value
        if creating:
            out = {**DEFAULTS.get(model, {}), **out}
            if model in NAMED and not out.get("name"):
                raise OdooException("ValidationError", f"The field 'name' is required on {model}.")
        return out

    def create(self, model: str, vals: dict) -> int:
        if model == "account.move":
            return self._create_move(vals)
        if model == "account.payment":
            return self._create_payment(vals, None)
        if model == "account.partial.reconcile":
            data = self.clean(model, vals, True)
            debit, credit = (self.row("account.move.line", data.get(side)) for side in ("debit_move_id",
                                                                                          "credit_move_id"))
            return int(self.reconcile(debit, credit, data.get("amount") or None))
        return int(self.store.create(model, self.clean(model, vals, True)).id)

    def write(self, model: str, ids: list, vals: dict) -> bool:
        for rid in ids:
            row = self.row(model, rid)
            if model == "account.move":
                self._write_move(row, dict(vals))
            else:
                if model == "account.payment" and row.data["state"] != "draft" and set(vals) & {"amount", "date"}:
                    raise user_error("You can only modify a payment in draft state.")
                self.store.update(model, row.id, self.clean(model, vals, False))
        return True

    def unlink(self, model: str, ids: list) -> bool:
        for rid in ids:
            row = self.row(model, rid)
            if model in ("account.move", "account.payment") and row.data.get("state") != "draft":
                raise user_error("You cannot delete an entry which has been posted once.")
            if model == "account.move" and row.data.get("name", "/") != "/" and not self._last_of_sequence(row):
                raise user_error("You cannot delete this entry, as it has already consumed a sequence number and "
                                 "is not the last one in the chain. You should probably revert it instead.")
            if model == "res.partner" and any(m.data.get("partner_id") == int(row.id)
                                              for m in self.store.rows("account.move")):
                raise user_error("You cannot delete a partner that has journal items; archive it instead.")
            for line in self._lines(row.id) if model == "account.move" else []:
                self.store.delete("account.move.line", line.id)
            self.store.delete(model, row.id)
        return True

    # -- invoices and credit notes ---------------------------------------------------------------------------
    def _create_move(self, vals: dict) -> int:
        vals = dict(vals)
        commands = vals.pop("invoice_line_ids", [])
        entry_commands = vals.pop("line_ids", [])
        move_type = vals.setdefault("move_type", "entry")
        if move_type not in MOVE_TYPES:
            raise ValueError(f"Wrong value for account.move.move_type: {move_type!r}")
        if move_type != "entry" and not vals.get("partner_id"):
            raise user_error("The field 'Customer' is required, please complete it to validate the Customer Invoice.")
        journal = self.store.first("account.journal", type="sale" if move_type != "entry" else "general")
        data = {"name": "/", "state": "draft", "ref": False, "invoice_date": False, "invoice_date_due": False,
                "currency_id": self.company_currency(), "journal_id": int(journal.id), "reversed_entry_id": False,
                "narration": False, "partner_id": False, "date": dt.date.fromtimestamp(self.clock()).isoformat(),
                **self.clean("account.move", vals, True)}
        with self.store.lock:
            move = self.store.create("account.move", data)
            try:
                if move_type == "entry":
                    self._entry_lines(move, entry_commands)
                else:
                    self._apply_lines(move, commands)
            except Exception:  # Odoo's create is one transaction: nothing of a refused entry stays
                for line in self._lines(move.id):
                    self.store.delete("account.move.line", line.id)
                self.store.delete("account.move", move.id)
                raise
        return int(move.id)

    def _write_move(self, move: Row, vals: dict) -> None:
        if move.data["move_type"] == "entry":
            commands = vals.pop("line_ids", None)
            if move.data["state"] != "draft" and (commands or set(vals) - {"ref", "narration"}):
                raise user_error("You cannot modify a posted entry of this journal. First reset it to draft.")
            self.store.update("account.move", move.id, self.clean("account.move", vals, False))
            if commands is not None:
                self._entry_lines(self.row("account.move", move.id), commands)
            return
        commands = vals.pop("invoice_line_ids", None)
        if move.data["state"] != "draft" and (commands or set(vals) - {"ref", "narration"}):
            raise user_error("You cannot modify a posted entry of this journal. First reset it to draft.")
        self.store.update("account.move", move.id, self.clean("account.move", vals, False))
        if commands is not None:
            self._apply_lines(self.row("account.move", move.id), commands)

    def _apply_lines(self, move: Row, commands: list) -> None:
        """Odoo's x2many commands: (0, 0, vals) create, (1, id, vals) update, (2, id, 0) delete, (5,) clear,
        (6, 0, ids) is not accepted for invoice lines (they belong to their move)."""
        for command in commands or []:
            code = command[0]
            if code == 0:
                self.store.create("account.move.line", self._line(move, command[2]))
            elif code == 1:
                line = self.row("account.move.line", command[1])
                self.store.update("account.move.line", line.id, self._line(move, {**line.data, **command[2]}))
            elif code in (2, 3):
                self.store.delete("account.move.line", self.row("account.move.line", command[1]).id)
            elif code == 5:
                for line in self._lines(move.id, "product"):
                    self.store.delete("account.move.line", line.id)
            else:
                raise ValueError(f"Unsupported command {code} for account.move.invoice_line_ids")
        self.store.update("account.move", move.id, {})  # write_date moves with its lines

    def _line(self, move: Row, vals: dict) -> dict:
        vals = {k: v for k, v in vals.items() if k not in ("move_id", "display_type")}
        taxes = vals.pop("tax_ids", None)
        data = self.clean("account.move.line", vals, False)
        tax_ids: list[int] = []
        for command in taxes or []:
            if isinstance(command, (list, tuple)) and command and command[0] == 6:
                tax_ids = [int(t) for t in command[2]]
            elif isinstance(command, (list, tuple)) and command and command[0] == 4:
                tax_ids.append(int(command[1]))
            elif isinstance(command, int):
                tax_ids.append(command)
        for tax_id in tax_ids:
            if not self.row("account.tax", tax_id).data.get("active"):
                raise user_error(f"The tax {tax_id} is archived.")
        account_id = data.get("account_id")
        if not account_id:
            raise user_error("The account is required on an invoice line.")
        account = self.row("account.account", account_id)
        if account.data.get("deprecated"):
            raise user_error(f"The account {account.data['code']} {account.data['name']} is deprecated.")
        quantity = data.get("quantity", Decimal("1"))
        price = data.get("price_unit", ZERO)
        subtotal = money(quantity * price)
        rate = sum((self.row("account.tax", t).data["amount"] for t in tax_ids), Decimal("0"))
        return {"move_id": int(move.id), "payment_id": False, "display_type": "product", "name": data.get("name", ""),
                "quantity": quantity, "price_unit": price, "account_id": int(account.id), "tax_ids": tax_ids,
                "product_id": data.get("product_id", False), "price_subtotal": subtotal,
                "price_total": subtotal + money(subtotal * rate / 100), "balance": ZERO,
                "account_type": account.data["account_type"]}

    def _lines(self, move_id: str, display_type: str | None = None) -> list[Row]:
        return [r for r in self.store.rows("account.move.line") if r.data.get("move_id") == int(move_id)
                and (display_type is None or r.data.get("display_type") == display_type)]

    def _receivable(self, owner: str, rid: str) -> Row | None:
        for line in self.store.rows("account.move.line"):
            if line.data.get(owner) == int(rid) and line.data.get("account_type") == "asset_receivable":
                return line
        return None

    def _move_amounts(self, move: Row) -> dict:
        if move.data["move_type"] == "entry":
            return self._entry_amounts(move)
        lines = self._lines(move.id, "product")
        untaxed = sum((line.data["price_subtotal"] for line in lines), ZERO)
        total = sum((line.data["price_total"] for line in lines), ZERO)
        receivable = self._receivable("move_id", move.id)
        state = move.data["state"]
        residual = self._line_residual(receivable) if receivable is not None and state == "posted" else (
            total if state == "draft" else ZERO)
        paid = "not_paid" if residual == total or state != "posted" else "paid" if residual == ZERO else "partial"
        return {"amount_untaxed": untaxed, "amount_tax": total - untaxed, "amount_total": total,
                "amount_residual": residual, "payment_state": paid,
                "invoice_line_ids": [int(line.id) for line in lines],
                "line_ids": [int(line.id) for line in self._lines(move.id)]}

    def action_post(self, model: str, ids: list) -> bool:
        for rid in ids:
            row = self.row(model, rid)
            if row.data["state"] != "draft":
                raise user_error("Only draft journal entries can be posted.")
            if model == "account.payment":
                self._post_payment(row)
                continue
            if not self._lines(row.id, "product"):
                raise user_error("You need to add a line before posting.")
            if row.data["move_type"] == "entry":
                self._check_balanced(row)
                self.store.update(model, row.id, {"state": "posted", "name": row.data["name"] if row.data["name"]
                                                  != "/" else self._sequence("entry")})
                continue
            if not row.data.get("invoice_date"):
                self.store.update(model, row.id, {"invoice_date": dt.date.fromtimestamp(self.clock()).isoformat()})
            total = self._move_amounts(row)["amount_total"]
            sign = 1 if row.data["move_type"] == "out_invoice" else -1
            self._set_receivable("move_id", row, sign * total)
            name = row.data["name"] if row.data["name"] != "/" else self._sequence(row.data["move_type"])
            self.store.update(model, row.id, {"state": "posted", "name": name})
        return True

    def _set_receivable(self, owner: str, row: Row, balance: Decimal) -> None:
        account = self.store.first("account.account", account_type="asset_receivable")
        line = self._receivable(owner, row.id)
        data = {"move_id": int(row.id) if owner == "move_id" else False,
                "payment_id": int(row.id) if owner == "payment_id" else False, "display_type": "payment_term",
                "name": "", "quantity": Decimal("1"), "price_unit": ZERO, "account_id": int(account.id),
                "tax_ids": [], "product_id": False, "price_subtotal": ZERO, "price_total": ZERO,
                "balance": balance, "account_type": "asset_receivable"}
        if line is None:
            self.store.create("account.move.line", data)
        else:
            self.store.update("account.move.line", line.id, data)

    def _last_of_sequence(self, move: Row) -> bool:
        prefix = move.data["name"].rsplit("/", 1)[0] + "/"
        names = [r.data["name"] for r in self.store.rows("account.move") if r.data["name"].startswith(prefix)]
        return move.data["name"] == max(names)

    def _sequence(self, move_type: str) -> str:
        prefix = {"out_invoice": "INV", "out_refund": "RINV"}.get(move_type, "MISC")
        year = dt.date.fromtimestamp(self.clock()).year
        count = sum(1 for r in self.store.rows("account.move") if r.data["name"].startswith(f"{prefix}/{year}/"))
        return f"{prefix}/{year}/{count + 1:05d}"

    def button_draft(self, model: str, ids: list) -> bool:
        for rid in ids:
            row = self.row(model, rid)
            if row.data["state"] not in ("posted", "cancel"):
                raise user_error("Only posted/cancelled journal entries can be reset to draft.")
            owner = "payment_id" if model == "account.payment" else "move_id"
            line = self._receivable(owner, row.id)
            if line is not None:  # Odoo removes the reconciliation of a move reset to draft
                for partial in self._partials(line.id, "debit_move_id") + self._partials(line.id, "credit_move_id"):
                    self.store.delete("account.partial.reconcile", partial.id)
                    self._touch_other(partial, line.id)
            self.store.update(model, row.id, {"state": "draft"})
        return True

    def button_cancel(self, model: str, ids: list) -> bool:
        for rid in ids:
            row = self.row(model, rid)
            if row.data["state"] != "draft":
                raise user_error("Only draft journal entries can be cancelled.")
            self.store.update(model, row.id, {"state": "cancel"})
        return True

    # -- reconciliation -------------------------------------------------------------------------------------
    def _partials(self, line_id: str, side: str) -> list[Row]:
        return [p for p in self.store.rows("account.partial.reconcile") if p.data[side] == int(line_id)]

    def _line_residual(self, line: Row) -> Decimal:
        matched = sum((p.data["amount"] for p in self._partials(line.id, "debit_move_id")
                       + self._partials(line.id, "credit_move_id")), ZERO)
        return abs(line.data["balance"]) - matched

    def _touch_other(self, partial: Row, line_id: str) -> None:
        for side in ("debit_move_id", "credit_move_id"):
            other = self.store.find("account.move.line", str(partial.data[side]))
            if other is not None and other.id != line_id:
                for owner, model in (("move_id", "account.move"), ("payment_id", "account.payment")):
                    if other.data.get(owner):
                        self.store.update(model, str(other.data[owner]), {})

    def reconcile(self, debit: Row, credit: Row, limit: Decimal | None = None) -> int:
        """Match an open debit line (an invoice) with an open credit line (a payment, a credit note), for at most
        ``limit``; the partial reconcile's id."""
        if debit.data["balance"] <= 0 or credit.data["balance"] >= 0:
            raise user_error("The lines to reconcile must be one debit and one credit.")
        amount = min(self._line_residual(debit), self._line_residual(credit), *([limit] if limit else []))
        if amount <= 0:
            raise user_error("There is nothing left to reconcile on these lines.")
        for line in (debit, credit):
            owner = self.row("account.payment" if line.data.get("payment_id") else "account.move",
                             line.data.get("payment_id") or line.data.get("move_id"))
            if owner.data.get("state") != "posted":
                raise user_error("You can only reconcile posted entries.")
        partial = self.store.create("account.partial.reconcile", {
            "debit_move_id": int(debit.id), "credit_move_id": int(credit.id), "amount": amount,
            "debit_amount_currency": amount, "credit_amount_currency": amount})
        self._touch_other(partial, "")
        return int(partial.id)

    def js_assign_outstanding_line(self, ids: list, line_id: Any) -> bool:
        """``account.move.js_assign_outstanding_line(line_id)``: match an outstanding credit with the invoice."""
        [move_id] = ids
        move = self.row("account.move", move_id)
        invoice_line = self._receivable("move_id", move.id)
        if move.data["state"] != "posted" or invoice_line is None:
            raise user_error("You can only register a payment on a posted invoice.")
        self.reconcile(invoice_line, self.row("account.move.line", line_id))
        return True

    # -- payments ------------------------------------------------------------------------------------------
    def _create_payment(self, vals: dict, invoices: list[Row] | None) -> int:
        vals = dict(vals)
        journal = vals.get("journal_id") or int(self.store.first("account.journal", type="bank").id)
        data = {"name": "/", "state": "draft", "payment_type": "inbound", "partner_type": "customer",
                "currency_id": self.company_currency(), "ref": False, "memo": False, "partner_id": False,
                "date": dt.date.fromtimestamp(self.clock()).isoformat(),
                **self.clean("account.payment", {**vals, "journal_id": journal}, True)}
        if data["amount"] <= 0:
            raise OdooException("ValidationError", "The payment amount must be strictly positive.")
        return int(self.store.create("account.payment", data).id)

    def _post_payment(self, payment: Row) -> None:
        # an inbound payment credits the customer's receivable; an outbound one (a refund) debits it
        sign = 1 if payment.data["payment_type"] == "outbound" else -1
        self._set_receivable("payment_id", payment, sign * payment.data["amount"])
        count = sum(1 for r in self.store.rows("account.payment") if r.data["name"] != "/")
        name = payment.data["name"] if payment.data["name"] != "/" else f"PBNK1/{count + 1:05d}"
        self.store.update("account.payment", payment.id, {"state": "posted", "name": name})

    def _paid_invoices(self, payment: Row) -> list[int]:
        line = self._receivable("payment_id", payment.id)
        if line is None:
            return []
        found = []
        for partial in self._partials(line.id, "credit_move_id"):
            debit = self.store.find("account.move.line", str(partial.data["debit_move_id"]))
            if debit is not None and debit.data.get("move_id"):
                found.append(int(debit.data["move_id"]))
        return found

    def register_payments(self, wizard: Row, context: dict) -> dict:
        """``account.payment.register.action_create_payments``: one payment for the invoices the wizard was
        opened on (``active_ids``), posted and matched with them, in their order."""
        invoices = [self.row("account.move", i) for i in wizard.data["line_ids"]]
        for invoice in invoices:
            if invoice.data["state"] != "posted":
                raise user_error("You can only register payment for posted journal entries.")
        partner = invoices[0].data["partner_id"]
        due = sum((self._move_amounts(i)["amount_residual"] for i in invoices), ZERO)
        amount = wizard.data.get("amount") or due
        pid = self._create_payment({"partner_id": partner, "amount": amount, "date": wizard.data.get("payment_date")
                                    or dt.date.fromtimestamp(self.clock()).isoformat(),
                                    "journal_id": wizard.data.get("journal_id") or False,
                                    self.payment_ref_field: wizard.data.get("communication") or False}, invoices)
        payment = self.row("account.payment", pid)
        self._post_payment(payment)
        credit = self._receivable("payment_id", payment.id)
        for invoice in invoices:
            if self._line_residual(credit) <= 0:
                break
            self.reconcile(self._receivable("move_id", invoice.id), credit)
        return {"name": "Payments", "type": "ir.actions.act_window", "res_model": "account.payment",
                "context": {"create": False}, "view_mode": "form", "res_id": pid}

    def company_currency(self) -> int:
        return int(self.store.rows("res.company")[0].data["currency_id"])


# -- domains ---------------------------------------------------------------------------------------------------
def _leaf(condition, fields: dict) -> Callable[[dict], bool]:
    name, op, value = condition
    kind = fields.get(name, "")

    def get(record: dict) -> Any:
        found = record.get(name, False)
        return found if found is not None else False

    def comparable(found: Any, wanted: Any) -> tuple[Any, Any]:
        if kind in ("money", "number") and found is not False and wanted is not False:
            return Decimal(found), decimal_value(wanted)
        return found, wanted

    def test(record: dict) -> bool:
        found = get(record)
        if op in ("=", "!="):
            a, b = comparable(found, value)
            return (a == b) == (op == "=")
        if op in ("in", "not in"):
            values = list(value) if isinstance(value, (list, tuple)) else [value]
            return (found in values) == (op == "in")
        if op in ("ilike", "not ilike", "like", "=like", "=ilike"):
            text, pattern = str(found or ""), str(value).replace("%", "")
            if op.startswith("="):
                hit = text.casefold() == pattern.casefold() if "i" in op else text == pattern
            else:
                hit = pattern.casefold() in text.casefold() if "ilike" in op else pattern in text
            return hit != op.startswith("not")
        if op in (">", ">=", "<", "<="):
            if found is False:
                return False
            a, b = comparable(found, value)
            return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]
        raise ValueError(f"Invalid domain operator {op!r}")
    if op not in ("=", "!=", "in", "not in", "ilike", "not ilike", "like", "=like", "=ilike", ">", ">=", "<", "<="):
        raise ValueError(f"Invalid domain operator {op!r}")
    if name not in fields and name not in COMPUTED:
        raise ValueError(f"Invalid field {name!r} in leaf {list(condition)!r}")
    return test


def compile_domain(domain: list, fields: dict) -> Callable[[dict], bool]:
    """An Odoo domain (prefix ``&``, ``|``, ``!``; leaves ``[field, operator, value]``; implicit ``&``)."""
    items = list(domain)
    if not all(isinstance(i, str) or (isinstance(i, (list, tuple)) and len(i) == 3) for i in items):
        raise ValueError(f"Invalid domain: {domain!r}")

    def parse(pos: int) -> tuple[Callable[[dict], bool], int]:
        item = items[pos]
        if item == "!":
            inner, nxt = parse(pos + 1)
            return (lambda r: not inner(r)), nxt
        if item in ("&", "|"):
            left, nxt = parse(pos + 1)
            right, end = parse(nxt)
            if item == "&":
                return (lambda r: left(r) and right(r)), end
            return (lambda r: left(r) or right(r)), end
        if isinstance(item, str):
            raise ValueError(f"Invalid domain operator {item!r}")
        return _leaf(item, fields), pos + 1

    tests, pos = [], 0
    while pos < len(items):
        test, pos = parse(pos)
        tests.append(test)
    return lambda record: all(t(record) for t in tests)

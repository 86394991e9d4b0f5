"""A local Odoo server on loopback HTTP, built on the sandbox kit: the external API's two protocols over one
database (``orm.py``).

- XML-RPC (Odoo 8 to 19; deprecated from 19): ``POST /xmlrpc/2/common`` (``version``, ``authenticate``,
  ``login``) and ``POST /xmlrpc/2/object`` (``execute_kw(db, uid, password, model, method, args, kwargs)``). Bodies
  are parsed and answered with the standard library's XML-RPC machinery; refusals are faults with the codes
  Odoo's RPC layer gives them: 2 for ``UserError`` / ``ValidationError`` / ``MissingError``, 3 for
  ``AccessDenied``, 4 for ``AccessError``, 1 (with a traceback text) for anything else.
- JSON-2 (Odoo 19): ``POST /json/2/<model>/<method>`` with ``Authorization: bearer <API key>`` and
  ``X-Odoo-Database``, named arguments in a JSON object (``ids``, ``context`` and the method's parameters);
  refusals are HTTP statuses with ``{"name", "message", "arguments", "context", "debug"}``. Served only when the
  sandbox plays a version-19 server (``version``).
- ``GET /web/version``: ``{"version", "version_info"}`` without authentication.
- ``GET /odoo/connect``: the stand-in for the Connect button (Odoo has no consent page): straight back to the
  ``redirect_uri`` with a code.

Sources and guesses: docs/sandbox-odoo.md.
"""
from __future__ import annotations

import traceback
from typing import Any
from urllib.parse import urlencode
import xmlrpc.client  # nosec B411: requests are parsed by wire.loads (defusedxml); ServerProxy is for tests

from .. import wire
from ...sandboxkit.platform import PlatformError, PlatformSandbox, Request, Response, json_response
from ...sandboxkit.resources import ResourceStore
from . import orm
from .seed import API_KEY, DATABASE, LOGIN, UID, seed

XML = "text/xml"
#: Methods called on records: their first positional argument is the ids.
RECORD_METHODS = {"read": ("fields",), "write": ("vals",), "unlink": (), "action_post": (), "button_draft": (),
                  "button_cancel": (), "action_draft": (), "action_cancel": (), "action_archive": (),
                  "action_unarchive": (), "js_assign_outstanding_line": ("line_id",),
                  "action_create_payments": ()}
#: Methods called on the model, with their positional parameters in order.
MODEL_METHODS = {"search": ("domain", "offset", "limit", "order"), "search_count": ("domain",),
                 "search_read": ("domain", "fields", "offset", "limit", "order"), "create": ("vals_list",),
                 "context_get": (), "fields_get": ("allfields", "attributes")}
XMLRPC_CODES = {"UserError": 2, "ValidationError": 2, "MissingError": 2, "AccessDenied": 3, "AccessError": 4}
JSON2_STATUS = {"AccessDenied": 401, "AccessError": 403, "MissingError": 404, "UserError": 422,
                "ValidationError": 422}


class OdooSandbox(PlatformSandbox):
    platform = "odoo"
    title = "Odoo"
    default_port = 8769
    api_path = ""
    authorize_path = "/odoo/connect"
    #: How a person takes back what the connector sent (``PlatformHarness.take_back``): a refund (an outbound
    #: payment) "Reset to Draft" then "Cancel"; an expense (a journal entry) "Reset to Draft" then "Cancel Entry"
    #: (Odoo keeps both, cancelled, their ``write_date`` moved); a journal "Reverse Entry" (it stays posted, and a
    #: reversing entry naming it in ``reversed_entry_id`` is made and posted). Either suits both entries.
    user_takes_back = {"refund": ("cancel_payment", "payment_id"), "expense": ("cancel_entry", "move_id"),
                       "journal": ("reverse_entry", "move_id")}

    def __init__(self, host: str = "127.0.0.1", port: int = 0, version: str = "17.0", **kwargs: Any) -> None:
        super().__init__(host, port, **kwargs)
        self.version = version
        self.store = ResourceStore(self.clock)
        self.db = orm.Database(self.store, self.clock, self.payment_ref_field)
        self.logins = 0
        self.seed()

    # -- the kit's interface ----------------------------------------------------------------------------------
    @property
    def company_id(self) -> str:
        return DATABASE

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0].removeprefix("saas~"))

    @property
    def payment_ref_field(self) -> str:
        return "memo" if self.major >= 18 else "ref"

    @property
    def token_calls(self) -> int:
        return self.logins

    @property
    def client_id(self) -> str:
        return LOGIN

    def seed(self) -> None:
        self.db.payment_ref_field = self.payment_ref_field
        seed(self.store)

    def reset(self) -> None:
        super().reset()
        self.logins = 0

    def issue_tokens(self) -> dict:
        """What a connection holds once connected: the user id (XML-RPC) or the API key (JSON-2, version 19)."""
        token = API_KEY if self.major >= 19 else str(UID)
        return {"access_token": token, "refresh_token": token, "expires_in": 315360000}

    def token_problem(self, access_token: str) -> str | None:
        """Why a session from :meth:`issue_tokens` would be refused now: Odoo's user ids and API keys do not
        expire on their own, so only a wrong one is."""
        return None if access_token in (str(UID), API_KEY) else "invalid"

    def apply_setting(self, name: str, value: Any) -> bool:
        if name == "version":
            self.version = str(value)
            self.db.payment_ref_field = self.payment_ref_field
            return True
        return False

    def extra_state(self) -> dict:
        return {"version": self.version, "database": DATABASE}

    def fault_response(self, fault) -> Response:
        """A proxy in front of Odoo answers the injected ones (Odoo itself has no rate limit)."""
        if fault.kind == "rate_limit":
            headers = [("Content-Type", "text/html"), ("Retry-After", fault.retry_after or "60")]
            return 429, headers, b"Too Many Requests"
        status = 503 if fault.kind == "http_503" else 500
        return status, [("Content-Type", "text/html")], b"<html><body>Internal Server Error</body></html>"

    # -- routes -------------------------------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        if req.path == "/web/version" and req.method == "GET":
            return json_response(200, {"version": self.version, "version_info": self.version_info()})
        if req.path == self.authorize_path and req.method == "GET":
            redirect = req.params.get("redirect_uri", "")
            joiner = "&" if "?" in redirect else "?"
            query = urlencode({"code": "login", "state": req.params.get("state", "")})
            return 302, [("Location", f"{redirect}{joiner}{query}")], b""
        if req.path in ("/xmlrpc/2/common", "/xmlrpc/2/object") and req.method == "POST":
            return self.xmlrpc(req)
        if req.path.startswith("/json/2/") and req.method == "POST" and self.major >= 19:
            return self.json2(req)
        return 404, [("Content-Type", "text/html")], b"<html><body>404: Not Found</body></html>"

    def version_info(self) -> list:
        major, _, minor = self.version.partition(".")
        return [int(major.removeprefix("saas~")), int(minor or 0), 0, "final", 0, ""]

    # -- XML-RPC ------------------------------------------------------------------------------------------------
    def xmlrpc(self, req: Request) -> Response:
        try:
            params, method = wire.loads(req.raw)
        except Exception:  # not XML-RPC at all: what Odoo's werkzeug layer answers
            return 400, [("Content-Type", "text/html")], b"<html><body>400: Bad Request</body></html>"
        try:
            if req.path.endswith("/common"):
                result = self.common(method or "", list(params))
            else:
                result = self.execute_kw(method or "", list(params))
            body = wire.dumps((wire.plain(result),), methodresponse=True)
        except orm.OdooException as exc:
            body = wire.fault(XMLRPC_CODES.get(exc.name, 1), exc.message)
        except Exception as exc:  # an application error: Odoo sends the traceback text
            text = "".join(traceback.format_exception_only(type(exc), exc))
            body = wire.fault(1, f"Traceback (most recent call last):\n{text}")
        return 200, [("Content-Type", XML)], body

    def common(self, method: str, params: list) -> Any:
        if method == "version":
            return {"server_version": self.version, "server_version_info": self.version_info(),
                    "server_serie": self.version, "protocol_version": 1}
        if method in ("authenticate", "login"):
            self.logins += 1
            db, login, password = params[:3]
            return UID if (db, login, password) == (DATABASE, LOGIN, API_KEY) else False
        raise NameError(f"Method not available {method}")

    def execute_kw(self, method: str, params: list) -> Any:
        if method not in ("execute_kw", "execute"):
            raise NameError(f"Method not available {method}")
        db, uid, password, model, name = params[:5]
        args = params[5] if len(params) > 5 else []
        kwargs = dict(params[6]) if len(params) > 6 and params[6] else {}
        if db != DATABASE:
            raise RuntimeError(f'database "{db}" does not exist')
        if uid != UID or password != API_KEY:
            raise orm.OdooException("AccessDenied", "Access Denied")
        ids = None
        if name in RECORD_METHODS:
            ids, args = (args[0] if args else kwargs.pop("ids", [])), args[1:]
        positional = RECORD_METHODS.get(name) or MODEL_METHODS.get(name) or ()
        if len(args) > len(positional):
            raise TypeError(f"{model}.{name}() takes {len(positional)} positional arguments")
        kwargs.update(zip(positional, args, strict=False))  # fewer arguments than names: the rest are defaults
        return self.call(model, name, ids, kwargs)

    # -- JSON-2 -------------------------------------------------------------------------------------------------
    def json2(self, req: Request) -> Response:
        model, method = (req.path.strip("/").split("/")[2:] + ["", ""])[:2]
        try:
            if req.header("Authorization").partition(" ")[2] != API_KEY or \
                    req.header("Authorization").partition(" ")[0].lower() != "bearer":
                raise PlatformError(401, self.json2_error("werkzeug.exceptions.Unauthorized", "Invalid apikey"))
            if req.header("X-Odoo-Database", DATABASE) != DATABASE:
                raise PlatformError(404, self.json2_error("werkzeug.exceptions.NotFound", "database not found"))
            try:
                body = req.json()
            except ValueError:
                raise PlatformError(400, self.json2_error("werkzeug.exceptions.BadRequest", "invalid JSON")) from None
            if not isinstance(body, dict):
                raise PlatformError(400, self.json2_error("werkzeug.exceptions.BadRequest", "expected an object"))
            ids = body.pop("ids", None)
            if method == "context_get":
                self.logins += 1  # the connector's key check (JSON-2 has no login)
            result = self.call(model, method, ids, body)
        except PlatformError as error:
            return error.response()
        except orm.OdooException as exc:
            status = JSON2_STATUS.get(exc.name, 500)
            return json_response(status, self.json2_error(f"odoo.exceptions.{exc.name}", exc.message))
        except (ValueError, TypeError, KeyError, NameError) as exc:
            return json_response(422, self.json2_error(f"builtins.{type(exc).__name__}", str(exc)))
        return json_response(200, result)

    @staticmethod
    def json2_error(name: str, message: str) -> dict:
        return {"name": name, "message": message, "arguments": [message], "context": {}, "debug": ""}

    # -- one method call, whatever the protocol -------------------------------------------------------------
    def call(self, model: str, method: str, ids: list | None, kw: dict) -> Any:
        db = self.db
        context = kw.pop("context", None) or {}
        if model == "res.users" and method == "context_get":
            return {"lang": "en_US", "tz": "UTC", "uid": UID}
        if model not in orm.FIELDS:
            raise KeyError(f"Object {model} doesn't exist")
        if method in RECORD_METHODS and not isinstance(ids, list):
            raise TypeError(f"{model}.{method}() needs the ids of the records")
        with self.store.lock:
            return self._call(db, model, method, ids, kw, context)

    def _call(self, db: orm.Database, model: str, method: str, ids, kw: dict, context: dict) -> Any:
        if method == "search_read":
            rows = db.search(model, kw.get("domain") or [], kw.get("offset") or 0, kw.get("limit") or None,
                             kw.get("order"))
            return db.read(model, rows, kw.get("fields"))
        if method == "search":
            return [int(r.id) for r in db.search(model, kw.get("domain") or [], kw.get("offset") or 0,
                                                 kw.get("limit") or None, kw.get("order"))]
        if method == "search_count":
            return len(db.search(model, kw.get("domain") or []))
        if method == "read":
            return db.read(model, [db.row(model, i) for i in ids], kw.get("fields"))
        if method == "create":
            vals = kw.get("vals_list")
            many = isinstance(vals, list)
            created = [self._create(db, model, v, context) for v in (vals if many else [vals])]
            return created if many or self.major >= 19 else created[0]
        if method == "write":
            return db.write(model, ids, kw.get("vals") or {})
        if method == "unlink":
            return db.unlink(model, ids)
        if method in ("action_archive", "action_unarchive") and "active" in orm.FIELDS[model]:
            return db.write(model, ids, {"active": method == "action_unarchive"})
        if model in ("account.move", "account.payment"):
            steps = {"action_post": db.action_post, "button_draft": db.button_draft, "action_draft": db.button_draft,
                     "button_cancel": db.button_cancel, "action_cancel": db.button_cancel}
            if method in steps:
                return steps[method](model, ids)
        if model == "account.move" and method == "js_assign_outstanding_line":
            return db.js_assign_outstanding_line(ids, kw.get("line_id"))
        if model == "account.payment.register" and method == "action_create_payments":
            return db.register_payments(db.row(model, ids[0]), context)
        raise AttributeError(f"The method '{method}' does not exist on the model '{model}'")

    def _create(self, db: orm.Database, model: str, vals: Any, context: dict) -> int:
        if not isinstance(vals, dict):
            raise TypeError(f"{model}.create() takes a dict of values or a list of them")
        if model == "account.payment.register":
            if context.get("active_model") != "account.move" or not context.get("active_ids"):
                raise orm.user_error("The register payment wizard should only be called on account.move records.")
            vals = {**vals, "line_ids": [int(i) for i in context["active_ids"]]}
            return int(self.store.create(model, db.clean(model, vals, False)).id)
        return db.create(model, vals)

    # -- what a bookkeeper does in Odoo ---------------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: str, reference: str = "", date: str = "") -> dict:
        with self.store.lock:
            wizard = self._create(self.db, "account.payment.register",
                                  {"amount": orm.decimal_value(amount), "communication": reference or False,
                                   **({"payment_date": date} if date else {})},
                                  {"active_model": "account.move", "active_ids": [int(invoice_id)]})
            action = self.db.register_payments(self.db.row("account.payment.register", wizard), {})
        return {"id": str(action["res_id"])}

    def edit_invoice_line_as_user(self, invoice_id: str, line: int, amount: Any = None, quantity: Any = None) -> dict:
        """Reset to draft, change the line, confirm again: ``amount`` sets the line's amount (its quantity stays,
        the unit price changes), ``quantity`` a new quantity at the same unit price."""
        with self.store.lock:
            move = self.db.row("account.move", invoice_id)
            posted = move.data["state"] == "posted"
            if posted:
                self.db.button_draft("account.move", [int(invoice_id)])
            target = self.db.view("account.move", move)["invoice_line_ids"][int(line)]
            current = self.db.row("account.move.line", target).data["quantity"]
            changes: dict = {}
            if quantity is not None:
                changes["quantity"] = orm.decimal_value(quantity)
            if amount is not None:
                changes["price_unit"] = orm.decimal_value(amount) / changes.get("quantity", current)
            self.db.write("account.move", [int(invoice_id)], {"invoice_line_ids": [(1, target, changes)]})
            if posted:
                self.db.action_post("account.move", [int(invoice_id)])
        return {"id": str(invoice_id)}

    def void_invoice_as_user(self, invoice_id: str) -> dict:
        with self.store.lock:
            if self.db.row("account.move", invoice_id).data["state"] == "posted":
                self.db.button_draft("account.move", [int(invoice_id)])
            self.db.button_cancel("account.move", [int(invoice_id)])
        return {"id": str(invoice_id)}

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        with self.store.lock:
            if self.db.row("account.move", invoice_id).data["state"] != "draft":
                self.db.button_draft("account.move", [int(invoice_id)])
            self.db.unlink("account.move", [int(invoice_id)])
        return {"id": str(invoice_id)}

    def delete_payment_as_user(self, payment_id: str) -> dict:
        with self.store.lock:
            if self.db.row("account.payment", payment_id).data["state"] != "draft":
                self.db.button_draft("account.payment", [int(payment_id)])
            self.db.unlink("account.payment", [int(payment_id)])
        return {"id": str(payment_id)}

    def cancel_payment_as_user(self, payment_id: str) -> dict:
        """A payment (a refund too) reset to draft (its matches undone) and cancelled, as the payment's form does."""
        with self.store.lock:
            if self.db.row("account.payment", payment_id).data["state"] != "draft":
                self.db.button_draft("account.payment", [int(payment_id)])
            self.db.button_cancel("account.payment", [int(payment_id)])
        return {"id": str(payment_id)}

    def cancel_entry_as_user(self, move_id: str) -> dict:
        """A journal entry (an expense, a journal) reset to draft and cancelled: "Reset to Draft", "Cancel Entry"."""
        with self.store.lock:
            if self.db.row("account.move", move_id).data["state"] != "draft":
                self.db.button_draft("account.move", [int(move_id)])
            self.db.button_cancel("account.move", [int(move_id)])
        return {"id": str(move_id)}

    def reverse_entry_as_user(self, move_id: str, date: str = "") -> dict:
        """"Reverse Entry" on a posted journal entry: a new entry with every item's debit and credit swapped (Odoo
        recomputes its tax lines), ``reversed_entry_id`` naming the original, ``ref`` "Reversal of: <name>",
        posted. The original stays posted, untouched."""
        with self.store.lock:
            move = self.db.row("account.move", move_id)
            if move.data["state"] != "posted" or move.data["move_type"] != "entry":
                raise orm.user_error("You can only reverse posted journal entries.")
            commands = [(0, 0, {"name": item.data["name"], "account_id": item.data["account_id"],
                                "debit": item.data["credit"], "credit": item.data["debit"],
                                "amount_currency": -item.data["amount_currency"],
                                "currency_id": item.data["currency_id"],
                                "tax_ids": [(6, 0, list(item.data["tax_ids"]))]})
                        for item in self.db._lines(move.id, "product")]
            reversal = self.db.create("account.move", {
                "move_type": "entry", "ref": f"Reversal of: {move.data['name']}", "reversed_entry_id": int(move.id),
                "currency_id": move.data["currency_id"], "line_ids": commands, **({"date": date} if date else {})})
            self.db.action_post("account.move", [reversal])
        return {"id": str(reversal)}

    def edit_entry_line_as_user(self, move_id: str, line: int = 0, amount: Any = None) -> dict:
        """Reset an entry to draft, type a new amount over one of its debit items (the first credit item, the
        balancing one, follows by the difference; Odoo recomputes the tax lines), post it again."""
        with self.store.lock:
            move = self.db.row("account.move", move_id)
            posted = move.data["state"] == "posted"
            if posted:
                self.db.button_draft("account.move", [int(move_id)])
            items = self.db._lines(move.id, "product")
            debits = [r for r in items if r.data["debit"] > 0]
            credit = next(r for r in items if r.data["credit"] > 0)
            target = debits[int(line)]
            new = orm.money(orm.decimal_value(amount))
            rate = (target.data["debit"] / target.data["amount_currency"]) if target.data["amount_currency"] else 1
            commands: list = [(5,)]
            for item in items:
                vals = {k: item.data[k] for k in ("name", "account_id", "debit", "credit", "amount_currency",
                                                  "currency_id")}
                vals["tax_ids"] = [(6, 0, list(item.data["tax_ids"]))]
                commands.append((0, 0, vals))
            index = {item.id: i + 1 for i, item in enumerate(items)}
            before = target.data["debit"]
            after = orm.money(new * rate)
            rates = [orm.decimal_value(self.db.row("account.tax", t).data["amount"]) / 100
                     for t in target.data["tax_ids"]]
            commands[index[target.id]][2].update(debit=after, amount_currency=new)
            delta = after - before + sum((orm.money(after * r) - orm.money(before * r) for r in rates), orm.ZERO)
            credit_vals = commands[index[credit.id]][2]
            credit_vals.update(credit=credit_vals["credit"] + delta,
                               amount_currency=credit_vals["amount_currency"] - orm.money(delta / rate))
            self.db.write("account.move", [int(move_id)], {"line_ids": commands})
            if posted:
                self.db.action_post("account.move", [int(move_id)])
        return {"id": str(move_id)}

    def archive_account_as_user(self, account_id: str) -> dict:
        self.db.write("account.account", [int(account_id)], {"deprecated": True})
        return {"id": str(account_id)}


def xmlrpc_proxy(sandbox: OdooSandbox, endpoint: str) -> xmlrpc.client.ServerProxy:
    """The standard library's own client on one endpoint (``common`` or ``object``), as Odoo's documentation uses."""
    return xmlrpc.client.ServerProxy(f"{sandbox.base_url}/xmlrpc/2/{endpoint}", allow_none=True)

"""The ``where`` and ``order`` query parameters of Xero's GET endpoints (a subset of its .NET LINQ syntax).

Supported, as in Xero's documented examples::

    Status=="DRAFT"                        Type=="ACCREC" AND Status=="AUTHORISED"
    Contact.ContactID==guid("6a0f...")     Name="ABC limited"            (a single = also compares)
    Date >= DateTime(2020, 01, 01) && Date < DateTime(2020, 12, 31)
    AmountDue > 0 OR Status != "PAID"      Reference.StartsWith("WEB") and not IsDiscounted
    EmailAddress!=null && EmailAddress.Contains("@example.com")

String comparison ignores case (Xero documents its optimised Contacts filters as case-insensitive). Calling a
method on a missing (null) field fails the request, as it does on Xero; guard with ``Field != null``. A syntax
error is a 400 ``QueryParseException``. Rows are compared in their rendered (wire) form: ``/Date(...)/``
strings compare as dates, numbers numerically.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from .wire import UTC, query_parse_error

_TOKEN = re.compile(r"""\s*(?:
    (?P<str>"(?:\\.|[^"\\])*")
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<op>==|!=|<>|<=|>=|&&|\|\||=|<|>|!)
  | (?P<punct>[(),.])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
)""", re.X)
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_METHODS = {"contains", "startswith", "endswith", "tolower", "toupper", "equals"}


def _lex(text: str) -> list[tuple[str, Any]]:
    tokens, pos = [], 0
    while pos < len(text) and text[pos:].strip():
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise query_parse_error(f"Syntax error at position {pos}: unexpected '{text[pos:].strip()[:1]}'")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
        pos = match.end()
    return tokens


class _Parser:
    """Recursive descent into nested tuples; evaluation is a separate walk."""

    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.pos = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str, *values: str) -> str | None:
        tok = self.peek()
        if tok and tok[0] == kind and (not values or str(tok[1]).lower() in values):
            self.pos += 1
            return tok[1]
        return None

    def expect(self, kind: str, value: str) -> None:
        if self.take(kind, value) is None:
            found = self.peek()
            raise query_parse_error(f"'{value}' expected, found '{found[1] if found else 'end of expression'}'")

    def parse(self) -> tuple:
        if not self.tokens:
            raise query_parse_error("Expression expected")
        node = self.or_expr()
        if self.peek() is not None:
            raise query_parse_error(f"Syntax error '{self.peek()[1]}'")
        return node

    def or_expr(self) -> tuple:
        node = self.and_expr()
        while self.take("op", "||") or self.take("word", "or"):
            node = ("or", node, self.and_expr())
        return node

    def and_expr(self) -> tuple:
        node = self.not_expr()
        while self.take("op", "&&") or self.take("word", "and"):
            node = ("and", node, self.not_expr())
        return node

    def not_expr(self) -> tuple:
        if self.take("op", "!") or self.take("word", "not"):
            return ("not", self.not_expr())
        return self.comparison()

    def comparison(self) -> tuple:
        left = self.operand()
        op = self.take("op", "==", "=", "!=", "<>", "<", ">", "<=", ">=")
        if op is None:
            return ("truthy", left)
        return ("cmp", {"=": "==", "<>": "!="}.get(op, op), left, self.operand())

    def operand(self) -> tuple:
        if self.take("punct", "("):
            node = self.or_expr()
            self.expect("punct", ")")
            return node
        tok = self.peek()
        if tok is None:
            raise query_parse_error("Expression expected")
        kind, value = tok
        self.pos += 1
        if kind == "str":
            return ("lit", value)
        if kind == "num":
            return ("lit", Decimal(value))
        if kind != "word":
            raise query_parse_error(f"Expression expected, found '{value}'")
        low = value.lower()
        if low in ("true", "false"):
            return ("lit", low == "true")
        if low == "null":
            return ("lit", None)
        if low == "guid" and self.take("punct", "("):
            text = self.take("str")
            self.expect("punct", ")")
            if text is None:
                raise query_parse_error("guid(...) needs a quoted value")
            return ("lit", text.lower())
        if low == "datetime" and self.take("punct", "("):
            parts = [self.integer()]
            while self.take("punct", ","):
                parts.append(self.integer())
            self.expect("punct", ")")
            try:
                return ("lit", dt.datetime(*parts, tzinfo=UTC))
            except (TypeError, ValueError) as exc:
                raise query_parse_error(f"Invalid DateTime: {exc}") from None
        path, calls = [value], []
        while self.take("punct", "."):
            name = self.take("word")
            if name is None:
                raise query_parse_error("Identifier expected after '.'")
            if self.take("punct", "("):
                args = []
                if not self.take("punct", ")"):
                    args.append(self.operand())
                    while self.take("punct", ","):
                        args.append(self.operand())
                    self.expect("punct", ")")
                if name.lower() not in _METHODS:
                    raise query_parse_error(f"No applicable method '{name}' exists")
                calls.append((name.lower(), args))
            elif calls:
                raise query_parse_error(f"Member access after a method call is not supported ('{name}')")
            else:
                path.append(name)
        return ("member", path, calls)

    def integer(self) -> int:
        value = self.take("num")
        if value is None or "." in value:
            raise query_parse_error("Integer expected in DateTime(...)")
        return int(value)


def compile_where(text: str) -> Callable[[dict], bool]:
    """Parse once; the returned predicate takes a rendered row."""
    tree = _Parser(text).parse()
    return lambda row: bool(_eval(tree, row))


def _lookup(row: dict, path: list[str]) -> Any:
    current: Any = row
    for part in path:
        if not isinstance(current, dict):
            return None
        key = next((k for k in current if k.lower() == part.lower()), None)
        current = current.get(key) if key is not None else None
    return current


def _eval(node: tuple, row: dict) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "and":
        return _eval(node[1], row) and _eval(node[2], row)
    if kind == "or":
        return _eval(node[1], row) or _eval(node[2], row)
    if kind == "not":
        return not _eval(node[1], row)
    if kind == "truthy":
        return bool(_eval(node[1], row))
    if kind == "member":
        value = _lookup(row, node[1])
        for name, args in node[2]:
            if value is None:
                raise query_parse_error(f"Object reference not set to an instance of an object "
                                        f"('{'.'.join(node[1])}' is null)")
            value = _call(name, value, str(_eval(args[0], row)).lower() if args else "")
        return value
    _, op, left, right = node
    return _compare(op, _eval(left, row), _eval(right, row))


def _call(name: str, value: Any, arg: str) -> Any:
    """The string methods Xero's filters allow; comparisons ignore case like the rest of the filter."""
    text = str(value).lower()
    if name == "contains":
        return arg in text
    if name == "startswith":
        return text.startswith(arg)
    if name == "endswith":
        return text.endswith(arg)
    if name == "equals":
        return text == arg
    return str(value).lower() if name == "tolower" else str(value).upper()


def _coerce(value: Any) -> tuple[int, Any]:
    """A comparable (rank, value): dates, numbers, booleans, text (case-folded)."""
    if isinstance(value, bool):
        return 2, value
    if isinstance(value, dt.datetime):
        return 0, value
    if isinstance(value, (int, Decimal)):
        return 1, Decimal(value)
    text = str(value)
    match = _MS_DATE.match(text)
    if match:
        return 0, dt.datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return 3, text.casefold()
    return (1, number) if number.is_finite() else (3, text.casefold())


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        equal = left is None and right is None
        return equal if op == "==" else (not equal if op == "!=" else False)
    (lrank, lval), (rrank, rval) = _coerce(left), _coerce(right)
    if lrank != rrank:
        lval, rval = str(left).casefold(), str(right).casefold()
    if op == "==":
        return lval == rval
    if op == "!=":
        return lval != rval
    try:
        return {"<": lval < rval, ">": lval > rval, "<=": lval <= rval, ">=": lval >= rval}[op]
    except TypeError:
        raise query_parse_error(f"Operator '{op}' incompatible with operand types") from None


def sort_rows(rows: list[dict], order: str | None, default: list[tuple[str, bool]]) -> list[dict]:
    """``order=Name ASC`` / ``Date DESC, InvoiceNumber``; unknown fields sort as missing values."""
    spec = default
    if order and order.strip():
        spec = []
        for part in order.split(","):
            words = part.split()
            if not words:
                continue
            if len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
                raise query_parse_error(f"Invalid order clause '{part.strip()}'")
            spec.append((words[0], len(words) == 2 and words[1].upper() == "DESC"))
    for field, desc in reversed(spec):
        present = [r for r in rows if _lookup(r, field.split(".")) is not None]
        missing = [r for r in rows if _lookup(r, field.split(".")) is None]
        present.sort(key=lambda r: _coerce(_lookup(r, field.split("."))), reverse=desc)
        rows = present + missing if not desc else missing + present
    return rows

"""QBO's query language: ``select ... from Entity where ... orderby ... startposition ... maxresults``."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .schema import COMPANY_TZ
from .wire import QBOFault, query_error


# ---------------------------------------------------------------------------
# Query language


class ParsedQuery:
    def __init__(self) -> None:
        self.count = False
        self.entity = ""
        self.conditions: list[tuple[str, str, Any]] = []
        self.order: list[tuple[str, bool]] = []
        self.start = 1
        self.max_results = 100


_TOKEN_RE = re.compile(r"""\s*(?:
    (?P<str>'(?:\\.|[^'\\])*')
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|=|<|>)
  | (?P<punct>[(),*])
  | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
)""", re.X)


def _lex(text: str) -> list[tuple[str, Any, int]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            column = len(text) - len(text[pos:].lstrip()) + 1
            bad = text[column - 1] if column - 1 < len(text) else "<EOF>"
            raise query_error(f'Invalid content. Lexical error at line 1, column {column}.  '
                              f'Encountered: "{bad}"')
        kind = match.lastgroup
        value = match.group(kind)
        column = match.start(kind) + 1
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value, column))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.pos = 0

    def peek(self) -> tuple[str, Any, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def fail(self, expected: str) -> QBOFault:
        tok = self.peek()
        if tok is None:
            return query_error(f'Encountered "<EOF>" at line 1. Was expecting: {expected}')
        label = {"str": "<STRING>", "num": "<INTEGER>", "word": "<IDENTIFIER>"}.get(tok[0], tok[1])
        return query_error(f'Encountered " {label} "{tok[1]} "" at line 1, column {tok[2]}.\n'
                           f"Was expecting: {expected}")

    def punct(self, char: str) -> bool:
        """Consume punctuation ``char`` if it is next (string literals never count)."""
        tok = self.peek()
        if tok and tok[0] == "punct" and tok[1] == char:
            self.pos += 1
            return True
        return False

    def keyword(self, *words: str) -> str | None:
        tok = self.peek()
        if tok and tok[0] == "word" and tok[1].lower() in words:
            self.pos += 1
            return tok[1].lower()
        return None

    def expect(self, kind: str, value: str | None = None) -> Any:
        tok = self.peek()
        if tok is None or tok[0] != kind or (value is not None and str(tok[1]).lower() != value):
            raise self.fail(value or kind)
        self.pos += 1
        return tok[1]

    def literal(self) -> Any:
        tok = self.peek()
        if tok and (tok[0] in ("str", "num") or (tok[0] == "word" and tok[1].lower() in ("true", "false"))):
            self.pos += 1
            return tok[1].lower() if tok[0] == "word" else tok[1]
        raise self.fail("<STRING> ...")

    def integer(self) -> int:
        value = self.expect("num")
        if "." in value or value.startswith("-"):
            raise query_error(f"Invalid number {value}")
        return int(value)


def parse_query(text: str) -> ParsedQuery:
    """Parse the QBO query subset; errors are 4000 faults like the real parser."""
    if not text or not text.strip():
        raise query_error("The query provided was empty")
    p, q = _Parser(text), ParsedQuery()
    if not p.keyword("select"):
        raise p.fail('"select" ...')
    if p.keyword("count"):
        p.expect("punct", "(")
        p.expect("punct", "*")
        p.expect("punct", ")")
        q.count = True
    elif not p.punct("*"):  # projections: accepted, full rows returned
        p.expect("word")
        while p.punct(","):
            p.expect("word")
    if not p.keyword("from"):
        raise p.fail('"from" ...')
    q.entity = p.expect("word")
    if p.keyword("where"):
        while True:
            field = p.expect("word")
            if p.keyword("in"):
                p.expect("punct", "(")
                values = [p.literal()]
                while p.punct(","):
                    values.append(p.literal())
                p.expect("punct", ")")
                q.conditions.append((field, "in", values))
            elif p.keyword("like"):
                q.conditions.append((field, "like", p.literal()))
            else:
                tok = p.peek()
                if not tok or tok[0] != "op" or tok[1] == "!=":
                    raise p.fail('"=" ... "<" ... ">" ... "<=" ... ">=" ... "in" ... "like" ...')
                p.pos += 1
                q.conditions.append((field, tok[1], p.literal()))
            if not p.keyword("and"):
                break
    if p.keyword("orderby") or (p.keyword("order") and p.expect("word", "by")):
        while True:
            field = p.expect("word")
            direction = p.keyword("asc", "desc")
            q.order.append((field, direction == "desc"))
            if not p.punct(","):
                break
    seen = set()
    while (word := p.keyword("startposition", "maxresults")) is not None:
        if word in seen:
            raise p.fail("<EOF>")
        seen.add(word)
        if word == "startposition":
            q.start = p.integer()
        else:
            q.max_results = p.integer()
    if p.peek() is not None:
        raise p.fail('<EOF> ... "and" ... "orderby" ... "startposition" ... "maxresults" ...')
    return q


def field_value(row: dict, path: str) -> Any:
    """Case-insensitive dotted lookup; references compare by their ``value``."""
    current: Any = row
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        key = next((k for k in current if k.lower() == part.lower()), None)
        if key is None:
            return None
        current = current[key]
    if isinstance(current, dict):
        current = current.get("value")
    return None if isinstance(current, (dict, list)) else current


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _typed(value: Any) -> tuple:
    """Comparable form: numbers numerically, dates chronologically, else text."""
    if isinstance(value, bool):
        return (3, str(value).lower())
    if isinstance(value, (int, Decimal)):
        return (1, Decimal(value))
    text = str(value)
    if _DATE_RE.match(text):
        try:
            stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=COMPANY_TZ)
            return (2, stamp)
        except ValueError:
            pass
    try:
        number = Decimal(text)
    except InvalidOperation:
        return (3, text)
    return (1, number) if number.is_finite() else (3, text)


def _compare(actual: Any, wanted: Any) -> int | None:
    a, b = _typed(actual), _typed(wanted)
    if a[0] != b[0]:
        a, b = (3, str(actual).lower() if isinstance(actual, bool) else str(actual)), (3, str(wanted))
    return (a[1] > b[1]) - (a[1] < b[1])


def in_texts(condition: tuple[str, str, Any]) -> frozenset:
    """The string literals of an ``IN (...)`` condition as a set, for ``matches``: worked out once per query, so
    a query for 1,000 ids matches each row with one lookup instead of comparing it with every literal."""
    field, op, wanted = condition
    return frozenset(w for w in wanted if isinstance(w, str)) if op == "in" else frozenset()


def matches(row: dict, condition: tuple[str, str, Any], texts: frozenset = frozenset()) -> bool:
    """Whether ``row`` meets ``condition``; ``texts``: ``in_texts(condition)``, when the caller has it."""
    field, op, wanted = condition
    actual = field_value(row, field)
    if actual is None:
        return False
    if op == "in":
        if isinstance(actual, str) and actual in texts:  # the same text compares equal, whatever type
            return True
        return any(_compare(actual, w) == 0 for w in wanted)
    if op == "like":
        pattern = "^" + ".*".join(re.escape(part) for part in str(wanted).split("%")) + "$"
        return re.match(pattern, str(actual), re.IGNORECASE | re.DOTALL) is not None
    result = _compare(actual, wanted)
    return {"=": result == 0, "<": result < 0, ">": result > 0, "<=": result <= 0, ">=": result >= 0}[op]


def sort_key(value: Any) -> tuple:
    if value is None:
        return (0, 0, "")
    kind, typed = _typed(value)
    if kind == 2:
        return (kind, typed.timestamp(), "")
    if kind == 1:
        return (kind, typed, "")
    return (kind, 0, typed.lower())

"""The OData `$filter` language of the sandbox Acumatica: tokenizer, parser and evaluator of
comparisons (eq ne gt ge lt le) joined by and / or / not, with string, number, boolean, null and
datetime literals. It knows no state: the caller names the fields a filter may use and supplies
the server's wall-clock conversion and each row's values."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection
from decimal import Decimal
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<dt>(?:datetimeoffset|datetime)'[^']*')|(?P<str>'(?:[^']|'')*')"
    r"|(?P<num>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][\w/.]*))"
)
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}
_DATE_LITERAL = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]\d{2}:\d{2})?")


class FilterSyntaxError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise FilterSyntaxError(f"syntax error at position {pos} in '{text}'")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class FilterParser:
    """expr := and ('or' and)* ; and := unary ('and' unary)* ; unary := 'not' unary | '(' expr ')' | cmp"""

    def __init__(self, text: str, fields: Collection[str], wall: Callable[[dt.datetime], dt.datetime]):
        """`fields`: the names a filter may compare (another raises KeyError, as the server fails on
        it); `wall`: an aware datetime as the server's naive wall-clock time."""
        self.tokens = _tokens(text)
        self.pos = 0
        self.fields = fields
        self.wall = wall

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterSyntaxError("the filter ends too early")
        self.pos += 1
        return token

    def parse(self):
        node = self.expr()
        if self.peek() is not None:
            raise FilterSyntaxError(f"unexpected {self.peek()[1]!r}")
        return node

    def expr(self):
        nodes = [self.conj()]
        while self.peek() == ("word", "or"):
            self.take()
            nodes.append(self.conj())
        return ("or", nodes) if len(nodes) > 1 else nodes[0]

    def conj(self):
        nodes = [self.unary()]
        while self.peek() == ("word", "and"):
            self.take()
            nodes.append(self.unary())
        return ("and", nodes) if len(nodes) > 1 else nodes[0]

    def unary(self):
        token = self.peek()
        if token == ("word", "not"):
            self.take()
            return ("not", self.unary())
        if token and token[0] == "lp":
            self.take()
            node = self.expr()
            if self.take()[0] != "rp":
                raise FilterSyntaxError("a ')' is missing")
            return node
        kind, field = self.take()
        if kind != "word":
            raise FilterSyntaxError(f"a field name was expected, got {field!r}")
        if field not in self.fields:
            raise KeyError(field)
        kind, op = self.take()
        if kind != "word" or op not in _OPS:
            raise FilterSyntaxError(f"an operator was expected after {field}, got {op!r}")
        return ("cmp", field, op, self.literal())

    def literal(self):
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return Decimal(text)
        if kind == "dt":
            body = text[text.index("'") + 1:-1]
            match = _DATE_LITERAL.fullmatch(body)
            if not match:
                raise FilterSyntaxError(f"bad date literal {text}")
            moment = dt.datetime.fromisoformat(match.group(1) + "T" + (match.group(2) or "00:00"))
            if match.group(3):  # an explicit offset: convert to this server's wall time
                offset = dt.datetime.fromisoformat("2000-01-01T00:00" + match.group(3).replace("Z", "+00:00"))
                moment = self.wall(moment.replace(tzinfo=offset.tzinfo))
            return moment
        if kind == "word" and text in ("true", "false"):
            return text == "true"
        if kind == "word" and text == "null":
            return None
        raise FilterSyntaxError(f"a value was expected, got {text!r}")


def evaluate(node, value_of: Callable[[str], Any]) -> bool:
    """Whether the row whose field values `value_of(name)` gives matches the parsed filter `node`."""
    kind = node[0]
    if kind == "or":
        return any(evaluate(n, value_of) for n in node[1])
    if kind == "and":
        return all(evaluate(n, value_of) for n in node[1])
    if kind == "not":
        return not evaluate(node[1], value_of)
    _, field, op, literal = node
    value = value_of(field)
    if isinstance(value, int | float) and not isinstance(value, bool) and isinstance(literal, Decimal):
        value = Decimal(str(value))
    if op == "eq":
        return value == literal
    if op == "ne":
        return value != literal
    if value is None or literal is None:
        return False
    try:
        return {"gt": value > literal, "ge": value >= literal, "lt": value < literal, "le": value <= literal}[op]
    except TypeError:
        raise FilterSyntaxError(f"{field} cannot be compared with {literal!r}") from None

"""The safe condition language of a playbook item's `when`: parsing and evaluating.

This module holds `Condition` (parsed once, evaluated against a `ConditionContext`: the
incident's severity and status and the configured integrations), its hand-written
tokenizer and recursive-descent parser, `ConditionError` for text that does not parse,
and `KNOWN_INTEGRATIONS`, the bare names a condition may use. Conditions are never
evaluated by Python's `eval`; the whole language is::

    severity == critical        severity != minor       severity >= major
    severity in [major, critical]                       severity not in [minor]
    status == resolved          status in [reported, fixing]
    statuspage                  (a bare name: that integration is configured)
    not X      A and B      A or B      ( ... )

Precedence is ``not`` > ``and`` > ``or``. Severities rank minor < major < critical.
While the severity is unset, every severity comparison is false (so ``severity !=
minor`` is false too, and ``not severity == critical`` is true).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from cockpit.domain.incident import Severity, Status

__all__ = [
    "KNOWN_INTEGRATIONS",
    "Condition",
    "ConditionContext",
    "ConditionError",
    "parse_condition",
]

# The bare names a condition may use: "that integration is configured".
KNOWN_INTEGRATIONS: frozenset[str] = frozenset({"slack", "jira", "statuspage"})


class ConditionError(ValueError):
    """A condition's text cannot be parsed; the message says where and why."""


class ConditionContext(msgspec.Struct, frozen=True):
    """What a condition is evaluated against: the incident and the configured systems."""

    severity: Severity | None
    status: Status
    configured: frozenset[str] = frozenset()

    def while_open(self) -> tuple[ConditionContext, ...]:
        """This context with each open status in turn (what the incident went through,
        or could have, before it ended)."""
        return tuple(
            ConditionContext(self.severity, s, self.configured) for s in Status if s.is_open
        )


# The parsed form of a condition. Plain classes with slots, not dataclasses: they are
# internal, never compared or printed, and a dataclass costs about a millisecond of
# start-up each.
class _Node:
    __slots__ = ()

    def evaluate(self, ctx: ConditionContext) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


class _Configured(_Node):
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def evaluate(self, ctx: ConditionContext) -> bool:
        return self.name in ctx.configured


class _SeverityTest(_Node):
    __slots__ = ("op", "values")

    def __init__(self, op: str, values: tuple[Severity, ...]) -> None:
        self.op = op  # ==, !=, >=, <=, >, <, in, not in
        self.values = values

    def evaluate(self, ctx: ConditionContext) -> bool:
        sev = ctx.severity
        if sev is None:
            return False  # an unset severity compares false, whatever the operator
        if self.op in ("==", "in"):
            return sev in self.values
        if self.op in ("!=", "not in"):
            return sev not in self.values
        have, want = sev.rank, self.values[0].rank
        if self.op == ">=":
            return have >= want
        if self.op == "<=":
            return have <= want
        if self.op == ">":
            return have > want
        return have < want  # "<"


class _StatusTest(_Node):
    __slots__ = ("op", "values")

    def __init__(self, op: str, values: tuple[Status, ...]) -> None:
        self.op = op  # ==, !=, in, not in
        self.values = values

    def evaluate(self, ctx: ConditionContext) -> bool:
        if self.op in ("==", "in"):
            return ctx.status in self.values
        return ctx.status not in self.values


class _Not(_Node):
    __slots__ = ("operand",)

    def __init__(self, operand: _Node) -> None:
        self.operand = operand

    def evaluate(self, ctx: ConditionContext) -> bool:
        return not self.operand.evaluate(ctx)


class _And(_Node):
    __slots__ = ("operands",)

    def __init__(self, operands: tuple[_Node, ...]) -> None:
        self.operands = operands

    def evaluate(self, ctx: ConditionContext) -> bool:
        return all(o.evaluate(ctx) for o in self.operands)


class _Or(_Node):
    __slots__ = ("operands",)

    def __init__(self, operands: tuple[_Node, ...]) -> None:
        self.operands = operands

    def evaluate(self, ctx: ConditionContext) -> bool:
        return any(o.evaluate(ctx) for o in self.operands)


_TOKEN = re.compile(
    r"(?P<op>==|!=|>=|<=|>|<)|(?P<punct>[()\[\],])|(?P<word>[A-Za-z_][A-Za-z0-9_-]*)"
)
_ORDER_OPS = frozenset({">=", "<=", ">", "<"})
_KEYWORDS = frozenset({"and", "or", "not", "in"})


class _Token:
    __slots__ = ("col", "kind", "text")

    def __init__(self, kind: str, text: str, col: int) -> None:
        self.kind = kind  # "op", "punct", "word"
        self.text = text
        self.col = col  # 1-based


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            hint = " (use == to compare)" if ch == "=" else ""
            raise ConditionError(f"unexpected {ch!r} at column {pos + 1}{hint}")
        kind = m.lastgroup
        assert kind is not None
        word = m.group()
        tokens.append(_Token(kind, word.lower() if kind == "word" else word, pos + 1))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.i = 0

    # -- helpers -----------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> _Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self) -> _Token:
        tok = self.peek()
        if tok is None:
            raise ConditionError("unexpected end of condition")
        self.i += 1
        return tok

    def at_word(self, word: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok is not None and tok.kind == "word" and tok.text == word

    def at_punct(self, text: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "punct" and tok.text == text

    def expect(self, text: str, what: str) -> None:
        tok = self.peek()
        if tok is None:
            raise ConditionError(f"expected {what} at the end of the condition")
        if tok.text != text:
            raise ConditionError(f"expected {what} at column {tok.col}, found {tok.text!r}")
        self.i += 1

    # -- grammar -----------------------------------------------------------------------
    def parse(self) -> _Node:
        if not self.tokens:
            raise ConditionError("the condition is empty")
        node = self.parse_or()
        tok = self.peek()
        if tok is not None:
            raise ConditionError(
                f"unexpected {tok.text!r} at column {tok.col} (join conditions with and / or)"
            )
        return node

    def parse_or(self) -> _Node:
        parts = [self.parse_and()]
        while self.at_word("or"):
            self.i += 1
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else _Or(tuple(parts))

    def parse_and(self) -> _Node:
        parts = [self.parse_not()]
        while self.at_word("and"):
            self.i += 1
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else _And(tuple(parts))

    def parse_not(self) -> _Node:
        if self.at_word("not"):
            self.i += 1
            return _Not(self.parse_not())
        return self.parse_atom()

    def parse_atom(self) -> _Node:
        tok = self.take()
        if tok.text == "(":
            node = self.parse_or()
            self.expect(")", "')'")
            return node
        if tok.kind != "word" or tok.text in _KEYWORDS:
            raise ConditionError(f"unexpected {tok.text!r} at column {tok.col}")
        if tok.text in ("severity", "status"):
            return self.parse_comparison(tok)
        if tok.text not in KNOWN_INTEGRATIONS:
            known = ", ".join(sorted(KNOWN_INTEGRATIONS))
            raise ConditionError(
                f"unknown name {tok.text!r} at column {tok.col}"
                f"{_did_you_mean(tok.text, [*KNOWN_INTEGRATIONS, 'severity', 'status'])} "
                f"(use severity, status, or an integration: {known})"
            )
        return _Configured(tok.text)

    def parse_comparison(self, subject: _Token) -> _Node:
        tok = self.peek()
        example = "severity == critical" if subject.text == "severity" else "status == fixing"
        if tok is None or not (
            tok.kind == "op" or tok.text == "in" or (tok.text == "not" and self.at_word("in", 1))
        ):
            where = f"at column {tok.col}" if tok is not None else "at the end"
            raise ConditionError(
                f"{subject.text!r} needs a comparison {where} (for example {example})"
            )
        if tok.kind == "op":
            self.i += 1
            op = tok.text
            if op in _ORDER_OPS and subject.text == "status":
                raise ConditionError(
                    f"status has no order ({op!r} at column {tok.col}): use ==, != or in"
                )
            values: tuple[str, ...] = (self.value(subject.text),)
        else:
            if tok.text == "not":
                self.i += 2
                op = "not in"
            else:
                self.i += 1
                op = "in"
            values = self.value_list(subject.text)
        if subject.text == "severity":
            return _SeverityTest(op, tuple(Severity(v) for v in values))
        return _StatusTest(op, tuple(Status(v) for v in values))

    def value_list(self, subject: str) -> tuple[str, ...]:
        self.expect("[", "'[' after 'in'")
        if self.at_punct("]"):
            raise ConditionError(f"empty list after 'in' at column {self.take().col}")
        values = [self.value(subject)]
        while self.at_punct(","):
            self.i += 1
            values.append(self.value(subject))
        self.expect("]", "']' or ','")
        return tuple(values)

    def value(self, subject: str) -> str:
        tok = self.peek()
        allowed = [s.value for s in (Severity if subject == "severity" else Status)]
        if tok is None:
            raise ConditionError(f"expected a {subject} at the end (one of {', '.join(allowed)})")
        self.i += 1
        text = "canceled" if (subject == "status" and tok.text == "cancelled") else tok.text
        if tok.kind != "word" or text not in allowed:
            raise ConditionError(
                f"unknown {subject} {tok.text!r} at column {tok.col}"
                f"{_did_you_mean(tok.text, allowed)} (use one of {', '.join(allowed)})"
            )
        return text


def _did_you_mean(word: str, choices: list[str] | frozenset[str]) -> str:
    import difflib  # only when there is a mistake to point out

    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Condition:
    """A parsed `when` condition. `str(condition)` gives its source text back. Two are
    equal when their source texts are (the parsed form follows from it). Immutable; a
    plain class with slots, read at start-up (a dataclass costs about a millisecond)."""

    __slots__ = ("node", "source")
    source: str
    node: _Node

    def __init__(self, source: str, node: _Node) -> None:
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "node", node)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a Condition is immutable (setting {name!r})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and other.source == self.source

    def __hash__(self) -> int:
        return hash(("Condition", self.source))

    def __repr__(self) -> str:
        return f"Condition(source={self.source!r})"

    @classmethod
    def parse(cls, text: str) -> Condition:
        """Parse `text`; raise `ConditionError` saying what is wrong and where."""
        node = _Parser(text).parse()
        return cls(" ".join(text.split()), node)

    def evaluate(self, ctx: ConditionContext) -> bool:
        return self.node.evaluate(ctx)

    def __str__(self) -> str:
        return self.source


def parse_condition(text: str) -> Condition:
    return Condition.parse(text)

"""The playbook as data: steps, items, conditions, and checklist progress.

A playbook is a TOML file (the default one ships in `cockpit/playbooks/default.toml`)::

    name = "Responding to an incident"

    [[steps]]
    id = "assess"
    title = "Assess"
    help = "optional longer text"

    [[steps.items]]
    id = "post-mortem"                 # kebab-case, unique across the playbook
    text = "Post mortem within two days"
    help = "optional longer text"
    action = "post-mortem"             # optional, one of KNOWN_ACTIONS
    when = "severity == critical"      # optional condition, see Condition

Everything is checked at load time; a bad file raises `PlaybookError` with a message of
the form ``"{path}:{line}: {what is wrong}"``.

The condition language is small and never evaluated by Python's `eval`::

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
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

from cockpit.domain.checklist import Tick
from cockpit.domain.errors import NotFound, PlaybookError
from cockpit.domain.incident import Severity, Status
from cockpit.domain.sanitize import sanitize

__all__ = [
    "KNOWN_ACTIONS",
    "KNOWN_INTEGRATIONS",
    "ChecklistView",
    "Condition",
    "ConditionContext",
    "ConditionError",
    "Item",
    "ItemState",
    "ItemView",
    "Playbook",
    "Step",
    "StepProgress",
    "checklist_view",
    "default_playbook",
    "load_playbook",
    "next_open",
    "parse_condition",
    "parse_playbook",
]

# The actions an item may name; the app and the integrations perform them.
KNOWN_ACTIONS: frozenset[str] = frozenset(
    {
        "raise-incident",
        "create-ticket",
        "create-channel",
        "reply-in-thread",
        "post-kickoff",
        "set-severity",
        "assign-roles",
        "mark-fixing",
        "cancel-incident",  # not an incident: kind reply + CANCELED
        "link-bug",
        "escalate",
        "add-note",
        "internal-update",
        "statuspage-create",
        "statuspage-update",
        "mark-monitoring",
        "create-follow-up",
        "final-update",
        "mark-resolved",
        "statuspage-resolve",
        "post-mortem",
        "handoff",
    }
)

# The bare names a condition may use: "that integration is configured".
KNOWN_INTEGRATIONS: frozenset[str] = frozenset({"slack", "jira", "statuspage"})

_KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


# ======================================================================================
# Conditions
# ======================================================================================


class ConditionError(ValueError):
    """A condition's text cannot be parsed; the message says where and why."""


@dataclass(frozen=True)
class ConditionContext:
    """What a condition is evaluated against: the incident and the configured systems."""

    severity: Severity | None
    status: Status
    configured: frozenset[str] = frozenset()


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


@dataclass(frozen=True)
class Condition:
    """A parsed `when` condition. `str(condition)` gives its source text back."""

    source: str
    node: _Node = field(repr=False, compare=False)

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


# ======================================================================================
# The playbook
# ======================================================================================


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    help: str = ""
    action: str | None = None
    when: Condition | None = None
    step_id: str = ""

    def applies(self, ctx: ConditionContext) -> bool:
        """True unless the item has a condition that is false in `ctx`."""
        return self.when is None or self.when.evaluate(ctx)


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    help: str = ""
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Playbook:
    name: str
    steps: tuple[Step, ...]
    source: str = ""  # where it was loaded from (a path)
    _by_id: dict[str, Item] = field(init=False, repr=False, compare=False)
    _step_of: dict[str, Step] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Item] = {}
        step_of: dict[str, Step] = {}
        for step in self.steps:
            for item in step.items:
                if item.id in by_id:
                    raise ValueError(f"duplicate item id {item.id!r} in playbook {self.name!r}")
                by_id[item.id] = item
                step_of[item.id] = step
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_step_of", step_of)

    @property
    def items(self) -> tuple[Item, ...]:
        """Every item, in order."""
        return tuple(self._by_id.values())

    def item(self, item_id: str) -> Item:
        try:
            return self._by_id[item_id]
        except KeyError:
            raise NotFound(f"no item {item_id!r} in the playbook {self.name!r}") from None

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise NotFound(f"no step {step_id!r} in the playbook {self.name!r}")

    def step_of(self, item_id: str) -> Step:
        try:
            return self._step_of[item_id]
        except KeyError:
            raise NotFound(f"no item {item_id!r} in the playbook {self.name!r}") from None

    def items_with_action(self, action: str) -> tuple[Item, ...]:
        return tuple(i for i in self._by_id.values() if i.action == action)


# ======================================================================================
# Loading
# ======================================================================================

_TOP_KEYS = ("name", "steps")
_STEP_KEYS = ("id", "title", "help", "items")
_ITEM_KEYS = ("id", "text", "help", "action", "when")


def load_playbook(path: Path) -> Playbook:
    """Read and check a playbook file; raise `PlaybookError` naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise PlaybookError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise PlaybookError(f"{path}: cannot read the playbook: {e.strerror or e}") from None
    return parse_playbook(text, source=str(path), default_name=path.stem)


@cache
def default_playbook() -> Playbook:
    """The playbook shipped with cockpit (read once)."""
    # beside this package, as installed (importlib.resources would cost a few ms more)
    path = Path(__file__).resolve().parent.parent / "playbooks" / "default.toml"
    return parse_playbook(path.read_text(encoding="utf-8"), source=str(path))


_TOML_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def parse_playbook(text: str, *, source: str = "<playbook>", default_name: str = "") -> Playbook:
    """Parse a playbook from TOML text; `source` names it in error messages."""
    text = text.replace("\r\n", "\n")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        line = 1
        m = _TOML_AT_LINE.search(msg)
        if m:
            line = int(m.group(1))
            msg = f"{msg[: m.start()]} (column {m.group(2)})"
        else:
            m = _TOML_AT_END.search(msg)
            if m:
                line = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
                msg = f"{msg[: m.start()]} (at the end of the file)"
        raise PlaybookError(f"{source}:{line}: TOML syntax error: {msg}") from None
    return _Builder(text, source, default_name or "playbook").build(data)


class _Builder:
    """Checks the parsed TOML and builds the Playbook; locates errors in the text."""

    def __init__(self, text: str, source: str, default_name: str) -> None:
        self.source = source
        self.default_name = default_name
        self.loc = _Locator(text)

    def fail(self, line: int, what: str) -> NoReturn:
        raise PlaybookError(f"{self.source}:{line}: {what}")

    # -- top level ---------------------------------------------------------------------
    def build(self, data: dict[str, Any]) -> Playbook:
        loc = self.loc
        for key in data:
            if key not in _TOP_KEYS:
                self.fail(loc.top_key(key), _unknown_key(key, "at the top level", _TOP_KEYS))
        name = self.default_name
        if "name" in data:
            name = self.string(data, "name", "the playbook", loc.top_key("name"), 1)
        if "steps" not in data:
            self.fail(1, "the playbook has no steps: add [[steps]] tables")
        raw_steps = data["steps"]
        steps_line = loc.top_key("steps")
        if not isinstance(raw_steps, list):
            self.fail(steps_line, "'steps' must be a list of tables, written [[steps]]")
        if not raw_steps:
            self.fail(steps_line, "the step list is empty: add [[steps]] tables")
        step_ids: dict[str, int] = {}
        item_ids: dict[str, int] = {}
        steps = tuple(
            self.build_step(i, raw, step_ids, item_ids) for i, raw in enumerate(raw_steps)
        )
        return Playbook(name=name, steps=steps, source=self.source)

    # -- steps -------------------------------------------------------------------------
    def build_step(
        self, i: int, raw: object, step_ids: dict[str, int], item_ids: dict[str, int]
    ) -> Step:
        loc = self.loc
        header = loc.step(i)
        where = f"step {i + 1}"
        if not isinstance(raw, dict):
            self.fail(header, f"{where} must be a table, written [[steps]]")
        for key in raw:
            if key not in _STEP_KEYS:
                self.fail(loc.step_key(i, key), _unknown_key(key, f"in {where}", _STEP_KEYS))
        sid = self.string(raw, "id", where, loc.step_key(i, "id"), header, required=True)
        if not _KEBAB.match(sid):
            self.fail(loc.step_key(i, "id"), f"{where}: id {sid!r} must be kebab-case")
        where = f"step {sid!r}"
        if sid in step_ids:
            self.fail(
                loc.step_key(i, "id"),
                f"duplicate step id {sid!r} (first used at line {step_ids[sid]})",
            )
        step_ids[sid] = loc.step_key(i, "id")
        title = self.string(raw, "title", where, loc.step_key(i, "title"), header, required=True)
        help_ = self.string(raw, "help", where, loc.step_key(i, "help"), header, single=False)
        raw_items = raw.get("items")
        items_line = loc.step_key(i, "items")
        if raw_items is None:
            self.fail(header, f"{where} has no items: add [[steps.items]] tables after it")
        if not isinstance(raw_items, list):
            self.fail(items_line, f"{where}: 'items' must be a list of tables, [[steps.items]]")
        if not raw_items:
            self.fail(items_line, f"{where} has no items: add [[steps.items]] tables after it")
        items = tuple(
            self.build_item(i, j, sid, raw_item, item_ids) for j, raw_item in enumerate(raw_items)
        )
        return Step(id=sid, title=title, help=help_, items=items)

    # -- items -------------------------------------------------------------------------
    def build_item(
        self, i: int, j: int, step_id: str, raw: object, item_ids: dict[str, int]
    ) -> Item:
        loc = self.loc
        header = loc.item(i, j)
        where = f"item {j + 1} of step {step_id!r}"
        if not isinstance(raw, dict):
            self.fail(header, f"{where} must be a table, written [[steps.items]]")
        if isinstance(raw.get("id"), str) and raw["id"].strip():
            where = f"item {sanitize(raw['id'], single_line=True).strip()!r}"
        for key in raw:
            if key not in _ITEM_KEYS:
                self.fail(loc.item_key(i, j, key), _unknown_key(key, f"in {where}", _ITEM_KEYS))
        id_line = loc.item_key(i, j, "id")
        iid = self.string(raw, "id", where, id_line, header, required=True)
        if not _KEBAB.match(iid):
            self.fail(id_line, f"{where}: id {iid!r} must be kebab-case (like 'create-ticket')")
        if iid in item_ids:
            self.fail(id_line, f"duplicate item id {iid!r} (first used at line {item_ids[iid]})")
        item_ids[iid] = id_line
        where = f"item {iid!r}"
        text = self.string(raw, "text", where, loc.item_key(i, j, "text"), header, required=True)
        help_ = self.string(raw, "help", where, loc.item_key(i, j, "help"), header, single=False)
        action: str | None = None
        if "action" in raw:
            line = loc.item_key(i, j, "action")
            action = self.string(raw, "action", where, line, header, required=True)
            if action not in KNOWN_ACTIONS:
                self.fail(
                    line,
                    f"{where}: unknown action {action!r}{_did_you_mean(action, KNOWN_ACTIONS)}"
                    f" (known actions: {', '.join(sorted(KNOWN_ACTIONS))})",
                )
        when: Condition | None = None
        if "when" in raw:
            line = loc.item_key(i, j, "when")
            source = self.string(raw, "when", where, line, header, required=True)
            try:
                when = Condition.parse(source)
            except ConditionError as e:
                self.fail(line, f"{where}: bad condition {source!r}: {e}")
        return Item(id=iid, text=text, help=help_, action=action, when=when, step_id=step_id)

    # -- values ------------------------------------------------------------------------
    def string(
        self,
        raw: dict[str, Any],
        key: str,
        where: str,
        key_line: int,
        header_line: int,
        *,
        required: bool = False,
        single: bool = True,
    ) -> str:
        if key not in raw:
            if required:
                self.fail(header_line, f"{where}: missing {key!r}")
            return ""
        value = raw[key]
        if not isinstance(value, str):
            self.fail(key_line, f"{where}: {key!r} must be a string, not {_toml_type(value)}")
        value = sanitize(value, single_line=single).strip()
        if required and not value:
            self.fail(key_line, f"{where}: {key!r} is empty")
        return value


def _unknown_key(key: str, where: str, allowed: tuple[str, ...]) -> str:
    return f"unknown key {key!r} {where}{_did_you_mean(key, list(allowed))} (allowed: " + (
        ", ".join(allowed) + ")"
    )


def _toml_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class _Table:
    __slots__ = ("array", "header", "lines", "name")

    def __init__(self, name: str, array: bool, header: int, lines: list[tuple[int, str]]) -> None:
        self.name = name  # "" for the root table, else the header's dotted name
        self.array = array  # [[name]] rather than [name]
        self.header = header  # line of the header (1 for the root)
        self.lines = lines  # the table's logical lines (number, text)


class _Locator:
    """Finds the line of a step, an item or a key in the playbook's source text.

    It reads the text as a list of tables (`[[steps]]`, `[[steps.items]]`, …), skipping
    lines that lie inside multi-line strings. When the file uses a form it does not follow
    (inline tables, for instance), it falls back to the nearest enclosing line it knows.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?")

    def __init__(self, text: str) -> None:
        self.tables: list[_Table] = [_Table("", False, 1, [])]
        for number, line in _logical_lines(text):
            m = self._HEADER.match(line)
            if m:
                name = ".".join(p.strip().strip("\"'") for p in m.group(2).split("."))
                self.tables.append(_Table(name, m.group(1) == "[[", number, []))
            else:
                self.tables[-1].lines.append((number, line))
        self.step_tables = [k for k, t in enumerate(self.tables) if t.array and t.name == "steps"]

    @staticmethod
    def _key_in(table: _Table, key: str) -> int | None:
        k = re.escape(key)
        pattern = re.compile(rf"^\s*(?:{k}|\"{k}\"|'{k}')\s*[=.]")
        for number, line in table.lines:
            if pattern.match(line):
                return number
        return None

    def top_key(self, key: str) -> int:
        found = self._key_in(self.tables[0], key)
        if found is not None:
            return found
        for t in self.tables:  # e.g. [steps] written as a table, or [[steps]]
            if t.name == key or t.name.startswith(key + "."):
                return t.header
        return 1

    def _step_table(self, i: int) -> _Table | None:
        return self.tables[self.step_tables[i]] if i < len(self.step_tables) else None

    def step(self, i: int) -> int:
        t = self._step_table(i)
        return t.header if t is not None else self.top_key("steps")

    def step_key(self, i: int, key: str) -> int:
        t = self._step_table(i)
        if t is None:
            return self.top_key("steps")
        found = self._key_in(t, key)
        if found is not None:
            return found
        for sub in self._children(i):  # [steps.key] written as a sub-table
            if sub.name == f"steps.{key}" or sub.name.startswith(f"steps.{key}."):
                return sub.header
        return t.header

    def _children(self, i: int) -> list[_Table]:
        if i >= len(self.step_tables):
            return []
        start = self.step_tables[i] + 1
        end = self.step_tables[i + 1] if i + 1 < len(self.step_tables) else len(self.tables)
        return self.tables[start:end]

    def _item_table(self, i: int, j: int) -> _Table | None:
        items = [t for t in self._children(i) if t.array and t.name == "steps.items"]
        return items[j] if j < len(items) else None

    def item(self, i: int, j: int) -> int:
        t = self._item_table(i, j)
        return t.header if t is not None else self.step_key(i, "items")

    def item_key(self, i: int, j: int, key: str) -> int:
        t = self._item_table(i, j)
        if t is None:
            return self.step_key(i, "items")
        found = self._key_in(t, key)
        return found if found is not None else t.header


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(1-based number, text) of each line that does not start inside a multi-line string."""
    out: list[tuple[int, str]] = []
    closing: str | None = None  # the delimiter of the multi-line string we are in
    for number, line in enumerate(text.split("\n"), start=1):
        pos = 0
        if closing is not None:
            end = _find_close(line, 0, closing)
            if end < 0:
                continue
            pos = end
            closing = None
        else:
            out.append((number, line))
        while pos < len(line):
            ch = line[pos]
            if ch == "#":
                break
            if line.startswith('"""', pos) or line.startswith("'''", pos):
                delim = line[pos : pos + 3]
                end = _find_close(line, pos + 3, delim)
                if end < 0:
                    closing = delim
                    break
                pos = end
            elif ch in "\"'":
                end = _find_close(line, pos + 1, ch)
                pos = end if end >= 0 else len(line)
            else:
                pos += 1
    return out


def _find_close(line: str, pos: int, delim: str) -> int:
    """The position just after `delim` closes a string in `line` from `pos`, or -1."""
    escapes = delim[0] == '"'
    while pos < len(line):
        if escapes and line[pos] == "\\":
            pos += 2
            continue
        if line.startswith(delim, pos):
            end = pos + len(delim)
            while len(delim) == 3 and end < len(line) and line[end] == delim[0]:
                end += 1  # a multi-line string may end with up to two more quotes
            return end
        pos += 1
    return -1


# ======================================================================================
# Checklist state and progress
# ======================================================================================


class ItemState(StrEnum):
    DONE = "done"
    OPEN = "open"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ItemView:
    item: Item
    state: ItemState
    tick: Tick | None = None  # the latest tick or untick, kept even when skipped
    skip_reason: str = ""  # "only when severity == critical" when SKIPPED


@dataclass(frozen=True)
class StepProgress:
    step: Step
    done: int
    total_applicable: int
    skipped: int
    items: tuple[ItemView, ...]

    @property
    def fraction(self) -> float:
        return 1.0 if self.total_applicable == 0 else self.done / self.total_applicable

    @property
    def complete(self) -> bool:
        return self.done == self.total_applicable


@dataclass(frozen=True)
class ChecklistView:
    steps: tuple[StepProgress, ...]
    done: int
    total: int  # applicable items only
    skipped: int

    @property
    def fraction(self) -> float:
        """0.0–1.0 of the applicable items done; 1.0 when nothing is applicable."""
        return 1.0 if self.total == 0 else self.done / self.total

    @property
    def items(self) -> tuple[ItemView, ...]:
        return tuple(v for s in self.steps for v in s.items)


def checklist_view(
    playbook: Playbook, ticks: Mapping[str, Tick], ctx: ConditionContext
) -> ChecklistView:
    """Each item's state for an incident: DONE, OPEN, or SKIPPED (its condition is false).

    `ticks` maps item ids to their latest tick; a tick with `ticked=False` is an untick.
    A skipped item stays skipped even if it was ticked before (the tick is kept).
    """
    steps: list[StepProgress] = []
    for step in playbook.steps:
        views: list[ItemView] = []
        for item in step.items:
            tick = ticks.get(item.id)
            if not item.applies(ctx):
                views.append(ItemView(item, ItemState.SKIPPED, tick, f"only when {item.when}"))
            elif tick is not None and tick.ticked:
                views.append(ItemView(item, ItemState.DONE, tick))
            else:
                views.append(ItemView(item, ItemState.OPEN, tick))
        done = sum(v.state is ItemState.DONE for v in views)
        skipped = sum(v.state is ItemState.SKIPPED for v in views)
        steps.append(StepProgress(step, done, len(views) - skipped, skipped, tuple(views)))
    return ChecklistView(
        steps=tuple(steps),
        done=sum(s.done for s in steps),
        total=sum(s.total_applicable for s in steps),
        skipped=sum(s.skipped for s in steps),
    )


def next_open(view: ChecklistView) -> ItemView | None:
    """The first OPEN item, in playbook order, or None when nothing is left to do."""
    for v in view.items:
        if v.state is ItemState.OPEN:
            return v
    return None

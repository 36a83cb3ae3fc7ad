"""Loading a playbook from TOML, with every error pointing at its file and line.

This module holds `load_playbook` (a file), `parse_playbook` (TOML text) and
`default_playbook` (the one shipped in `cockpit/playbooks/default.toml`, read once), and
the private machinery behind them: the builder that checks keys, ids, actions and
conditions, and the locator that finds the line of a step, an item or a key in the
source text. A bad file raises `PlaybookError` of the form ``"{path}:{line}: {what is
wrong}"``. The file format::

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
    when = "severity == critical"      # optional condition, see conditions.py
    after = true                       # optional: a post-incident item, still tickable
                                       # once the incident is RESOLVED
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

from cockpit.domain.errors import PlaybookError
from cockpit.domain.playbook.conditions import Condition, ConditionError, _did_you_mean
from cockpit.domain.playbook.model import KNOWN_ACTIONS, Item, Playbook, Step
from cockpit.domain.sanitize import sanitize
from cockpit.safefile import SMALL_LIMIT, UnsafeFile, depth_problem, read_file, too_deep

__all__ = ["default_playbook", "load_playbook", "parse_playbook"]

_KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

_TOP_KEYS = ("name", "steps")
_STEP_KEYS = ("id", "title", "help", "items")
_ITEM_KEYS = ("id", "text", "help", "action", "when", "after")


def load_playbook(path: Path) -> Playbook:
    """Read and check a playbook file; raise `PlaybookError` naming the file and line.

    A regular file of at most SMALL_LIMIT bytes (never a FIFO, a device or a directory)."""
    path = Path(path)
    try:
        raw, _st = read_file(path, limit=SMALL_LIMIT)
    except UnsafeFile as e:
        raise PlaybookError(f"{path}: cannot read the playbook: it {e.problem}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PlaybookError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    return parse_playbook(text, source=str(path), default_name=path.stem)


@cache
def default_playbook() -> Playbook:
    """The playbook shipped with cockpit (read once)."""
    # cockpit/playbooks/, as installed: this file is cockpit/domain/playbook/loader.py
    # (importlib.resources would cost a few ms more)
    path = Path(__file__).resolve().parents[2] / "playbooks" / "default.toml"
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
    except RecursionError:
        raise PlaybookError(f"{source}: the TOML {depth_problem()}") from None
    if too_deep(data):
        raise PlaybookError(f"{source}: the TOML {depth_problem()}")
    name = default_name or "playbook"
    try:  # a playbook that is right needs no line numbers (finding them is most of the work)
        return _Builder(text, source, name, locate=False).build(data)
    except PlaybookError:
        return _Builder(text, source, name).build(data)  # the same error, with its line


class _Builder:
    """Checks the parsed TOML and builds the Playbook; locates errors in the text (with
    `locate=False`, every line is 0: the first pass, for a playbook expected to be right)."""

    def __init__(self, text: str, source: str, default_name: str, *, locate: bool = True) -> None:
        self.source = source
        self.default_name = default_name
        self.loc: _Locator | _NoLines = _Locator(text) if locate else _NoLines()

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
        after = raw.get("after", False)
        if not isinstance(after, bool):
            self.fail(loc.item_key(i, j, "after"), f"{where}: after must be true or false")
        return Item(
            id=iid, text=text, help=help_, action=action, when=when, step_id=step_id, after=after
        )

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


class _NoLines:
    """A locator that looks nothing up: every line is 0."""

    def top_key(self, key: str) -> int:
        return 0

    def step(self, i: int) -> int:
        return 0

    def step_key(self, i: int, key: str) -> int:
        return 0

    def item(self, i: int, j: int) -> int:
        return 0

    def item_key(self, i: int, j: int, key: str) -> int:
        return 0


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

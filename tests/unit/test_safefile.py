"""The depth limit on JSON read from disk (cockpit.safefile): the walk over parsed data
and the scan of raw bytes say the same, and the store refuses a file nested too deep."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cockpit.safefile import MAX_DEPTH, json_too_deep, too_deep
from cockpit.store.storage import parse


def nested(depth: int, empty: Any) -> Any:
    """`depth` containers one inside the other, the innermost `empty`."""
    value = empty
    for n in range(depth - 1):
        value = [value] if n % 2 else {"k": value}
    return value


@pytest.mark.parametrize("empty", [[], {}, [1], {"a": "[{"}])
def test_the_limit_itself_is_allowed_one_more_is_not(empty: Any) -> None:
    assert not too_deep(nested(MAX_DEPTH, empty))
    assert too_deep(nested(MAX_DEPTH + 1, empty))  # an empty container is a level too
    assert not too_deep("[[[[") and not too_deep(7)


def test_the_walk_and_the_byte_scan_agree() -> None:
    rng = random.Random(1)

    def gen(d: int) -> Any:
        if d == 0 or rng.random() < 0.2:
            return rng.choice([1, "a[{", {}, [], None])
        if rng.random() < 0.5:
            return {str(i): gen(d - 1) for i in range(rng.randint(0, 3))}
        return [gen(d - 1) for _ in range(rng.randint(0, 3))]

    for _ in range(1000):
        value = gen(rng.randint(1, 12))
        raw = json.dumps(value).encode()
        for limit in range(1, 10):
            assert too_deep(value, limit) == json_too_deep(raw, limit), (raw, limit)


def test_a_very_deep_value_is_judged_without_deep_recursion() -> None:
    assert too_deep(nested(50_000, []))  # far past Python's recursion limit


def test_the_store_refuses_a_file_nested_too_deep() -> None:
    doc = {"incident": {"1": {"x": nested(MAX_DEPTH, [])}}}
    with pytest.raises(ValueError, match="nest"):
        parse(json.dumps(doc).encode())
    ok = {"incident": {"1": {"x": nested(MAX_DEPTH - 3, [])}}}
    assert parse(json.dumps(ok).encode()) == ok


def test_a_write_is_refused_when_the_document_it_changes_nests_too_deep(tmp_path: Path) -> None:
    """A transaction walks only the documents it changed (the others were checked when
    read): a document made too deep, new or changed, or deep inside a field changed, is
    refused, and the file keeps what it held; one just under the limit is written."""
    from tinydb import TinyDB

    from cockpit.store.storage import SafeJSONStorage

    path = tmp_path / "incident.json"
    storage = SafeJSONStorage(path)
    db = TinyDB(storage=lambda: storage)
    table = db.table("timeline")
    for n in range(50):
        table.insert({"n": n, "x": nested(MAX_DEPTH - 4, [])})
    before = path.read_bytes()
    deepest_ok = nested(MAX_DEPTH - 3, [])  # the file, the table, the document: 3 levels
    too_deep_value = nested(MAX_DEPTH - 2, [])

    def write(change: Callable[[Any], None]) -> None:
        with storage.transaction():
            change(db.table("timeline"))

    for change in (
        lambda t: t.insert({"x": too_deep_value}),
        lambda t: t.update({"x": too_deep_value}, doc_ids=[17]),
        lambda t: t.update({"y": {"z": nested(MAX_DEPTH - 3, [])}}, doc_ids=[3]),
    ):
        with pytest.raises(ValueError, match="nest"):
            write(change)
        assert path.read_bytes() == before
    write(lambda t: t.update({"x": deepest_ok}, doc_ids=[17]))
    assert parse(path.read_bytes())["timeline"]["17"]["x"] == deepest_ok
    write(lambda t: t.insert({"x": deepest_ok}))
    assert len(parse(path.read_bytes())["timeline"]) == 51

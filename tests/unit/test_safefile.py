"""The depth limit on JSON read from disk (cockpit.safefile): the walk over parsed data
and the scan of raw bytes say the same, and the store refuses a file nested too deep."""

from __future__ import annotations

import json
import random
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

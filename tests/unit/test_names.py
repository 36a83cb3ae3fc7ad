"""The feed's names in the background (cockpit/integrations/names.py) and their cache on
disk (cockpit/store/namecache.py): dedupe, priority, expiry, per-kind budgets, failures,
a restart, a corrupt or hostile file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from cockpit.integrations.names import TTL, VISIBLE, NameBook
from cockpit.store.namecache import NAMES_FILE, NameCache


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def book(clock: Clock, **kw: object) -> NameBook:
    limits = kw.pop("limits", {"user": 50.0, "channel": 25.0, "usergroup": 2.0, "bot": 25.0})
    return NameBook(limits=limits, batch_kinds=("usergroup",), clock=clock, **kw)  # type: ignore[arg-type]


def drain(b: NameBook) -> list[tuple[str, str]]:
    """Every look-up the book asks for now, each answered with a name."""
    asked = []
    while (key := b.next_lookup()) is not None:
        b.started(key[0])
        asked.append(key)
        b.learned({key: f"name of {key[1]}"})
    return asked


def test_an_id_wanted_many_times_is_looked_up_once() -> None:
    clock = Clock()
    b = book(clock)
    for _ in range(10):
        b.want([("user", "U1"), ("user", "U1"), ("channel", "C1")], priority=5)
    assert b.pending == 2
    assert sorted(drain(b)) == [("channel", "C1"), ("user", "U1")]
    b.want([("user", "U1")], priority=9)  # known now: not asked again
    assert b.next_lookup() is None and b.user("U1") == "name of U1"


def test_the_newest_and_what_is_on_screen_go_first() -> None:
    clock = Clock()
    b = book(clock)
    b.want([("user", "Uold")], priority=100)
    b.want([("user", "Unew")], priority=200)
    b.want([("user", "Useen")], priority=50)
    b.want([("user", "Useen")], priority=VISIBLE)  # scrolled into view
    assert drain(b) == [("user", "Useen"), ("user", "Unew"), ("user", "Uold")]


def test_a_name_expires_is_still_shown_and_is_refreshed_after_unknown_ones() -> None:
    clock = Clock()
    b = book(clock)
    b.want([("user", "U1")], priority=1)
    drain(b)
    clock.now += TTL - 1
    assert b.want([("user", "U1")], priority=1) == 0  # still fresh
    clock.now += 2
    b.want([("user", "U1")], priority=1000)
    b.want([("user", "U2")], priority=1)
    assert b.user("U1") == "name of U1"  # shown while it is looked up again
    assert drain(b) == [("user", "U2"), ("user", "U1")]


def test_each_kind_keeps_to_its_share_of_its_rate_tier() -> None:
    clock = Clock()
    b = book(clock, limits={"user": 3.0, "bot": 25.0})
    b.want([("user", f"U{i}") for i in range(10)] + [("bot", "B1")], priority=1)
    asked = drain(b)
    assert [k for k, _ in asked].count("user") == 3  # a minute's share of users.info
    assert ("bot", "B1") in asked  # another tier is not held up
    assert b.next_lookup() is None
    assert b.next_due_in() == pytest.approx(60.0)
    clock.now += 60
    assert len(drain(b)) == 3
    b.want([("channel", "C1")], priority=1)  # a kind without a limit is never looked up
    assert b.pending == 4 and all(k[0] == "user" for k in drain_keys(b))


def drain_keys(b: NameBook) -> list[tuple[str, str]]:
    return list(b._pending)


def test_one_usergroups_answer_names_every_group_and_unknown_groups_stay_unknown() -> None:
    clock = Clock()
    b = book(clock)
    b.want([("usergroup", "S1"), ("usergroup", "S2"), ("usergroup", "S9")], priority=1)
    key = b.next_lookup()
    assert key is not None and key[0] == "usergroup"
    b.started("usergroup")
    changed = b.learned({("usergroup", "S1"): "oncall", ("usergroup", "S2"): "payments"})
    assert changed == {("usergroup", "S1"), ("usergroup", "S2"), ("usergroup", "S9")}
    assert b.pending == 0 and b.usergroup("S2") == "payments" and b.usergroup("S9") is None


def test_an_id_the_source_does_not_know_reads_as_the_kinds_word_and_is_not_asked_often() -> None:
    clock = Clock()
    b = NameBook(limits={"channel": 25.0}, unknown={"channel": "private channel"}, clock=clock)
    b.want([("channel", "G1")], priority=1)
    b.started("channel")
    b.learned({("channel", "G1"): None})
    assert b.channel("G1") == "private channel"
    b.want([("channel", "G1")], priority=1)
    assert b.pending == 0  # remembered as unknown for a while
    clock.now += 3601
    b.want([("channel", "G1")], priority=1)
    assert b.pending == 1


def test_failures_back_off_and_a_rate_limit_pauses_only_its_kind() -> None:
    clock = Clock()
    b = book(clock)
    b.want([("user", "U1"), ("bot", "B1")], priority=1)
    b.failed(("user", "U1"), lasting=False, retry_after=None)  # a timeout
    assert b.next_lookup() == ("bot", "B1")
    b.failed(("bot", "B1"), lasting=False, retry_after=20.0)  # a 429 on bots.info
    assert b.next_lookup() is None
    clock.now += 21
    assert b.next_lookup() == ("bot", "B1")
    clock.now += 10  # the user's first retry: 30 s after the failure
    assert b.next_lookup() in {("user", "U1"), ("bot", "B1")}
    b.failed(("user", "U1"), lasting=True, retry_after=None)  # missing_scope: an hour
    assert b.next_lookup() == ("bot", "B1")
    b.learned({("bot", "B1"): "Uptime"})
    assert b.next_lookup() is None


def test_a_name_that_came_free_is_kept_and_asked_no_more() -> None:
    clock = Clock()
    b = book(clock)
    b.want([("bot", "B1")], priority=1)
    assert b.note("bot", "B1", "Datadog") and not b.note("bot", "B1", "Datadog")
    assert b.pending == 0 and b.bot("B1") == "Datadog"


def test_names_survive_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    b = book(clock)
    b.want([("user", "U1"), ("channel", "C1")], priority=1)
    drain(b)
    b.learned({("bot", "B404"): None})
    b.channel_ids["incidents"] = "C0INC"
    cache = NameCache(tmp_path)
    cache.save(b.to_dict())
    assert not b.dirty
    mode = stat.S_IMODE(os.stat(tmp_path / NAMES_FILE).st_mode)
    assert mode == 0o600
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]  # no temp file left

    again = book(clock)
    assert again.load(NameCache(tmp_path).load()) == 3
    assert again.user("U1") == "name of U1" and again.channel("C1") == "name of C1"
    assert again.channel_ids == {"incidents": "C0INC"}
    again.want([("user", "U1"), ("bot", "B404")], priority=1)
    assert again.pending == 0  # nothing looked up again that is still good
    clock.now += TTL + 1
    again.want([("user", "U1")], priority=1)
    assert again.pending == 1  # the expiry travels with the name


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'["a list"]',
        b"[" * 200 + b"]" * 200,
        b'{"v": 1, "names": {"user": {"U1": ["x"], "U2": [3, 4], "U3": ["ok", "soon"]}}}',
        b'{"v": 99, "names": {"user": {"U1": ["Alice", 1]}}}',
    ],
    ids=["not-json", "not-a-table", "too-deep", "bad-entries", "other-schema"],
)
def test_a_corrupt_cache_is_ignored_and_rebuilt(tmp_path: Path, content: bytes) -> None:
    (tmp_path / NAMES_FILE).write_bytes(content)
    cache = NameCache(tmp_path)
    b = book(Clock())
    assert b.load(cache.load()) == 0 and len(b) == 0
    b.learned({("user", "U1"): "Alice"})
    cache.save(b.to_dict())  # a cache may be written over
    assert book(Clock()).load(NameCache(tmp_path).load()) == 1


def test_a_cache_that_is_no_regular_file_is_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / NAMES_FILE)  # reading a FIFO would hang
    cache = NameCache(tmp_path)
    assert cache.load() == {} and cache.problem is not None and "FIFO" in cache.problem


def test_names_from_disk_are_sanitized(tmp_path: Path) -> None:
    doc = {"v": 1, "names": {"user": {"U1": ["\x1b]52;c;eA==\x07mallory\x1b[31m", 1.0]}}}
    (tmp_path / NAMES_FILE).write_text(json.dumps(doc))
    b = book(Clock())
    b.load(NameCache(tmp_path).load())
    name = b.user("U1")
    assert name is not None and "mallory" in name and "\x1b" not in name and "\x07" not in name


def test_a_killed_writer_leaves_the_previous_file(tmp_path: Path) -> None:
    cache = NameCache(tmp_path)
    b = book(Clock())
    b.learned({("user", "U1"): "Alice"})
    cache.save(b.to_dict())
    # a writer killed before its rename leaves only a temp file beside the good one
    (tmp_path / f".{NAMES_FILE}.tmp-999999-abcd1234").write_bytes(b'{"v": 1, "na')
    assert book(Clock()).load(NameCache(tmp_path).load()) == 1
    b.learned({("user", "U2"): "Bob"})
    cache.save(b.to_dict())
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]  # swept

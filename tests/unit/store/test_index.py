"""The index of summaries: kept in the same call as the change, crash-safe, rebuilt when
damaged, never trusted over the incident files, and never a sweep of them at open."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.domain.incident import Severity, Status
from cockpit.store.storage import STALE_TEMP_SECONDS, SafeJSONStorage
from cockpit.store.store import SWEEP_EVERY, SWEEP_STAMP, IncidentChange, IncidentSummary, Store
from cockpit.store.summaries import BLOCK_SIZE
from tests.unit.store._writer import T0, make_entry, make_incident


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data: Path) -> Iterator[Store]:
    with Store.open(data) as s:
        yield s


def new_incident(store: Store, title: str = "checkout is down", **kw: Any) -> str:
    incident_id = store.next_incident_id()
    store.create_incident(make_incident(incident_id, title, **kw))
    return incident_id


def set_severity(store: Store, incident_id: str, severity: Severity) -> None:
    def change(c: IncidentChange) -> None:
        c.incident.severity = severity

    store.change(incident_id, change)


def resolve(store: Store, incident_id: str) -> None:
    def change(c: IncidentChange) -> None:
        c.incident.status = Status.RESOLVED
        c.incident.resolved_at = T0 + timedelta(hours=1)

    store.change(incident_id, change)


def agrees(store: Store) -> None:
    """Every summary is the one its file gives; the open index holds exactly the open ones."""
    listed = store.list_incidents()
    for s in listed:
        assert s == IncidentSummary.of(store.get_incident(s.id)), f"stale summary of {s.id}"
    assert store.list_incidents(open_only=True) == [s for s in listed if s.is_open]


def killed(*args: Any, **kwargs: Any) -> None:
    raise KeyboardInterrupt  # stands in for a kill at that point


# -- kept in the same call ---------------------------------------------------------------
def test_summaries_follow_every_change(data: Path, store: Store) -> None:
    a = new_incident(store, "checkout is down")
    b = new_incident(store, "search is slow")
    set_severity(store, a, Severity.CRITICAL)
    resolve(store, b)
    agrees(store)
    assert [s.id for s in store.list_incidents(open_only=True)] == [a]
    assert store.list_incidents()[0].status is Status.RESOLVED  # (b: the same time, a higher id)
    # reopening another Store on the same dir reads what this one wrote
    with Store.open(data) as other:
        assert other.list_incidents() == store.list_incidents()
        set_severity(other, a, Severity.MINOR)
    assert store.list_incidents(open_only=True)[0].severity is Severity.MINOR
    store.delete_incident(b)
    assert [s.id for s in store.list_incidents()] == [a]
    agrees(store)


def test_search_text_and_outbox_attention_are_in_the_summary(store: Store) -> None:
    a = new_incident(store)

    def assess(c: IncidentChange) -> None:
        c.incident.summary = "EU card payments time out"
        c.incident.affected_components = ["payments"]

    store.change(a, assess)
    assert store.list_incidents()[0].text == "EU card payments time out payments"
    item = {"v": 1, "id": "o1", "state": "queued"}
    store.put_doc(a, "outbox", item)
    assert store.list_incidents()[0].attention == ("outbox",)
    store.put_doc(a, "outbox", item | {"state": "sent"})
    # left for the sender to settle (store._settles): not rewritten item by item
    assert store.list_incidents()[0].attention == ("outbox",)
    assert store.settle_summary(a) is True
    assert store.list_incidents()[0].attention == ()
    store.put_doc(a, "drafts", {"v": 1, "id": "d1", "state": "queued"})  # not summarised
    assert store.list_incidents()[0].attention == ()


def test_blocks_hold_a_thousand_ids_each(data: Path, store: Store) -> None:
    store.create_incident(make_incident(str(BLOCK_SIZE + 5), "in the second block"))
    new_incident(store, "after it")
    assert sorted(p.name for p in (data / "summaries").glob("*.json")) == ["1.json"]
    assert [s.title for s in store.list_incidents()] == ["after it", "in the second block"]
    # the block of 1-1000 was made (empty) when the whole list was first read
    assert sorted(p.name for p in (data / "summaries").glob("*.json")) == ["0.json", "1.json"]


# -- crashes ------------------------------------------------------------------------------
def test_a_crash_after_the_file_before_its_summary(
    data: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = new_incident(store)
    monkeypatch.setattr(Store, "_put_summary", killed)
    with pytest.raises(KeyboardInterrupt):
        resolve(store, a)
    monkeypatch.undo()
    assert store.get_incident(a).status is Status.RESOLVED  # the file has it
    assert store.list_incidents(open_only=True)[0].id == a  # the summary is behind
    store.close()
    assert a in (data / "index.journal").read_text().split()
    with Store.open(data) as again:
        assert again.list_incidents(open_only=True) == []
        assert again.list_incidents()[0].status is Status.RESOLVED
        agrees(again)
    assert (data / "index.journal").read_text() == ""


def test_a_crash_between_the_block_and_the_open_index(
    data: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = new_incident(store)
    monkeypatch.setattr(Store, "_put_open", killed)
    with pytest.raises(KeyboardInterrupt):
        resolve(store, a)
    monkeypatch.undo()
    assert store.list_incidents()[0].status is Status.RESOLVED  # the block has it
    store.close()
    with Store.open(data) as again:
        assert again.list_incidents(open_only=True) == []
        agrees(again)


def test_a_crash_after_the_journal_before_the_file(
    data: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = new_incident(store)
    before = store.list_incidents()
    real = SafeJSONStorage._commit

    def commit(self: SafeJSONStorage, d: Any, **kw: Any) -> None:
        if self.path.parent.name == "incidents":
            raise KeyboardInterrupt
        real(self, d, **kw)

    monkeypatch.setattr(SafeJSONStorage, "_commit", commit)
    with pytest.raises(KeyboardInterrupt):
        resolve(store, a)
    monkeypatch.undo()
    store.close()
    assert a in (data / "index.journal").read_text().split()
    with Store.open(data) as again:  # the change never happened: nor does its summary
        assert again.list_incidents() == before
        agrees(again)


def test_opening_reads_only_the_incidents_the_journal_names(
    data: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [new_incident(store, f"incident {n}") for n in range(5)]
    store.close()
    store = Store.open(data)  # (the journal emptied)
    monkeypatch.setattr(Store, "_put_summary", killed)
    with pytest.raises(KeyboardInterrupt):
        set_severity(store, ids[2], Severity.CRITICAL)
    monkeypatch.undo()
    store.close()
    derived: list[str] = []
    real = Store._derive

    def derive(self: Store, incident_id: str) -> object:
        derived.append(incident_id)
        return real(self, incident_id)

    monkeypatch.setattr(Store, "_derive", derive)
    with Store.open(data) as again:
        assert derived == [ids[2]]
        assert len(again.list_incidents()) == 5
        derived.clear()
    with Store.open(data) as third:  # nothing in the journal: no incident file is read
        third.list_incidents()
        assert derived == []


def _listed_dirs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The directories listed from now on (the store lists with os.scandir / os.listdir)."""
    listed: list[str] = []
    real_scandir, real_listdir = os.scandir, os.listdir

    def scandir(path: Any = ".") -> Any:
        listed.append(os.fspath(path))
        return real_scandir(path)

    def listdir(path: Any = ".") -> list[str]:
        listed.append(os.fspath(path))
        return real_listdir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "listdir", listdir)
    return listed


def _dead_writers_temp(data: Path, incident_id: str) -> Path:
    """A temp file a killed writer of that incident's file left (pid 1 is never ours)."""
    tmp = data / "incidents" / f".{incident_id}.json.tmp-999999999-0badc0de"
    tmp.write_text("{")
    old = time.time() - 2 * STALE_TEMP_SECONDS
    os.utime(tmp, (old, old))
    return tmp


def test_opening_does_not_list_the_incident_files_once_swept(
    data: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start-up is the same with ten years of incidents: the incidents' directory (a file
    and a lock file per incident) is swept of killed writers' temp files after a crash the
    journal names and otherwise once every SWEEP_EVERY, not at every open."""
    ids = [new_incident(store, f"incident {n}") for n in range(3)]
    store.close()
    tmp = _dead_writers_temp(data, ids[0])
    with Store.open(data):  # a new store (no sweep noted yet): swept
        pass
    assert not tmp.exists()
    tmp = _dead_writers_temp(data, ids[1])
    listed = _listed_dirs(monkeypatch)
    with Store.open(data) as again:
        assert [s.id for s in again.list_incidents(open_only=True)] == ids[::-1]
        set_severity(again, ids[2], Severity.MAJOR)  # a write: no sweep either
    incidents = os.fspath(data / "incidents")
    assert incidents not in listed
    assert tmp.exists()  # (harmless: never read)
    stamp = data / "incidents" / SWEEP_STAMP
    day_ago = time.time() - SWEEP_EVERY - 60
    os.utime(stamp, (day_ago, day_ago))
    with Store.open(data):  # a day later: swept
        pass
    assert incidents in listed
    assert not tmp.exists()
    assert time.time() - stamp.stat().st_mtime < 60


def test_a_crash_the_journal_names_sweeps_at_the_next_open(
    data: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = new_incident(store)
    store.close()
    with Store.open(data):
        pass  # swept: noted
    again = Store.open(data)
    monkeypatch.setattr(Store, "_put_summary", killed)
    with pytest.raises(KeyboardInterrupt):
        set_severity(again, a, Severity.CRITICAL)
    monkeypatch.undo()
    again.close()
    tmp = _dead_writers_temp(data, a)
    with Store.open(data) as third:
        assert third.get_incident(a).severity is Severity.CRITICAL
    assert not tmp.exists()


# -- damage --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b'{"rows": {"1": {"v": 1, "s": [1, 2'),
        lambda p: p.write_text('{"rows": {"1": {"v": 1, "s": ["1", "x", null]}}}'),
        lambda p: p.write_text(
            '{"rows": {"1": {"v": 1, "s": ["1","t",null,"lost","x",'
            'null,null,null,null,false,"",[]]}}}'
        ),
        lambda p: p.unlink(),
    ],
    ids=["truncated", "short row", "bad values", "missing"],
)
def test_a_damaged_or_missing_block_is_rebuilt_from_the_files(
    data: Path, store: Store, damage: Any
) -> None:
    a = new_incident(store)
    resolve(store, new_incident(store, "resolved"))
    expected = store.list_incidents()
    store.close()
    block = data / "summaries" / "0.json"
    damage(block)
    with Store.open(data) as again:
        assert again.list_incidents() == expected
        set_severity(again, a, Severity.MINOR)  # and it is written to again
        agrees(again)


def test_a_damaged_block_is_kept_aside_never_as_the_backup(data: Path, store: Store) -> None:
    new_incident(store)
    store.close()
    block = data / "summaries" / "0.json"
    block.write_bytes(b"\x00garbage")
    with Store.open(data) as again:
        assert len(again.list_incidents()) == 1
    kept = list((data / "summaries").glob("0.json.corrupt-*"))
    assert [p.read_bytes() for p in kept] == [b"\x00garbage"]
    assert b"garbage" not in (data / "summaries" / "0.json.bak").read_bytes()


def test_an_unreadable_journal_rebuilds_everything(data: Path, store: Store) -> None:
    a = new_incident(store)
    store.close()
    (data / "index.journal").write_bytes(b"\xff\xfe not an id\n")
    (data / "summaries" / "0.json").unlink()
    with Store.open(data) as again:
        assert [s.id for s in again.list_incidents()] == [a]
        agrees(again)
    assert (data / "index.journal").read_text() == ""


def test_an_index_of_the_older_layout_is_rebuilt_at_open(data: Path, store: Store) -> None:
    """A store written before the blocks: index.json lists every incident, no blocks."""
    a = new_incident(store)
    b = new_incident(store)
    resolve(store, b)
    expected = store.list_incidents()
    store.close()
    import json
    import shutil

    shutil.rmtree(data / "summaries")
    doc = json.loads((data / "index.json").read_text())
    (meta,) = doc["meta"].values()
    del meta["index"]
    doc["incidents"] = {"1": {**expected[1].to_dict(), "title": "old"}}
    (data / "index.json").write_text(json.dumps(doc))
    with Store.open(data, reconcile=False) as lazy:  # before the rebuild: the old index
        assert [s.title for s in lazy.list_incidents()] == ["old"]
    with Store.open(data) as again:
        assert again.list_incidents() == expected
        assert [s.id for s in again.list_incidents(open_only=True)] == [a]


# -- concurrent writers --------------------------------------------------------------------
def _writer(data: str, incident_id: str, rounds: int, barrier: Any) -> None:
    with Store.open(Path(data)) as store:
        levels = [Severity.MINOR, Severity.MAJOR, Severity.CRITICAL]
        for n in range(rounds):
            barrier.wait()

            def change(c: IncidentChange, n: int = n) -> None:
                c.incident.severity = levels[n % 3]
                c.incident.title = f"{incident_id}: round {n}"
                c.entries.append(make_entry(incident_id, f"round {n}", seconds=n))

            store.change(incident_id, change)
            if n % 10 == 9:
                store.create_incident(make_incident(store.next_incident_id(), "raised"))


def test_concurrent_writers_leave_the_index_agreeing(data: Path, store: Store) -> None:
    """Processes change summaries of the same and of different incidents at once (and
    raise new ones): no summary is lost or stale, no id listed twice."""
    a, b = new_incident(store), new_incident(store)
    store.close()
    ctx = mp.get_context("spawn")
    rounds = 30
    barrier = ctx.Barrier(4)
    procs = [
        ctx.Process(target=_writer, args=(str(data), iid, rounds, barrier)) for iid in (a, a, b, b)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with Store.open(data) as again:
        listed = again.list_incidents()
        assert len(listed) == 2 + 4 * (rounds // 10)
        assert len({s.id for s in listed}) == len(listed)
        agrees(again)
        assert (data / "index.journal").read_text() == ""

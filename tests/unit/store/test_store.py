"""Store: ids, incidents, the index, timeline, ticks, module tables, migrations, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import replace

from cockpit.domain.checklist import Tick
from cockpit.domain.errors import NotFound
from cockpit.domain.incident import Severity, Status
from cockpit.store import migrations as migrations_mod
from cockpit.store.migrations import MigrationError, StoreTooNew, migrate
from cockpit.store.storage import SafeJSONStorage
from cockpit.store.store import IncidentExists, Store, StoreClosed
from tests.unit.store._writer import T0, make_entry, make_incident


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data: Path) -> Iterator[Store]:
    with Store.open(data) as s:
        yield s


@pytest.fixture
def commits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The file name of every write that reaches the disk."""
    seen: list[str] = []
    real = SafeJSONStorage._commit

    def counting(self: SafeJSONStorage, data: Any, **kw: Any) -> None:
        seen.append(self.path.name)
        real(self, data, **kw)

    monkeypatch.setattr(SafeJSONStorage, "_commit", counting)
    return seen


def raw(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_bytes())
    return doc


def new_incident(store: Store, title: str = "checkout is down", **kw: Any) -> str:
    incident_id = store.next_incident_id()
    store.create_incident(make_incident(incident_id, title, **kw))
    return incident_id


# -- ids ------------------------------------------------------------------------------
def test_ids_are_sequential_and_never_reused(data: Path, store: Store) -> None:
    assert [store.next_incident_id() for _ in range(3)] == ["1", "2", "3"]
    four = new_incident(store)
    assert four == "4"
    store.delete_incident(four)
    with pytest.raises(NotFound):
        store.get_incident("4")
    assert store.list_incidents() == []
    assert new_incident(store) == "5"
    store.close()
    with Store.open(data) as again:
        assert again.next_incident_id() == "6"


def test_create_refuses_a_taken_or_foreign_id(store: Store) -> None:
    one = new_incident(store)
    with pytest.raises(IncidentExists, match="incident 1 already exists"):
        store.create_incident(make_incident(one, "again"))
    assert store.get_incident(one).title == "checkout is down"
    for bad in ("0", "abc", "../1", "1.json", ""):
        with pytest.raises(ValueError, match="next_incident_id"):
            store.create_incident(make_incident(bad))


def test_a_created_id_above_the_counter_moves_the_counter(store: Store) -> None:
    store.create_incident(make_incident("7"))
    assert store.next_incident_id() == "8"


# -- incidents and the index -------------------------------------------------------------
def test_incident_round_trip_with_first_entries(data: Path, store: Store) -> None:
    incident_id = store.next_incident_id()
    incident = make_incident(incident_id, severity=Severity.MAJOR, drill=True)
    first = make_entry(incident_id, "raised from #alerts")
    store.create_incident(incident, [first])
    got = store.get_incident(incident_id)
    assert got.to_dict() == incident.to_dict()
    assert store.timeline(incident_id) == [first]
    # stored as ISO UTC strings, every document versioned
    doc = raw(data / "incidents" / "1.json")
    assert doc["incident"]["1"]["first_reported_at"] == "2026-03-01T09:00:00+00:00"
    assert all("v" in d for table in doc.values() for d in table.values())
    assert all("v" in d for table in raw(data / "index.json").values() for d in table.values())
    assert store.load_incidents(["1"])[0].id == "1"


def test_list_is_newest_first_and_filters_open(store: Store) -> None:
    a = new_incident(store, "old", at=T0)
    b = new_incident(store, "newest", at=T0 + timedelta(hours=2))
    c = new_incident(store, "middle", at=T0 + timedelta(hours=1))
    incident = store.get_incident(c)
    incident.transition(
        Status.CANCELED, at=T0 + timedelta(hours=1, minutes=5), by="ann", reason="a test alert"
    )
    store.save_incident(incident)
    summaries = store.list_incidents()
    assert [s.id for s in summaries] == [b, c, a]
    assert summaries[1].status is Status.CANCELED
    assert summaries[1].canceled_at == T0 + timedelta(hours=1, minutes=5)
    assert not summaries[1].is_open
    assert [s.id for s in store.list_incidents(open_only=True)] == [b, a]


def test_save_writes_incident_and_entries_once_and_the_index_only_on_change(
    store: Store, commits: list[str]
) -> None:
    incident_id = new_incident(store)
    commits.clear()
    incident = store.get_incident(incident_id)
    entry = incident.set_severity(Severity.CRITICAL, at=T0 + timedelta(minutes=1), by="ann")
    store.save_incident(incident, [entry])
    # the incident file, its block of summaries, the open incidents' index
    assert commits == ["1.json", "0.json", "index.json"]
    assert store.get_incident(incident_id).severity is Severity.CRITICAL
    assert store.list_incidents()[0].severity is Severity.CRITICAL
    assert store.list_incidents(open_only=True)[0].severity is Severity.CRITICAL
    assert store.timeline(incident_id) == [entry]
    commits.clear()
    store.save_incident(incident, [make_entry(incident_id, "a note")])  # no summary change
    assert commits == ["1.json"]
    incident.summary = "the payment provider timed out"  # searched: in the summary
    store.save_incident(incident)
    assert commits == ["1.json", "1.json", "0.json", "index.json"]
    assert store.list_incidents()[0].text == "the payment provider timed out"


def test_save_of_an_unknown_incident_is_not_found_and_creates_nothing(
    data: Path, store: Store
) -> None:
    with pytest.raises(NotFound, match="no incident 9"):
        store.save_incident(make_incident("9"))
    assert not (data / "incidents" / "9.json").exists()


def test_not_found_messages(data: Path, store: Store) -> None:
    with pytest.raises(NotFound) as info:
        store.get_incident("42")
    assert "42" in str(info.value) and str(data) in str(info.value)
    for call in (
        lambda: store.timeline("42"),
        lambda: store.ticks("42"),
        lambda: store.add_entries("42", [make_entry("42", "x")]),
        lambda: store.set_tick("42", Tick("i", True, "a", T0)),
        lambda: store.put_doc("42", "drafts", {"v": 1, "id": "d"}),
        lambda: store.docs("42", "drafts"),
    ):
        with pytest.raises(NotFound, match="no incident 42"):
            call()
    assert not (data / "incidents" / "42.json").exists()
    with pytest.raises(NotFound, match="not an incident id"):
        store.get_incident("../index")
    one = new_incident(store)
    with pytest.raises(NotFound, match=f"entry nope-1 is not in incident {one}"):
        store.update_entry(replace(make_entry(one, "x"), id="nope-1"))


def test_the_index_is_repaired_after_a_crash_between_file_and_index(
    data: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_incident(store, "listed")
    incident_id = store.next_incident_id()

    def killed(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # stands in for a kill after the incident file was written

    monkeypatch.setattr(Store, "_put_summary", killed)
    with pytest.raises(KeyboardInterrupt):
        store.create_incident(make_incident(incident_id, "orphan"))
    monkeypatch.undo()
    assert [s.id for s in store.list_incidents()] == ["1"]
    store.close()
    # the journal names it: the next open reads its file (and no other)
    with Store.open(data) as again:
        assert [(s.id, s.title) for s in again.list_incidents()] == [
            (incident_id, "orphan"),
            ("1", "listed"),
        ]
        assert [s.id for s in again.list_incidents(open_only=True)] == [incident_id, "1"]
        assert again.next_incident_id() == str(int(incident_id) + 1)
    assert (data / "index.journal").read_text() == ""


# -- timeline -------------------------------------------------------------------------
def test_add_update_and_order_entries(store: Store, commits: list[str]) -> None:
    incident_id = new_incident(store)
    early = make_entry(incident_id, "early", seconds=10)
    late = make_entry(incident_id, "late", seconds=20)
    commits.clear()
    store.add_entries(incident_id, [late, early])
    assert commits == ["1.json"]
    assert store.timeline(incident_id) == [early, late]
    store.add_entries(incident_id, [late])  # a retry does not duplicate
    assert len(store.timeline(incident_id)) == 2
    moved = late.with_event_at(T0, edited_at=T0 + timedelta(minutes=5))
    store.update_entry(moved)
    assert store.timeline(incident_id) == [moved, early]
    with pytest.raises(ValueError, match="belongs to incident"):
        store.add_entries(incident_id, [make_entry("99", "elsewhere")])


def test_threads_adding_entries_lose_nothing(store: Store) -> None:
    incident_id = new_incident(store)
    made: list[str] = []
    lock = threading.Lock()

    def work(tag: int) -> None:
        for n in range(25):
            e = make_entry(incident_id, f"{tag}-{n}")
            store.add_entries(incident_id, [e])
            with lock:
                made.append(e.id)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(e.id for e in store.timeline(incident_id)) == sorted(made)
    assert len(made) == 100


# -- checklist ------------------------------------------------------------------------
def test_ticks_latest_wins_and_set_tick_is_one_write(store: Store, commits: list[str]) -> None:
    incident_id = new_incident(store)
    assert store.ticks(incident_id) == {}
    commits.clear()
    entry = make_entry(incident_id, "ticked assess")
    store.set_tick(incident_id, Tick("assess", True, "ann", T0 + timedelta(minutes=1)), entry)
    assert commits == ["1.json"]
    assert store.timeline(incident_id) == [entry]
    store.set_tick(incident_id, Tick("assess", False, "bob", T0 + timedelta(minutes=2)))
    store.set_tick(incident_id, Tick("notify", True, "bob", T0 + timedelta(minutes=2)))
    # a tick recorded late with an older time does not override the newer state
    store.set_tick(incident_id, Tick("assess", True, "old", T0 + timedelta(seconds=30)))
    ticks = store.ticks(incident_id)
    assert set(ticks) == {"assess", "notify"}
    assert ticks["assess"] == Tick("assess", False, "bob", T0 + timedelta(minutes=2))
    # same time: the later write wins
    store.set_tick(incident_id, Tick("notify", False, "cy", T0 + timedelta(minutes=2)))
    assert store.ticks(incident_id)["notify"].by == "cy"


# -- module tables --------------------------------------------------------------------
def test_generic_docs_upsert_delete_and_reserved_tables(store: Store, commits: list[str]) -> None:
    incident_id = new_incident(store)
    store.put_doc(incident_id, "drafts", {"v": 1, "id": "d1", "body": "first"})
    store.put_doc(incident_id, "drafts", {"v": 1, "id": "d2", "body": "other"})
    commits.clear()
    sent = make_entry(incident_id, "sent d1")
    store.put_doc(incident_id, "drafts", {"v": 1, "id": "d1", "body": "edited"}, entries=[sent])
    assert commits == ["1.json"]
    assert store.timeline(incident_id) == [sent]
    got = store.docs(incident_id, "drafts")
    assert sorted((d["id"], d["body"]) for d in got) == [("d1", "edited"), ("d2", "other")]
    got[0]["body"] = "changed by the caller"  # copies: the store is not changed
    assert "changed by the caller" not in {d["body"] for d in store.docs(incident_id, "drafts")}
    store.put_doc(incident_id, "outbox", {"v": 1, "key": "k1", "n": 1}, key="key")
    assert store.delete_doc(incident_id, "outbox", "k1", key="key") is True
    assert store.delete_doc(incident_id, "outbox", "k1", key="key") is False
    assert store.docs(incident_id, "outbox") == []
    with pytest.raises(ValueError, match="kept by the store"):
        store.put_doc(incident_id, "timeline", {"v": 1, "id": "x"})
    with pytest.raises(ValueError, match="schema version"):
        store.put_doc(incident_id, "drafts", {"id": "x"})
    with pytest.raises(ValueError, match="not a table name"):
        store.docs(incident_id, "../x")
    with pytest.raises(TypeError):
        store.put_doc(incident_id, "drafts", {"v": 1, "id": "x", "bad": object()})
    assert len(store.docs(incident_id, "drafts")) == 2


# -- migrations -----------------------------------------------------------------------
def test_migration_registry_is_applied_on_load(data: Path) -> None:
    with Store.open(data) as store:
        incident_id = new_incident(store)
    path = data / "incidents" / f"{incident_id}.json"
    doc = raw(path)
    old = doc["incident"]["1"]
    old["name"] = old.pop("title")  # what a v0 document looked like
    del old["v"]
    path.write_text(json.dumps(doc))

    def v0_to_v1(d: dict[str, Any]) -> dict[str, Any]:
        d["title"] = d.pop("name")
        return d

    registry = {"incident": {0: v0_to_v1}}
    with Store.open(data, migrations=registry) as store:
        assert store.get_incident(incident_id).title == "checkout is down"
        incident = store.get_incident(incident_id)
        store.save_incident(incident)  # written back at the current version
    assert raw(path)["incident"]["1"]["v"] == 1
    assert raw(path)["incident"]["1"]["title"] == "checkout is down"


def test_migrate_chains_steps_and_refuses_gaps_and_newer() -> None:
    registry = {
        "draft": {
            0: lambda d: {"body": d.pop("text"), **d},
            1: lambda d: {**d, "channel": "#incidents"},
        }
    }
    current = {"draft": 2}
    original = {"id": "d", "text": "hi"}
    out = migrate("draft", original, registry=registry, current=current)
    assert out == {"v": 2, "id": "d", "body": "hi", "channel": "#incidents"}
    assert original == {"id": "d", "text": "hi"}
    assert migrate("draft", {"v": 2, "id": "d"}, registry=registry, current=current)["v"] == 2
    assert migrate("unknown", {"v": 9}, registry=registry, current=current) == {"v": 9}
    with pytest.raises(MigrationError, match="no migration from it"):
        migrate("draft", {"v": 1}, registry={"draft": {}}, current=current)
    with pytest.raises(StoreTooNew, match="written by a newer cockpit"):
        migrate("draft", {"v": 3}, registry=registry, current=current, source="x.json")
    with pytest.raises(MigrationError, match="invalid schema version"):
        migrate("draft", {"v": "1"}, registry=registry, current=current)
    assert migrations_mod.CURRENT["incident"] == 1


def test_a_newer_incident_is_refused_not_rewritten(data: Path) -> None:
    with Store.open(data) as store:
        incident_id = new_incident(store)
        incident = store.get_incident(incident_id)
    path = data / "incidents" / f"{incident_id}.json"
    doc = raw(path)
    doc["incident"]["1"]["v"] = 99
    doc["incident"]["1"]["from_the_future"] = True
    path.write_text(json.dumps(doc))
    before = path.read_bytes()
    with Store.open(data) as store:
        with pytest.raises(StoreTooNew, match="newer cockpit") as info:
            store.get_incident(incident_id)
        assert str(path) in str(info.value)
        with pytest.raises(StoreTooNew):
            store.save_incident(incident)
    assert path.read_bytes() == before


def test_an_index_from_a_newer_cockpit_is_refused(data: Path) -> None:
    Store.open(data).close()
    index = data / "index.json"
    doc = raw(index)
    (meta,) = doc["meta"].values()
    meta["v"] = 2
    index.write_text(json.dumps(doc))
    with pytest.raises(StoreTooNew, match="newer cockpit"):
        Store.open(data)


# -- noticing other writers, closing ----------------------------------------------------
def test_data_version_changes_when_another_store_writes(data: Path, store: Store) -> None:
    incident_id = new_incident(store)
    before = store.data_version(incident_id)
    assert before == store.data_version(incident_id)
    with Store.open(data) as other:
        other.add_entries(incident_id, [make_entry(incident_id, "from the CLI")])
    after = store.data_version(incident_id)
    assert after != before
    assert after[0] == before[0]  # the index did not change
    assert [e.text for e in store.timeline(incident_id)] == ["from the CLI"]
    assert store.data_version()[1] is None


def test_a_closed_store_says_so(store: Store) -> None:
    store.close()
    with pytest.raises(StoreClosed):
        store.list_incidents()
    with pytest.raises(StoreClosed):
        store.get_incident("1")


def test_the_store_imports_no_ui_and_no_integrations() -> None:
    code = (
        "import sys, cockpit.store;"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'textual'"
        " or m.startswith(('cockpit.ui', 'cockpit.integrations'))];"
        "assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_a_deferred_sweep_runs_before_the_first_write(
    data: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app opens the store without the sweep after a crash (it runs after the first
    frame): reads work meanwhile, and the first write sweeps first, so an incident whose
    summary a crash lost is listed and its id is never handed out again."""
    new_incident(store, "listed")
    orphan = store.next_incident_id()

    def killed(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # a kill after the incident file was written

    monkeypatch.setattr(Store, "_put_summary", killed)
    with pytest.raises(KeyboardInterrupt):
        store.create_incident(make_incident(orphan, "orphan"))
    monkeypatch.undo()
    store.close()
    with Store.open(data, reconcile=False) as later:
        assert [s.id for s in later.list_incidents()] == ["1"]  # not swept yet
        assert later.get_incident(orphan).title == "orphan"  # but its file reads
        fresh = later.next_incident_id()  # the first write: the sweep runs first
        assert int(fresh) > int(orphan)
        assert sorted(s.id for s in later.list_incidents()) == ["1", orphan]
    with Store.open(data, reconcile=False) as again:
        again.reconcile()  # asked for: the same sweep, and idempotent
        again.reconcile()
        assert sorted(s.id for s in again.list_incidents()) == ["1", orphan]

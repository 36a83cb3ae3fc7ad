"""SafeJSONStorage and restore_backup: atomic writes, backups, corruption, cache, perms."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tinydb.table import Table

from cockpit.domain.errors import CockpitError
from cockpit.store import storage as storage_mod
from cockpit.store.storage import (
    SafeJSONStorage,
    StoreConflict,
    StoreCorrupt,
    backup_path,
    restore_backup,
    sweep_temp_files,
)
from cockpit.store.store import Store

ROOT = Path(__file__).resolve().parents[3]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def insert(storage: SafeJSONStorage, doc: dict[str, Any], table: str = "t") -> None:
    Table(storage, table).insert(doc)


def docs(storage: SafeJSONStorage, table: str = "t") -> list[dict[str, Any]]:
    return [dict(d) for d in Table(storage, table).all()]


def test_round_trip_through_a_new_instance(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    s = SafeJSONStorage(path)
    assert s.read() is None  # a missing file is an empty database
    insert(s, {"v": 1, "id": "a", "text": "héllo ✓", "n": [1, 2]})
    insert(s, {"v": 1, "id": "b"}, table="other")
    again = SafeJSONStorage(path)
    assert docs(again) == [{"v": 1, "id": "a", "text": "héllo ✓", "n": [1, 2]}]
    assert docs(again, "other") == [{"v": 1, "id": "b"}]
    assert json.loads(path.read_bytes()) == again.read()


def test_transaction_writes_once_and_rolls_back_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = SafeJSONStorage(tmp_path / "db.json")
    commits: list[int] = []
    real = SafeJSONStorage._commit

    def counting(self: SafeJSONStorage, data: Any, **kw: Any) -> None:
        commits.append(1)
        real(self, data, **kw)

    monkeypatch.setattr(SafeJSONStorage, "_commit", counting)
    with s.transaction():
        insert(s, {"id": "a"})
        insert(s, {"id": "b"}, table="u")
        Table(s, "t").update({"x": 1})
        assert docs(s) == [{"id": "a", "x": 1}]  # reads inside see the pending writes
        assert not s.path.exists()
    assert commits == [1]
    with pytest.raises(RuntimeError), s.transaction():
        insert(s, {"id": "c"})
        raise RuntimeError("boom")
    assert commits == [1]
    assert docs(SafeJSONStorage(s.path)) == [{"id": "a", "x": 1}]


def test_files_are_0600_and_created_dirs_0700(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = Store.open(tmp_path / "new" / "data")
        incident_id = store.next_incident_id()
        from tests.unit.store._writer import make_incident

        store.create_incident(make_incident(incident_id))
        store.create_incident(make_incident(store.next_incident_id()))
    finally:
        os.umask(old)
    data = tmp_path / "new" / "data"
    assert mode(data) == 0o700
    assert mode(data / "incidents") == 0o700
    files = [p for p in data.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"index.json", "index.json.bak", "index.json.lock", "1.json", "1.json.lock"} <= names
    for p in files:
        assert mode(p) == 0o600, p


def test_an_existing_open_data_dir_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)
    Store.open(data).close()
    assert mode(data) == 0o700


def test_backup_holds_the_previous_version(tmp_path: Path) -> None:
    s = SafeJSONStorage(tmp_path / "db.json")
    insert(s, {"id": "a"})
    assert not backup_path(s.path).exists()
    insert(s, {"id": "b"})
    assert [d["id"] for d in docs(SafeJSONStorage(backup_path(s.path)))] == ["a"]
    assert [d["id"] for d in docs(s)] == ["a", "b"]


def make_corrupt(tmp_path: Path, *, with_backup: bool = True) -> tuple[SafeJSONStorage, bytes]:
    path = tmp_path / "db.json"
    s = SafeJSONStorage(path)
    insert(s, {"id": "a"})
    if with_backup:
        insert(s, {"id": "b"})
    bad = path.read_bytes()[:-7]  # what a killed in-place writer leaves
    path.write_bytes(bad)
    return SafeJSONStorage(path), bad


def test_corrupt_file_names_the_file_offers_the_backup_and_is_never_overwritten(
    tmp_path: Path,
) -> None:
    s, bad = make_corrupt(tmp_path)
    with pytest.raises(StoreCorrupt) as info:
        s.read()
    err = info.value
    assert err.path == s.path
    assert err.backup == backup_path(s.path)
    assert str(s.path) in str(err)
    assert str(backup_path(s.path)) in str(err)
    assert "restore" in str(err)
    assert isinstance(err, CockpitError)
    attempts: list[Callable[[], None]] = [
        lambda: insert(s, {"id": "c"}),
        lambda: s.write({"t": {}}),
    ]
    for attempt in attempts:
        with pytest.raises(StoreCorrupt):
            attempt()
        assert s.path.read_bytes() == bad
    with pytest.raises(StoreCorrupt), s.transaction():
        pass
    assert s.path.read_bytes() == bad
    # the store itself: opening on a corrupt index says which file
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "index.json").write_bytes(b'{"incidents": {"1": ')
    with pytest.raises(StoreCorrupt, match=r"index\.json") as info2:
        Store.open(tmp_path / "data")
    assert info2.value.backup is None
    assert "no usable backup" in str(info2.value)
    assert (tmp_path / "data" / "index.json").read_bytes() == b'{"incidents": {"1": '


def test_corrupt_without_backup_says_so(tmp_path: Path) -> None:
    s, _ = make_corrupt(tmp_path, with_backup=False)
    with pytest.raises(StoreCorrupt, match="no usable backup") as info:
        s.read()
    assert info.value.backup is None


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"", "empty"),
        (b"[1, 2]", "top level"),
        (b'{"t": [1]}', "table 't'"),
        (b"\xff\xfe{}", "UTF-8"),
        (b'{"t": {"1": {"id": "a"}}', "JSON"),
    ],
)
def test_what_counts_as_corrupt(tmp_path: Path, content: bytes, detail: str) -> None:
    path = tmp_path / "db.json"
    path.write_bytes(content)
    with pytest.raises(StoreCorrupt, match=detail):
        SafeJSONStorage(path).read()


def test_a_missing_file_with_a_backup_is_not_taken_for_empty(tmp_path: Path) -> None:
    s = SafeJSONStorage(tmp_path / "db.json")
    insert(s, {"id": "a"})
    insert(s, {"id": "b"})
    s.path.unlink()
    fresh = SafeJSONStorage(s.path)
    with pytest.raises(StoreCorrupt, match="missing"):
        fresh.read()
    with pytest.raises(StoreCorrupt):
        insert(fresh, {"id": "c"})
    assert [d["id"] for d in docs(SafeJSONStorage(backup_path(s.path)))] == ["a"]


def test_restore_backup_keeps_the_corrupt_file(tmp_path: Path) -> None:
    s, bad = make_corrupt(tmp_path)
    kept = restore_backup(s.path)
    assert kept is not None
    assert kept.name.startswith("db.json.corrupt-")
    assert kept.read_bytes() == bad
    assert mode(kept) == 0o600 and mode(s.path) == 0o600
    assert [d["id"] for d in docs(SafeJSONStorage(s.path))] == ["a"]
    # usable again, and a second restore is refused: the file is readable now
    insert(s, {"id": "c"})
    assert [d["id"] for d in docs(s)] == ["a", "c"]
    with pytest.raises(CockpitError, match="nothing to restore"):
        restore_backup(s.path)


def test_restore_backup_without_backup(tmp_path: Path) -> None:
    s, bad = make_corrupt(tmp_path, with_backup=False)
    with pytest.raises(CockpitError, match="no backup"):
        restore_backup(s.path)
    assert s.path.read_bytes() == bad


def test_store_open_then_restore_the_index(tmp_path: Path) -> None:
    from tests.unit.store._writer import make_incident

    data = tmp_path / "data"
    with Store.open(data) as store:
        store.create_incident(make_incident(store.next_incident_id()))
    index = data / "index.json"
    index.write_bytes(b"\x00" * 10)
    with pytest.raises(StoreCorrupt) as info:
        Store.open(data)
    assert info.value.backup is not None
    restore_backup(info.value.path)
    with Store.open(data) as store:
        assert [s.id for s in store.list_incidents()] == ["1"]


def test_a_truncated_leftover_temp_file_is_ignored_and_swept(tmp_path: Path) -> None:
    s = SafeJSONStorage(tmp_path / "db.json")
    insert(s, {"id": "a"})
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    leftover = tmp_path / f".db.json.tmp-{dead_pid}-0badc0de"
    leftover.write_bytes(b'{"t": {"1": {"id": "a"}, "2": {"i')
    mine = tmp_path / f".db.json.tmp-{os.getpid()}-00000000"  # a live writer's: kept
    mine.write_bytes(b"{")
    fresh = SafeJSONStorage(s.path)
    assert [d["id"] for d in docs(fresh)] == ["a"]
    insert(fresh, {"id": "b"})
    assert [d["id"] for d in docs(SafeJSONStorage(s.path))] == ["a", "b"]
    assert not leftover.exists()
    assert mine.exists()
    assert sweep_temp_files(s.path, now=mine.stat().st_mtime + 3600) == [mine]


def test_a_failed_replace_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = SafeJSONStorage(tmp_path / "db.json")
    insert(s, {"id": "a"})
    before = s.path.read_bytes()

    def fail(src: str, dst: str) -> None:
        if Path(dst) == s.path:
            raise OSError(28, "No space left on device")
        os.rename(src, dst)

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(storage_mod.StoreWriteError, match="No space"):
        insert(s, {"id": "b"})
    monkeypatch.undo()
    assert s.path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []
    assert [d["id"] for d in docs(s)] == ["a"]


def test_repeated_reads_are_a_stat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = SafeJSONStorage(tmp_path / "db.json")
    insert(s, {"id": "a"})
    parses: list[int] = []
    real = storage_mod.parse

    def counting(raw: bytes, validate: Any = None, **kw: Any) -> Any:
        parses.append(1)
        return real(raw, validate, **kw)

    monkeypatch.setattr(storage_mod, "parse", counting)
    reader = SafeJSONStorage(s.path)
    for _ in range(20):
        assert docs(reader) == [{"id": "a"}]
    assert len(parses) == 1
    # what a reader gets is a copy: changing it does not change the cache
    data = reader.read()
    assert data is not None
    data["t"]["1"]["id"] = "changed"
    assert docs(reader) == [{"id": "a"}]


def test_the_cache_notices_writes_by_another_instance_and_process(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    a = SafeJSONStorage(path)
    insert(a, {"id": "a"})
    assert len(docs(a)) == 1
    b = SafeJSONStorage(path)
    insert(b, {"id": "b"})
    assert [d["id"] for d in docs(a)] == ["a", "b"]
    code = (
        "import sys; from tinydb.table import Table;"
        "from cockpit.store.storage import SafeJSONStorage;"
        "Table(SafeJSONStorage(sys.argv[1]), 't').insert({'id': 'c'})"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=ROOT)
    assert [d["id"] for d in docs(a)] == ["a", "b", "c"]
    insert(a, {"id": "d"})  # a's write starts from c's data, not from its cache
    assert [d["id"] for d in docs(b)] == ["a", "b", "c", "d"]


def test_a_stale_cache_never_loses_a_write_even_with_an_identical_stat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes compare bytes, not just the stat signature (mtime is coarse, inodes recycle)."""
    path = tmp_path / "db.json"
    a = SafeJSONStorage(path)
    insert(a, {"id": "a"})
    insert(SafeJSONStorage(path), {"id": "b"})
    same = (0, 0, 0, 0, 0)
    monkeypatch.setattr(storage_mod, "signature", lambda st: same)
    monkeypatch.setattr(storage_mod, "file_signature", lambda p: same)
    a._cache = storage_mod._Snapshot(same, a._cache.raw, a._cache.data)
    assert [d["id"] for d in docs(a)] == ["a"]  # the stale read the stat cannot see
    with a.transaction():  # how the store writes: the bytes are compared under the lock
        insert(a, {"id": "c"})
    assert [d["id"] for d in docs(SafeJSONStorage(path))] == ["a", "b", "c"]
    # a bare TinyDB write from a stale read is refused instead of losing "d"
    insert(SafeJSONStorage(path), {"id": "d"})
    a._cache = storage_mod._Snapshot(same, a._cache.raw, a._cache.data)
    before = path.read_bytes()
    with pytest.raises(StoreConflict, match="changed by another writer"):
        insert(a, {"id": "e"})
    assert path.read_bytes() == before
    monkeypatch.undo()
    insert(a, {"id": "e"})
    assert [d["id"] for d in docs(SafeJSONStorage(path))] == ["a", "b", "c", "d", "e"]


def test_a_full_disk_changes_nothing_and_says_so(tmp_path, monkeypatch):
    import errno

    from cockpit.domain.incident import Incident
    from cockpit.store import Store, StoreWriteError
    from cockpit.store import storage as storage_mod

    with Store.open(tmp_path / "data") as store:
        from datetime import UTC, datetime

        t0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
        store.create_incident(
            Incident(
                id=store.next_incident_id(),
                title="Search down",
                first_reported_at=t0,
                created_at=t0,
            )
        )
        shard = tmp_path / "data" / "incidents" / "1.json"
        before = shard.read_bytes()

        def full(path, raw):  # type: ignore[no-untyped-def]
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(storage_mod, "_write_new", full)
        incident = store.get_incident("1")
        incident.title = "changed"
        with pytest.raises(StoreWriteError) as err:
            store.save_incident(incident)
        assert "No space left on device" in str(err.value) and str(shard) in str(err.value)
        assert "Nothing was changed" in str(err.value)
        assert shard.read_bytes() == before
        assert not list(shard.parent.glob(".*tmp*"))
        monkeypatch.undo()
        assert store.get_incident("1").title == "Search down"


def test_a_data_dir_that_cannot_be_used_is_said_plainly(tmp_path):
    from cockpit.domain.errors import CockpitError
    from cockpit.store import Store

    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("a file where the data directory should be")
    with pytest.raises(CockpitError, match="cannot use the data directory"):
        Store.open(not_a_dir)

"""The store: incidents, their timelines, checklists and module tables, on disk.

A data dir (0700; every file 0600) holds:

    index.json            table `incidents`: one summary per incident (what lists need);
                          table `meta`: the store's schema version and the incident id counter
    incidents/<id>.json   tables `incident` (one document: Incident.to_dict()), `timeline`,
                          `checklist` (tick history), and tables of later modules (drafts,
                          the outbox) through `docs` / `put_doc` / `delete_doc`
    <file>.bak            the previous good version of each file; <file>.lock: its lock

The incident files are the truth and the index is derived from them: an incident file is
written first, then its summary; `Store.open` repairs an index left behind by a crash
between the two. The hot path (a tick, a note) rewrites one small incident file.

Every public method is thread-safe and process-safe (each read-modify-write holds that
file's `StoreLock`), and returns only after its data is fsynced. Our ids only: incidents
get "1", "2", … from a counter in `meta` (never reused, even after a delete); entries,
ticks and module documents are found by their own fields, never by TinyDB's doc ids.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar

from tinydb.table import Document, Table

from cockpit.domain.checklist import Tick
from cockpit.domain.clock import from_iso, to_iso
from cockpit.domain.errors import CockpitError, NotFound
from cockpit.domain.incident import Incident, Role, Severity, Status
from cockpit.domain.sanitize import sanitize
from cockpit.domain.timeline import EntryKind, TimelineEntry, sort_entries
from cockpit.store.lock import DEFAULT_TIMEOUT
from cockpit.store.migrations import (
    STORE_SCHEMA,
    MigrationError,
    Registry,
    StoreTooNew,
    check_not_newer,
    migrate,
)
from cockpit.store.storage import (
    Data,
    SafeJSONStorage,
    Signature,
    StoreCorrupt,
    Validator,
    backup_path,
    ensure_private_dir,
    sweep_temp_files,
)
from cockpit.store.storage import restore_backup as _restore_backup

INDEX_FILE: Final = "index.json"
INCIDENTS_DIR: Final = "incidents"

T_INCIDENTS: Final = "incidents"
T_META: Final = "meta"
T_INCIDENT: Final = "incident"
T_TIMELINE: Final = "timeline"
T_CHECKLIST: Final = "checklist"
RESERVED_TABLES: Final = frozenset({T_INCIDENT, T_TIMELINE, T_CHECKLIST})

_META_KEY: Final = "store"
_ID = re.compile(r"[1-9][0-9]{0,17}")
_TABLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_SHARD_CACHE = 64
_KEEP: Final = object()
R = TypeVar("R")  # "leave this summary as it is" (its incident file cannot be read)


class IncidentExists(CockpitError):
    """create_incident was given an id that is already taken."""


class StoreClosed(CockpitError):
    """The store was used after close()."""


@dataclass(frozen=True)
class IncidentSummary:
    """What the index keeps about an incident: enough to list and filter without opening it."""

    id: str
    title: str
    severity: Severity | None
    status: Status
    first_reported_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    canceled_at: datetime | None = None
    drill: bool = False

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @classmethod
    def of(cls, incident: Incident) -> IncidentSummary:
        return cls(
            id=incident.id,
            title=incident.title,
            severity=incident.severity,
            status=incident.status,
            first_reported_at=incident.first_reported_at,
            acknowledged_at=incident.acknowledged_at,
            resolved_at=incident.resolved_at,
            canceled_at=incident.canceled_at,
            drill=incident.drill,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": STORE_SCHEMA,
            "id": self.id,
            "title": self.title,
            "severity": self.severity.value if self.severity else None,
            "status": self.status.value,
            "first_reported_at": to_iso(self.first_reported_at),
            "acknowledged_at": to_iso(self.acknowledged_at),
            "resolved_at": to_iso(self.resolved_at),
            "canceled_at": to_iso(self.canceled_at),
            "drill": self.drill,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IncidentSummary:
        first = from_iso(d["first_reported_at"])
        assert first is not None
        return cls(
            id=str(d["id"]),
            title=sanitize(d.get("title", ""), single_line=True),
            severity=Severity(d["severity"]) if d.get("severity") else None,
            status=Status(d.get("status", "reported")),
            first_reported_at=first,
            acknowledged_at=from_iso(d.get("acknowledged_at")),
            resolved_at=from_iso(d.get("resolved_at")),
            canceled_at=from_iso(d.get("canceled_at")),
            drill=bool(d.get("drill", False)),
        )


class IncidentChange:
    """One change of an incident, made under its file's lock against the current version
    and written in one write: the incident (changed in place), new timeline entries,
    ticks, and documents of other tables (drafts, outbox items) put by their "id"."""

    def __init__(self, incident: Incident, db: _Db | None = None) -> None:
        self.incident = incident
        self.entries: list[TimelineEntry] = []
        self.ticks: list[Tick] = []
        self.docs: list[tuple[str, dict[str, Any]]] = []
        self.save = True  # False: the incident document itself is left as it is
        self._db = db

    def ticked(self, item_id: str) -> bool:
        """Whether the item is ticked now (in the file, or by this change)."""
        for tick in reversed(self.ticks):
            if tick.item_id == item_id:
                return tick.ticked
        latest: Tick | None = None
        for d in self._db.table(T_CHECKLIST).all() if self._db is not None else ():
            tick = Tick.from_dict(dict(d))
            if tick.item_id == item_id and (latest is None or tick.at >= latest.at):
                latest = tick
        return latest is not None and latest.ticked

    def current_docs(self, table: str) -> list[dict[str, Any]]:
        """A table's documents as they are in the file now (copies)."""
        _check_table(table, writing=False)
        if self._db is None:  # a new incident: only what this change adds
            return [copy.deepcopy(d) for t, d in self.docs if t == table]
        return [copy.deepcopy(dict(d)) for d in self._db.table(table).all()]

    def put_doc(self, table: str, doc: dict[str, Any]) -> None:
        _check_table(table, writing=True)
        if "id" not in doc or "v" not in doc:
            raise ValueError(f"a {table} document needs its 'id' and schema version 'v'")
        self.docs.append((table, copy.deepcopy(dict(doc))))


class _Db:
    """TinyDB tables over one storage, for the length of one transaction or read."""

    def __init__(self, storage: SafeJSONStorage) -> None:
        self.storage = storage
        self._tables: dict[str, Table] = {}

    def table(self, name: str) -> Table:
        t = self._tables.get(name)
        if t is None:
            # cache_size=0: the file may change under us between operations
            t = self._tables[name] = Table(self.storage, name, cache_size=0)
        return t


class Store:
    """The one owner of cockpit's data on disk. Use `Store.open(data_dir)`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        lock_timeout: float = DEFAULT_TIMEOUT,
        migrations: Registry | None = None,
        versions: dict[str, int] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.index_path = self.data_dir / INDEX_FILE
        self.incidents_dir = self.data_dir / INCIDENTS_DIR
        self._lock_timeout = lock_timeout
        self._registry = migrations
        self._versions = versions
        self._shapes = Shapes(migrations, versions)
        self._index = SafeJSONStorage(
            self.index_path, lock_timeout=lock_timeout, validate=self._shapes.index
        )
        #: Said once when the store opens (the CLI prints them): a data dir others can write.
        self.warnings: list[str] = []
        self._shards: OrderedDict[str, SafeJSONStorage] = OrderedDict()
        self._mutex = threading.Lock()
        self._closed = False
        self._reconciled = False  # the sweep after a crash: before the first write

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        lock_timeout: float = DEFAULT_TIMEOUT,
        migrations: Registry | None = None,
        versions: dict[str, int] | None = None,
        reconcile: bool = True,
    ) -> Store:
        """Open (creating if needed) the store in `data_dir`.

        Raises StoreCorrupt if the index cannot be read (offer `restore_backup`), and
        StoreTooNew if a newer cockpit wrote it. With `reconcile=False` the sweep after a
        crash (see `reconcile`) runs later: when the caller asks, or before the first write.
        """
        store = cls(data_dir, lock_timeout=lock_timeout, migrations=migrations, versions=versions)
        try:
            for directory in (store.data_dir, store.incidents_dir):
                warning = ensure_private_dir(directory)
                if warning is not None:
                    store.warnings.append(warning)
        except OSError as e:
            raise store._unusable(e) from None
        for warning in store.warnings:
            _warn_once(warning)
        if reconcile:
            store.reconcile()
        return store

    def _unusable(self, e: OSError) -> CockpitError:
        return CockpitError(
            f"cannot use the data directory {self.data_dir}: {e.strerror or e}. Point "
            "COCKPIT_DATA_DIR (or --data-dir) at a directory you can write to."
        )

    def reconcile(self) -> None:
        """After a crash between an incident file and the index: list incidents whose file
        exists, drop summaries whose file is gone, keep the counter above every id, and
        sweep temp files left by killed writers. Reads are sound without it (a summary
        may be missing or stale until it runs); every write runs it first if it has not run."""
        self._reconciled = True  # (its own index write must not start it again)
        try:
            self._reconcile()
        except OSError as e:
            self._reconciled = False
            raise self._unusable(e) from None
        except BaseException:
            self._reconciled = False
            raise

    def close(self) -> None:
        with self._mutex:
            self._closed = True
            for shard in self._shards.values():
                shard.close()
            self._shards.clear()
        self._index.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.data_dir)!r})"

    # -- incidents ------------------------------------------------------------------
    def next_incident_id(self) -> str:
        """Allocate the next incident id ("1", "2", …); an id is never handed out twice."""
        with self._write(self._index) as db:
            meta = self._meta(db)
            n = int(meta["last_incident_id"]) + 1
            meta["last_incident_id"] = n
            self._put_meta(db, meta)
        return str(n)

    def create_incident(
        self,
        incident: Incident,
        entries: Sequence[TimelineEntry] = (),
        *,
        ticks: Sequence[Tick] = (),
        docs: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> None:
        """Store a new incident with its first entries, ticks and documents (the raise
        chain's outbox items) in one write, then list it."""
        if not _ID.fullmatch(incident.id):
            raise ValueError(
                f"incident id {incident.id!r} was not made by the store: use next_incident_id()"
            )
        _check_entries(incident.id, entries)
        shard = self._shard(incident.id)
        with self._write(shard) as db:
            if db.table(T_INCIDENT).all():
                raise IncidentExists(f"incident {incident.id} already exists in {self.data_dir}")
            db.table(T_INCIDENT).insert(incident.to_dict())
            _put_entries(db, entries)
            for tick in ticks:
                db.table(T_CHECKLIST).insert(tick.to_dict())
            for table, doc in docs:
                _put_doc(db, table, doc)
        self._sync_index([incident.id], at_least=int(incident.id))

    def change(self, incident_id: str, fn: Callable[[IncidentChange], R]) -> R:
        """Read-modify-write an incident under its file's lock: `fn` gets the current
        version (as another process may just have written it) and says what to write; a
        refusal it raises (an illegal transition) writes nothing. No update is lost."""
        shard = self._shard(incident_id)
        with self._write(shard) as db:
            old = self._incident_doc(db, incident_id)
            check_not_newer("incident", old, current=self._versions, source=str(shard.path))
            current = self._migrate("incident", copy.deepcopy(dict(old)), shard)
            incident = Incident.from_dict(current)
            change = IncidentChange(incident, db)
            result = fn(change)
            if change.incident.id != incident_id:
                raise ValueError("a change cannot move an incident to another id")
            _check_entries(incident_id, change.entries)
            if change.save:
                table = db.table(T_INCIDENT)
                table.remove(doc_ids=[old.doc_id])
                table.insert(Document(change.incident.to_dict(), doc_id=old.doc_id))
            _put_entries(db, change.entries)
            for tick in change.ticks:
                db.table(T_CHECKLIST).insert(tick.to_dict())
            for table_name, doc in change.docs:
                _put_doc(db, table_name, doc)
        if change.save:
            self._sync_index([incident_id])
        return result

    def save_incident(self, incident: Incident, entries: Sequence[TimelineEntry] = ()) -> None:
        """Replace the incident's document and add `entries`, in one write of its file."""
        _check_entries(incident.id, entries)
        shard = self._shard(incident.id)
        with self._write(shard) as db:
            old = self._incident_doc(db, incident.id)
            check_not_newer("incident", old, current=self._versions, source=str(shard.path))
            table = db.table(T_INCIDENT)
            table.remove(doc_ids=[old.doc_id])
            table.insert(Document(incident.to_dict(), doc_id=old.doc_id))
            _put_entries(db, entries)
        self._sync_index([incident.id])

    def get_incident(self, incident_id: str) -> Incident:
        shard = self._shard(incident_id)
        with self._read(shard) as db:
            doc = self._incident_doc(db, incident_id)
        return Incident.from_dict(self._migrate("incident", doc, shard))

    def load_incidents(self, ids: Iterable[str]) -> list[Incident]:
        return [self.get_incident(i) for i in ids]

    def list_incidents(self, *, open_only: bool = False) -> list[IncidentSummary]:
        """Summaries from the index, newest report first."""
        with self._read(self._index) as db:
            docs = db.table(T_INCIDENTS).all()
        if open_only:  # cheap first pass on the raw status: most of a history is closed
            docs = [d for d in docs if d.get("status") not in ("resolved", "canceled")]
        out = [IncidentSummary.from_dict(self._migrate("summary", d, self._index)) for d in docs]
        if open_only:
            out = [s for s in out if s.is_open]
        out.sort(key=lambda s: (s.first_reported_at, int(s.id)), reverse=True)
        return out

    def delete_incident(self, incident_id: str) -> None:
        """Remove an incident and its file. Its id is not given out again."""
        shard = self._shard(incident_id)
        with shard.lock:
            with self._read(shard) as db:
                self._incident_doc(db, incident_id)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(backup_path(shard.path))
            os.unlink(shard.path)
            _fsync_dir(shard.path.parent)
            shard.close()
        self._sync_index([incident_id])

    # -- timeline -------------------------------------------------------------------
    def add_entries(self, incident_id: str, entries: Sequence[TimelineEntry]) -> None:
        """Add entries in one write. An entry whose id is already stored replaces it, so
        adding the same entry twice (a retry) never duplicates it."""
        _check_entries(incident_id, entries)
        if not entries:
            return
        shard = self._shard(incident_id)
        with self._write(shard) as db:
            self._incident_doc(db, incident_id)
            _put_entries(db, entries)

    def update_entry(self, entry: TimelineEntry) -> None:
        """Replace the stored entry with the same id (NotFound if there is none)."""
        shard = self._shard(entry.incident_id)
        with self._write(shard) as db:
            self._incident_doc(db, entry.incident_id)
            table = db.table(T_TIMELINE)
            found = [d for d in table.all() if d.get("id") == entry.id]
            if not found:
                raise NotFound(
                    f"timeline entry {entry.id} is not in incident {entry.incident_id} "
                    "(it may have been deleted, or belongs to another incident)"
                )
            table.remove(doc_ids=[d.doc_id for d in found])
            table.insert(Document(entry.to_dict(), doc_id=found[0].doc_id))

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        """The incident's entries in the order things happened."""
        shard = self._shard(incident_id)
        with self._read(shard) as db:
            self._incident_doc(db, incident_id)
            docs = db.table(T_TIMELINE).all()
        return sort_entries(
            [TimelineEntry.from_dict(self._migrate("entry", d, shard)) for d in docs]
        )

    # -- checklist ------------------------------------------------------------------
    def ticks(self, incident_id: str) -> dict[str, Tick]:
        """The latest tick per checklist item (by its time; the later write breaks a tie)."""
        shard = self._shard(incident_id)
        with self._read(shard) as db:
            self._incident_doc(db, incident_id)
            docs = db.table(T_CHECKLIST).all()
        latest: dict[str, Tick] = {}
        for d in docs:
            tick = Tick.from_dict(self._migrate("tick", d, shard))
            held = latest.get(tick.item_id)
            if held is None or tick.at >= held.at:
                latest[tick.item_id] = tick
        return latest

    def set_tick(self, incident_id: str, tick: Tick, entry: TimelineEntry | None = None) -> None:
        """Record a tick (and the entry that reports it) in one write."""
        entries = () if entry is None else (entry,)
        _check_entries(incident_id, entries)
        shard = self._shard(incident_id)
        with self._write(shard) as db:
            self._incident_doc(db, incident_id)
            db.table(T_CHECKLIST).insert(tick.to_dict())
            _put_entries(db, entries)

    # -- tables of other modules (drafts, outbox, …) --------------------------------
    def docs(self, incident_id: str, table: str) -> list[dict[str, Any]]:
        """The documents of a module's table in an incident's file (copies, migrated)."""
        _check_table(table, writing=False)
        shard = self._shard(incident_id)
        with self._read(shard) as db:
            self._incident_doc(db, incident_id)
            raw = db.table(table).all()
        return [self._migrate(table, copy.deepcopy(dict(d)), shard) for d in raw]

    def put_doc(
        self,
        incident_id: str,
        table: str,
        doc: dict[str, Any],
        key: str = "id",
        *,
        entries: Sequence[TimelineEntry] = (),
    ) -> None:
        """Insert `doc`, or replace the one with the same `doc[key]`; add `entries` in the
        same write. The document must carry its schema version `"v"` and be JSON."""
        _check_table(table, writing=True)
        if key not in doc:
            raise ValueError(f"a {table} document needs its key {key!r}")
        if "v" not in doc:
            raise ValueError(f"a {table} document needs its schema version 'v'")
        _check_entries(incident_id, entries)
        value = copy.deepcopy(dict(doc))
        shard = self._shard(incident_id)
        with self._write(shard) as db:
            self._incident_doc(db, incident_id)
            _put_doc(db, table, value, key)
            _put_entries(db, entries)

    def delete_doc(self, incident_id: str, table: str, value: Any, key: str = "id") -> bool:
        """Remove the documents whose `key` equals `value`; False if there were none."""
        _check_table(table, writing=True)
        shard = self._shard(incident_id)
        with self._write(shard) as db:
            self._incident_doc(db, incident_id)
            t = db.table(table)
            ids = [d.doc_id for d in t.all() if d.get(key) == value]
            if ids:
                t.remove(doc_ids=ids)
        return bool(ids)

    # -- noticing changes -----------------------------------------------------------
    def data_version(self, incident_id: str | None = None) -> tuple[Signature | None, ...]:
        """A cheap (two stats) token that changes when the index or the incident's file
        changes, whoever wrote it: compare it to notice another process's writes."""
        incident_sig = None if incident_id is None else self._shard(incident_id).signature()
        return (self._index.signature(), incident_sig)

    # -- internals ------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed(f"the store in {self.data_dir} is closed")

    def _shard(self, incident_id: str) -> SafeJSONStorage:
        self._check_open()
        if not isinstance(incident_id, str) or not _ID.fullmatch(incident_id):
            raise NotFound(f"{incident_id!r} is not an incident id (ids are 1, 2, 3, …)")
        with self._mutex:
            shard = self._shards.get(incident_id)
            if shard is not None:
                self._shards.move_to_end(incident_id)
                return shard
            path = self.incidents_dir / f"{incident_id}.json"
            shard = SafeJSONStorage(
                path,
                lock_timeout=self._lock_timeout,
                validate=functools.partial(self._shapes.incident, incident_id),
            )
            self._shards[incident_id] = shard
            if len(self._shards) > _SHARD_CACHE:
                for key, old in list(self._shards.items()):
                    if len(self._shards) <= _SHARD_CACHE:
                        break
                    if not old.lock.busy and key != incident_id:
                        del self._shards[key]
            return shard

    @contextlib.contextmanager
    def _write(self, storage: SafeJSONStorage) -> Iterator[_Db]:
        self._check_open()
        if not self._reconciled:
            self.reconcile()
        with storage.transaction():
            yield _Db(storage)

    @contextlib.contextmanager
    def _read(self, storage: SafeJSONStorage) -> Iterator[_Db]:
        self._check_open()
        with storage.reading():
            yield _Db(storage)

    def _migrate(self, kind: str, doc: dict[str, Any], storage: SafeJSONStorage) -> dict[str, Any]:
        return migrate(
            kind, doc, registry=self._registry, current=self._versions, source=str(storage.path)
        )

    def _incident_doc(self, db: _Db, incident_id: str) -> Document:
        docs = db.table(T_INCIDENT).all()
        if not docs:
            raise NotFound(
                f"there is no incident {incident_id} in {self.data_dir} "
                "(it was never created here, or it was deleted)"
            )
        return docs[0]

    def _meta(self, db: _Db) -> dict[str, Any]:
        docs = [d for d in db.table(T_META).all() if d.get("key") == _META_KEY]
        if not docs:
            return {"v": STORE_SCHEMA, "key": _META_KEY, "last_incident_id": 0}
        check_not_newer("meta", docs[0], current=self._versions, source=str(self.index_path))
        return self._migrate("meta", docs[0], self._index)

    def _put_meta(self, db: _Db, meta: dict[str, Any]) -> None:
        t = db.table(T_META)
        t.remove(doc_ids=[d.doc_id for d in t.all() if d.get("key") == _META_KEY])
        t.insert(meta)

    def _wanted_summary(self, incident_id: str) -> object:
        """The summary the index should hold for an incident, from its file: a dict, None
        (no such incident), or _KEEP (the file cannot be read: leave the index alone)."""
        shard = self._shard(incident_id)
        try:
            with self._read(shard) as db:
                docs = db.table(T_INCIDENT).all()
            if not docs:
                return None
            incident = Incident.from_dict(self._migrate("incident", docs[0], shard))
        except (StoreCorrupt, StoreTooNew, MigrationError, KeyError, ValueError, TypeError):
            return _KEEP
        return IncidentSummary.of(incident).to_dict()

    def _index_plan(
        self, db: _Db, ids: Collection[str], at_least: int
    ) -> tuple[list[tuple[str, object]], dict[str, Any] | None]:
        """What to change in the index so it agrees with the incident files `ids`."""
        current = {str(d.get("id")): d for d in db.table(T_INCIDENTS).all()}
        changes: list[tuple[str, object]] = []
        for i in ids:
            wanted = self._wanted_summary(i)
            if wanted is not _KEEP and wanted != current.get(i):
                changes.append((i, wanted))
        meta = self._meta(db)
        stored = db.table(T_META).all()
        if not stored or int(meta["last_incident_id"]) < at_least:
            meta["last_incident_id"] = max(int(meta["last_incident_id"]), at_least)
            return changes, meta
        return changes, None

    def _sync_index(self, ids: Collection[str], *, at_least: int = 0) -> None:
        """Bring the summaries of `ids` (and the id counter) in line with the files."""
        with self._read(self._index) as db:
            changes, meta = self._index_plan(db, ids, at_least)
        if not changes and meta is None:
            return
        with self._write(self._index) as db:
            # Recomputed under the index lock: the last writer reads the latest files.
            changes, meta = self._index_plan(db, ids, at_least)
            table = db.table(T_INCIDENTS)
            for incident_id, wanted in changes:
                table.remove(doc_ids=[d.doc_id for d in table.all() if d.get("id") == incident_id])
                if isinstance(wanted, dict):
                    table.insert(wanted)
            if meta is not None:
                self._put_meta(db, meta)

    def _reconcile(self) -> None:
        files = {
            name[: -len(".json")]
            for name in os.listdir(self.incidents_dir)
            if name.endswith(".json") and _ID.fullmatch(name[: -len(".json")])
        }
        with self._read(self._index) as db:
            listed = {str(d.get("id")) for d in db.table(T_INCIDENTS).all()}
            self._meta(db)  # refuses an index written by a newer cockpit
        gone = {
            i
            for i in listed - files
            if _ID.fullmatch(i) and not backup_path(self.incidents_dir / f"{i}.json").exists()
        }
        top = max((int(i) for i in files | listed if _ID.fullmatch(i)), default=0)
        self._sync_index(sorted((files - listed) | gone, key=int), at_least=top)
        sweep_temp_files(self.index_path)
        sweep_temp_files(self.incidents_dir, all_in_dir=True)


_warned: set[str] = set()


def _warn_once(warning: str) -> None:
    """On stderr (the CLI; the app captures it) and in the log, once per process."""
    if warning in _warned:
        return
    _warned.add(warning)
    import logging
    import sys

    logging.getLogger(__name__).warning("%s", warning)
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"cockpit: warning: {warning}\n")
        sys.stderr.flush()


# -- the shape of stored documents --------------------------------------------------------
# Checked when a file is read (before anything uses or rewrites it): a document of the
# wrong shape makes the file StoreCorrupt, naming the document and the field, instead of a
# KeyError or ValueError later; and a file that fails is never written over nor backed up.

Check = Callable[[object], str | None]  # a problem with the value, or None


def _is_id(v: object) -> str | None:
    if isinstance(v, bool) or not isinstance(v, str | int) or str(v) == "":
        return f"{_show(v)} is not an id"
    return None


def _time(v: object) -> str | None:
    if not isinstance(v, str):
        return f"{_show(v)} is not a time (an ISO 8601 text)"
    try:
        from_iso(v)
    except ValueError as e:
        return f"{_show(v)} is not a time ({e})"
    return None


def _enum(kind: type[Status] | type[Severity] | type[EntryKind] | type[Role]) -> Check:
    values = [k.value for k in kind]

    def check(v: object) -> str | None:
        if v in values:
            return None
        return f"{_show(v)} is not one of {', '.join(values)}"

    return check


def _severity(v: object) -> str | None:
    return None if v == "" else _enum(Severity)(v)  # (unset: null or "")


def _counter(v: object) -> str | None:
    if isinstance(v, bool) or not (
        (isinstance(v, int) and v >= 0) or (isinstance(v, str) and v.isdigit())
    ):
        return f"{_show(v)} is not a whole number"
    return None


def _of(kind: type, what: str) -> Check:
    def check(v: object) -> str | None:
        return None if isinstance(v, kind) else f"{_show(v)} is not {what}"

    return check


def _anything(v: object) -> str | None:
    return None


def _show(v: object) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


# field → (required, None allowed, check)
Spec = dict[str, tuple[bool, bool, Check]]
_REQ_TIME = (True, False, _time)
_OPT_TIME = (False, True, _time)

_INCIDENT: Spec = {
    "id": (True, False, _is_id),
    "first_reported_at": _REQ_TIME,
    "created_at": _REQ_TIME,
    "status": (False, False, _enum(Status)),
    "severity": (False, True, _severity),
    "acknowledged_at": _OPT_TIME,
    "fixing_at": _OPT_TIME,
    "mitigated_at": _OPT_TIME,
    "resolved_at": _OPT_TIME,
    "canceled_at": _OPT_TIME,
    "last_update_at": _OPT_TIME,
    "roles": (False, False, _of(dict, "a table of roles")),
    "role_history": (False, False, _of(list, "a list")),
    "links": (False, True, _of(dict, "a table of links")),
    "assessment": (False, True, _of(dict, "a table")),
    "affected_components": (False, False, _of(list, "a list")),
    "labels": (False, False, _of(list, "a list")),
}
_ROLE_CHANGE: Spec = {
    "role": (True, False, _enum(Role)),
    "person": (True, False, _anything),
    "at": _REQ_TIME,
}
_ENTRY: Spec = {
    "id": (True, False, _is_id),
    "incident_id": (True, False, _is_id),
    "kind": (True, False, _enum(EntryKind)),
    "event_at": _REQ_TIME,
    "recorded_at": _REQ_TIME,
    "edited_at": _OPT_TIME,
}
_TICK: Spec = {
    "item_id": (True, False, _is_id),
    "ticked": (True, False, _anything),
    "at": _REQ_TIME,
}
_SUMMARY: Spec = {
    "id": (True, False, _is_id),
    "first_reported_at": _REQ_TIME,
    "status": (False, False, _enum(Status)),
    "severity": (False, True, _severity),
    "acknowledged_at": _OPT_TIME,
    "resolved_at": _OPT_TIME,
    "canceled_at": _OPT_TIME,
}
_META: Spec = {"last_incident_id": (True, False, _counter)}


def _check_spec(doc: dict[str, Any], spec: Spec, what: str) -> None:
    for key, (required, nullable, check) in spec.items():
        if key not in doc:
            if required:
                raise ValueError(f"{what}: field {key} is missing")
            continue
        value = doc[key]
        if value is None and nullable:
            continue
        problem = check(value)
        if problem is not None:
            raise ValueError(f"{what}: field {key}: {problem}")


class Shapes:
    """The checks of the store's files (`SafeJSONStorage`'s `validate`): ValueError naming
    the document and the field. Documents newer than this code, or that need a migration
    this code lacks, are left to the read (StoreTooNew / MigrationError name them)."""

    def __init__(
        self, registry: Registry | None = None, versions: dict[str, int] | None = None
    ) -> None:
        self.registry = registry
        self.versions = versions

    def _current(self, kind: str, doc: dict[str, Any], what: str) -> dict[str, Any] | None:
        try:
            return migrate(kind, doc, registry=self.registry, current=self.versions)
        except StoreTooNew:
            return None  # kept as it is, never rewritten: the read says so
        except MigrationError as e:  # an invalid or unknown version: not a document we know
            raise ValueError(f"{what}: field v: {e}") from None

    def _doc(
        self, kind: str, doc: dict[str, Any], spec: Spec, what: str, build: Callable[..., object]
    ) -> dict[str, Any] | None:
        current = self._current(kind, doc, what)
        if current is None:
            return None
        _check_spec(current, spec, what)
        try:
            build(current)
        except Exception as e:  # whatever else the domain refuses: named, never a traceback
            raise ValueError(f"{what}: {type(e).__name__}: {e}") from None
        return current

    def index(self, data: Data) -> None:
        for doc_id, doc in data.get(T_INCIDENTS, {}).items():
            what = f"the summary of incident {doc.get('id', '?')} (document {doc_id})"
            self._doc("summary", doc, _SUMMARY, what, IncidentSummary.from_dict)
        for doc_id, doc in data.get(T_META, {}).items():
            if doc.get("key") == _META_KEY:
                what = f"the store's meta document (document {doc_id})"
                current = self._current("meta", doc, what)
                if current is not None:
                    _check_spec(current, _META, what)

    def incident(self, incident_id: str, data: Data) -> None:
        docs = data.get(T_INCIDENT, {})
        if len(docs) > 1:
            raise ValueError(
                f"table {T_INCIDENT!r} holds {len(docs)} incident documents (one expected)"
            )
        for doc_id, doc in docs.items():
            what = f"the incident document (document {doc_id})"
            current = self._doc("incident", doc, _INCIDENT, what, Incident.from_dict)
            if current is None:
                continue
            if str(current["id"]) != incident_id:
                raise ValueError(
                    f"{what}: field id: {_show(current['id'])}, but the file is incident "
                    f"{incident_id}'s"
                )
            for n, change in enumerate(current.get("role_history") or []):
                if not isinstance(change, dict):
                    raise ValueError(f"{what}: field role_history.{n} is not a table")
                _check_spec(change, _ROLE_CHANGE, f"{what}, role_history.{n}")
        for doc_id, doc in data.get(T_TIMELINE, {}).items():
            what = f"timeline entry {_show(doc.get('id', '?'))} (document {doc_id})"
            self._doc("entry", doc, _ENTRY, what, TimelineEntry.from_dict)
        for doc_id, doc in data.get(T_CHECKLIST, {}).items():
            what = f"checklist tick of {_show(doc.get('item_id', '?'))} (document {doc_id})"
            self._doc("tick", doc, _TICK, what, Tick.from_dict)


def file_validator(path: Path) -> Validator | None:
    """The check of a store file, from its place in the data dir (for `restore_backup`)."""
    path = Path(path)
    if path.name == INDEX_FILE:
        return Shapes().index
    stem = path.name[: -len(".json")] if path.name.endswith(".json") else ""
    if path.parent.name == INCIDENTS_DIR and _ID.fullmatch(stem):
        return functools.partial(Shapes().incident, stem)
    return None


def restore_backup(path: Path, *, force: bool = False) -> Path | None:
    """Put a store file's backup in place when the file is damaged: it does not parse,
    has the wrong shape, or is not a regular file (see `storage.restore_backup`)."""
    return _restore_backup(path, force=force, validate=file_validator(path))


def _check_entries(incident_id: str, entries: Iterable[TimelineEntry]) -> None:
    for e in entries:
        if e.incident_id != incident_id:
            raise ValueError(f"entry {e.id} belongs to incident {e.incident_id}, not {incident_id}")


def _check_table(table: str, *, writing: bool) -> None:
    if not _TABLE_NAME.fullmatch(table):
        raise ValueError(f"{table!r} is not a table name (lower case letters, digits, _)")
    if writing and table in RESERVED_TABLES:
        raise ValueError(f"table {table!r} is kept by the store itself: use its own methods")


def _put_entries(db: _Db, entries: Iterable[TimelineEntry]) -> None:
    new = {e.id: e.to_dict() for e in entries}
    if not new:
        return
    table = db.table(T_TIMELINE)
    replaced = [d.doc_id for d in table.all() if d.get("id") in new]
    if replaced:
        table.remove(doc_ids=replaced)
    table.insert_multiple(list(new.values()))


def _put_doc(db: _Db, table: str, value: dict[str, Any], key: str = "id") -> None:
    """Insert `value`, or replace the document with the same `value[key]`."""
    t = db.table(table)
    same = [d for d in t.all() if d.get(key) == value[key]]
    if same:
        t.remove(doc_ids=[d.doc_id for d in same])
        t.insert(Document(value, doc_id=same[0].doc_id))
    else:
        t.insert(value)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

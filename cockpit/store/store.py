"""The store: incidents, their timelines, checklists and module tables, on disk.

A data dir (0700; every file 0600) holds:

    incidents/<id>.json   tables `incident` (one document: Incident.to_dict()), `timeline`,
                          `checklist` (tick history), and tables of later modules (drafts,
                          the outbox) through `docs` / `put_doc` / `delete_doc`
    index.json            table `incidents`: the open incidents' summaries; table `meta`:
                          the store's schema version, the incident id counter, the index's
                          layout
    summaries/<n>.json    every incident's summary, a thousand ids a block (summaries.py)
    index.journal         incidents whose summary may be changing (summaries.py)
    <file>.bak            the previous good version of each file; <file>.lock: its lock

The incident files are the truth and the index is derived from them. A write that changes
an incident's summary (its status, title, search text, pending outbox items) notes the id
in the journal, writes the incident file, then the summary, all in the same call and under
the incident file's lock; `Store.open` re-reads the few incidents the journal names, so a
crash between the files leaves no stale summary and opening never sweeps the directory. A
missing or damaged block of summaries is rebuilt from the incident files (`rebuild_index`
rebuilds it all). The hot path (a tick, a note) rewrites one small incident file.

Every public method is thread-safe and process-safe (each read-modify-write holds that
file's `StoreLock`), and returns only after its data is fsynced. Our ids only: incidents
get "1", "2", … from a counter in `meta` (never reused, even after a delete); entries,
ticks and module documents are found by their own fields, never by TinyDB's doc ids.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar

import msgspec
from tinydb.table import Document, Table

from cockpit.domain.checklist import Tick
from cockpit.domain.clock import from_iso
from cockpit.domain.errors import CockpitError, NotFound
from cockpit.domain.incident import Incident, Role, Severity, Status
from cockpit.domain.timeline import EntryKind, TimelineEntry, sort_entries
from cockpit.safefile import STORE_LIMIT, UnsafeFile, read_file
from cockpit.store.lock import DEFAULT_TIMEOUT, StoreBusy
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
    StoreWriteError,
    Validator,
    backup_path,
    ensure_private_dir,
    parse,
    sweep_temp_files,
)
from cockpit.store.storage import restore_backup as _restore_backup
from cockpit.store.summaries import (
    ATTENTION,
    INDEX_LAYOUT,
    JOURNAL_FILE,
    SUMMARIES_DIR,
    T_ROWS,
    Journal,
    block_count,
    block_data,
    block_ids,
    block_of,
    block_path,
    check_block,
    summarize,
)
from cockpit.store.summaries import IncidentSummary as IncidentSummary  # (re-exported)

log = logging.getLogger(__name__)

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
_SHARD_DATA = 8  # of those, how many keep their file's parsed content
_KEEP: Final = object()
R = TypeVar("R")  # "leave this summary as it is" (its incident file cannot be read)


class IncidentExists(CockpitError):
    """create_incident was given an id that is already taken."""


class StoreClosed(CockpitError):
    """The store was used after close()."""


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

    def current_docs(
        self, table: str, where: Callable[[Mapping[str, Any]], bool] | None = None
    ) -> list[dict[str, Any]]:
        """A table's documents as they are in the file now (copies); with `where`, those
        it accepts (looked at as stored, before they are copied)."""
        _check_table(table, writing=False)
        if self._db is None:  # a new incident: only what this change adds
            docs: Iterable[Mapping[str, Any]] = (d for t, d in self.docs if t == table)
        else:
            docs = self._db.table(table).all()
        return [copy.deepcopy(dict(d)) for d in docs if where is None or where(d)]

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
        self.summaries_dir = self.data_dir / SUMMARIES_DIR
        self._journal = Journal(self.data_dir / JOURNAL_FILE)
        self._blocks: dict[int, SafeJSONStorage] = {}
        # block → (its file's signature, its summaries by id): parsed once, shared (frozen)
        self._block_rows: dict[int, tuple[Signature, dict[str, IncidentSummary]]] = {}
        self._listed: tuple[tuple[Signature | None, ...], list[IncidentSummary]] | None = None
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
            for directory in (store.data_dir, store.incidents_dir, store.summaries_dir):
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
        """After a crash between an incident file and its summary: re-read the incidents
        the journal names and put their summaries right (an index of an older layout, or
        a journal that cannot be read, is rebuilt from every incident file), and sweep
        the temp files killed writers left (beside the incident files: after such a crash,
        and otherwise once a day). Reads are sound without it (a
        summary may be stale until it runs); every write runs it first if it has not run."""
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
            for block in self._blocks.values():
                block.close()
            self._blocks.clear()
            self._block_rows.clear()
            self._listed = None
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
        with self._changing(incident.id, at_least=int(incident.id)) as (db, _):
            if db.table(T_INCIDENT).all():
                raise IncidentExists(f"incident {incident.id} already exists in {self.data_dir}")
            db.table(T_INCIDENT).insert(incident.to_dict())
            _put_entries(db, entries)
            for tick in ticks:
                db.table(T_CHECKLIST).insert(tick.to_dict())
            for table, doc in docs:
                _put_doc(db, table, doc)

    def change(self, incident_id: str, fn: Callable[[IncidentChange], R]) -> R:
        """Read-modify-write an incident under its file's lock: `fn` gets the current
        version (as another process may just have written it) and says what to write; a
        refusal it raises (an illegal transition) writes nothing. No update is lost. The
        incident's summary, if the change alters it, is written in the same call."""
        shard = self._shard(incident_id)
        with self._changing(incident_id) as (db, pending):
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
                pending.incident = change.incident
            elif not any(t in ATTENTION for t, _ in change.docs):
                pending.skip = True  # neither the incident nor a table it summarises
        return result

    def save_incident(self, incident: Incident, entries: Sequence[TimelineEntry] = ()) -> None:
        """Replace the incident's document and add `entries`, in one write of its file."""
        _check_entries(incident.id, entries)
        shard = self._shard(incident.id)
        with self._changing(incident.id) as (db, pending):
            old = self._incident_doc(db, incident.id)
            check_not_newer("incident", old, current=self._versions, source=str(shard.path))
            table = db.table(T_INCIDENT)
            table.remove(doc_ids=[old.doc_id])
            table.insert(Document(incident.to_dict(), doc_id=old.doc_id))
            _put_entries(db, entries)
            pending.incident = incident

    def get_incident(self, incident_id: str) -> Incident:
        shard = self._shard(incident_id)
        with self._read(shard) as db:
            doc = self._incident_doc(db, incident_id)
        return Incident.from_dict(self._migrate("incident", doc, shard))

    def load_incidents(self, ids: Iterable[str]) -> list[Incident]:
        return [self.get_incident(i) for i in ids]

    def list_incidents(self, *, open_only: bool = False) -> list[IncidentSummary]:
        """Summaries from the index, newest report first: the open ones from `index.json`
        (a small file), all of them from the blocks of summaries (parsed once, then a stat
        per block while nothing changes)."""
        with self._read(self._index) as db:
            meta = self._meta(db)
            docs = db.table(T_INCIDENTS).all() if open_only or not _current(meta) else None
        if docs is not None:  # the open ones (or an index of the older layout)
            if open_only:  # cheap first pass on the raw status
                docs = [d for d in docs if d.get("status") not in ("resolved", "canceled")]
            out = [
                IncidentSummary.from_dict(self._migrate("summary", d, self._index)) for d in docs
            ]
            if open_only:
                out = [s for s in out if s.is_open]
            out.sort(key=_newest_first, reverse=True)
            return out
        blocks = range(block_count(int(meta["last_incident_id"])))
        sigs = tuple(self._block(b).signature() for b in blocks)
        listed = self._listed
        if listed is not None and listed[0] == sigs and None not in sigs:
            return list(listed[1])
        out = [s for b in blocks for s in self._summaries(b).values()]
        out.sort(key=_newest_first, reverse=True)
        sigs = tuple(self._block(b).signature() for b in blocks)
        self._listed = (sigs, out)
        return list(out)

    def delete_incident(self, incident_id: str) -> None:
        """Remove an incident and its file. Its id is not given out again."""
        shard = self._shard(incident_id)
        with shard.lock:
            if not self._reconciled:
                self.reconcile()
            with self._read(shard) as db:
                self._incident_doc(db, incident_id)
            self._note(incident_id)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(backup_path(shard.path))
            os.unlink(shard.path)
            _fsync_dir(shard.path.parent)
            shard.close()
            self._put_summary(incident_id, None)

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
        with self._changing(incident_id) as (db, pending):
            pending.skip = table not in ATTENTION
            self._incident_doc(db, incident_id)
            _put_doc(db, table, value, key)
            _put_entries(db, entries)

    def delete_doc(self, incident_id: str, table: str, value: Any, key: str = "id") -> bool:
        """Remove the documents whose `key` equals `value`; False if there were none."""
        _check_table(table, writing=True)
        with self._changing(incident_id) as (db, pending):
            pending.skip = table not in ATTENTION
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
                if next(reversed(self._shards)) != incident_id:
                    self._shards.move_to_end(incident_id)
                    self._forget_older()
                return shard
            path = self.incidents_dir / f"{incident_id}.json"
            shard = SafeJSONStorage(
                path,
                lock_timeout=self._lock_timeout,
                validate=functools.partial(self._shapes.incident, incident_id),
                swept=True,  # (the store sweeps the incidents' directory: _reconcile)
            )
            self._shards[incident_id] = shard
            if len(self._shards) > _SHARD_CACHE:
                for key, old in list(self._shards.items()):
                    if len(self._shards) <= _SHARD_CACHE:
                        break
                    if not old.lock.busy and key != incident_id:
                        del self._shards[key]
            self._forget_older()
            return shard

    def _forget_older(self) -> None:
        """Only the newest _SHARD_DATA incident files keep their parsed content (the one on
        screen, those just read): the others keep their lock, and read their file again
        when used. Over a shift each incident raised, opened or looked at stays in
        `_shards`; its parsed file (100-200 kB a busy incident) need not. (Under _mutex.)"""
        for n, shard in enumerate(reversed(self._shards.values())):
            if n >= _SHARD_DATA and not shard.lock.busy:
                shard.close()  # (forgets the content only: the shard stays usable)

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

    # -- the index (summaries.py) ----------------------------------------------------
    @contextlib.contextmanager
    def _changing(self, incident_id: str, *, at_least: int = 0) -> Iterator[tuple[_Db, _Pending]]:
        """A write of an incident's file that may change its summary. After the caller's
        changes, before the file is written: if the summary differs from the indexed one,
        the id goes to the journal (fsynced); after the file is written, still under its
        lock, the summary goes to its block and to `index.json`."""
        shard = self._shard(incident_id)
        pending = _Pending()
        with shard.lock:
            with self._write(shard) as db:
                yield db, pending
                wanted: IncidentSummary | None = None
                if not pending.skip or at_least:
                    wanted = self._summary_in(db, incident_id, pending.incident)
                    indexed = self._indexed(incident_id)
                    if not at_least and (wanted == indexed or _settles(wanted, indexed)):
                        pending.skip = True
                    else:
                        pending.skip = False
                        self._note(incident_id)
            if not pending.skip:
                self._put_summary(incident_id, wanted, at_least=at_least)

    def settle_summary(self, incident_id: str) -> bool:
        """Write the incident's summary if the index's differs from its file's: what a
        write left as it was (a table that needed work and needs none now, see
        `_settles`). Whether it was written."""
        self._check_open()
        if not self._reconciled:  # (as before any write: the sweep after a crash first)
            self.reconcile()
        shard = self._shard(incident_id)
        with shard.lock:
            with self._read(shard) as db:
                wanted = self._summary_in(db, incident_id, None)
            if wanted == self._indexed(incident_id):
                return False
            self._note(incident_id)
            self._put_summary(incident_id, wanted)
        return True

    def _summary_in(
        self, db: _Db, incident_id: str, incident: Incident | None
    ) -> IncidentSummary | None:
        """The summary of the incident as this write leaves it (None: no incident)."""
        if incident is None:
            docs = db.table(T_INCIDENT).all()
            if not docs:
                return None
            incident = Incident.from_dict(self._migrate("incident", dict(docs[0]), self._index))
        return summarize(incident, {name: db.table(name).all() for name in ATTENTION})

    def _note(self, incident_id: str) -> None:
        """The journal line, before the incident file is written."""
        with self._index.lock:
            try:
                self._journal.add(incident_id)
            except OSError as e:
                raise StoreWriteError(self._journal.path, e) from e

    def _indexed(self, incident_id: str) -> IncidentSummary | None:
        return self._summaries(block_of(incident_id)).get(incident_id)

    def _put_summary(
        self, incident_id: str, summary: IncidentSummary | None, *, at_least: int = 0
    ) -> None:
        """Write an incident's summary (None: it is gone) to its block and `index.json`."""
        with self._index.lock:
            self._write_block(block_of(incident_id), {incident_id: summary})
            with self._write(self._index) as db:
                self._put_open(db, {incident_id: summary})
                meta = self._meta(db)
                if int(meta["last_incident_id"]) < at_least or not db.table(T_META).all():
                    meta["last_incident_id"] = max(int(meta["last_incident_id"]), at_least)
                    self._put_meta(db, meta)
            if self._journal.lines() > _JOURNAL_COMPACT:
                self._replay()

    def _put_open(self, db: _Db, wanted: dict[str, IncidentSummary | None]) -> None:
        """Make `index.json`'s open summaries of these incidents agree with `wanted`."""
        table = db.table(T_INCIDENTS)
        held = {str(d.get("id")): d for d in table.all() if str(d.get("id")) in wanted}
        for incident_id, summary in wanted.items():
            doc = summary.to_dict() if summary is not None and summary.is_open else None
            old = held.get(incident_id)
            if old is not None and dict(old) == doc:
                continue
            if old is not None:
                table.remove(doc_ids=[old.doc_id])
            if doc is not None:
                table.insert(doc)

    def _block(self, block: int) -> SafeJSONStorage:
        with self._mutex:
            storage = self._blocks.get(block)
            if storage is None:
                storage = self._blocks[block] = SafeJSONStorage(
                    block_path(self.data_dir, block),
                    lock_timeout=self._lock_timeout,
                    validate=check_block,
                    depth_check=False,  # check_block and from_row look at every level
                )
            return storage

    def _summaries(self, block: int) -> dict[str, IncidentSummary]:
        """A block's summaries by id (do not change the dict). A block that is missing or
        damaged is rebuilt from the incident files of its range."""
        self._check_open()
        storage = self._block(block)
        sig = storage.signature()
        with self._mutex:
            cached = self._block_rows.get(block)
        if cached is not None and sig is not None and cached[0] == sig:
            return cached[1]
        try:
            if sig is None:
                raise _Damaged("missing")
            sig, data = storage.peek()
            rows = {
                key: IncidentSummary.from_row(doc["s"])
                for key, doc in (data or {}).get(T_ROWS, {}).items()
            }
        except (StoreCorrupt, _Damaged, ValueError, TypeError, KeyError) as e:
            return self._rebuild_block(block, str(e))
        finally:
            storage.close()  # the summaries are what is kept, not the file's bytes
        if sig is not None:
            with self._mutex:
                self._block_rows[block] = (sig, rows)
        return rows

    def _write_block(self, block: int, wanted: dict[str, IncidentSummary | None]) -> None:
        """Put (or, for None, remove) these summaries in their block, under the index lock."""
        rows = dict(self._summaries(block))  # (rebuilds the block first if it is damaged)
        storage = self._block(block)
        with storage.transaction():
            data = storage.read() or {}
            table = data.setdefault(T_ROWS, {})
            for incident_id, summary in wanted.items():
                if summary is None:
                    table.pop(incident_id, None)
                    rows.pop(incident_id, None)
                else:
                    table[incident_id] = block_data([summary])[T_ROWS][incident_id]
                    rows[incident_id] = summary
            storage.write(data)
        sig = storage.signature()
        storage.close()
        with self._mutex:
            if sig is not None:
                self._block_rows[block] = (sig, rows)

    def _rebuild_block(self, block: int, why: str) -> dict[str, IncidentSummary]:
        """A block of summaries made again from the incident files of its range (a file
        that cannot be read keeps the summary it had, if any). Written if it can be."""
        ids = block_ids(block)
        if why == "missing":  # (a new block: its first incident is being created)
            log.info("the summaries of incidents %d-%d made (missing)", ids[0], ids[-1])
        else:
            log.warning("the summaries of incidents %d-%d rebuilt (%s)", ids[0], ids[-1], why)
        with self._index.lock:
            rows: dict[str, IncidentSummary] = {}
            for n in block_ids(block):
                summary = self._derive(str(n))
                if isinstance(summary, IncidentSummary):
                    rows[summary.id] = summary
            self._store_block(block, rows)
            return rows

    def _store_block(self, block: int, rows: dict[str, IncidentSummary]) -> None:
        """Write a block made again; a damaged one is moved aside first (kept for a look,
        never read again, and never made the backup)."""
        storage = self._block(block)
        try:
            with storage.lock:
                try:
                    storage.peek()
                except StoreCorrupt:
                    _move_aside(storage.path)
                storage.replace_all(block_data(rows.values()))
        except (OSError, StoreWriteError) as e:  # a read-only data dir: kept in memory
            log.warning("cannot write %s: %s", storage.path, e)
            return
        sig = storage.signature()
        storage.close()
        with self._mutex:
            if sig is not None:
                self._block_rows[block] = (sig, rows)

    def _derive(self, incident_id: str) -> IncidentSummary | object | None:
        """An incident's summary from its file: None (no such incident) or _KEEP (the file
        cannot be read). Reads the file raw: only the incident and the tables a summary
        looks at are checked, not every entry."""
        path = self.incidents_dir / f"{incident_id}.json"
        try:
            raw, _ = read_file(path, limit=STORE_LIMIT)
        except UnsafeFile as e:
            if e.missing and not backup_path(path).exists():
                return None
            return _KEEP
        try:
            data = parse(raw)
            docs = list(data.get(T_INCIDENT, {}).values())
            if not docs:
                return None
            check_not_newer("incident", docs[0], current=self._versions, source=str(path))
            doc = migrate("incident", docs[0], registry=self._registry, current=self._versions)
            incident = Incident.from_dict(doc)
            if incident.id != incident_id:
                return _KEEP
            tables = {name: list(data.get(name, {}).values()) for name in ATTENTION}
        except (StoreTooNew, MigrationError, KeyError, ValueError, TypeError, AttributeError):
            return _KEEP
        return summarize(incident, tables)

    def rebuild_index(self) -> int:
        """Make every summary again from the incident files (the index of an older layout,
        a journal that cannot be read, `cockpit doctor`): one read of each incident file.
        Returns the number of incidents listed."""
        self._check_open()
        with self._index.lock:
            names = os.listdir(self.incidents_dir)
            files = sorted(
                (int(n[: -len(".json")]) for n in names if _is_incident_file(n)),
            )
            with self._read(self._index) as db:
                meta = self._meta(db)
            top = max([int(meta["last_incident_id"]), *files[-1:]])
            by_block: dict[int, dict[str, IncidentSummary]] = {
                b: {} for b in range(block_count(top))
            }
            for n in files:
                summary = self._derive(str(n))
                if isinstance(summary, IncidentSummary):
                    by_block[block_of(summary.id)][summary.id] = summary
            for b, rows in by_block.items():
                self._store_block(b, rows)
            with self._write(self._index) as db:
                db.table(T_INCIDENTS).truncate()
                db.table(T_INCIDENTS).insert_multiple(
                    [s.to_dict() for rows in by_block.values() for s in rows.values() if s.is_open]
                )
                meta = self._meta(db)
                meta["last_incident_id"] = max(int(meta["last_incident_id"]), top)
                meta["index"] = INDEX_LAYOUT
                self._put_meta(db, meta)
            self._journal.keep_only([])
            return sum(len(rows) for rows in by_block.values())

    def _replay(self) -> bool:
        """Put right the summaries of the incidents the journal names (those whose file
        another writer holds now stay in it), then empty it of the rest. Returns whether
        it named any (a writer may have been killed)."""
        with self._index.lock:
            ids, clean = self._journal.read()
            if not clean:
                log.warning("the index journal cannot be read: rebuilding the index")
                self.rebuild_index()
                return True
            kept: list[str] = []
            for incident_id in ids:
                lock = self._shard(incident_id).lock
                try:
                    lock.acquire(timeout=0)
                except StoreBusy:
                    kept.append(incident_id)  # being written: its writer updates it
                    continue
                try:
                    summary = self._derive(incident_id)
                    if summary is _KEEP:
                        kept.append(incident_id)  # a damaged file: looked at again next time
                        continue
                    assert summary is None or isinstance(summary, IncidentSummary)
                    if summary != self._indexed(incident_id):
                        self._write_block(block_of(incident_id), {incident_id: summary})
                    with self._write(self._index) as db:
                        self._put_open(db, {incident_id: summary})
                        meta = self._meta(db)
                        if int(meta["last_incident_id"]) < int(incident_id):
                            meta["last_incident_id"] = int(incident_id)
                            self._put_meta(db, meta)
                finally:
                    lock.release()
            if ids:
                self._journal.keep_only(kept)
            return bool(ids)

    def _reconcile(self) -> None:
        with self._read(self._index) as db:
            meta = self._meta(db)  # refuses an index written by a newer cockpit
        if not _current(meta):
            self.rebuild_index()
            crashed = True
        else:
            crashed = self._replay()
        sweep_temp_files(self.index_path)
        sweep_temp_files(self.summaries_dir, all_in_dir=True)  # a file per 1,000 incidents
        # Temp files killed writers left beside the incident files: a listing of names (no
        # file is read), but of a directory that grows with the history (20,000 incidents
        # and their lock files take 60-100 ms to list), so not at every start: after a
        # crash the journal names, and otherwise once every SWEEP_EVERY. Leftovers are
        # harmless meanwhile (never read; a writer's own temp file has a name of its own).
        if crashed or self._sweep_due():
            sweep_temp_files(self.incidents_dir, all_in_dir=True)
            self._swept()

    def _sweep_due(self) -> bool:
        try:
            age = time.time() - os.stat(self.incidents_dir / SWEEP_STAMP).st_mtime
        except OSError:
            return True
        return not 0 <= age < SWEEP_EVERY  # (a clock set back: due as well)

    def _swept(self) -> None:
        """Note the sweep (the stamp's time); if it cannot be noted, the next open sweeps."""
        path = self.incidents_dir / SWEEP_STAMP
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        with contextlib.suppress(OSError):
            fd = os.open(path, flags, 0o600)
            try:
                os.utime(fd)
            finally:
                os.close(fd)


_JOURNAL_COMPACT: Final = 4096  # bytes of journal after which a write empties it
SWEEP_STAMP: Final = ".swept"  # in the incidents' directory: its mtime, the last sweep
SWEEP_EVERY: Final = 24 * 3600.0  # seconds between sweeps of that directory (no crash)


def _settles(wanted: IncidentSummary | None, indexed: IncidentSummary | None) -> bool:
    """Does `wanted` differ from the indexed summary only in naming fewer tables that need
    work? A write that leaves it so does not rewrite the index: the outbox's items end one
    by one, each in a write of the incident's file, and in a burst (a tick a keystroke,
    each told to the team) the summary would go from "needs work" to not and back on every
    write, each time the journal, the block of a thousand summaries and `index.json`
    written and fsynced under the incident's lock, where the next keystroke's write waits.
    The sender, which reads the flag to know which incidents to visit, finds nothing to
    do there and settles the summary once the outbox has stayed quiet (`settle_summary`)."""
    if wanted is None or indexed is None or wanted.attention == indexed.attention:
        return False
    if not set(wanted.attention) < set(indexed.attention):
        return False
    return msgspec.structs.replace(indexed, attention=wanted.attention) == wanted


class _Pending(msgspec.Struct):
    """What a write tells `_changing` about the summary: the incident as it leaves it (or
    None: read it from the file's new content), or `skip` (nothing a summary holds)."""

    incident: Incident | None = None
    skip: bool = False


class _Damaged(Exception):
    pass


def _current(meta: dict[str, Any]) -> bool:
    """Whether the index has the layout this code keeps (summaries in blocks)."""
    return meta.get("index") == INDEX_LAYOUT


def _newest_first(s: IncidentSummary) -> tuple[datetime, int]:
    return (s.first_reported_at, int(s.id))


def _is_incident_file(name: str) -> bool:
    return name.endswith(".json") and _ID.fullmatch(name[: -len(".json")]) is not None


def _move_aside(path: Path) -> None:
    """Keep a damaged derived file as `<name>.corrupt-<time>` (it is rebuilt)."""
    if not os.path.lexists(path):
        return
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    os.replace(path, path.with_name(f"{path.name}.corrupt-{stamp}"))


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

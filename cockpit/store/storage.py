"""A crash-safe JSON storage for TinyDB.

Stock `JSONStorage` rewrites the file in place, so a writer killed mid-write leaves a
truncated file, and it caches nothing, so every read parses the whole file. This one:

- writes a new file next to the old one (`.<name>.tmp-<pid>-<random>`, 0600, O_EXCL),
  fsyncs it, keeps the previous good file as `<name>.bak` (a hard link, so there is never a
  moment without a valid main file), renames the new file over the main one and fsyncs
  the directory. A killed writer leaves either the old file or the new one, never half.
- caches the parsed data keyed on the file's stat signature, so a repeated read is a stat.
- refuses to guess: a file that does not parse, or parses to the wrong shape (its
  `validate` check: every document of the store is checked field by field), raises
  `StoreCorrupt` naming the file, the document and the field, and the backup; it is never
  overwritten (writes are refused while it is corrupt), and since a write is only made over
  a file that validated, the `.bak` it keeps is always a version that validated.
- reads through `cockpit.safefile`: a FIFO, device, socket or directory where the file
  should be, a file over STORE_LIMIT bytes or JSON nested deeper than MAX_DEPTH is refused
  the same way; a file that cannot be opened (its mode) raises `StoreUnreadable`.
- batches: inside `transaction()` TinyDB's reads and writes go to a private copy, written
  once at the end (one fsync for any number of table operations).

Locking across processes is `StoreLock`'s job; `transaction()` takes the file's lock and
makes a read-modify-write isolated. A TinyDB write outside a transaction is still atomic,
and refused (StoreConflict) if another writer changed the file since it was read.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
from tinydb.storages import Storage

from cockpit.domain.errors import CockpitError
from cockpit.safefile import (
    MAX_DEPTH,
    STORE_LIMIT,
    UnsafeFile,
    depth_problem,
    read_file,
    too_deep,
)
from cockpit.store.lock import DEFAULT_TIMEOUT, StoreLock

Data = dict[str, dict[str, Any]]
Signature = tuple[int, int, int, int, int]
#: Checks a parsed file's shape; raises ValueError naming the document and the field.
Validator = Callable[[Data], None]

#: A temp file older than this is a leftover even if a process with its pid is alive.
STALE_TEMP_SECONDS = 600.0


class StoreCorrupt(CockpitError):
    """A data file cannot be read. It is left untouched; its backup may be restored."""

    def __init__(self, path: Path, backup: Path | None, detail: str = "") -> None:
        self.path = Path(path)
        self.backup = backup
        self.detail = detail
        what = f"the data file {self.path} cannot be used"
        if detail:
            what += f" ({detail})"
        what += "; it has been left untouched and cockpit will not write to it."
        if backup is not None:
            how = (
                f" A backup of its previous version exists: {backup}. cockpit offers to "
                "restore it when it starts (the damaged file is kept as "
                f"{self.path.name}.corrupt-<time>); by hand: move {self.path.name} aside, "
                f"then copy {backup.name} to {self.path.name}."
            )
        else:
            how = (
                f" There is no usable backup ({backup_path(self.path).name} is missing or "
                "unreadable too): repair the file by hand or move it aside to start it empty."
            )
        super().__init__(what + how)


class StoreUnreadable(CockpitError):
    """A data file that cockpit may not open (its mode, its owner). It is not damaged, and
    nothing is written until it can be read."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = Path(path)
        super().__init__(
            f"the data file {path} {problem}. cockpit will not write to it until it can "
            "read it: give the user running cockpit read and write access (chmod 600, or "
            "chown to that user)."
        )


class StoreLockUnusable(CockpitError):
    """A lock file that cannot be opened as a lock (a directory in its place, its mode)."""

    def __init__(self, lock_path: Path, problem: str) -> None:
        self.path = Path(lock_path)
        super().__init__(
            f"the lock file {lock_path} {problem}, so the data file it guards cannot be "
            f"written safely; nothing was changed. Remove {lock_path.name} (cockpit creates "
            "it again) or give it back to the user running cockpit."
        )


class _FileLock(StoreLock):
    """A StoreLock that names its lock file when that file cannot be used as one."""

    def _flock(self, start: float, limit: float) -> int:
        try:
            st = os.stat(self.lock_path)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise StoreLockUnusable(self.lock_path, f"cannot be used: {e.strerror}") from None
        else:
            if not stat.S_ISREG(st.st_mode):
                kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
                raise StoreLockUnusable(self.lock_path, f"is {kind}")
        try:
            return super()._flock(start, limit)
        except OSError as e:
            raise StoreLockUnusable(self.lock_path, f"cannot be opened: {e.strerror}") from None


class StoreWriteError(CockpitError):
    """A write could not be made (full disk, read-only file system …). Nothing changed:
    the previous version of the file is intact."""

    def __init__(self, path: Path, error: OSError) -> None:
        self.path = Path(path)
        self.error = error
        reason = error.strerror or str(error)
        super().__init__(
            f"could not write {self.path}: {reason}. Nothing was changed: the file and its "
            "previous version are as they were. Free some space (or fix the file system) "
            "and try again."
        )


class StoreConflict(CockpitError):
    """A write outside `transaction()` found the file changed since it was read."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        super().__init__(
            f"{path} was changed by another writer between reading and writing it; "
            "nothing was written: try again"
        )


def backup_path(path: Path) -> Path:
    """Where the previous good version of `path` is kept."""
    return path.with_name(path.name + ".bak")


def ensure_private_dir(path: Path) -> str | None:
    """Create `path` (and missing parents) as 0700; tighten it if it is open to others.

    Returns a warning when it stays writable by other users (it belongs to someone else,
    e.g. a root-owned 0777 directory): whoever can write there can replace cockpit's data.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    if st.st_mode & 0o077 and st.st_uid == os.getuid():
        path.chmod(0o700)
        st = path.stat()
    if not stat.S_ISDIR(st.st_mode) or not st.st_mode & 0o022:
        return None
    who = (
        "group and others"
        if st.st_mode & 0o022 == 0o022
        else ("others" if st.st_mode & 0o002 else "its group")
    )
    return (
        f"the data directory {path} is writable by {who} (mode "
        f"{stat.S_IMODE(st.st_mode):04o}, owner uid {st.st_uid}; cockpit runs as uid "
        f"{os.getuid()}): anyone who can write there can change or replace cockpit's data. "
        "Use a directory only you can write to (COCKPIT_DATA_DIR or --data-dir), or chmod 700 it."
    )


class _NonFinite(ValueError):
    pass


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NonFinite(text)
    return value


def _no_constant(text: str) -> float:
    raise _NonFinite(text)


def _find_non_finite(data: object) -> str:
    """Where in parsed data a NaN/Infinity sits, as "table t, document d, field f"."""
    stack: list[tuple[object, list[str]]] = [(data, [])]
    while stack:
        value, where = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return where_of(where)
        if isinstance(value, dict):
            stack.extend((v, [*where, str(k)]) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, [*where, str(i)]) for i, v in enumerate(value))
    return "somewhere"


def where_of(steps: list[str]) -> str:
    """["timeline", "3", "at"] → "table 'timeline', document 3, field at"."""
    parts = []
    if steps:
        parts.append(f"table {steps[0]!r}")
    if len(steps) > 1:
        parts.append(f"document {steps[1]}")
    if len(steps) > 2:
        parts.append("field " + ".".join(steps[2:]))
    return ", ".join(parts)


def parse(raw: bytes, validate: Validator | None = None, *, depth_check: bool = True) -> Data:
    """Parse a storage file's bytes; ValueError (saying what is wrong) if it is not one,
    or (with `validate`) if it does not have the shape of one."""
    if not raw.strip():
        raise ValueError("the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 at byte {e.start}") from None
    try:
        data = json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
    except _NonFinite as e:
        # find it for the message (Python's own reader accepts NaN, Infinity and 1e999)
        try:
            where = _find_non_finite(json.loads(text))
        except (ValueError, RecursionError):
            where = "a value"
        raise ValueError(
            f"{where}: {e.args[0]} is not a number JSON allows (NaN, Infinity or out of range)"
        ) from None
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise ValueError(f"the JSON {depth_problem()}") from None
    if depth_check and too_deep(data, MAX_DEPTH):
        raise ValueError(f"the JSON {depth_problem()}")
    if not isinstance(data, dict):
        raise ValueError("not a database: the top level is not an object")
    for name, table in data.items():
        if not isinstance(table, dict) or not all(isinstance(d, dict) for d in table.values()):
            raise ValueError(f"not a database: table {name!r} is not a set of documents")
    if validate is not None:
        validate(data)
    return data


def _changed_too_deep(data: Data, base: Data, fresh: Data) -> bool:
    """Whether a document of `data` (a transaction's copy of `base`, changed) nests too
    deeply once written (`fresh`, `data` parsed back). The depth of the file is that of
    its deepest document plus two (the file, the table); a document whose fields are
    all base's own objects (`_copy` shares them; TinyDB replaces a field, it never
    changes one in place) is base's, which was read (or written) checked, and is not
    walked again: in a long incident's file, one write's few documents are."""
    for name, table in data.items():
        old_table = base.get(name) or {}
        for key, doc in table.items():
            old = old_table.get(key)
            if _same_fields(doc, old):
                continue
            if too_deep(fresh[name][key], MAX_DEPTH - 2):
                return True
    return False


def _same_fields(doc: dict[str, Any], old: dict[str, Any] | None) -> bool:
    """Whether `doc` holds `old`'s fields, the very same objects (a copy `_copy` made)."""
    if old is None or len(old) != len(doc):
        return False
    return all(doc.get(f, _ABSENT) is v for f, v in old.items())


_ABSENT = object()


def _read(path: Path) -> tuple[bytes, os.stat_result]:
    """A store file's bytes: the safe read (regular file, size limit, never a FIFO)."""
    return read_file(path, limit=STORE_LIMIT)


def serialize(data: Data) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def signature(st: os.stat_result) -> Signature:
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)


def file_signature(path: Path) -> Signature | None:
    try:
        return signature(os.stat(path))
    except FileNotFoundError:
        return None


def _copy(data: Data) -> Data:
    """A copy deep enough for TinyDB, which replaces tables and updates documents in place."""
    return {name: {k: dict(doc) for k, doc in table.items()} for name, table in data.items()}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_new(path: Path, raw: bytes) -> None:
    """Create `path` (0600, must not exist) holding `raw`, flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with open(fd, "wb", closefd=True) as f:
        f.write(raw)
        f.flush()
        os.fsync(f.fileno())


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_TEMP = re.compile(r"\.(?P<name>.+)\.tmp-(?P<pid>[0-9]+)-[0-9a-f]+")


def sweep_temp_files(
    path: Path, *, all_in_dir: bool = False, now: float | None = None
) -> list[Path]:
    """Remove temp files that killed writers of `path` (or, with `all_in_dir`, of any file
    in its directory) left behind; return what was removed.

    A temp file is stale when the process named in it is gone, or when it is older than
    STALE_TEMP_SECONDS. Readers never look at temp files, so leftovers are harmless anyway.
    """
    directory = path if all_in_dir else path.parent
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if not entry.name.startswith("."):  # (cheap: a directory of thousands of files)
            continue
        m = _TEMP.fullmatch(entry.name)
        if m is None or (not all_in_dir and m["name"] != path.name):
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except FileNotFoundError:
            continue
        pid = int(m["pid"])
        mine = pid == os.getpid()
        if age > STALE_TEMP_SECONDS or (not mine and (pid <= 0 or not _pid_alive(pid))):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


class _Snapshot(msgspec.Struct, frozen=True):
    sig: Signature | None  # None: the file does not exist
    raw: bytes
    data: Data | None


_MISSING = _Snapshot(None, b"", None)


class SafeJSONStorage(Storage):
    """TinyDB storage: atomic, fsynced, backed up, cached, and never overwriting a bad file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lock_timeout: float = DEFAULT_TIMEOUT,
        validate: Validator | None = None,
        depth_check: bool = True,
        swept: bool = False,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.validate = validate
        #: False for a file whose `validate` looks at every level of every document (the
        #: scan for deep nesting costs more than parsing a file of thousands of them)
        self.depth_check = depth_check
        self.lock: StoreLock = _FileLock(self.path, timeout=lock_timeout)
        self._cache = _MISSING
        self._cache_mutex = threading.Lock()
        self._local = threading.local()
        #: the killed writers' temp files of this file are swept before its first write
        #: (a listing of its directory), unless its owner sweeps that directory itself: the
        #: store, for the incident files (a directory that grows with the history)
        self._swept = swept

    def __repr__(self) -> str:
        return f"SafeJSONStorage({str(self.path)!r})"

    # -- TinyDB's interface -----------------------------------------------------------
    def read(self) -> Data | None:
        view: Data | None = getattr(self._local, "view", None)
        if view is not None:
            return view
        snap = self._snapshot(verify=False)
        self._local.read_raw = snap.raw
        return None if snap.data is None else _copy(snap.data)

    def write(self, data: Data) -> None:
        """Outside a transaction this is optimistic: if the file changed since this thread
        last read it (another process wrote), StoreConflict rather than a lost update."""
        mode = getattr(self._local, "mode", None)
        if mode == "transaction":
            self._local.view = data
            self._local.dirty = True
            return
        if mode == "reading":
            raise RuntimeError(f"{self!r}: write inside reading()")
        with self.lock:
            current = self._snapshot(verify=True)  # refuses a file that does not parse
            read_raw: bytes | None = getattr(self._local, "read_raw", None)
            if read_raw is not None and read_raw != current.raw:
                raise StoreConflict(self.path)
            self._commit(data)
            self._local.read_raw = None

    def close(self) -> None:
        with self._cache_mutex:
            self._cache = _MISSING

    # -- batching ---------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the file's lock; TinyDB operations inside go to a private copy that is
        written (once, fsynced) when the block ends without an exception."""
        mode = getattr(self._local, "mode", None)
        if mode == "transaction":
            yield  # nested: part of the outer transaction
            return
        if mode is not None:
            raise RuntimeError(f"{self!r}: transaction inside reading()")
        with self.lock:
            snap = self._snapshot(verify=True)
            self._local.view = {} if snap.data is None else _copy(snap.data)
            self._local.dirty = False
            self._local.mode = "transaction"
            try:
                yield
                if self._local.dirty:
                    self._commit(self._local.view, base=snap.data)
            finally:
                self._local.view = None
                self._local.dirty = False
                self._local.mode = None

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """A consistent, lock-free view of the file for several reads (one copy, one stat)."""
        if getattr(self._local, "mode", None) is not None:
            yield
            return
        snap = self._snapshot(verify=False)
        self._local.view = {} if snap.data is None else _copy(snap.data)
        self._local.mode = "reading"
        try:
            yield
        finally:
            self._local.view = None
            self._local.mode = None

    def peek(self) -> tuple[Signature | None, Data | None]:
        """The file's signature and parsed content, without the copy `read` makes: for a
        caller that only reads it (and must not change it). (None, None): no file."""
        snap = self._snapshot(verify=False)
        return snap.sig, snap.data

    def replace_all(self, data: Data) -> None:
        """Write `data` as the whole file, under its lock, whatever the file holds now (a
        derived file made again; a damaged one should be moved aside first, or it becomes
        the backup)."""
        with self.lock:
            self._commit(data)

    # -- the file ---------------------------------------------------------------------
    def signature(self) -> Signature | None:
        return file_signature(self.path)

    def _corrupt(self, detail: str) -> StoreCorrupt:
        return StoreCorrupt(self.path, usable_backup(self.path, self.validate), detail)

    def _snapshot(self, *, verify: bool) -> _Snapshot:
        """The file's current content. `verify`: compare bytes, not just the stat signature
        (used under the lock before a write, where a stale cache would lose data)."""
        with self._cache_mutex:
            cached = self._cache
        if not verify and cached.sig is not None and cached.sig == self.signature():
            return cached
        for _attempt in range(5):
            try:
                raw, st = _read(self.path)
            except UnsafeFile as e:
                if e.missing:
                    if backup_path(self.path).exists():
                        raise self._corrupt("the file is missing but its backup exists") from None
                    snap = _MISSING
                    break
                if "permission denied" in e.problem:
                    raise StoreUnreadable(self.path, e.problem) from None
                raise self._corrupt(f"it {e.problem}") from None
            sig = signature(st)
            if cached.sig is not None and cached.raw == raw:
                snap = _Snapshot(sig, raw, cached.data)
                break
            try:
                data = parse(raw, self.validate, depth_check=self.depth_check)
                snap = _Snapshot(sig, raw, data)
            except ValueError as e:
                if file_signature(self.path) != sig:
                    continue  # replaced while we read it (only without the lock): read again
                raise self._corrupt(str(e)) from None
            break
        else:  # pragma: no cover - a file replaced five times during one read
            raise self._corrupt("it kept changing while being read")
        with self._cache_mutex:
            self._cache = snap
        return snap

    def _commit(self, data: Data, *, base: Data | None = None) -> None:
        """Atomically replace the file with `data`; return once it is on disk. `base`:
        the file's content `data` was made from (a transaction's copy of it): only the
        documents that are not base's own are looked at for their depth."""
        raw = serialize(data)
        # (refuses, before anything is written, what could not be read)
        fresh = parse(raw, depth_check=base is None)
        if base is not None and _changed_too_deep(data, base, fresh):
            raise ValueError(f"the JSON {depth_problem()}")
        directory = self.path.parent
        ensure_private_dir(directory)
        if not self._swept:
            sweep_temp_files(self.path)
            self._swept = True
        tmp = _temp_name(self.path)
        try:
            _write_new(tmp, raw)
            self._keep_backup()
            os.replace(tmp, self.path)
        except BaseException as e:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(e, OSError):  # a full disk, a read-only mount, a lost device
                raise StoreWriteError(self.path, e) from e
            raise
        _fsync_dir(directory)
        snap = _Snapshot(file_signature(self.path), raw, fresh)
        with self._cache_mutex:
            self._cache = snap

    def _keep_backup(self) -> None:
        """Make the current main file `<name>.bak`, leaving the main file in place."""
        bak = backup_path(self.path)
        bak_tmp = self.path.with_name(self.path.name + ".bak.tmp")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(bak_tmp)  # a leftover of a killed writer
        try:
            os.link(self.path, bak_tmp)
        except FileNotFoundError:
            return  # the first write: nothing to keep
        except OSError:  # a file system without hard links: copy
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                return
            _write_new(bak_tmp, raw)
        os.replace(bak_tmp, bak)


def usable_backup(path: Path, validate: Validator | None = None) -> Path | None:
    """`<path>.bak` if it is a regular file that parses and validates, else None."""
    bak = backup_path(path)
    try:
        parse(_read(bak)[0], validate)
    except (UnsafeFile, ValueError):
        return None
    return bak


def restore_backup(
    path: Path, *, force: bool = False, validate: Validator | None = None
) -> Path | None:
    """Put `<path>.bak` in place of a damaged (or missing) `path`: one that does not parse,
    does not validate (`validate`, the store's check of its shape), or is not a regular
    file at all (a directory, a FIFO).

    The damaged file is kept as `<name>.corrupt-<UTC time>`; its path is returned (None
    when there was no main file). A readable main file is left alone unless `force`.
    """
    path = Path(path)
    bak = backup_path(path)
    with _FileLock(path):
        try:
            raw = _read(bak)[0]
        except UnsafeFile as e:
            if e.missing:
                raise CockpitError(
                    f"there is no backup of {path} to restore ({bak} does not exist)"
                ) from None
            raise CockpitError(f"the backup {e}; not restoring") from None
        try:
            parse(raw, validate)
        except ValueError as e:
            raise CockpitError(
                f"the backup {bak} cannot be used either ({e}); not restoring"
            ) from None
        regular = True
        current: bytes | None = None
        try:
            current = _read(path)[0]
        except UnsafeFile as e:
            if not e.missing:
                if "permission denied" in e.problem:
                    raise CockpitError(f"{e}; not restoring") from None
                regular = False  # a directory, a FIFO, a device, too large: move it aside
        if current is not None and not force:
            try:
                parse(current, validate)
            except ValueError:
                pass
            else:
                raise CockpitError(f"{path} is readable: there is nothing to restore")
        kept: Path | None = None
        if current is not None or not regular:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            kept = path.with_name(f"{path.name}.corrupt-{stamp}")
            n = 1
            while os.path.lexists(kept):
                n += 1
                kept = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
            if not regular:
                os.rename(path, kept)  # (a directory cannot be replaced by a file)
            else:
                try:
                    os.link(path, kept)
                except OSError:  # no hard links here: copy the damaged bytes
                    assert current is not None
                    _write_new(kept, current)
        tmp = _temp_name(path)
        try:
            _write_new(tmp, raw)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(path.parent)
        return kept

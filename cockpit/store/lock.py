"""One exclusive lock per store file: safe across threads and across processes.

A `StoreLock` is a `threading.RLock` (threads of this process, re-entrant) plus an
`fcntl.flock` on `<file>.lock` (other processes: the CLI while the app runs, a second
cockpit). The kernel drops a flock when its process dies, so a killed writer never leaves
a stale lock behind. The lock file is opened on the first acquire and closed on the last
release, so a thousand shards never hold a thousand file descriptors.

Two `StoreLock` objects on the same file exclude each other (flock is per open file), so
within one thread always go through the same object when nesting.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path
from types import TracebackType

from cockpit.domain.errors import CockpitError

DEFAULT_TIMEOUT = 10.0
_FIRST_WAIT = 0.0002
_MAX_WAIT = 0.005


class StoreBusy(CockpitError):
    """Another process (or thread) held a store file's lock for longer than the timeout."""

    def __init__(self, path: Path, waited: float, *, by_thread: bool = False) -> None:
        self.path = path
        self.waited = waited
        who = "another thread of this cockpit" if by_thread else "another cockpit process"
        super().__init__(
            f"the data file {path} is busy: {who} has held its lock ({path.name}.lock) "
            f"for {waited:.1f} s. A lock goes away when its process exits, so that process is "
            "still running: wait for it or stop it, then try again."
        )


class StoreLock:
    """An exclusive, re-entrant, process-safe lock for one store file."""

    def __init__(self, path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.timeout = timeout
        self._rlock = threading.RLock()
        self._depth = 0  # only touched by the thread that holds _rlock
        self._owner: int | None = None
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"StoreLock({str(self.path)!r}, held={self._depth > 0})"

    @property
    def held_by_me(self) -> bool:
        return self._owner == threading.get_ident()

    @property
    def busy(self) -> bool:
        """True while some thread of this process holds it (a hint, not a guarantee)."""
        return self._owner is not None

    def acquire(self, timeout: float | None = None) -> None:
        limit = self.timeout if timeout is None else timeout
        start = time.monotonic()
        if not self._rlock.acquire(timeout=max(limit, 0.0)):
            raise StoreBusy(self.path, time.monotonic() - start, by_thread=True)
        try:
            if self._depth == 0:
                self._fd = self._flock(start, limit)
                self._owner = threading.get_ident()
            self._depth += 1
        except BaseException:
            self._rlock.release()
            raise

    def _flock(self, start: float, limit: float) -> int:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            wait = _FIRST_WAIT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    pass
                waited = time.monotonic() - start
                if waited >= limit:
                    raise StoreBusy(self.path, waited)
                time.sleep(min(wait, limit - waited))
                wait = min(wait * 2, _MAX_WAIT)
        except BaseException:
            os.close(fd)
            raise

    def release(self) -> None:
        if self._owner != threading.get_ident():
            raise RuntimeError(f"{self!r} released by a thread that does not hold it")
        self._depth -= 1
        if self._depth == 0:
            fd, self._fd, self._owner = self._fd, None, None
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                finally:
                    os.close(fd)
        self._rlock.release()

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

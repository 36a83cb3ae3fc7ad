"""The feed cache: messages seen in the feed, kept on disk so the screen can hold only the
newest few thousand (older ones stay here) and a restarted cockpit shows its feed at once.

Append-only JSON lines, one file per UTC day (`feed/2026-11-27.jsonl`, 0600), each append
fsynced. A line cut short by a crash is skipped when read. Files older than `keep_days`
are removed. Nothing here is an incident's record: losing the cache loses no work.

The feed hands new messages to `append_soon`, which returns at once: a thread of the
cache's own writes them, in order, as few fsyncs as it can (everything queued meanwhile
goes in one). The feed's loop, which also answers Slack's Socket Mode (an envelope not
acknowledged within 3 s is sent again), never waits for the disk.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.safefile import STORE_LIMIT, UnsafeFile, read_file
from cockpit.store.storage import ensure_private_dir

if TYPE_CHECKING:
    from cockpit.domain.feed import FeedMessage

log = logging.getLogger(__name__)


class FeedCache:
    def __init__(self, data_dir: Path, *, keep_days: int = 7) -> None:
        self.dir = Path(data_dir) / "feed"
        self.keep_days = keep_days
        self._lock = threading.Lock()
        # what append_soon queued (its writer thread takes all of it at once)
        self._queue: list[tuple[list[FeedMessage], Callable[[OSError], None] | None]] = []
        self._queued = threading.Condition()
        self._busy = False  # the writer holds a batch it took from the queue
        self._writer: threading.Thread | None = None

    def _file(self, day: str) -> Path:
        return self.dir / f"{day}.jsonl"

    def append(self, messages: Iterable[FeedMessage]) -> int:
        """Write messages (grouped by their UTC day) and fsync; returns how many."""
        by_day: dict[str, list[str]] = {}
        for m in messages:
            line = json.dumps(m.to_dict(), ensure_ascii=False, separators=(",", ":"))
            by_day.setdefault(m.at.astimezone(UTC).strftime("%Y-%m-%d"), []).append(line)
        if not by_day:
            return 0
        count = 0
        with self._lock:
            ensure_private_dir(self.dir)
            for day, lines in by_day.items():
                path = self._file(day)
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC
                fd = os.open(path, flags, 0o600)  # (O_NONBLOCK: a FIFO never hangs)
                try:
                    if not stat.S_ISREG(os.fstat(fd).st_mode):
                        raise OSError(errno.EINVAL, f"{path} is not a regular file")
                    os.write(fd, ("\n".join(lines) + "\n").encode("utf-8"))
                    os.fsync(fd)
                finally:
                    os.close(fd)
                count += len(lines)
        return count

    def append_soon(
        self,
        messages: Iterable[FeedMessage],
        on_error: Callable[[OSError], None] | None = None,
    ) -> None:
        """Queue messages for `append` on the cache's writer thread and return at once.
        `on_error` is called (on that thread) when the write fails."""
        batch = list(messages)
        if not batch:
            return
        with self._queued:
            self._queue.append((batch, on_error))
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(
                    target=self._write_queued, name="feed-cache-writer", daemon=True
                )
                self._writer.start()
            self._queued.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything `append_soon` queued is written (or failed); False when
        `timeout` passed first."""
        with self._queued:
            return self._queued.wait_for(lambda: not self._queue and not self._busy, timeout)

    def _write_queued(self) -> None:
        while True:
            with self._queued:
                if not self._queued.wait_for(lambda: bool(self._queue), timeout=30.0):
                    self._writer = None  # idle: the next append_soon starts another
                    return
                queued, self._queue = self._queue, []
                self._busy = True
            try:
                messages = [m for batch, _ in queued for m in batch]
                try:
                    self.append(messages)
                except OSError as e:
                    for on_error in {id(f): f for _, f in queued if f is not None}.values():
                        try:
                            on_error(e)
                        except Exception:  # the writer goes on whatever a caller does
                            log.exception("feed cache: reporting a failed write failed")
            finally:
                with self._queued:
                    self._busy = False
                    self._queued.notify_all()

    def recent(self, limit: int = 500) -> list[FeedMessage]:
        """The newest `limit` distinct messages, oldest first."""
        if not self.dir.is_dir():
            return []
        from cockpit.domain.feed import FeedMessage  # (the feed's classes load when used)

        seen: dict[tuple[str, str], FeedMessage] = {}
        for path in sorted(self.dir.glob("*.jsonl"), reverse=True):
            try:  # a regular file of bounded size: never a FIFO, a device, a directory
                data, _st = read_file(path, limit=STORE_LIMIT)
            except UnsafeFile:
                continue  # the cache is a convenience: a file it cannot read is skipped
            raw = data.decode("utf-8", errors="replace").splitlines()
            for line in reversed(raw):
                try:
                    m = FeedMessage.from_dict(json.loads(line))
                except (ValueError, KeyError, TypeError, AttributeError, AssertionError):
                    continue  # a line cut short by a crash, or not ours
                except RecursionError:
                    continue  # nested absurdly deep: not ours
                seen.setdefault(m.key, m)
            if len(seen) >= limit:
                break
        newest = sorted(seen.values(), key=lambda m: (m.at, m.ts))
        return newest[-limit:]

    def prune(self, *, now: datetime) -> int:
        """Remove files older than keep_days; returns how many."""
        if not self.dir.is_dir():
            return 0
        cutoff = (now - timedelta(days=self.keep_days)).astimezone(UTC).strftime("%Y-%m-%d")
        removed = 0
        for path in self.dir.glob("*.jsonl"):
            if path.stem < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

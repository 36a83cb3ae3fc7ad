"""The feed cache: messages seen in the feed, kept on disk so the screen can hold only the
newest few thousand (older ones stay here) and a restarted cockpit shows its feed at once.

Append-only JSON lines, one file per UTC day (`feed/2026-11-27.jsonl`, 0600), each append
fsynced. A line cut short by a crash is skipped when read. Files older than `keep_days`
are removed. Nothing here is an incident's record: losing the cache loses no work.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.safefile import STORE_LIMIT, UnsafeFile, read_file
from cockpit.store.storage import ensure_private_dir

if TYPE_CHECKING:
    from cockpit.domain.feed import FeedMessage


class FeedCache:
    def __init__(self, data_dir: Path, *, keep_days: int = 7) -> None:
        self.dir = Path(data_dir) / "feed"
        self.keep_days = keep_days
        self._lock = threading.Lock()

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

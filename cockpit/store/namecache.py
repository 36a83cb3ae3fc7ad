"""The names cache: who the ids in the feed are (people, channels, user groups, bots), as
the feed's `NameBook` (cockpit/integrations/names.py) last saved them, so a restarted
cockpit names its rows at once and looks nothing up again before it expires.

One JSON file in the data directory (`names.json`, 0600), replaced whole and crash-safely:
written to a temp file beside it, fsynced, renamed over it, the directory fsynced. A
killed writer leaves the previous file (and at most a temp file, swept at the next save).
A file that cannot be read (not JSON, too large, not a regular file, nested too deep) is
ignored and `problem` says why: nothing here is an incident's record, losing it costs a
few look-ups. It is then written over by the next save, as a cache may be.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from cockpit.safefile import UnsafeFile, depth_problem, json_too_deep, read_file
from cockpit.store.storage import _fsync_dir, _temp_name, ensure_private_dir, sweep_temp_files

NAMES_FILE = "names.json"
NAMES_LIMIT = 16_000_000  # 50,000 names at ~100 bytes each, with room to spare


class NameCache:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / NAMES_FILE
        self.problem: str | None = None  # why the file on disk was not used
        self._lock = threading.Lock()

    def load(self) -> dict[str, Any]:
        """The saved data ({} when there is none, or it cannot be used: see `problem`)."""
        try:
            raw, _st = read_file(self.path, limit=NAMES_LIMIT)
        except UnsafeFile as e:
            if not e.missing:
                self.problem = str(e)
            return {}
        if json_too_deep(raw):
            self.problem = f"{self.path}: {depth_problem()}"
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            self.problem = f"{self.path}: not valid JSON (ignored; it is rebuilt)"
            return {}
        if not isinstance(data, dict):
            self.problem = f"{self.path}: not a table of names (ignored; it is rebuilt)"
            return {}
        return data

    def save(self, data: dict[str, Any]) -> None:
        """Replace the file with `data`, crash-safely (OSError when it cannot be written)."""
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with self._lock:
            ensure_private_dir(self.path.parent)
            sweep_temp_files(self.path)
            tmp = _temp_name(self.path)
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                with open(fd, "wb", closefd=True) as f:
                    f.write(raw)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            _fsync_dir(self.path.parent)
            self.problem = None

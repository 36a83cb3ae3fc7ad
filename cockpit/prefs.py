"""Small UI preferences kept between runs (theme, last active incident): one JSON file,
written atomically, 0600. Losing it loses nothing of the incident."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from cockpit.domain.sanitize import sanitize_tree
from cockpit.safefile import UnsafeFile, depth_problem, read_file, too_deep

#: A preferences file is a few hundred bytes; anything over this is not one.
PREFS_LIMIT = 256_000


class Prefs:
    """`problem` says (naming the file) why an existing file was not used; such a file is
    left as it is: nothing is saved over it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {}
        self.problem: str | None = None
        try:
            raw, _st = read_file(path, limit=PREFS_LIMIT)
        except UnsafeFile as e:
            if not e.missing:
                self.problem = str(e)
            return
        try:
            loaded = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as e:
            kind = "nested too deeply" if isinstance(e, RecursionError) else "not valid JSON"
            self.problem = f"{path}: {kind}"
            return
        if not isinstance(loaded, dict):
            self.problem = f"{path}: not a table of preferences"
        elif too_deep(loaded):
            self.problem = f"{path}: {depth_problem()}"
        else:
            cleaned = sanitize_tree(loaded)
            assert isinstance(cleaned, dict)
            self.data = cleaned

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        if self.data.get(key) == value:
            return
        self.data[key] = value
        self.save()

    def save(self) -> None:
        if self.problem is not None:
            return  # a file that could not be read is never written over
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".prefs-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.data, f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

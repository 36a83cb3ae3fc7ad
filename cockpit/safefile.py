"""Reading a file cockpit did not write itself (or that may have been tampered with) safely.

Every file cockpit reads goes through `read_file`: it is stat'ed first and must be a regular
file (a FIFO would hang the read, a device such as /dev/zero never ends, a directory or a
socket is not a file); it is opened with O_NONBLOCK (so a FIFO swapped in after the stat
still cannot hang) and checked again on the open descriptor; at most `limit` bytes are read
and a longer file is refused. `check_depth` refuses JSON/TOML nested deeper than
MAX_DEPTH, before anything walks it recursively.

Every refusal is an `UnsafeFile` naming the file and what is wrong with it. Pure standard
library (importable by every layer, Textual-free).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import Any

from cockpit.domain.errors import CockpitError

#: How deep JSON/TOML may nest (cockpit's own files nest 4 deep at most).
MAX_DEPTH = 64
#: Default size limit: generous for a settings, playbook, template or scenario file.
SMALL_LIMIT = 1_000_000
#: A store file (one incident with its whole timeline, or the index of every incident).
STORE_LIMIT = 64_000_000


class UnsafeFile(CockpitError):
    """A file that cockpit refuses to read: the message names it and says why."""

    def __init__(self, path: Path | str, problem: str, *, missing: bool = False) -> None:
        self.path = Path(path)
        self.problem = problem
        self.missing = missing
        super().__init__(f"{path}: {problem}")


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words (None: a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a regular file; reading it could wait forever"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    return "is not a regular file"


def _denied(path: Path, e: OSError) -> UnsafeFile:
    if e.errno in (errno.EACCES, errno.EPERM):
        try:
            st = os.stat(path)
            how = f" (mode {stat.S_IMODE(st.st_mode):03o}, owner uid {st.st_uid}; "
            how += f"cockpit runs as uid {os.getuid()})"
        except OSError:
            how = f" (cockpit runs as uid {os.getuid()})"
        return UnsafeFile(path, "cannot be read: permission denied" + how)
    if e.errno == errno.ENOENT:
        return UnsafeFile(path, "does not exist", missing=True)
    return UnsafeFile(path, f"cannot be read: {e.strerror or e}")


def describe_size(n: int) -> str:
    return f"{n:,} bytes"


def read_file(path: Path | str, *, limit: int = SMALL_LIMIT) -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file `path` (at most `limit`) and its stat (of the open
    file). UnsafeFile (with `missing` set when it does not exist) otherwise."""
    path = Path(path)
    try:
        st = os.stat(path)
    except OSError as e:
        raise _denied(path, e) from None
    problem = _kind(st.st_mode)
    if problem is not None:
        raise UnsafeFile(path, problem)
    if st.st_size > limit:
        raise UnsafeFile(
            path, f"is too large ({describe_size(st.st_size)}; at most {describe_size(limit)})"
        )
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise _denied(path, e) from None
    try:
        st = os.fstat(fd)
        problem = _kind(st.st_mode)
        if problem is not None:  # replaced between the stat and the open
            raise UnsafeFile(path, problem)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            try:
                chunk = os.read(fd, min(limit + 1 - size, 1 << 20))
            except OSError as e:
                raise _denied(path, e) from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise UnsafeFile(path, f"is too large (more than {describe_size(limit)})")
    finally:
        os.close(fd)
    return b"".join(chunks), st


def read_text(path: Path | str, *, limit: int = SMALL_LIMIT) -> str:
    """`read_file` decoded as UTF-8 (UnsafeFile naming the byte if it is not)."""
    raw, _st = read_file(path, limit=limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UnsafeFile(path, f"is not UTF-8 text ({e.reason} at byte {e.start})") from None


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_PAIR = re.compile(rb"\[\]|\{\}")


def json_too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether valid JSON `raw` nests deeper than `limit` (strings skipped; no recursion:
    each pass removes the innermost brackets, so the passes needed are the depth)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = _PAIR.sub(b"", brackets)
    return bool(brackets)


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether parsed data (dicts and lists, empty ones too) nests deeper than `limit`.
    Recursive, but never more than `limit` calls deep (well within Python's limit): it
    stops at the first container past the limit."""
    return isinstance(value, dict | list) and _deeper(value, limit - 1)


def _deeper(container: dict[Any, Any] | list[Any], left: int) -> bool:
    """Whether a container inside `container` nests more than `left` levels."""
    for child in container.values() if isinstance(container, dict) else container:
        if isinstance(child, dict | list) and (left <= 0 or _deeper(child, left - 1)):
            return True
    return False


def depth_problem(limit: int = MAX_DEPTH) -> str:
    return f"is nested too deeply (more than {limit} levels of tables or lists)"

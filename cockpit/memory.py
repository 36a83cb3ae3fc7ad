"""Handing freed memory back to the system, for a cockpit left running through a shift.

Python frees what the program no longer holds, but glibc's malloc keeps the space it got
back for later use, in its heaps (the main one and one per thread that allocates). A
long run's churn (the feed's pages parsed and dropped, an incident's file serialised on
every write, on the store's thread and on the remote side's) leaves that space scattered
through them, and the process's resident memory creeps up over the hours though nothing
more is held: in the bench's twelve-hour soak, the heaps' free space grew from 6 to 10 MB.
`trim` asks glibc to return every whole free page (`malloc_trim(0)`: the heaps' tops are
cut and the free pages inside them released). It takes a millisecond or two; the app runs
it now and then on a thread of its own (`TRIM_EVERY`).

glibc also gives each thread that allocates a heap of its own, up to eight per core, and
each keeps its own scattered free space. `limit_heaps` caps them (`mallopt(M_ARENA_MAX)`)
before the remote side's threads start, so those threads share the heaps that exist: the
interpreter's lock lets one thread run Python at a time, so there is little contention to
spare. Both together took the soak's growth from +11.3 to +8.0 MB.

Elsewhere (macOS, musl) there is no such call and `trim` does nothing. No Textual here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("cockpit.memory")

TRIM_EVERY = 60.0  # seconds between two trims while the app runs
HEAPS = 2  # the most heaps (glibc's arenas) malloc keeps: the main one and one more
M_ARENA_MAX = -8  # mallopt's parameter (glibc's malloc.h)

_lock = threading.Lock()  # one trim at a time; the functions looked up once
_resolved = False
_malloc_trim: Callable[[int], Any] | None = None
_mallopt: Callable[[int, int], Any] | None = None


def _lookup(name: str, *argtypes: Any) -> Callable[..., Any] | None:
    """glibc's function `name`, or None where the C library has none."""
    try:
        import ctypes  # not at start-up: it costs a few ms to import

        fn = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    fn.argtypes = [getattr(ctypes, t) for t in argtypes]
    fn.restype = ctypes.c_int
    return fn  # type: ignore[no-any-return]


def available() -> bool:
    """Can `trim` hand memory back here (glibc)?"""
    global _resolved, _malloc_trim, _mallopt
    with _lock:
        if not _resolved:
            _malloc_trim = _lookup("malloc_trim", "c_size_t")
            _mallopt = _lookup("mallopt", "c_int", "c_int") if _malloc_trim else None
            _resolved = True
    return _malloc_trim is not None


def limit_heaps(most: int = HEAPS) -> bool:
    """Threads started from now on share the heaps that exist once there are `most`
    (glibc). Whether the limit was set."""
    if not available() or _mallopt is None:
        return False
    try:
        return bool(_mallopt(M_ARENA_MAX, most))
    except Exception:
        log.exception("mallopt failed")
        return False


def trim() -> bool:
    """Return the C heaps' free pages to the system. Whether anything was returned
    (False too where there is no malloc_trim)."""
    if not available():
        return False
    assert _malloc_trim is not None
    with _lock:
        try:
            return bool(_malloc_trim(0))
        except Exception:  # never worth a crash: the memory stays, as it would anyway
            log.exception("malloc_trim failed")
            return False

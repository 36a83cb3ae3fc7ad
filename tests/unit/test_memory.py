"""cockpit/memory.py: the C heaps' free pages go back to the system."""

from __future__ import annotations

import ctypes
import sys

import pytest

from cockpit import memory


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lookup done again, under the test's patches."""
    monkeypatch.setattr(memory, "_resolved", False)
    monkeypatch.setattr(memory, "_malloc_trim", None)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_memory_scattered_through_the_heap_goes_back(fresh: None) -> None:
    """A heap with one block in 16 still held: freed, its pages stay resident until the
    trim returns them."""
    if not memory.available():
        pytest.skip("no malloc_trim in this C library (not glibc)")
    # 80 MB of 2 kB blocks (malloc's, not Python's small-object allocator), by the heap
    blocks = [bytes(2048) for _ in range(40_000)]
    kept = blocks[::16]
    del blocks
    before = rss()
    assert memory.trim() is True
    after = rss()
    assert before - after > 30 * 1024 * 1024, (before, after)
    assert len(kept) == 2500  # still held, still readable
    assert all(b == bytes(2048) for b in kept)


def test_no_malloc_trim_means_nothing_is_done(fresh: None, monkeypatch: pytest.MonkeyPatch) -> None:
    class NoTrim:
        def __init__(self, name: object) -> None:
            pass

        def __getattr__(self, name: str) -> object:
            raise AttributeError(name)  # musl, macOS: no such symbol

    monkeypatch.setattr(ctypes, "CDLL", NoTrim)
    assert memory.available() is False
    assert memory.trim() is False


def test_a_failing_trim_is_logged_not_raised(
    fresh: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(pad: int) -> int:
        raise OSError("no")

    monkeypatch.setattr(memory, "_resolved", True)
    monkeypatch.setattr(memory, "_malloc_trim", broken)
    assert memory.trim() is False
    assert "malloc_trim failed" in caplog.text


ARENAS = """
import ctypes, sys, threading
from cockpit import memory
if sys.argv[1] == "limit":
    assert memory.limit_heaps(2)
both = threading.Barrier(7)
def work():
    held = [bytes(1000) for _ in range(1000)]  # malloc's (over 512 bytes), all at once
    both.wait()
    both.wait()
threads = [threading.Thread(target=work) for _ in range(6)]
for t in threads:
    t.start()
both.wait()
sys.stderr.flush()
ctypes.CDLL(None).malloc_stats()  # a paragraph per heap ("Arena N:"), to stderr
both.wait()
for t in threads:
    t.join()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize("mode", ["limit", "none"])
def test_threads_started_after_the_limit_share_two_heaps(mode: str) -> None:
    """Six threads allocating at once: a heap each (and the main one) unless limited."""
    import subprocess

    if not memory.available():
        pytest.skip("no malloc_trim in this C library (not glibc)")
    run = subprocess.run(
        [sys.executable, "-c", ARENAS, mode], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    heaps = sum(line.startswith("Arena ") for line in run.stderr.splitlines())
    if mode == "limit":
        assert heaps == 2, run.stderr
    else:  # glibc's own limit is eight a core: more than two on any machine
        assert heaps > 2, run.stderr

"""StoreLock: re-entrant per thread, exclusive across threads and processes, with a timeout."""

from __future__ import annotations

import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cockpit.domain.errors import CockpitError
from cockpit.store.lock import StoreBusy, StoreLock

HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()
"""


def test_reentrant_and_a_context_manager(tmp_path: Path) -> None:
    lock = StoreLock(tmp_path / "db.json")
    with lock, lock:
        assert lock.held_by_me
        lock.acquire(timeout=0)
        lock.release()
        assert lock.held_by_me
    assert not lock.held_by_me and not lock.busy
    assert stat.S_IMODE(lock.lock_path.stat().st_mode) == 0o600
    assert lock.lock_path == tmp_path / "db.json.lock"


def test_excludes_other_threads(tmp_path: Path) -> None:
    lock = StoreLock(tmp_path / "db.json")
    inside = 0
    most = 0
    counter = threading.Lock()

    def work() -> None:
        nonlocal inside, most
        for _ in range(50):
            with lock:
                with counter:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.0002)
                with counter:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 1


def test_release_by_another_thread_is_refused(tmp_path: Path) -> None:
    lock = StoreLock(tmp_path / "db.json")
    lock.acquire()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            lock.release()
        except RuntimeError as e:
            errors.append(e)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    lock.release()
    assert len(errors) == 1


def test_two_instances_on_one_file_exclude_each_other(tmp_path: Path) -> None:
    a = StoreLock(tmp_path / "db.json")
    b = StoreLock(tmp_path / "db.json", timeout=0.05)
    with a, pytest.raises(StoreBusy):
        b.acquire()
    with b:
        pass


def test_another_process_holding_it_times_out_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "index.json"
    lock = StoreLock(path, timeout=0.3)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock.lock_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        start = time.monotonic()
        with pytest.raises(StoreBusy) as info:
            lock.acquire()
        waited = time.monotonic() - start
        assert 0.3 <= waited < 2.0
        assert isinstance(info.value, CockpitError)
        assert str(path) in str(info.value)
        assert "another cockpit process" in str(info.value)
        assert not lock.busy
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=10)
    with lock:  # released when the holder exits
        pass


def test_a_killed_holder_does_not_leave_a_stale_lock(tmp_path: Path) -> None:
    lock = StoreLock(tmp_path / "db.json", timeout=5)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock.lock_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    holder.kill()
    holder.wait(timeout=10)
    start = time.monotonic()
    with lock:
        pass
    assert time.monotonic() - start < 1.0

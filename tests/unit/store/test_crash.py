"""Real processes: writers killed with SIGKILL at random, and two writers at once.

Each trial starts `_writer.py crash`, lets it write for 0–200 ms and kills it. Then the
store must open, and every write the writer reported done must be there. One data dir is
reused across all trials (so the index grows and earlier incidents must survive too).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cockpit.store.store import IncidentSummary, Store
from tests.unit.store._writer import make_incident

WRITER = Path(__file__).with_name("_writer.py")
TRIALS = 200
LANES = 2  # trials run two at a time against the same data dir
MAX_DELAY = 0.200


@dataclass
class Trial:
    delay: float
    incident_id: str | None = None
    done: list[str] = field(default_factory=list)
    ticks: dict[str, int] = field(default_factory=dict)  # item → highest seq reported done


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line != "ready\n":
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"writer did not start: {line!r}\n{err}")


def run_trial(data: Path, delay: float) -> Trial:
    trial = Trial(delay)
    proc = spawn("crash", str(data))
    ready(proc)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, err
    for line in out.splitlines():
        words = line.split()
        if words[0] == "created":
            trial.incident_id = words[1]
        elif words[0] == "done":
            trial.done.append(words[1])
            if len(words) == 5:  # done <entry> tick <item> <seq>
                trial.ticks[words[3]] = max(trial.ticks.get(words[3], 0), int(words[4]))
    return trial


def check(data: Path, trial: Trial) -> None:
    with Store.open(data) as store:  # never StoreCorrupt
        if trial.incident_id is None:
            return
        incident_id = trial.incident_id
        assert incident_id in {s.id for s in store.list_incidents()}
        assert store.get_incident(incident_id).title == "checkout is down"
        present = {e.id for e in store.timeline(incident_id)}
        missing = [e for e in trial.done if e not in present]
        assert not missing, f"lost {len(missing)} of {len(trial.done)} (delay {trial.delay:.3f})"
        ticks = store.ticks(incident_id)
        for item, seq in trial.ticks.items():
            assert int(ticks[item].by.removeprefix("seq-")) >= seq
        # its summary is the one its file gives (the other lane's writer may be between
        # its file and its summary now: only the killed writer's incident is checked)
        index_agrees(store, [incident_id])


def index_agrees(store: Store, ids: list[str] | None = None) -> None:
    """The summaries (of all, and of the open ones) are the ones their files give."""
    listed = store.list_incidents()
    opened = {s.id: s for s in store.list_incidents(open_only=True)}
    for s in listed:
        if ids is None or s.id in ids:
            assert s == IncidentSummary.of(store.get_incident(s.id)), f"stale summary of {s.id}"
            assert opened.get(s.id) == (s if s.is_open else None)


@pytest.mark.slow
def test_sigkill_never_loses_a_reported_write(tmp_path: Path) -> None:
    seed = int(os.environ.get("COCKPIT_CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    data = tmp_path / "data"
    Store.open(data).close()
    delays = [rng.uniform(0, MAX_DELAY) for _ in range(TRIALS)]
    start = time.monotonic()

    def lane(lane_delays: list[float]) -> Iterator[Trial]:
        for delay in lane_delays:
            trial = run_trial(data, delay)
            check(data, trial)
            yield trial

    with ThreadPoolExecutor(LANES) as pool:
        results = list(
            pool.map(lambda ds: list(lane(ds)), [delays[i::LANES] for i in range(LANES)])
        )
    trials = [t for lane_trials in results for t in lane_trials]
    elapsed = time.monotonic() - start

    created = [t for t in trials if t.incident_id]
    writes = sum(len(t.done) for t in trials)
    print(
        f"\nSIGKILL: {len(trials)} trials in {elapsed:.1f} s (seed {seed}), "
        f"{len(created)} killed after creating their incident, {writes} reported writes checked"
    )
    assert len(trials) == TRIALS
    # the trials must really have killed writers in the middle of writing
    assert len(created) >= TRIALS // 2
    assert writes >= TRIALS * 5
    with Store.open(data) as store:  # every incident of every trial is still readable
        listed = store.list_incidents()
        assert {t.incident_id for t in created} <= {s.id for s in listed}
        for s in listed:
            store.timeline(s.id)
            store.ticks(s.id)
        ids = [int(s.id) for s in listed]
        assert len(ids) == len(set(ids))
        assert int(store.next_incident_id()) > max(ids)
        index_agrees(store)
    # killed writers' temp files were swept when the store was opened
    assert [p.name for p in data.rglob("*.tmp-*")] == []


@pytest.mark.slow
def test_two_processes_writing_one_incident_lose_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        incident_id = store.next_incident_id()
        store.create_incident(make_incident(incident_id))
    writers = [spawn("entries", str(data), incident_id, "500", tag) for tag in ("A", "B")]
    for proc in writers:
        ready(proc)
    start = time.monotonic()
    for proc in writers:  # both start at once
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in writers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "finished"
    elapsed = time.monotonic() - start
    with Store.open(data) as store:
        entries = store.timeline(incident_id)
    print(f"\ntwo processes: 1000 entries (one fsynced write each) in {elapsed:.1f} s")
    assert len(entries) == 1000
    assert len({e.id for e in entries}) == 1000
    assert {e.text for e in entries} == {f"{tag} {n}" for tag in "AB" for n in range(500)}

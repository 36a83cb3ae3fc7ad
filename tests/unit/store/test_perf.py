"""A micro-measurement of the hot path: ticking an item with a large history in the index.

The budget (DESIGN.md §7) is p95 ≤ 10 ms per tick including fsync; the real benchmark is
in bench/. Here the numbers are printed and only a loose bound is asserted, so a slow CI
disk does not make the test flaky.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import timedelta
from pathlib import Path

from cockpit.domain.checklist import Tick
from cockpit.domain.timeline import EntryKind, TimelineEntry
from cockpit.store.store import IncidentSummary, Store
from tests.unit.store._writer import T0, make_entry, make_incident

HISTORY = 1000
ENTRIES = 50
ROUNDS = 200


def build_history(data: Path) -> None:
    """1,000 past incidents written straight to disk (through the API this takes minutes)."""
    incidents = data / "incidents"
    incidents.mkdir(parents=True, mode=0o700)
    summaries = {}
    for n in range(1, HISTORY + 1):
        incident = make_incident(str(n), f"past incident {n}", at=T0 - timedelta(days=n))
        entries = {
            str(k): make_entry(incident.id, f"note {k}", seconds=k).to_dict() for k in range(1, 4)
        }
        doc = {"incident": {"1": incident.to_dict()}, "timeline": entries}
        (incidents / f"{n}.json").write_text(json.dumps(doc))
        summaries[str(n)] = IncidentSummary.of(incident).to_dict()
    meta = {"1": {"v": 1, "key": "store", "last_incident_id": HISTORY}}
    (data / "index.json").write_text(json.dumps({"incidents": summaries, "meta": meta}))


def test_set_tick_timing_with_a_large_history(tmp_path: Path) -> None:
    data = tmp_path / "data"
    build_history(data)
    t = time.perf_counter()
    store = Store.open(data)
    open_ms = (time.perf_counter() - t) * 1e3
    t = time.perf_counter()
    listed = store.list_incidents()
    list_ms = (time.perf_counter() - t) * 1e3
    assert len(listed) == HISTORY

    incident_id = store.next_incident_id()
    store.create_incident(make_incident(incident_id))
    store.add_entries(
        incident_id, [make_entry(incident_id, f"note {k}", seconds=k) for k in range(ENTRIES)]
    )

    def measure(with_entry: bool) -> list[float]:
        times = []
        for n in range(ROUNDS):
            at = T0 + timedelta(minutes=n)
            item = f"item-{n % 20}"
            tick = Tick(item_id=item, ticked=n % 3 != 0, by="ann", at=at)
            entry = None
            if with_entry:
                entry = TimelineEntry.new(
                    incident_id,
                    kind=EntryKind.CHECK,
                    text=f"ticked {item}",
                    event_at=at,
                    recorded_at=at,
                    author="ann",
                )
            t = time.perf_counter()
            store.set_tick(incident_id, tick, entry)
            times.append((time.perf_counter() - t) * 1e3)
        return sorted(times)

    def show(times: list[float]) -> str:
        p95 = times[int(len(times) * 0.95) - 1]
        return f"p50 {statistics.median(times):.2f} ms, p95 {p95:.2f} ms, max {times[-1]:.2f} ms"

    alone = measure(with_entry=False)
    with_entry = measure(with_entry=True)
    store.close()
    print(
        f"\nset_tick, incident file with {ENTRIES} entries, index of {HISTORY + 1} incidents, "
        f"{ROUNDS} ticks each, fsync included:\n"
        f"  tick alone:                {show(alone)}\n"
        f"  tick + its timeline entry: {show(with_entry)} (file grows to "
        f"{ENTRIES + ROUNDS} entries)\n"
        f"  Store.open {open_ms:.1f} ms, list_incidents {list_ms:.1f} ms"
    )
    p95 = max(alone[int(ROUNDS * 0.95) - 1], with_entry[int(ROUNDS * 0.95) - 1])
    assert p95 < 100

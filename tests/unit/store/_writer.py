"""A store writer run as a subprocess by the crash and concurrency tests (and their helpers).

python _writer.py crash <data_dir>
    open the store, print "ready", create an incident ("created <id>"), then forever
    alternate add_entries and set_tick (every 7th write a change of its severity, which
    changes its summary), printing "done <entry-id>" (for a tick:
    "done <entry-id> tick <item-id> <seq>") after each write returns. Killed by the test.
python _writer.py entries <data_dir> <incident-id> <count> <tag>
    print "ready", wait for a line on stdin, add <count> entries one write each,
    print "finished".
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from cockpit.domain.checklist import Tick
from cockpit.domain.incident import Incident, Severity
from cockpit.domain.timeline import EntryKind, TimelineEntry
from cockpit.store import Store
from cockpit.store.store import IncidentChange

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def make_incident(
    incident_id: str, title: str = "checkout is down", *, at: datetime = T0, **kw: Any
) -> Incident:
    return Incident(id=incident_id, title=title, first_reported_at=at, created_at=at, **kw)


def make_entry(incident_id: str, text: str, *, seconds: float = 0.0) -> TimelineEntry:
    at = T0 + timedelta(seconds=seconds)
    return TimelineEntry.new(
        incident_id, kind=EntryKind.NOTE, text=text, event_at=at, recorded_at=at, author="w"
    )


def crash(data_dir: Path) -> None:
    out = sys.stdout
    store = Store.open(data_dir)
    out.write("ready\n")
    out.flush()
    incident_id = store.next_incident_id()
    store.create_incident(make_incident(incident_id), [make_entry(incident_id, "raised")])
    out.write(f"created {incident_id}\n")
    out.flush()
    seq = 0
    while True:
        seq += 1
        entry = make_entry(incident_id, f"note {seq}", seconds=seq)
        if seq % 7 == 0:  # a change of the summary: the journal, the file, the summaries
            severity = (Severity.MAJOR, Severity.MINOR, Severity.CRITICAL)[seq % 3]

            def change(c: IncidentChange, severity: Severity = severity) -> None:
                c.incident.severity = severity
                c.entries.append(entry)  # noqa: B023 (called at once)

            store.change(incident_id, change)
            out.write(f"done {entry.id}\n")
        elif seq % 2:
            store.add_entries(incident_id, [entry])
            out.write(f"done {entry.id}\n")
        else:
            item = f"item-{seq % 5}"
            tick = Tick(item_id=item, ticked=bool(seq % 4), by=f"seq-{seq}", at=entry.event_at)
            store.set_tick(incident_id, tick, entry)
            out.write(f"done {entry.id} tick {item} {seq}\n")
        out.flush()


def entries(data_dir: Path, incident_id: str, count: int, tag: str) -> None:
    store = Store.open(data_dir)
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(count):
        store.add_entries(incident_id, [make_entry(incident_id, f"{tag} {n}", seconds=n)])
    print("finished", flush=True)


if __name__ == "__main__":
    mode, data = sys.argv[1], Path(sys.argv[2])
    if mode == "crash":
        crash(data)
    elif mode == "entries":
        entries(data, sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        raise SystemExit(f"unknown mode {mode!r}")

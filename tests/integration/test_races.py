"""Racing writers lose nothing: processes changing one incident at once, each change
acknowledged only once it is on disk, and every acknowledged change is kept.

Each worker is a separate process with its own Store on the same data directory (as the
app and the CLI, or two cockpits sharing a data dir). Run alone:
    python -m pytest tests/integration/test_races.py -q
"""

from __future__ import annotations

import multiprocessing as mp
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cockpit.domain.incident import Role, Severity, Status
from cockpit.domain.timeline import EntryKind

ROUNDS = 40


def _service(data: str) -> Any:
    from cockpit.application.service import IncidentService
    from cockpit.domain.clock import SystemClock
    from cockpit.domain.playbook import default_playbook
    from cockpit.store.store import Store

    return IncidentService(
        Store.open(Path(data)),
        clock=SystemClock(),
        tz=UTC,
        user="racer",
        playbook=default_playbook(),
    )


def _field_worker(data: str, field: str, barrier: Any, out: Any) -> None:
    """Change one field ROUNDS times, in step with the other workers; report what was
    acknowledged."""
    svc = _service(data)
    acked = []
    levels = [Severity.MINOR, Severity.MAJOR, Severity.CRITICAL]
    for n in range(ROUNDS):
        barrier.wait()
        if field == "severity":
            level = levels[n % 3]  # always a change: this worker alone sets it
            svc.set_severity("1", level)
            acked.append(level.value)
        elif field == "commander":
            svc.assign("1", Role.COMMANDER, f"cmd-{n}")
            acked.append(f"cmd-{n}")
        elif field == "comms":
            svc.assign("1", Role.COMMS, f"comms-{n}")
            acked.append(f"comms-{n}")
        elif field == "note":
            entry = svc.add_note("1", f"note {n}")
            acked.append(entry.id)
    out.put((field, acked))
    svc.store.close()


def _run(target: Any, args_list: list[tuple[Any, ...]]) -> list[Any]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    barrier = ctx.Barrier(len(args_list))
    procs = [ctx.Process(target=target, args=(*args, barrier, out)) for args in args_list]
    for p in procs:
        p.start()
    results = [out.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return results


@pytest.mark.timeout(300)
def test_four_writers_on_every_field_lose_nothing(tmp_path: Path):
    data = tmp_path / "data"
    svc = _service(str(data))
    svc.raise_incident("Checkout failing", reported_at=datetime.now(UTC))
    svc.store.close()
    results = dict(
        _run(
            _field_worker,
            [(str(data), f) for f in ("severity", "commander", "comms", "note")],
        )
    )
    svc = _service(str(data))
    inc = svc.get("1")
    timeline = svc.store.timeline("1")
    # the last acknowledged value of each field is the one kept
    assert inc.severity is not None and inc.severity.value == results["severity"][-1]
    assert inc.commander == results["commander"][-1]
    assert inc.comms == results["comms"][-1]
    # and every acknowledged change is on the timeline
    sev_changes = [e for e in timeline if e.kind is EntryKind.SEVERITY]
    assert len(sev_changes) == len(results["severity"])
    roles = [e.text for e in timeline if e.kind is EntryKind.ROLE]
    for person in results["commander"] + results["comms"]:
        assert any(person in text for text in roles), person
    ids = {e.id for e in timeline}
    assert set(results["note"]) <= ids
    svc.store.close()


def _final_worker(data: str, status: str, barrier: Any, out: Any) -> None:
    """Each round: move incident N to `status` at the same moment as the other worker."""
    from cockpit.domain.errors import IllegalTransition

    svc = _service(data)
    won = []
    for n in range(1, ROUNDS + 1):
        barrier.wait()
        try:
            svc.set_status(str(n), Status(status), reason="not an incident")
            won.append(n)
        except IllegalTransition:
            pass
    out.put((status, won))
    svc.store.close()


@pytest.mark.timeout(300)
def test_competing_final_statuses_one_wins_every_time(tmp_path: Path):
    data = tmp_path / "data"
    svc = _service(str(data))
    for n in range(ROUNDS):
        inc = svc.raise_incident(f"incident {n}", reported_at=datetime.now(UTC))
        svc.set_status(inc.id, Status.FIXING)
    svc.store.close()
    results = dict(_run(_final_worker, [(str(data), "resolved"), (str(data), "canceled")]))
    assert sorted(results["resolved"] + results["canceled"]) == list(range(1, ROUNDS + 1))
    svc = _service(str(data))
    for n in range(1, ROUNDS + 1):
        inc = svc.get(str(n))
        winner = "resolved" if n in results["resolved"] else "canceled"
        assert inc.status.value == winner
        finals = [
            e
            for e in svc.store.timeline(str(n))
            if e.kind is EntryKind.STATUS and ("RESOLVED" in e.text or "CANCELED" in e.text)
        ]
        assert len(finals) == 1, [e.text for e in finals]
    svc.store.close()


def _finish_worker(data: str, role: str, barrier: Any, out: Any) -> None:
    """The outbox finishing (a link added to the incident, in a change of its own) against
    a person moving the same incident on, round after round."""
    import msgspec

    from cockpit.domain.incident import Link
    from cockpit.domain.timeline import TimelineEntry

    svc = _service(data)
    done = []
    for n in range(1, ROUNDS + 1):
        barrier.wait()
        if role == "person":
            svc.set_status(str(n), Status.FIXING)
            done.append(n)
        else:

            def finish(ch: Any, n: int = n) -> None:
                ch.incident.links.channel = Link(f"https://slack.example/C{n}", f"#incident-{n}")
                now = datetime.now(UTC)
                entry = TimelineEntry.new(
                    str(n),
                    kind=EntryKind.ACTION,
                    text="channel created",
                    event_at=now,
                    recorded_at=now,
                    author="outbox",
                )
                ch.entries.append(msgspec.structs.replace(entry, id=f"x{n}0done"))

            svc.store.change(str(n), finish)
            done.append(n)
    out.put((role, done))
    svc.store.close()


@pytest.mark.timeout(300)
def test_the_outbox_finishing_never_undoes_a_status_change(tmp_path: Path):
    data = tmp_path / "data"
    svc = _service(str(data))
    for n in range(ROUNDS):
        svc.raise_incident(f"incident {n}", reported_at=datetime.now(UTC))
    svc.store.close()
    _run(_finish_worker, [(str(data), "person"), (str(data), "outbox")])
    svc = _service(str(data))
    for n in range(1, ROUNDS + 1):
        inc = svc.get(str(n))
        assert inc.status is Status.FIXING
        assert inc.links.channel is not None and inc.links.channel.label == f"#incident-{n}"
    svc.store.close()

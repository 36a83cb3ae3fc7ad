"""An outbox's items ending one by one leave the index as it was: the summary's "needs the
sender" is settled once the outbox has stayed quiet, not on every write of a burst."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.application.sender import SETTLE_AFTER, OutboxSender
from cockpit.domain.clock import FrozenClock, SystemClock
from cockpit.domain.incident import Severity
from cockpit.domain.outbox import OutboxItem
from cockpit.store.store import IncidentChange, Store
from tests.unit.store._writer import make_incident


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "data") as s:
        yield s


def new_incident(store: Store) -> str:
    incident_id = store.next_incident_id()
    store.create_incident(make_incident(incident_id, "checkout is down"))
    return incident_id


def item(n: int, state: str) -> dict[str, Any]:
    return {"v": 1, "id": f"o{n}", "state": state}


def attention(store: Store) -> tuple[str, ...]:
    return store.list_incidents()[0].attention


def count_index_writes(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    writes: list[str] = []
    put = store._put_summary

    def counted(incident_id: str, *a: Any, **kw: Any) -> None:
        writes.append(incident_id)
        put(incident_id, *a, **kw)

    monkeypatch.setattr(store, "_put_summary", counted)
    return writes


def test_a_burst_of_queued_and_sent_items_writes_the_index_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = new_incident(store)
    writes = count_index_writes(store, monkeypatch)
    for n in range(10):  # a tick a keystroke, each told to the team: queued, then sent
        store.put_doc(a, "outbox", item(n, "queued"))
        store.put_doc(a, "outbox", item(n, "sending"))
        store.put_doc(a, "outbox", item(n, "sent"))
    assert writes == [a]  # the first queued item; every item after it left the index be
    assert attention(store) == ("outbox",)  # named until settled: the sender visits
    assert store.settle_summary(a) is True
    assert attention(store) == ()
    assert store.settle_summary(a) is False  # nothing to settle
    assert writes == [a, a]


def test_a_change_of_what_the_summary_shows_is_written_with_the_settled_flag(
    store: Store,
) -> None:
    a = new_incident(store)
    store.put_doc(a, "outbox", item(1, "queued"))

    def sent_and_raised(c: IncidentChange) -> None:
        c.put_doc("outbox", item(1, "sent"))
        c.incident.severity = Severity.CRITICAL

    store.change(a, sent_and_raised)
    summary = store.list_incidents()[0]
    assert summary.severity is Severity.CRITICAL
    assert summary.attention == ()


def test_a_new_pending_item_is_always_written(store: Store) -> None:
    a = new_incident(store)
    store.put_doc(a, "outbox", item(1, "queued"))
    store.put_doc(a, "outbox", item(1, "sent"))
    store.settle_summary(a)
    assert attention(store) == ()
    store.put_doc(a, "outbox", item(2, "queued"))
    assert attention(store) == ("outbox",)


def test_a_reopened_store_reads_the_summary_again(tmp_path: Path) -> None:
    """Crash-safe: the journal names the incident whose summary was written last, so a
    reopened store reads its file again, and the index never says less than the file."""
    with Store.open(tmp_path / "data") as store:
        a = new_incident(store)
        store.put_doc(a, "outbox", item(1, "queued"))
        store.put_doc(a, "outbox", item(1, "sent"))
        assert attention(store) == ("outbox",)
    with Store.open(tmp_path / "data") as store:
        assert attention(store) == ()


def real_item(store: Store, incident_id: str, clock: FrozenClock) -> OutboxItem:
    made = OutboxItem.new(incident_id, "slack.post", "a team post", {}, at=clock.now())
    store.put_doc(incident_id, "outbox", made.to_dict())
    return made


def make_sender(store: Store, clock: FrozenClock, now: list[float]) -> OutboxSender:
    return OutboxSender(
        store,
        actions=None,  # type: ignore[arg-type]  # (nothing is due: never called)
        clock=clock,
        user="ada",
        monotonic=lambda: now[0],
    )


def test_the_sender_settles_a_summary_after_a_quiet_while(store: Store) -> None:
    clock = FrozenClock(SystemClock().now())
    a = new_incident(store)
    sent = real_item(store, a, clock).sent(at=clock.now())
    store.put_doc(a, "outbox", sent.to_dict())
    assert attention(store) == ("outbox",)
    now = [100.0]
    sender = make_sender(store, clock, now)
    assert asyncio.run(sender.drain()) == 0
    assert attention(store) == ("outbox",)  # quiet since now, not yet for long
    now[0] += SETTLE_AFTER - 0.1
    asyncio.run(sender.drain())
    assert attention(store) == ("outbox",)
    now[0] += 0.1
    asyncio.run(sender.drain())
    assert attention(store) == ()  # settled: later rounds pass it by


def test_a_pending_item_restarts_the_quiet_time(store: Store) -> None:
    clock = FrozenClock(SystemClock().now())
    a = new_incident(store)
    store.put_doc(a, "outbox", real_item(store, a, clock).sent(at=clock.now()).to_dict())
    now = [0.0]
    sender = make_sender(store, clock, now)
    sender._settle(a)  # quiet from 0
    now[0] += SETTLE_AFTER - 1
    waiting = real_item(store, a, clock)  # a new item: pending, so not quiet
    sender._settle(a)
    store.put_doc(a, "outbox", waiting.sent(at=clock.now()).to_dict())
    now[0] += 1.5  # quiet for a moment only, though the first quiet began 5.5 s ago
    sender._settle(a)
    assert attention(store) == ("outbox",)
    now[0] += SETTLE_AFTER
    sender._settle(a)
    assert attention(store) == ()

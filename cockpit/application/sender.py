"""The outbox sender: performs queued remote actions in order, exactly once.

Every item is in the store before it is attempted (see `cockpit.domain.outbox`). The
sender marks it SENDING (on disk) before the request leaves; if cockpit dies then, or the
answer is lost (a timeout after the request left), the item is *uncertain* and the next
attempt first asks the remote system whether the effect is there (see each system's
handlers in `cockpit.integrations`, found through its registry) before it tries again.
An action of several requests (a channel, then its topic) is a list of steps: each step
done is noted in the item on disk before the next one starts, so a later attempt (after a
failure, or in a fresh process) resumes at the first step not done, looks for that step's
effect first if it may have happened, and never redoes a step that is done; the item is
SENT only when every step is.
Items of one incident go in order; a failed one holds back those after it until the user
retries or discards it.

No Textual here: the app runs `OutboxSender.run` in a thread of its own with its own
event loop, the CLI drains it for the incident it changed, and the tests run it directly.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

import msgspec

from cockpit.application.outbox import (
    OUTBOX,
    keep_item,
    keep_item_in,
    outbox_item,
    outbox_items,
)
from cockpit.domain.clock import Clock
from cockpit.domain.errors import CockpitError
from cockpit.domain.outbox import OutboxItem, OutboxState, blocking
from cockpit.domain.timeline import EntryKind, TimelineEntry
from cockpit.integrations.errors import RemoteError
from cockpit.integrations.outbox import Outcome, RemoteActions
from cockpit.store.store import IncidentChange, Store

log = logging.getLogger("cockpit.outbox")

# an incident's outbox with nothing pending this many seconds (of the wall clock: a burst
# of keystrokes is) has its summary settled: no longer named as needing the sender's visit
SETTLE_AFTER = 5.0


def _went_in(doc: Mapping[str, Any], carrier_id: str) -> bool:
    """Whether an outbox document is an item still pending that went in `carrier_id`'s
    request (marked `with` it by `coalesce`)."""
    notes = doc.get("notes")
    return (
        isinstance(notes, dict)
        and notes.get("with") == carrier_id
        and doc.get("state") in (OutboxState.QUEUED, OutboxState.SENDING)
    )


class OutboxSender:
    """Drains the outbox: per incident in order, each item exactly once."""

    def __init__(
        self,
        store: Store,
        actions: RemoteActions,
        clock: Clock,
        *,
        user: str,
        on_change: Callable[[str], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        coalesce: Callable[[OutboxItem], OutboxItem] | None = None,
        on_sent: Callable[[IncidentChange, OutboxItem], object] | None = None,
        overtakes: Callable[[OutboxItem], bool] | None = None,
        settled: Callable[[OutboxItem], OutboxItem] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.actions = actions
        self.clock = clock
        self.user = user
        self.on_change = on_change or (lambda _iid: None)
        self.sleep = sleep
        self.rng = rng or random.Random()
        # the items queued behind one that may go with it in one request (team events:
        # TeamSync.coalesce); those are marked `with` it and settled as it ends
        self.coalesce = coalesce
        # the items that go ahead of the others, never tried ones: ahead of one waiting
        # out its retry's backoff, or about to be tried on another system than Slack (a
        # Jira write may take its timeouts and retries); behind Slack's own items they
        # wait, and go as one message (the team's posts: TeamSync's is_team_post; they
        # depend on no other item, and keep their order among themselves)
        self.overtakes = overtakes
        # within the write that marks an item SENT: what it sent, told to the team
        # (TeamSync.sent: a draft, a status-page update)
        self.on_sent = on_sent
        # what an item that has ended (sent, discarded) keeps on disk (team.settled_post:
        # a team post's message metadata goes, its events are in the team's ledger)
        self.settled = settled
        self.monotonic = monotonic
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._quiet: dict[str, float] = {}  # incident -> since when nothing is pending

    # -- the queue (called from any thread) -----------------------------------------------
    def enqueue(self, items: list[OutboxItem]) -> None:
        for item in items:
            self.store.put_doc(item.incident_id, OUTBOX, item.to_dict())
        self._wake.set()

    def items(self, incident_id: str) -> list[OutboxItem]:
        return outbox_items(self.store, incident_id)

    def retry(self, incident_id: str, item_id: str) -> OutboxItem:
        item = outbox_item(self.store, incident_id, item_id).retried(at=self.clock.now())
        self._store(item)
        self._wake.set()
        return item

    def discard(self, incident_id: str, item_id: str) -> OutboxItem:
        item = outbox_item(self.store, incident_id, item_id).discarded(at=self.clock.now())
        self._store(item)
        self._wake.set()
        return item

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    # -- the loop ------------------------------------------------------------------------
    async def run(self, *, idle: float = 1.0) -> None:
        """Drain until stopped; waits `idle` seconds (or a wake-up) between rounds."""
        while not self._stop.is_set():
            await self.drain()
            self._wake.clear()
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, self._wake.wait, idle)

    async def drain(self) -> int:
        """One round over every incident with pending items; returns items finished.
        (The index names the incidents with queued or sending items: the others' files
        are not read. It may name one whose items have all ended: the store leaves that
        to `_settle`.)"""
        done = 0
        for summary in self.store.list_incidents():
            if OUTBOX not in summary.attention:
                continue
            if self._stop.is_set():
                break
            done += await self.drain_incident(summary.id)
            self._settle(summary.id)
        return done

    def _settle(self, incident_id: str) -> None:
        """After a visit: an outbox with nothing pending for SETTLE_AFTER seconds has the
        incident's summary settled (store.settle_summary), so later rounds pass it by. The
        store does not rewrite the index as each item ends (`store._settles`): in a burst
        of changes it would, on every write, between the keystrokes' own writes."""
        if any(item.state.pending for item in self.items(incident_id)):
            self._quiet.pop(incident_id, None)
            return
        now = self.monotonic()
        since = self._quiet.setdefault(incident_id, now)
        if now - since >= SETTLE_AFTER:
            try:
                self.store.settle_summary(incident_id)
            except (CockpitError, OSError) as e:  # (the next round tries again)
                log.warning("could not settle incident %s's summary: %s", incident_id, e)
                return
            self._quiet.pop(incident_id, None)

    async def drain_incident(self, incident_id: str) -> int:
        done = 0
        while not self._stop.is_set():
            items = self.items(incident_id)
            if blocking(items) is not None:
                return done
            item = next((i for i in items if i.state.pending), None)
            if item is not None and (not item.due(self.clock.now()) or item.system != "Slack"):
                # waiting out its backoff, or about to be tried on another system (a Jira
                # write may take its timeouts and retries): what may go first goes
                item = self._overtaking(items, item) or (
                    item if item.due(self.clock.now()) else None
                )
            if item is None:
                return done
            if item.notes.get("with"):
                settled = self._went_with(item, items)
                if settled is None:
                    return done
                done += settled
                continue
            if self.coalesce is not None:
                item = self.coalesce(item)
                if not item.state.pending:  # (nothing left to send: discarded, with why)
                    self.on_change(incident_id)
                    done += 1
                    continue
            finished = await self.attempt(item)
            if not finished:  # (to be tried again: what may go meanwhile goes now)
                if self.overtakes is None:
                    return done
                continue
            done += 1
        return done

    def _overtaking(self, items: list[OutboxItem], waiting: OutboxItem) -> OutboxItem | None:
        """Ahead of `waiting` (the first pending item: due on another system, or waiting
        out its backoff): the first item behind it that may go first, due and never tried
        (a teammate's cockpit hears of a change without waiting for another system's
        write, its timeouts or its retries); None if there is none.
        Those keep their order among themselves (Slack's order settles two changes of a
        field): none goes ahead of another, the one waiting included."""
        if self.overtakes is None or self.overtakes(waiting):
            return None
        now = self.clock.now()
        for item in items:
            if item.id <= waiting.id or not item.state.pending or not self.overtakes(item):
                continue
            if item.due(now) and not item.attempts and not item.notes:
                return item
            return None
        return None

    def _went_with(self, item: OutboxItem, items: list[OutboxItem]) -> bool | None:
        """An item that went in another's request (`coalesce`): sent or discarded as that
        one was (True). None while that one has not ended; False if it is gone from the
        outbox (this one then goes on its own)."""
        carrier = next((i for i in items if i.id == item.notes["with"]), None)
        now = self.clock.now()
        if carrier is None:  # (gone from the outbox: this one goes on its own)
            alone = {k: v for k, v in item.notes.items() if k != "with"}
            keep_item(self.store, msgspec.structs.replace(item, notes=alone), now)
            return False
        if carrier.state is OutboxState.SENT:
            went = item.sent(at=now, remote_id=carrier.remote_id, remote_link=carrier.remote_link)
        elif carrier.state is OutboxState.DISCARDED:
            went = item.discarded(at=now)
        else:
            return False
        self._store(went)
        return True

    async def attempt(self, item: OutboxItem) -> bool:
        """One attempt at `item`; True when it left the queue (sent or failed)."""
        now = self.clock.now()
        incident = self.store.get_incident(item.incident_id)
        # a SENDING item found at start-up was interrupted: its effect may be there
        uncertain = item.uncertain or item.state is OutboxState.SENDING
        try:
            steps = self.actions.steps(item)
            if uncertain and not steps:
                outcome = await self.actions.find(item, incident)
                if outcome is not None:
                    self._finish(item, outcome)
                    return True
            elif not uncertain and not item.notes:
                facts = await self.actions.note_before(item, incident)
                if facts:
                    item = item.noting(**facts)
            item = item.sending(at=now)
            self.store.put_doc(item.incident_id, OUTBOX, item.to_dict())
            # An operation of several requests: each step once, noted on disk when done;
            # only the first step not done can be uncertain (the one that was under way).
            for step in steps:
                if step.name in item.done_steps:
                    continue
                made = await step.find(item, incident) if uncertain and step.find else None
                if made is None:
                    made = await step.do(item, incident)
                item = item.step_done(step.name, made, at=self.clock.now())
                self.store.put_doc(item.incident_id, OUTBOX, item.to_dict())
                uncertain = False
            outcome = await self.actions.perform(item, incident)  # with steps: reads only
        except RemoteError as e:
            return self._failed(item, e).state is OutboxState.FAILED
        except CockpitError as e:
            self._store(item.failed(str(e), at=self.clock.now()))
            return True
        self._finish(item, outcome)
        return True

    def _failed(self, item: OutboxItem, e: RemoteError) -> OutboxItem:
        now = self.clock.now()
        if item.state is not OutboxState.SENDING:
            item = item.sending(at=now)  # the check itself failed: count it as an attempt
        if e.retryable or e.ambiguous:
            base = e.retry_after if e.retry_after else min(60.0, 2.0**item.attempts)
            wait = timedelta(seconds=base * (0.8 + 0.4 * self.rng.random()))
            item = item.retry_later(
                str(e), at=now, uncertain=e.ambiguous or item.uncertain, wait=wait
            )
        else:
            item = item.failed(str(e), at=now)
        self._store(item)
        log.warning("outbox %s (%s) attempt %d: %s", item.id, item.operation, item.attempts, e)
        return item

    def _store(self, item: OutboxItem) -> None:
        keep_item(self.store, self._kept(item), self.clock.now())
        self.on_change(item.incident_id)

    def _kept(self, item: OutboxItem) -> OutboxItem:
        """The item as it is written: once ended, what `settled` keeps of it."""
        ended = item.state in (OutboxState.SENT, OutboxState.DISCARDED)
        return self.settled(item) if ended and self.settled is not None else item

    def _finish(self, item: OutboxItem, outcome: Outcome) -> None:
        """Sent: the item, the incident's new links, a timeline entry, the checklist tick
        and the draft's state go to disk together, in one write of the incident's file,
        made against its current version (a status set meanwhile is kept)."""
        from cockpit.domain.checklist import Tick

        now = self.clock.now()
        sent = item.sent(at=now, remote_id=outcome.remote_id, remote_link=outcome.remote_link)

        def change(ch: IncidentChange) -> None:
            if outcome.apply is not None:
                ch.entries.extend(outcome.apply(ch.incident, now, self.user))
            if item.draft_id or item.operation.startswith("statuspage."):
                ch.incident.update_sent(now)  # (the header's update clock starts again)
            kind = EntryKind.SENT if self.actions.sends_message(item) else EntryKind.ACTION
            entry = TimelineEntry.new(
                ch.incident.id,
                kind=kind,
                text=outcome.text or item.title,
                event_at=now,
                recorded_at=now,
                author=self.user,
                link=outcome.remote_link,
            )
            # the same id each time: finishing again after a crash replaces, never duplicates
            if not outcome.quiet:
                ch.entries.append(msgspec.structs.replace(entry, id=f"{item.id}0done"))
            if item.item_id and not ch.ticked(item.item_id):
                ch.ticks.append(Tick(item_id=item.item_id, ticked=True, by=self.user, at=now))
            keep_item_in(ch, self._kept(sent), now)
            # what went in its request (`coalesce`) is sent with it, in this write
            for doc in ch.current_docs(OUTBOX, lambda d: _went_in(d, item.id)):
                went = OutboxItem.from_dict(doc).sent(
                    at=now, remote_id=outcome.remote_id, remote_link=outcome.remote_link
                )
                keep_item_in(ch, self._kept(went), now)
            if self.on_sent is not None:
                self.on_sent(ch, sent)

        self.store.change(item.incident_id, change)
        self.on_change(item.incident_id)

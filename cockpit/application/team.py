"""Two responders, one incident: sharing changes through the incident's channel.

Each cockpit keeps its own store. What another responder needs to know (status, severity
and assess answers, roles and hand-offs, checklist ticks, timeline notes, drafts and
status-page updates sent) is shared as a team event
(`cockpit.domain.team`): a message in `#incident-N` that people read, carrying Slack
message metadata that cockpits apply.

* `TeamSync.share(ch)` turns what a change did (its entries and ticks) into team events
  and queues each as an outbox item ("slack.post" to the channel, with the metadata) in
  the same write as the change, as the outbox's rule wants, and only when the incident
  has a channel. The events are kept in the incident's ledger (`team` table) as ours.
  What was done before the channel existed (the raise's ticks above all: the ticket,
  the channel, the thread's link) goes out when it is made: `TeamSync.held`, in the
  sender's write that finishes `slack.create_channel`, as one message (Slack takes
  about one a second per channel), so a teammate who joins holds the same checklist.
* `TeamSync.sent(ch, item)`, in the sender's write that marks an outbox item SENT (its
  `on_sent`): a draft sent (what, where, its text and link) is a `draft_sent` event, a
  status-page update (status, components, the page incident's id and link) a
  `status_page` event; the other cockpits show it as sent by the teammate, and take the
  page incident's link, so their next update updates it instead of opening another.
  A role given away by the person who held it (`IncidentActions.hand_off`, `G`) is a
  `handoff` event: the same register as an assignment, both cockpits hold the new holder.
* `TeamSync.apply(incident_id, messages)` applies the events read from the channel
  (`conversations.history` with `include_all_metadata`, or Socket Mode's message events)
  in one write: idempotent by event id, entries at their own times, a field resolved by
  Slack's order, an illegal move kept as a conflict (`conflicts`, `settle`).
* `TeamSync.find_raised(replies)` / `join(found)`: before raising from a report, the
  report's thread may already hold another cockpit's reply carrying the `raised` event:
  the incident is then made here from it (ticket and channel included) instead of twice.
* `ChannelWatch` reads the incidents' channels on the remote thread's loop and hands what
  it read to `apply` (on the store's thread in the app; directly in the CLI and tests).

No Textual and no network here but `ChannelWatch`'s client calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import msgspec

from cockpit.application.outbox import OUTBOX
from cockpit.application.service import IncidentService, normalize_id
from cockpit.domain.checklist import Tick
from cockpit.domain.drafts import Draft
from cockpit.domain.incident import Incident, Status, severity_change, status_page_text
from cockpit.domain.outbox import OutboxItem, OutboxState
from cockpit.domain.team import (
    LEDGER_TABLE,
    PENDING,
    BadEvent,
    Known,
    Received,
    Seen,
    TeamEvent,
    TeamKey,
    TeamKind,
    TeamLedger,
    batch_metadata,
    batch_text,
    decode_events,
    events_of_metadata,
    fits_one_message,
    joined_incident,
    raised_at,
    ts_order,
    yes_no,
)
from cockpit.domain.timeline import EntryKind, TimelineEntry
from cockpit.integrations.errors import RemoteError
from cockpit.integrations.source import MessagePage
from cockpit.store.store import T_CHECKLIST, T_TIMELINE, IncidentChange

log = logging.getLogger("cockpit.team")

ID_FILE = "cockpit-id"
_ID = re.compile(r"[a-f0-9]{32}")


def cockpit_id(data_dir: Path) -> str:
    """This cockpit's id (its data dir's): the origin of the events it shares, so that it
    knows its own when it reads them back. Made once, kept in the data dir (0600)."""
    path = Path(data_dir) / ID_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
        if _ID.fullmatch(text):
            return text
    except (OSError, UnicodeDecodeError):
        pass
    new = uuid.uuid4().hex
    tmp = path.with_name(f".{ID_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(new + "\n")
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)  # never over another process's id made meanwhile
    except FileExistsError:
        os.unlink(tmp)
        return cockpit_id(data_dir)
    os.unlink(tmp)
    return new


@dataclass
class Applied:
    """What reading a channel changed on an incident."""

    incident_id: str
    applied: int = 0
    conflicts: list[str] = field(default_factory=list)
    changed: bool = False


class TeamSync:
    """Shares this cockpit's changes and applies the others' (see the module doc)."""

    def __init__(self, service: IncidentService, origin: str, *, enabled: bool = True) -> None:
        self.service = service
        self.origin = origin
        self.enabled = enabled  # Slack configured and not --local

    # -- sharing ---------------------------------------------------------------------------
    def share(self, ch: IncidentChange) -> list[OutboxItem]:
        """Queue, in this change's write, a team event for each thing it did that the
        other responders need: its status, severity, assessment and role entries, its
        notes, its ticks. Nothing when the incident has no channel yet."""
        if not self.enabled or not TeamKey.of(ch.incident).channel:
            return []
        inc = ch.incident
        wanted: list[tuple[TeamKind, dict[str, object], Any]] = []
        # each role given in this change made one ROLE entry and one role_history item
        role_entries = [e for e in ch.entries if e.kind is EntryKind.ROLE]
        roles = inc.role_history[-len(role_entries) :] if role_entries else []
        for entry in ch.entries:
            if entry.id.startswith("team-"):
                continue  # applied from another cockpit: not ours to share again
            data: dict[str, object] | None = None
            kind: TeamKind | None = None
            if entry.kind is EntryKind.STATUS:
                kind, data = TeamKind.STATUS, {"to": inc.status.value, "from": _before(entry.text)}
                if inc.status is Status.CANCELED:
                    data["reason"] = inc.cancel_reason[:300]
            elif entry.kind is EntryKind.SEVERITY and inc.severity is not None:
                # from and to as this entry says them (the one the others' entry repeats)
                said = severity_change(entry.text)
                kind, data = TeamKind.SEVERITY, {"to": inc.severity.value}
                if said is not None:
                    data = {"to": said[1].value, "from": said[0].value if said[0] else ""}
            elif entry.kind is EntryKind.ASSESSMENT:
                a = inc.assessment
                kind = TeamKind.ASSESSMENT
                data = {
                    "affected": a.affected[:300],
                    "reproduced": yes_no(a.reproduced),
                    "known": yes_no(a.known),
                }
            elif entry.kind is EntryKind.ROLE:
                n = role_entries.index(entry)
                change = roles[n] if n < len(roles) else None
                if change is None or change.person not in entry.text:
                    continue  # (an escalation's expert: a note, not a role)
                # a role someone held, given to another: a hand-off (both hold who has it)
                place = len(inc.role_history) - len(roles) + n
                earlier = [c for c in inc.role_history[:place] if c.role is change.role]
                previous = earlier[-1].person if earlier else ""
                kind = TeamKind.HANDOFF if previous else TeamKind.ROLE
                data = {"role": change.role.value, "person": change.person}
                if previous:
                    data["previous"] = previous[:80]
            elif entry.kind in (EntryKind.NOTE, EntryKind.PINNED):
                kind = TeamKind.NOTE
                data = {"text": entry.text[:2000], "entry": entry.kind.value}
                if entry.link.startswith(("https://", "http://")):
                    data["link"] = entry.link[:500]
            if kind is not None and data is not None:
                wanted.append((kind, data, entry.event_at))
        for tick in ch.ticks:
            text = self._item_text(tick.item_id)
            data = {"item": tick.item_id, "ticked": tick.ticked, "text": text[:300]}
            wanted.append((TeamKind.TICK, data, tick.at))
        return self.publish_all(ch, wanted)

    def sent(self, ch: IncidentChange, item: OutboxItem) -> list[OutboxItem]:
        """Within the write that marks `item` SENT (the sender's): what went out, told
        to the team. A draft sent (where, its text, the link) is a `draft_sent` event; a
        status-page update (its status, components, the page's incident id and link:
        the others update that one, never open a second) is a `status_page` event; the
        checklist item it ticked rides along; an action that sends no draft (the reply
        in the report's thread, a link) tells its tick alone. The channel's creation
        tells what is held so far (`held`: nothing was shared before). Team posts
        themselves tell nothing."""
        if not self.enabled or is_team_post(item) or item.state is not OutboxState.SENT:
            return []
        if item.operation == "slack.create_channel":
            return self.publish_all(ch, self.held(ch)) if not self._shared_any(ch) else []
        inc = ch.incident
        draft = (
            next(
                (
                    Draft.from_dict(d)
                    for d in ch.current_docs("drafts")
                    if d.get("id") == item.draft_id
                ),
                None,
            )
            if item.draft_id
            else None
        )
        at = item.sent_at or self.service.clock.now()
        wanted: list[tuple[TeamKind, Mapping[str, object], Any]] = []
        if item.operation in ("statuspage.create", "statuspage.update"):
            page = inc.links.status_page
            data: dict[str, object] = {"status": str(item.params.get("status") or "")}
            if page is not None and page.url.startswith(("https://", "http://")):
                data["link"], data["page_id"] = page.url[:500], page.label[:64]
            named = item.params.get("components")  # (before the pick existed: the incident's)
            names = [str(n) for n in named] if isinstance(named, list) else inc.affected_components
            if names:
                data["components"] = _fit(", ".join(names), 300)
            # whether it opened the page's incident (or updated a teammate's): as the
            # sender's own entry says (its words and kind, the same in every cockpit)
            done = next((e for e in ch.entries if e.id == f"{item.id}0done"), None)
            opened = status_page_text(str(data["status"]), names, opened=True)
            if done is not None and done.text == opened:
                data["opened"] = "yes"
            if draft is not None:
                data |= {"template": draft.template, "title": draft.title[:300]}
                data["text"] = _fit(draft.body, 2000)
            wanted.append((TeamKind.STATUS_PAGE, data, at))
        elif draft is not None:
            data = {
                "title": draft.title[:300],
                "target": draft.target[:300],
                "template": draft.template,
                "text": _fit(draft.body, 2000),
            }
            if item.remote_link.startswith(("https://", "http://")):
                data["link"] = item.remote_link[:500]
            wanted.append((TeamKind.DRAFT_SENT, data, at))
        if item.item_id and any(t.item_id == item.item_id for t in ch.ticks):
            text = self._item_text(item.item_id)[:300]
            wanted.append((TeamKind.TICK, {"item": item.item_id, "ticked": True, "text": text}, at))
        return self.publish_all(ch, wanted)

    def held(self, ch: IncidentChange) -> list[tuple[TeamKind, Mapping[str, object], Any]]:
        """What this cockpit holds of the incident, as team events: shared when its
        channel comes to exist (nothing is shared before), so that a teammate who joins
        holds what was done before it (the checklist's ticks above all: the ticket, the
        thread's link, the channel). Its status, severity, assess answers and roles when
        set, each at the time of its own entry; the ticked items at their ticks' times.
        One message (or a few when they do not fit one), applied like any other events."""
        inc = ch.incident
        docs = [TimelineEntry.from_dict(d) for d in ch.current_docs(T_TIMELINE)]
        entries = sorted([*docs, *ch.entries], key=lambda e: e.event_at)
        now = self.service.clock.now()

        def when(kind: EntryKind) -> Any:
            return next((e.event_at for e in reversed(entries) if e.kind is kind), now)

        wanted: list[tuple[TeamKind, Mapping[str, object], Any]] = []
        if inc.status is not Status.REPORTED:
            status: dict[str, object] = {"to": inc.status.value}
            if inc.status is Status.CANCELED:
                status["reason"] = inc.cancel_reason[:300]
            wanted.append((TeamKind.STATUS, status, when(EntryKind.STATUS)))
        if inc.severity is not None:
            wanted.append((TeamKind.SEVERITY, {"to": inc.severity.value}, when(EntryKind.SEVERITY)))
        a = inc.assessment
        if a.affected or a.reproduced is not None or a.known is not None:
            answers = {
                "affected": a.affected[:300],
                "reproduced": yes_no(a.reproduced),
                "known": yes_no(a.known),
            }
            wanted.append((TeamKind.ASSESSMENT, answers, when(EntryKind.ASSESSMENT)))
        for role, person in inc.roles.items():
            given = [c for c in inc.role_history if c.role is role and c.person == person]
            at = given[-1].at if given else now
            wanted.append((TeamKind.ROLE, {"role": role.value, "person": person}, at))
        latest: dict[str, Tick] = {}
        for tick in [*(Tick.from_dict(d) for d in ch.current_docs(T_CHECKLIST)), *ch.ticks]:
            held = latest.get(tick.item_id)
            if held is None or tick.at >= held.at:
                latest[tick.item_id] = tick
        for tick in sorted(latest.values(), key=lambda t: t.at):
            if tick.ticked:
                text = self._item_text(tick.item_id)[:300]
                wanted.append(
                    (TeamKind.TICK, {"item": tick.item_id, "ticked": True, "text": text}, tick.at)
                )
        return wanted

    @staticmethod
    def _shared_any(ch: IncidentChange) -> bool:
        """Whether this cockpit has shared anything of the incident yet (its ledger holds
        an event of ours): the channel's first share was made (a finish done again)."""
        return any(
            (k := Known.from_dict(d)) is not None and k.own for d in ch.current_docs(LEDGER_TABLE)
        )

    def publish_in(
        self, ch: IncidentChange, kind: TeamKind, data: Mapping[str, object], *, at: Any
    ) -> OutboxItem | None:
        """One team event, queued in `ch` (and kept in its ledger as ours)."""
        items = self.publish_all(ch, [(kind, data, at)])
        return items[0] if items else None

    def publish_all(
        self,
        ch: IncidentChange,
        wanted: Sequence[tuple[TeamKind, Mapping[str, object], Any]],
    ) -> list[OutboxItem]:
        """The team events of one change, queued in `ch` as one message (Slack takes about
        one a second per channel; a change's status and tick go together), or a few when
        they do not fit one; each kept in the ledger as ours."""
        key = TeamKey.of(ch.incident)
        if not self.enabled or not key.channel:
            return []
        svc = self.service
        events: list[TeamEvent] = []
        for kind, data, at in wanted:
            try:
                events.append(
                    TeamEvent.new(kind, key, data, at=at, by=svc.user, origin=self.origin)
                )
            except BadEvent as e:  # never lose the change itself over what it tells the team
                log.warning("team event not shared: %s", e)
        return self.queue(ch, events)

    def queue(self, ch: IncidentChange, events: Sequence[TeamEvent]) -> list[OutboxItem]:
        """Events made already (e.g. a change read from Jira, its id the same in every
        cockpit that read it), queued in `ch` as `publish_all` queues its own."""
        if not self.enabled or not TeamKey.of(ch.incident).channel:
            return []
        svc = self.service
        groups: list[list[TeamEvent]] = []
        for event in events:
            if groups and fits_one_message([*groups[-1], event]):
                groups[-1].append(event)
            else:
                groups.append([event])
        items = []
        for group in groups:
            item = OutboxItem.new(
                ch.incident.id,
                "slack.post",
                _title(group),
                {"to": "channel", "text": batch_text(group), "metadata": batch_metadata(group)},
                at=svc.clock.now(),
            )
            ch.put_doc(OUTBOX, item.to_dict())
            for n, event in enumerate(group):
                own = Known(event, state=Seen.OWN, marker=item.id, seq=n)
                ch.put_doc(LEDGER_TABLE, own.to_dict())
            items.append(item)
        return items

    # -- one message for what is queued together ----------------------------------------------
    def coalesce(self, item: OutboxItem) -> OutboxItem:
        """Before the sender posts a team event's message: the team posts queued right
        behind it (not tried yet) go in the same message, so a burst of changes is one
        post, not one a second and retries. Each of those stays in the outbox marked to
        go `with` this one (the sender settles it as this one ends: sent or discarded);
        their events keep their ids (idempotent) and take their place in the message.
        Returns the item as it is to be sent."""
        if not is_team_post(item) or item.attempts or item.notes or item.uncertain:
            return item

        def behind(doc: Mapping[str, Any]) -> bool:  # (not a long incident's ended posts)
            pending = doc.get("state") in (OutboxState.QUEUED, OutboxState.SENDING)
            return pending and str(doc.get("id", "")) >= item.id

        def change(ch: IncidentChange) -> OutboxItem:
            ch.save = False
            docs = sorted(
                (OutboxItem.from_dict(d) for d in ch.current_docs(OUTBOX, behind)),
                key=lambda i: i.id,
            )
            me = next((i for i in docs if i.id == item.id), None)
            if me is None or me != item:  # changed meanwhile: send it as it is now
                return item
            # an event a teammate's cockpit posted already (a change read in Jira, which
            # every cockpit that reads it tells under the same id) is not posted again
            told = {
                k.event.id
                for doc in ch.current_docs(LEDGER_TABLE, lambda d: bool(d.get("ts")))
                if (k := Known.from_dict(doc)) is not None and k.ts
            }
            mine = events_of_metadata(me.params.get("metadata"))
            events = [e for e in mine if e.id not in told]
            if mine and not events:
                now = self.service.clock.now()
                why = "not sent: a teammate's cockpit told the channel already"
                gone = msgspec.structs.replace(me.discarded(at=now), reason=why)
                ch.put_doc(OUTBOX, settled_post(gone).to_dict())
                return gone
            taken: list[OutboxItem] = []
            for later in docs:
                if later.id <= me.id or not later.state.pending:
                    continue
                if not is_team_post(later) or later.attempts or later.notes or later.uncertain:
                    break  # (the order holds: what is behind a non-team item waits for it)
                more = [
                    e for e in events_of_metadata(later.params.get("metadata")) if e.id not in told
                ]
                if not more or not fits_one_message([*events, *more]):
                    break
                events += more
                taken.append(later)
            if not taken and len(events) == len(mine):
                return me
            params = dict(me.params)
            params["text"] = batch_text(events)
            params["metadata"] = batch_metadata(events)
            merged = msgspec.structs.replace(me, params=params, title=_title(events))
            ch.put_doc(OUTBOX, merged.to_dict())
            for later in taken:
                ch.put_doc(OUTBOX, later.noting(**{"with": me.id}).to_dict())
            place = {e.id: n for n, e in enumerate(events)}
            markers = {i.id for i in docs}  # (its events' own entries: queued by these)
            for doc in ch.current_docs(LEDGER_TABLE, lambda d: d.get("marker") in markers):
                k = Known.from_dict(doc)
                if k is not None and k.event.id in place and k.own and not k.ts:
                    k.seq = place[k.event.id]
                    ch.put_doc(LEDGER_TABLE, k.to_dict())
            return merged

        return self.service.store.change(item.incident_id, change)

    def raised_params(self, item: OutboxItem) -> OutboxItem:
        """The reply in the report's thread, made to carry the incident as raised (the
        Slack handler builds the event when it sends it: ticket and channel exist then)."""
        params = dict(item.params)
        params["team"] = {
            "raised": str(uuid.uuid4()),
            "origin": self.origin,
            "by": self.service.user,
        }
        return msgspec.structs.replace(item, params=params)

    def tick(self, incident_id: str, item_id: str, ticked: bool = True) -> Tick:
        """A tick (or untick) and what it tells the team, in one write."""
        svc = self.service
        item = svc.playbook.item(item_id)

        def change(ch: IncidentChange) -> Tick:
            svc.check_tickable(ch.incident, item)
            ch.save = False
            tick = Tick(item_id=item.id, ticked=ticked, by=svc.user, at=svc.clock.now())
            ch.ticks.append(tick)
            self.share(ch)
            return tick

        return svc.store.change(normalize_id(incident_id), change)

    def sent_by_hand(self, incident_id: str, draft_id: str) -> Draft:
        """A draft the person posted by hand (copied, not sent by cockpit), and what it
        tells the team, in one write."""
        svc = self.service

        def change(ch: IncidentChange) -> Draft:
            ch.save = False
            draft = svc.draft_sent_by_hand_in(ch, draft_id)
            data = {
                "title": draft.title[:300],
                "target": draft.target[:300],
                "template": draft.template,
                "text": _fit(draft.body, 2000),
                "hand": "yes",
            }
            self.publish_all(ch, [(TeamKind.DRAFT_SENT, data, draft.sent_at or svc.clock.now())])
            return draft

        return svc.store.change(normalize_id(incident_id), change)

    def _item_text(self, item_id: str) -> str:
        return next((i.text for i in self.service.playbook.items if i.id == item_id), item_id)

    # -- applying --------------------------------------------------------------------------
    def apply(
        self, incident_id: str, messages: Iterable[Mapping[str, Any]], channel: str = ""
    ) -> Applied:
        """Apply the team events among `messages` (raw Slack messages of the incident's
        channel, read with their metadata) in Slack's order, in one write."""
        found = [r for m in messages for r in decode_events(m, channel)]
        iid = normalize_id(incident_id)
        result = Applied(iid)
        if not found:
            return result
        found.sort(key=lambda r: (ts_order(r.ts), r.seq, r.event.id))
        svc = self.service

        # the latest ticks, read before the change (a tick written between the two is
        # rare; the store's latest-by-time rule still holds for it)
        ticks = dict(svc.store.ticks(iid))

        def change(ch: IncidentChange) -> Applied:
            ledger = self._ledger(ch)
            now = svc.clock.now()
            before = ch.incident.to_dict()
            for r in found:
                out = ledger.receive(ch.incident, r, ticks=ticks, now=now)
                for tick in out.ticks:
                    ticks[tick.item_id] = tick
                ch.entries.extend(out.entries)
                ch.ticks.extend(out.ticks)
                for k in out.known:
                    ch.put_doc(LEDGER_TABLE, k.to_dict())
                for draft in out.drafts:
                    ch.put_doc("drafts", draft.to_dict())
                result.applied += out.applied
                result.conflicts += out.conflicts
            result.changed = ch.incident.to_dict() != before
            ch.save = result.changed
            return result

        return svc.store.change(iid, change)

    def _ledger(self, ch: IncidentChange) -> TeamLedger:
        outbox = {d.get("id"): d for d in ch.current_docs(OUTBOX)}

        def own_order(k: Known) -> tuple[int, int] | None:
            doc = outbox.get(k.marker)
            if doc is None:
                return PENDING  # (being written in this very change)
            item = OutboxItem.from_dict(doc)
            if item.state.pending or item.state is OutboxState.FAILED:
                return PENDING  # still going (a failed one may be retried)
            if item.state is OutboxState.SENT:
                return ts_order(item.remote_id) or PENDING
            return None  # discarded: it never went

        return TeamLedger.from_docs(
            ch.current_docs(LEDGER_TABLE), me=self.origin, own_order=own_order
        )

    def conflicts(self, incident_id: str) -> list[Known]:
        docs = self.service.store.docs(normalize_id(incident_id), LEDGER_TABLE)
        return TeamLedger.from_docs(docs, me=self.origin).conflicts()

    def settle(self, incident_id: str, event_id: str) -> Known:
        """The person settled a conflict: it is kept, marked settled (what they hold
        stays; a change they make now is shared as the newest)."""

        def change(ch: IncidentChange) -> Known:
            ch.save = False
            k = self._ledger(ch).settle(event_id)
            ch.put_doc(LEDGER_TABLE, k.to_dict())
            return k

        return self.service.store.change(normalize_id(incident_id), change)

    # -- which local incident, and joining ---------------------------------------------------
    def incident_for(self, key: TeamKey) -> Incident | None:
        """The local incident the team's key names (open ones first, then any)."""
        svc = self.service
        for open_only in (True, False):
            ids = [s.id for s in svc.incidents(open_only=open_only)]
            for inc in svc.store.load_incidents(ids):
                if TeamKey.of(inc).matches(key):
                    return inc
        return None

    @staticmethod
    def find_raised(replies: Iterable[Mapping[str, Any]]) -> Received | None:
        """A reply of another cockpit's raise in a report's thread: the first `raised`
        event among the thread's messages (its first in Slack's order)."""
        found = [r for m in replies for r in decode_events(m)]
        raised = [r for r in found if r.event.kind is TeamKind.RAISED]
        raised.sort(key=lambda r: (ts_order(r.ts), r.seq, r.event.id))
        return raised[0] if raised else None

    def join(self, found: Received) -> Incident:
        """The incident another cockpit raised, made here from its `raised` event (or the
        local one it already is): its ticket, channel, status, severity and roles as
        raised; the channel's history brings the rest (`apply`)."""
        held = self.incident_for(found.event.key)
        if held is not None:
            return held
        svc = self.service
        incident, entries = joined_incident(
            found,
            incident_id=svc.store.next_incident_id(),
            now=svc.clock.now(),
            drill=svc.drill,
        )
        known = Known(found.event, ts=found.ts, state=Seen.APPLIED)
        # ticked when the raiser's cockpit raised it (both checklists say the same)
        at = raised_at(found, now=svc.clock.now())
        raised = Tick("raise-incident", True, found.event.by, at)
        ticks = [raised] if any(i.id == raised.item_id for i in svc.playbook.items) else []
        svc.store.create_incident(
            incident, entries, ticks=ticks, docs=[(LEDGER_TABLE, known.to_dict())]
        )
        return incident


def is_team_post(item: OutboxItem) -> bool:
    """A message of team events to the incident's channel (queued by `publish_all`)."""
    return (
        item.operation == "slack.post"
        and item.params.get("to") == "channel"
        and isinstance(item.params.get("metadata"), dict)
        and not item.draft_id
        and not item.item_id
    )


def settled_post(item: OutboxItem) -> OutboxItem:
    """What a team post that has ended (sent, or discarded) keeps on disk: its text, and
    of its message's metadata the event type alone. Its events are in the ledger
    (LEDGER_TABLE, each marked with this item's id), which this item's state and Slack
    ts order; nothing reads the rest once it went. A change makes a post, and an
    incident's file is written whole at each change: kept whole, a long incident's
    posts (two thirds of its file after a few hundred changes) made every write slower."""
    if not is_team_post(item) or item.state not in (OutboxState.SENT, OutboxState.DISCARDED):
        return item
    metadata = item.params["metadata"]
    kept = {"event_type": str(metadata.get("event_type", ""))}
    if kept == metadata and set(item.params) <= {"to", "text", "metadata"}:
        return item
    params = {"to": "channel", "text": str(item.params.get("text", "")), "metadata": kept}
    return msgspec.structs.replace(item, params=params)


def _title(events: Sequence[TeamEvent]) -> str:
    """The outbox's line for a message of team events."""
    head = f"Tell the team: {events[0].describe()}"
    if len(events) > 1:
        head = f"Tell the team ({len(events)}): " + "; ".join(e.describe() for e in events)
    return head[:120]


def _fit(text: str, limit: int) -> str:
    """A text cut to `limit` characters (and to what one event's metadata holds, its
    characters escaped as JSON escapes them), with an ellipsis where it was cut."""
    budget = 2400  # bytes of JSON for the text: the event stays well under Slack's cap
    if len(text) <= limit and len(json.dumps(text)) <= budget:
        return text
    cut = text[: limit - 1]
    while len(json.dumps(cut)) > budget - 8:
        cut = cut[: max(0, len(cut) - max(1, len(cut) // 8))]
    return cut.rstrip() + "…"


def _before(text: str) -> str:
    """The status a STATUS entry ("FIXING → MONITORING: …") came from, if it says."""
    head = text.split(" → ", 1)[0].strip().lower() if " → " in text else ""
    return head if head in {s.value for s in Status} else ""


# -- reading the channels -----------------------------------------------------------------------
class ChannelReader(Protocol):
    """What `ChannelWatch` needs of Slack's client: each call is one request."""

    async def messages_since(
        self,
        channel_id: str,
        oldest: str | None,
        *,
        cursor: str | None,
        limit: int,
        include_all_metadata: bool = True,
    ) -> MessagePage: ...

    async def thread_replies(
        self,
        channel_id: str,
        thread_ts: str,
        oldest: str | None,
        *,
        limit: int,
        include_all_metadata: bool = True,
    ) -> MessagePage: ...


Apply = Callable[[str, list[dict[str, Any]], str], Awaitable[Applied]]
PAGE = 999  # Slack's largest page of a channel's history
# the look for a teammate's raise is asked again after a refused or lost request (a
# second ticket is worse than a moment's wait): these pauses between its attempts, and no
# wait longer than LOOK_MAX_WAIT (a 429's Retry-After beyond it: the look gives up)
LOOK_BACKOFF = (0.4, 1.2)
LOOK_MAX_WAIT = 3.0


async def _free() -> None:
    return None


class ChannelWatch:
    """Reads the open incidents' channels (with their metadata) from where it left each,
    and hands the messages to `apply` (which runs `TeamSync.apply`). A cockpit that was
    closed reads each channel from its start once: nothing is lost, and applying again
    changes nothing. In the app this is the catch-up; afterwards the team's events ride
    on the feed's own reads of the channel (and Socket Mode's pushes). `spend` is called
    before each request (the feed's budget, in the app)."""

    def __init__(
        self,
        client: ChannelReader,
        apply: Apply,
        *,
        spend: Callable[[], Awaitable[None]] = _free,
        spend_look: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.client = client
        self.apply = apply
        self.spend = spend
        # the look for a teammate's raise: a person waits on it (ahead of the catch-up)
        self.spend_look = spend_look or spend
        self.oldest: dict[str, str] = {}  # channel id → the newest ts read

    async def read(
        self,
        incident_id: str,
        channel: str,
        *,
        spend: Callable[[], Awaitable[None]] | None = None,
    ) -> Applied:
        """The channel's messages since the last read, applied. `spend` (the feed's budget
        at another rank: the incident shown) instead of the watch's own."""
        messages: list[dict[str, Any]] = []
        oldest, cursor = self.oldest.get(channel, "0"), None
        spend = spend or self.spend
        while True:  # (a page at a time, each counted)
            await spend()
            page = await self.client.messages_since(
                channel, oldest, cursor=cursor, limit=PAGE, include_all_metadata=True
            )
            messages += page.messages
            if not (page.has_more and page.next_cursor):
                break
            cursor = page.next_cursor
        if messages:
            self.oldest[channel] = max((m["ts"] for m in messages), key=_ts_key)
        return await self.apply(incident_id, messages, channel)

    async def read_all(self, incidents: Sequence[Incident]) -> list[Applied]:
        """Read each incident's channel (those that have one). The caller picks them: the
        open ones, and those closed lately (a teammate's late change, or a conflict with
        the closing, still arrives)."""
        done = []
        for inc in incidents:
            channel = TeamKey.of(inc).channel
            if channel:
                done.append(await self.read(inc.id, channel))
        return done

    async def look_for_raise(
        self, channel: str, thread_ts: str, *, backoff: Sequence[float] = LOOK_BACKOFF
    ) -> Received | None:
        """Before raising from a report: another cockpit's raise replied in its thread?
        A request refused or lost on the way (a 5xx, a 429, a timeout) is made again,
        `len(backoff)` times at most, each within the feed's budget (`spend_look`); what still
        fails (or cannot succeed: a missing scope, an unknown channel) is raised. The
        pause before an attempt is its backoff or the budget's wait, whichever is longer
        (not both: the look stays within a few seconds)."""
        loop = asyncio.get_running_loop()
        pause, failed_at = 0.0, loop.time()
        for attempt in range(len(backoff) + 1):
            await self.spend_look()
            left = pause - (loop.time() - failed_at)
            if left > 0:
                await asyncio.sleep(left)
            try:
                page = await self.client.thread_replies(
                    channel, thread_ts, None, limit=200, include_all_metadata=True
                )
            except RemoteError as e:
                if attempt >= len(backoff) or not (e.retryable or e.ambiguous):
                    raise
                pause = max(backoff[attempt], e.retry_after or 0.0)
                if pause > LOOK_MAX_WAIT:
                    raise
                log.info("looking for a teammate's raise again in %.1f s: %s", pause, e)
                failed_at = loop.time()
                continue
            return TeamSync.find_raised(page.messages)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _ts_key(ts: str) -> tuple[int, int]:
    return ts_order(ts) or (0, 0)

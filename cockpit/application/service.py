"""The use cases, shared by the CLI and the app: raise, note, status, severity, roles, ticks.

No Textual and no network here: this is domain + store, called from the CLI directly and
from the app's worker threads. Each method writes everything it changed (incident and
timeline entries) in one store write before returning.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from cockpit.domain.checklist import Tick
from cockpit.domain.clock import Clock
from cockpit.domain.drafts import Draft
from cockpit.domain.errors import CockpitError, NotFound
from cockpit.domain.incident import Assessment, Incident, Link, Role, Severity, Status
from cockpit.domain.playbook import (
    ChecklistView,
    ConditionContext,
    Item,
    Playbook,
    checklist_view,
)
from cockpit.domain.timeline import (
    EntryKind,
    TimelineEntry,
    check_event_time,
    parse_when,
)
from cockpit.store.store import IncidentChange, IncidentSummary, Store

if TYPE_CHECKING:
    from cockpit.domain.slo import SupportCalendar
    from cockpit.domain.templates import TemplateLibrary


# what else the same write carries: ticks, outbox items (see IncidentChange)
Also = Callable[[IncidentChange], None]


class DraftOptions(msgspec.Struct, frozen=True):
    """What templates need beyond the incident (from the settings)."""

    guide_url: str = ""
    product_channel: str = ""
    update_every: dict[Severity, timedelta | None] | None = None
    components: tuple[str, ...] = ()


class IncidentRecord(msgspec.Struct, frozen=True):
    """An incident with its timeline and checklist ticks, as loaded together."""

    incident: Incident
    timeline: list[TimelineEntry]
    ticks: dict[str, Tick]


class IncidentService:
    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        tz: tzinfo,
        user: str,
        playbook: Playbook,
        configured: frozenset[str] = frozenset(),
        drill: bool = False,
        templates: TemplateLibrary | None = None,
        templates_dir: Path | None = None,
        draft_options: DraftOptions | None = None,
    ) -> None:
        self.store = store
        self._templates = templates
        self._templates_dir = templates_dir
        self.draft_options = draft_options or DraftOptions()
        self.clock = clock
        self.tz = tz
        self.user = user
        self.playbook = playbook
        self.configured = configured
        self.drill = drill

    # -- reading ---------------------------------------------------------------------
    def get(self, incident_id: str) -> Incident:
        return self.store.get_incident(normalize_id(incident_id))

    def record(self, incident_id: str) -> IncidentRecord:
        iid = normalize_id(incident_id)
        return IncidentRecord(
            self.store.get_incident(iid), self.store.timeline(iid), self.store.ticks(iid)
        )

    @property
    def templates(self) -> TemplateLibrary:
        """The message templates, loaded on first use (they cost a Jinja2 import and a
        test render each, which a cockpit that drafts nothing should not pay at start)."""
        if self._templates is None:
            from cockpit.domain.templates import TemplateLibrary

            self._templates = TemplateLibrary(self._templates_dir)
        return self._templates

    def incidents(self, *, open_only: bool = False) -> list[IncidentSummary]:
        return self.store.list_incidents(open_only=open_only)

    def active_view(
        self, wanted: str | None
    ) -> tuple[IncidentRecord | None, ChecklistView | None, list[IncidentSummary], object]:
        """What the cockpit screen shows: the incident `wanted` (or the newest open one,
        or none), its checklist, the open incidents and the store's data version."""
        open_incidents = self.incidents(open_only=True)
        iid = wanted
        if iid is None and open_incidents:
            iid = open_incidents[0].id
        version = self.store.data_version(iid)
        if iid is None:
            return None, None, open_incidents, version
        record = self.record(iid)
        return record, self.checklist(record.incident, record.ticks), open_incidents, version

    def checklist(self, incident: Incident, ticks: dict[str, Tick]) -> ChecklistView:
        return checklist_view(self.playbook, ticks, self.condition_context(incident))

    def condition_context(self, incident: Incident) -> ConditionContext:
        return ConditionContext(
            severity=incident.severity, status=incident.status, configured=self.configured
        )

    def parse_time(self, text: str | None, incident: Incident | None = None) -> datetime:
        """What the user typed as a time (None = now), checked against the incident."""
        now = self.clock.now()
        at = now if text is None else parse_when(text, now=now, tz=self.tz)
        if incident is not None:
            check_event_time(at, reported_at=incident.first_reported_at, now=now, tz=self.tz)
        elif at > now:
            check_event_time(at, reported_at=at, now=now, tz=self.tz)
        return at

    # -- changing --------------------------------------------------------------------
    def raise_incident(
        self,
        title: str,
        *,
        severity: Severity | None = None,
        reported_at: str | datetime | None = None,
        thread: str = "",
        summary: str = "",
        acknowledge: bool = True,
        also: Also | None = None,
    ) -> Incident:
        """Record a new incident. Without a ticket system it is tracked at once (the
        acknowledgement SLO stops now); with one, the ticket's creation acknowledges it.
        `also` adds what the same write carries (its ticks, its raise chain)."""
        title = " ".join(title.split())
        if not title:
            raise CockpitError("an incident needs a title (what is broken, for whom?)")
        now = self.clock.now()
        if isinstance(reported_at, datetime):
            first = reported_at
        elif reported_at:
            first = parse_when(reported_at, now=now, tz=self.tz)
        else:
            first = now
        check_event_time(first, reported_at=first, now=now, tz=self.tz)
        incident = Incident(
            id=self.store.next_incident_id(),
            title=title,
            summary=summary,
            first_reported_at=first,
            created_at=now,
            created_by=self.user,
            drill=self.drill,
        )
        if thread:
            incident.links.thread = Link(url=thread, label="report thread")
        entries = [
            TimelineEntry.new(
                incident.id,
                kind=EntryKind.NOTE,
                text=f"reported: {title}",
                event_at=first,
                recorded_at=now,
                author=self.user,
                link=thread,
            )
        ]
        entries.append(
            TimelineEntry.new(
                incident.id,
                kind=EntryKind.ACTION,
                text=f"incident {incident.id} raised in cockpit",
                event_at=now,
                recorded_at=now,
                author=self.user,
            )
        )
        if severity is not None:
            entries.append(incident.set_severity(severity, at=now, by=self.user))
        if acknowledge:
            entries.append(incident.acknowledge(at=now, by=self.user))
        ch = IncidentChange(incident)
        if also is not None:
            also(ch)
        self.store.create_incident(incident, [*entries, *ch.entries], ticks=ch.ticks, docs=ch.docs)
        return incident

    def add_note(
        self,
        incident_id: str,
        text: str,
        *,
        at: str | None = None,
        kind: EntryKind = EntryKind.NOTE,
        link: str = "",
        also: Also | None = None,
    ) -> TimelineEntry:
        """A note on the timeline. A resolved or canceled incident takes late notes too
        (the root cause confirmed the next day): the entry says it came after the end.
        `also` adds to the same write (a tick, a comment for the ticket)."""
        incident = self.get(incident_id)
        if not text.strip():
            raise CockpitError("a note needs some text")
        text = text.strip()
        if not incident.is_open:
            text = f"(after the incident ended, {incident.status.label}) {text}"
        when = self.parse_time(at, incident)
        if also is None:
            return self._record(incident, kind, text, when, link)
        entry = TimelineEntry.new(
            incident.id,
            kind=kind,
            text=text,
            event_at=when,
            recorded_at=self.clock.now(),
            author=self.user,
            link=link,
        )

        def change(ch: IncidentChange) -> TimelineEntry:
            ch.save = False
            ch.entries.append(entry)
            also(ch)
            return entry

        return self.store.change(incident.id, change)

    def pin_message(
        self, incident_id: str, text: str, *, at: datetime, author: str, link: str = ""
    ) -> TimelineEntry:
        """A message kept on the timeline at its own time (clamped to the report time)."""
        incident = self.get(incident_id)
        when = min(max(at, incident.first_reported_at), self.clock.now())
        return self._record(
            incident, EntryKind.PINNED, f"{author}: {text}" if author else text, when, link
        )

    def _record(
        self, incident: Incident, kind: EntryKind, text: str, when: datetime, link: str
    ) -> TimelineEntry:
        """One entry by this user, recorded now for the time `when`, written at once."""
        entry = TimelineEntry.new(
            incident.id,
            kind=kind,
            text=text,
            event_at=when,
            recorded_at=self.clock.now(),
            author=self.user,
            link=link,
        )
        self.store.add_entries(incident.id, [entry])
        return entry

    def edit_entry_time(
        self, incident_id: str, entry_id: str, at: str
    ) -> tuple[TimelineEntry, bool]:
        """Move an entry to another time; returns it and whether the move puts it out of
        the order it was recorded in (the UI warns about that)."""
        incident = self.get(incident_id)
        entries = self.store.timeline(incident.id)
        entry = next((e for e in entries if e.id == entry_id), None)
        if entry is None:
            raise CockpitError(f"no timeline entry {entry_id} on incident {incident.id}")
        when = self.parse_time(at, incident)
        moved = entry.with_event_at(when, edited_at=self.clock.now())
        self.store.update_entry(moved)
        out_of_order = any(
            (e.recorded_at < moved.recorded_at and e.event_at > moved.event_at)
            or (e.recorded_at > moved.recorded_at and e.event_at < moved.event_at)
            for e in entries
            if e.id != moved.id
        )
        return moved, out_of_order

    def set_status(
        self, incident_id: str, status: Status, *, reason: str = "", also: Also | None = None
    ) -> Incident:
        """Move the incident to `status`, checked against its current status under its
        file's lock (two cockpits racing to RESOLVED and CANCELED: one is refused)."""

        def change(ch: IncidentChange) -> Incident:
            now = self.clock.now()
            ch.entries.append(ch.incident.transition(status, at=now, by=self.user, reason=reason))
            if also is not None:
                also(ch)
            return ch.incident

        return self.store.change(normalize_id(incident_id), change)

    def set_severity(
        self,
        incident_id: str,
        severity: Severity,
        assessment: Assessment | None = None,
        *,
        also: Also | None = None,
    ) -> Incident:
        def change(ch: IncidentChange) -> Incident:
            incident, now = ch.incident, self.clock.now()
            if incident.severity != severity:
                ch.entries.append(incident.set_severity(severity, at=now, by=self.user))
            if assessment is not None and assessment != incident.assessment:
                ch.entries.append(incident.record_assessment(assessment, at=now, by=self.user))
            if not ch.entries:
                raise CockpitError(f"incident {incident.id} is already {severity.label}")
            if also is not None:
                also(ch)
            return incident

        return self.store.change(normalize_id(incident_id), change)

    def assign(
        self, incident_id: str, role: Role, person: str, *, also: Also | None = None
    ) -> Incident:
        def change(ch: IncidentChange) -> Incident:
            now = self.clock.now()
            ch.entries.append(ch.incident.assign(role, person, at=now, by=self.user))
            if also is not None:
                also(ch)
            return ch.incident

        return self.store.change(normalize_id(incident_id), change)

    def update(
        self, incident_id: str, fn: Callable[[Incident], Sequence[TimelineEntry]]
    ) -> Incident:
        """Change an incident (title, summary, links …) under its lock: `fn` changes the
        current version in place and returns the entries to add."""

        def change(ch: IncidentChange) -> Incident:
            ch.entries.extend(fn(ch.incident))
            return ch.incident

        return self.store.change(normalize_id(incident_id), change)

    def tick(self, incident_id: str, item_id: str, ticked: bool = True) -> Tick:
        """Tick (or untick) a checklist item. The tick itself records who and when; the
        timeline is kept for what happened, so ticks do not clutter it."""
        iid = normalize_id(incident_id)
        item = self.playbook.item(item_id)
        self.check_tickable(self.get(iid), item)
        tick = Tick(item_id=item.id, ticked=ticked, by=self.user, at=self.clock.now())
        self.store.set_tick(iid, tick)
        return tick

    def check_tickable(self, incident: Incident, item: Item) -> None:
        """CockpitError, saying why, when `item` cannot be ticked in `incident`'s state."""
        if item.tickable(incident.status):
            return
        after = ", ".join(f"“{i.text}”" for i in self.playbook.items if i.after)
        also = (
            f"; only the post-incident items can still be ticked: {after}"
            if incident.status is Status.RESOLVED and after
            else ""
        )
        raise CockpitError(
            f"incident {incident.id} is {incident.status.label}: its checklist is read-only{also}"
        )

    def tick_in(self, ch: IncidentChange, item_id: str, at: datetime | None = None) -> bool:
        """Within a change: tick an item an action just completed (at `at`, now if not
        given), if this playbook has it and it is not ticked yet (a custom playbook may
        not). True if it ticked."""
        if not item_id or not any(i.id == item_id for i in self.playbook.items):
            return False
        if ch.ticked(item_id):
            return False
        when = at if at is not None else self.clock.now()
        ch.ticks.append(Tick(item_id=item_id, ticked=True, by=self.user, at=when))
        return True

    def tick_done(self, incident_id: str, item_id: str) -> bool:
        """Tick an item that an action just completed (see `tick_in`), in a write of its own."""

        def change(ch: IncidentChange) -> bool:
            ch.save = False
            return self.tick_in(ch, item_id)

        return self.store.change(normalize_id(incident_id), change)

    # -- drafts ----------------------------------------------------------------------
    def drafts(self, incident_id: str) -> list[Draft]:
        docs = self.store.docs(normalize_id(incident_id), "drafts")
        return sorted((Draft.from_dict(d) for d in docs), key=lambda d: d.created_at)

    def draft_context(
        self, incident: Incident, entries: Sequence[TimelineEntry]
    ) -> dict[str, object]:
        opts = self.draft_options
        every = None
        if incident.severity is not None and opts.update_every is not None:
            every = opts.update_every.get(incident.severity)
        from cockpit.domain.templates import build_context

        return build_context(
            incident,
            entries,
            now=self.clock.now(),
            tz=self.tz,
            guide_url=opts.guide_url,
            product_channel=opts.product_channel,
            next_update_in=every,
            components=opts.components,
        )

    def render(self, incident_id: str, template: str) -> str:
        rec = self.record(incident_id)
        return self.templates.render(template, self.draft_context(rec.incident, rec.timeline))

    def new_draft(self, incident_id: str, template: str) -> Draft:
        rec = self.record(incident_id)
        ctx = self.draft_context(rec.incident, rec.timeline)
        draft = self.templates.draft(template, ctx, at=self.clock.now())
        self.store.put_doc(rec.incident.id, "drafts", draft.to_dict())
        return draft

    def get_draft(self, incident_id: str, draft_id: str) -> Draft:
        for d in self.drafts(incident_id):
            if d.id == draft_id:
                return d
        raise NotFound(f"no draft {draft_id} on incident {incident_id}")

    def edit_draft(self, incident_id: str, draft_id: str, body: str) -> Draft:
        draft = self.get_draft(incident_id, draft_id).with_body(body, at=self.clock.now())
        self.store.put_doc(normalize_id(incident_id), "drafts", draft.to_dict())
        return draft

    def handoff(self, active_id: str | None) -> Draft:
        """The shift hand-off: every open incident (roles, what is due), what is still
        waiting or failed in the outbox, open follow-ups; kept as a draft on the active
        incident (or the newest open one) and noted on each open incident's timeline."""
        from cockpit.domain.outbox import OutboxItem, OutboxState
        from cockpit.domain.templates import build_context

        rows = self.incidents(open_only=True)
        if not rows:
            raise CockpitError("no incident is open: there is nothing to hand over")
        incidents = self.store.load_incidents([r.id for r in rows])
        base = next((i for i in incidents if i.id == active_id), incidents[0])
        tasks: list[str] = []
        for inc in incidents:
            name = inc.links.ticket.label if inc.links.ticket else f"incident {inc.id}"
            for doc in self.store.docs(inc.id, "outbox"):
                item = OutboxItem.from_dict(doc)
                if item.state is OutboxState.FAILED:
                    tasks.append(f"{name}: {item.title} FAILED ({item.reason})")
                elif item.state.pending:
                    tasks.append(f"{name}: {item.title} still waiting to go out")
            for link in inc.links.follow_ups:
                tasks.append(f"{name}: follow-up {link.label or link.url}")
            view = self.checklist(inc, self.store.ticks(inc.id))
            left = view.total - view.done
            if left:
                tasks.append(f"{name}: {left} checklist item{'s' if left != 1 else ''} open")
        every = None
        opts = self.draft_options
        if base.severity is not None and opts.update_every is not None:
            every = opts.update_every.get(base.severity)
        now = self.clock.now()
        ctx = build_context(
            base,
            self.store.timeline(base.id),
            now=now,
            tz=self.tz,
            guide_url=opts.guide_url,
            product_channel=opts.product_channel,
            next_update_in=every,
            components=opts.components,
            open_incidents=incidents,
            open_tasks=tasks,
        )
        draft = self.templates.draft("handoff", ctx, at=now)
        self.store.put_doc(base.id, "drafts", draft.to_dict())
        for inc in incidents:
            self.store.add_entries(
                inc.id,
                [
                    TimelineEntry.new(
                        inc.id,
                        kind=EntryKind.HANDOFF,
                        text=f"shift hand-off prepared by {self.user}",
                        event_at=now,
                        recorded_at=now,
                        author=self.user,
                    )
                ],
            )
            self.tick_done(inc.id, "handoff")
        return draft

    def export(self, incident_id: str, fmt: str, calendar: SupportCalendar) -> str:
        """An incident exported: "markdown" (the blameless post-mortem draft), "record"
        (the incident record with its checklist) or "json" (everything, for scripts).
        The one place exports are made: the CLI, the history screen and the drafts use it."""
        from cockpit.domain.export import export_json, export_markdown

        rec = self.record(incident_id)
        if fmt == "markdown":
            return self.postmortem_text(rec, calendar)
        view = self.checklist(rec.incident, rec.ticks)
        if fmt == "json":
            return export_json(rec.incident, rec.timeline, rec.ticks, view=view)
        if fmt == "record":
            return export_markdown(rec.incident, rec.timeline, tz=self.tz, view=view)
        raise CockpitError(f"no export format {fmt!r} (markdown, record or json)")

    def write_export(
        self, incident_id: str, fmt: str, calendar: SupportCalendar, path: Path | None = None
    ) -> Path:
        """Write an export, readable by its owner only (0600); by default into the data
        directory's exports/ folder."""
        text = self.export(incident_id, fmt, calendar)
        if path is None:
            folder = self.store.data_dir / "exports"
            folder.mkdir(mode=0o700, exist_ok=True)
            suffix = {"markdown": "post-mortem.md", "record": "record.md", "json": "json"}[fmt]
            path = folder / f"incident-{normalize_id(incident_id)}-{suffix}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT
        return path

    def postmortem_text(self, rec: IncidentRecord, calendar: SupportCalendar) -> str:
        """The blameless post-mortem (response times against the SLO, the timeline in
        local and UTC time), with every setting the template uses."""
        from cockpit.domain.postmortem import postmortem_markdown

        opts = self.draft_options
        return postmortem_markdown(
            rec.incident,
            rec.timeline,
            calendar=calendar,
            tz=self.tz,
            now=self.clock.now(),
            library=self.templates,
            guide_url=opts.guide_url,
            product_channel=opts.product_channel,
            components=opts.components,
        )

    def postmortem_draft(self, incident_id: str, calendar: SupportCalendar) -> Draft:
        """The post-mortem draft, kept with the incident's drafts."""
        rec = self.record(incident_id)
        now = self.clock.now()
        body = self.postmortem_text(rec, calendar)
        name = (
            rec.incident.links.ticket.label
            if rec.incident.links.ticket
            else f"incident {rec.incident.id}"
        )
        draft = Draft.new(
            rec.incident.id,
            template="post-mortem",
            kind="internal",
            title=f"Post mortem — {name}",
            body=body,
            target="the post-mortem document",
            at=now,
        )
        self.store.put_doc(rec.incident.id, "drafts", draft.to_dict())
        return draft

    def queue_draft(self, incident_id: str, draft_id: str) -> Draft:
        draft = self.get_draft(incident_id, draft_id).mark_queued(at=self.clock.now())
        self.store.put_doc(normalize_id(incident_id), "drafts", draft.to_dict())
        return draft

    def mark_draft_sent_by_hand(self, incident_id: str, draft_id: str) -> Draft:
        """The user copied the draft and posted it themselves: keep that on the timeline
        (the draft and its entry in one write)."""

        def change(ch: IncidentChange) -> Draft:
            ch.save = False
            return self.draft_sent_by_hand_in(ch, draft_id)

        return self.store.change(normalize_id(incident_id), change)

    def draft_sent_by_hand_in(self, ch: IncidentChange, draft_id: str) -> Draft:
        """Within a change: the draft marked sent, and its timeline entry."""
        doc = next((d for d in ch.current_docs("drafts") if d.get("id") == draft_id), None)
        if doc is None:
            raise NotFound(f"no draft {draft_id} on incident {ch.incident.id}")
        now = self.clock.now()
        draft = Draft.from_dict(doc).mark_sent(at=now)
        ch.put_doc("drafts", draft.to_dict())
        ch.entries.append(
            TimelineEntry.new(
                draft.incident_id,
                kind=EntryKind.SENT,
                text=f"{draft.title} — posted by hand to {draft.target}",
                event_at=now,
                recorded_at=now,
                author=self.user,
            )
        )
        return draft

    def delete_draft(self, incident_id: str, draft_id: str) -> None:
        self.store.delete_doc(normalize_id(incident_id), "drafts", draft_id)


def normalize_id(text: str) -> str:
    """Accept "7", "#7" and "inc-7" for incident 7."""
    t = text.strip().lstrip("#")
    if t.lower().startswith("inc-"):
        t = t[4:]
    return t

"""Every user action, defined once: the app's keys, the checklist, the palette and the CLI
all come here.

`ACTIONS` declares what each playbook action is: the dialog the person answers first (if
any), the status it sets, the remote plan it queues and the systems that plan needs, the
draft it makes instead (or when those systems are missing), and what to say when it can
do nothing for you. `IncidentActions` carries them out: the local change, the checklist
items it ticks, the outbox items it queues, the draft it makes, all in one call on the
store's thread, returning a `Done` that says what happened. The callers only ask and
show: one call, one reload.

No Textual and no network here: the outbox sender sends what is queued (in the app's
remote thread, or in the CLI for the incident it changed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from cockpit.application.outbox import (
    OUTBOX,
    keep_item,
    links_on_their_way,
    outbox_item,
    outbox_items,
)
from cockpit.application.planner import Planner
from cockpit.application.service import IncidentService, normalize_id
from cockpit.domain.checklist import Tick
from cockpit.domain.drafts import Draft
from cockpit.domain.errors import CockpitError, IllegalTransition
from cockpit.domain.incident import TRANSITIONS, Assessment, Incident, Role, Severity, Status
from cockpit.domain.outbox import OutboxItem, OutboxState
from cockpit.domain.timeline import EntryKind, TimelineEntry
from cockpit.store.store import IncidentChange

if TYPE_CHECKING:
    from cockpit.application.team import TeamSync
    from cockpit.config import EscalationTarget
    from cockpit.domain.slo import SupportCalendar


class Action(msgspec.Struct, frozen=True):
    """One playbook action, as data.

    ask: the dialog the person answers before anything happens ("raise", "severity",
        "roles", "cancel", "note", "escalate", "follow-up", "bug", "link-bug"); the UI opens it
        and the CLI takes its answers as arguments.
    status: the status it moves the incident to (the ticket follows through the outbox).
    remote: the planner's plan for its remote part, needing the systems in `needs`.
    draft: the template it drafts when there is no remote part to run (or no system).
    run: a local use case run as it is ("handoff", "post-mortem").
    without: what the person does by hand when cockpit can do none of it.
    """

    id: str
    label: str
    ask: str = ""
    status: Status | None = None
    remote: str = ""
    needs: frozenset[str] = frozenset()
    draft: str = ""
    run: str = ""
    without: str = ""


def _a(id: str, label: str, **kw: object) -> Action:
    return Action(id, label, **kw)  # type: ignore[arg-type]


ACTIONS: dict[str, Action] = {
    a.id: a
    for a in (
        _a("raise-incident", "Raise the incident", ask="raise"),
        _a(
            "create-ticket",
            "Create the incident ticket",
            remote="create-ticket",
            needs=frozenset({"jira"}),
            without="Jira is not configured: create the ticket by hand, link it, "
            "then tick this item (x).",
        ),
        _a(
            "create-channel",
            "Create the incident channel",
            remote="create-channel",
            needs=frozenset({"slack"}),
            without="Slack is not configured: create the channel by hand and link it "
            "from the ticket (the playbook's fallback), then tick it.",
        ),
        _a(
            "reply-in-thread",
            "Reply in the report's thread",
            remote="reply-in-thread",
            needs=frozenset({"slack"}),
            draft="thread-reply",
        ),
        _a(
            "post-kickoff",
            "Post the kick-off",
            remote="post-kickoff",
            needs=frozenset({"slack"}),
            draft="kickoff",
        ),
        _a("mark-fixing", "Mark FIXING", status=Status.FIXING),
        _a("assign-roles", "Assign the roles", ask="roles"),
        _a("set-severity", "Set the severity", ask="severity"),
        _a(
            "link-bug",
            "Link a bug",
            ask="link-bug",
            needs=frozenset({"jira"}),
            without="Jira is not configured: link the bug from the ticket by hand, "
            "then tick this item.",
        ),
        _a("cancel-incident", "Cancel: not an incident", ask="cancel"),
        _a(
            "escalate",
            "Escalate",
            ask="escalate",
            without="No escalation directory is configured: find the point person for "
            "the system, invite them to the channel, then tick this item.",
        ),
        _a("internal-update", "Draft the stakeholder update", draft="stakeholder-update"),
        # the playbook's one note item is "Update the ticket with milestones": a note
        # made from it is a comment on the ticket too (IncidentActions.note)
        _a("add-note", "Add a note", ask="note"),
        _a(
            "create-bug",
            "Create the bug",
            ask="bug",
            needs=frozenset({"jira"}),
            without="Jira is not configured: create the bug in the backlog by hand, link "
            "it from the ticket, then tick this item.",
        ),
        _a(
            "statuspage-create",
            "Draft the status page's first update",
            draft="statuspage-investigating",
        ),
        _a("statuspage-update", "Draft a status-page update", draft="statuspage-identified"),
        _a("mark-monitoring", "Mark MONITORING", status=Status.MONITORING),
        _a("handoff", "Prepare the shift hand-off", run="handoff"),
        _a(
            "create-follow-up",
            "Create a follow-up ticket",
            ask="follow-up",
            needs=frozenset({"jira"}),
            without="Jira is not configured: create the follow-up ticket by hand, link "
            "it, then tick this item.",
        ),
        _a(
            "final-update",
            "Post the final update to the ticket",
            remote="final-update",
            needs=frozenset({"jira"}),
            draft="resolution-update",
        ),
        _a("mark-resolved", "Mark RESOLVED", status=Status.RESOLVED),
        _a("statuspage-resolve", "Draft the status page's resolution", draft="statuspage-resolved"),
        _a("post-mortem", "Draft the post mortem", run="post-mortem"),
    )
}

# the checklist item a status change ticks, when the change did not come from an item
STATUS_ITEM = {
    Status.FIXING: "mark-fixing",
    Status.MONITORING: "mark-monitoring",
    Status.RESOLVED: "mark-resolved",
    Status.CANCELED: "not-incident-cancel",
}
# the remote plan of a status change
STATUS_PLAN = {
    Status.FIXING: "mark-fixing",
    Status.MONITORING: "mark-monitoring",
    Status.RESOLVED: "mark-resolved",
    Status.CANCELED: "cancel-incident",
}


def _clean_names(names: Sequence[str]) -> list[str]:
    """Component names as picked: single-line, trimmed, each once, in order."""
    out: list[str] = []
    for name in names:
        name = " ".join(str(name).split())
        if name and name not in out:
            out.append(name)
    return out


def action(action_id: str) -> Action:
    try:
        return ACTIONS[action_id]
    except KeyError:
        raise CockpitError(f"cockpit has no action {action_id!r}") from None


class Done(msgspec.Struct):
    """What an action did, for the caller to say and show."""

    incident: Incident | None = None
    message: str = ""
    queued: list[OutboxItem] = msgspec.field(default_factory=list)
    ticked: list[str] = msgspec.field(default_factory=list)
    draft: Draft | None = None  # a draft it made (to select in the drafts pane)
    postmortem: bool = False  # the draft is the post mortem offered on resolving
    warning: str = ""
    entry: TimelineEntry | None = None  # the note it added
    tick: Tick | None = None  # the tick it recorded (the checklist repaints from it)

    @property
    def incident_id(self) -> str | None:
        if self.incident is not None:
            return self.incident.id
        return self.draft.incident_id if self.draft is not None else None

    def said(self) -> str:
        """The plain words for the person: what changed, then what was queued."""
        parts = [self.message] if self.message else []
        if self.queued:
            parts.append("Queued: " + "; ".join(i.title for i in self.queued))
        return "\n".join(parts)


class IncidentActions:
    """The use cases with their checklist ticks and remote plans (see the module doc)."""

    def __init__(
        self,
        service: IncidentService,
        *,
        calendar: SupportCalendar,
        escalation: dict[str, EscalationTarget] | None = None,
        remote: bool = True,
    ) -> None:
        self.service = service
        self.calendar = calendar
        self.escalation = escalation or {}
        # `remote=False` (the CLI's --local): local changes only, nothing queued
        self.planner: Planner | None = Planner(service.configured) if remote else None
        self.wake: Callable[[], None] = lambda: None  # set by whoever sends the outbox
        # set when changes are shared with the other responders' cockpits (team.py)
        self.team: TeamSync | None = None

    # -- helpers ---------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return self.service.clock.now()

    def _tick(self, done: Done, iid: str, item_id: str) -> None:
        """Tick in a write of its own (the actions that write nothing else)."""
        if item_id and self.service.tick_done(iid, item_id):
            done.ticked.append(item_id)

    def _ticking(self, done: Done, ch: IncidentChange, *item_ids: str) -> None:
        for item_id in item_ids:
            if self.service.tick_in(ch, item_id):
                done.ticked.append(item_id)

    def _queueing(self, done: Done, ch: IncidentChange, items: list[OutboxItem]) -> None:
        """Put the items in the incident's outbox within the same write as the change
        that asked for them: a crash never leaves the one without the other."""
        for item in items:
            ch.put_doc(OUTBOX, item.to_dict())
        done.queued.extend(items)

    def _sent(self, done: Done) -> Done:
        """After the write: wake the sender for what was queued."""
        if done.queued:
            self.wake()
        return done

    def _share(self, done: Done, ch: IncidentChange) -> None:
        """Within a change: tell the other responders' cockpits what it did (a message
        with its team event in the incident's channel, queued in the same write)."""
        if self.team is not None:
            done.queued.extend(self.team.share(ch))

    def _raise_chain(self, incident: Incident) -> list[OutboxItem]:
        assert self.planner is not None
        items = self.planner.raise_chain(incident, self.now)
        if self.team is None:
            return items
        # the reply in the report's thread carries the incident as raised: another
        # cockpit about to raise from the same report joins it instead
        return [self.team.raised_params(i) if i.item_id == "reply-in-thread" else i for i in items]

    def _plain_note(self, incident_id: str, text: str, at: str | None) -> Done:
        if self.team is None:
            entry = self.service.add_note(incident_id, text, at=at)
            return Done(self.service.get(entry.incident_id), "Noted on the timeline.", entry=entry)
        done = Done()
        done.entry = self.service.add_note(
            incident_id, text, at=at, also=lambda ch: self._share(done, ch)
        )
        done.incident = self.service.get(done.entry.incident_id)
        done.message = "Noted on the timeline."
        return self._sent(done)

    def _plan(
        self, name: str, incident: Incident, item_id: str = "", *, ch: IncidentChange | None = None
    ) -> list[OutboxItem]:
        """What the action `name` sends now; `ch`: the change it is queued in (the outbox
        as it is in the file says which links are on their way)."""
        planner = self._planner_now(incident.id, ch)
        if planner is None:
            return []
        return planner.for_action(name, incident, self.now, item_id=item_id)

    def _planner_now(self, incident_id: str, ch: IncidentChange | None) -> Planner | None:
        """The planner for the incident's outbox as it is: a step that needs a ticket, a
        channel or a status-page incident still being made goes behind its create."""
        if self.planner is None:
            return None
        if ch is not None:
            items = [OutboxItem.from_dict(d) for d in ch.current_docs(OUTBOX)]
        else:
            items = outbox_items(self.service.store, normalize_id(incident_id))
        return self.planner.expecting(links_on_their_way(items))

    def configured_for(self, a: Action) -> bool:
        """Whether the action's remote part can run here."""
        return bool(a.remote) and self.planner is not None and a.needs <= self.service.configured

    # -- raising ---------------------------------------------------------------------------
    def raise_incident(
        self,
        title: str,
        *,
        severity: Severity | None = None,
        reported_at: str | datetime | None = None,
        thread: str = "",
    ) -> Done:
        """Record the incident, tick "raise", queue the raise chain (ticket → channel →
        reply in the report's thread) for the systems configured: one write."""
        svc = self.service
        done = Done()

        def also(ch: IncidentChange) -> None:
            # ticked when the incident was made (the time a teammate's cockpit that joins
            # it gets from the raise: both checklists say the same)
            if svc.tick_in(ch, "raise-incident", at=ch.incident.created_at):
                done.ticked.append("raise-incident")
            if self.planner is not None:
                self._queueing(done, ch, self._raise_chain(ch.incident))

        inc = svc.raise_incident(
            title,
            severity=severity,
            reported_at=reported_at,
            thread=thread,
            acknowledge="jira" not in svc.configured or self.planner is None,
            also=also,
        )
        done.incident, done.message = inc, f"Incident #{inc.id} raised."
        return self._sent(done)

    # -- status ----------------------------------------------------------------------------
    def set_status(
        self, incident_id: str, status: Status, *, reason: str = "", item_id: str = ""
    ) -> Done:
        """Change the status (checked against the current one under the incident's lock),
        tick the item that asked for it, queue the ticket's transition (and the thread's
        final update or kind reply), all in one write; a Critical incident resolved gets
        its post-mortem draft."""
        svc = self.service
        done = Done()

        def also(ch: IncidentChange) -> None:
            self._ticking(done, ch, item_id or STATUS_ITEM[status])
            self._queueing(done, ch, self._plan(STATUS_PLAN[status], ch.incident, ch=ch))
            self._share(done, ch)

        inc = svc.set_status(incident_id, status, reason=reason, also=also)
        done.incident, done.message = inc, f"#{inc.id} is {inc.status.label}."
        if status is Status.RESOLVED and inc.severity is Severity.CRITICAL:
            done.draft = svc.postmortem_draft(inc.id, self.calendar)
            done.postmortem = True
            done.message += (
                "\nCritical incident resolved: a post-mortem draft is ready in the drafts "
                "pane (the playbook asks for it within about two days)."
            )
        return self._sent(done)

    def cancel(self, incident_id: str, reason: str, *, item_id: str = "") -> Done:
        if not reason.strip():
            raise IllegalTransition("canceling needs a reason (why is it not an incident?)")
        return self.set_status(incident_id, Status.CANCELED, reason=reason, item_id=item_id)

    def allowed_statuses(self, incident: Incident) -> list[Status]:
        return [s for s in Status if s in TRANSITIONS[incident.status] and s is not Status.CANCELED]

    # -- assess ----------------------------------------------------------------------------
    def set_severity(
        self, incident_id: str, severity: Severity, assessment: Assessment | None = None
    ) -> Done:
        done = Done()

        def also(ch: IncidentChange) -> None:
            self._ticking(done, ch, "set-severity")
            if assessment is not None and assessment.answered == 3:
                self._ticking(done, ch, "answer-assess-questions")
            if any(e.kind is EntryKind.SEVERITY for e in ch.entries):
                # the ticket's priority and severity field follow
                self._queueing(done, ch, self._plan("set-severity", ch.incident, ch=ch))
            self._share(done, ch)

        inc = self.service.set_severity(incident_id, severity, assessment, also=also)
        assert inc.severity is not None
        done.incident, done.message = inc, f"#{inc.id} is {inc.severity.label}."
        return self._sent(done)

    def assign_roles(self, incident_id: str, *, commander: str = "", comms: str = "") -> Done:
        """Give the roles named (unchanged ones are left alone), in one write against the
        current holders; both held ticks the item."""
        svc = self.service
        done = Done()
        said: list[str] = []

        def change(ch: IncidentChange) -> Incident:
            inc, now = ch.incident, self.now
            for role, person in ((Role.COMMANDER, commander), (Role.COMMS, comms)):
                person = " ".join(person.split())
                if person and inc.roles.get(role) != person:
                    ch.entries.append(inc.assign(role, person, at=now, by=svc.user))
                    said.append(f"{role.label}: {person}")
            if inc.commander and inc.comms:
                self._ticking(done, ch, "assign-roles")
            self._share(done, ch)
            return inc

        inc = svc.store.change(normalize_id(incident_id), change)
        done.incident = inc
        done.message = f"#{inc.id} " + ("; ".join(said) if said else "roles unchanged") + "."
        return self._sent(done)

    def hand_off(self, incident_id: str, role: Role, person: str) -> Done:
        """Give a held role (mine, as a rule) to `person`: the entry says it was handed
        over, and the other responders' cockpits are told (a `handoff` team event): every
        header then shows the new holder."""
        svc = self.service
        done = Done()
        person = " ".join(person.split())
        if not person:
            raise CockpitError(f"Name who takes the {role.label} role.")

        def change(ch: IncidentChange) -> Incident:
            inc = ch.incident
            held = inc.roles.get(role, "")
            if not held:
                raise CockpitError(f"Nobody holds {role.label} on #{inc.id}: assign it (A).")
            if held == person:
                raise CockpitError(f"{person} already holds {role.label} on #{inc.id}.")
            entry = inc.assign(role, person, at=self.now, by=svc.user)
            text = f"{role.label} handed over: {held} → {inc.roles[role]}"
            ch.entries.append(msgspec.structs.replace(entry, text=text))
            self._share(done, ch)
            return inc

        inc = svc.store.change(normalize_id(incident_id), change)
        done.incident = inc
        done.message = f"#{inc.id} {role.label} handed over to {inc.roles[role]}."
        return self._sent(done)

    def assign(self, incident_id: str, role: Role, person: str) -> Done:
        if role is Role.COMMANDER:
            return self.assign_roles(incident_id, commander=person)
        return self.assign_roles(incident_id, comms=person)

    # -- timeline --------------------------------------------------------------------------
    def note(
        self, incident_id: str, text: str, *, at: str | None = None, item_id: str = ""
    ) -> Done:
        """A note on the timeline. Made from the checklist's note item (`item_id`; the
        default playbook's "Update the ticket with milestones") it is a milestone: also a
        comment on the ticket, queued in the same write, and the item ticked."""
        item = next((i for i in self.service.playbook.items if i.id == item_id), None)
        milestone = item is not None and item.action == "add-note"
        if not milestone:
            return self._plain_note(incident_id, text, at)
        done = Done()
        planner = self.planner

        def also(ch: IncidentChange) -> None:
            self._ticking(done, ch, item_id)
            if planner is not None:
                planner_now = self._planner_now(ch.incident.id, ch) or planner
                self._queueing(done, ch, planner_now.milestone(ch.incident, text.strip(), self.now))
            self._share(done, ch)

        entry = done.entry = self.service.add_note(incident_id, text, at=at, also=also)
        done.incident = self.service.get(entry.incident_id)
        done.message = (
            "Noted on the timeline."
            if done.queued
            else (
                "Noted on the timeline (no ticket to comment on: "
                + (
                    "Jira is not configured)."
                    if "jira" not in self.service.configured
                    else "it is not created yet)."
                )
            )
        )
        return self._sent(done)

    def pin(self, incident_id: str, text: str, *, at: datetime, author: str, link: str) -> Done:
        entry = self.service.pin_message(incident_id, text, at=at, author=author, link=link)
        return Done(self.service.get(entry.incident_id), "Pinned to the timeline.")

    # -- the checklist ---------------------------------------------------------------------
    def tick(self, incident_id: str, item_id: str, ticked: bool = True) -> Done:
        if self.team is None:
            tick = self.service.tick(incident_id, item_id, ticked)
        else:
            tick = self.team.tick(incident_id, item_id, ticked)
            self.wake()  # (what the tick tells the team is queued with it)
        return Done(None, "", ticked=[tick.item_id] if tick.ticked else [], tick=tick)

    def preview(self, incident_id: str, action_id: str, *, item_id: str = "") -> list[OutboxItem]:
        """What `run` would send for this action now (nothing is written): the UI shows it
        in a confirm dialog before anything goes to Slack, Jira or the status page."""
        a = action(action_id)
        if a.status is not None:
            plan = STATUS_PLAN[a.status]
        elif self.configured_for(a):
            plan = a.remote
        else:
            return []
        return self._plan(plan, self.service.get(incident_id), item_id)

    def run(self, incident_id: str, action_id: str, *, item_id: str = "") -> Done:
        """Run a checklist item's action that needs no dialog: a status change, the remote
        part (when its systems are configured), a draft, a local use case, or the plain
        words for doing it by hand."""
        a = action(action_id)
        if a.ask:
            raise CockpitError(f"“{a.label}” asks first: use its dialog or command")
        if a.status is not None:
            return self.set_status(incident_id, a.status, item_id=item_id)
        if a.run == "handoff":
            return self.handoff(incident_id)
        if a.run == "post-mortem":
            return self.postmortem(incident_id)
        if self.configured_for(a):
            done = Done()

            def plan(ch: IncidentChange) -> Incident:
                if not ch.incident.is_open:
                    raise CockpitError(
                        f"incident {ch.incident.id} is {ch.incident.status.label}: "
                        "it can no longer change"
                    )
                ch.save = False
                self._queueing(done, ch, self._plan(a.remote, ch.incident, item_id, ch=ch))
                return ch.incident

            done.incident = self.service.store.change(normalize_id(incident_id), plan)
            if done.queued:
                return self._sent(done)
        if a.draft:
            draft = self.service.new_draft(incident_id, a.draft)
            return Done(None, f"Drafted: {draft.title}", draft=draft)
        item = next((i for i in self.service.playbook.items if i.id == item_id), None)
        text = a.without or f"“{item.text if item else a.label}”: do it, then tick it with x."
        return Done(None, text)

    def _queue(
        self,
        incident_id: str,
        plan: Callable[[IncidentChange], list[OutboxItem]],
        *,
        done: Done | None = None,
        also: Callable[[IncidentChange], None] | None = None,
    ) -> Done:
        """Queue what `plan` makes of the incident as it is now, in one write (with what
        `also` adds to it), then wake the sender."""
        done = done or Done()

        def change(ch: IncidentChange) -> Incident:
            ch.save = False
            if also is not None:
                also(ch)
            self._queueing(done, ch, plan(ch))
            return ch.incident

        done.incident = self.service.store.change(normalize_id(incident_id), change)
        return self._sent(done)

    # -- Jira follow-ups and escalation ----------------------------------------------------
    def follow_up(
        self, incident_id: str, summary: str, *, kind: str = "follow-up", item_id: str = ""
    ) -> Done:
        planner = self._jira_planner()
        item_id = item_id or ("create-follow-ups" if kind != "bug" else "")
        return self._queue(
            incident_id,
            lambda ch: planner.follow_up(
                ch.incident, summary, self.now, kind=kind, item_id=item_id
            ),
        )

    def link_bug(
        self, incident_id: str, key: str, *, item_id: str = "not-incident-link-bug"
    ) -> Done:
        planner = self._jira_planner()
        return self._queue(
            incident_id,
            lambda ch: planner.link_bug(ch.incident, key.strip(), self.now, item_id=item_id),
        )

    def _jira_planner(self) -> Planner:
        if "jira" not in self.service.configured:
            raise CockpitError("Jira is not configured ([jira] in the config)")
        if self.planner is None:
            raise CockpitError("local only (--local): nothing goes to Jira")
        return self.planner

    def escalate(self, incident_id: str, target_key: str, *, item_id: str = "escalate") -> Done:
        """Record the point people as subject-matter experts; invite them to the channel
        and tell them why (Slack), or say whom to contact."""
        target = self.escalation.get(target_key)
        if target is None:
            known = ", ".join(sorted(self.escalation)) or "none configured"
            raise CockpitError(f"no escalation target {target_key!r} (known: {known})")
        svc = self.service
        who = ", ".join(target.contacts) or ", ".join(target.slack_ids)
        text = f"subject-matter expert for {target.name}: {who}"
        if target.links:
            text += " — " + " ".join(target.links)
        entry = svc.add_note(
            incident_id, text, kind=EntryKind.ROLE, link=target.links[0] if target.links else ""
        )
        planner = self.planner
        done = self._queue(
            entry.incident_id,
            lambda ch: (
                planner.escalate(ch.incident, target, self.now, item_id=item_id)
                if planner is not None
                else []
            ),
        )
        if not done.queued:
            self._tick(done, entry.incident_id, item_id)
            done.message = (
                f"Recorded. Contact {who} yourself: Slack is not configured to invite them."
            )
        return done

    # -- drafts ----------------------------------------------------------------------------
    def new_draft(self, incident_id: str, template: str) -> Done:
        draft = self.service.new_draft(incident_id, template)
        return Done(None, f"Drafted: {draft.title}", draft=draft)

    def send_draft(
        self, incident_id: str, draft_id: str, *, components: Sequence[str] | None = None
    ) -> Done:
        """Queue a draft, exactly as the person saw it, where it goes: the draft marked
        QUEUED and its outbox items in one write. `components`: for a status-page update,
        the affected components the person picked from the page's list (kept on the
        incident, so the next updates and the resolution name them; None: the
        incident's as they are)."""
        svc = self.service
        draft = svc.get_draft(incident_id, draft_id)
        done = Done()
        picked = None if components is None else _clean_names(components)

        def plan(ch: IncidentChange) -> list[OutboxItem]:
            planner_now = self._planner_now(ch.incident.id, ch)
            items = (
                [] if planner_now is None else planner_now.for_draft(draft, ch.incident, self.now)
            )
            if not items:
                raise CockpitError(f"“{draft.title}” has nowhere to go from here: copy it instead")
            return items

        def queued(ch: IncidentChange) -> None:
            done.draft = draft.mark_queued(at=self.now)
            ch.put_doc("drafts", done.draft.to_dict())
            inc = ch.incident
            if draft.public and picked is not None and picked != inc.affected_components:
                inc.affected_components = picked
                ch.save = True

        return self._queue(incident_id, plan, done=done, also=queued)

    def outbox(self, incident_id: str) -> list[OutboxItem]:
        return outbox_items(self.service.store, normalize_id(incident_id))

    def retry(self, incident_id: str, item_id: str) -> Done:
        """Send a failed step again (its draft is QUEUED again)."""
        item = outbox_item(self.service.store, normalize_id(incident_id), item_id)
        if item.state is not OutboxState.FAILED:
            raise CockpitError(f"“{item.title}” has not failed: nothing to retry")
        keep_item(self.service.store, item.retried(at=self.now), self.now)
        self.wake()
        return Done(None, f"Retrying: {item.title}")

    def discard(self, incident_id: str, item_id: str) -> Done:
        """Give up on a failed or waiting step (it is kept, marked DISCARDED)."""
        item = outbox_item(self.service.store, normalize_id(incident_id), item_id)
        if not (item.state is OutboxState.FAILED or item.state.pending):
            raise CockpitError(f"“{item.title}” is {item.state.label}: nothing to discard")
        keep_item(self.service.store, item.discarded(at=self.now), self.now)
        self.wake()  # the items held back behind it may go now
        return Done(None, f"Discarded: {item.title}")

    def sent_by_hand(self, incident_id: str, draft_id: str) -> Done:
        if self.team is None:
            draft = self.service.mark_draft_sent_by_hand(incident_id, draft_id)
        else:
            draft = self.team.sent_by_hand(incident_id, draft_id)
            self.wake()  # (what it tells the team is queued with it)
        return Done(None, "Kept on the timeline as posted by hand.", draft=draft)

    def handoff(self, active_id: str | None) -> Done:
        draft = self.service.handoff(active_id)
        return Done(None, "Hand-off drafted (drafts pane): copy or send it.", draft=draft)

    def postmortem(self, incident_id: str) -> Done:
        draft = self.service.postmortem_draft(normalize_id(incident_id), self.calendar)
        return Done(None, "Post-mortem draft ready in the drafts pane.", draft=draft)

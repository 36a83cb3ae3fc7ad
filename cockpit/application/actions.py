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

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from cockpit.application.outbox import keep_item, outbox_item, outbox_items
from cockpit.application.planner import Planner
from cockpit.application.service import IncidentService, normalize_id
from cockpit.domain.drafts import Draft
from cockpit.domain.errors import CockpitError, IllegalTransition
from cockpit.domain.incident import TRANSITIONS, Assessment, Incident, Role, Severity, Status
from cockpit.domain.outbox import OutboxItem, OutboxState
from cockpit.domain.timeline import EntryKind

if TYPE_CHECKING:
    from cockpit.config import EscalationTarget
    from cockpit.domain.slo import SupportCalendar


@dataclass(frozen=True)
class Action:
    """One playbook action, as data.

    ask: the dialog the person answers before anything happens ("raise", "severity",
        "roles", "cancel", "note", "escalate", "follow-up", "link-bug"); the UI opens it
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
        _a("add-note", "Add a note", ask="note"),
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


def action(action_id: str) -> Action:
    try:
        return ACTIONS[action_id]
    except KeyError:
        raise CockpitError(f"cockpit has no action {action_id!r}") from None


@dataclass
class Done:
    """What an action did, for the caller to say and show."""

    incident: Incident | None = None
    message: str = ""
    queued: list[OutboxItem] = field(default_factory=list)
    ticked: list[str] = field(default_factory=list)
    draft: Draft | None = None  # a draft it made (to select in the drafts pane)
    postmortem: bool = False  # the draft is the post mortem offered on resolving
    warning: str = ""

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

    # -- helpers ---------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return self.service.clock.now()

    def _has_item(self, item_id: str) -> bool:
        return any(i.id == item_id for i in self.service.playbook.items)

    def _tick(self, done: Done, iid: str, item_id: str) -> None:
        if item_id and self._has_item(item_id) and self.service.tick_done(iid, item_id):
            done.ticked.append(item_id)

    def _queue(self, done: Done, items: list[OutboxItem]) -> None:
        """Keep the items in the incident's outbox (on disk before anything is sent)."""
        for item in items:
            keep_item(self.service.store, item, self.now)
        done.queued.extend(items)
        if items:
            self.wake()

    def _plan(self, name: str, incident: Incident, item_id: str = "") -> list[OutboxItem]:
        if self.planner is None:
            return []
        return self.planner.for_action(name, incident, self.now, item_id=item_id)

    def _open(self, incident_id: str) -> Incident:
        inc = self.service.get(incident_id)
        if not inc.is_open:
            raise CockpitError(f"incident {inc.id} is {inc.status.label}: it can no longer change")
        return inc

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
        reply in the report's thread) for the systems configured."""
        svc = self.service
        inc = svc.raise_incident(
            title,
            severity=severity,
            reported_at=reported_at,
            thread=thread,
            acknowledge="jira" not in svc.configured or self.planner is None,
        )
        done = Done(inc, f"Incident #{inc.id} raised.")
        self._tick(done, inc.id, "raise-incident")
        if self.planner is not None:
            self._queue(done, self.planner.raise_chain(inc, self.now))
        return done

    # -- status ----------------------------------------------------------------------------
    def set_status(
        self, incident_id: str, status: Status, *, reason: str = "", item_id: str = ""
    ) -> Done:
        """Change the status here and now, tick the item that asked for it, queue the
        ticket's transition (and the thread's final update or kind reply); a Critical
        incident resolved gets its post-mortem draft."""
        svc = self.service
        inc = svc.set_status(incident_id, status, reason=reason)
        done = Done(inc, f"#{inc.id} is {inc.status.label}.")
        self._tick(done, inc.id, item_id or STATUS_ITEM[status])
        self._queue(done, self._plan(STATUS_PLAN[status], inc))
        if status is Status.RESOLVED and inc.severity is Severity.CRITICAL:
            done.draft = svc.postmortem_draft(inc.id, self.calendar)
            done.postmortem = True
            done.message += (
                "\nCritical incident resolved: a post-mortem draft is ready in the drafts "
                "pane (the playbook asks for it within about two days)."
            )
        return done

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
        inc = self.service.set_severity(incident_id, severity, assessment)
        assert inc.severity is not None
        done = Done(inc, f"#{inc.id} is {inc.severity.label}.")
        self._tick(done, inc.id, "set-severity")
        if assessment is not None and assessment.answered == 3:
            self._tick(done, inc.id, "answer-assess-questions")
        return done

    def assign_roles(self, incident_id: str, *, commander: str = "", comms: str = "") -> Done:
        """Give the roles named (unchanged ones are left alone); both held ticks the item."""
        svc = self.service
        inc = svc.get(incident_id)
        said = []
        for role, person in ((Role.COMMANDER, commander), (Role.COMMS, comms)):
            person = " ".join(person.split())
            if person and inc.roles.get(role) != person:
                inc = svc.assign(inc.id, role, person)
                said.append(f"{role.label}: {person}")
        done = Done(inc, f"#{inc.id} " + ("; ".join(said) if said else "roles unchanged") + ".")
        if inc.commander and inc.comms:
            self._tick(done, inc.id, "assign-roles")
        return done

    def assign(self, incident_id: str, role: Role, person: str) -> Done:
        if role is Role.COMMANDER:
            return self.assign_roles(incident_id, commander=person)
        return self.assign_roles(incident_id, comms=person)

    # -- timeline --------------------------------------------------------------------------
    def note(self, incident_id: str, text: str, *, at: str | None = None) -> Done:
        entry = self.service.add_note(incident_id, text, at=at)
        return Done(self.service.get(entry.incident_id), "Noted on the timeline.")

    def pin(self, incident_id: str, text: str, *, at: datetime, author: str, link: str) -> Done:
        entry = self.service.pin_message(incident_id, text, at=at, author=author, link=link)
        return Done(self.service.get(entry.incident_id), "Pinned to the timeline.")

    # -- the checklist ---------------------------------------------------------------------
    def tick(self, incident_id: str, item_id: str, ticked: bool = True) -> Done:
        tick = self.service.tick(incident_id, item_id, ticked)
        return Done(None, "", ticked=[tick.item_id] if tick.ticked else [])

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
            inc = self._open(incident_id)
            done = Done(inc)
            self._queue(done, self._plan(a.remote, inc, item_id))
            if done.queued:
                return done
        if a.draft:
            draft = self.service.new_draft(incident_id, a.draft)
            return Done(None, f"Drafted: {draft.title}", draft=draft)
        item = next((i for i in self.service.playbook.items if i.id == item_id), None)
        text = a.without or f"“{item.text if item else a.label}”: do it, then tick it with x."
        return Done(None, text)

    # -- Jira follow-ups and escalation ----------------------------------------------------
    def follow_up(
        self, incident_id: str, summary: str, *, kind: str = "follow-up", item_id: str = ""
    ) -> Done:
        inc = self._ticketed(incident_id)
        done = Done(inc)
        item_id = item_id or ("create-follow-ups" if kind != "bug" else "")
        if self.planner is not None:
            self._queue(
                done, self.planner.follow_up(inc, summary, self.now, kind=kind, item_id=item_id)
            )
        return done

    def link_bug(
        self, incident_id: str, key: str, *, item_id: str = "not-incident-link-bug"
    ) -> Done:
        inc = self._ticketed(incident_id)
        done = Done(inc)
        if self.planner is not None:
            self._queue(done, self.planner.link_bug(inc, key.strip(), self.now, item_id=item_id))
        return done

    def _ticketed(self, incident_id: str) -> Incident:
        if "jira" not in self.service.configured:
            raise CockpitError("Jira is not configured ([jira] in the config)")
        return self.service.get(incident_id)

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
        inc = svc.get(entry.incident_id)
        done = Done(inc)
        if self.planner is not None:
            self._queue(done, self.planner.escalate(inc, target, self.now, item_id=item_id))
        if not done.queued:
            self._tick(done, inc.id, item_id)
            done.message = (
                f"Recorded. Contact {who} yourself: Slack is not configured to invite them."
            )
        return done

    # -- drafts ----------------------------------------------------------------------------
    def new_draft(self, incident_id: str, template: str) -> Done:
        draft = self.service.new_draft(incident_id, template)
        return Done(None, f"Drafted: {draft.title}", draft=draft)

    def send_draft(self, incident_id: str, draft_id: str) -> Done:
        """Queue a draft, exactly as the person saw it, where it goes."""
        svc = self.service
        draft = svc.get_draft(incident_id, draft_id)
        inc = svc.get(incident_id)
        items = [] if self.planner is None else self.planner.for_draft(draft, inc, self.now)
        if not items:
            raise CockpitError(f"“{draft.title}” has nowhere to go from here: copy it instead")
        done = Done(inc, draft=svc.queue_draft(incident_id, draft_id))
        self._queue(done, items)
        return done

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
        self.wake()
        return Done(None, f"Discarded: {item.title}")

    def sent_by_hand(self, incident_id: str, draft_id: str) -> Done:
        draft = self.service.mark_draft_sent_by_hand(incident_id, draft_id)
        return Done(None, "Kept on the timeline as posted by hand.", draft=draft)

    def handoff(self, active_id: str | None) -> Done:
        draft = self.service.handoff(active_id)
        return Done(None, "Hand-off drafted (drafts pane): copy or send it.", draft=draft)

    def postmortem(self, incident_id: str) -> Done:
        draft = self.service.postmortem_draft(normalize_id(incident_id), self.calendar)
        return Done(None, "Post-mortem draft ready in the drafts pane.", draft=draft)

"""The cockpit screen: header with the SLO clock, four panes, footer."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget

from cockpit.application.actions import ACTIONS, STATUS_PLAN
from cockpit.application.service import IncidentRecord
from cockpit.domain.incident import TRANSITIONS, Severity, Status
from cockpit.domain.playbook import ItemState
from cockpit.ui import commands
from cockpit.ui.host import CockpitHost
from cockpit.ui.messages import (
    FeedArrived,
    FeedMessageChosen,
    FeedModeChanged,
    FeedNamesOnScreen,
    IncidentChanged,
    IncidentLoaded,
    RemoteStatusChanged,
)
from cockpit.ui.widgets.drafts import DraftsPane
from cockpit.ui.widgets.feed import FeedView
from cockpit.ui.widgets.header import IncidentHeader, severity_content
from cockpit.ui.widgets.keybar import KeyBar
from cockpit.ui.widgets.panes import ChecklistPane, TimelinePane

if TYPE_CHECKING:
    from cockpit.application.actions import Done
    from cockpit.domain.incident import Incident
    from cockpit.domain.outbox import OutboxItem
    from cockpit.domain.team import Known, Received

PANES = ("feed", "timeline", "checklist", "drafts")


class CockpitScreen(Screen[None]):
    BINDINGS = [
        *commands.bindings("screen"),
        # ctrl+c quits as ctrl+q does (Textual's own ctrl+c only says to press ctrl+q)
        Binding("ctrl+c", "app.quit", "Quit", show=False, priority=True),
        Binding("tab", "app.focus_next", "Next pane", show=False),
        Binding("shift+tab", "app.focus_previous", "Previous pane", show=False),
    ]

    app: CockpitHost
    AUTO_FOCUS = "#checklist"

    def __init__(self) -> None:
        super().__init__(id="cockpit")
        self.record: IncidentRecord | None = None
        self.active_id: str | None = None
        self._reload_timer: Any = None

    # -- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        s = self.app.services
        yield IncidentHeader(s.clock, s.calendar, s.settings.update_every(), drill=s.drill)
        with Grid(id="panes"):
            feed = FeedView(
                tz=s.settings.tz,
                is_waking=s.is_waking,
                id="feed",
                empty_text=self.app.feed_empty_text,
            )
            feed.border_title = "1 Feed"
            yield feed
            checklist = ChecklistPane(id="checklist")
            checklist.border_title = "3 Checklist"
            yield checklist
            timeline = TimelinePane(tz=s.settings.tz, id="timeline")
            timeline.border_title = "2 Timeline"
            yield timeline
            drafts = DraftsPane(id="drafts")
            drafts.border_title = "4 Drafts"
            yield drafts
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self.active_id = self.app.initial_incident_id
        self._seen_version: object = None
        first = self.app.take_first_load()
        if first is None:
            self.reload()
        elif first.done() and first.exception() is None:
            # read while the app started: shown in the very first frame
            self.on_incident_loaded(IncidentLoaded(*first.result()))
        else:  # still reading (or it failed): its result, or its error said, once it is in
            self._load_with(first.result)
        self.set_interval(2.0, self._check_other_writers)

    def _check_other_writers(self) -> None:
        """The CLI (or a second cockpit) may write while we run: two stats every 2 s tell
        whether the index or the active incident's file changed; if so, reload."""
        store = self.app.services.service.store
        iid = self.active_id

        def version() -> object:
            return store.data_version(iid)

        def compare(v: object) -> None:
            if v != self._seen_version:
                self._seen_version = v
                self.reload()

        self.app.store_call("check for changes", version, compare)

    # -- loading -------------------------------------------------------------------------
    def reload(self) -> None:
        """Reload the active incident (or pick the newest open one) off the UI thread."""
        svc = self.app.services.service
        wanted = self.active_id
        self._load_with(lambda: svc.active_view(wanted))

    def _load_with(self, read: Callable[[], Any]) -> None:
        def loaded(view: Any) -> None:
            self.post_message(IncidentLoaded(*view))

        self.app.store_call("load incident", read, loaded)

    def on_incident_loaded(self, event: IncidentLoaded) -> None:
        self.record = event.record
        self._seen_version = event.version
        incident = event.record.incident if event.record else None
        self.active_id = incident.id if incident else None
        self.app.remember_incident(self.active_id)
        # built after the first frame (ui/app.py), which then tells it the active incident
        remote = self.app.services.built_remote
        # who else has it open in cockpit (as the remote side last read it: plain data)
        here = remote.also_here(incident.id) if remote is not None and incident else []
        self.query_one(IncidentHeader).show(incident, len(event.open_incidents), here)
        self.query_one(TimelinePane).show(event.record.timeline if event.record else [])
        self.query_one(ChecklistPane).show(event.checklist)
        self.query_one(DraftsPane).show(event.record)
        if event.record is not None and remote is not None:
            remote.changed(event.record.incident)
        self.sub_title = f"#{incident.id} {incident.title}" if incident else ""

    # -- the remote side's reports ----------------------------------------------------------
    def on_feed_arrived(self, event: FeedArrived) -> None:
        self.query_one(FeedView).add_messages(event.messages)

    def on_feed_names_on_screen(self, event: FeedNamesOnScreen) -> None:
        remote = self.app.services.built_remote
        if remote is not None:
            remote.on_screen(event.keys)

    def on_incident_changed(self, event: IncidentChanged) -> None:
        if event.incident_id == self.active_id:
            if self._reload_timer is not None:
                self._reload_timer.stop()
            self._reload_timer = self.set_timer(0.15, self.reload)

    def on_remote_status_changed(self, event: RemoteStatusChanged) -> None:
        self.query_one(FeedView).remote_status = event.text

    def on_feed_mode_changed(self, event: FeedModeChanged) -> None:
        feed = self.query_one(FeedView)
        feed.mode = event.label
        feed.tooltip = event.detail or None

    def act(self, label: str, fn: Callable[[], Done]) -> None:
        """Run an action of the application layer off the UI thread (one store call), then
        say what it did and reload once."""
        self.app.store_call(label, fn, self.acted)

    def acted(self, done: Done) -> None:
        if done.incident_id is not None and done.incident is not None:
            self.active_id = done.incident_id
        if done.draft is not None:
            self.active_id = done.draft.incident_id
            self.query_one(DraftsPane).select_next = f"d:{done.draft.id}"
        said = done.said()
        if said:
            self.notify(
                said,
                title="Post mortem" if done.postmortem else "",
                markup=False,
                timeout=10 if done.postmortem else 5,
            )
        self.reload()

    def change(
        self,
        label: str,
        fn: Callable[[], Any],
        then: Callable[[Any], None] | None = None,
        *,
        switch_to: Callable[[Any], str] | None = None,
    ) -> None:
        """Run a store change off the UI thread, then reload the incident."""

        def done(result: Any) -> None:
            if switch_to is not None:
                self.active_id = switch_to(result)
            if then is not None:
                then(result)
            self.reload()

        self.app.store_call(label, fn, done)

    def refuse(self, text: str, title: str = "Not possible now") -> None:
        """An action refused: said in a dialog, never a toast alone. The dialog takes the
        keys, so what was being typed (a note for a dialog that did not open) does not
        reach the panes' one-letter keys (`r` raises, `p` pins …)."""
        from cockpit.ui.dialogs.message import refuse

        refuse(self.app, text, title)

    def require_incident(self, *, closed_too: bool = False) -> IncidentRecord | None:
        """The active incident, if there is one that can still change (or, `closed_too`,
        one that has ended: late notes). A resolved or canceled incident (opened from the
        history) is otherwise read-only; a refusal says so in a dialog."""
        if self.record is None:
            self.refuse("There is no active incident: R raises one, I switches to an open one.")
            return None
        inc = self.record.incident
        if not inc.is_open and not closed_too:
            self.refuse(
                f"#{inc.id} is {inc.status.label}: it is shown read-only. "
                "A late note can still be added: n.",
                title=f"#{inc.id} has ended",
            )
            return None
        return self.record

    def check_time(self, incident: Any = None) -> Callable[[str], object]:
        """For a dialog: read a typed time as the store will (empty = now), raising what
        is wrong with it, so the dialog says so and keeps what was typed."""
        svc = self.app.services.service
        return lambda text: svc.parse_time(text.strip() or None, incident)

    # -- focus ---------------------------------------------------------------------------
    def on_descendant_focus(self, event: Any) -> None:
        self._last_focus = event.widget
        drafts = self.query_one(DraftsPane)
        in_drafts = event.widget is drafts or drafts in event.widget.ancestors
        self.set_class(in_drafts, "-drafts-focus")

    def on_screen_resume(self) -> None:
        """Back from a dialog: focus goes back where it was, not to a default pane."""
        self.query_one(KeyBar).follow(self)
        last = getattr(self, "_last_focus", None)
        if last is not None and last.is_attached and last.focusable and self.focused is not last:
            self.set_focus(last)

    def action_focus_pane(self, name: str) -> None:
        found = self.query(f"#{name}")
        if not found:
            return
        widget = found.first(Widget)
        if not widget.focusable:
            widget = next((w for w in widget.query("*") if w.focusable), widget)
        self.set_focus(widget)  # at once: the next key may already be on its way

    def action_help(self) -> None:
        """`?`: the focused pane's keys first, then the global ones."""
        focused = self.focused
        for name in PANES:
            pane = self.query_one(f"#{name}")
            if focused is not None and (focused is pane or pane in focused.ancestors):
                title = str(pane.border_title or name).lstrip("1234 ")
                self.show_help(f"the {title} pane", pane)
                return
        self.show_help("", None)

    def show_help(self, here: str, node: Any) -> None:
        """The help screen, with `node`'s own keys (a pane, a dialog) listed first."""
        from cockpit.ui.screens.help import HelpScreen, live_rows

        rows = live_rows(self.app, node) if node is not None else []
        self.app.push_screen(HelpScreen(self.app.live_keys(), here=here, here_keys=rows))

    def on_screen_suspend(self) -> None:
        # a dialog on top: the key bar shows its keys while it is open
        self.call_after_refresh(lambda: self.query_one(KeyBar).follow(self.app.screen))

    def action_next_theme(self) -> None:
        self.app.cycle_theme()

    # -- incident commands ----------------------------------------------------------------
    def action_raise_incident(
        self,
        title: str = "",
        reported_at: str = "",
        thread: str = "",
        source: str = "",
        *,
        unprompted: bool = False,
        look_problem: str = "",
    ) -> None:
        """The raise dialog; `unprompted`: it opens by itself (after a look-up), so it
        takes no key pressed a moment before for the screen below; `look_problem`: why
        that look for a teammate's raise failed (the dialog says it)."""
        from cockpit.ui.dialogs.incident import RaiseModal, RaiseRequest

        actions = self.app.services.actions

        def done(req: object) -> None:
            if isinstance(req, RaiseRequest):
                self.act(
                    "raise incident",
                    lambda: actions.raise_incident(
                        req.title,
                        severity=req.severity,
                        reported_at=req.reported_at or None,
                        thread=req.thread,
                    ),
                )

        modal = RaiseModal(
            title=title,
            reported_at=reported_at,
            thread=thread,
            source=source,
            check_time=self.check_time(),
            look_problem=look_problem,
        )
        modal.unprompted = unprompted
        self.app.push_screen(modal, done)

    def raise_or_join(self, *, title: str, reported_at: str, thread: str, source: str) -> None:
        """Raising from a report: first a look in its thread (on the remote side) for a
        teammate's raise, which is offered to join instead of raising it twice."""

        def raise_it(*, unprompted: bool = False, look_problem: str = "") -> None:
            self.action_raise_incident(
                title=title,
                reported_at=reported_at,
                thread=thread,
                source=source,
                unprompted=unprompted,
                look_problem=look_problem,
            )

        remote = self.app.services.built_remote
        team = self.app.services.actions.team
        if remote is None or team is None or not team.enabled:
            raise_it()
            return
        app = self.app

        def found(r: Received | None, problem: str) -> None:  # on the remote thread
            if app.is_running:
                with contextlib.suppress(RuntimeError):
                    app.call_from_thread(self.offer_join, r, problem, raise_it)

        if remote.look_for_raise(thread, found):
            self.notify("Looking for a teammate's raise in the report's thread…", timeout=3)
        else:
            raise_it()

    def offer_join(
        self, found: Received | None, problem: str, raise_it: Callable[..., None]
    ) -> None:
        """When the look in the report's thread ends (not at a keypress): the join offer,
        or the raise dialog; either takes no key pressed a moment before it opened."""
        from cockpit.ui.dialogs.join import JoinModal

        if found is None:
            # a look that failed is said in the raise dialog itself (a toast would sit
            # behind it): the person may ask the team before raising it a second time
            raise_it(unprompted=True, look_problem=problem)
            return
        team = self.app.services.actions.team
        assert team is not None

        def done(choice: str | None) -> None:
            if choice == "join":
                self.change("join incident", lambda: team.join(found), switch_to=_incident_id)
            elif choice == "raise":
                raise_it()

        modal = JoinModal(found)
        modal.unprompted = True  # it opens when the look ends, not at a keypress
        self.app.push_screen(modal, done)

    def action_settle_conflict(self) -> None:
        """`C`: a teammate's change, or one made in Jira, not applied here (a status move
        not legal from what this cockpit holds): marked settled, what is held here stays
        (change it to agree)."""
        from cockpit.ui.dialogs.prompts import ChoiceModal

        # (an ended incident too: a reopen in Jira is the conflict an ended one meets)
        rec = self.require_incident(closed_too=True)
        team = self.app.services.actions.team
        if rec is None:
            return
        if team is None:
            self.refuse("No conflicts here: neither Slack nor Jira is configured.")
            return
        iid = rec.incident.id

        def listed(conflicts: list[Known]) -> None:
            if not conflicts:
                self.notify(f"No conflict to settle on #{iid}.", markup=False)
                return
            choices = [
                (
                    k.event.id,
                    Content.assemble(
                        (k.event.by or "a teammate", ".dialog--strong"),
                        ": ",
                        k.event.describe(),
                        (f" — {k.conflict}", ".dialog--muted"),
                    ),
                )
                for k in conflicts
            ]

            def picked(event_id: str | None) -> None:
                if event_id:
                    self.change("settle conflict", lambda: team.settle(iid, event_id))

            self.app.push_screen(
                ChoiceModal("Settle a conflict (what this cockpit holds stays)", choices),
                picked,
            )

        self.app.store_call("read conflicts", lambda: team.conflicts(iid), listed)

    def action_set_severity(self) -> None:
        from cockpit.ui.dialogs.incident import SeverityModal, SeverityRequest

        rec = self.require_incident()
        if rec is None:
            return
        actions = self.app.services.actions
        defs = {s: d.description for s, d in self.app.services.settings.severities.items()}
        iid = rec.incident.id

        def done(req: object) -> None:
            if isinstance(req, SeverityRequest):
                self.act(
                    "set severity", lambda: actions.set_severity(iid, req.severity, req.assessment)
                )

        self.app.push_screen(SeverityModal(rec.incident, defs), done)

    def action_change_status(self) -> None:
        from cockpit.ui.dialogs.incident import StatusModal

        rec = self.require_incident()
        if rec is None:
            return
        inc = rec.incident
        allowed = self.app.services.actions.allowed_statuses(inc)
        if not allowed:
            self.refuse(f"#{inc.id} is {inc.status.label}: no status follows it.")
            return

        def done(status: Status | None) -> None:
            if status is not None:
                self.set_status(inc.id, status)

        self.app.push_screen(StatusModal(inc, allowed), done)

    def set_status(self, iid: str, status: Status, reason: str = "", *, item_id: str = "") -> None:
        """Change the status (ticking the item that asked for it); the ticket follows
        through the outbox (what it sends is confirmed first); a Critical incident
        resolved gets its post-mortem draft."""
        services = self.app.services
        actions = services.actions

        def plan() -> list[OutboxItem]:
            if actions.planner is None:
                return []
            incident = services.service.get(iid)
            return actions.planner.for_action(STATUS_PLAN[status], incident, actions.now)

        self.confirm_remote(
            f"Mark {status.label}?",
            plan,
            lambda: self.act(
                f"mark {status.label}",
                lambda: actions.set_status(iid, status, reason=reason, item_id=item_id),
            ),
        )

    def confirm_remote(
        self, title: str, plan: Callable[[], list[OutboxItem]], go: Callable[[], None]
    ) -> None:
        """Nothing goes to Slack, Jira or the status page without a deliberate confirm:
        what `plan` would queue (read off the UI thread, nothing written) is shown in a
        `ConfirmSend` that waits for ctrl+s (or its button); escape cancels. When nothing
        would be sent (no system configured for it), `go` runs at once."""
        from cockpit.ui.dialogs.send import ConfirmSend, describe

        services = self.app.services

        def read() -> tuple[list[OutboxItem], dict[str, str]]:
            items = plan()
            texts: dict[str, str] = {}
            for item in items:
                template = item.params.get("template")
                if isinstance(template, str) and template:
                    incident = services.service.get(item.incident_id)
                    texts[item.id] = services.render(incident, template)
                elif isinstance(item.params.get("summary"), str):
                    texts[item.id] = item.params["summary"]
            return items, texts

        def shown(preview: tuple[list[OutboxItem], dict[str, str]]) -> None:
            items, texts = preview
            if not items:
                go()
                return
            where, body = describe(items, texts)

            def confirmed(ok: object) -> None:
                if ok:
                    go()

            self.app.push_screen(
                ConfirmSend(where=where, body=body, warnings=[], title=title), confirmed
            )

        self.app.store_call("preview what goes out", read, shown)

    def action_cancel_incident(self) -> None:
        from cockpit.ui.dialogs.incident import CancelModal

        rec = self.require_incident()
        if rec is None:
            return
        inc = rec.incident
        if Status.CANCELED not in TRANSITIONS[inc.status]:
            self.refuse(f"#{inc.id} is {inc.status.label}: it can no longer be canceled.")
            return

        def done(reason: object) -> None:
            if isinstance(reason, str):
                self.set_status(inc.id, Status.CANCELED, reason)

        self.app.push_screen(CancelModal(), done)

    def action_assign_roles(self) -> None:
        from cockpit.ui.dialogs.incident import RolesModal, RolesRequest

        rec = self.require_incident()
        if rec is None:
            return
        actions = self.app.services.actions
        iid = rec.incident.id

        def done(req: object) -> None:
            if isinstance(req, RolesRequest):
                self.act(
                    "assign roles",
                    lambda: actions.assign_roles(iid, commander=req.commander, comms=req.comms),
                )

        self.app.push_screen(RolesModal(rec.incident, self.app.services.settings.user), done)

    def action_give_role(self) -> None:
        """A hand-off: the role I hold, given to a teammate (shared with their cockpits)."""
        from cockpit.domain.incident import Role
        from cockpit.ui.dialogs.prompts import ChoiceModal, TextPrompt

        rec = self.require_incident()
        if rec is None:
            return
        inc, me = rec.incident, self.app.services.settings.user
        actions = self.app.services.actions
        mine = [r for r in (Role.COMMANDER, Role.COMMS) if inc.roles.get(r) == me]
        if not mine:
            self.refuse(f"You hold no role on #{inc.id}: A assigns the roles.")
            return

        def ask(role: Role) -> None:
            def given(name: object) -> None:
                if isinstance(name, str) and name.strip():
                    self.act("hand off", lambda: actions.hand_off(inc.id, role, name))

            prompt = TextPrompt(f"Give {role.label} to", "a teammate's name", required=True)
            self.app.push_screen(prompt, given)

        if len(mine) == 1:
            ask(mine[0])
            return

        def picked(value: object) -> None:
            if isinstance(value, str):
                ask(Role(value))

        choices = [(r.value, Content(r.label)) for r in mine]
        self.app.push_screen(ChoiceModal("Which role do you give?", choices), picked)

    def action_add_note(self, item_id: str = "") -> None:
        """A note on the timeline; from the "milestones" item, a comment on the ticket too."""
        from cockpit.ui.dialogs.incident import NoteModal, NoteRequest

        rec = self.require_incident(closed_too=True)  # late notes are welcome
        if rec is None:
            return
        actions = self.app.services.actions
        inc = rec.incident
        iid = inc.id
        late = (
            ""
            if inc.is_open
            else f"#{iid} is {inc.status.label}: the note is marked as added after the end."
        )

        def done(req: object) -> None:
            if isinstance(req, NoteRequest):
                self.act(
                    "add note",
                    lambda: actions.note(iid, req.text, at=req.at or None, item_id=item_id),
                )

        self.app.push_screen(NoteModal(check_time=self.check_time(inc), late=late), done)

    def action_escalate(self, item_id: str = "escalate") -> None:
        """Pick a system: its point people are invited to the channel and told why, and
        recorded on the timeline as subject-matter experts."""
        from cockpit.ui.dialogs.prompts import ChoiceModal

        rec = self.require_incident()
        if rec is None:
            return
        targets = self.app.services.settings.escalation
        if not targets:
            self.refuse(ACTIONS["escalate"].without, title="No escalation targets configured")
            return
        actions = self.app.services.actions
        iid = rec.incident.id
        choices = []
        for key, t in targets.items():
            who = ", ".join(t.contacts) or ", ".join(t.slack_ids) or "no one listed"
            links = "  ".join(t.links)
            choices.append(
                (
                    key,
                    Content.assemble(
                        (t.name, ".dialog--strong"),
                        "  ",
                        (who, ".dialog--highlight"),
                        "\n",
                        (links, ".dialog--muted"),
                    ),
                )
            )

        def picked(key: str | None) -> None:
            if key is not None:
                self.act("escalate", lambda: actions.escalate(iid, key, item_id=item_id))

        self.app.push_screen(ChoiceModal("Escalate: whose system is it?", choices), picked)

    def action_follow_up(
        self, kind: str = "follow-up", item_id: str = "", *, closed_too: bool = False
    ) -> None:
        """A follow-up ticket or a bug (created and linked), or an existing bug linked;
        `closed_too`: from the post-incident item of a RESOLVED incident."""
        from cockpit.ui.dialogs.prompts import TextPrompt

        rec = self.require_incident(closed_too=closed_too)
        if rec is None:
            return
        if "jira" not in self.app.services.settings.configured:
            action_id = {"link-bug": "link-bug", "bug": "create-bug"}.get(kind, "create-follow-up")
            self.refuse(ACTIONS[action_id].without, title="Jira is not configured")
            return
        actions = self.app.services.actions
        iid = rec.incident.id
        if kind == "link-bug":
            prompt = TextPrompt(
                "Link a bug to the ticket", "the bug's key, e.g. BUG-123", required=True
            )
        elif kind == "bug":
            prompt = TextPrompt(
                "Create the bug (in the follow-up project, linked from the ticket)",
                "what is broken, in a line",
                required=True,
            )
        else:
            prompt = TextPrompt("Create a follow-up ticket", "what needs doing", required=True)

        def done(text: object) -> None:
            if not isinstance(text, str) or not text.strip():
                return
            value = text.strip()
            if kind == "link-bug":
                self.act("link bug", lambda: actions.link_bug(iid, value, item_id=item_id))
            elif kind == "bug":
                self.act(
                    "create bug",
                    lambda: actions.follow_up(iid, value, kind="bug", item_id=item_id),
                )
            else:
                self.act("create follow-up", lambda: actions.follow_up(iid, value, item_id=item_id))

        self.app.push_screen(prompt, done)

    def action_switch_incident(self) -> None:
        """`I`: this machine's open incidents at once; the team's (in Jira) when they
        arrive, a team one not held here joined when chosen."""
        from cockpit.ui.dialogs.incidents import TEAM_PREFIX, IncidentsModal

        svc = self.app.services.service
        app = self.app

        def choose(open_incidents: list[Any]) -> None:
            remote = app.services.built_remote
            modal = IncidentsModal(open_incidents, severity_content, looking=False)

            def picked(choice: str | None) -> None:
                if choice is None:
                    return
                if choice.startswith(TEAM_PREFIX):
                    found = modal.chosen_team(choice)
                    if found is not None:
                        self.join_team(found)
                    return
                self.active_id = choice
                self.reload()

            def arrived(found: list[Any], problem: str) -> None:  # on the remote thread
                if app.is_running:
                    with contextlib.suppress(RuntimeError):
                        app.call_from_thread(modal.add_team, found, problem)

            modal.looking = remote is not None and remote.find_team_incidents(arrived)
            self.app.push_screen(modal, picked)

        self.app.store_call("list incidents", lambda: svc.incidents(open_only=True), choose)

    def join_team(self, found: Any) -> None:
        """Join a teammate's incident chosen in `I` (its raise, then its channel's history)."""
        app = self.app
        remote = app.services.built_remote
        ticket = found.ticket

        def joined(incident: Incident | None, problem: str) -> None:  # on the remote thread
            if app.is_running:
                with contextlib.suppress(RuntimeError):
                    app.call_from_thread(self._joined, ticket, incident, problem)

        if remote is None or not remote.join_team_incident(found, joined):
            self.refuse(
                f"{ticket} cannot be joined now: joining needs Jira and Slack configured "
                "and connected.",
            )
            return
        self.notify(f"Joining {ticket}…", timeout=3, markup=False)

    def _joined(self, ticket: str, incident: Incident | None, problem: str) -> None:
        if incident is None:
            self.refuse(f"{ticket} could not be joined: {problem}", title="Not joined")
            return
        self.notify(f"Joined {ticket} as #{incident.id}.", markup=False)
        self.active_id = incident.id
        self.reload()

    def action_metrics(self) -> None:
        from cockpit.ui.screens.metrics import MetricsScreen

        self.app.push_screen(MetricsScreen())

    def action_handoff(self) -> None:
        actions = self.app.services.actions
        active = self.active_id

        def done(result: Done) -> None:
            self.acted(result)
            self.action_focus_pane("drafts")

        self.app.store_call("prepare the hand-off", lambda: actions.handoff(active), done)

    def action_history(self) -> None:
        from cockpit.ui.screens.history import HistoryScreen

        def picked(iid: str | None) -> None:
            if iid is not None:
                self.active_id = iid
                self.reload()

        self.app.push_screen(HistoryScreen(), picked)

    # -- pane events -----------------------------------------------------------------------
    @on(FeedMessageChosen)
    def feed_message_chosen(self, event: FeedMessageChosen) -> None:
        from cockpit.ui.dialogs.message import MessageDetail

        m = event.message
        tz = self.app.services.settings.tz
        if event.action == "raise":
            self.raise_or_join(
                title=m.title_guess(),
                reported_at=m.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                thread=m.permalink,
                source=f"#{m.channel} {m.author}: {m.first_line[:80]}",
            )
        elif event.action == "pin":
            rec = self.require_incident()
            if rec is None:
                return
            actions = self.app.services.actions
            iid = rec.incident.id
            self.act(
                "pin message",
                lambda: actions.pin(iid, m.text, at=m.at, author=m.author, link=m.permalink),
            )
        elif event.action == "open":
            self.app.push_screen(MessageDetail(f"#{m.channel} · {m.author}", m.reader_text))

    @on(ChecklistPane.TickRequested)
    def tick_requested(self, event: ChecklistPane.TickRequested) -> None:
        iv = event.item
        # the post-incident items (post mortem, playbook updates, follow-ups) stay
        # tickable once the incident has ended; everything else is read-only then
        rec = self.require_incident(closed_too=iv.item.after)
        if rec is None:
            return
        if iv.state is ItemState.SKIPPED:
            self.refuse(f"This item is skipped: {iv.skip_reason}")
            return
        services = self.app.services
        ticked = iv.state is not ItemState.DONE
        iid = rec.incident.id

        def show(done: Done) -> None:
            """Only the checklist changes: repaint it without reloading the incident."""
            current = self.record
            if current is None or current.incident.id != iid or done.tick is None:
                return
            ticks = {**current.ticks, iv.item.id: done.tick}
            self.record = IncidentRecord(current.incident, current.timeline, ticks)
            self.query_one(ChecklistPane).show(services.service.checklist(current.incident, ticks))

        # Shown once it is on disk (fsynced): the screen never claims what is not kept. The
        # action's tick, so the team hears of it too.
        self.app.store_call("tick", lambda: services.actions.tick(iid, iv.item.id, ticked), show)

    @on(DraftsPane.Acted)
    def drafts_acted(self, event: DraftsPane.Acted) -> None:
        self.acted(event.done)

    @on(ChecklistPane.RunRequested)
    def run_requested(self, event: ChecklistPane.RunRequested) -> None:
        """`enter` on a checklist item: its action (a dialog first where it asks one),
        or a tick when it has none."""
        item = event.item.item
        if not item.action:
            self.tick_requested(ChecklistPane.TickRequested(event.item))
            return
        a = ACTIONS.get(item.action)
        if a is None:
            self.refuse(f"“{item.text}”: cockpit cannot do this one. Do it, then tick it with x.")
            return
        if a.ask == "raise":
            self.action_raise_incident()
            return
        # a post-incident item (the status page's resolution, follow-ups, the post mortem)
        # still runs once the incident is RESOLVED, as it still ticks
        after = event.item.tickable and item.after
        rec = self.require_incident(closed_too=after)
        if rec is None:
            return
        ask: Callable[[], None] | None = {
            "severity": self.action_set_severity,
            "roles": self.action_assign_roles,
            "cancel": self.action_cancel_incident,
            "note": lambda: self.action_add_note(item.id),
            "escalate": lambda: self.action_escalate(item.id),
            "follow-up": lambda: self.action_follow_up("follow-up", item.id, closed_too=after),
            "link-bug": lambda: self.action_follow_up("link-bug", item.id),
            "bug": lambda: self.action_follow_up("bug", item.id),
        }.get(a.ask)
        if ask is not None:
            ask()
            return
        actions = self.app.services.actions
        iid = rec.incident.id
        self.confirm_remote(
            f"{a.label}?",
            lambda: actions.preview(iid, a.id, item_id=item.id),
            lambda: self.act(a.label, lambda: actions.run(iid, a.id, item_id=item.id)),
        )

    @on(TimelinePane.EditTimeRequested)
    def edit_time_requested(self, event: TimelinePane.EditTimeRequested) -> None:
        from cockpit.ui.dialogs.prompts import TextPrompt

        rec = self.require_incident()
        if rec is None:
            return
        svc = self.app.services.service
        iid = rec.incident.id
        entry = event.entry
        tz = self.app.services.settings.tz
        current = entry.event_at.astimezone(tz).strftime("%H:%M:%S")

        def moved(result: Any) -> None:
            _, out_of_order = result
            if out_of_order:
                self.notify(
                    "Moved. Its time is now out of the order it was recorded in: "
                    "check the timeline still reads right.",
                    severity="warning",
                    title="Out of order",
                    markup=False,
                )

        def done(text: object) -> None:
            if isinstance(text, str) and text.strip():
                self.change("edit time", lambda: svc.edit_entry_time(iid, entry.id, text), moved)

        self.app.push_screen(
            TextPrompt(
                "Change the entry's time",
                "-12m, 14:03 or an ISO time",
                value=current,
                required=True,
                check=self.check_time(rec.incident),
            ),
            done,
        )


def severity_label(severity: Severity | None) -> str:
    return severity.label if severity else "unset"


def _incident_id(incident: Incident) -> str:
    return incident.id

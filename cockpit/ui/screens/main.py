"""The cockpit screen: header with the SLO clock, four panes, footer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget

from cockpit.domain.incident import TRANSITIONS, Role, Severity, Status
from cockpit.domain.playbook import ItemState
from cockpit.service import IncidentRecord
from cockpit.ui import commands
from cockpit.ui.messages import FeedMessageChosen, IncidentLoaded
from cockpit.ui.widgets.feed import FeedView
from cockpit.ui.widgets.header import IncidentHeader, severity_content
from cockpit.ui.widgets.keybar import KeyBar
from cockpit.ui.widgets.panes import ChecklistPane, TimelinePane

if TYPE_CHECKING:
    from cockpit.ui.app import CockpitApp

PANES = ("feed", "timeline", "checklist", "drafts")


class CockpitScreen(Screen[None]):
    BINDINGS = [
        *commands.bindings("screen"),
        Binding("tab", "app.focus_next", "Next pane", show=False),
        Binding("shift+tab", "app.focus_previous", "Previous pane", show=False),
    ]

    app: CockpitApp
    AUTO_FOCUS = "#checklist"

    def __init__(self) -> None:
        super().__init__(id="cockpit")
        self.record: IncidentRecord | None = None
        self.active_id: str | None = None

    # -- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        s = self.app.services
        yield IncidentHeader(s.clock, s.calendar, s.settings.update_every(), drill=s.drill)
        with Grid(id="panes"):
            feed = FeedView(
                tz=s.settings.tz, is_waking=s.is_waking, id="feed", empty_text=s.feed_empty_text
            )
            feed.border_title = "1 Feed"
            yield feed
            checklist = ChecklistPane(id="checklist")
            checklist.border_title = "3 Checklist"
            yield checklist
            timeline = TimelinePane(tz=s.settings.tz, id="timeline")
            timeline.border_title = "2 Timeline"
            yield timeline
            yield from self.app.compose_drafts_pane()
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
        self.query_one(IncidentHeader).show(incident, len(event.open_incidents))
        self.query_one(TimelinePane).show(event.record.timeline if event.record else [])
        self.query_one(ChecklistPane).show(event.checklist)
        self.app.show_drafts(event.record)
        self.app.incident_loaded(event.record)
        self.sub_title = f"#{incident.id} {incident.title}" if incident else ""

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

    def require_incident(self) -> IncidentRecord | None:
        """The active incident, if there is one that can still change. A resolved or
        canceled incident (opened from the history) is shown read-only."""
        if self.record is None:
            self.notify(
                "No active incident: R raises one, I switches.", severity="warning", markup=False
            )
            return None
        inc = self.record.incident
        if not inc.is_open:
            self.notify(
                f"#{inc.id} is {inc.status.label}: shown read-only. A late note: "
                f"cockpit note {inc.id} TEXT",
                severity="warning",
                markup=False,
            )
            return None
        return self.record

    # -- focus ---------------------------------------------------------------------------
    def on_descendant_focus(self, event: Any) -> None:
        self._last_focus = event.widget

    def on_screen_resume(self) -> None:
        """Back from a dialog: focus goes back where it was, not to a default pane."""
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
        from cockpit.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.app.live_keys()))

    def action_next_theme(self) -> None:
        self.app.cycle_theme()

    # -- incident commands ----------------------------------------------------------------
    def action_raise_incident(
        self, title: str = "", reported_at: str = "", thread: str = "", source: str = ""
    ) -> None:
        from cockpit.ui.screens.modals import RaiseModal, RaiseRequest

        svc = self.app.services.service

        def done(req: object) -> None:
            if not isinstance(req, RaiseRequest):
                return

            def raised(inc: Any) -> None:
                self.notify(f"Incident #{inc.id} raised.", markup=False)
                remote = self.app.services.remote
                if remote is not None:
                    self.app.queue_items(
                        "raise", lambda: remote.planner.raise_chain(inc, svc.clock.now())
                    )

            def do_raise() -> Any:
                inc = svc.raise_incident(
                    req.title,
                    severity=req.severity,
                    reported_at=req.reported_at or None,
                    thread=req.thread,
                    acknowledge=self.app.acknowledge_on_raise,
                )
                if any(i.id == "raise-incident" for i in svc.playbook.items):
                    svc.tick(inc.id, "raise-incident")
                return inc

            self.change("raise incident", do_raise, raised, switch_to=lambda inc: inc.id)

        self.app.push_screen(
            RaiseModal(title=title, reported_at=reported_at, thread=thread, source=source), done
        )

    def action_set_severity(self) -> None:
        from cockpit.ui.screens.modals import SeverityModal, SeverityRequest

        rec = self.require_incident()
        if rec is None:
            return
        svc = self.app.services.service
        defs = {s: d.description for s, d in self.app.services.settings.severities.items()}
        iid = rec.incident.id

        def done(req: object) -> None:
            if isinstance(req, SeverityRequest):

                def apply() -> Any:
                    incident = svc.set_severity(iid, req.severity, req.assessment)
                    svc.tick_done(iid, "set-severity")
                    if req.assessment.answered == 3:
                        svc.tick_done(iid, "answer-assess-questions")
                    return incident

                self.change("set severity", apply)

        self.app.push_screen(SeverityModal(rec.incident, defs), done)

    def action_change_status(self) -> None:
        from cockpit.ui.screens.modals import StatusModal

        rec = self.require_incident()
        if rec is None:
            return
        inc = rec.incident
        allowed: list[Status] = [
            s for s in Status if s in TRANSITIONS[inc.status] and s is not Status.CANCELED
        ]
        if not allowed:
            self.notify(f"#{inc.id} is {inc.status.label}: nothing follows.", markup=False)
            return

        def done(status: Status | None) -> None:
            if status is not None:
                self.set_status(inc.id, status)

        self.app.push_screen(StatusModal(inc, allowed), done)

    def set_status(self, iid: str, status: Status, reason: str = "", *, item_id: str = "") -> None:
        """Change the status here and now (ticking the item that asked for it); the ticket
        follows through the outbox."""
        svc = self.app.services.service
        action = {
            Status.FIXING: "mark-fixing",
            Status.MONITORING: "mark-monitoring",
            Status.RESOLVED: "mark-resolved",
            Status.CANCELED: "cancel-incident",
        }[status]
        tick = (
            item_id
            or {
                "mark-fixing": "mark-fixing",
                "mark-monitoring": "mark-monitoring",
                "mark-resolved": "mark-resolved",
                "cancel-incident": "not-incident-cancel",
            }[action]
        )

        def apply() -> Any:
            incident = svc.set_status(iid, status, reason=reason)
            if any(i.id == tick for i in svc.playbook.items):
                svc.tick(iid, tick)
            return incident

        def done(inc: Any) -> None:
            self.notify(f"#{inc.id} is {inc.status.label}.", markup=False)
            self.app.queue_remote(action, iid)
            if status is Status.RESOLVED and inc.severity is Severity.CRITICAL:
                self._offer_postmortem(iid)

        self.change(f"mark {status.label}", apply, done)

    def _offer_postmortem(self, iid: str, *, asked: bool = False) -> None:
        """A Critical incident needs a post mortem within about two days: draft it now."""
        from cockpit.ui.widgets.drafts import DraftsPane

        svc = self.app.services.service
        calendar = self.app.services.calendar

        def drafted(draft: Any) -> None:
            self.query_one(DraftsPane).select_next = f"d:{draft.id}"
            text = (
                "Post-mortem draft ready in the drafts pane."
                if asked
                else "Critical incident resolved: a post-mortem draft is ready in the "
                "drafts pane (the playbook asks for it within about two days)."
            )
            self.notify(
                text,
                title="Post mortem",
                markup=False,
                timeout=10,
            )
            self.reload()

        self.app.store_call(
            "draft the post mortem", lambda: svc.postmortem_draft(iid, calendar), drafted
        )

    def action_cancel_incident(self) -> None:
        from cockpit.ui.screens.modals import CancelModal

        rec = self.require_incident()
        if rec is None:
            return
        inc = rec.incident
        if Status.CANCELED not in TRANSITIONS[inc.status]:
            self.notify(
                f"#{inc.id} is {inc.status.label}: it can no longer be canceled.",
                severity="warning",
                markup=False,
            )
            return

        def done(reason: object) -> None:
            if isinstance(reason, str):
                self.set_status(inc.id, Status.CANCELED, reason)

        self.app.push_screen(CancelModal(), done)

    def action_assign_roles(self) -> None:
        from cockpit.ui.screens.modals import RolesModal, RolesRequest

        rec = self.require_incident()
        if rec is None:
            return
        svc = self.app.services.service
        inc = rec.incident

        def apply(req: RolesRequest) -> None:
            if req.commander and req.commander != inc.commander:
                svc.assign(inc.id, Role.COMMANDER, req.commander)
            if req.comms and req.comms != inc.comms:
                svc.assign(inc.id, Role.COMMS, req.comms)
            if req.commander and req.comms:
                svc.tick_done(inc.id, "assign-roles")

        def done(req: object) -> None:
            if isinstance(req, RolesRequest):
                self.change("assign roles", lambda: apply(req))

        self.app.push_screen(RolesModal(inc, self.app.services.settings.user), done)

    def action_add_note(self) -> None:
        from cockpit.ui.screens.modals import NoteModal, NoteRequest

        rec = self.require_incident()
        if rec is None:
            return
        svc = self.app.services.service
        iid = rec.incident.id

        def done(req: object) -> None:
            if isinstance(req, NoteRequest):
                self.change("add note", lambda: svc.add_note(iid, req.text, at=req.at or None))

        self.app.push_screen(NoteModal(), done)

    def action_switch_incident(self) -> None:
        from cockpit.ui.screens.modals import ChoiceModal

        svc = self.app.services.service

        def choose(open_incidents: list[Any]) -> None:
            choices = [
                (
                    s.id,
                    Content.assemble(
                        (f"#{s.id} ", "bold $primary"),
                        severity_content(s.severity),
                        " ",
                        (f"{s.status.label:<10} ", "$secondary"),
                        (s.title, ""),
                    ),
                )
                for s in open_incidents
            ]

            def picked(iid: str | None) -> None:
                if iid is not None:
                    self.active_id = iid
                    self.reload()

            self.app.push_screen(
                ChoiceModal("Open incidents", choices, "No open incidents. R raises one."), picked
            )

        self.app.store_call("list incidents", lambda: svc.incidents(open_only=True), choose)

    def action_metrics(self) -> None:
        from cockpit.ui.screens.metrics import MetricsScreen

        self.app.push_screen(MetricsScreen())

    def action_handoff(self) -> None:
        from cockpit.ui.widgets.drafts import DraftsPane

        svc = self.app.services.service
        active = self.active_id

        def done(draft: Any) -> None:
            self.active_id = draft.incident_id
            self.query_one(DraftsPane).select_next = f"d:{draft.id}"
            self.notify("Hand-off drafted (drafts pane): copy or send it.", markup=False)
            self.reload()
            self.action_focus_pane("drafts")

        self.app.store_call("prepare the hand-off", lambda: svc.handoff(active), done)

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
        from cockpit.ui.screens.modals import MessageDetail

        m = event.message
        tz = self.app.services.settings.tz
        if event.action == "raise":
            self.action_raise_incident(
                title=m.title_guess(),
                reported_at=m.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                thread=m.permalink,
                source=f"#{m.channel} {m.author}: {m.first_line[:80]}",
            )
        elif event.action == "pin":
            rec = self.require_incident()
            if rec is None:
                return
            svc = self.app.services.service
            iid = rec.incident.id
            self.change(
                "pin message",
                lambda: svc.pin_message(iid, m.text, at=m.at, author=m.author, link=m.permalink),
                lambda e: self.notify("Pinned to the timeline.", markup=False),
            )
        elif event.action == "open":
            self.app.push_screen(MessageDetail(f"#{m.channel} · {m.author}", m.text))

    @on(ChecklistPane.TickRequested)
    def tick_requested(self, event: ChecklistPane.TickRequested) -> None:
        rec = self.require_incident()
        if rec is None:
            return
        iv = event.item
        if iv.state is ItemState.SKIPPED:
            self.notify(f"Skipped: {iv.skip_reason}", markup=False)
            return
        svc = self.app.services.service
        ticked = iv.state is not ItemState.DONE
        iid = rec.incident.id

        def show(tick: Any) -> None:
            """Only the checklist changes: repaint it without reloading the incident."""
            current = self.record
            if current is None or current.incident.id != iid:
                return
            ticks = {**current.ticks, iv.item.id: tick}
            self.record = IncidentRecord(current.incident, current.timeline, ticks)
            self.query_one(ChecklistPane).show(svc.checklist(current.incident, ticks))

        # Shown once it is on disk (fsynced): the screen never claims what is not kept.
        self.app.store_call("tick", lambda: svc.tick(iid, iv.item.id, ticked), show)

    @on(ChecklistPane.RunRequested)
    def run_requested(self, event: ChecklistPane.RunRequested) -> None:
        action = event.item.item.action
        if not action:
            self.tick_requested(ChecklistPane.TickRequested(event.item))
            return
        self.app.run_playbook_action(action, event.item)

    @on(TimelinePane.EditTimeRequested)
    def edit_time_requested(self, event: TimelinePane.EditTimeRequested) -> None:
        from cockpit.ui.screens.modals import TextPrompt

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
            TextPrompt("Change the entry's time", "-12m, 14:03 or an ISO time", value=current), done
        )


def severity_label(severity: Severity | None) -> str:
    return severity.label if severity else "unset"

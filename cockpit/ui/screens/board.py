"""The incident board: a read-only view for stakeholders (`cockpit serve --read-only`).

What it shows: the incident's id, severity, status, title and roles, the SLO clock, its
links, the updates that were sent (never a draft that is not: those are the team's
working text) and the timeline. What it has: keys that move around and look, none that
changes anything. A key that changes something in the cockpit says here that the board
cannot do it.

Which incident: the newest open one (or, with none open, the newest), followed live: a
newer incident raised takes its place, one that ends stays on screen until then. `i`
shows the next open incident instead and stops following; `f` follows again.

Live: the store is polled off the UI thread (`CockpitHost.store_call`): two stats a
second tell whether the index or the shown incident's file changed (whoever wrote it:
the cockpit, the CLI, another machine's sync), and only then is the incident read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from cockpit.commands import COMMANDS
from cockpit.domain.drafts import Draft, DraftState
from cockpit.domain.sanitize import for_display, sanitize
from cockpit.ui.host import CockpitHost
from cockpit.ui.parts import PartStyles, resolve
from cockpit.ui.widgets.header import SloClock, severity_content
from cockpit.ui.widgets.linelist import LineList
from cockpit.ui.widgets.panes import TimelinePane

if TYPE_CHECKING:
    from cockpit.application.service import IncidentRecord, IncidentService
    from cockpit.domain.incident import Incident
    from cockpit.store import IncidentSummary as Summary

# The cockpit's commands that change something: on the board their keys say so.
CHANGING = frozenset(
    {
        "raise",
        "severity",
        "status",
        "cancel",
        "roles",
        "note",
        "handoff",
        "pin",
        "edit-time",
        "tick",
        "run-item",
        "new-draft",
        "edit-draft",
        "retry",
        "discard",
        "send",
    }
)
REFUSED_KEYS = {c.key: c for c in COMMANDS if c.id in CHANGING}
POLL_SECONDS = 1.0  # a change made elsewhere shows within this (plus one read)
SENT_KINDS = ("slack", "statuspage")  # an internal draft (the post mortem) is not an update


@dataclass
class BoardView:
    """What the board shows, read in one store call."""

    record: IncidentRecord | None
    updates: list[Draft] = field(default_factory=list)  # sent, oldest first
    open_incidents: list[Summary] = field(default_factory=list)
    newest_id: str | None = None
    version: object = None


def choose_incident(incidents: list[Summary], shown: str | None, following: bool) -> str | None:
    """The incident the board shows next: while following, the one shown until a newer
    one is raised (so an incident that ends stays up), else the newest open one, else the
    newest; when not following, the one the viewer picked while it exists."""
    ids = {s.id for s in incidents}
    if shown is not None and shown in ids:
        if not following:
            return shown
        newer = [s for s in incidents if int(s.id) > int(shown)]
        if not newer:
            return shown
        return max(newer, key=lambda s: int(s.id)).id
    open_ones = [s for s in incidents if s.is_open]
    if open_ones:
        return open_ones[0].id
    return incidents[0].id if incidents else None


def load_board(service: IncidentService, shown: str | None, following: bool) -> BoardView:
    """Read what the board shows (on the store's thread)."""
    incidents = service.incidents()
    open_incidents = [s for s in incidents if s.is_open]
    iid = choose_incident(incidents, shown, following)
    version = service.store.data_version(iid)
    newest = max((s.id for s in incidents), key=int, default=None)
    if iid is None:
        return BoardView(None, [], open_incidents, newest, version)
    record = service.record(iid)
    updates = [
        d
        for d in service.drafts(iid)
        if d.state is DraftState.SENT and d.kind in SENT_KINDS  # never an unsent draft
    ]
    updates.sort(key=lambda d: d.sent_at or d.updated_at)
    return BoardView(record, updates, open_incidents, newest, version)


class BoardSummary(Widget):
    """The incident in a few lines: id, severity, status, title; roles; times and links."""

    DEFAULT_CSS = """
    BoardSummary {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    BoardSummary > .board--brand, BoardSummary > .board--id { color: $primary; text-style: bold; }
    BoardSummary > .board--title, BoardSummary > .board--person { text-style: bold; }
    BoardSummary > .board--label, BoardSummary > .board--muted { color: $text-muted; }
    BoardSummary > .board--status { color: $secondary; text-style: bold reverse; }
    BoardSummary > .board--ended { color: $success; text-style: bold reverse; }
    BoardSummary > .board--note { color: $text-muted; text-style: italic; }
    BoardSummary > .sev-badge--critical { color: $sev-critical; text-style: bold reverse; }
    BoardSummary > .sev-badge--major { color: $sev-major; text-style: bold reverse; }
    BoardSummary > .sev-badge--minor { color: $sev-minor; text-style: bold reverse; }
    BoardSummary > .sev-badge--unset { color: $sev-unset; text-style: bold reverse; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "board--brand",
        "board--id",
        "board--title",
        "board--person",
        "board--label",
        "board--muted",
        "board--status",
        "board--ended",
        "board--note",
        *(f"sev-badge--{level}" for level in ("critical", "major", "minor", "unset")),
    }

    def __init__(self, tz: tzinfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.view: BoardView | None = None
        self.now: datetime | None = None
        self._parts: PartStyles = {}

    def show(self, view: BoardView, now: datetime) -> None:
        self.view, self.now = view, now
        self.refresh(layout=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._parts.clear()

    def render(self) -> Content:
        return resolve(self, self.summary(), self._parts)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return len(self.summary().plain.split("\n"))

    def _time(self, at: datetime) -> str:
        return at.astimezone(self.tz).strftime("%H:%M")

    def summary(self) -> Content:
        view = self.view
        record = view.record if view else None
        if record is None:
            return Content.assemble(
                ("No incident yet.", ".board--title"),
                ("  This board shows one as soon as it is raised.", ".board--muted"),
            )
        inc = record.incident
        status_part = ".board--status" if inc.is_open else ".board--ended"
        lines = [
            Content.assemble(
                (f"#{inc.id} ", ".board--id"),
                severity_content(inc.severity),
                " ",
                (f" {inc.status.label} ", status_part),
                "  ",
                (for_display(inc.title), ".board--title"),
            ),
            self._roles(inc),
            self._times(inc),
        ]
        links = self._links(inc)
        if links is not None:
            lines.append(links)
        assert view is not None
        others = [s for s in view.open_incidents if s.id != inc.id]
        if others:
            listed = ", ".join(f"#{s.id} {for_display(s.title)}" for s in others[:3])
            more = f" and {len(others) - 3} more" if len(others) > 3 else ""
            lines.append(
                Content.styled(f"Also open: {listed}{more}  (i shows the next)", ".board--note")
            )
        return Content("\n").join(lines)

    def _roles(self, inc: Incident) -> Content:
        def person(name: str) -> tuple[str, str]:
            return (
                (for_display(name), ".board--person") if name else ("not assigned", ".board--note")
            )

        return Content.assemble(
            ("Incident Commander ", ".board--label"),
            person(inc.commander),
            ("   Communications ", ".board--label"),
            person(inc.comms),
        )

    def _times(self, inc: Incident) -> Content:
        parts: list[tuple[str, str] | str] = [
            ("Reported ", ".board--label"),
            self._time(inc.first_reported_at),
        ]
        if self.now is not None and inc.is_open:
            minutes = int((self.now - inc.first_reported_at).total_seconds() // 60)
            parts.append((f" ({minutes} min ago)", ".board--muted"))
        for label, at in (
            ("acknowledged", inc.acknowledged_at),
            ("resolved", inc.resolved_at),
            ("canceled", inc.canceled_at),
            ("last update", inc.last_update_at),
        ):
            if at is not None:
                parts += [(f"  ·  {label} ", ".board--label"), self._time(at)]
        if inc.affected_components:
            affected = ", ".join(for_display(c) for c in inc.affected_components)
            parts += [("  ·  affected ", ".board--label"), affected]
        return Content.assemble(*parts)

    def _links(self, inc: Incident) -> Content | None:
        links = inc.links
        found: list[tuple[str, str] | str] = []
        for label, link in (
            ("ticket", links.ticket),
            ("channel", links.channel),
            ("status page", links.status_page),
        ):
            if link is not None:
                if found:
                    found.append("  ·  ")
                found += [(f"{label} ", ".board--label"), for_display(link.label or link.url)]
        return Content.assemble(*found) if found else None


class UpdatesPane(VerticalScroll):
    """The updates that went out (Slack, the status page), newest first, in full."""

    DEFAULT_CSS = """
    UpdatesPane > .updates--when { color: $text-muted; }
    UpdatesPane > .updates--title { color: $success; text-style: bold; }
    UpdatesPane > .updates--empty { color: $text-muted; text-style: italic; }
    UpdatesPane > Static { padding: 0 1 1 1; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"updates--when", "updates--title", "updates--empty"}

    def __init__(self, tz: tzinfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.updates: list[Draft] = []
        self._parts: PartStyles = {}

    def compose(self) -> ComposeResult:
        yield Static(id="updates-text")

    def show(self, updates: list[Draft]) -> None:
        if [(d.id, d.sent_at) for d in updates] == [(d.id, d.sent_at) for d in self.updates]:
            return
        self.updates = list(updates)
        self._draw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._parts.clear()
        if self.is_mounted:
            self._draw()

    def _draw(self) -> None:
        if not self.updates:
            text = Content.styled(
                "No update has been sent yet. Updates appear here once they are posted.",
                ".updates--empty",
            )
        else:
            blocks = []
            for d in reversed(self.updates):
                at = d.sent_at or d.updated_at
                when = at.astimezone(self.tz).strftime("%H:%M")
                blocks.append(
                    Content.assemble(
                        (f"{when}  ", ".updates--when"),
                        (for_display(d.title), ".updates--title"),
                        (f"  → {for_display(d.target)}", ".updates--when"),
                        "\n",
                        for_display(sanitize(d.body).strip()),
                    )
                )
            text = Content("\n\n").join(blocks)
        self.query_one("#updates-text", Static).update(resolve(self, text, self._parts))
        self.border_subtitle = f"{len(self.updates)} sent" if self.updates else ""


class BoardTimeline(TimelinePane, inherit_bindings=False):
    """The timeline as the cockpit draws it, with the keys that move and none that edit."""

    BINDINGS = list(LineList.BINDINGS)

    def show(self, entries: list[Any], *, keep_bottom: bool = True) -> None:
        super().show(entries, keep_bottom=keep_bottom)
        if not entries:
            empty = Content.styled("No entries yet.", ".timeline--empty")
            self.set_lines([(None, empty, True)])


class BoardScreen(Screen[None]):
    """The read-only board."""

    DEFAULT_CSS = """
    BoardScreen #board-bar {
        height: 1;
        background: $panel;
        padding: 0 1;
    }
    BoardScreen #board-brand { width: 1fr; color: $primary; text-style: bold; }
    BoardScreen #board-panes { height: 1fr; }
    BoardScreen #updates, BoardScreen #timeline {
        width: 1fr;
        height: 1fr;
        border: round $foreground 25%;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
        background: $surface;
    }
    BoardScreen #updates:focus, BoardScreen #timeline:focus {
        border: round $primary;
        border-title-color: $primary;
    }
    BoardScreen #board-keys {
        height: 1;
        padding: 0 1;
        color: $text-muted;
        background: $panel;
    }
    """

    BINDINGS: ClassVar[list[Any]] = [
        Binding("ctrl+c", "app.quit", "Close", show=False, priority=True),
        Binding("tab", "app.focus_next", "Next pane", show=False),
        Binding("shift+tab", "app.focus_previous", "Previous pane", show=False),
        Binding("i,I", "next_incident", "Next open incident", show=False),
        Binding("f", "follow", "Follow the newest", show=False),
        Binding("1", "focus_pane('updates')", "Updates", show=False),
        Binding("2", "focus_pane('timeline')", "Timeline", show=False),
        Binding("ctrl+y", "next_theme", "Theme", show=False),
    ]
    AUTO_FOCUS = "#timeline"

    app: CockpitHost

    def __init__(self) -> None:
        super().__init__(id="board")
        self.view: BoardView | None = None
        self.shown_id: str | None = None
        self.following = True
        self._seen: object = None
        self._loading = False

    def compose(self) -> ComposeResult:
        s = self.app.services
        tz = s.settings.tz
        with Horizontal(id="board-bar"):
            yield Static(Content("cockpit · incident board · read-only"), id="board-brand")
            yield Static(Content(" DRILL "), id="drill-badge")
            yield SloClock(s.clock, s.calendar, s.settings.update_every(), id="slo")
        yield BoardSummary(tz, id="board-summary")
        with Horizontal(id="board-panes"):
            updates = UpdatesPane(tz, id="updates")
            updates.border_title = "1 Updates sent"
            yield updates
            timeline = BoardTimeline(tz=tz, id="timeline")
            timeline.border_title = "2 Timeline"
            yield timeline
        yield Static(
            Content(
                "Read-only: nothing here changes the incident.  ↑↓ scroll · tab next pane · "
                "i next open incident · f follow the newest · ctrl+p commands · ctrl+q close"
            ),
            id="board-keys",
        )

    def on_mount(self) -> None:
        self.query_one("#drill-badge").display = self.app.services.drill
        self.reload()
        self.set_interval(POLL_SECONDS, self._poll)

    # -- following the store ---------------------------------------------------------------
    def _poll(self) -> None:
        """Two stats off the UI thread; a read only when something changed."""
        if self._loading:
            return
        store = self.app.services.store
        iid = self.shown_id

        def changed(version: object) -> None:
            if version != self._seen:
                self.reload()

        self.app.store_call("check for changes", lambda: store.data_version(iid), changed)

    def reload(self) -> None:
        service = self.app.services.service
        shown, following = self.shown_id, self.following
        self._loading = True

        def failed() -> None:
            self._loading = False

        self.app.store_call(
            "read the incident", lambda: load_board(service, shown, following), self.show, failed
        )

    def show(self, view: BoardView) -> None:
        self._loading = False
        self.view = view
        self._seen = view.version
        incident = view.record.incident if view.record else None
        self.shown_id = incident.id if incident else None
        drill = self.app.services.drill or (incident is not None and incident.drill)
        self.query_one("#drill-badge").display = drill
        now = self.app.services.clock.now()
        self.query_one(BoardSummary).show(view, now)
        self.query_one(SloClock).show(incident)
        self.query_one(UpdatesPane).show(view.updates)
        self.query_one(BoardTimeline).show(view.record.timeline if view.record else [])
        self.sub_title = f"#{incident.id} {incident.title}" if incident else ""

    # -- keys --------------------------------------------------------------------------------
    def action_next_incident(self) -> None:
        view = self.view
        if view is None or not view.open_incidents:
            self.notify("No other open incident.", markup=False, timeout=3)
            return
        ids = [s.id for s in view.open_incidents]
        at = ids.index(self.shown_id) if self.shown_id in ids else -1
        nxt = ids[(at + 1) % len(ids)]
        if nxt == self.shown_id:
            self.notify("No other open incident.", markup=False, timeout=3)
            return
        self.shown_id, self.following = nxt, False
        self.notify(f"Showing #{nxt}; f follows the newest again.", markup=False, timeout=3)
        self.reload()

    def action_follow(self) -> None:
        self.following, self.shown_id = True, None  # the newest open one (or the newest)
        self.notify("Following the newest incident.", markup=False, timeout=3)
        self.reload()

    def action_focus_pane(self, pane: str) -> None:
        self.query_one(f"#{pane}").focus()

    def action_next_theme(self) -> None:
        self.app.cycle_theme()

    def on_key(self, event: events.Key) -> None:
        """A key that changes something in the cockpit: said, and nothing happens."""
        cmd = REFUSED_KEYS.get(event.key)
        if cmd is None:
            return
        event.stop()
        event.prevent_default()
        self.notify(
            f"This board is read-only: “{cmd.description}” is done in the cockpit itself.",
            title="Read-only",
            severity="warning",
            markup=False,
            timeout=4,
        )

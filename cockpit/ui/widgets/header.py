"""The header: the active incident and the SLO clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from cockpit.domain.clock import Clock
from cockpit.domain.incident import Incident, Severity
from cockpit.domain.presence import Here, also_here
from cockpit.domain.slo import SupportCalendar, SupportWindow, format_countdown, next_update_due
from cockpit.ui.parts import PartStyles, resolve


def severity_content(severity: Severity | None) -> Content:
    """The severity as a badge: its part (`sev-badge--critical` …) is styled in cockpit.tcss,
    declared by the widgets that show one (the header; dialogs, through `DialogScreen`)."""
    if severity is None:
        return Content.styled(" SEV ? ", ".sev-badge--unset")
    return Content.styled(f" {severity.label.upper()} ", f".sev-badge--{severity.value}")


class SloClock(Static):
    """Before acknowledgement: time left to acknowledge in the current support window.
    After: time to the next update due for the severity."""

    DEFAULT_CLASSES = "slo"

    def __init__(
        self,
        clock: Clock,
        calendar: SupportCalendar,
        update_every: dict[Severity, timedelta | None],
        **kw: object,
    ) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.clock = clock
        self.calendar = calendar
        self.update_every = update_every
        self.incident: Incident | None = None
        self._shown: str | None = None  # the text on screen

    def on_mount(self) -> None:
        self.set_interval(1.0, self.tick)
        self.tick()

    def show(self, incident: Incident | None) -> None:
        self.incident = incident
        self.tick()

    def tick(self) -> None:
        """Every second: the new text is drawn in place; the screen is laid out again only
        when its width changes (a layout each second kept an idle cockpit busy)."""
        text, level = self.describe(self.clock.now())
        self.set_class(level == "warning", "-warning")
        self.set_class(level == "error", "-error")
        self.set_class(level == "ok", "-ok")
        if text == self._shown:
            return
        content = Content(text)
        resized = self._shown is None or content.cell_length != Content(self._shown).cell_length
        self._shown = text
        self.update(content, layout=resized)

    def describe(self, now: datetime) -> tuple[str, str]:
        inc = self.incident
        if inc is None:
            window = self.calendar.window_at(now)
            if window is SupportWindow.LIMITED:
                return "no SLO now (limited support)", "muted"
            ack = window.ack_within
            mins = int(ack.total_seconds() // 60) if ack else 0
            return f"{window.label}: acknowledge within {mins} min", "muted"
        if not inc.is_open:
            return ("resolved" if inc.resolved_at else "canceled"), "muted"
        if inc.acknowledged_at is None:
            st = self.calendar.ack_status(inc.first_reported_at, now)
            if st.deadline is None or st.remaining is None:
                return "no SLO (limited support)", "muted"
            level = "ok"
            if st.overdue:
                level = "error"
            elif st.remaining <= timedelta(minutes=3):
                level = "warning"
            return f"ACK {format_countdown(st.remaining)} · {st.window.label}", level
        since = inc.last_update_at or inc.acknowledged_at
        due = next_update_due(inc.severity, since=since, every=self.update_every)
        if due is None:
            if inc.severity is None:
                return "acknowledged · set the severity", "warning"
            return f"acknowledged · no update cadence for {inc.severity.label}", "ok"
        left = due - now
        level = (
            "error" if left < timedelta(0) else "warning" if left <= timedelta(minutes=5) else "ok"
        )
        return f"UPDATE {format_countdown(left)}", level


TITLE_MIN = 12  # the fewest cells the title keeps before the roles and who is here are cut


class IncidentSummary(Widget):
    """One line: the active incident's id, title, severity and status badges, roles, and
    who else has it open in cockpit ("also here: Bo (Comms)", cockpit.domain.presence).
    Those present are named with their roles there, not again among the roles. When the
    line is too long for the width, the title is shortened (to `TITLE_MIN` cells, with an
    ellipsis) before anything else is cut.

    Drawn from the incident at each render (its parts resolved then), so a theme change
    recolours it at once."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "header--brand",
        "header--id",
        "header--title",
        "header--status",  # a badge
        "header--muted",
        "header--person",
        "header--note",
        "header--here",
        *(f"sev-badge--{level}" for level in ("critical", "major", "minor", "unset")),
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.incident: Incident | None = None
        self.open_count = 0
        self.here: list[Here] = []
        self._parts: PartStyles = {}

    def show(
        self, incident: Incident | None, open_count: int = 0, here: Sequence[Here] = ()
    ) -> None:
        self.incident, self.open_count, self.here = incident, open_count, list(here)
        self.refresh()

    def render(self) -> Content:
        return resolve(self, self.summary(), self._parts)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._parts.clear()

    def summary(self) -> Content:
        incident, open_count = self.incident, self.open_count
        if incident is None:
            return Content.assemble(
                ("cockpit", ".header--brand"),
                "  ",
                ("no active incident", ".header--muted"),
                ("  ·  R raises one", ".header--muted")
                if open_count == 0
                else (f"  ·  {open_count} open: I to switch", ".header--muted"),
            )
        present = {h.person for h in self.here}
        roles: list[tuple[str, str]] = []
        for label, person in (("IC", incident.commander), ("Comms", incident.comms)):
            if person and person not in present:
                roles.append((f"  {label} " if roles else f"{label} ", ".header--muted"))
                roles.append((person, ".header--person"))
        if not roles and not incident.commander and not incident.comms:
            roles.append(("no roles yet", ".header--note"))
        also = also_here(self.here, incident)
        # the other open incidents: all of them when this one has ended (opened from the
        # history, it is not among the open ones)
        others = max(0, open_count - 1) if incident.is_open else open_count
        more = (f"  +{others} open", ".header--muted") if others else ""
        head = Content.assemble(
            (f"#{incident.id} ", ".header--id"),
            severity_content(incident.severity),
            " ",
            (f" {incident.status.label} ", ".header--status"),
            " ",
        )
        return fit(head, incident.title, roles, also, more, self.size.width)


def fit(
    head: Content,
    title: str,
    roles: list[tuple[str, str]],
    also: str,
    more: str | tuple[str, str],
    width: int,
) -> Content:
    """The summary line for `width` cells: the id, severity and status first, always; then
    the roles and who is here, the title shortened for them (to `TITLE_MIN`); narrower,
    "here: Bo (Comms)" for "also here: …"; narrower still, who is here before the roles
    and no title. What does not fit even then is cut at the end."""

    def line(title_min: int, *tail: str | tuple[str, str]) -> Content | None:
        rest = Content.assemble(*tail)
        room = width - head.cell_length - rest.cell_length
        text = Content(title)
        if not width or text.cell_length <= room:
            return Content.assemble(head, (title, ".header--title"), rest)
        if room < title_min:
            return None
        short = text.truncate(room - 1).plain.rstrip() + "…" if room > 1 else ""
        return Content.assemble(head, (short, ".header--title"), rest)

    def sep(parts: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [("  ", ""), *parts] if parts else []

    full = sep([*roles, *sep([(also, ".header--here")] if also else [])])
    short = also.replace("also here: ", "here: ", 1)
    compact = sep([*roles, *sep([(short, ".header--here")] if short else [])])
    first = sep([(short, ".header--here"), *sep(roles)] if short else roles)
    for found in (
        line(TITLE_MIN, *full, more),
        line(TITLE_MIN, *compact, more),
        line(TITLE_MIN // 2, *first, more),
    ):
        if found is not None:
            return found
    return Content.assemble(head.rstrip(), *first, more)


class IncidentHeader(Horizontal):
    """id, title, severity, status, roles, and the SLO clock; a DRILL badge in drills."""

    drill: reactive[bool] = reactive(False)

    def __init__(
        self,
        clock: Clock,
        calendar: SupportCalendar,
        update_every: dict[Severity, timedelta | None],
        *,
        drill: bool = False,
    ) -> None:
        super().__init__(id="header")
        self._slo = SloClock(clock, calendar, update_every, id="slo")
        self._drill = drill

    def compose(self) -> ComposeResult:
        yield Static(Content(" DRILL "), id="drill-badge")
        yield IncidentSummary(id="incident-summary")
        yield self._slo

    def on_mount(self) -> None:
        self.drill = self._drill

    def watch_drill(self, drill: bool) -> None:
        self.query_one("#drill-badge").display = drill

    def show(
        self, incident: Incident | None, open_count: int = 0, here: Sequence[Here] = ()
    ) -> None:
        self.query_one(IncidentSummary).show(incident, open_count, here)
        self._slo.show(incident)

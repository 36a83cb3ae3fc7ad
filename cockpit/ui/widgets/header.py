"""The header: the active incident and the SLO clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from cockpit.domain.clock import Clock
from cockpit.domain.incident import Incident, Severity
from cockpit.domain.slo import SupportCalendar, SupportWindow, format_countdown, next_update_due


def severity_content(severity: Severity | None) -> Content:
    if severity is None:
        return Content.styled(" SEV ? ", "bold $sev-unset reverse")
    return Content.styled(f" {severity.label.upper()} ", f"bold $sev-{severity.value} reverse")


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

    def on_mount(self) -> None:
        self.set_interval(1.0, self.tick)
        self.tick()

    def show(self, incident: Incident | None) -> None:
        self.incident = incident
        self.tick()

    def tick(self) -> None:
        text, level = self.describe(self.clock.now())
        self.set_class(level == "warning", "-warning")
        self.set_class(level == "error", "-error")
        self.set_class(level == "ok", "-ok")
        self.update(Content(text))

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
        yield Static(Content.styled(" DRILL ", "bold"), id="drill-badge")
        yield Static(id="incident-summary")
        yield self._slo

    def on_mount(self) -> None:
        self.drill = self._drill

    def watch_drill(self, drill: bool) -> None:
        self.query_one("#drill-badge").display = drill

    def show(self, incident: Incident | None, open_count: int = 0) -> None:
        summary = self.query_one("#incident-summary", Static)
        if incident is None:
            text = Content.assemble(
                ("cockpit", "bold $primary"),
                "  ",
                ("no active incident", "$text-muted"),
                ("  ·  R raises one", "$text-muted")
                if open_count == 0
                else (f"  ·  {open_count} open: I to switch", "$text-muted"),
            )
        else:
            roles = []
            if incident.commander:
                roles.append(("IC ", "$text-muted"))
                roles.append((incident.commander, "bold"))
            if incident.comms:
                roles.append(("  Comms ", "$text-muted"))
                roles.append((incident.comms, "bold"))
            if not roles:
                roles.append(("no roles yet", "$text-muted italic"))
            more = (f"  +{open_count - 1} open", "$text-muted") if open_count > 1 else ""
            text = Content.assemble(
                (f"#{incident.id} ", "bold $primary"),
                (incident.title, "bold"),
                " ",
                severity_content(incident.severity),
                " ",
                (f" {incident.status.label} ", "bold reverse $secondary"),
                "  ",
                *roles,
                more,
            )
        summary.update(text)
        self._slo.show(incident)

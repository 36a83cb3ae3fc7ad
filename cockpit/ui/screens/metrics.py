"""Response metrics at a glance: incidents per week, by severity, the acknowledgement SLO
per support window, and the response times (median, p90)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Sparkline, Static

from cockpit.ui.dialogs.base import DialogScreen

if TYPE_CHECKING:
    from cockpit.domain.metrics import Metrics
    from cockpit.ui.host import CockpitHost

PERIODS = {"1": "7d", "2": "30d", "3": "90d", "4": "365d"}


class MetricsScreen(DialogScreen[None]):
    BINDINGS = [
        Binding("escape,q", "dismiss(None)", "Close"),
        *[Binding(k, f"period('{v}')", v, show=True) for k, v in PERIODS.items()],
    ]

    app: CockpitHost

    def __init__(self, since: str = "30d") -> None:
        super().__init__()
        self.since = since

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide metrics"):
            yield Label(Content("Response metrics"), id="dialog-title")
            yield Static(id="metrics-period")
            with Horizontal(id="metrics-weeks"):
                yield Static(
                    self.parts(Content.styled("per week ", ".dialog--muted")), classes="spark-label"
                )
                yield Sparkline([], id="weeks-spark")
            with VerticalScroll(id="metrics-body"):
                yield Static(id="metrics-text")

    def on_mount(self) -> None:
        self.load()

    def action_period(self, since: str) -> None:
        self.since = since
        self.load()

    def load(self) -> None:
        from cockpit.domain.metrics import compute_metrics, parse_since

        svc = self.app.services.service
        calendar = self.app.services.calendar
        since_text = self.since

        def compute() -> Metrics:
            now = svc.clock.now()
            since = parse_since(since_text, now=now, tz=calendar.tz)
            # the index's summaries hold what metrics count: no incident file is opened
            rows = [
                r for r in svc.store.list_incidents() if r.first_reported_at >= since or r.is_open
            ]
            return compute_metrics(rows, calendar=calendar, since=since, until=now)

        self.app.store_call("compute metrics", compute, self.show)

    def show(self, m: Any) -> None:
        from cockpit.domain.metrics import render_text

        weeks = [w.reported - w.canceled for w in m.weeks]
        self.query_one("#weeks-spark", Sparkline).data = weeks or [0]
        total = m.total
        self.query_one("#metrics-period", Static).update(
            self.parts(
                Content.assemble(
                    (f"last {self.since}", ".dialog--key"),
                    "  ",
                    (
                        f"{total.reported} reported · {total.reported - total.canceled} real · "
                        f"{total.canceled} canceled",
                        "",
                    ),
                    ("   1 week · 2 month · 3 quarter · 4 year", ".dialog--muted"),
                )
            )
        )
        self.query_one("#metrics-text", Static).update(Content(render_text(m)))

"""Past incidents: browse and search (title, severity, status, date), open one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from cockpit.store.store import IncidentSummary
from cockpit.ui.dialogs.base import DialogScreen
from cockpit.ui.widgets.header import severity_content

if TYPE_CHECKING:
    from cockpit.ui.host import CockpitHost

MAX_ROWS = 200


_DATE_CHARS = frozenset("0123456789-")


def matches(s: IncidentSummary, query: str, tz: Any, text: str | None = None) -> bool:
    """Every word must match the title, id, severity, status, report date, summary,
    cancel reason, who is affected or components (the summary's `text`, or `text`). A
    word `2026-11-01..2026-11-20` (either side may be empty) is a range of report dates."""
    words = query.lower().split()
    if not words:
        return True
    # the report day costs a time-zone conversion: only for words that could be part of it
    dated = any(".." in w or _DATE_CHARS.issuperset(w) for w in words)
    day = s.first_reported_at.astimezone(tz).date().isoformat() if dated else ""
    hay = " ".join(
        [
            s.id,
            s.title,
            s.severity.value if s.severity else "unset",
            s.status.value,
            day,
            s.text if text is None else text,
        ]
    ).lower()
    for word in words:
        if ".." in word:
            start, _, end = word.partition("..")
            if (start and day < start) or (end and day > end):
                return False
        elif word not in hay:
            return False
    return True


class HistoryScreen(DialogScreen[str | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("ctrl+e", "export", "Export post mortem"),
        Binding("down", "focus_list", show=False),
    ]

    app: CockpitHost

    def __init__(self) -> None:
        super().__init__()
        self.all: list[IncidentSummary] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Label(Content("Incidents"), id="dialog-title")
            yield Input(
                placeholder="search: words, critical, resolved, 2026-11, 2026-10-01..2026-10-31"
                " (enter opens, ctrl+e exports)",
                id="search",
            )
            yield OptionList(id="results")

    def on_mount(self) -> None:
        svc = self.app.services.service
        self.app.store_call("list incidents", lambda: svc.incidents(open_only=False), self.loaded)

    def loaded(self, rows: list[IncidentSummary]) -> None:
        # the summaries carry the searched text too: no incident file is read
        self.all = rows
        self.refilter(self.query_one("#search", Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refilter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_focus_list()

    def action_focus_list(self) -> None:
        results = self.query_one("#results", OptionList)
        if results.highlighted is None and results.option_count:
            results.highlighted = 0
        self.set_focus(results)

    def refilter(self, query: str) -> None:
        tz = self.app.services.settings.tz
        found = [s for s in self.all if matches(s, query, tz)]
        results = self.query_one("#results", OptionList)
        results.clear_options()
        for s in found[:MAX_ROWS]:
            day = s.first_reported_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            results.add_option(
                Option(
                    self.parts(
                        Content.assemble(
                            (f"#{s.id:<5}", ".dialog--id"),
                            (f"{day}  ", ".dialog--muted"),
                            severity_content(s.severity),
                            " ",
                            (f"{s.status.label:<10} ", ".dialog--status"),
                            (s.title, ""),
                        ),
                    ),
                    id=s.id,
                )
            )
        more = len(found) - MAX_ROWS
        label = f"{len(found)} incident{'s' if len(found) != 1 else ''}"
        if more > 0:
            label += f" (first {MAX_ROWS} shown; search to narrow)"
        results.border_title = label

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_export(self) -> None:
        """Write the highlighted incident's post-mortem draft next to the data."""
        results = self.query_one("#results", OptionList)
        if results.highlighted is None:
            return
        iid = results.get_option_at_index(results.highlighted).id
        if iid is None:
            return
        services = self.app.services

        def export() -> str:
            return str(services.service.write_export(iid, "markdown", services.calendar))

        self.app.store_call(
            "export", export, lambda path: self.notify(f"Exported: {path}", markup=False, timeout=8)
        )

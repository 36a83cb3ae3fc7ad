"""`I`: the open incidents: this machine's at once, the team's (found in Jira, in the
background) when they arrive, those not held here marked "team · not joined".

Choosing a local one dismisses with its id; choosing a team one with "team:<ticket>" (the
screen then joins it). Ticket summaries are remote text: shown as plain `Content`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from cockpit.application.tracker_team import TeamIncident
from cockpit.domain.incident import Severity
from cockpit.ui.dialogs.base import DialogScreen

TEAM_PREFIX = "team:"
LOOKING = "Looking for the team's open incidents in Jira…"


Badge = Callable[[Severity | None], Content]  # the severity's badge (the header's)


def local_line(s: Any, badge: Badge, width: int = 0) -> Content:
    """A local incident's line (an `IncidentSummary`); `width`: of the id column."""
    return Content.assemble(
        (f"{'#' + s.id:<{width}} ", ".dialog--id"),
        badge(s.severity),
        " ",
        (f"{s.status.label:<10} ", ".dialog--status"),
        (s.title, ""),
    )


def team_line(t: TeamIncident, badge: Badge, width: int = 0) -> Content:
    """A teammate's incident not held here: its ticket, and marked not joined."""
    status = t.status.label if t.status is not None else t.jira_status.upper()[:10]
    return Content.assemble(
        (f"{t.ticket:<{width}} ", ".dialog--id"),
        badge(t.severity),
        " ",
        (f"{status:<10} ", ".dialog--status"),
        ("team · not joined  ", ".dialog--highlight"),
        (t.title, ""),
    )


class IncidentsModal(DialogScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Back")]
    title_text = "Open incidents"

    def __init__(self, local: Sequence[Any], badge: Badge, *, looking: bool) -> None:
        """`local`: this machine's open incidents (`IncidentSummary`s)."""
        super().__init__()
        self.local = list(local)
        self.badge = badge
        self.looking = looking
        self.team: list[TeamIncident] = []
        self._ready = False
        self._early: tuple[list[TeamIncident], str] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content(self.title_text), id="dialog-title")
            yield OptionList(*self._options(), id="choices")
            yield Static(self.parts(self._note()), id="team-note")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#choices", OptionList).display = bool(self.local)
        self.query_one("#team-note", Static).display = bool(self._note().plain)
        self._ready = True
        if self._early is not None:
            self.add_team(*self._early)

    def _options(self) -> list[Option]:
        """This machine's incidents, then the team's not held here (ids in one column)."""
        ids = [len(s.id) + 1 for s in self.local] + [len(t.ticket) for t in self.team]
        width = max(ids, default=0)
        return [
            *[Option(self.parts(local_line(s, self.badge, width)), id=s.id) for s in self.local],
            *[
                Option(self.parts(team_line(t, self.badge, width)), id=TEAM_PREFIX + t.ticket)
                for t in self.team
            ],
        ]

    def _note(self, problem: str = "") -> Content:
        if problem:
            return Content.styled(f"The team's incidents: {problem}", ".dialog--warning")
        if self.looking:
            return Content.styled(LOOKING, ".dialog--note")
        if not self.local and not self.team:
            return Content.styled("No open incidents. R raises one.", ".dialog--note")
        return Content("")

    def add_team(self, found: Sequence[TeamIncident], problem: str = "") -> None:
        """The team's open incidents arrived (or the look failed: `problem`)."""
        if not self._ready:  # (answered before the dialog was up: shown as it mounts)
            self._early = (list(found), problem)
            return
        self.looking = False
        self.team = [t for t in found if not t.held]
        choices = self.query_one("#choices", OptionList)
        highlighted = choices.highlighted
        choices.clear_options()
        choices.add_options(self._options())
        choices.highlighted = highlighted
        choices.display = choices.option_count > 0
        note = self.query_one("#team-note", Static)
        note.update(self.parts(self._note(problem)))
        note.display = bool(problem) or choices.option_count == 0
        if choices.option_count and choices.highlighted is None:
            choices.highlighted = 0
        if choices.option_count and not self.local:
            choices.focus()

    def chosen_team(self, option_id: str) -> TeamIncident | None:
        ticket = option_id.removeprefix(TEAM_PREFIX)
        return next((t for t in self.team if t.ticket == ticket), None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

"""Which status-page components an update is about: a multi-pick from the page's list."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import SelectionList, Static

from cockpit.ui.dialogs.base import Dialog


class PickComponents(Dialog):
    """The page's components, those already affected picked; OK gives the names picked
    (in the page's order, maybe none), Back gives None."""

    def __init__(self, components: Sequence[str], picked: Sequence[str]) -> None:
        super().__init__()
        self.TITLE_TEXT = "Affected components"
        self.components = list(components)
        # a name the incident has but the page no longer lists stays offered
        self.components += [c for c in picked if c not in self.components]
        self.picked = set(picked)

    def body(self) -> ComposeResult:
        yield Static(
            self.parts(
                Content.styled(
                    "space picks or drops one; their status follows the severity, "
                    "and resolving sets them back to operational",
                    ".dialog--note",
                )
            )
        )
        yield SelectionList[str](
            *[(name, name, name in self.picked) for name in self.components], id="components"
        )

    def result(self) -> list[str]:
        chosen = set(self.query_one("#components", SelectionList).selected)
        return [name for name in self.components if name in chosen]

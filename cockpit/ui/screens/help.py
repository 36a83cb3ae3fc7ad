"""`?`: every key that works right now, built from the live bindings (so remaps show)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from cockpit.ui.commands import COMMANDS
from cockpit.ui.dialogs.base import DialogScreen


class HelpScreen(DialogScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss(None)", "Close")]

    def __init__(self, keys: dict[str, str]) -> None:
        """`keys`: binding id → the key as displayed, read from the app's live bindings."""
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="help"):
            yield Label(Content("Keys"), id="dialog-title")
            with VerticalScroll(id="help-body"):
                category = None
                for cmd in sorted(COMMANDS, key=lambda c: _ORDER.index(c.category)):
                    if cmd.category != category:
                        category = cmd.category
                        yield Static(
                            self.parts(Content.styled(category, ".dialog--heading")),
                            classes="help-cat",
                        )
                    where = "" if cmd.scope == "screen" else f"  ({cmd.scope} pane)"
                    row = Content.assemble(
                        (f"{self.keys.get(cmd.id, cmd.key):>9}  ", ".dialog--key"),
                        (cmd.help, ""),
                        (where, ".dialog--muted"),
                    )
                    yield Static(self.parts(row))
                note = Content.styled(
                    "Tab / shift+tab move between panes; escape backs out of any dialog. "
                    "Keys can be remapped in the config's [keys] table by their id.",
                    ".dialog--note",
                )
                yield Static(self.parts(note), classes="help-cat")


_ORDER = ["Incident", "Timeline", "Feed", "Checklist", "Drafts", "View"]

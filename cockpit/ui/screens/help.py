"""`?`: every key that works right now, built from the live bindings (so remaps show)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from cockpit.commands import COMMAND_IDS
from cockpit.ui.commands import COMMANDS, command
from cockpit.ui.dialogs.base import DialogScreen


class HelpScreen(DialogScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss(None)", "Close")]

    def __init__(
        self,
        keys: dict[str, str],
        *,
        here: str = "",
        here_keys: list[tuple[str, str]] | None = None,
    ) -> None:
        """`keys`: binding id → the key as displayed, read from the app's live bindings;
        `here`: where the focus is (a pane, a dialog), whose keys (`here_keys`, from its
        live bindings: `live_rows`) are listed first, then every other key."""
        super().__init__()
        self.keys = keys
        self.here = here
        self.here_keys = here_keys or []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="help"):
            yield Label(Content("Keys"), id="dialog-title")
            with VerticalScroll(id="help-body"):
                if self.here_keys:
                    yield Static(
                        self.parts(Content.styled(f"Here: {self.here}", ".dialog--heading")),
                        classes="help-cat",
                    )
                    for key, text in self.here_keys:
                        yield Static(
                            self.parts(Content.assemble((f"{key:>9}  ", ".dialog--key"), text))
                        )
                    yield Static(
                        self.parts(Content.styled("Everywhere else", ".dialog--heading")),
                        classes="help-cat",
                    )
                shown = {text for _, text in self.here_keys}
                category = None
                for cmd in sorted(COMMANDS, key=lambda c: _ORDER.index(c.category)):
                    if cmd.help in shown:
                        continue
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


def live_rows(app: Any, node: Any) -> list[tuple[str, str]]:
    """A pane's or a dialog's own keys, from its live bindings (remaps applied): (the keys
    as displayed, what they do), one row per action."""
    live = node._bindings.copy()
    if app._keymap:
        live.apply_keymap(app._keymap)
    rows: dict[str, tuple[list[str], str]] = {}
    for bindings in live.key_to_bindings.values():
        for b in bindings:
            if not (b.show or b.id) or b.action in ("app.quit", "help_here"):
                continue
            text = command(b.id).help if b.id in COMMAND_IDS else b.description
            keys, _ = rows.setdefault(b.action, ([], text))
            shown = app.get_key_display(b)
            if shown not in keys:
                keys.append(shown)
    return [(" ".join(keys), text) for keys, text in rows.values()]

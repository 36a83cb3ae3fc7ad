"""One message in full (remote text, shown literally), and the box that says why an
action was refused."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from cockpit.ui.dialogs.base import DialogScreen


class MessageDetail(DialogScreen[None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Back")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content(self.title_text), id="dialog-title")
            with VerticalScroll(id="detail-body"):
                yield Static(Content(self.text))


class Refusal(DialogScreen[None]):
    """Why an action cannot be done now. A dialog, not a toast: it takes the keys, so what
    was being typed for the dialog that did not open (a note …) goes nowhere, never to
    the panes' one-letter keys. `escape`, `enter` or `ctrl+s` close it."""

    BINDINGS = [Binding("escape,enter,ctrl+s", "dismiss(None)", "Close")]
    DEFAULT_CLASSES = "dialog refusal"

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content(self.title_text), id="dialog-title")
            yield Static(Content(self.text), id="refusal-text")
            yield Static(
                self.parts(Content.styled("escape, enter: close", ".dialog--note")),
                id="refusal-keys",
            )


def refuse(app: App[Any], text: str, title: str = "Not possible now") -> None:
    """Say why an action was refused, in a `Refusal` box (one at a time: a second refusal
    while one is showing replaces its text)."""
    top = app.screen
    if isinstance(top, Refusal):
        top.text = text
        top.query_one("#refusal-text", Static).update(Content(text))
        top.query_one("#dialog-title", Label).update(Content(title))
        return
    app.push_screen(Refusal(title, text))

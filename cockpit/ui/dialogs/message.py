"""One message in full (remote text, shown literally)."""

from __future__ import annotations

from textual.app import ComposeResult
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

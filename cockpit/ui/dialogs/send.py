"""Before anything is sent: exactly what goes where."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Button, Static

from cockpit.ui.dialogs.base import Dialog


class ConfirmSend(Dialog):
    """Shows exactly what goes where before anything is sent."""

    TITLE_TEXT = "Send?"

    def __init__(self, *, where: str, body: str, warnings: list[str]) -> None:
        super().__init__()
        self.where = where
        self.body_text = body
        self.warnings = warnings

    def body(self) -> ComposeResult:
        yield Static(
            self.parts(
                Content.assemble(("To: ", ".dialog--strong"), (self.where, ".dialog--highlight"))
            ),
            id="send-where",
        )
        with VerticalScroll(id="send-body"):
            yield Static(Content(self.body_text))
        for w in self.warnings:
            warning = Content.assemble(("⚠ ", ".dialog--warning"), (w, ".dialog--warning"))
            yield Static(self.parts(warning))

    def on_mount(self) -> None:
        self.query_one("#ok", Button).label = "Send  ctrl+s"

"""Before anything is sent: exactly what goes where."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Button, Static

from cockpit.domain.outbox import OutboxItem
from cockpit.ui.dialogs.base import Dialog


class ConfirmSend(Dialog):
    """Shows exactly what goes where before anything is sent."""

    TITLE_TEXT = "Send?"

    def __init__(self, *, where: str, body: str, warnings: list[str], title: str = "") -> None:
        super().__init__()
        if title:
            self.TITLE_TEXT = title
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


def describe(items: list[OutboxItem], texts: dict[str, str]) -> tuple[str, str]:
    """What a list of outbox items sends, for `ConfirmSend`: where (one line) and the body
    (each step, then the words it posts, `texts` by item id, when it posts words)."""
    systems = sorted({i.system for i in items})
    where = ", ".join(systems)
    lines: list[str] = []
    for item in items:
        lines.append(f"→ {item.system}: {item.title}")
        text = texts.get(item.id, "")
        if text:
            lines.extend(f"    {line}" for line in text.splitlines())
        lines.append("")
    return where, "\n".join(lines).rstrip("\n")

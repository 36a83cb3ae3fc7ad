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
    """A message or a draft in full, full-screen and scrollable (the feed's `o`, the
    drafts' `v`): long text is read here, not in a pane's few rows."""

    BINDINGS = [
        Binding("escape,q", "dismiss(None)", "Back"),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown,space", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "Top", show=False),
        Binding("end", "edge(1)", "Bottom", show=False),
    ]
    DEFAULT_CLASSES = "dialog reader"

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="reader"):
            yield Label(Content(self.title_text), id="dialog-title")
            with VerticalScroll(id="detail-body"):
                yield Static(Content(self.text))
            yield Static(
                self.parts(
                    Content.styled("↑ ↓ pgup pgdn home end: scroll · escape: back", ".dialog--note")
                ),
                id="reader-keys",
            )

    def action_page(self, direction: int) -> None:
        body = self.query_one("#detail-body", VerticalScroll)
        if direction < 0:
            body.scroll_page_up(animate=False)
        else:
            body.scroll_page_down(animate=False)

    def action_edge(self, end: int) -> None:
        body = self.query_one("#detail-body", VerticalScroll)
        if end:
            body.scroll_end(animate=False)
        else:
            body.scroll_home(animate=False)


class AskDrop(DialogScreen[bool]):
    """Escape in an editor whose text changed: drop the change, or go back to it."""

    BINDINGS = [
        Binding("ctrl+s,y", "dismiss(True)", "Drop the change"),
        Binding("escape,n", "dismiss(False)", "Keep editing"),
    ]

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content("Drop your change?"), id="dialog-title")
            yield Static(Content(f"{self.what} has changes that are not kept."), id="refusal-text")
            yield Static(
                self.parts(
                    Content.styled(
                        "ctrl+s or y: drop them · escape or n: back to editing", ".dialog--note"
                    )
                ),
                id="refusal-keys",
            )


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

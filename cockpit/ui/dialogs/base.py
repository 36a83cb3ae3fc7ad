"""The dialog box every dialog is built on. `escape` always backs out without changing
anything."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioSet, Static


class Choice(RadioSet):
    """A radio set that highlights its pressed (or first) button when it gets focus, so
    `enter` picks straight away instead of first needing an arrow key."""

    def on_focus(self) -> None:
        if self._selected is None:  # Textual keeps the highlight here (pinned version)
            self._selected = max(self.pressed_index, 0)


class Dialog(ModalScreen[object]):
    """Base: a titled box, `escape` cancels, `ctrl+s` (or the OK button) submits."""

    BINDINGS = [
        Binding("escape", "cancel", "Back", show=True),
        Binding("ctrl+s", "submit", "OK", show=True),
    ]
    DEFAULT_CLASSES = "dialog"
    TITLE_TEXT = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content.styled(self.TITLE_TEXT, "bold"), id="dialog-title")
            yield from self.body()
            yield Static(id="dialog-error")
            with Horizontal(id="dialog-buttons"):
                yield Button("OK  ctrl+s", variant="primary", id="ok")
                yield Button("Back  esc", id="back")

    def body(self) -> ComposeResult:
        yield from ()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.action_submit()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        try:
            result = self.result()
        except ValueError as e:
            self.show_error(str(e))
            return
        if result is not None:
            self.dismiss(result)

    def result(self) -> object | None:
        return True

    def show_error(self, text: str) -> None:
        self.query_one("#dialog-error", Static).update(Content.styled(text, "$error"))

    def value(self, selector: str) -> str:
        return self.query_one(selector, Input).value

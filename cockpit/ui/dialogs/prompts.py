"""Small questions: a line of text, or one of several options."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from cockpit.ui.dialogs.base import Dialog, DialogScreen


class TextPrompt(Dialog):
    def __init__(
        self,
        title: str,
        placeholder: str,
        *,
        value: str = "",
        required: bool = False,
        check: Callable[[str], object] | None = None,
    ) -> None:
        """`check` is called with the text before the prompt closes: an error it raises
        (ValueError, CockpitError) is shown in the prompt, which keeps the text."""
        super().__init__()
        self.TITLE_TEXT = title
        self.placeholder = placeholder
        self.initial = value
        self.required = required
        self.check = check

    def body(self) -> ComposeResult:
        yield Input(value=self.initial, placeholder=self.placeholder, id="text")

    def result(self) -> str:
        text = self.value("#text")
        if self.required and not text.strip():
            raise ValueError("this cannot be empty")
        if self.check is not None:
            self.check(text)
        return text


class ChoiceModal(DialogScreen[str | None]):
    """Pick one of several options (incidents, templates …). An option's text may hold
    the dialog parts (`.dialog--strong`, a severity badge …)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Back")]

    def __init__(self, title: str, choices: list[tuple[str, Content]], empty: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.empty = empty

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content(self.title_text), id="dialog-title")
            if self.choices:
                yield OptionList(
                    *[Option(self.parts(prompt), id=key) for key, prompt in self.choices],
                    id="choices",
                )
            else:
                yield Static(self.parts(Content.styled(self.empty, ".dialog--note")))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

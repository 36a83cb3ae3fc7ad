"""The dialog box every dialog is built on. `escape` always backs out without changing
anything.

`DialogScreen` declares the parts a dialog's text may be styled as (component classes,
styled in cockpit.tcss; see ui/parts.py): Content built for a dialog, here or by a screen
that opens one (`Content.styled(name, ".dialog--strong")`), names a part, never a colour,
and the dialog resolves it (`self.parts(content)`) when it builds its widgets.
"""

from __future__ import annotations

import time
from typing import ClassVar, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioSet, Static

from cockpit.domain.errors import CockpitError
from cockpit.ui.parts import PartStyles, resolve


class Choice(RadioSet):
    """A radio set that highlights its pressed (or first) button when it gets focus, so
    `enter` picks straight away instead of first needing an arrow key."""

    def on_focus(self) -> None:
        if self._selected is None:  # Textual keeps the highlight here (pinned version)
            self._selected = max(self.pressed_index, 0)

    def action_toggle_button(self) -> None:
        # `enter` typed right behind the `tab` that focused this set can come before the
        # focus event above: pick the pressed (or first) button then too, not nothing
        if self._selected is None:
            self._selected = max(self.pressed_index, 0)
        super().action_toggle_button()


ResultType = TypeVar("ResultType")

SEVERITY_PARTS = frozenset(
    f"{part}--{level}"
    for part in ("severity", "sev-badge")
    for level in ("critical", "major", "minor", "unset")
)
"""A severity as coloured text (`severity--critical`) and as a badge (`sev-badge--…`)."""


class DialogScreen(ModalScreen[ResultType]):
    """A modal box (`#dialog` inside, centred): dialogs, help, history, metrics."""

    DEFAULT_CLASSES = "dialog"
    # ctrl+c quits, as ctrl+q does, from any dialog (before an Input's copy key)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "app.quit", "Quit", show=False, priority=True),
        # (typed into a text field, `?` is text: the field takes it first)
        Binding("question_mark,f1", "help_here", "Help"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "dialog--muted",  # secondary text: definitions, dates, descriptions, hints
        "dialog--note",  # an aside: nothing to show, how keys work
        "dialog--quote",  # text quoted from elsewhere (the message a raise comes from)
        "dialog--strong",  # the name of a thing
        "dialog--key",  # a key to press, the value a dialog is about
        "dialog--highlight",  # where something goes, who is asked
        "dialog--id",  # an incident's id
        "dialog--heading",  # a group heading
        "dialog--status",  # an incident's status
        "dialog--warning",
        "dialog--error",
        *SEVERITY_PARTS,
    }

    # A dialog that opens by itself (when a look-up ends, not at a keypress) takes no
    # decision for this long: a key pressed for the screen below must not confirm it.
    UNPROMPTED_GRACE: ClassVar[float] = 0.6

    def __init__(
        self, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name, id, classes)
        self._part_styles: PartStyles = {}
        self.unprompted = False  # set by whoever opens it without a keypress
        self._shown_at = 0.0

    def on_mount(self) -> None:
        self._shown_at = time.monotonic()

    def too_soon(self) -> bool:
        """Whether a decision now would come from a key meant for the screen below (this
        dialog opened by itself a moment ago): then it is not taken, and said so."""
        if self.unprompted and time.monotonic() - self._shown_at < self.UNPROMPTED_GRACE:
            self.notify(
                "This opened just now, while you were typing: read it, then choose.",
                title="Nothing done",
                severity="warning",
                markup=False,
                timeout=4,
            )
            return True
        return False

    def action_help_here(self) -> None:
        """`?`: this dialog's keys first, then the rest (the screen below shows them)."""
        for screen in reversed(self.app.screen_stack):
            show_help = getattr(screen, "show_help", None)
            if show_help is not None and screen is not self:
                title = getattr(self, "title_text", "") or getattr(self, "TITLE_TEXT", "")
                show_help(f"“{title}”" if title else "this dialog", self)
                return

    def parts(self, content: Content) -> Content:
        """`content` with its parts styled as this dialog styles them (a dialog is built
        and gone within one theme)."""
        return resolve(self, content, self._part_styles)


class Dialog(DialogScreen[object]):
    """Base: a titled box, `escape` cancels, `ctrl+s` (or the OK button) submits."""

    BINDINGS = [
        Binding("escape", "cancel", "Back", show=True),
        Binding("ctrl+s", "submit", "OK", show=True),
    ]
    TITLE_TEXT = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content(self.TITLE_TEXT), id="dialog-title")
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
        if self.too_soon():
            return
        try:
            result = self.result()
        except NoMatches:  # a key that came before the dialog was composed: nothing yet
            return
        except (ValueError, CockpitError) as e:  # said here; what was typed stays
            self.show_error(str(e))
            return
        if result is not None:
            self.dismiss(result)

    def result(self) -> object | None:
        return True

    def show_error(self, text: str) -> None:
        self.query_one("#dialog-error", Static).update(
            self.parts(Content.styled(text, ".dialog--error"))
        )

    def value(self, selector: str) -> str:
        return self.query_one(selector, Input).value

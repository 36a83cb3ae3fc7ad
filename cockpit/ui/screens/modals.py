"""Modal dialogs. `escape` always backs out without changing anything."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, RadioButton, RadioSet, Static
from textual.widgets.option_list import Option

from cockpit.domain.incident import Assessment, Incident, Severity, Status
from cockpit.domain.timeline import WHEN_HELP


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


class TextPrompt(Dialog):
    def __init__(
        self, title: str, placeholder: str, *, value: str = "", required: bool = False
    ) -> None:
        super().__init__()
        self.TITLE_TEXT = title
        self.placeholder = placeholder
        self.initial = value
        self.required = required

    def body(self) -> ComposeResult:
        yield Input(value=self.initial, placeholder=self.placeholder, id="text")

    def result(self) -> str:
        text = self.value("#text")
        if self.required and not text.strip():
            raise ValueError("this cannot be empty")
        return text


@dataclass(frozen=True)
class RaiseRequest:
    title: str
    severity: Severity | None
    reported_at: str
    thread: str


class RaiseModal(Dialog):
    TITLE_TEXT = "Raise an incident"

    def __init__(
        self, *, title: str = "", reported_at: str = "", thread: str = "", source: str = ""
    ) -> None:
        super().__init__()
        self.initial = (title, reported_at, thread)
        self.source = source

    def body(self) -> ComposeResult:
        title, reported_at, thread = self.initial
        if self.source:
            yield Static(
                Content.assemble(("from ", "$text-muted"), (self.source, "italic")),
                id="raise-source",
            )
        yield Label("Title: what is broken, for whom")
        yield Input(value=title, placeholder="Checkout payments failing for EU buyers", id="title")
        yield Label("Severity (can be set later, after assessing)")
        with Choice(id="severity"):
            yield RadioButton("unset", value=True)
            for s in Severity:
                yield RadioButton(s.label)
        yield Label(f"First reported (the SLO starts here): {WHEN_HELP}")
        yield Input(value=reported_at, placeholder="now", id="reported-at")
        yield Label("Report thread (link)")
        yield Input(value=thread, placeholder="https://…slack.com/archives/…", id="thread")

    def result(self) -> RaiseRequest:
        title = " ".join(self.value("#title").split())
        if not title:
            raise ValueError("a title is needed: what is broken, for whom?")
        idx = self.query_one("#severity", RadioSet).pressed_index
        severity = None if idx <= 0 else list(Severity)[idx - 1]
        return RaiseRequest(
            title, severity, self.value("#reported-at").strip(), self.value("#thread").strip()
        )


@dataclass(frozen=True)
class SeverityRequest:
    severity: Severity
    assessment: Assessment


class SeverityModal(Dialog):
    TITLE_TEXT = "Assess: set the severity"

    def __init__(self, incident: Incident, definitions: dict[Severity, str]) -> None:
        super().__init__()
        self.incident = incident
        self.definitions = definitions

    def body(self) -> ComposeResult:
        a = self.incident.assessment
        yield Label("How many people (or partners) does this affect?")
        yield Input(value=a.affected, placeholder="e.g. all EU buyers, 3 partners", id="affected")
        yield Label("Have you been able to reproduce it?")
        with Choice(id="reproduced"):
            yield RadioButton("not yet known", value=a.reproduced is None)
            yield RadioButton("yes, reproduced", value=a.reproduced is True)
            yield RadioButton("no, could not", value=a.reproduced is False)
        yield Label("Is this a new problem or one we know of?")
        with Choice(id="known"):
            yield RadioButton("not yet known", value=a.known is None)
            yield RadioButton("new problem", value=a.known is False)
            yield RadioButton("known problem", value=a.known is True)
        yield Label("Severity")
        with Choice(id="severity"):
            for s in reversed(Severity):
                yield RadioButton(
                    Content.assemble(
                        (s.label, f"bold $sev-{s.value}"),
                        "  ",
                        (self.definitions.get(s, ""), "$text-muted"),
                    ),
                    value=self.incident.severity is s,
                )

    def result(self) -> SeverityRequest:
        idx = self.query_one("#severity", RadioSet).pressed_index
        if idx < 0:
            raise ValueError("pick a severity")
        severity = list(reversed(Severity))[idx]
        rep = self.query_one("#reproduced", RadioSet).pressed_index
        known = self.query_one("#known", RadioSet).pressed_index
        assessment = Assessment(
            affected=self.value("#affected").strip(),
            reproduced={1: True, 2: False}.get(rep),
            known={1: False, 2: True}.get(known),
        )
        return SeverityRequest(severity, assessment)


@dataclass(frozen=True)
class NoteRequest:
    text: str
    at: str


class NoteModal(Dialog):
    TITLE_TEXT = "Add a note to the timeline"

    def body(self) -> ComposeResult:
        yield Input(placeholder="what happened, what was found, what was decided", id="note")
        yield Label(f"When (empty = now): {WHEN_HELP}")
        yield Input(placeholder="now", id="at")

    def result(self) -> NoteRequest:
        text = self.value("#note").strip()
        if not text:
            raise ValueError("a note needs some text")
        return NoteRequest(text, self.value("#at").strip())


class CancelModal(Dialog):
    TITLE_TEXT = "Not an incident: cancel it"

    def body(self) -> ComposeResult:
        yield Static(
            Content.styled(
                "The incident is marked CANCELED with your reason. Reply kindly to the reporter: "
                "a ticket, the guide to reporting bugs, the product team's channel.",
                "$text-muted",
            )
        )
        yield Input(placeholder="e.g. a single partner cannot access the CMS", id="reason")

    def result(self) -> str:
        reason = self.value("#reason").strip()
        if not reason:
            raise ValueError("say why this is not an incident")
        return reason


@dataclass(frozen=True)
class RolesRequest:
    commander: str
    comms: str


class RolesModal(Dialog):
    TITLE_TEXT = "Roles"

    def __init__(self, incident: Incident, me: str) -> None:
        super().__init__()
        self.incident = incident
        self.me = me

    def body(self) -> ComposeResult:
        yield Label("Incident Commander: facilitates, pulls people in")
        yield Input(value=self.incident.commander or self.me, id="commander")
        yield Label("Communications Officer: internal and status-page updates, the timeline")
        yield Input(value=self.incident.comms, placeholder="may be the same person", id="comms")

    def result(self) -> RolesRequest:
        return RolesRequest(self.value("#commander").strip(), self.value("#comms").strip())


class StatusModal(ModalScreen[Status | None]):
    """Pick the next status among those the incident's status allows: arrows and enter,
    or its first letter (f, m, r)."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("f", "pick('fixing')", "FIXING", show=False),
        Binding("m", "pick('monitoring')", "MONITORING", show=False),
        Binding("r", "pick('resolved')", "RESOLVED", show=False),
    ]
    DEFAULT_CLASSES = "dialog"

    def __init__(self, incident: Incident, allowed: list[Status]) -> None:
        super().__init__()
        self.incident = incident
        self.allowed = allowed

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(
                Content.assemble(
                    ("Move incident from ", "bold"), (self.incident.status.label, "bold $secondary")
                ),
                id="dialog-title",
            )
            yield OptionList(
                *[
                    Option(
                        Content.assemble((f"{s.value[0]}  ", "bold $accent"), (s.label, "bold")),
                        id=s.value,
                    )
                    for s in self.allowed
                ],
                id="choices",
            )

    def action_pick(self, value: str) -> None:
        status = Status(value)
        if status in self.allowed:
            self.dismiss(status)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        assert event.option.id is not None
        self.dismiss(Status(event.option.id))


class ChoiceModal(ModalScreen[str | None]):
    """Pick one of several options (incidents, templates …)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Back")]
    DEFAULT_CLASSES = "dialog"

    def __init__(self, title: str, choices: list[tuple[str, Content]], empty: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.empty = empty

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content.styled(self.title_text, "bold"), id="dialog-title")
            if self.choices:
                yield OptionList(
                    *[Option(prompt, id=key) for key, prompt in self.choices], id="choices"
                )
            else:
                yield Static(Content.styled(self.empty, "$text-muted italic"))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)


class ConfirmSend(Dialog):
    """Shows exactly what goes where before anything is sent."""

    TITLE_TEXT = "Send?"

    def __init__(self, *, where: str, body: str, warnings: list[str]) -> None:
        super().__init__()
        self.where = where
        self.body_text = body
        self.warnings = warnings

    def body(self) -> ComposeResult:
        yield Static(Content.assemble(("To: ", "bold"), (self.where, "$accent")), id="send-where")
        with VerticalScroll(id="send-body"):
            yield Static(Content(self.body_text))
        for w in self.warnings:
            yield Static(Content.assemble(("⚠ ", "$warning"), (w, "$warning")))

    def on_mount(self) -> None:
        self.query_one("#ok", Button).label = "Send  ctrl+s"


class MessageDetail(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Back")]
    DEFAULT_CLASSES = "dialog"

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content.styled(self.title_text, "bold"), id="dialog-title")
            with VerticalScroll(id="detail-body"):
                yield Static(Content(self.text))

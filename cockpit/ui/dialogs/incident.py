"""The incident's dialogs: raise, assess (severity), status, cancel, roles, note."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, OptionList, RadioButton, RadioSet, Static
from textual.widgets.option_list import Option

from cockpit.domain.incident import Assessment, Incident, Severity, Status
from cockpit.domain.timeline import WHEN_HELP
from cockpit.ui.dialogs.base import Choice, Dialog, DialogScreen


@dataclass(frozen=True)
class RaiseRequest:
    title: str
    severity: Severity | None
    reported_at: str
    thread: str


class RaiseModal(Dialog):
    TITLE_TEXT = "Raise an incident"

    def __init__(
        self,
        *,
        title: str = "",
        reported_at: str = "",
        thread: str = "",
        source: str = "",
        check_time: Callable[[str], object] | None = None,
        look_problem: str = "",
    ) -> None:
        """`check_time` reads the "first reported" time (raising if it cannot) before the
        dialog closes, so a time it cannot read is said here and nothing typed is lost.
        `look_problem`: why the look in the report's thread for a teammate's raise failed
        (said at the top: the person may check with the team before raising twice)."""
        super().__init__()
        self.initial = (title, reported_at, thread)
        self.source = source
        self.check_time = check_time
        self.look_problem = look_problem

    def body(self) -> ComposeResult:
        title, reported_at, thread = self.initial
        if self.look_problem:
            yield Static(
                self.parts(
                    Content.styled(
                        "⚠ Could not check whether a teammate raised this already: "
                        f"{self.look_problem}",
                        ".dialog--warning",
                    )
                ),
                id="raise-look-problem",
            )
        if self.source:
            yield Static(
                self.parts(
                    Content.assemble(("from ", ".dialog--muted"), (self.source, ".dialog--quote"))
                ),
                id="raise-source",
            )
        yield Label("Title: what is broken, for whom")
        # a title prefilled from a message opens at its start (not scrolled to its end):
        # no select-all on focus, the cursor put at 0 once mounted (on_mount below)
        yield Input(
            value=title,
            placeholder="Checkout payments failing for EU buyers",
            id="title",
            select_on_focus=False,
        )
        yield Label("Severity (can be set later, after assessing)")
        with Choice(id="severity"):
            yield RadioButton("unset", value=True)
            for s in Severity:
                yield RadioButton(s.label)
        yield Label(f"First reported (the SLO starts here): {WHEN_HELP}", markup=False)
        yield Input(value=reported_at, placeholder="now", id="reported-at")
        yield Label("Report thread (link)")
        yield Input(value=thread, placeholder="https://…slack.com/archives/…", id="thread")

    def on_mount(self) -> None:
        # (a dialog dismissed as it opened, an escape typed ahead, has no fields by now)
        found = self.query("#title").results(Input)
        title = next(found, None)
        if title is None:
            return
        title.cursor_position = 0
        title.scroll_to(x=0, animate=False, immediate=True)

    def result(self) -> RaiseRequest:
        title = " ".join(self.value("#title").split())
        if not title:
            raise ValueError("a title is needed: what is broken, for whom?")
        idx = self.query_one("#severity", RadioSet).pressed_index
        severity = None if idx <= 0 else list(Severity)[idx - 1]
        reported_at = self.value("#reported-at").strip()
        if reported_at and self.check_time is not None:
            self.check_time(reported_at)
        return RaiseRequest(title, severity, reported_at, self.value("#thread").strip())


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
                label = Content.assemble(
                    (s.label, f".severity--{s.value}"),
                    "  ",
                    (self.definitions.get(s, ""), ".dialog--muted"),
                )
                yield RadioButton(self.parts(label), value=self.incident.severity is s)

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

    def __init__(
        self, *, check_time: Callable[[str], object] | None = None, late: str = ""
    ) -> None:
        """`check_time` reads the time (raising if it cannot) before the dialog closes;
        `late` says the incident has ended (the note is marked as coming after)."""
        super().__init__()
        self.check_time = check_time
        self.late = late

    def body(self) -> ComposeResult:
        if self.late:
            yield Static(self.parts(Content.styled(self.late, ".dialog--warning")), id="late")
        yield Input(placeholder="what happened, what was found, what was decided", id="note")
        yield Label(f"When (empty = now): {WHEN_HELP}", markup=False)
        yield Input(placeholder="now", id="at")

    def result(self) -> NoteRequest:
        text = self.value("#note").strip()
        if not text:
            raise ValueError("a note needs some text")
        at = self.value("#at").strip()
        if self.check_time is not None:
            self.check_time(at)
        return NoteRequest(text, at)


class CancelModal(Dialog):
    TITLE_TEXT = "Not an incident: cancel it"

    def body(self) -> ComposeResult:
        yield Static(
            self.parts(
                Content.styled(
                    "The incident is marked CANCELED with your reason. Reply kindly to the "
                    "reporter: a ticket, the guide to reporting bugs, the product team's channel.",
                    ".dialog--muted",
                )
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


class StatusModal(DialogScreen[Status | None]):
    """Pick the next status among those the incident's status allows: arrows and enter,
    or its first letter (f, m, r)."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("f", "pick('fixing')", "FIXING", show=False),
        Binding("m", "pick('monitoring')", "MONITORING", show=False),
        Binding("r", "pick('resolved')", "RESOLVED", show=False),
    ]

    def __init__(self, incident: Incident, allowed: list[Status]) -> None:
        super().__init__()
        self.incident = incident
        self.allowed = allowed

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            title = Content.assemble(
                "Move incident from ", (self.incident.status.label, ".dialog--status")
            )
            yield Label(self.parts(title), id="dialog-title")
            yield OptionList(
                *[
                    Option(
                        self.parts(
                            Content.assemble(
                                (f"{s.value[0]}  ", ".dialog--key"), (s.label, ".dialog--strong")
                            )
                        ),
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

"""Raising from a report that another cockpit has raised already: join it instead.

What another cockpit published (its title, its raiser's name, its ticket and channel) is
remote text: shown as plain `Content`, never parsed as markup.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from cockpit.domain.team import Received
from cockpit.ui.dialogs.base import DialogScreen


class JoinModal(DialogScreen[str | None]):
    """Offers to join the incident a teammate raised from this report ("join"), or to
    raise another one anyway ("raise"); `escape` does neither."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("j", "choose('join')", "Join", show=True),
    ]
    title_text = "Already raised by a teammate"

    def __init__(self, found: Received) -> None:
        super().__init__()
        self.found = found

    def compose(self) -> ComposeResult:
        ev = self.found.event
        d = ev.data
        channel = str(d.get("channel_name") or "")
        where = [ev.key.ticket] if ev.key.ticket else []
        if channel:
            where.append(f"#{channel}")
        who = ev.by or "another cockpit"
        with Vertical(id="dialog"):
            yield Label(Content(self.title_text), id="dialog-title")
            yield Static(
                self.parts(
                    Content.assemble(
                        (who, ".dialog--strong"),
                        " raised this report as ",
                        (", ".join(where) or "an incident", ".dialog--id"),
                        ":",
                    )
                ),
                id="join-who",
            )
            yield Static(
                self.parts(Content.styled(str(d.get("title") or ""), ".dialog--quote")),
                id="join-title",
            )
            status = str(d.get("status") or "reported").upper()
            severity = str(d.get("severity") or "not set")
            yield Static(
                self.parts(
                    Content.styled(
                        f"{status} · severity {severity} · Commander "
                        f"{d.get('commander') or 'not set'}",
                        ".dialog--muted",
                    )
                ),
                id="join-state",
            )
            yield OptionList(
                Option(
                    self.parts(
                        Content.assemble(
                            ("Join it", ".dialog--strong"),
                            ("  its ticket, channel, roles and timeline here", ".dialog--muted"),
                        )
                    ),
                    id="join",
                ),
                Option(
                    self.parts(
                        Content.assemble(
                            "Raise a new incident anyway",
                            ("  a second ticket and channel", ".dialog--muted"),
                        )
                    ),
                    id="raise",
                ),
                id="choices",
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_choose(event.option.id or "")

    def action_choose(self, choice: str) -> None:
        if not self.too_soon():  # it opened by itself: not at a key meant for the feed
            self.dismiss(choice)

"""The Textual side of the command registry (`cockpit.commands`).

Each command is declared once, in `cockpit.commands`; that one declaration produces the
key binding (here), the command-palette entry (`ui/palette.py`), the footer label (the
key bar reads the live bindings) and the row on the help screen. Every binding carries
its command's id, so `[keys]` in the config can remap it (Textual's keymap).
"""

from __future__ import annotations

from textual.binding import Binding

from cockpit.commands import COMMANDS, Command, command, in_scope

__all__ = ["COMMANDS", "Command", "binding", "bindings", "command", "in_scope"]


def binding(cmd: Command) -> Binding:
    return Binding(
        cmd.key,
        cmd.action,
        cmd.description,
        show=cmd.footer,
        priority=cmd.priority,
        id=cmd.id,
        tooltip=cmd.help,
    )


def bindings(scope: str) -> list[Binding]:
    """The bindings of every command in `scope` ("screen" or a pane's id)."""
    return [binding(c) for c in in_scope(scope)]

"""The command palette: our commands, grouped by category, from the one registry."""

from __future__ import annotations

from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen
from textual.widget import Widget

from cockpit.ui.commands import COMMANDS, Command


class CockpitCommands(Provider):
    def _commands(self) -> list[Command]:
        return [c for c in COMMANDS if c.palette]

    async def _run(self, cmd: Command) -> None:
        screen = self.app.screen
        target: Widget | Screen[Any] = screen
        if cmd.scope != "screen":
            pane = screen.query(f"#{cmd.scope}").first() if screen.query(f"#{cmd.scope}") else None
            if pane is not None:
                target = pane
        await target.run_action(cmd.action)

    async def discover(self) -> Hits:
        for cmd in self._commands():
            yield DiscoveryHit(
                f"{cmd.category}: {cmd.description}", partial(self._run, cmd), help=cmd.help
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for cmd in self._commands():
            label = f"{cmd.category}: {cmd.description}"
            score = max(matcher.match(label), matcher.match(cmd.help) * 0.8)
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(self._run, cmd), help=cmd.help)

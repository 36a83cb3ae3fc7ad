"""The key bar at the bottom of the cockpit: the keys that work where the focus is.

One widget that renders one line, instead of Textual's Footer, which builds a widget per
key and rebuilds them all whenever the focus moves (a tenth of the start-up time, and a
stutter on every pane switch). The bar re-renders from the screen's live bindings, so it
shows remapped keys and greys out disabled ones; a click on a key presses it. The
command palette's key sits at the right end.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events
from textual.content import Content
from textual.widget import Widget

from cockpit.ui.parts import PartStyles, resolve


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "keybar--key",
        "keybar--description",
        "keybar--disabled",  # a key that does nothing where the focus is
    }
    ALLOW_SELECT = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spans: list[tuple[int, int, str, bool]] = []  # (start, end, key, enabled)
        self._last: tuple[Any, ...] = ()
        self._parts: PartStyles = {}

    def on_mount(self) -> None:
        self._source: Any = self.screen
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.follow(self.screen)
        self.screen.bindings_updated_signal.unsubscribe(self)

    def follow(self, screen: Any) -> None:
        """Show `screen`'s keys: a dialog's while it is open over ours, ours again after."""
        if screen is self._source:
            return
        if self._source is not self.screen:
            self._source.bindings_updated_signal.unsubscribe(self)
        self._source = screen
        if screen is not self.screen:
            screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._last = ()
        self.refresh()

    def _bindings_changed(self, _screen: Any) -> None:
        # Textual says so after every key; repaint only when the keys shown change (a
        # repaint here and one elsewhere on screen make the whole screen between them
        # render again).
        shown = self._signature()
        if shown != self._last:
            self._last = shown
            self.refresh()

    def _signature(self) -> tuple[Any, ...]:
        shown, right = self._shown()
        return tuple(
            (b.key, self.app.get_key_display(b), b.description, enabled)
            for b, enabled in (*shown, *right)
        )

    def _shown(self) -> tuple[list[tuple[Any, bool]], list[tuple[Any, bool]]]:
        """The bindings to show (one per action, in order) and those kept at the right
        end whatever the width: help (`?`) and the palette."""
        app = self.app
        shown: list[tuple[Any, bool]] = []
        actions: set[str] = set()
        help_key: tuple[Any, bool] | None = None
        palette = None
        source = getattr(self, "_source", None) or self.screen
        for _node, binding, enabled, _tooltip in source.active_bindings.values():
            if binding.key == app.COMMAND_PALETTE_BINDING and app.ENABLE_COMMAND_PALETTE:
                palette = (binding, enabled)
            elif binding.action in ("help", "help_here") and binding.show:
                if help_key is None:
                    help_key = (binding, enabled)
                    actions.add(binding.action)
            elif binding.show and binding.action not in actions:
                actions.add(binding.action)
                shown.append((binding, enabled))
        right = [k for k in (help_key, palette) if k is not None]
        return shown, right

    def render(self) -> Content:
        shown, right = self._shown()
        width = self.size.width
        tail: list[Content] = [
            self._item(b, enabled, last=n == len(right) - 1) for n, (b, enabled) in enumerate(right)
        ]
        room = width - sum(t.cell_length for t in tail) - (1 if tail else 0)
        parts: list[Content] = []
        keys: list[tuple[int, int, str, bool]] = []
        x = 0
        for binding, enabled in shown:
            item = self._item(binding, enabled)
            if x + item.cell_length > room:  # no room: the rest is in the palette and `?`
                break
            keys.append((x, x + item.cell_length, binding.key, enabled))
            parts.append(item)
            x += item.cell_length
        line = Content("").join(parts)
        if tail:
            gap = max(1, width - line.cell_length - sum(t.cell_length for t in tail))
            start = line.cell_length + gap
            for (binding, enabled), item in zip(right, tail, strict=True):
                keys.append((start, start + item.cell_length, binding.key, enabled))
                start += item.cell_length
            line = Content.assemble(line, " " * gap, *tail)
        self.spans = keys
        return resolve(self, line, self._parts)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._parts.clear()

    def _item(self, binding: Any, enabled: bool, *, last: bool = False) -> Content:
        item = Content.assemble(
            (f" {self.app.get_key_display(binding)} ", ".keybar--key"),
            (f"{binding.description}{'' if last else ' '}", ".keybar--description"),
        )
        return item if enabled else item.stylize(".keybar--disabled")

    def on_resize(self, _event: events.Resize) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        for start, end, key, enabled in self.spans:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return

"""Guards around Textual behaviour that can crash the app (or make it grow without end over
a shift), applied once when the UI loads.

Each guard names the Textual version it was written against (pinned in pyproject.toml)
and has a test that fails without it (tests/ui/test_model_based.py found the first).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from textual._styles_cache import StylesCache
from textual.color import Color
from textual.style import Style
from textual.widgets import OptionList

_applied = False


def apply() -> None:
    """Install the guards (idempotent)."""
    global _applied
    if _applied:
        return
    _applied = True
    _guard_option_list_paging()
    _release_styles_caches()


def _guard_option_list_paging() -> None:
    """Textual 8.2.8: `pageup`/`pagedown` in an OptionList whose lines are not laid out
    yet (the command palette right after ctrl+p, keys typed fast) raised KeyError in
    `_move_page` and ended the app. Until the list has lines, paging goes to the first
    or last option instead."""
    original = OptionList._move_page

    def move_page(self: OptionList, direction: Any) -> None:
        index = self.highlighted or 0
        if index not in self._index_to_line or not self._lines:
            if self.option_count:
                self.highlighted = 0 if direction < 0 else self.option_count - 1
            return
        original(self, direction)

    OptionList._move_page = move_page  # type: ignore[method-assign]


#: how many background pairs the replacement keeps (Textual's own cache size)
_INNER_OUTER_CACHE = 1024


def _release_styles_caches() -> None:
    """Textual 8.2.8 (Textualize/textual#6665): `StylesCache.get_inner_outer` is an
    `lru_cache` on an instance method, so its keys hold the `StylesCache` of every widget
    that ever rendered (up to 1,024), with every line it had rendered, long after the
    widget was removed: each dialog opened and closed, each notification, each pane
    re-mounted for another incident. Over a shift that kept ~25 MB of dead strips. The
    two styles depend on the two colours only: the same cache keyed on them alone."""

    @lru_cache(maxsize=_INNER_OUTER_CACHE)
    def inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
        return (
            Style(background=base_background + background),
            Style(background=base_background),
        )

    def get_inner_outer(
        self: StylesCache, base_background: Color, background: Color
    ) -> tuple[Style, Style]:
        return inner_outer(base_background, background)

    StylesCache.get_inner_outer = get_inner_outer  # type: ignore[method-assign,assignment]

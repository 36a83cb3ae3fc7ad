"""Guards around Textual behaviour that can crash the app, applied once when the UI loads.

Each guard names the Textual version it was written against (pinned in pyproject.toml)
and has a test that fails without it (tests/ui/test_model_based.py found the first).
"""

from __future__ import annotations

from typing import Any

from textual.widgets import OptionList

_applied = False


def apply() -> None:
    """Install the guards (idempotent)."""
    global _applied
    if _applied:
        return
    _applied = True
    _guard_option_list_paging()


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

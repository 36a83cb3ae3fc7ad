"""A list of one-line rows with a cursor, drawn with Textual's line API.

The timeline and the checklist are lists of one-line rows. Textual's OptionList measures
every option (wrapping its text) before it draws any, and redraws every visible option
when one changes: the first frame of a long timeline and every tick paid for it. Here a
row is one line by construction, so only the rows on screen are drawn, each once until
it changes (`replace`), and moving the cursor redraws two lines.

Rows are (id, content, disabled): disabled rows (step headers) are skipped by the cursor.
Content is a Textual Content, so remote text in it is never read as markup; its styled
pieces are parts (`.timeline--time` …, see ui/parts.py) that the subclass declares and
cockpit.tcss styles, resolved when a line is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cockpit.ui.parts import PartStyles, style_parser

Line = tuple[str | None, Content, bool]  # (id, content, disabled)


def scroll_row_into_view(view: ScrollView, row: int, height: int, *, animate: bool = False) -> None:
    """Scroll a one-line-per-row view `height` rows tall just enough to show `row`."""
    top = int(view.scroll_y)
    if row < top:
        view.scroll_to(y=row, animate=animate, immediate=True)
    elif row >= top + height:
        view.scroll_to(y=row - height + 1, animate=animate, immediate=True)


class LineList(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    LineList {
        overflow-x: hidden;  /* rows are cut to the width: never a horizontal scroll bar */
        padding: 0 1;
        background: $surface;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        & > .line-list--highlighted {
            background: $primary 10%;  /* dim: the focused pane is unmistakable */
        }
        &:focus > .line-list--highlighted {
            background: $primary 30%;
            text-style: bold;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"line-list--line", "line-list--highlighted"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[Line] = []
        self._index: dict[str, int] = {}
        self._highlighted: int | None = None
        self._cache: dict[tuple[int, int, bool], Strip] = {}
        self._parts: PartStyles = {}  # looked up once each, until the styles change
        self._parse = style_parser(self, self._parts)

    # -- the rows ----------------------------------------------------------------------
    @property
    def line_count(self) -> int:
        return len(self._lines)

    def set_lines(self, lines: Sequence[Line], *, highlight: int | None = None) -> None:
        """Replace every row; the cursor goes to `highlight` (or the nearest enabled row)."""
        self._lines = list(lines)
        self._index = {line_id: i for i, (line_id, _, _) in enumerate(self._lines) if line_id}
        self._cache.clear()
        self.virtual_size = Size(0, len(self._lines))
        self._highlighted = None
        self.highlighted = highlight
        self.refresh()

    def replace(self, line_id: str, content: Content) -> None:
        """A row's new content: that line alone is redrawn."""
        index = self._index[line_id]
        _, _, disabled = self._lines[index]
        self._lines[index] = (line_id, content, disabled)
        self._forget(index)

    def index_of(self, line_id: str) -> int:
        return self._index[line_id]

    def id_at(self, index: int) -> str | None:
        return self._lines[index][0]

    # -- the cursor --------------------------------------------------------------------
    @property
    def highlighted(self) -> int | None:
        return self._highlighted

    @highlighted.setter
    def highlighted(self, index: int | None) -> None:
        index = self._enabled_near(index) if index is not None else None
        old, self._highlighted = self._highlighted, index
        if old == index:
            return
        self.cursor_moved(index)
        for i in (old, index):
            if i is not None:
                self._forget(i)
        if index is not None:
            self._scroll_into_view(index)
            # new rows change the virtual size, which the scroll limits follow only after
            # a refresh: check again then
            self.call_after_refresh(self._cursor_into_view)

    def cursor_moved(self, index: int | None) -> None:
        """The cursor is on a new row (for a subclass to follow)."""

    @property
    def at_bottom(self) -> bool:
        """Whether the cursor is on the last row (or there is none): a list that gets new
        rows follows the newest only then."""
        return self._highlighted is None or self._highlighted >= len(self._lines) - 1

    def _cursor_into_view(self) -> None:
        if self._highlighted is not None:
            self._scroll_into_view(self._highlighted)

    def _enabled_near(self, index: int) -> int | None:
        """`index` (clamped), or the next enabled row after it, or the last one before."""
        if not self._lines:
            return None
        index = max(0, min(index, len(self._lines) - 1))
        after = (i for i in range(index, len(self._lines)) if not self._lines[i][2])
        before = (i for i in range(index - 1, -1, -1) if not self._lines[i][2])
        return next(after, next(before, None))

    def _step(self, start: int, delta: int) -> int | None:
        """The first enabled row from `start` in direction `delta` (itself included)."""
        i = start
        while 0 <= i < len(self._lines):
            if not self._lines[i][2]:
                return i
            i += delta
        return None

    def action_cursor(self, delta: int) -> None:
        if self._highlighted is None:
            self.highlighted = 0
            return
        found = self._step(self._highlighted + delta, delta)
        if found is not None:
            self.highlighted = found

    def action_page(self, direction: int) -> None:
        page = max(1, self.scrollable_content_region.height - 1)
        current = self._highlighted or 0
        target = max(0, min(current + direction * page, len(self._lines) - 1))
        found = self._step(target, direction) or self._step(target, -direction)
        if found is not None:
            self.highlighted = found

    def action_first(self) -> None:
        found = self._step(0, 1)
        if found is not None:
            self.highlighted = found

    def action_last(self) -> None:
        found = self._step(len(self._lines) - 1, -1)
        if found is not None:
            self.highlighted = found

    def _scroll_into_view(self, index: int) -> None:
        height = self.scrollable_content_region.height
        if height:  # (not laid out yet: layout brings the cursor into view)
            scroll_row_into_view(self, index, height)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:  # on the border or a scroll bar
            return
        index = int(self.scroll_y) + offset.y
        if 0 <= index < len(self._lines) and not self._lines[index][2]:
            self.highlighted = index

    # -- drawing -----------------------------------------------------------------------
    def _forget(self, index: int) -> None:
        for focused in (False, True):
            self._cache.pop((index, self.scrollable_content_region.width, focused), None)
        self.refresh_line(index)

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        # Called during layout, before the frame is drawn (the Resize event comes after
        # it): so the first frame already shows the cursor's row, e.g. the newest entry.
        changed = super()._size_updated(size, virtual_size, container_size, layout)
        self._fit_cursor()
        return changed

    def _fit_cursor(self) -> None:
        """For a new size (the first layout may pass through smaller ones): the cursor in
        view with no more scrolling than that takes, so the same rows show whatever sizes
        came before."""
        height = self.scrollable_content_region.height
        if self._highlighted is None or not height:
            return
        least = max(0, self._highlighted - height + 1)
        if int(self.scroll_y) > least:
            self.scroll_to(y=min(self._highlighted, least), animate=False, immediate=True)
        self._cursor_into_view()

    def on_resize(self, event: events.Resize) -> None:
        self._cache.clear()
        self._fit_cursor()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._parts.clear()

    def on_focus(self) -> None:
        if self._highlighted is not None:
            self._forget(self._highlighted)

    def on_blur(self) -> None:
        if self._highlighted is not None:
            self._forget(self._highlighted)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = int(self.scroll_y) + y
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        focused = self.has_focus
        key = (index, width, focused)
        strip = self._cache.get(key)
        if strip is None:
            if index == self._highlighted:
                style = self.get_visual_style("line-list--line", "line-list--highlighted")
            else:
                style = self.get_visual_style("line-list--line")
            # one line, cut to the width with an ellipsis: no wrapping to work out
            line = self._lines[index][1].truncate(width, ellipsis=True, pad=True)
            parse = self._parse  # parts and the theme's $variables
            segments = [
                Segment(text, part.rich_style)
                for text, part in line.render(style, end="", parse_style=parse)
            ]
            strip = Strip(segments, width)
            self._cache[key] = strip
        return strip.apply_offsets(0, index)

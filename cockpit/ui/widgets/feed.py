"""The live feed: #incidents, #alerts and the incident's channel, merged.

A Line-API view (one row per message, only the visible rows are ever rendered), so a
storm of thousands of alerts costs nothing to show. Remote text is never parsed as
markup: rows are built from plain segments.

The highlighted row is the person's: while the feed has focus, new messages never move
the cursor, so a key acts on the message that was highlighted when it was pressed. The
view scrolls to show new rows while it is at the bottom (never so far that the
highlighted row leaves it); rows arriving below the cursor are counted in the border
("3 new ↓") and `end` (or `G`) jumps to the newest. Without focus nothing is highlighted,
and a cursor on the newest row follows the newest ("at the bottom").
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from datetime import tzinfo
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cockpit.domain.sanitize import for_display, sanitize
from cockpit.ui import commands
from cockpit.ui.messages import FeedMessageChosen, FeedNamesOnScreen
from cockpit.ui.widgets.linelist import scroll_row_into_view

if TYPE_CHECKING:
    from cockpit.domain.feed import FeedMessage

MAX_MESSAGES = 5000  # older messages stay in the store, not on screen


class Row:
    """A line of the feed. A plain class: the view makes thousands of these at a time."""

    __slots__ = ("depth", "hidden_replies", "message")

    def __init__(self, message: FeedMessage, depth: int, hidden_replies: int) -> None:
        self.message = message
        self.depth = depth  # 0 for a message, 1 for a reply shown under its parent
        self.hidden_replies = hidden_replies


class FeedView(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    FeedView {
        overflow-x: hidden;  /* rows are cut to the width: never a horizontal scroll bar */
    }
    """
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("enter", "toggle_thread", "Thread", show=True),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("r", "raise_from", "Raise from msg", show=True),
        Binding("o", "open_message", "Open", show=True),
        *commands.bindings("feed"),
    ]
    COMPONENT_CLASSES = {
        "feed--cursor",
        "feed--time",
        "feed--author",
        "feed--incidents",
        "feed--alerts",
        "feed--channel",
        "feed--dim",
        "feed--reply",
        "feed--empty",
    }

    paused: reactive[bool] = reactive(False)
    pending: reactive[int] = reactive(0)
    filter_text: reactive[str] = reactive("")
    remote_status: reactive[str] = reactive("")
    mode: reactive[str] = reactive("")  # how new messages arrive: "● live", "polling", …

    def __init__(
        self,
        *,
        tz: tzinfo,
        is_waking: Callable[[], bool] | None = None,
        empty_text: str = "No messages yet.",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.tz = tz
        self._messages: list[FeedMessage] = []  # sorted by time
        self._keys: set[tuple[str, str]] = set()
        self._rows: list[Row] = []
        self._expanded: set[tuple[str, str]] = set()
        # for appending without a rebuild: each top-level row by its message's key, and
        # how many replies of each thread are in memory
        self._parent_rows: dict[tuple[str, str], Row] = {}
        self._thread_len: dict[tuple[str, str], int] = {}
        self._held: list[FeedMessage] = []  # arrived while paused
        self._cache: dict[tuple[int, int, bool], Strip] = {}
        self.cursor = 0
        self.new_below = 0  # rows that arrived below a cursor that did not follow them
        self._view_at_bottom = False  # while taking new rows: the view showed the last one
        self.empty_text = empty_text
        self._is_waking = is_waking or (lambda: True)
        self._names_asked: frozenset[tuple[str, str]] = frozenset()
        self._names_due = False  # a look at the rows on screen is scheduled

    # -- data ------------------------------------------------------------------------
    @property
    def messages(self) -> list[FeedMessage]:
        return list(self._messages)

    @property
    def rows(self) -> list[Row]:
        return list(self._rows)

    def add_messages(self, messages: Iterable[FeedMessage]) -> int:
        """Take new messages; returns how many were new. While paused they are held. A
        message already shown that comes again different (edited, deleted, unfurled, or a
        name in it now known) takes its place."""
        fresh: list[FeedMessage] = []
        replaced = False
        for m in messages:
            if m.key not in self._keys:
                fresh.append(m)
            else:
                replaced = self._replace(m) or replaced
        if replaced:
            self._cache.clear()
            self.refresh()
        if not fresh:
            return 0
        for m in fresh:
            self._keys.add(m.key)
        if self.paused:
            self._held.extend(fresh)
            self.pending = len(self._held)
            return len(fresh)
        self._take(fresh)
        return len(fresh)

    def _replace(self, m: FeedMessage) -> bool:
        """A new version of a message in memory, in place (the caller redraws). Returns
        whether anything changed."""
        order = (m.at, m.ts)
        i = bisect.bisect_left(self._messages, order, key=lambda x: (x.at, x.ts))
        if i == len(self._messages) or self._messages[i].key != m.key:
            for j, held in enumerate(self._held):  # held while paused: the new version
                if held.key == m.key:
                    self._held[j] = m
            return False  # (or gone)
        if self._messages[i] == m:
            return False
        self._messages[i] = m
        row = self._parent_rows.get(m.key)
        if row is not None and row.message.key == m.key:
            row.message = m
        else:  # a reply shown under its parent
            for r in self._rows:
                if r.message.key == m.key:
                    r.message = m
                    break
        return True

    def _following(self) -> bool:
        """The cursor goes with the newest row: nothing is highlighted (no focus, or no
        rows yet) and it is on the last row. A highlighted row never moves by itself."""
        return not self._rows or (not self.has_focus and self.cursor >= len(self._rows) - 1)

    def _at_bottom(self) -> bool:
        return int(self.scroll_y) >= int(self.max_scroll_y)

    def _take(self, fresh: list[FeedMessage]) -> None:
        at_bottom = self._following()
        self._view_at_bottom = self._at_bottom()
        before = len(self._rows)
        current = self.selected()
        selected = current.key if current is not None else None
        fresh.sort(key=lambda m: (m.at, m.ts))
        in_order = not self._messages or fresh[0].at >= self._messages[-1].at
        if in_order:
            self._messages.extend(fresh)
        else:
            for m in fresh:
                bisect.insort(self._messages, m, key=lambda x: (x.at, x.ts))
        dropped = self._messages[: max(0, len(self._messages) - MAX_MESSAGES)]
        if dropped:
            for m in dropped:
                self._keys.discard(m.key)
            del self._messages[: len(dropped)]
        # The common case (newer than all, no filter, replies only to collapsed threads):
        # append rows, count replies on their parents' rows and trim the oldest, instead
        # of rebuilding thousands of rows per poll (an alert storm is hundreds of polls).
        expanded = self._expanded
        if (
            in_order
            and not self.filter_text
            and not any(m.is_reply and (m.channel, m.thread_ts) in expanded for m in fresh)
        ):
            self._append_rows(fresh, dropped, stick=at_bottom)
        else:
            self._rebuild(keep=None if at_bottom else selected, stick=at_bottom)
        self._count_new(before, at_bottom)
        self._names_soon()

    def _count_new(self, before: int, followed: bool) -> None:
        """After new rows: count those below a cursor that stayed where it was."""
        below = max(0, len(self._rows) - 1 - self.cursor)
        if followed or not below:
            self.new_below = 0
        else:
            self.new_below = min(below, self.new_below + max(0, len(self._rows) - before))
        self._update_title()

    def _append_rows(
        self, fresh: list[FeedMessage], dropped: list[FeedMessage], *, stick: bool
    ) -> None:
        parents, counts = self._parent_rows, self._thread_len
        for m in dropped:
            if m.is_reply and m.thread_ts is not None:
                thread = (m.channel, m.thread_ts)
                if counts.get(thread, 0) > 1:
                    counts[thread] -= 1
                else:
                    counts.pop(thread, None)
            else:
                parents.pop(m.key, None)
        for m in fresh:
            if m.is_reply and m.thread_ts is not None:
                thread = (m.channel, m.thread_ts)
                counts[thread] = counts.get(thread, 0) + 1
                parent = parents.get(thread)
                if parent is not None:  # collapsed (else it would have been rebuilt)
                    parent.hidden_replies = max(counts[thread], parent.message.reply_count)
            else:
                row = Row(m, 0, max(counts.get(m.key, 0), m.reply_count))
                parents[m.key] = row
                self._rows.append(row)
        if dropped:  # the oldest messages left memory: their rows (at the front) go too
            keys = self._keys
            trimmed = 0
            while trimmed < len(self._rows) and self._rows[trimmed].message.key not in keys:
                trimmed += 1
            del self._rows[:trimmed]
            self.cursor = max(0, self.cursor - trimmed)
        self._cache.clear()
        self.virtual_size = Size(0, len(self._rows))
        if stick:
            self.cursor = max(0, len(self._rows) - 1)
        self._follow_view()
        self.refresh()

    def _follow_view(self) -> None:
        """Show the cursor's row; a view that was at the bottom also shows the new rows,
        as many as fit with the highlighted row still in it."""
        height = self.scrollable_content_region.height or 1
        if self._view_at_bottom:
            self._view_at_bottom = False
            newest_top = max(0, len(self._rows) - height)
            top = newest_top if self._following() else min(newest_top, self.cursor)
            if top > int(self.scroll_y):
                self.scroll_to(y=top, animate=False, immediate=True)
        self._scroll_cursor_into_view(animate=False)

    def _rebuild(self, *, keep: tuple[str, str] | None = None, stick: bool = False) -> None:
        needle = self.filter_text.lower()
        replies: dict[tuple[str, str], list[FeedMessage]] = {}
        parents: list[FeedMessage] = []
        for m in self._messages:
            if m.is_reply and m.thread_ts is not None:
                replies.setdefault((m.channel, m.thread_ts), []).append(m)
            else:
                parents.append(m)
        rows: list[Row] = []
        expanded_keys = self._expanded
        no_thread: list[FeedMessage] = []
        for m in parents:
            thread = replies.get((m.channel, m.ts), no_thread) if replies else no_thread
            if (
                needle
                and needle not in self._haystack(m)
                and not any(needle in self._haystack(r) for r in thread)
            ):
                continue
            expanded = bool(expanded_keys) and m.key in expanded_keys
            rows.append(Row(m, 0, 0 if expanded else max(len(thread), m.reply_count)))
            if expanded:
                rows.extend(Row(r, 1, 0) for r in thread)
        self._rows = rows
        self._parent_rows = {row.message.key: row for row in rows if not row.depth}
        self._thread_len = {thread: len(msgs) for thread, msgs in replies.items()}
        self._cache.clear()
        self.virtual_size = Size(0, len(rows))
        last = max(0, len(rows) - 1)
        if stick:
            self.cursor = last
        else:
            # the kept message's row; if it is gone (filtered out), the nearest row: the
            # cursor never points past the rows (a filter leaves fewer than it had)
            found = None
            if keep is not None:
                found = next((i for i, row in enumerate(rows) if row.message.key == keep), None)
            self.cursor = found if found is not None else min(self.cursor, last)
        self._follow_view()
        self.refresh()

    @staticmethod
    def _haystack(m: FeedMessage) -> str:
        return f"{m.channel} {m.author} {m.text}".lower()

    def selected(self) -> FeedMessage | None:
        if not self._rows:
            return None
        return self._rows[min(self.cursor, len(self._rows) - 1)].message

    # -- reactive --------------------------------------------------------------------
    def watch_paused(self, paused: bool) -> None:
        if not paused and self._held:
            held, self._held = self._held, []
            self.pending = 0
            self._take(held)
        self._update_title()

    def watch_pending(self) -> None:
        self._update_title()

    def watch_filter_text(self) -> None:
        selected = self.selected()
        self._rebuild(keep=selected.key if selected else None)
        self._update_title()

    def watch_remote_status(self) -> None:
        self._update_title()

    def watch_mode(self) -> None:
        self._update_title()

    def _update_title(self) -> None:
        parts = [self.mode] if self.mode else []
        if self.remote_status:
            parts.append(f"⚠ {self.remote_status}")
        if self.paused:
            parts.append(f"PAUSED · {self.pending} new" if self.pending else "PAUSED")
        if self.new_below:
            parts.append(f"{self.new_below} new ↓ (end)")
        if self.filter_text:
            parts.append(f"filter: {self.filter_text}")
        # Content, not a str: a str border title is read as markup, and the filter and the
        # remote status carry typed and remote text
        self.border_subtitle = Content(for_display(sanitize("  ·  ".join(parts), single_line=True)))

    # -- actions ---------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor + direction * max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(len(self._rows) - 1)

    def _move(self, index: int) -> None:
        if not self._rows:
            return
        old = self.cursor
        self.cursor = max(0, min(index, len(self._rows) - 1))
        below = len(self._rows) - 1 - self.cursor
        if self.new_below > below:  # moved down onto rows counted as new: seen
            self.new_below = below
            self._update_title()
        if old != self.cursor:
            self._cache = {k: v for k, v in self._cache.items() if k[0] not in (old, self.cursor)}
            self._scroll_cursor_into_view()
            self.refresh()

    def _scroll_cursor_into_view(self, animate: bool = False) -> None:
        height = self.scrollable_content_region.height or 1
        scroll_row_into_view(self, self.cursor, height, animate=animate)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused

    def action_toggle_thread(self) -> None:
        m = self.selected()
        if m is None:
            return
        key = (m.channel, m.thread_ts) if m.is_reply and m.thread_ts else m.key
        if key in self._expanded:
            self._expanded.discard(key)
        else:
            self._expanded.add(key)
        self._rebuild(keep=key)

    def action_clear_filter(self) -> None:
        self.filter_text = ""

    def action_filter(self) -> None:
        from cockpit.ui.dialogs.prompts import TextPrompt

        def done(text: object) -> None:
            if isinstance(text, str):
                self.filter_text = text.strip()

        self.app.push_screen(
            TextPrompt(
                "Filter the feed", "text to look for (empty: show all)", value=self.filter_text
            ),
            done,
        )

    def action_raise_from(self) -> None:
        m = self.selected()
        if m is not None:
            self.post_message(FeedMessageChosen(m, "raise"))

    def action_open_message(self) -> None:
        m = self.selected()
        if m is not None:
            self.post_message(FeedMessageChosen(m, "open"))

    def action_pin(self) -> None:
        m = self.selected()
        if m is not None:
            self.post_message(FeedMessageChosen(m, "pin"))

    # -- names on screen ---------------------------------------------------------------
    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._names_soon()

    def _names_soon(self) -> None:
        """Look at the rows on screen a moment from now (once, however many scrolls or
        polls come before): their unknown names are looked up first."""
        if not self._names_due and self.is_mounted:
            self._names_due = True
            self.set_timer(0.2, self._names_on_screen)

    def _names_on_screen(self) -> None:
        self._names_due = False
        top = int(self.scroll_y)
        height = self.scrollable_content_region.height or 1
        keys = frozenset(
            row.message.key for row in self._rows[top : top + height] if row.message.wanted
        )
        if keys and keys != self._names_asked:
            self.post_message(FeedNamesOnScreen(sorted(keys - self._names_asked)))
        self._names_asked = keys

    # -- rendering -------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self._cache.clear()
        self.virtual_size = Size(0, len(self._rows))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = int(self.scroll_y) + y
        base = self.rich_style
        if not self._rows:
            if y == 0:
                st = self.get_component_rich_style("feed--empty")
                return Strip([Segment(" " + self.empty_text, st)]).crop_extend(0, width, base)
            return Strip.blank(width, base)
        if index >= len(self._rows):
            return Strip.blank(width, base)
        is_cursor = index == self.cursor and self.has_focus
        key = (index, width, is_cursor)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_row(self._rows[index], width, is_cursor, base)
            self._cache[key] = strip
        return strip.apply_offsets(0, index)

    def _render_row(self, row: Row, width: int, is_cursor: bool, base: Style) -> Strip:
        m = row.message
        get = self.get_component_rich_style
        dim = m.is_alert and not self._is_waking()
        if m.channel.startswith("alerts") or (m.is_alert and not m.channel.startswith("incident")):
            tag_style = get("feed--alerts")
        elif m.channel == "incidents":
            tag_style = get("feed--incidents")
        else:
            tag_style = get("feed--channel")
        tag = f"#{m.channel}"[:14].ljust(14)
        time_text = m.at.astimezone(self.tz).strftime("%H:%M")
        segs: list[Segment] = []
        if row.depth:
            segs.append(Segment("   ↳ ", get("feed--reply")))
        segs.append(Segment(("⚠ " if m.is_alert else "  "), tag_style))
        segs.append(Segment(tag + " ", tag_style))
        segs.append(Segment(time_text + " ", get("feed--time")))
        segs.append(Segment(for_display(m.author[:20]) + ": ", get("feed--author")))
        text = for_display(m.headline[:1000])
        if m.state in ("danger", "warning", "good") and not m.deleted:
            text = f"{m.state.upper()} · {text}" if text else m.state.upper()
        if m.deleted:
            text = "(message deleted)"
        segs.append(Segment(text, base))
        extra = []
        if m.line_count > 1:
            more = m.line_count - 1
            extra.append(f"+{more} line{'' if more == 1 else 's'}")
        if row.hidden_replies:
            extra.append(f"{row.hidden_replies} repl{'y' if row.hidden_replies == 1 else 'ies'}")
        if m.edited:
            extra.append("edited")
        if extra:
            segs.append(Segment("  (" + ", ".join(extra) + ")", get("feed--reply")))
        strip = Strip(segs)
        if dim:
            strip = Strip(Segment.apply_style(strip, post_style=get("feed--dim")))
        strip = strip.crop_extend(0, width, base)
        if is_cursor:
            strip = Strip(Segment.apply_style(strip, post_style=get("feed--cursor")))
        return strip

    def on_focus(self) -> None:
        self._cache.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._cache.clear()
        self.refresh()

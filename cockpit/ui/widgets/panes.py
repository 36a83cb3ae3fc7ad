"""The timeline, checklist and drafts panes of the cockpit screen."""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar, Self

from textual.binding import Binding
from textual.content import Content
from textual.geometry import Region
from textual.message import Message

from cockpit.domain.playbook import ChecklistView, ItemState, ItemView, StepProgress
from cockpit.domain.sanitize import for_display
from cockpit.domain.timeline import EntryKind, TimelineEntry, sort_entries
from cockpit.ui import commands
from cockpit.ui.widgets.linelist import Line, LineList

# an entry's text is drawn in its kind's colour for these kinds (and plain for the rest)
TEXT_IN_KIND = frozenset({EntryKind.CHECK, EntryKind.STATUS, EntryKind.SEVERITY})


def bar(fraction: float, width: int = 10) -> str:
    full = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * full + "░" * (width - full)


class TimelinePane(LineList):
    """Entries ordered by event time, with kind markers and a warning on out-of-order edits."""

    BINDINGS = [*commands.bindings("timeline")]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"timeline--{kind.value}" for kind in EntryKind),  # the marker: note, status, …
        "timeline--time",
        "timeline--author",
        "timeline--backdated",
        "timeline--edited",
        "timeline--empty",
    }

    def __init__(self, *, tz: tzinfo, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.entries: list[TimelineEntry] = []

    def show(self, entries: list[TimelineEntry], *, keep_bottom: bool = True) -> None:
        """New entries: the cursor follows the newest while it is on the last row;
        otherwise it stays where the person is reading and "N new ↓" counts the rest."""
        highlighted = self.highlighted_entry()
        following = self.at_bottom
        seen = {e.id for e in self.entries}
        self.entries = sort_entries(entries)
        if not self.entries:
            empty = Content.styled("No entries yet. n adds a note.", ".timeline--empty")
            self.set_lines([(None, empty, True)])
            self._set_unseen(0)
            return
        target = None
        stays = highlighted is not None and any(e.id == highlighted.id for e in self.entries)
        if stays and not (following and keep_bottom):
            assert highlighted is not None
            target = next(i for i, e in enumerate(self.entries) if e.id == highlighted.id)
            self._set_unseen(self.unseen + sum(e.id not in seen for e in self.entries))
        elif keep_bottom:
            target = len(self.entries) - 1
            self._set_unseen(0)
        self.set_lines([(e.id, self._prompt(e), False) for e in self.entries], highlight=target)

    unseen = 0  # entries added below the cursor since the person scrolled up

    def _set_unseen(self, count: int) -> None:
        self.unseen = count
        self.border_subtitle = f"{count} new ↓  end" if count else ""

    def cursor_moved(self, index: int | None) -> None:
        if self.unseen and index is not None and index >= self.line_count - 1:
            self._set_unseen(0)

    def _prompt(self, e: TimelineEntry) -> Content:
        local = e.event_at.astimezone(self.tz).strftime("%H:%M")
        flags = []
        if e.backdated:
            flags.append(("  ⟲ backdated", ".timeline--backdated"))
        if e.edited_at is not None:
            flags.append(("  ✎ time edited", ".timeline--edited"))
        text = for_display(e.text.split("\n", 1)[0][:1000]) + (f"  → {e.link}" if e.link else "")
        kind = f".timeline--{e.kind.value}"
        return Content.assemble(
            (f"{local} ", ".timeline--time"),
            (f"{e.kind.marker} ", kind),
            (text, kind if e.kind in TEXT_IN_KIND else ""),
            (f"  — {e.author}" if e.author else "", ".timeline--author"),
            *flags,
        )

    def highlighted_entry(self) -> TimelineEntry | None:
        if self.highlighted is None or not self.entries:
            return None
        entry_id = self.id_at(self.highlighted)
        return next((e for e in self.entries if e.id == entry_id), None)

    class EditTimeRequested(Message):
        def __init__(self, entry: TimelineEntry) -> None:
            super().__init__()
            self.entry = entry

    def action_edit_time(self) -> None:
        e = self.highlighted_entry()
        if e is not None:
            self.post_message(self.EditTimeRequested(e))


class ChecklistPane(LineList):
    """The playbook's five steps with progress bars; tick, untick, run an item's action."""

    BINDINGS = [Binding("space", "tick", show=False), *commands.bindings("checklist")]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "checklist--step",
        "checklist--step-complete",
        "checklist--bar",
        "checklist--bar-complete",
        "checklist--count",
        "checklist--open",  # an item to do: its box
        "checklist--run",  # the mark of an item with an action
        "checklist--done-mark",
        "checklist--done",
        "checklist--by",  # who ticked it
        "checklist--skipped-mark",
        "checklist--skipped",
        "checklist--skipped-note",
        "checklist--empty",
    }

    class TickRequested(Message):
        def __init__(self, item: ItemView) -> None:
            super().__init__()
            self.item = item

    class RunRequested(Message):
        def __init__(self, item: ItemView) -> None:
            super().__init__()
            self.item = item

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: ChecklistView | None = None
        self._items: dict[str, ItemView] = {}
        self._border_only = False

    def show(self, view: ChecklistView | None) -> None:
        if view is not None and self._same_shape(view):
            self._update_in_place(view)
            return
        current = self.highlighted_item()
        self.view = view
        self._items = {}
        if view is None:
            self.set_lines(
                [(None, Content.styled("No active incident.", ".checklist--empty"), True)]
            )
            self.border_subtitle = ""
            return
        lines: list[Line] = []
        for n, step in enumerate(view.steps, 1):
            lines.append((f"step:{step.step.id}", self._step_prompt(n, step), True))
            for iv in step.items:
                self._items[iv.item.id] = iv
                lines.append((iv.item.id, self._item_prompt(iv), False))
        target = current.item.id if current is not None and current.item.id in self._items else None
        if target is None:
            first_open = next(
                (iv for s in view.steps for iv in s.items if iv.state is ItemState.OPEN), None
            )
            target = first_open.item.id if first_open else None
        ids = [line_id for line_id, _, _ in lines]
        self.set_lines(lines, highlight=ids.index(target) if target is not None else None)
        self.border_subtitle = f"{bar(view.fraction, 12)} {view.done}/{view.total}"

    def _same_shape(self, view: ChecklistView) -> bool:
        old = self.view
        if old is None or len(old.steps) != len(view.steps):
            return False
        return all(
            a.step.id == b.step.id and [i.item.id for i in a.items] == [i.item.id for i in b.items]
            for a, b in zip(old.steps, view.steps, strict=True)
        )

    def _update_in_place(self, view: ChecklistView) -> None:
        """Same playbook, new states (a tick): replace only the prompts that changed, so a
        tick costs a few lines of repaint, not a rebuilt list."""
        assert self.view is not None
        for n, (old, new) in enumerate(zip(self.view.steps, view.steps, strict=True), 1):
            if (old.done, old.total_applicable) != (new.done, new.total_applicable):
                self.replace(f"step:{new.step.id}", self._step_prompt(n, new))
            for before, after in zip(old.items, new.items, strict=True):
                if (before.state, before.tick) != (after.state, after.tick):
                    self.replace(after.item.id, self._item_prompt(after))
                self._items[after.item.id] = after
        self.view = view
        self._border_only = True  # the progress in the border: repaint that line alone
        try:
            self.border_subtitle = f"{bar(view.fraction, 12)} {view.done}/{view.total}"
        finally:
            self._border_only = False

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        if self._border_only and not (regions or layout or recompose) and self.is_mounted:
            # Setting a border title repaints the whole pane; only its bottom line changed.
            # Regions are relative to the content, inside the border.
            offset = self.content_offset
            bottom = self.outer_size.height - 1 - offset.y
            regions = (Region(-offset.x, bottom, self.outer_size.width, 1),)
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    @staticmethod
    def _step_prompt(n: int, step: StepProgress) -> Content:
        complete = "-complete" if step.complete else ""
        return Content.assemble(
            (f"{n} {step.step.title}", f".checklist--step{complete}"),
            "  ",
            (bar(step.fraction, 8), f".checklist--bar{complete}"),
            (f" {step.done}/{step.total_applicable}", ".checklist--count"),
        )

    @staticmethod
    def _item_prompt(iv: ItemView) -> Content:
        if iv.state is ItemState.DONE:
            who = f"  {iv.tick.by}" if iv.tick else ""
            return Content.assemble(
                ("  ✔ ", ".checklist--done-mark"),
                (iv.item.text, ".checklist--done"),
                (who, ".checklist--by"),
            )
        if iv.state in (ItemState.SKIPPED, ItemState.NOT_APPLICABLE):
            return Content.assemble(
                ("  – ", ".checklist--skipped-mark"),
                (iv.item.text, ".checklist--skipped"),
                (f"  {iv.state.value}", ".checklist--skipped-note"),
            )
        run = "  ↵" if iv.item.action else ""
        return Content.assemble(
            ("  ☐ ", ".checklist--open"), (iv.item.text, ""), (run, ".checklist--run")
        )

    def highlighted_item(self) -> ItemView | None:
        if self.highlighted is None:
            return None
        item_id = self.id_at(self.highlighted)
        return self._items.get(item_id) if item_id else None

    def action_tick(self) -> None:
        iv = self.highlighted_item()
        if iv is not None:
            self.post_message(self.TickRequested(iv))

    def action_run_item(self) -> None:
        iv = self.highlighted_item()
        if iv is not None:
            self.post_message(self.RunRequested(iv))

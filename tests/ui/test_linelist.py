"""LineList: the one-line-row list behind the timeline and the checklist."""

from __future__ import annotations

import time

from textual.app import App, ComposeResult
from textual.content import Content

from cockpit.ui.widgets.linelist import Line, LineList


class ListApp(App[None]):
    def __init__(self, lines: list[Line], highlight: int | None = None) -> None:
        super().__init__()
        self.lines = lines
        self.highlight = highlight

    def compose(self) -> ComposeResult:
        yield LineList(id="list")

    def on_mount(self) -> None:
        self.query_one(LineList).set_lines(self.lines, highlight=self.highlight)


def steps() -> list[Line]:
    """Two headers (disabled) with items under them, like the checklist."""
    lines: list[Line] = []
    for s in range(2):
        lines.append((f"step:{s}", Content(f"Step {s}"), True))
        lines += [(f"{s}-{i}", Content(f"item {s}.{i}"), False) for i in range(3)]
    return lines


def screen_text(app: App[None]) -> list[str]:
    strips = app.screen._compositor.render_strips()
    return ["".join(seg.text for seg in strip) for strip in strips]


async def test_the_cursor_skips_headers_both_ways() -> None:
    app = ListApp(steps(), highlight=0)  # asked for a header: lands on the first item
    async with app.run_test(size=(40, 12)) as pilot:
        lst = app.query_one(LineList)
        lst.focus()
        assert lst.highlighted == 1
        await pilot.press("down", "down", "down")  # past the second header
        assert lst.id_at(lst.highlighted) == "1-0"
        await pilot.press("up")
        assert lst.id_at(lst.highlighted) == "0-2"
        await pilot.press("end")
        assert lst.id_at(lst.highlighted) == "1-2"
        await pilot.press("home")
        assert lst.id_at(lst.highlighted) == "0-0"
        await pilot.press("up")  # nothing enabled above: stays
        assert lst.id_at(lst.highlighted) == "0-0"


async def test_paging_and_scrolling_keep_the_cursor_on_screen() -> None:
    lines: list[Line] = [(str(i), Content(f"row {i}"), False) for i in range(100)]
    app = ListApp(lines, highlight=99)
    async with app.run_test(size=(30, 10)) as pilot:
        lst = app.query_one(LineList)
        lst.focus()
        await pilot.pause()
        assert any("row 99" in line for line in screen_text(app))  # scrolled to the end
        await pilot.press("pageup")
        await pilot.pause()
        assert lst.highlighted == 99 - (lst.scrollable_content_region.height - 1)
        assert any(f"row {lst.highlighted}" in line for line in screen_text(app))
        await pilot.press("home")
        await pilot.pause()
        assert lst.highlighted == 0 and "row 0" in screen_text(app)[0]


async def test_replace_redraws_that_line_and_text_is_never_markup() -> None:
    lines: list[Line] = [(str(i), Content(f"row {i}"), False) for i in range(5)]
    app = ListApp(lines, highlight=0)
    async with app.run_test(size=(40, 8)) as pilot:
        lst = app.query_one(LineList)
        await pilot.pause()
        lst.replace("3", Content("[bold]not markup[/] \x1b[31m"))
        await pilot.pause()
        text = screen_text(app)
        assert "[bold]not markup[/]" in text[3]
        assert "row 4" in text[4] and "row 2" in text[2]


async def test_a_long_line_is_cut_with_an_ellipsis_not_wrapped() -> None:
    lines: list[Line] = [("a", Content("x" * 200), False), ("b", Content("next"), False)]
    app = ListApp(lines)
    async with app.run_test(size=(30, 6)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert text[0].rstrip().endswith("…") and "next" in text[1]


async def test_a_click_moves_the_cursor_but_not_onto_a_header() -> None:
    app = ListApp(steps(), highlight=1)
    async with app.run_test(size=(40, 12)) as pilot:
        lst = app.query_one(LineList)
        await pilot.click(LineList, offset=(3, 7))  # row 7: item 1.2
        assert lst.id_at(lst.highlighted) == "1-2"
        await pilot.click(LineList, offset=(3, 4))  # row 4: the second header
        assert lst.id_at(lst.highlighted) == "1-2"


async def test_ten_thousand_rows_cost_only_the_rows_on_screen() -> None:
    lines: list[Line] = [(str(i), Content(f"entry {i}"), False) for i in range(10_000)]
    app = ListApp([])
    async with app.run_test(size=(60, 20)) as pilot:
        lst = app.query_one(LineList)
        drawn: list[int] = []

        class Counting(dict):  # type: ignore[type-arg]
            def __setitem__(self, key, value) -> None:  # type: ignore[no-untyped-def]
                drawn.append(key[0])
                super().__setitem__(key, value)

        lst._cache = Counting()
        started = time.perf_counter()
        lst.set_lines(lines, highlight=9_999)
        await pilot.pause()
        assert time.perf_counter() - started < 1.0
        # the first screen, then the last one: a few screens' worth, never 10,000 rows
        assert len(drawn) <= 3 * lst.scrollable_content_region.height
        assert any("entry 9999" in line for line in screen_text(app))


async def test_the_first_frame_already_shows_the_cursors_row() -> None:
    """Rows set before the first layout (the app's first incident is read while it starts):
    the very first frame shows the highlighted row, e.g. the timeline's newest entry."""
    lines: list[Line] = [(str(i), Content(f"entry {i}"), False) for i in range(60)]
    frames: list[list[str]] = []

    class FirstFrame(ListApp):
        def post_display_hook(self) -> None:
            if not frames:
                frames.append(screen_text(self))

    app = FirstFrame(lines, highlight=59)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
    assert frames and any("entry 59" in line for line in frames[0])

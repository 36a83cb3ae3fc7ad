"""Regenerate the screenshots in this folder from the real app.

    python screenshots/generate.py

It needs the test extra (`pip install -e '.[test]'`): the scene comes from the UI tests'
harness (tests/ui/scenes.py), and PNGs need `rsvg-convert` (Debian's librsvg2-bin).

Each picture is the real CockpitApp on a real store in a temp dir, seeded with the
"incident mid-flight" scene the snapshot tests use, at a fixed size and a frozen clock.
Writes SVG (what the README embeds); with --png also PNGs via rsvg-convert.

The two browser views (browser-cockpit.png, browser-board.png) are Chromium's own
screenshots of `cockpit serve`, written by the browser tests:
`COCKPIT_BROWSER_SCREENSHOTS=1 python -m pytest tests/browser -k drill`.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from cockpit.ui.widgets.feed import FeedView  # noqa: E402
from cockpit.web.apps import BoardApp  # noqa: E402
from tests.ui import scenes  # noqa: E402
from tests.ui.conftest import SIZE, Harness, settle  # noqa: E402

SHOTS: list[tuple[str, str, tuple[str, ...]]] = [
    ("cockpit-dark", "main-dark", ()),
    ("cockpit-light", "main-light", ()),
    ("cockpit-contrast", "main-contrast", ()),
    ("cockpit-dark", "raise-from-feed", ("1", *["up"] * 10, "r")),
    ("cockpit-dark", "confirm-send", ("4", "s")),
    ("cockpit-dark", "severity", ("S",)),
    ("cockpit-dark", "help", ("question_mark",)),
    ("cockpit-dark", "metrics", ("M",)),
    ("cockpit-dark", "board", ()),  # the read-only board of `cockpit serve --read-only`
]


async def shoot(theme: str, name: str, keys: tuple[str, ...], out: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        h = Harness(Path(tmp))
        if name == "metrics":
            scenes.history(h)
        scenes.mid_flight(h)
        h.prefs.set("theme", theme)
        app = BoardApp(h.services) if name == "board" else h.app()
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            if name != "board":
                app.screen.query_one(FeedView).add_messages(scenes.feed(h))
            await pilot.pause()
            if keys:
                await pilot.press(*keys)
            await settle(pilot)
            await pilot.wait_for_scheduled_animations()
            app.title = f"cockpit — {name}"
            path = Path(app.save_screenshot(filename=f"{name}.svg", path=str(out)))
        h.store.close()
    return path


async def main(png: bool) -> None:
    for theme, name, keys in SHOTS:
        svg = await shoot(theme, name, keys, HERE)
        print(svg.relative_to(HERE.parent))
        if png:
            if not shutil.which("rsvg-convert"):
                raise SystemExit("--png needs rsvg-convert (Debian: librsvg2-bin)")
            subprocess.run(
                ["rsvg-convert", str(svg), "-o", str(svg.with_suffix(".png"))], check=True
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", action="store_true", help="also write PNGs (rsvg-convert)")
    asyncio.run(main(parser.parse_args().png))

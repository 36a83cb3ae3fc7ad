"""What the app drew and then took away is released: a shift of dialogs opened and closed
does not keep their rendered lines (the soak's RSS growth, bench/run.py section 8)."""

from __future__ import annotations

import gc
import weakref

from textual._styles_cache import StylesCache

from cockpit.ui.dialogs.incident import NoteModal
from cockpit.ui.screens.main import CockpitScreen

from .conftest import SIZE, Harness, settle


async def test_a_closed_dialogs_rendered_lines_are_released(harness: Harness):
    harness.service.raise_incident("Checkout errors for EU buyers")
    app = harness.app()
    caches: list[weakref.ref[StylesCache]] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(3):
            await pilot.press("n")
            await settle(pilot)
            assert isinstance(app.screen, NoteModal)
            widgets = list(app.screen.walk_children(with_self=True))
            assert widgets
            caches.extend(weakref.ref(w._styles_cache) for w in widgets)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, CockpitScreen)
            del widgets
        for _ in range(30):  # (a closing dialog's last messages may still be queued)
            await pilot.pause(0.1)
            gc.collect()
            alive = [c for c in caches if c() is not None]
            if not alive:
                break
        # (Textual 8.2.8 kept every one of them: cockpit/ui/fixes.py)
        assert not alive, f"{len(alive)} of {len(caches)} styles caches of closed dialogs kept"


async def test_the_c_heaps_are_trimmed_now_and_then_off_the_ui_thread(
    harness: Harness, monkeypatch
):
    """Every TRIM_EVERY seconds the app hands the C heaps' free pages back (cockpit/
    memory.py), on a thread of its own: never on the UI's."""
    import threading

    from cockpit import memory

    calls: list[str] = []

    def trim() -> bool:
        calls.append(threading.current_thread().name)
        return True

    monkeypatch.setattr(memory, "TRIM_EVERY", 0.1)
    monkeypatch.setattr(memory, "trim", trim)
    harness.service.raise_incident("Checkout errors for EU buyers")
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        ui = threading.current_thread().name
        for _ in range(50):
            await pilot.pause(0.05)
            if len(calls) >= 3:
                break
        assert len(calls) >= 3, calls  # again and again, not once
        assert ui not in calls

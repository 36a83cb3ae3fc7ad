"""The header's SLO clock: a new second is drawn in place; the screen is laid out again
only when the clock's width changes (an idle cockpit must not lay out every second)."""

from __future__ import annotations

from typing import Any

from cockpit.domain.clock import FrozenClock
from cockpit.domain.incident import Severity
from cockpit.ui.widgets.header import SloClock

from .conftest import SIZE, Harness, settle


async def test_each_second_is_drawn_without_a_layout_unless_the_width_changes(
    harness: Harness,
) -> None:
    # acknowledged, with a severity: "UPDATE m:ss" counts down to the next update due
    harness.raise_incident(minutes_ago=2, severity=Severity.MAJOR)
    clock = harness.clock
    assert isinstance(clock, FrozenClock)
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        slo = app.screen.query_one("#slo", SloClock)
        calls: list[bool] = []
        refresh = slo.refresh

        def spy(*args: Any, **kw: Any) -> Any:
            calls.append(bool(kw.get("layout")))
            return refresh(*args, **kw)

        for _ in range(120):  # to the last minute before the update is due
            if "UPDATE 00:" in str(slo.render()):
                break
            clock.advance(minutes=1)
            slo.tick()
        assert "UPDATE 00:" in str(slo.render())
        slo.refresh = spy  # type: ignore[method-assign]
        before = str(slo.render())
        slo.tick()  # the same second: nothing to draw
        assert calls == []
        layouts = 0
        for _ in range(90):  # past the deadline: "00:00" becomes "-00:01", wider
            clock.advance(seconds=1)
            shown = str(slo.render())
            slo.tick()
            now = str(slo.render())
            assert now != shown, "a new second is drawn"
            assert calls, "the clock asked to be drawn"
            assert calls[-1] is (len(now) != len(shown)), (shown, now)
            layouts += calls[-1]
            calls.clear()
        assert layouts == 1, "laid out once: when the width changed"
        assert str(slo.render()) != before

"""Checklist progress: item states, counts per step and overall (`playbook.progress`)."""

from __future__ import annotations

import pytest

from cockpit.domain.incident import Severity, Status
from cockpit.domain.playbook import (
    Condition,
    Item,
    ItemState,
    Playbook,
    Step,
    checklist_view,
    next_open,
)
from tests.unit.playbook._helpers import ctx, small, tick


def numbers(view: object) -> list[tuple[int, int, int]]:
    from cockpit.domain.playbook import ChecklistView

    assert isinstance(view, ChecklistView)
    return [(s.done, s.total_applicable, s.skipped) for s in view.steps]


def test_progress_with_nothing_ticked() -> None:
    view = checklist_view(small(), {}, ctx(None, Status.REPORTED))
    # c (severity unset) and d (no status page) are skipped.
    assert numbers(view) == [(0, 2, 1), (0, 1, 1)]
    assert (view.done, view.total, view.skipped) == (0, 3, 2)
    assert view.fraction == 0.0
    assert [v.state for v in view.items] == [
        ItemState.OPEN,
        ItemState.OPEN,
        ItemState.SKIPPED,
        ItemState.SKIPPED,
        ItemState.OPEN,
    ]
    first = next_open(view)
    assert first is not None and first.item.id == "a"


def test_progress_critical_with_status_page() -> None:
    ticks = {"a": tick("a"), "c": tick("c"), "d": tick("d")}
    view = checklist_view(small(), ticks, ctx(Severity.CRITICAL, Status.FIXING, ("statuspage",)))
    # s1: a done, b open, c done; s2: d done, e open.
    assert numbers(view) == [(2, 3, 0), (1, 2, 0)]
    assert (view.done, view.total) == (3, 5)
    assert view.fraction == pytest.approx(0.6)
    assert view.steps[0].fraction == pytest.approx(2 / 3)
    first = next_open(view)
    assert first is not None and first.item.id == "b"


def test_a_ticked_item_whose_condition_turns_false_is_skipped_and_keeps_its_tick() -> None:
    ticks = {"a": tick("a"), "c": tick("c"), "d": tick("d")}
    view = checklist_view(small(), ticks, ctx(Severity.MAJOR, Status.FIXING))
    # c (not critical) and d (no status page) drop out although they were ticked.
    assert numbers(view) == [(1, 2, 1), (0, 1, 1)]
    assert (view.done, view.total, view.skipped) == (1, 3, 2)
    assert view.fraction == pytest.approx(1 / 3)
    c = view.steps[0].items[2]
    assert c.item.id == "c"
    assert c.state is ItemState.SKIPPED
    assert c.tick == ticks["c"]
    assert c.skip_reason == "only when severity == critical"
    assert view.steps[1].items[0].skip_reason == "only when statuspage"


def test_an_unticked_item_is_open_and_keeps_its_untick() -> None:
    ticks = {"a": tick("a", ticked=False), "b": tick("b")}
    view = checklist_view(small(), ticks, ctx(None, Status.RESOLVED))
    # s1: a unticked (open), b done, c skipped; s2: d and e skipped, nothing applicable.
    assert numbers(view) == [(1, 2, 1), (0, 0, 2)]
    assert (view.done, view.total) == (1, 2)
    assert view.fraction == 0.5
    assert view.steps[1].fraction == 1.0
    assert view.steps[1].complete
    a = view.steps[0].items[0]
    assert a.state is ItemState.OPEN
    assert a.tick is not None and a.tick.ticked is False
    assert a.skip_reason == ""
    first = next_open(view)
    assert first is not None and first.item.id == "a"


def test_everything_applicable_done() -> None:
    ticks = {i: tick(i) for i in "abe"}
    ticks["zzz"] = tick("zzz")  # a tick for an item no longer in the playbook is ignored
    view = checklist_view(small(), ticks, ctx(Severity.MINOR, Status.REPORTED))
    assert numbers(view) == [(2, 2, 1), (1, 1, 1)]
    assert (view.done, view.total) == (3, 3)
    assert view.fraction == 1.0
    assert next_open(view) is None
    assert all(s.complete for s in view.steps)


def test_nothing_applicable_counts_as_complete() -> None:
    pb = Playbook(
        "cond",
        (Step("s", "S", items=(Item("x", "X", when=Condition.parse("jira"), step_id="s"),)),),
    )
    view = checklist_view(pb, {}, ctx())
    assert (view.done, view.total, view.skipped) == (0, 0, 1)
    assert view.fraction == 1.0
    assert next_open(view) is None

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
    view = checklist_view(small(), ticks, ctx(None, Status.MONITORING))
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


# -- once the incident has ended: the default playbook ---------------------------------
def _default_view(ticked: list[str], severity: Severity | None, status: Status) -> object:
    from cockpit.domain.playbook import default_playbook

    ticks = {i: tick(i) for i in ticked}
    return checklist_view(default_playbook(), ticks, ctx(severity, status, ("statuspage",)))


def _states(view: object) -> dict[str, ItemState]:
    from cockpit.domain.playbook import ChecklistView

    assert isinstance(view, ChecklistView)
    return {v.item.id: v.state for v in view.items}


def test_after_cancel_what_was_done_is_done_and_the_rest_not_applicable() -> None:
    from cockpit.domain.playbook import ChecklistView

    done = ["raise-incident", "create-ticket", "mark-fixing", "set-severity"]
    done += ["not-incident-link-bug", "not-incident-cancel"]
    view = _default_view(done, Severity.MINOR, Status.CANCELED)
    assert isinstance(view, ChecklistView)
    states = _states(view)
    for item_id in done:
        assert states[item_id] is ItemState.DONE, item_id
    assert states["assign-roles"] is ItemState.NOT_APPLICABLE
    assert states["not-incident-redirect"] is ItemState.NOT_APPLICABLE
    assert states["post-mortem"] is ItemState.SKIPPED  # never critical
    assess = next(s for s in view.steps if s.step.id == "assess")
    # mark-fixing, set-severity, link-bug, cancel: done; the rest is not counted
    assert (assess.done, assess.total_applicable) == (4, 4)
    assert view.done == view.total  # nothing left to do on a canceled incident
    assert all(not v.tickable for v in view.items)
    assert next_open(view) is None
    na = next(v for v in view.items if v.item.id == "assign-roles")
    assert na.skip_reason == "not done before the incident was canceled"


def test_after_resolve_only_the_post_incident_items_are_open() -> None:
    from cockpit.domain.playbook import ChecklistView, default_playbook

    done = ["raise-incident", "mark-fixing", "set-severity", "mark-monitoring", "mark-resolved"]
    view = _default_view(done, Severity.CRITICAL, Status.RESOLVED)
    assert isinstance(view, ChecklistView)
    states = _states(view)
    after = {i.id for i in default_playbook().items if i.after}
    assert after == {"create-follow-ups", "statuspage-resolve", "post-mortem", "update-playbooks"}
    for item_id, state in states.items():
        if item_id in done:
            assert state is ItemState.DONE, item_id
        elif item_id in after:
            assert state is ItemState.OPEN, item_id
        else:
            assert state is ItemState.NOT_APPLICABLE, item_id
    assert {v.item.id for v in view.items if v.tickable} == after
    first = next_open(view)
    assert first is not None and first.item.id == "create-follow-ups"
    # every post-incident item ticked: the checklist is finished
    view = _default_view(done + sorted(after), Severity.CRITICAL, Status.RESOLVED)
    assert isinstance(view, ChecklistView)
    assert view.done == view.total and next_open(view) is None


def test_after_resolve_a_minor_incident_skips_the_post_mortem() -> None:
    states = _states(_default_view(["mark-resolved"], Severity.MINOR, Status.RESOLVED))
    assert states["post-mortem"] is ItemState.SKIPPED
    assert states["update-playbooks"] is ItemState.OPEN


def test_the_after_flag_is_parsed_and_checked() -> None:
    from cockpit.domain.errors import PlaybookError
    from cockpit.domain.playbook import parse_playbook

    book = parse_playbook(
        'name = "p"\n[[steps]]\nid = "s"\ntitle = "S"\n'
        '[[steps.items]]\nid = "pm"\ntext = "PM"\nafter = true\n'
    )
    assert book.item("pm").after
    assert book.item("pm").tickable(Status.RESOLVED)
    assert not book.item("pm").tickable(Status.CANCELED)
    with pytest.raises(PlaybookError, match="after must be true or false"):
        parse_playbook(
            'name = "p"\n[[steps]]\nid = "s"\ntitle = "S"\n'
            '[[steps.items]]\nid = "pm"\ntext = "PM"\nafter = "yes"\n'
        )

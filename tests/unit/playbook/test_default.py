"""The default playbook shipped with cockpit: its steps, items, actions and conditions."""

from __future__ import annotations

import pytest

from cockpit.domain.incident import Severity, Status
from cockpit.domain.playbook import (
    KNOWN_ACTIONS,
    ItemState,
    checklist_view,
    default_playbook,
    next_open,
)
from tests.unit.playbook._helpers import ctx

KEBAB = r"^[a-z0-9]+(-[a-z0-9]+)*$"


def test_default_playbook_has_the_five_steps_in_order() -> None:
    pb = default_playbook()
    assert [s.id for s in pb.steps] == ["alert", "raise", "assess", "address", "resolve"]
    assert [s.title for s in pb.steps] == ["Alert", "Raise", "Assess", "Address", "Resolve"]
    assert pb.name == "Responding to an incident"
    assert pb.source.endswith("default.toml")
    assert all(s.items for s in pb.steps)


def test_default_playbook_is_read_once() -> None:
    assert default_playbook() is default_playbook()


def test_default_playbook_ids_are_unique_kebab_case_and_texts_short() -> None:
    import re

    pb = default_playbook()
    ids = [i.id for i in pb.items]
    assert len(ids) == len(set(ids))
    assert sum(len(s.items) for s in pb.steps) == len(ids)
    for item in pb.items:
        assert re.match(KEBAB, item.id), item.id
        assert 0 < len(item.text) <= 60, item.text
        assert "\n" not in item.text
        assert pb.step_of(item.id).id == item.step_id


def test_default_playbook_actions_are_known_and_each_is_used_once() -> None:
    pb = default_playbook()
    actions = [i.action for i in pb.items if i.action is not None]
    assert set(actions) <= KNOWN_ACTIONS
    # Every known action has exactly one item, so "perform action X" finds one item to tick.
    assert sorted(actions) == sorted(KNOWN_ACTIONS)
    for action in KNOWN_ACTIONS:
        assert len(pb.items_with_action(action)) == 1, action


@pytest.mark.parametrize(
    ("step_id", "text"),
    [
        ("alert", "Watch #alerts (waking hours)"),
        ("raise", "Link the Slack thread in the ticket"),
        ("raise", "Reply in the original thread with the ticket and channel"),
        ("assess", "Answer the assess questions"),
        ("assess", "Mark FIXING (you facilitate)"),
        ("address", "Update the ticket with milestones"),
        ("address", "Status page: acknowledge (investigating)"),
        ("resolve", "Create follow-up tickets and link them"),
        ("resolve", "Mark RESOLVED"),
        ("resolve", "Resolve the status-page incident"),
        ("resolve", "Post mortem within two days"),
        ("resolve", "Update the playbooks with lessons"),
    ],
)
def test_default_playbook_uses_the_playbooks_words(step_id: str, text: str) -> None:
    pb = default_playbook()
    assert text in [i.text for i in pb.step(step_id).items]


def test_default_playbook_conditions() -> None:
    pb = default_playbook()
    assert str(pb.items_with_action("post-mortem")[0].when) == "severity == critical"
    for action in ("statuspage-create", "statuspage-update", "statuspage-resolve"):
        assert str(pb.items_with_action(action)[0].when) == "statuspage"
    cancel = pb.items_with_action("cancel-incident")[0]
    assert cancel.step_id == "assess"
    assert cancel.when is not None
    assert cancel.when.evaluate(ctx(status=Status.FIXING))
    assert not cancel.when.evaluate(ctx(status=Status.MONITORING))
    # The core path has no condition: it always applies.
    for action in ("create-ticket", "mark-fixing", "mark-resolved", "set-severity"):
        assert pb.items_with_action(action)[0].when is None


def test_default_playbook_progress_for_a_minor_incident_without_integrations() -> None:
    pb = default_playbook()
    view = checklist_view(pb, {}, ctx(Severity.MINOR, Status.FIXING))
    skipped = {v.item.id for v in view.items if v.state is ItemState.SKIPPED}
    assert skipped == {
        "statuspage-acknowledge",
        "statuspage-progress",
        "statuspage-resolve",
        "post-mortem",
    }
    assert view.total == len(pb.items) - 4
    assert view.done == 0
    first = next_open(view)
    assert first is not None and first.item.id == "watch-incidents"

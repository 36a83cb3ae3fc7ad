"""Safe under any keystroke, and help where you are: nothing remote without a deliberate
confirm, typed text never lost, long text readable, the keys of where the focus is, lists
that follow, small terminals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.config import load_settings
from cockpit.domain.incident import Status
from cockpit.sandbox.server import SandboxServer
from cockpit.ui.dialogs.send import ConfirmSend
from cockpit.ui.screens.main import CockpitScreen
from cockpit.ui.widgets.panes import ChecklistPane

from . import scenes
from .conftest import SIZE, Harness, settle

TOKENS = {"slack": "xoxb-ui", "jira": "jira-ui", "statuspage": "sp-ui"}


@pytest.fixture
def connected(tmp_path: Path) -> Iterator[Harness]:
    """Slack and Jira configured (the drill range behind them), the clock frozen."""
    with SandboxServer(port=0, scenario="quiet", seed=3) as server:
        config = tmp_path / "config.toml"
        config.write_text(
            "[slack]\nsocket_mode = false\n" + server.config_snippet().split("\n", 1)[1]
        )
        settings = load_settings(config, {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "UTC"})
        h = Harness(tmp_path, settings, token=TOKENS.get)
        yield h
        h.store.close()


async def calm(pilot) -> None:  # type: ignore[no-untyped-def]
    """`settle` for an app with its remote side running (its worker never completes)."""
    for _ in range(3):
        await pilot.app.store_settled()
        await pilot.pause(0.1)


def item_view(app, item_id: str):  # type: ignore[no-untyped-def]
    pane = app.screen.query_one(ChecklistPane)
    return pane._items[item_id]


# -- 1. nothing remote without a deliberate confirm -------------------------------------------
async def test_a_checklist_item_that_sends_asks_first(connected: Harness):
    h = connected
    assert {"jira", "slack"} <= h.settings.configured
    iid = scenes.mid_flight(h)
    app = h.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await calm(pilot)
        screen = app.screen
        assert isinstance(screen, CockpitScreen)
        screen.run_requested(ChecklistPane.RunRequested(item_view(app, "mark-monitoring")))
        await calm(pilot)
        assert isinstance(app.screen, ConfirmSend)
        shown = str(app.screen.body_text)
        assert "Mark MONITORING in Jira" in shown
        assert h.service.get(iid).status is Status.FIXING
        await pilot.press("enter")  # a stray enter does not send
        await pilot.press("escape")
        await calm(pilot)
        assert isinstance(app.screen, CockpitScreen)
        assert h.service.get(iid).status is Status.FIXING
        assert h.services.actions.outbox(iid) == []
        screen.run_requested(ChecklistPane.RunRequested(item_view(app, "mark-monitoring")))
        await calm(pilot)
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert h.service.get(iid).status is Status.MONITORING
        assert [i.title for i in h.services.actions.outbox(iid)][:1] == ["Mark MONITORING in Jira"]


async def test_a_status_change_and_a_cancel_ask_first(connected: Harness):
    h = connected
    iid = scenes.mid_flight(h)
    app = h.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await calm(pilot)
        await pilot.press("X", *"false alarm", "ctrl+s")
        await calm(pilot)
        assert isinstance(app.screen, ConfirmSend)
        assert "Kind reply in the thread" in app.screen.body_text
        await pilot.press("escape")
        await calm(pilot)
        assert h.service.get(iid).status is Status.FIXING


async def test_nothing_configured_needs_no_confirm(harness: Harness):
    iid = scenes.mid_flight(harness)
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.run_requested(ChecklistPane.RunRequested(item_view(app, "mark-monitoring")))  # type: ignore[attr-defined]
        await settle(pilot)
        assert isinstance(app.screen, CockpitScreen)
        assert harness.service.get(iid).status is Status.MONITORING

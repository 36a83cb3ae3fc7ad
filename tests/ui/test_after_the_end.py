"""Once an incident is resolved, its post-incident items (post mortem, playbook updates,
follow-ups) can still be ticked from the checklist; everything else is read-only."""

from __future__ import annotations

from cockpit.domain.incident import Severity, Status
from cockpit.ui.dialogs.message import Refusal
from cockpit.ui.widgets.panes import ChecklistPane

from .conftest import SIZE, Harness, settle


async def test_post_incident_items_stay_tickable_after_resolve(harness: Harness):
    iid = harness.raise_incident(severity=Severity.CRITICAL)
    svc = harness.service
    svc.set_status(iid, Status.FIXING)
    svc.set_status(iid, Status.RESOLVED)
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(ChecklistPane)
        pane.focus()
        pane.highlighted = pane.index_of("update-playbooks")
        await pilot.press("x")
        await settle(pilot)
        assert not isinstance(app.screen, Refusal)
        assert harness.store.ticks(iid)["update-playbooks"].ticked
        # an item of the incident itself is read-only now: refused in a dialog
        pane.highlighted = pane.index_of("post-kickoff")
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, Refusal)
        assert "post-kickoff" not in harness.store.ticks(iid)


async def test_post_incident_items_still_run_after_resolve(harness: Harness):
    """↵ on a post-incident item of a RESOLVED incident runs its action (here the post
    mortem's draft) instead of the "has ended" refusal; an item of the incident itself
    is still refused."""
    iid = harness.raise_incident(severity=Severity.CRITICAL)
    svc = harness.service
    svc.set_status(iid, Status.FIXING)
    svc.set_status(iid, Status.RESOLVED)
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(ChecklistPane)
        pane.focus()
        pane.highlighted = pane.index_of("post-mortem")
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, Refusal)
        assert [d.template for d in svc.drafts(iid)] == ["post-mortem"]
        pane.highlighted = pane.index_of("final-update")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, Refusal)

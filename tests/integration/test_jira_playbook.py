"""The playbook's Jira steps, as the person runs them (IncidentActions), sent by the outbox
to the drill range on a loopback server set up as a real team's Jira: INCIDENT requires
Priority and a custom Severity field, RESOLVED's screen requires a resolution, search lags.

Checked in the range's own state: the ticket is created with the severity's priority and
Severity option; a severity change moves both; a milestone, a stakeholder update and the
final update are ADF comments with no Slack markup left; "create the bug" files a Bug in
the follow-up project, linked with a link type the site has; RESOLVED gets its resolution.
And a config that leaves a required field without a value fails the ticket at once,
naming the field and the fix, without sending the create Jira would refuse.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.application.actions import IncidentActions
from cockpit.domain.incident import Severity, Status
from cockpit.domain.outbox import OutboxState
from cockpit.domain.slo import SupportCalendar
from cockpit.integrations import adf
from cockpit.sandbox.server import SandboxServer
from tests.integration.test_outbox import Rig
from tests.spec_check import check_adf

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    with SandboxServer(port=0, scenario="quiet", socket_mode=False) as server:  # 3 s search lag
        r = Rig(tmp_path, server)
        yield r
        await r.close()


def actions(rig: Rig) -> IncidentActions:
    return IncidentActions(rig.service, calendar=SupportCalendar(tz=rig.settings.tz))


def ticket(rig: Rig) -> dict[str, Any]:
    issues = [i for i in rig.state()["jira"]["issues"].values() if "cockpit" in i["labels"]]
    assert len(issues) == 1, issues
    return issues[0]


def comment_texts(issue: dict[str, Any]) -> list[str]:
    out = []
    for c in issue["comments"]:
        check_adf(c["body"])
        out.append(adf.adf_to_text(c["body"]))
    return out


async def test_the_ticket_follows_the_playbook(rig: Rig) -> None:
    act = actions(rig)
    thread = rig.report("Checkout is failing for a lot of buyers")
    iid = act.raise_incident("Checkout payments failing", thread=thread).incident_id
    assert iid is not None
    await rig.drain_all()
    issue = ticket(rig)
    assert issue["priority"] == "Medium"  # the guess before a severity is set
    assert issue["fields"]["customfield_10042"]["value"] == "Major"

    done = act.set_severity(iid, Severity.CRITICAL)
    assert [i.operation for i in done.queued] == ["jira.set_severity"]
    await rig.drain_all()
    issue = ticket(rig)
    assert issue["priority"] == "Highest"
    assert issue["fields"]["customfield_10042"]["value"] == "Critical"

    act.set_status(iid, Status.FIXING)
    done = act.note(iid, "Payments routed to the backup acquirer", item_id="update-ticket")
    assert done.ticked == ["update-ticket"] and done.queued[0].operation == "jira.comment"
    plain = act.note(iid, "a note of my own")  # not from the milestones item: timeline only
    assert not plain.queued
    draft = act.new_draft(iid, "stakeholder-update").draft
    assert draft is not None
    act.send_draft(iid, draft.id)
    await rig.drain_all()
    texts = comment_texts(ticket(rig))
    assert texts[0] == "Payments routed to the backup acquirer"
    assert texts[1].startswith("Update on INCIDENT-1: Checkout payments failing")
    update = ticket(rig)["comments"][1]["body"]
    first = update["content"][0]["content"][0]
    assert first["marks"] == [{"type": "strong"}]  # *…* made bold, not shown literally
    assert not any("*" in t or "&amp;" in t for t in texts)

    done = act.follow_up(iid, "Card auth retries hammer the acquirer", kind="bug")
    assert done.queued[0].operation == "jira.create_follow_up"
    act.run(iid, "final-update", item_id="final-update")  # the playbook: then RESOLVED
    act.set_status(iid, Status.RESOLVED)
    await rig.drain_all()
    state = rig.state()
    bugs = [i for i in state["jira"]["issues"].values() if i["project"] == "BUG"]
    assert [(b["issuetype"], b["summary"]) for b in bugs] == [
        ("Bug", "Card auth retries hammer the acquirer")
    ]
    issue = ticket(rig)
    assert [(x["type"], x["outward"]) for x in issue["links"]] == [("Relates", bugs[0]["key"])]
    assert issue["status"] == "Resolved" and issue["resolution"] == "Done"
    final = comment_texts(issue)[-1]
    assert final.startswith("✅ Resolved: INCIDENT-1 — Checkout payments failing")
    items = [i for i in rig.sender.items(iid)]
    assert all(i.state is OutboxState.SENT for i in items), [(i.title, i.reason) for i in items]


async def test_a_required_field_without_a_value_fails_before_the_create(
    rig: Rig, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    text = rig.server.config_snippet()
    severity_line = next(line for line in text.splitlines() if line.startswith("severity ="))
    config.write_text(text.replace(severity_line, ""))
    rig.config = config  # type: ignore[attr-defined]
    from cockpit.config import load_settings

    rig.settings = load_settings(config, {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "UTC"})
    await rig.close()
    rig.open()
    act = actions(rig)
    iid = act.raise_incident("Checkout payments failing").incident_id
    assert iid is not None
    await rig.sender.drain()  # the ticket fails; what follows it waits for a retry
    item = next(i for i in rig.sender.items(iid) if i.operation == "jira.create_issue")
    assert item.state is OutboxState.FAILED
    assert "the INCIDENT project requires Severity (customfield_10042)" in item.reason
    assert "[jira.severity]" in item.reason
    assert rig.state()["jira"]["issues"] == {}
    assert rig.state()["requests"].get("jira:POST /rest/api/3/issue", 0) == 0
    json.dumps(item.to_dict())  # the reason is kept as it is shown

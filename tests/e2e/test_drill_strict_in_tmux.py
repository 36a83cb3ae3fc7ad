"""The whole outage drill on the drill range's strict defaults, from the keyboard in tmux.

`cockpit demo --scenario outage --faults 0.3` as it ships: the INCIDENT project requires
Priority and a custom Severity field, RESOLVED's screen requires a resolution, search lags
writes by 3 s, Slack and Statuspage hold their real tokens and rates, and three requests
in ten fail. Every item of the playbook is done from the checklist (its action, ↵, or a
tick, x), the post-incident ones after RESOLVED. Then the drill range's own state
(/_sandbox/state) says what really happened: the status page's component degraded and
back to operational, the ticket at the priority mapped from Critical with the milestones
as ADF comments (no Slack markup left) and its resolution, and the exported record has
every item of the resolved Critical incident ticked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.domain.playbook.loader import default_playbook
from cockpit.integrations import adf
from cockpit.integrations.jira.settings import DEFAULT_PRIORITY
from tests.spec_check import check_adf

from .drill import drill_state, free_port, ours, wait_state
from .tmux import Tmux, cockpit_command

# a drill of a few minutes on a loaded machine, faults and rate limits included
pytestmark = pytest.mark.timeout(1200)

PLAYBOOK = default_playbook()
ITEMS = {i.id: i for i in PLAYBOOK.items}
ORDER = [i.id for i in PLAYBOOK.items]
# the not-an-incident path: it applies while REPORTED or FIXING, and a real incident that
# is resolved never takes it (ticking "reply kindly and mark CANCELED" would be a lie)
NOT_AN_INCIDENT = {
    i.id for i in PLAYBOOK.items if i.when is not None and str(i.when).startswith("status in")
}
COMPONENT = "Payments"  # the outage's component on the drill's status page
MILESTONE = "Payments routed to the backup acquirer; card errors down to 0.4%"


@pytest.fixture
def term(tmp_path: Path) -> Iterator[Tmux]:
    t = Tmux(tmp_path, width=200, height=50)
    yield t
    t.kill()


class Drill:
    """The person at the keyboard: the checklist's items by id, the dialogs they open."""

    def __init__(self, term: Tmux, port: int) -> None:
        self.term = term
        self.port = port

    def state(self) -> dict[str, Any]:
        return drill_state(self.port)  # type: ignore[no-any-return]

    def wait(self, check: Any, timeout: float = 120.0) -> dict[str, Any]:
        return wait_state(self.port, check, timeout=timeout)  # type: ignore[no-any-return]

    def goto(self, item_id: str) -> None:
        """The checklist focused, its cursor on the item (step headers are skipped)."""
        self.term.keys("3", "Home", *["Down"] * ORDER.index(item_id))

    def ticked(self, item_id: str, timeout: float = 120.0) -> None:
        """Wait until the checklist shows the item done (✔ and its text), scrolled to it."""
        self.goto(item_id)
        self.term.wait_for("✔ " + ITEMS[item_id].text[:30], timeout=timeout)

    def tick(self, item_id: str) -> None:
        """x on an item not done yet: a tick, shown once it is on disk."""
        assert "✔ " + ITEMS[item_id].text[:30] not in self.term.screen(), item_id
        self.goto(item_id)
        self.term.keys("x")
        self.ticked(item_id, timeout=30)

    def run(self, item_id: str, waits_for: str) -> None:
        """↵ on an item: its action, and the dialog or draft it opens."""
        self.goto(item_id)
        self.term.keys("Enter")
        self.term.wait_for(waits_for, timeout=30)
        time.sleep(0.5)  # the dialog's first field takes the focus once it is mounted

    def submit(self, title: str) -> None:
        """ctrl+s in a dialog, and wait until it has closed: a key sent meanwhile would
        land in its field."""
        self.term.keys("C-s")
        self.term.wait_gone(title, timeout=30)

    def send_selected_draft(self, title: str, *, components: bool = False) -> None:
        """The draft just made (selected in the drafts pane): s, what goes where, send."""
        self.term.wait_for(f"DRAFT  {title}", timeout=30)
        self.term.keys("4", "s")
        if components:
            self.term.wait_for("Affected components")
            self.term.keys("C-s")  # as picked (the incident's components)
        self.term.wait_for("Send?", timeout=30)
        self.term.keys("C-s")
        self.term.wait_gone("Send?", timeout=30)


def start(term: Tmux, tmp: Path, port: int) -> None:
    env = {
        "COCKPIT_CONFIG": str(tmp / "none.toml"),
        "COCKPIT_LOG_DIR": str(tmp / "logs"),
        "COCKPIT_USER": "ada",
        "COCKPIT_TIMEZONE": "UTC",
        "TERM": "xterm-256color",
    }
    term.start(
        [
            *cockpit_command(),
            "demo",
            "--scenario",
            "outage",
            "--speed",
            "5",
            "--port",
            str(port),
            "--data-dir",
            str(tmp / "drill"),
            "--faults",
            "0.3",
        ],
        env,
    )


def strict_defaults(state: dict[str, Any]) -> None:
    """The drill range as it ships: what this drill is meant to meet."""
    site = state["jira"]["site"]
    assert site["search_lag"] == 3.0
    incident = site["projects"]["INCIDENT"]
    assert {"priority", "customfield_10042"} <= set(incident["required"])
    assert "priority" not in incident["defaults"]  # nothing fills it for cockpit
    assert "resolution" in incident["screens"]["RESOLVED"]
    config = (Path(state["_data_dir"]) / "demo-config.toml").read_text()
    assert "--lenient" not in config and "customfield_10042" in config


def test_the_outage_drill_on_the_strict_defaults(term: Tmux, tmp_path: Path) -> None:
    started = time.monotonic()
    port = free_port()
    start(term, tmp_path, port)
    d = Drill(term, port)
    term.wait_for("DRILL", timeout=60)
    state = d.state()
    state["_data_dir"] = str(tmp_path / "drill")
    strict_defaults(state)

    # -- Alert: the report in #incidents, raised from the feed -----------------------------
    term.wait_for("Checkout is failing for a lot of buyers", timeout=60)
    term.keys("1", "/")
    term.wait_for("Filter the feed")
    term.type("Checkout is failing")
    # (the feed's border may say a fault instead of the filter: wait for the dialog)
    d.submit("Filter the feed")
    term.keys("1")
    term.wait_for("Raise from msg")
    term.keys("End", "r")
    term.wait_for("Raise an incident")
    time.sleep(0.7)  # opened when the look in its thread ended: no key at once
    term.keys("C-s")
    # the raise chain: ticket (with the required fields) → channel → reply in the thread
    d.wait(
        lambda s: (
            ours(s)
            and any(
                m.get("bot_id")
                for r in s["slack"]["channels"]["incidents"]["messages"]
                for m in r.get("replies", [])
            )
        ),
        timeout=180,
    )
    term.keys("escape")  # clear the feed filter
    for item_id in ("create-ticket", "link-thread", "create-channel", "reply-in-thread"):
        d.ticked(item_id)
    d.tick("watch-incidents")
    d.tick("watch-alerts")
    d.run("post-kickoff", "Post the kick-off?")
    term.keys("C-s")
    d.ticked("post-kickoff")

    # -- Assess ---------------------------------------------------------------------------
    term.keys("C-t")
    term.wait_for("Move incident from")
    term.keys("f")
    term.wait_for("Mark FIXING?")
    term.keys("C-s")
    d.ticked("mark-fixing")
    d.run("assign-roles", "Incident Commander")
    term.type("ada")  # the commander (whoever marked it FIXING), then the comms officer
    term.keys("Tab")
    term.type("grace")
    d.submit("Communications Officer: internal")
    d.ticked("assign-roles")
    d.run("set-severity", "Assess: set the severity")
    term.type("most card payments, all buyers")
    term.keys("Tab", "Down", "Enter")  # reproduced: yes
    term.keys("Tab", "Down", "Enter")  # a new problem
    term.keys("Tab", "Enter")  # Critical (listed first)
    time.sleep(0.5)  # a radio set takes a press as a message of its own: let it land
    d.submit("Assess: set the severity")
    term.wait_for("CRITICAL")
    d.ticked("set-severity")
    d.ticked("answer-assess-questions")
    critical = DEFAULT_PRIORITY["critical"]
    d.wait(lambda s: ours(s)[0]["priority"] == critical, timeout=180)

    # -- Address --------------------------------------------------------------------------
    d.tick("fix-with-playbooks")
    d.tick("escalate")  # no escalation directory in the drill: done by hand, then ticked
    d.run("update-ticket", "Add a note to the timeline")
    term.type(MILESTONE)
    d.submit("Add a note to the timeline")
    d.ticked("update-ticket")
    d.run("share-workarounds", "Drafted")
    d.send_selected_draft("Stakeholder update")
    d.ticked("share-workarounds")
    # the status page: investigating, Payments picked from the page's components
    d.run("statuspage-acknowledge", "Drafted")
    term.wait_for("DRAFT  Status page: investigating", timeout=30)
    term.keys("4", "s")
    term.wait_for("Affected components")
    time.sleep(0.5)  # the list takes the focus once it is mounted
    term.keys("Down", "Down", "space")  # Website, API, Payments
    time.sleep(0.5)  # (a pick is a message of its own too)
    term.keys("C-s")
    term.wait_for("Send?", timeout=30)
    term.keys("C-s")
    term.wait_gone("Send?", timeout=30)
    d.ticked("statuspage-acknowledge")
    during = d.wait(
        lambda s: s["statuspage"]["components"][COMPONENT] != "operational", timeout=180
    )
    assert during["statuspage"]["components"][COMPONENT] in ("major_outage", "partial_outage")
    assert [n for n, st in during["statuspage"]["components"].items() if st != "operational"] == [
        COMPONENT
    ]
    d.run("statuspage-progress", "Drafted")
    d.send_selected_draft("Status page: identified", components=True)
    d.ticked("statuspage-progress")
    d.run("backlog-root-cause", "Create the bug")
    term.type("Card auth retries hammer the acquirer")
    d.submit("Create the bug (in")
    d.ticked("backlog-root-cause")
    term.keys("C-t")
    term.wait_for("Move incident from")
    term.keys("m")
    term.wait_for("Mark MONITORING?")
    term.keys("C-s")
    d.ticked("mark-monitoring")
    d.tick("handoff")  # no shift change in a drill: nothing to hand over

    # -- Resolve --------------------------------------------------------------------------
    d.run("final-update", "Post the final update to the ticket?")
    term.keys("C-s")
    d.ticked("final-update")
    term.keys("C-t")
    term.wait_for("Move incident from")
    term.keys("r")
    term.wait_for("Mark RESOLVED?")
    term.keys("C-s")
    d.ticked("mark-resolved")
    # after RESOLVED: the post-incident items, from the checklist as before
    d.run("statuspage-resolve", "Drafted")
    d.send_selected_draft("Status page: resolved", components=True)
    d.ticked("statuspage-resolve")
    d.run("create-follow-ups", "Create a follow-up ticket")
    term.type("Alert on the card processor's timeouts before buyers notice")
    d.submit("Create a follow-up ticket")
    d.ticked("create-follow-ups")
    d.tick("post-mortem")  # its draft was offered on resolving
    d.tick("update-playbooks")

    def all_done(s: dict[str, Any]) -> bool:
        issues = ours(s)
        sp = s["statuspage"]["incidents"]
        return bool(
            issues
            and issues[0]["status"].upper() == "RESOLVED"
            and sp
            and sp[0]["status"] == "resolved"
            and s["statuspage"]["components"][COMPONENT] == "operational"
            and len([i for i in s["jira"]["issues"].values() if i["project"] == "BUG"]) >= 2
        )

    state = d.wait(all_done, timeout=240)
    # and cockpit knows it: every action of the outbox sent (after the faults)
    deadline = time.monotonic() + 240
    while not re.search(r"\b(\d+)/\1 sent\b", term.screen()) or "waiting" in term.screen():
        assert time.monotonic() < deadline, term.screen()
        time.sleep(0.5)
    state = d.state()
    term.keys("C-q")
    term.wait_for("Debrief of the drill", timeout=30)
    term.wait_for("COCKPIT-EXITED 0", timeout=30)
    check_end_state(state, tmp_path)
    print(f"the strict outage drill took {time.monotonic() - started:.0f} s")


def check_end_state(state: dict[str, Any], tmp: Path) -> None:
    assert state["faults_injected"], "faults were asked for"
    # -- the status page: Payments degraded while it lasted, operational at the end -------
    sp = state["statuspage"]["incidents"]
    assert len(sp) == 1, sp
    updates = sp[0]["incident_updates"][::-1]  # Statuspage lists the newest first
    statuses = [u["status"] for u in updates]
    assert statuses[0] == "investigating" and statuses[-1] == "resolved", statuses
    assert "identified" in statuses and statuses.count("resolved") == 1, statuses
    changes = [(c["name"], c["new_status"]) for u in updates for c in u["affected_components"]]
    assert changes[0][0] == COMPONENT and changes[0][1] != "operational", changes
    assert changes[-1] == (COMPONENT, "operational"), changes
    assert set(state["statuspage"]["components"].values()) == {"operational"}
    assert sp[0]["status"] == "resolved"
    assert [c["name"] for c in sp[0]["components"]] == [COMPONENT]

    # -- the ticket: created once with the required fields, at Critical's priority --------
    issues = ours(state)
    assert len(issues) == 1, [i["key"] for i in issues]  # search lagged; no second ticket
    issue = issues[0]
    assert issue["priority"] == DEFAULT_PRIORITY["critical"]
    assert issue["fields"]["customfield_10042"]["value"] == "Critical"
    assert issue["status"].upper() == "RESOLVED" and issue["resolution"]
    texts = []
    for c in issue["comments"]:
        check_adf(c["body"])  # valid ADF, as Jira Cloud takes it
        texts.append(adf.adf_to_text(c["body"]))
    assert texts.count(MILESTONE) == 1, texts  # the milestone, once, as written
    update = next(i for i, t in enumerate(texts) if t.startswith("Update on "))
    first = issue["comments"][update]["body"]["content"][0]["content"][0]
    assert first["marks"] == [{"type": "strong"}]  # the update's *…* made bold
    # the final update (posted before RESOLVED, as the playbook orders it: an update)
    assert re.match(r"(✅ Resolved|Update): INCIDENT-\d+ — ", texts[-1]), texts
    for t in texts:
        assert not re.search(r"\*[^*\s][^*]*\*", t), t  # no Slack markup left
        assert "&amp;" not in t and "<http" not in t, t
    bugs = [i for i in state["jira"]["issues"].values() if i["project"] == "BUG"]
    assert sorted(b["summary"] for b in bugs) == [
        "Alert on the card processor's timeouts before buyers notice",
        "Card auth retries hammer the acquirer",
    ]
    assert sorted(x["outward"] for x in issue["links"]) == sorted(b["key"] for b in bugs)

    # -- the record: every item of the resolved Critical incident ticked ------------------
    env = {
        **os.environ,
        # the drill's own config: the status page's items apply where it is configured
        "COCKPIT_CONFIG": str(tmp / "drill" / "demo-config.toml"),
        "COCKPIT_DATA_DIR": str(tmp / "drill" / "data"),
        "COCKPIT_LOG_DIR": str(tmp / "logs"),
    }
    out = subprocess.run(
        [sys.executable, "-m", "cockpit", "export", "1", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(out.stdout)
    assert doc["incident"]["status"] == "resolved" and doc["incident"]["severity"] == "critical"
    assert doc["incident"]["drill"] is True
    ticked = {t["item_id"] for t in doc["checklist"] if t["ticked"]}
    expected = set(ORDER) - NOT_AN_INCIDENT
    assert expected - ticked == set(), sorted(expected - ticked)  # every item done
    assert ticked - expected == set(), sorted(ticked - expected)  # and no false one
    assert doc["progress"] == {"done": len(expected), "total": len(expected)}
    assert len(NOT_AN_INCIDENT) == 4  # the playbook's not-an-incident path, n/a here

"""The CLI runs the same actions as the app's keys, remote chain included.

The same incident is run twice, each time against a fresh drill range: once from the app's
keys (pilot, the real app with its remote side), once from `cockpit` sub-commands in
subprocesses. The remote effects (read from the drill range's own state) and the checklist
ticks (from the exported record) must be the same.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit.config import load_settings
from cockpit.domain.clock import SystemClock
from cockpit.sandbox import SandboxServer
from cockpit.sandbox.tokens import BOT_TOKEN, STATUSPAGE_KEY
from tests.ui.conftest import SIZE, Harness

# the drill range's own Slack token and Statuspage key (it refuses others, as Slack does)
TOKENS = {"slack": BOT_TOKEN, "jira": "jira-parity", "statuspage": STATUSPAGE_KEY}
TITLE = "Checkout payments failing for EU buyers"
ENV = {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "UTC"}


def write_config(server: SandboxServer, tmp: Path) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    config = tmp / "config.toml"
    config.write_text("[slack]\nsocket_mode = false\n" + server.config_snippet().split("\n", 1)[1])
    return config


def post_report(server: SandboxServer) -> str:
    """A person reports the outage in #incidents; returns the message's permalink."""
    base = server.base_url
    posted = httpx.post(
        f"{base}/api/chat.postMessage",
        headers={"Authorization": "Bearer xoxp-priya"},
        json={"channel": "incidents", "text": f"{TITLE}. Card payments error out."},
    ).json()
    link = httpx.get(
        f"{base}/api/chat.getPermalink",
        headers={"Authorization": f"Bearer {TOKENS['slack']}"},
        params={"channel": posted["channel"], "message_ts": posted["ts"]},
    ).json()
    return str(link["permalink"])


def effects(state: dict[str, Any]) -> dict[str, Any]:
    """What an incident left on the remote systems, without ids and times."""
    issues = [
        {
            "summary": i["summary"],
            "status": i["status"],
            "labels": sorted(x for x in i["labels"] if not x.startswith("cockpit-")),
            "assignee": bool(i["assignee"]),
            "comments": len(i["comments"]),
            "remote_links": sorted(r["object"]["title"] for r in i["remote_links"]),
            "history": [h.get("to") for h in i["history"]],
        }
        for i in state["jira"]["issues"].values()
    ]
    channels = state["slack"]["channels"]

    def shared(m: dict[str, Any]) -> list[str]:
        """The team events a message carries (one, several batched, or none)."""
        meta = m.get("metadata") or {}
        if meta.get("event_type") == "cockpit_events_shared":
            return [e["event_type"] for e in meta["event_payload"]["events"]]
        return (
            [meta["event_type"]] if str(meta.get("event_type", "")).startswith("cockpit_") else []
        )

    # Team events go out batched as they queue up (a CLI command's change is its own
    # batch; the app may send two changes in one post): compared as the events shared
    incident_channels = {
        name: {
            "topic": ch["topic"].split(" · ")[0],
            "bot_is_member": ch["bot_is_member"],
            "messages": sum(1 for m in ch["messages"] if not shared(m)),
            "team_events": sorted(e for m in ch["messages"] for e in shared(m)),
        }
        for name, ch in channels.items()
        if name.startswith("incident-")
    }
    report = next(m for m in channels["incidents"]["messages"] if TITLE in m.get("text", ""))
    return {
        "issues": issues,
        "channels": incident_channels,
        "thread_replies": [
            (r.get("metadata") or {}).get("event_type", "") for r in report["replies"]
        ],
    }


def run_cli(config: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **ENV,
        "COCKPIT_CONFIG": str(config),
        "COCKPIT_DATA_DIR": str(data),
        "COCKPIT_LOG_DIR": str(data.parent / "logs"),
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",  # tokens from the environment
        **{f"COCKPIT_{k.upper()}_TOKEN": v for k, v in TOKENS.items()},
    }
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def exported_ticks(config: Path, data: Path, iid: str) -> set[str]:
    out = run_cli(config, data, "export", iid, "--format", "json")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    return {t["item_id"] for t in record["checklist"] if t["ticked"]}


def cli_incident(server: SandboxServer, tmp: Path) -> tuple[dict[str, Any], set[str]]:
    config, data = write_config(server, tmp), tmp / "data"
    thread = post_report(server)
    out = run_cli(config, data, "raise", TITLE, "--thread", thread, "--wait", "60")
    assert out.returncode == 0, out.stderr
    iid = out.stdout.strip()
    assert iid == "1"
    steps = [line for line in out.stderr.splitlines() if line.startswith(("SENT", "QUEUED"))]
    assert [s.split()[0] for s in steps] == ["SENT"] * 4, out.stderr
    for args in (
        ("status", iid, "fixing"),
        ("severity", iid, "critical"),
        ("assign", iid, "comms", "grace"),
        ("note", iid, "Stripe webhooks timing out"),
        ("resolve", iid),
    ):
        out = (
            run_cli(config, data, *args, "--wait", "60")
            if args[0] != "note"
            else (run_cli(config, data, *args))
        )
        assert out.returncode == 0, (args, out.stdout, out.stderr)
        assert "FAILED" not in out.stderr and "QUEUED" not in out.stderr, out.stderr
    return effects(server.state.snapshot()), exported_ticks(config, data, iid)


async def app_incident(server: SandboxServer, tmp: Path) -> tuple[dict[str, Any], set[str]]:
    from textual.widgets import Input

    from cockpit.ui.dialogs.send import ConfirmSend
    from cockpit.ui.widgets.feed import FeedView

    config = write_config(server, tmp)
    h = Harness(tmp, load_settings(config, ENV), clock=SystemClock(), token=TOKENS.get)
    post_report(server)
    app = h.app()

    async def until(check: Any, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.1)

    def outbox_done() -> bool:
        items = h.services.actions.outbox("1") if h.service.incidents() else []
        return bool(items) and all(i.state.value == "sent" for i in items)

    async with app.run_test(size=SIZE) as pilot:

        async def calm() -> None:  # not settle(): the remote side's worker runs for good
            for _ in range(3):
                await app.store_settled()
                await pilot.pause(0.05)

        feed = app.screen.query_one(FeedView)
        await until(lambda: any(TITLE in m.text for m in feed.messages))
        await pilot.press("1", "end", "r")
        await calm()
        # the dialog opens once the report's thread holds no teammate's raise
        await until(lambda: bool(app.screen.query("#title")))
        await pilot.pause(0.7)  # it opened by itself: it takes no decision at once
        app.screen.query_one("#title", Input).value = TITLE
        await pilot.press("ctrl+s")
        await calm()
        await until(outbox_done)
        await pilot.press("3", "ctrl+t")  # the status dialog: FIXING comes first
        await calm()
        await pilot.press("enter")
        await calm()
        assert isinstance(app.screen, ConfirmSend)  # what goes to Jira, before it goes
        await pilot.press("ctrl+s")
        await calm()
        await pilot.press("S")
        await calm()
        app.screen.query_one("#severity").query("RadioButton")[0].value = True  # Critical
        await pilot.press("ctrl+s")
        await calm()
        await pilot.press("A")
        await calm()
        app.screen.query_one("#comms", Input).value = "grace"
        await pilot.press("ctrl+s")
        await calm()
        await pilot.press("n", *"Stripe webhooks timing out", "ctrl+s")
        await calm()
        await until(outbox_done)
        await pilot.press("ctrl+t")
        await calm()
        await pilot.press("down", "enter")  # from FIXING: MONITORING, RESOLVED
        await calm()
        assert isinstance(app.screen, ConfirmSend)
        await pilot.press("ctrl+s")
        await calm()
        await until(lambda: h.service.get("1").status.value == "resolved")
        await until(outbox_done)
        await app.action_quit()
    ticks = {t.item_id for t in h.store.ticks("1").values() if t.ticked}
    h.services.close()
    return effects(server.state.snapshot()), ticks


@pytest.mark.timeout(300)
async def test_the_cli_and_the_app_keys_have_the_same_effects(tmp_path: Path):
    with SandboxServer(port=0, scenario=None) as server:
        cli_effects, cli_ticks = cli_incident(server, tmp_path / "cli")
    with SandboxServer(port=0, scenario=None) as server:
        app_effects, app_ticks = await app_incident(server, tmp_path / "app")
    assert cli_effects == app_effects
    assert cli_ticks == app_ticks
    # and what they are: one ticket, resolved, assigned; one channel; one reply in the
    # report's thread and the final update there
    (issue,) = cli_effects["issues"]
    assert issue["summary"] == TITLE and issue["assignee"]
    assert len(cli_effects["channels"]) == 1
    assert len(cli_effects["thread_replies"]) == 2
    assert {
        "raise-incident",
        "create-ticket",
        "create-channel",
        "reply-in-thread",
        "mark-fixing",
        "set-severity",
        "assign-roles",
        "mark-resolved",
    } <= cli_ticks


def test_cli_exit_statuses_say_what_is_left(tmp_path: Path):
    """3 when a step is still queued (the system is down: nothing answers), 2 when the
    change is refused, 0 with --local (nothing is sent)."""
    with SandboxServer(port=0, scenario=None) as server:
        config = write_config(server, tmp_path)
    data = tmp_path / "data"  # the drill range has stopped: nothing answers now
    out = run_cli(config, data, "raise", "Search is down", "--wait", "2")
    assert out.returncode == 3, out.stderr
    assert "QUEUED  Create the incident ticket" in out.stderr
    assert "sent by the next cockpit that runs" in out.stderr
    assert out.stdout.strip() == "1"
    out = run_cli(config, data, "status", "1", "resolved")
    assert out.returncode == 2 and "cannot go from REPORTED to RESOLVED" in out.stderr
    out = run_cli(config, data, "raise", "Login is slow", "--local")
    assert out.returncode == 0 and out.stdout.strip() == "2"
    assert "QUEUED" not in out.stderr


def test_preview_says_what_an_action_would_send_and_writes_nothing(tmp_path: Path):
    """The confirm dialog's plan: what `run` would queue, with nothing written."""
    with SandboxServer(port=0, scenario=None) as server:
        config = write_config(server, tmp_path)
        h = Harness(tmp_path, load_settings(config, ENV), clock=SystemClock(), token=TOKENS.get)
        actions = h.services.actions
        done = actions.raise_incident(TITLE, thread="https://x.slack.com/archives/C1/p1")
        assert [i.title for i in done.queued] == [
            "Create the incident ticket",
            "Create the incident channel",
            "Link the channel from the ticket",
            "Reply in the original thread",
        ]
        before = h.store.docs("1", "outbox")
        planned = actions.preview("1", "post-kickoff")
        assert [(i.system, i.title) for i in planned] == [
            ("Slack", "Kick-off in the incident channel")
        ]
        # the ticket is on its way (its create queued): the move goes behind it
        planned = actions.preview("1", "mark-fixing")
        assert [(i.system, i.title) for i in planned] == [("Jira", "Mark FIXING in Jira")]
        assert h.store.docs("1", "outbox") == before
        h.services.close()


def test_a_change_and_what_it_queues_are_one_write(tmp_path: Path):
    """Raising and its whole chain, a status change with its tick and its Jira item, a
    draft marked QUEUED with its items: each is one write of the incident's file, so a
    kill between them cannot leave one without the other."""
    from cockpit.store.storage import SafeJSONStorage

    with SandboxServer(port=0, scenario=None) as server:
        config = write_config(server, tmp_path)
        h = Harness(tmp_path, load_settings(config, ENV), clock=SystemClock(), token=TOKENS.get)
        actions = h.services.actions
        writes: list[str] = []
        real = SafeJSONStorage.transaction

        def counting(self: SafeJSONStorage):  # type: ignore[no-untyped-def]
            if self.path.parent.name == "incidents":
                writes.append(self.path.name)
            return real(self)

        SafeJSONStorage.transaction = counting  # type: ignore[method-assign]
        try:
            done = actions.raise_incident(TITLE, thread="https://x.slack.com/archives/C1/p1")
            assert writes == ["1.json"], writes
            docs = h.store.docs("1", "outbox")
            assert len(docs) == len(done.queued) == 4
            assert h.store.ticks("1")["raise-incident"].ticked
            writes.clear()
            draft = actions.new_draft("1", "statuspage-investigating").draft
            assert draft is not None
            writes.clear()
            sent = actions.send_draft("1", draft.id)
            assert writes == ["1.json"], writes
            assert sent.queued and sent.draft is not None and sent.draft.state.value == "queued"
        finally:
            SafeJSONStorage.transaction = real  # type: ignore[method-assign]
            h.services.close()

"""Two responders in the running app: the wiring of application/team.py (build_services
sets the team up, the remote side catches the channel up and reads the team's events on
the feed's own polls) and the join offer, against the drill range (a real loopback
server). Bo runs the app; Ada is another cockpit on the same drill range."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from cockpit.application.build import Services, build_services
from cockpit.application.sender import OutboxSender
from cockpit.config import load_settings
from cockpit.domain.clock import SystemClock
from cockpit.domain.incident import Severity, Status
from cockpit.domain.playbook import ItemState
from cockpit.domain.team import TeamKey
from cockpit.domain.templates import TemplateLibrary
from cockpit.integrations.http import RetryPolicy
from cockpit.integrations.outbox import RemoteActions, build_clients
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.tokens import BOT_TOKEN, STATUSPAGE_KEY
from cockpit.ui.dialogs.join import JoinModal
from cockpit.ui.widgets.header import IncidentHeader
from cockpit.ui.widgets.panes import ChecklistPane

from .conftest import SIZE, Harness

TOKENS = {"slack": BOT_TOKEN, "jira": "jira-team-ui", "statuspage": STATUSPAGE_KEY}
OPTIONS = {
    "timeout": 2.0,
    "deadline": 5.0,
    "retry": RetryPolicy(base_delay=0.01, max_delay=0.05, total=3.0),
}


async def wait_until(pilot, check, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.2)


def report(server: SandboxServer, text: str) -> str:
    """A person posts a report in #incidents; its permalink."""
    with httpx.Client(base_url=server.base_url) as c:
        auth = {"Authorization": "Bearer xoxp-priya"}
        posted = c.post(
            "/api/chat.postMessage", headers=auth, json={"channel": "incidents", "text": text}
        ).json()
        assert posted["ok"], posted
        link = c.get(
            "/api/chat.getPermalink",
            headers=auth,
            params={"channel": posted["channel"], "message_ts": posted["ts"]},
        ).json()
    return str(link["permalink"])


class Other:
    """Ada's cockpit: the same builder as the app's, its outbox sent by hand."""

    def __init__(self, tmp: Path, server: SandboxServer) -> None:
        config = tmp / "ada.toml"
        config.write_text(server.config_snippet())
        settings = load_settings(config, {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "UTC"})
        self.services: Services = build_services(
            settings, tmp / "data-ada", clock=SystemClock(), templates=TemplateLibrary(None)
        )
        self.actions = self.services.actions
        assert self.actions.team is not None  # Slack is configured: changes are shared
        self.clients = build_clients(settings, TOKENS.get, **OPTIONS)  # type: ignore[arg-type]
        self.sender = OutboxSender(
            self.services.store,
            RemoteActions(self.clients, self.services.render),
            self.services.clock,
            user="ada",
            coalesce=self.actions.team.coalesce,
        )

    async def drain(self) -> None:
        store = self.services.store
        for _ in range(100):
            await self.sender.drain()
            if not any(outbox_pending(store, s.id) for s in store.list_incidents()):
                return
            await asyncio.sleep(0.2)
        raise AssertionError("Ada's outbox did not drain")

    async def close(self) -> None:
        await self.clients.aclose()
        self.services.store.close()


def ticked_items(message: dict) -> list[str]:  # type: ignore[type-arg]
    """The checklist items a channel message tells ticked (alone or batched)."""
    meta = message.get("metadata") or {}
    events = (
        meta["event_payload"]["events"]
        if meta.get("event_type") == "cockpit_events_shared"
        else [meta]
    )
    return [
        e["event_payload"]["data"]["item"]
        for e in events
        if e.get("event_type") == "cockpit_item_ticked"
    ]


def channel_history(server: SandboxServer, channel: str) -> list[dict]:  # type: ignore[type-arg]
    """The channel's messages with their metadata, as a cockpit reads them."""
    with httpx.Client(base_url=server.base_url) as c:
        got = c.get(
            "/api/conversations.history",
            headers={"Authorization": f"Bearer {BOT_TOKEN}"},
            params={"channel": channel, "include_all_metadata": "true", "limit": 200},
        ).json()
    assert got["ok"], got
    return list(reversed(got["messages"]))


def outbox_pending(store, iid: str) -> bool:  # type: ignore[no-untyped-def]
    return any(d.get("state") in ("queued", "sending") for d in store.docs(iid, "outbox"))


async def test_raising_a_report_a_teammate_raised_offers_to_join_and_then_converges(
    tmp_path: Path,
) -> None:
    with SandboxServer(port=0, scenario="quiet", seed=5, lenient=True) as server:
        ada = Other(tmp_path, server)
        link = report(server, "Checkout is failing for every card payment")
        done = ada.actions.raise_incident("Checkout is failing", thread=link, reported_at="-5m")
        assert done.incident is not None
        a_id = done.incident.id
        ada.actions.set_severity(a_id, Severity.MAJOR)
        await ada.drain()  # the ticket, the channel, the reply in the thread, the severity
        key = TeamKey.of(ada.services.service.get(a_id))
        assert key.ticket and key.channel

        # Bo's app: Slack configured, no app-level token (the feed polls)
        config = tmp_path / "bo.toml"
        config.write_text(server.config_snippet())
        settings = load_settings(config, {"COCKPIT_USER": "bo", "COCKPIT_TIMEZONE": "UTC"})
        h = Harness(
            tmp_path / "bo", settings, clock=SystemClock(), token=TOKENS.get, client_options=OPTIONS
        )
        assert h.services.actions.team is not None
        remote = h.services.remote
        assert remote is not None
        app = h.app()
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: remote.watch is not None)
            screen = app.screen
            screen.raise_or_join(  # type: ignore[attr-defined]
                title="Checkout broken", reported_at="", thread=link, source="#incidents priya"
            )
            await wait_until(pilot, lambda: isinstance(app.screen, JoinModal))
            modal = app.screen
            assert isinstance(modal, JoinModal)
            # remote text as plain text: Ada's title and ticket are shown as they are
            shown = " ".join(str(s.render()) for s in modal.query("Static"))
            assert "Checkout is failing" in shown and key.ticket in shown and "ada" in shown
            # it opened by itself (when the look ended): a key at once is not taken …
            assert modal.unprompted
            await pilot.press("j")
            await pilot.pause(0.1)
            assert app.screen is modal and not h.store.list_incidents()
            # … a key once it has been seen is
            await pilot.pause(modal.UNPROMPTED_GRACE)
            await pilot.press("j")
            await wait_until(pilot, lambda: len(h.store.list_incidents()) == 1)
            [summary] = h.store.list_incidents()
            b_id = summary.id
            joined = h.service.get(b_id)
            assert TeamKey.of(joined) == key and joined.title == "Checkout is failing"
            # the catch-up brings what Ada did before Bo joined (her severity)
            await wait_until(pilot, lambda: h.service.get(b_id).severity is Severity.MAJOR)
            # no second ticket, channel or reply came of it
            state = server.state.snapshot()
            issues = [i for i in state["jira"]["issues"].values() if "cockpit" in i["labels"]]
            assert len(issues) == 1

            # Ada moves it to FIXING: Bo's app applies it from the feed's polls of the
            # channel, and the header shows it
            ada.actions.set_status(a_id, Status.FIXING)
            await ada.drain()
            await wait_until(pilot, lambda: h.service.get(b_id).status is Status.FIXING)
            summary_line = app.screen.query_one(IncidentHeader).query_one("#incident-summary")
            await wait_until(pilot, lambda: "FIXING" in str(summary_line.render()))
            entry = next(e for e in h.store.timeline(b_id) if e.text.startswith("REPORTED → FIX"))
            assert entry.author == "ada"

            # Bo ticks an item with x: the tick is told in the channel, so Ada has it too
            pane = app.screen.query_one(ChecklistPane)
            pane.focus()
            await pilot.pause(0.1)
            item = pane.highlighted_item()
            assert item is not None and item.state is not ItemState.DONE
            await pilot.press("x")
            await wait_until(pilot, lambda: item.item.id in h.store.ticks(b_id))
            channel = key.channel

            def told() -> list[str]:
                state = server.state.snapshot()["slack"]["channels"]
                [ch] = [c for c in state.values() if c["id"] == channel]
                return [i for m in ch["messages"] for i in ticked_items(m)]

            await wait_until(pilot, lambda: item.item.id in told())
            ada.actions.team.apply(a_id, channel_history(server, channel), channel)  # type: ignore[union-attr]
            assert ada.services.store.ticks(a_id)[item.item.id].by == "bo"
            await app.action_quit()
        await asyncio.sleep(0)
        h.store.close()
        await ada.close()


async def test_a_look_that_still_fails_is_said_in_the_raise_dialog(tmp_path: Path) -> None:
    """Under faults the look in the report's thread failed once and the raise dialog opened
    over its warning (a toast, hidden behind it): the look is made again, and what still
    fails is said in the dialog itself, where the person decides to raise."""
    from cockpit.ui.dialogs.incident import RaiseModal

    with SandboxServer(port=0, scenario="quiet", seed=5, lenient=True) as server:
        link = report(server, "Search returns nothing for every query")
        config = tmp_path / "bo.toml"
        config.write_text(server.config_snippet())
        settings = load_settings(config, {"COCKPIT_USER": "bo", "COCKPIT_TIMEZONE": "UTC"})
        h = Harness(
            tmp_path / "bo", settings, clock=SystemClock(), token=TOKENS.get, client_options=OPTIONS
        )
        remote = h.services.remote
        assert remote is not None
        app = h.app()
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: remote.watch is not None)
            screen = app.screen

            def looks() -> int:
                requests = server.state.snapshot()["requests"]
                return int(requests.get("slack:conversations.replies", 0))

            # one refused request: asked again, nothing to say (no teammate raised it)
            before = looks()
            server.faults.force("server_error", "before", on="conversations.replies")
            screen.raise_or_join(  # type: ignore[attr-defined]
                title="Search broken", reported_at="", thread=link, source="#incidents priya"
            )
            await wait_until(pilot, lambda: isinstance(app.screen, RaiseModal))
            assert looks() - before == 2
            assert not app.screen.query("#raise-look-problem")
            await pilot.pause(app.screen.UNPROMPTED_GRACE)  # type: ignore[attr-defined]
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is screen)

            # refused every time: the dialog says the look failed, and why
            server.faults.force("server_error", "before", on="conversations.replies", times=3)
            screen.raise_or_join(  # type: ignore[attr-defined]
                title="Search broken", reported_at="", thread=link, source="#incidents priya"
            )
            await wait_until(pilot, lambda: isinstance(app.screen, RaiseModal))
            modal = app.screen
            [said] = modal.query("#raise-look-problem")
            text = str(said.render())
            assert text.startswith("⚠ Could not check whether a teammate raised this already: ")
            assert "Slack" in text
            assert not h.store.list_incidents()  # nothing raised behind the person's back
            await app.action_quit()
        await asyncio.sleep(0)
        h.store.close()

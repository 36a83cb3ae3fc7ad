"""`I` in the running app lists the team's open incidents found in Jira besides this
machine's, and choosing a teammate's joins it (against the drill range: Bo runs the app,
Ada is another cockpit on the same range)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import OptionList

from cockpit.config import load_settings
from cockpit.domain.clock import SystemClock
from cockpit.domain.incident import Severity, Status
from cockpit.domain.team import TeamKey
from cockpit.sandbox.server import SandboxServer
from cockpit.ui.dialogs.incidents import IncidentsModal

from .conftest import SIZE, Harness
from .test_team_ui import OPTIONS, TOKENS, Other, report, wait_until


def options_text(modal: IncidentsModal) -> list[str]:
    choices = modal.query_one("#choices", OptionList)
    return [str(choices.get_option_at_index(n).prompt) for n in range(choices.option_count)]


async def tracked(pilot, h: Harness, iid: str) -> str:  # type: ignore[no-untyped-def]
    """The running app's tracker watch with its periods shortened (read every 0.5 s,
    confirmed 0.2 s later), once the incident's ticket exists: its key."""
    remote = h.services.remote
    assert remote is not None
    await wait_until(pilot, lambda: remote.tracker is not None)
    tracker = remote.tracker
    assert tracker is not None and remote._loop is not None
    tracker.watch.every, tracker.watch.confirm = 0.5, 0.2
    remote._loop.call_soon_threadsafe(tracker.poke)
    await wait_until(pilot, lambda: TeamKey.of(h.service.get(iid)).ticket != "")
    return TeamKey.of(h.service.get(iid)).ticket


async def test_I_lists_a_teammates_incident_and_joins_it(tmp_path: Path) -> None:
    with SandboxServer(port=0, scenario="quiet", seed=7, lenient=True, search_lag=0) as server:
        ada = Other(tmp_path, server)
        link = report(server, "Payments are declined for every card")
        done = ada.actions.raise_incident("Payments declined", thread=link, reported_at="-5m")
        assert done.incident is not None
        a_id = done.incident.id
        await ada.drain()
        ada.actions.set_severity(a_id, Severity.CRITICAL)
        ada.actions.set_status(a_id, Status.FIXING)
        await ada.drain()
        key = TeamKey.of(ada.services.service.get(a_id))

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
            await pilot.press("I")
            await wait_until(pilot, lambda: isinstance(app.screen, IncidentsModal))
            modal = app.screen
            assert isinstance(modal, IncidentsModal)
            await wait_until(pilot, lambda: not modal.looking)
            await wait_until(pilot, lambda: bool(modal.team))
            [line] = options_text(modal)
            assert key.ticket in line and "Payments declined" in line
            assert "team · not joined" in line and "FIXING" in line
            await pilot.press("enter")
            await wait_until(pilot, lambda: len(h.store.list_incidents()) == 1)
            [summary] = h.store.list_incidents()
            joined = h.service.get(summary.id)
            assert TeamKey.of(joined) == key and joined.title == "Payments declined"
            # the channel's history brings the rest (Ada's severity and FIXING)
            await wait_until(pilot, lambda: h.service.get(summary.id).severity is Severity.CRITICAL)
            assert h.service.get(summary.id).status is Status.FIXING
            await wait_until(pilot, lambda: app.screen.active_id == summary.id)  # type: ignore[attr-defined]
            # listed again: now held here, the team's copy is not offered twice
            await pilot.press("I")
            await wait_until(pilot, lambda: isinstance(app.screen, IncidentsModal))
            again = app.screen
            assert isinstance(again, IncidentsModal)
            await wait_until(pilot, lambda: not again.looking)
            lines = options_text(again)
            assert len(lines) == 1 and f"#{summary.id}" in lines[0]
            assert "not joined" not in lines[0]
            await app.action_quit()
        await asyncio.sleep(0)
        h.store.close()
        await ada.close()


def test_I_with_a_teammates_incident_snapshot(snap_compare, harness: Harness) -> None:  # type: ignore[no-untyped-def]
    """The list as it looks once the team's incidents arrived: this machine's first, the
    team's after, marked not joined (a hostile summary shown as it is)."""
    from datetime import UTC, datetime

    from cockpit.application.tracker_team import TeamIncident

    from . import scenes
    from .conftest import settle

    scenes.mid_flight(harness)
    team = [
        TeamIncident(
            ticket="INCIDENT-41",
            url="https://jira.example/browse/INCIDENT-41",
            title="Logins time out in the EU [b]not bold[/b]",
            status=Status.FIXING,
            jira_status="Fixing",
            severity=Severity.CRITICAL,
            created=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
        ),
        TeamIncident(
            ticket="INCIDENT-42",
            url="https://jira.example/browse/INCIDENT-42",
            title="Nightly export stuck",
            status=None,
            jira_status="Blocked",
            severity=None,
            created=datetime(2026, 12, 7, 9, 5, tzinfo=UTC),
        ),
    ]

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("I")
        await settle(pilot)
        modal = pilot.app.screen
        assert isinstance(modal, IncidentsModal)
        modal.add_team(team)
        await settle(pilot)

    assert snap_compare(harness.app(), terminal_size=SIZE, run_before=run_before)


async def test_a_status_changed_in_jira_reaches_the_running_app(tmp_path: Path) -> None:
    """The remote side's tracker watch (its periods shortened): the app's own changes
    reach Jira and never come back as news; a person's move in Jira is applied."""
    from tests.integration.test_tracker_watch import move_in_jira

    with SandboxServer(port=0, scenario="quiet", seed=9, lenient=True, search_lag=0) as server:
        config = tmp_path / "bo.toml"
        config.write_text(server.config_snippet())
        settings = load_settings(config, {"COCKPIT_USER": "bo", "COCKPIT_TIMEZONE": "UTC"})
        h = Harness(
            tmp_path / "bo", settings, clock=SystemClock(), token=TOKENS.get, client_options=OPTIONS
        )
        done = h.services.actions.raise_incident("Webhooks delayed", reported_at="-5m")
        assert done.incident is not None
        iid = done.incident.id
        remote = h.services.remote
        assert remote is not None
        app = h.app(incident_id=iid)
        async with app.run_test(size=SIZE) as pilot:
            key = await tracked(pilot, h, iid)
            # the app's own move: sent to Jira, read back, no news
            h.services.actions.set_status(iid, Status.FIXING)
            await wait_until(pilot, lambda: server.state.issue(key).status == "Fixing")  # type: ignore[union-attr]
            await pilot.pause(1.5)
            assert not [e for e in h.store.timeline(iid) if e.author == "Jira"]
            # a person moves it to Monitoring in Jira
            move_in_jira(server, key, "MONITORING")
            await wait_until(pilot, lambda: h.service.get(iid).status is Status.MONITORING)
            [entry] = [e for e in h.store.timeline(iid) if e.author == "Jira"]
            # (told in the incident's channel too: the words of the team's event)
            assert entry.text == f"FIXING → MONITORING: changed in Jira ({key} is Monitoring)"
            await app.action_quit()
        await asyncio.sleep(0)
        h.store.close()


async def test_with_jira_alone_a_reopen_in_jira_is_a_conflict_C_settles(tmp_path: Path) -> None:
    """Jira configured, Slack not: nothing is shared with teammates, but a move made in
    Jira that cannot apply here (a RESOLVED incident reopened) is kept as a conflict, and
    `C` lists and settles it (it said "Slack is not configured"; and on an ended incident,
    the one a reopen meets, that the incident was read-only)."""
    from cockpit.sandbox.server import config_snippet, drill_settings
    from cockpit.ui.dialogs.prompts import ChoiceModal
    from tests.integration.test_tracker_watch import move_in_jira

    with SandboxServer(port=0, scenario="quiet", seed=9, lenient=True, search_lag=0) as server:
        config = tmp_path / "jira-only.toml"
        only = {k: v for k, v in drill_settings(server.base_url).items() if k == "jira"}
        config.write_text(config_snippet(only))
        settings = load_settings(config, {"COCKPIT_USER": "bo", "COCKPIT_TIMEZONE": "UTC"})
        assert settings.configured == {"jira"}
        h = Harness(
            tmp_path / "bo", settings, clock=SystemClock(), token=TOKENS.get, client_options=OPTIONS
        )
        team = h.services.actions.team
        assert team is not None and not team.enabled  # (nothing shared: no channel to tell)
        done = h.services.actions.raise_incident("Webhooks delayed", reported_at="-5m")
        assert done.incident is not None
        iid = done.incident.id
        remote = h.services.remote
        assert remote is not None
        app = h.app(incident_id=iid)
        async with app.run_test(size=SIZE) as pilot:
            key = await tracked(pilot, h, iid)
            h.services.actions.set_status(iid, Status.FIXING)
            h.services.actions.set_status(iid, Status.RESOLVED)
            await wait_until(pilot, lambda: server.state.issue(key).status == "Resolved")  # type: ignore[union-attr]
            await pilot.pause(1.5)
            move_in_jira(server, key, "REOPEN")
            await wait_until(pilot, lambda: bool(team.conflicts(iid)))
            assert h.service.get(iid).status is Status.RESOLVED
            await pilot.press("C")
            await wait_until(pilot, lambda: isinstance(app.screen, ChoiceModal))
            await pilot.press("enter")
            await wait_until(pilot, lambda: not team.conflicts(iid))
            assert h.service.get(iid).status is Status.RESOLVED  # (what is held here stays)
            assert not [i for i in h.store.docs(iid, "outbox") if i["operation"] == "slack.post"]
            await app.action_quit()
        await asyncio.sleep(0)
        h.store.close()

"""Scenarios: shipped TOML files, clear errors for bad ones, timed events, the storm."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from cockpit.sandbox.scenarios import (
    ScenarioError,
    available_scenarios,
    load_scenario,
    parse_scenario,
)
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.state import ts_to_micro
from tests.integration.test_sandbox_support import SLACK_BOT, checked_client, slack

ALERTS = "C0SBXALERTS1"


def wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def test_shipped_scenarios_load() -> None:
    assert {"quiet", "outage", "storm"} <= set(available_scenarios())
    assert load_scenario("quiet").events == ()
    outage = load_scenario("outage")
    texts = [e.text for e in outage.events]
    assert "Checkout is failing for a lot of buyers — card payments error out" in texts
    assert any("can't log in to CMS" in t for t in texts)
    storm = load_scenario("storm")
    assert storm.message_count == 10_000


def test_outage_plays_in_time_at_high_speed() -> None:
    with SandboxServer(scenario="outage", speed=100) as srv:
        # t+5 s is 0.05 s at speed 100; the colleague's nudge at t+150 s is 1.5 s.
        wait_for(
            lambda: len(srv.state.snapshot()["slack"]["channels"]["incidents"]["messages"]) >= 2
        )
        early = srv.state.snapshot()
        incidents = early["slack"]["channels"]["incidents"]["messages"]
        report = next(m for m in incidents if m["text"].startswith("Checkout is failing"))
        assert report["user"] == "U0SBXPRIYA1" and report["client_msg_id"]
        assert not any("Any update" in r["text"] for r in report.get("replies", []))
        assert early["scenario"]["finished"] is False
        assert srv.runner is not None and srv.runner.wait(timeout=15)
        state = srv.state.snapshot()
        assert state["scenario"]["events_fired"] == state["scenario"]["events_total"] == 13
        incidents = state["slack"]["channels"]["incidents"]["messages"]
        report = next(m for m in incidents if m["text"].startswith("Checkout is failing"))
        assert [r["user"] for r in report["replies"]] == ["U0SBXPRIYA1", "U0SBXJUNE01"]
        assert report["reply_count"] == 2 and report["thread_ts"] == report["ts"]
        assert any("Galerie Nord" in m["text"] for m in incidents)
        alerts = state["slack"]["channels"]["alerts"]["messages"]
        titles = [m["attachments"][0]["title"] for m in alerts if m.get("bot_id") == "B0SBXDATADG"]
        flaps = [t for t in titles if "Payments API error rate" in t]
        assert (
            flaps
            == [
                "[Triggered] Payments API error rate > 5%",
                "[Recovered] Payments API error rate > 5%",
            ]
            * 3
        )
        assert all(m["subtype"] == "bot_message" and m["text"] == "" for m in alerts)
        # History (negative offsets) is older than the start; the drill comes after it.
        started = ts_to_micro(str(state["scenario"]["started_at"]))
        assert ts_to_micro(incidents[0]["ts"]) < started < ts_to_micro(report["ts"])


def test_scenario_messages_read_back_through_the_api() -> None:
    with SandboxServer(scenario="outage", speed=1000) as srv:
        assert srv.runner is not None and srv.runner.wait(timeout=10)
        with checked_client(srv.base_url) as client:
            alerts = slack(client, "conversations.history", channel=ALERTS)["messages"]
            assert alerts[0]["username"] in ("Datadog", "Sentry")
            incidents = slack(client, "conversations.history", channel="C0SBXINCIDNT")["messages"]
            report = next(m for m in incidents if m["text"].startswith("Checkout"))
            thread = slack(client, "conversations.replies", channel="C0SBXINCIDNT", ts=report["ts"])
            assert len(thread["messages"]) == 3


def test_storm_posts_ten_thousand_alerts() -> None:
    with SandboxServer(scenario="storm", speed=20) as srv:
        assert srv.runner is not None and srv.runner.wait(timeout=20)
        alerts = srv.state.snapshot()["slack"]["channels"]["alerts"]
        assert alerts["message_count"] == 10_000
        assert len({m["ts"] for m in alerts["messages"]}) == 10_000
        assert (
            alerts["messages"][41]["attachments"][0]["fields"][0]["value"]
            == "ip-10-0-42.ec2.internal"
        )
        with checked_client(srv.base_url) as client:
            first = slack(client, "conversations.history", channel=ALERTS, limit="200")
        assert len(first["messages"]) == 200 and first["has_more"] is True
        seen = len(first["messages"])
        cursor = first["response_metadata"]["next_cursor"]
        with httpx.Client(base_url=srv.base_url, timeout=10) as raw:
            while cursor:
                page = raw.get(
                    "/api/conversations.history",
                    params={"channel": ALERTS, "limit": 999, "cursor": cursor},
                    headers=SLACK_BOT,
                ).json()
                seen += len(page["messages"])
                cursor = page.get("response_metadata", {}).get("next_cursor", "")
        assert seen == 10_000


def test_custom_scenario_with_people_channels_mentions_and_repeats(tmp_path: Path) -> None:
    path = tmp_path / "drill.toml"
    path.write_text(
        """
name = "custom"

[[people]]
name = "sam"
real_name = "Sam Lee"

[[channels]]
name = "payments-team"
bot_member = true

[[events]]
at = 0.1
channel = "payments-team"
user = "sam"
text = "{@sam} here, see {#incidents} — ping {n}"
repeat = 3
every = 0.5

[[events]]
at = -60
channel = "incidents"
bot = "pingdom"
text = "checkout.example.com is DOWN"
""",
        encoding="utf-8",
    )
    with SandboxServer(scenario=str(path), speed=10) as srv:
        assert srv.runner is not None and srv.runner.wait(timeout=5)
        state = srv.state.snapshot()["slack"]
        sam = next(u for u in state["users"] if u["name"] == "sam")
        team = state["channels"]["payments-team"]
        assert team["bot_is_member"] is True
        assert [m["text"] for m in team["messages"]] == [
            f"<@{sam['id']}> here, see <#C0SBXINCIDNT|incidents> — ping {n}" for n in (1, 2, 3)
        ]
        assert state["channels"]["incidents"]["messages"][0]["username"] == "Pingdom"


@pytest.mark.parametrize(
    "source,line,message",
    [
        (
            'name = "x"\n[[events]]\nat = 1\nchannel = "incidents"\nuser = "bob"\ntext = "hi"\n',
            5,
            "event 1: unknown user 'bob'",
        ),
        (
            '[[events]]\nchannel = "incidents"\nuser = "priya"\ntext = "hi"\n',
            1,
            "event 1: 'at' (seconds after the start) is required",
        ),
        (
            '[[events]]\nat = 1\nchannel = "incidents"\nuser = "priya"\nbot = "datadog"\n'
            'text = "x"\n',
            4,
            "give exactly one of 'user'",
        ),
        (
            '[[events]]\nat = 1\nchannel = "incidents"\nuser = "priya"\n',
            1,
            "a message needs 'text'",
        ),
        (
            '[[events]]\nat = 1\nchannel = "incidents"\nuser = "priya"\ntext = "x"\nthread = "r"\n',
            6,
            "'thread' must name the id of an earlier event",
        ),
        (
            '[[events]]\nat = 1\nchannel = "incidents"\nuser = "priya"\ntext = "x"\ncolour = 1\n',
            6,
            "unknown key(s) colour",
        ),
        (
            '[[events]]\nat = 1\nchannel = "incidents"\nuser = "priya"\ntext = "x"\nrepeat = 0\n',
            6,
            "'repeat' must be a whole number",
        ),
        ('name = "x"\nevents = [\n', 3, "not valid TOML"),
        ('nmae = "typo"\n', None, "unknown key(s) nmae"),
    ],
)
def test_bad_scenarios_name_the_file_and_line(source: str, line: int | None, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(source, "drill.toml")
    err = info.value
    assert err.path == "drill.toml" and err.line == line, str(err)
    assert message in str(err)
    assert str(err).startswith(f"drill.toml:{line}: " if line else "drill.toml: ")


def test_unknown_scenario_name_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"no such scenario .*outage"):
        load_scenario("nightmare")
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "absent.toml")

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
        assert state["scenario"]["events_fired"] == state["scenario"]["events_total"] == 24
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
        assert all(m["subtype"] == "bot_message" for m in alerts)
        datadog = [m for m in alerts if m.get("bot_id") == "B0SBXDATADG"]
        assert all(m["text"] == "" for m in datadog)  # the attachments are the content
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


def test_outage_holds_the_shapes_the_feed_must_read() -> None:
    """Alert bots of several kinds, a mention of someone who wrote nothing and of a user
    group, a date, a broadcast, an unfurl and a tombstone, as Slack stores them."""
    with SandboxServer(scenario="outage", speed=1000) as srv:
        assert srv.runner is not None and srv.runner.wait(timeout=15)
        state = srv.state.snapshot()["slack"]["channels"]
        alerts, incidents = state["alerts"]["messages"], state["incidents"]["messages"]
        uptime = next(m for m in alerts if m.get("bot_id") == "B0SBXUPTIME")
        assert "username" not in uptime and "bot_profile" not in uptime and uptime["text"] == ""
        assert uptime["attachments"][0]["color"] == "danger"
        pingdom = next(m for m in alerts if m.get("username") == "Pingdom")
        assert [b["type"] for b in pingdom["blocks"]] == ["header", "section", "context"]
        sentry = [m for m in alerts if m.get("username") == "Sentry" and m.get("blocks")]
        assert sentry and sentry[0]["text"].startswith("TypeError")
        on_it = next(m for m in incidents if m["text"].startswith("On it."))
        assert "<@U0SBXALICE1>" in on_it["text"] and "<!subteam^S0SBX" in on_it["text"]
        window = next(m for m in incidents if "maintenance window" in m["text"])
        assert "<!date^" in window["text"] and "{date_short_pretty} at {time}|" in window["text"]
        broadcast = next(m for m in incidents if m.get("subtype") == "thread_broadcast")
        assert broadcast["thread_ts"] != broadcast["ts"]
        link = next(m for m in incidents if m["text"].startswith("Pointing customers"))
        assert link["attachments"][0]["title"] == "Drill Range Status" and "edited" not in link
        tomb = next(m for m in incidents if m.get("subtype") == "tombstone")
        assert tomb["user"] == "USLACKBOT" and tomb["reply_count"] == 1


def test_unfurl_and_delete_events_and_their_mistakes(tmp_path: Path) -> None:
    base = """
[[events]]
at = 1
channel = "incidents"
user = "alice"
id = "m"
text = "see <https://x.example> with {!oncall} at {date+60}"
"""
    ok = parse_scenario(
        base
        + """
[[events]]
at = 2
channel = "incidents"
unfurl = "m"
attachments = [{ title = "X", title_link = "https://x.example" }]

[[events]]
at = 3
channel = "incidents"
delete = "m"
""",
        "ok.toml",
    )
    assert [e.unfurl for e in ok.events] == [None, "m", None]
    assert [e.delete for e in ok.events] == [None, None, "m"]
    for extra, message in (
        ('unfurl = "nope"', "must name the id of an earlier event"),
        ('unfurl = "m"', "one attachment"),
        ('delete = "m"\nuser = "alice"', "has no 'user'"),
        ('unfurl = "m"\ndelete = "m"', "give one of"),
    ):
        source = base + f'\n[[events]]\nat = 2\nchannel = "incidents"\n{extra}\n'
        with pytest.raises(ScenarioError, match=message):
            parse_scenario(source, "bad.toml")
    with pytest.raises(ScenarioError, match="workspace 'channels' must be a whole number"):
        parse_scenario("[workspace]\nchannels = -1\n", "bad.toml")


def test_the_large_scenario_names_people_of_its_generated_workspace() -> None:
    large = load_scenario("large")
    assert large.workspace == (5000, 20000)
    authors = {e.user for e in large.events if e.user}
    assert authors and all(a is not None and a[-1].isdigit() for a in authors)  # generated
    with pytest.raises(
        ScenarioError, match=r"unknown user 'nobody' \(known: .*, and [0-9,]+ more\)"
    ):
        parse_scenario(
            '[workspace]\npeople = 50\n[[events]]\nat = 1\nchannel = "incidents"\n'
            'user = "nobody"\ntext = "x"\n',
            "bad.toml",
        )


def test_a_large_workspace_is_generated_and_its_lookups_are_served() -> None:
    """[workspace]: thousands of channels and people; the app finds its channels through
    users.conversations (a handful), names people one by one (users.info), groups in one
    usergroups.list and bots by bots.info, each answer as Slack's spec says."""
    scenario = parse_scenario(
        "[workspace]\nchannels = 3000\npeople = 5000\n", "big.toml", default_name="big"
    )
    assert scenario.workspace == (3000, 5000)
    with SandboxServer(scenario=scenario) as srv, checked_client(srv.base_url) as client:
        assert len(srv.state.channels) == 3 + 3000
        assert sum(not u["is_bot"] for u in srv.state.slack_users.values()) == 6 + 5000
        listed = slack(client, "conversations.list", limit=1000)
        assert "incidents" not in {c["name"] for c in listed["channels"]}  # on the last page
        mine = slack(client, "users.conversations", types="public_channel,private_channel")
        assert {c["name"] for c in mine["channels"]} == {"incidents", "alerts"}
        assert not mine["response_metadata"]["next_cursor"]
        person = slack(client, "users.info", user="U0SBXG04321")["user"]
        assert person["profile"]["real_name"] and person["profile"]["display_name"] == ""
        groups = slack(client, "usergroups.list")["usergroups"]
        assert {g["handle"] for g in groups} == {"oncall", "payments-team"}
        assert "users" not in groups[0]
        with_users = slack(client, "usergroups.list", include_users="true")["usergroups"]
        assert all(g["users"] for g in with_users)
        bot = slack(client, "bots.info", bot="B0SBXUPTIME")["bot"]
        assert bot["name"] == "Uptime Monitor" and not bot["deleted"]
        assert slack(client, "bots.info", bot="B0NOSUCH")["error"] == "bot_not_found"
        info = slack(client, "conversations.info", channel="C0SBX0G00042")["channel"]
        assert info["name"] == "team-0042"

"""The drill range over real sockets: Slack, Jira and Statuspage as cockpit uses them.

Every exchange made through `checked_client` is validated against the vendors' published
specs by tests/spec_check.py (see test_sandbox_support.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit.sandbox.server import SandboxError, SandboxServer, check_loopback, run_sandbox
from cockpit.sandbox.state import BOT_USER_ID, PAGE_ID
from cockpit.sandbox.tokens import BOT_TOKEN
from tests import spec_check
from tests.integration.test_sandbox_support import (
    ADF,
    JIRA_AUTH,
    SLACK_BOT,
    STATUSPAGE,
    checked_client,
    slack,
)

INCIDENTS, ALERTS, GENERAL = "C0SBXINCIDNT", "C0SBXALERTS1", "C0SBXGENERAL"
PAYMENTS = "sbxcmppaymnt"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    # The API's semantics at classroom speed; the strict rate limits, tokens and scopes
    # have their own tests (test_sandbox_strict.py).
    with SandboxServer(scenario=None, lenient=True, search_lag=0) as srv:
        yield srv


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with checked_client(server.base_url) as c:
        yield c


@pytest.fixture
def raw(server: SandboxServer) -> Iterator[httpx.Client]:
    """A client whose exchanges are not spec-checked (for deliberately bad requests)."""
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        yield c


def post_many(client: httpx.Client, channel: str, n: int) -> list[str]:
    return [
        slack(client, "chat.postMessage", channel=channel, text=f"m{i}")["ts"] for i in range(n)
    ]


# -- the server --------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com", ""])
def test_refuses_to_bind_anything_but_loopback(host: str) -> None:
    with pytest.raises(SandboxError, match="loopback"):
        SandboxServer(host=host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_addresses_are_allowed(host: str) -> None:
    check_loopback(host)


def test_command_refuses_a_public_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_sandbox(["--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on '0.0.0.0'" in err and "loopback" in err


def test_command_reports_a_bad_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n\n[[events]]\nat = 1\nchannel = "nowhere"\nuser = "priya"\n')
    assert run_sandbox(["--port", "0", "--scenario", str(bad)]) == 2
    assert f"{bad}:5: event 1: 'channel' must name a channel" in capsys.readouterr().err


def test_command_serves_until_interrupted(tmp_path: Path) -> None:
    code = "from cockpit.sandbox.server import run_sandbox; raise SystemExit(run_sandbox())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--port", "0", "--scenario", "quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Ctrl-C" in line or not line:
                break
        out = "".join(lines)
        base = out.split(" on ", 1)[1].split()[0]
        assert base.startswith("http://127.0.0.1:")
        assert f'api_url = "{base}/api"' in out
        assert f'url = "{base}"' in out
        assert f'api_url = "{base}/v1"' in out and f'page_id = "{PAGE_ID}"' in out
        answer = httpx.post(f"{base}/api/auth.test", headers=SLACK_BOT, timeout=5).json()
        assert answer["ok"] is True
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_settings_point_cockpit_at_the_sandbox(server: SandboxServer) -> None:
    base = server.base_url
    assert server.settings() == {
        "slack": {"api_url": f"{base}/api"},
        "jira": {
            "url": base,
            "email": "oncall@drill-range.example",
            "follow_up_project": "BUG",
            "severity": {
                "field": "customfield_10042",
                "values": {
                    "critical": "Critical",
                    "major": "Major",
                    "minor": "Minor",
                    "unset": "Major",
                },
            },
        },
        "statuspage": {"api_url": f"{base}/v1", "page_id": PAGE_ID},
    }
    assert 'severity = { "field" = "customfield_10042", "values" = {' in server.config_snippet()
    assert f'[statuspage]\napi_url = "{base}/v1"\npage_id = "{PAGE_ID}"' in server.config_snippet()


def test_unknown_paths_are_404(raw: httpx.Client) -> None:
    assert raw.get("/nothing").status_code == 404
    r = raw.post("/api/chat.nothing", headers=SLACK_BOT)
    assert r.status_code == 404
    assert r.json() == {"ok": False, "error": "unknown_method", "req_method": "chat.nothing"}


# -- Slack ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method,http,args",
    [
        ("auth.test", "POST", {}),
        ("conversations.list", "GET", {}),
        ("conversations.history", "GET", {"channel": INCIDENTS}),
        ("chat.postMessage", "POST", {"channel": INCIDENTS, "text": "hi"}),
        ("users.list", "GET", {}),
    ],
)
def test_slack_requires_a_token(
    raw: httpx.Client, method: str, http: str, args: dict[str, str]
) -> None:
    if http == "GET":
        r = raw.get(f"/api/{method}", params=args)
    else:
        r = raw.post(f"/api/{method}", data=args)
    assert r.status_code == 200
    assert r.json() == {"ok": False, "error": "not_authed"}
    spec_check.check_slack_call(method, args, r.json(), http_method=http, json_body=False)


def test_slack_takes_its_tokens_in_header_or_argument_and_refuses_others(
    raw: httpx.Client,
) -> None:
    assert raw.post("/api/auth.test", data={"token": BOT_TOKEN}).json()["ok"] is True
    assert raw.post("/api/auth.test", headers=SLACK_BOT).json()["ok"] is True
    for token in ("anything", "xoxb-1234-5678-unknown"):
        answer = raw.post("/api/auth.test", headers={"Authorization": f"Bearer {token}"}).json()
        assert answer == {"ok": False, "error": "invalid_auth"}


def test_auth_test_says_who_the_token_is(client: httpx.Client) -> None:
    bot = slack(client, "auth.test")
    assert bot["user_id"] == BOT_USER_ID and bot["bot_id"].startswith("B")
    person = slack(client, "auth.test", {"Authorization": "Bearer xoxp-priya"})
    assert person["user"] == "priya" and "bot_id" not in person


def test_conversations_list_pages_by_cursor(client: httpx.Client) -> None:
    names, cursor = [], ""
    for _ in range(10):
        args = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        page = slack(client, "conversations.list", **args)
        assert len(page["channels"]) <= 1
        names += [c["name"] for c in page["channels"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert sorted(names) == ["alerts", "general", "incidents"]
    incidents = slack(client, "conversations.list")["channels"]
    member = {c["name"]: c["is_member"] for c in incidents}
    assert member == {"alerts": True, "general": False, "incidents": True}
    assert slack(client, "conversations.list", cursor="bogus") == {
        "ok": False,
        "error": "invalid_cursor",
    }


def test_history_pages_newest_first_with_cursor(client: httpx.Client) -> None:
    sent = post_many(client, INCIDENTS, 25)
    got, cursor, pages = [], "", 0
    while True:
        args = {"channel": INCIDENTS, "limit": "10", **({"cursor": cursor} if cursor else {})}
        page = slack(client, "conversations.history", **args)
        pages += 1
        got += [m["ts"] for m in page["messages"]]
        if not page["has_more"]:
            assert "response_metadata" not in page
            break
        cursor = page["response_metadata"]["next_cursor"]
    assert pages == 3
    assert got == sorted(sent, reverse=True)


def test_history_oldest_latest_inclusive(client: httpx.Client, raw: httpx.Client) -> None:
    sent = post_many(client, INCIDENTS, 5)
    newer = slack(client, "conversations.history", channel=INCIDENTS, oldest=sent[2])
    assert [m["ts"] for m in newer["messages"]] == [sent[4], sent[3]]
    assert newer["has_more"] is False
    window = slack(
        client,
        "conversations.history",
        channel=INCIDENTS,
        oldest=sent[1],
        latest=sent[3],
        inclusive="true",
    )
    assert [m["ts"] for m in window["messages"]] == [sent[3], sent[2], sent[1]]
    nothing = slack(client, "conversations.history", channel=INCIDENTS, oldest=sent[4])
    assert nothing["messages"] == [] and nothing["has_more"] is False
    bad = raw.get(
        "/api/conversations.history",
        params={"channel": INCIDENTS, "oldest": "yesterday"},
        headers=SLACK_BOT,
    )
    assert bad.json() == {"ok": False, "error": "invalid_ts_oldest"}


def test_metadata_only_with_include_all_metadata(client: httpx.Client, raw: httpx.Client) -> None:
    meta = {"event_type": "cockpit_incident", "event_payload": {"incident": "INC-1"}}
    slack(client, "chat.postMessage", channel=INCIDENTS, text="tracked", metadata=meta)
    plain = slack(client, "conversations.history", channel=INCIDENTS)["messages"][0]
    assert "metadata" not in plain
    full = slack(client, "conversations.history", channel=INCIDENTS, include_all_metadata="true")
    assert full["messages"][0]["metadata"] == meta
    bad = raw.post(
        "/api/chat.postMessage",
        json={"channel": INCIDENTS, "text": "x", "metadata": {"a": 1}},
        headers=SLACK_BOT,
    )
    assert bad.json() == {"ok": False, "error": "invalid_metadata_format"}


def test_threads_replies_and_parent_fields(client: httpx.Client) -> None:
    person = {"Authorization": "Bearer xoxp-priya"}
    parent = slack(client, "chat.postMessage", person, channel="incidents", text="Checkout fails")
    assert parent["message"]["user"] == "U0SBXPRIYA1" and "bot_id" not in parent["message"]
    r1 = slack(
        client, "chat.postMessage", channel=INCIDENTS, text="Tracked", thread_ts=parent["ts"]
    )
    r2 = slack(
        client,
        "chat.postMessage",
        {"Authorization": "Bearer xoxp-june"},
        channel=INCIDENTS,
        text="Any update?",
        thread_ts=r1["ts"],  # a reply's ts: Slack files it under the parent
    )
    assert r1["message"]["thread_ts"] == parent["ts"] == r2["message"]["thread_ts"]
    assert r1["message"]["parent_user_id"] == "U0SBXPRIYA1"
    history = slack(client, "conversations.history", channel=INCIDENTS)["messages"]
    assert [m["ts"] for m in history] == [parent["ts"]]  # replies stay in the thread
    top = history[0]
    assert top["reply_count"] == 2 and top["latest_reply"] == r2["ts"]
    assert top["reply_users"] == ["U0SBXJUNE01"] or set(top["reply_users"]) == {
        BOT_USER_ID,
        "U0SBXJUNE01",
    }
    thread = slack(client, "conversations.replies", channel=INCIDENTS, ts=parent["ts"])
    assert [m["ts"] for m in thread["messages"]] == [parent["ts"], r1["ts"], r2["ts"]]
    first = slack(client, "conversations.replies", channel=INCIDENTS, ts=parent["ts"], limit="2")
    assert [m["ts"] for m in first["messages"]] == [parent["ts"], r1["ts"]]
    assert first["has_more"] is True
    rest = slack(
        client,
        "conversations.replies",
        channel=INCIDENTS,
        ts=parent["ts"],
        limit="2",
        cursor=first["response_metadata"]["next_cursor"],
    )
    assert [m["ts"] for m in rest["messages"]] == [parent["ts"], r2["ts"]]
    newer = slack(
        client, "conversations.replies", channel=INCIDENTS, ts=parent["ts"], oldest=r1["ts"]
    )
    assert [m["ts"] for m in newer["messages"]] == [parent["ts"], r2["ts"]]
    missing = slack(client, "conversations.replies", channel=INCIDENTS, ts="1700000000.000001")
    assert missing == {"ok": False, "error": "thread_not_found"}


def test_reply_broadcast_shows_in_the_channel(client: httpx.Client) -> None:
    parent = slack(client, "chat.postMessage", channel=INCIDENTS, text="parent")
    slack(
        client,
        "chat.postMessage",
        channel=INCIDENTS,
        text="also in channel",
        thread_ts=parent["ts"],
        reply_broadcast=True,
    )
    history = slack(client, "conversations.history", channel=INCIDENTS)["messages"]
    assert history[0]["subtype"] == "thread_broadcast"


def test_post_needs_membership_text_and_a_real_channel(client: httpx.Client) -> None:
    assert slack(client, "chat.postMessage", channel=GENERAL, text="hi") == {
        "ok": False,
        "error": "not_in_channel",
    }
    assert slack(client, "conversations.history", channel=GENERAL)["error"] == "not_in_channel"
    joined = slack(client, "conversations.join", channel=GENERAL)
    assert joined["channel"]["is_member"] is True
    again = slack(client, "conversations.join", channel=GENERAL)
    assert again["warning"] == "already_in_channel"
    assert slack(client, "chat.postMessage", channel=GENERAL, text="hi")["ok"] is True
    assert slack(client, "chat.postMessage", channel=INCIDENTS)["error"] == "no_text"
    assert slack(client, "chat.postMessage", channel="C0NOSUCHCH", text="x")["error"] == (
        "channel_not_found"
    )
    assert slack(client, "chat.postMessage", channel="#alerts", text="by name")["channel"] == ALERTS


def test_anyone_can_post_a_report_with_curl_style_form(
    raw: httpx.Client, server: SandboxServer
) -> None:
    r = raw.post(
        "/api/chat.postMessage",
        headers={"Authorization": "Bearer xoxp-trainer"},
        data={"channel": "incidents", "text": "Search returns nothing"},
    )
    assert r.json()["ok"] is True
    messages = server.state.snapshot()["slack"]["channels"]["incidents"]["messages"]
    assert messages[-1]["text"] == "Search returns nothing"
    assert messages[-1]["user"] == "U0SBXTRAIN1"


def test_unknown_thread_ts_goes_to_an_invisible_thread(
    client: httpx.Client, server: SandboxServer
) -> None:
    answer = slack(
        client, "chat.postMessage", channel=INCIDENTS, text="lost", thread_ts="1700000000.000001"
    )
    assert answer["ok"] is True
    assert slack(client, "conversations.history", channel=INCIDENTS)["messages"] == []
    snap = server.state.snapshot()["slack"]["channels"]["incidents"]
    assert [m["text"] for m in snap["orphan_replies"]] == ["lost"]


@pytest.mark.parametrize(
    "name,error",
    [
        ("Incident-1", "invalid_name_specials"),
        ("incident 1", "invalid_name_specials"),
        ("incident#1", "invalid_name_specials"),
        ("", "invalid_name_required"),
        ("x" * 81, "invalid_name_maxlength"),
        ("---", "invalid_name_punctuation"),
        ("incidents", "name_taken"),
    ],
)
def test_channel_naming_rules(client: httpx.Client, name: str, error: str) -> None:
    assert slack(client, "conversations.create", name=name) == {"ok": False, "error": error}


def test_create_invite_topic_permalink(client: httpx.Client) -> None:
    created = slack(client, "conversations.create", name="incident-7")["channel"]
    assert created["is_member"] is True and created["name"] == "incident-7"
    cid = created["id"]
    assert slack(client, "conversations.create", name="incident-7")["error"] == "name_taken"
    invited = slack(client, "conversations.invite", channel=cid, users="U0SBXALICE1,U0SBXBENJI1")
    assert invited["channel"]["num_members"] == 3
    assert slack(client, "conversations.invite", channel=cid, users="U0SBXALICE1")["error"] == (
        "already_in_channel"
    )
    assert slack(client, "conversations.invite", channel=cid, users="U0NOBODY00")["error"] == (
        "user_not_found"
    )
    assert slack(client, "conversations.invite", channel=cid, users=BOT_USER_ID)["error"] == (
        "cant_invite_self"
    )
    topic = slack(client, "conversations.setTopic", channel=cid, topic="INCIDENT-7 · Critical")
    assert topic["channel"]["topic"]["value"] == "INCIDENT-7 · Critical"
    posted = slack(client, "chat.postMessage", channel=cid, text="Resolution happens here")
    link = slack(client, "chat.getPermalink", channel=cid, message_ts=posted["ts"])
    assert link["permalink"].endswith(f"/archives/{cid}/p{posted['ts'].replace('.', '')}")
    assert slack(client, "chat.getPermalink", channel=cid, message_ts="1700000000.000002")[
        "error"
    ] == ("message_not_found")
    subtypes = [
        m.get("subtype") for m in slack(client, "conversations.history", channel=cid)["messages"]
    ]
    assert subtypes == [None, "channel_topic", "channel_join", "channel_join"]


def test_users_info_and_list(client: httpx.Client) -> None:
    user = slack(client, "users.info", user="U0SBXPRIYA1")["user"]
    assert user["real_name"] == "Priya Shah" and user["is_bot"] is False
    assert slack(client, "users.info", user="U0NOBODY00") == {
        "ok": False,
        "error": "user_not_found",
    }
    members, cursor = [], ""
    while True:
        page = slack(client, "users.list", limit="3", **({"cursor": cursor} if cursor else {}))
        members += page["members"]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert {m["name"] for m in members} >= {"alice", "priya", "cockpit"}
    assert any(m["is_bot"] for m in members)


def test_json_body_is_ignored_by_methods_that_take_none(raw: httpx.Client) -> None:
    r = raw.post(
        "/api/conversations.replies", json={"channel": INCIDENTS, "ts": "1.0"}, headers=SLACK_BOT
    )
    assert r.json() == {"ok": False, "error": "channel_not_found"}
    r = raw.post(
        "/api/chat.postMessage",
        content=b"{nope",
        headers={**SLACK_BOT, "Content-Type": "application/json"},
    )
    assert r.json() == {"ok": False, "error": "invalid_json"}


def test_slack_rate_limit_429_with_retry_after() -> None:
    limits = {"conversations.history": 3}
    with SandboxServer(scenario=None, rate_limits=limits) as srv, checked_client(srv.base_url) as c:
        for _ in range(3):
            assert slack(c, "conversations.history", channel=INCIDENTS)["ok"] is True
        r = c.get("/api/conversations.history", params={"channel": INCIDENTS}, headers=SLACK_BOT)
        assert r.status_code == 429
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert r.json() == {"ok": False, "error": "ratelimited"}
        assert slack(c, "conversations.list")["ok"] is True  # other methods unaffected


def test_lenient_limits_leave_a_busy_client_alone(client: httpx.Client) -> None:
    for _ in range(60):  # more than Tier 3's 50 a minute
        assert slack(client, "conversations.history", channel=ALERTS)["ok"] is True


# -- Jira -----------------------------------------------------------------------------------------
# what INCIDENT's create screen requires (cockpit/sandbox/jira_site.py)
REQUIRED = {"priority": {"name": "High"}, "customfield_10042": {"value": "Major"}}


def create_issue(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {
        "fields": {
            "project": {"key": "INCIDENT"},
            "issuetype": {"name": "Task"},
            "summary": "Card payments fail at checkout",
            "description": ADF,
            "labels": ["cockpit", "sev-critical"],
            **(REQUIRED if fields.get("project", {"key": "INCIDENT"})["key"] == "INCIDENT" else {}),
            **fields,
        }
    }
    r = client.post("/rest/api/3/issue", json=body, auth=JIRA_AUTH)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def transition(client: httpx.Client, key: str, name: str) -> httpx.Response:
    """As cockpit must: look the transition up by name, post its id (and a resolution
    when its screen asks for one)."""
    listed = client.get(
        f"/rest/api/3/issue/{key}/transitions",
        params={"expand": "transitions.fields"},
        auth=JIRA_AUTH,
    ).json()
    chosen = next(t for t in listed["transitions"] if t["name"] == name)
    body: dict[str, Any] = {"transition": {"id": chosen["id"]}}
    if "resolution" in chosen["fields"]:
        body["fields"] = {"resolution": {"name": "Done"}}
    return client.post(f"/rest/api/3/issue/{key}/transitions", json=body, auth=JIRA_AUTH)


def test_jira_requires_basic_auth(raw: httpx.Client) -> None:
    for r in (
        raw.get("/rest/api/3/myself"),
        raw.get("/rest/api/3/myself", headers={"Authorization": "Bearer x"}),
        raw.post("/rest/api/3/issue", json={}),
    ):
        assert r.status_code == 401
        assert r.json()["errorMessages"] == [
            "Client must be authenticated to access this resource."
        ]


def test_jira_myself_is_whoever_authenticates(client: httpx.Client) -> None:
    me = client.get("/rest/api/3/myself", auth=JIRA_AUTH).json()
    assert me["emailAddress"] == JIRA_AUTH[0] and me["displayName"] == "Alice"
    other = client.get("/rest/api/3/myself", auth=("benji.okafor@x.example", "t")).json()
    assert other["accountId"] != me["accountId"] and other["displayName"] == "Benji Okafor"


def test_jira_create_requires_adf(client: httpx.Client, raw: httpx.Client) -> None:
    created = create_issue(client)
    assert created["key"] == "INCIDENT-1"
    issue = client.get("/rest/api/3/issue/INCIDENT-1", auth=JIRA_AUTH).json()
    assert issue["fields"]["description"] == ADF
    assert issue["fields"]["status"]["name"] == "Pending"
    plain = {
        "fields": {
            "project": {"key": "INCIDENT"},
            "issuetype": {"name": "Task"},
            "summary": "x",
            "description": "Card payments fail",
            **REQUIRED,
        }
    }
    r = raw.post("/rest/api/3/issue", json=plain, auth=JIRA_AUTH)
    assert r.status_code == 400
    assert r.json() == {
        "errorMessages": [],
        "errors": {
            "description": (
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            )
        },
    }
    r = raw.post("/rest/api/3/issue/INCIDENT-1/comment", json={"body": "plain"}, auth=JIRA_AUTH)
    assert r.status_code == 400 and "comment" in r.json()["errors"]
    r = raw.post(
        "/rest/api/3/issue",
        json={"fields": {**plain["fields"], "description": ADF, "severity": "x"}},
        auth=JIRA_AUTH,
    )
    assert r.status_code == 400 and "severity" in r.json()["errors"]
    r = raw.post("/rest/api/3/issue", json={"fields": {"project": {"key": "NOPE"}}}, auth=JIRA_AUTH)
    assert r.status_code == 400 and {"project", "summary", "issuetype"} <= set(r.json()["errors"])


def test_jira_get_issue_fields_and_404(client: httpx.Client) -> None:
    create_issue(client)
    only = client.get(
        "/rest/api/3/issue/INCIDENT-1", params={"fields": "summary,labels"}, auth=JIRA_AUTH
    ).json()
    assert set(only["fields"]) == {"summary", "labels"}
    assert client.get("/rest/api/3/issue/INCIDENT-99", auth=JIRA_AUTH).status_code == 404


def test_jira_transitions_by_name(client: httpx.Client, server: SandboxServer) -> None:
    create_issue(client)
    names = [
        t["name"]
        for t in client.get("/rest/api/3/issue/INCIDENT-1/transitions", auth=JIRA_AUTH).json()[
            "transitions"
        ]
    ]
    assert names == ["FIXING", "CANCELED"]
    r = client.post(
        "/rest/api/3/issue/INCIDENT-1/transitions",
        json={"transition": {"id": "31"}},
        auth=JIRA_AUTH,
    )
    assert r.status_code == 400
    assert r.json()["errorMessages"] == ["Transition id '31' is not valid for this issue."]
    assert transition(client, "INCIDENT-1", "FIXING").status_code == 204
    issue = client.get("/rest/api/3/issue/INCIDENT-1", auth=JIRA_AUTH).json()["fields"]
    assert issue["status"]["name"] == "Fixing"
    assert issue["assignee"]["emailAddress"] == JIRA_AUTH[0]  # whoever marks FIXING owns it
    assert transition(client, "INCIDENT-1", "MONITORING").status_code == 204
    assert transition(client, "INCIDENT-1", "RESOLVED").status_code == 204
    issue = client.get("/rest/api/3/issue/INCIDENT-1", auth=JIRA_AUTH).json()["fields"]
    assert issue["status"]["statusCategory"]["key"] == "done"
    assert issue["resolution"]["name"] == "Done" and issue["resolutiondate"]
    create_issue(client)
    assert transition(client, "INCIDENT-2", "CANCELED").status_code == 204
    history = server.state.snapshot()["jira"]["issues"]["INCIDENT-2"]["history"]
    assert [(h["from"], h["to"]) for h in history] == [("Pending", "Canceled")]


def test_jira_transition_with_comment_update(client: httpx.Client) -> None:
    create_issue(client)
    listed = client.get("/rest/api/3/issue/INCIDENT-1/transitions", auth=JIRA_AUTH).json()
    fixing = next(t["id"] for t in listed["transitions"] if t["name"] == "FIXING")
    body = {"transition": {"id": fixing}, "update": {"comment": [{"add": {"body": ADF}}]}}
    assert (
        client.post(
            "/rest/api/3/issue/INCIDENT-1/transitions", json=body, auth=JIRA_AUTH
        ).status_code
        == 204
    )
    comments = client.get("/rest/api/3/issue/INCIDENT-1/comment", auth=JIRA_AUTH).json()
    assert comments["total"] == 1


def test_jira_search_jql_subset(client: httpx.Client, raw: httpx.Client) -> None:
    create_issue(client)
    create_issue(client, labels=["other"])
    create_issue(client, project={"key": "BUG"}, issuetype={"name": "Bug"}, labels=["cockpit"])
    found = client.get(
        "/rest/api/3/search/jql",
        params={"jql": 'project = INCIDENT AND labels = "cockpit"'},
        auth=JIRA_AUTH,
    ).json()
    assert found["issues"] == [{"id": "10000"}] and found["isLast"] is True
    with_fields = client.get(
        "/rest/api/3/search/jql",
        params={
            "jql": "project = INCIDENT ORDER BY created DESC",
            "fields": "summary,status",
            "maxResults": 1,
        },
        auth=JIRA_AUTH,
    ).json()
    assert [i["key"] for i in with_fields["issues"]] == ["INCIDENT-2"]
    assert with_fields["isLast"] is False
    second = client.get(
        "/rest/api/3/search/jql",
        params={
            "jql": "project = INCIDENT ORDER BY created DESC",
            "fields": "summary",
            "maxResults": 1,
            "nextPageToken": with_fields["nextPageToken"],
        },
        auth=JIRA_AUTH,
    ).json()
    assert [i["key"] for i in second["issues"]] == ["INCIDENT-1"] and second["isLast"] is True
    posted = client.post(
        "/rest/api/3/search/jql",
        json={"jql": "labels in (cockpit, other) AND status != Resolved", "fields": ["key"]},
        auth=JIRA_AUTH,
    ).json()
    assert sorted(i["key"] for i in posted["issues"]) == ["BUG-1", "INCIDENT-1", "INCIDENT-2"]
    mine = client.post(
        "/rest/api/3/search/jql",
        json={
            "jql": "reporter = currentUser() AND (project = BUG OR labels = other)",
            "fields": ["key"],
        },
        auth=JIRA_AUTH,
    ).json()
    assert sorted(i["key"] for i in mine["issues"]) == ["BUG-1", "INCIDENT-2"]
    for jql, message in (
        ("order by created", "Unbounded JQL"),
        ("flavour = mint", "Field 'flavour' does not exist"),
        ("project = ", "Error in the JQL Query"),
    ):
        r = raw.get("/rest/api/3/search/jql", params={"jql": jql}, auth=JIRA_AUTH)
        assert r.status_code == 400 and message in r.json()["errorMessages"][0], (jql, r.text)


def test_jira_comments(client: httpx.Client) -> None:
    create_issue(client)
    r = client.post("/rest/api/3/issue/INCIDENT-1/comment", json={"body": ADF}, auth=JIRA_AUTH)
    assert r.status_code == 201 and r.json()["author"]["emailAddress"] == JIRA_AUTH[0]
    page = client.get("/rest/api/3/issue/INCIDENT-1/comment", auth=JIRA_AUTH).json()
    assert page["total"] == 1 and page["comments"][0]["body"] == ADF


def test_jira_remote_link_upserts_by_global_id(client: httpx.Client, raw: httpx.Client) -> None:
    create_issue(client)
    link: dict[str, Any] = {
        "globalId": "slack:C0SBXINCIDNT:1700000000.000100",
        "object": {
            "url": "https://drill-range.slack.com/archives/C0SBXINCIDNT/p1700000000000100",
            "title": "Report",
        },
    }
    first = client.post("/rest/api/3/issue/INCIDENT-1/remotelink", json=link, auth=JIRA_AUTH)
    assert first.status_code == 201
    link["object"]["title"] = "Report in #incidents"
    second = client.post("/rest/api/3/issue/INCIDENT-1/remotelink", json=link, auth=JIRA_AUTH)
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    one = client.get(
        "/rest/api/3/issue/INCIDENT-1/remotelink",
        params={"globalId": link["globalId"]},
        auth=JIRA_AUTH,
    ).json()
    assert one["object"]["title"] == "Report in #incidents"
    # Without globalId Jira answers a list (the spec's single-object schema is wrong).
    listed = raw.get("/rest/api/3/issue/INCIDENT-1/remotelink", auth=JIRA_AUTH).json()
    assert len(listed) == 1
    bad = raw.post("/rest/api/3/issue/INCIDENT-1/remotelink", json={"object": {}}, auth=JIRA_AUTH)
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"url", "title"}


def test_jira_issue_links_show_on_both_issues(client: httpx.Client, raw: httpx.Client) -> None:
    create_issue(client)
    create_issue(
        client, project={"key": "BUG"}, issuetype={"name": "Bug"}, summary="Retry card auth"
    )
    body = {
        "type": {"name": "Relates"},
        "inwardIssue": {"key": "INCIDENT-1"},
        "outwardIssue": {"key": "BUG-1"},
    }
    r = client.post("/rest/api/3/issueLink", json=body, auth=JIRA_AUTH)
    assert r.status_code == 201 and r.content == b""
    incident = client.get("/rest/api/3/issue/INCIDENT-1", auth=JIRA_AUTH).json()["fields"]
    bug = client.get("/rest/api/3/issue/BUG-1", auth=JIRA_AUTH).json()["fields"]
    assert incident["issuelinks"][0]["outwardIssue"]["key"] == "BUG-1"
    assert bug["issuelinks"][0]["inwardIssue"]["key"] == "INCIDENT-1"
    bad = raw.post("/rest/api/3/issueLink", json={**body, "type": {"name": "Nope"}}, auth=JIRA_AUTH)
    assert bad.status_code == 404


def test_jira_labels_assignee_and_properties(client: httpx.Client, raw: httpx.Client) -> None:
    create_issue(client)
    r = client.put(
        "/rest/api/3/issue/INCIDENT-1",
        json={"update": {"labels": [{"add": "payments"}, {"remove": "sev-critical"}]}},
        auth=JIRA_AUTH,
    )
    assert r.status_code == 204
    r = client.put(
        "/rest/api/3/issue/INCIDENT-1",
        json={"fields": {"labels": ["cockpit", "postmortem"]}},
        auth=JIRA_AUTH,
    )
    assert r.status_code == 204
    labels = client.get(
        "/rest/api/3/issue/INCIDENT-1", params={"fields": "labels"}, auth=JIRA_AUTH
    ).json()
    assert labels["fields"]["labels"] == ["cockpit", "postmortem"]
    bad = raw.put(
        "/rest/api/3/issue/INCIDENT-1", json={"fields": {"labels": ["two words"]}}, auth=JIRA_AUTH
    )
    assert bad.status_code == 400 and "labels" in bad.json()["errors"]

    benji = client.get("/rest/api/3/myself", auth=("benji@drill-range.example", "t")).json()
    r = client.put(
        "/rest/api/3/issue/INCIDENT-1/assignee",
        json={"accountId": benji["accountId"]},
        auth=JIRA_AUTH,
    )
    assert r.status_code == 204
    fields = client.get(
        "/rest/api/3/issue/INCIDENT-1", params={"fields": "assignee"}, auth=JIRA_AUTH
    ).json()
    assert fields["fields"]["assignee"]["accountId"] == benji["accountId"]
    assert (
        raw.put(
            "/rest/api/3/issue/INCIDENT-1/assignee", json={"accountId": "nobody"}, auth=JIRA_AUTH
        ).status_code
        == 400
    )
    # Jira documents `accountId: null` as "unassign"; the spec's User schema forgets null.
    assert (
        raw.put(
            "/rest/api/3/issue/INCIDENT-1/assignee", json={"accountId": None}, auth=JIRA_AUTH
        ).status_code
        == 204
    )

    prop = "/rest/api/3/issue/INCIDENT-1/properties/cockpit.incident"
    assert (
        client.put(prop, json={"id": "INC-1", "severity": "critical"}, auth=JIRA_AUTH).status_code
        == 201
    )
    assert (
        client.put(prop, json={"id": "INC-1", "severity": "major"}, auth=JIRA_AUTH).status_code
        == 200
    )
    got = client.get(prop, auth=JIRA_AUTH).json()
    assert got == {"key": "cockpit.incident", "value": {"id": "INC-1", "severity": "major"}}
    assert client.get(prop + "-missing", auth=JIRA_AUTH).status_code == 404


# -- Statuspage ----------------------------------------------------------------------------------
SP = f"/v1/pages/{PAGE_ID}"


def test_statuspage_requires_oauth(raw: httpx.Client) -> None:
    assert raw.get(SP).status_code == 401
    assert raw.get(SP, headers={"Authorization": "Bearer k"}).status_code == 401
    assert raw.get(SP, headers=STATUSPAGE).status_code == 200
    assert raw.get("/v1/pages/nosuchpage0/incidents", headers=STATUSPAGE).status_code == 404


def test_statuspage_page_and_components(client: httpx.Client) -> None:
    assert client.get(SP, headers=STATUSPAGE).json()["id"] == PAGE_ID
    comps = client.get(f"{SP}/components", headers=STATUSPAGE).json()
    assert [c["name"] for c in comps] == ["Website", "API", "Payments", "Search"]
    assert {c["status"] for c in comps} == {"operational"}


def test_statuspage_incident_lifecycle(client: httpx.Client, server: SandboxServer) -> None:
    created = client.post(
        f"{SP}/incidents",
        headers=STATUSPAGE,
        json={
            "incident": {
                "name": "Card payments failing",
                "status": "investigating",
                "body": "We are investigating failing card payments.",
                "components": {PAYMENTS: "major_outage"},
                "component_ids": [PAYMENTS],
                "metadata": {"cockpit": {"incident": "INC-1"}},
            }
        },
    )
    assert created.status_code == 201
    incident = created.json()
    iid = incident["id"]
    assert (
        incident["impact"] == "critical" and incident["components"][0]["status"] == "major_outage"
    )
    steps = [
        ("identified", "The card processor is timing out.", {PAYMENTS: "partial_outage"}),
        ("monitoring", "A fix is in place; we are watching.", {PAYMENTS: "degraded_performance"}),
        ("resolved", "Card payments work again.", {PAYMENTS: "operational"}),
    ]
    for status, body, comps in steps:
        r = client.patch(
            f"{SP}/incidents/{iid}",
            headers=STATUSPAGE,
            json={"incident": {"status": status, "body": body, "components": comps}},
        )
        assert r.status_code == 200 and r.json()["status"] == status
    final = client.get(f"{SP}/incidents/{iid}", headers=STATUSPAGE).json()
    assert final["resolved_at"] and final["monitoring_at"]
    updates = final["incident_updates"]
    assert [u["status"] for u in updates] == [
        "resolved",
        "monitoring",
        "identified",
        "investigating",
    ]
    assert updates[0]["affected_components"] == [
        {
            "code": PAYMENTS,
            "name": "Payments",
            "old_status": "degraded_performance",
            "new_status": "operational",
        }
    ]
    comps = {
        c["name"]: c["status"] for c in client.get(f"{SP}/components", headers=STATUSPAGE).json()
    }
    assert comps["Payments"] == "operational"
    put = client.put(
        f"{SP}/incidents/{iid}",
        headers=STATUSPAGE,
        json={"incident": {"name": "Card payments failed"}},
    )
    assert put.json()["name"] == "Card payments failed"
    snap = server.state.snapshot()["statuspage"]
    assert snap["incidents"][0]["incident_updates"][0]["body"] == "Card payments work again."


def test_statuspage_search_and_errors(client: httpx.Client, raw: httpx.Client) -> None:
    for name in ("Card payments failing", "Search is slow"):
        client.post(f"{SP}/incidents", headers=STATUSPAGE, json={"incident": {"name": name}})
    found = client.get(f"{SP}/incidents", params={"q": "payments"}, headers=STATUSPAGE).json()
    assert [i["name"] for i in found] == ["Card payments failing"]
    assert len(client.get(f"{SP}/incidents", headers=STATUSPAGE).json()) == 2
    iid = found[0]["id"]
    bad = raw.patch(
        f"{SP}/incidents/{iid}", headers=STATUSPAGE, json={"incident": {"status": "fixed"}}
    )
    assert bad.status_code == 422 and "message" in bad.json()
    bad = raw.post(
        f"{SP}/incidents",
        headers=STATUSPAGE,
        json={"incident": {"name": "x", "components": {"nope": "major_outage"}}},
    )
    assert bad.status_code == 422
    assert raw.get(f"{SP}/incidents/doesnotexist", headers=STATUSPAGE).status_code == 404


# -- inspection ---------------------------------------------------------------------------------
def test_inspection_endpoint_dumps_everything(
    client: httpx.Client, raw: httpx.Client, server: SandboxServer
) -> None:
    parent = slack(client, "chat.postMessage", channel=INCIDENTS, text="report")
    slack(client, "chat.postMessage", channel=INCIDENTS, text="reply", thread_ts=parent["ts"])
    create_issue(client)
    client.post("/rest/api/3/issue/INCIDENT-1/comment", json={"body": ADF}, auth=JIRA_AUTH)
    client.put("/rest/api/3/issue/INCIDENT-1/properties/k", json={"v": 1}, auth=JIRA_AUTH)
    client.post(
        f"{SP}/incidents",
        headers=STATUSPAGE,
        json={"incident": {"name": "Payments", "body": "Investigating"}},
    )
    r = raw.get("/_sandbox/state")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    state = r.json()
    assert state == json.loads(json.dumps(server.state.snapshot()))
    incidents = state["slack"]["channels"]["incidents"]
    assert [m["text"] for m in incidents["messages"]] == ["report"]
    assert [m["text"] for m in incidents["messages"][0]["replies"]] == ["reply"]
    issue = state["jira"]["issues"]["INCIDENT-1"]
    assert issue["status"] == "Pending" and issue["labels"] == ["cockpit", "sev-critical"]
    assert issue["comments"][0]["body"] == ADF and issue["properties"] == {"k": {"v": 1}}
    sp = state["statuspage"]["incidents"][0]
    assert sp["incident_updates"][0]["body"] == "Investigating"
    assert state["requests"]["slack:chat.postMessage"] == 2
    assert raw.post("/_sandbox/state").status_code == 405


def test_sandbox_is_stdlib_only_and_never_imports_textual() -> None:
    code = (
        "import sys\n"
        "import cockpit.sandbox.server, cockpit.sandbox.scenarios\n"
        "from cockpit.sandbox import SandboxServer\n"
        "tops = {m.split('.')[0] for m in sys.modules}\n"
        "print(','.join(sorted(t for t in tops if t not in sys.stdlib_module_names "
        "and not t.startswith('_'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "cockpit"


def test_concurrent_clients_lose_nothing(server: SandboxServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def worker(n: int) -> list[str]:
        with httpx.Client(base_url=server.base_url, timeout=10) as c:
            return [
                c.post(
                    "/api/chat.postMessage",
                    json={"channel": INCIDENTS, "text": f"w{n}-{i}"},
                    headers=SLACK_BOT,
                ).json()["ts"]
                for i in range(40)
            ]

    with ThreadPoolExecutor(8) as pool:
        stamps = [ts for batch in pool.map(worker, range(8)) for ts in batch]
    assert len(set(stamps)) == 320
    snap = server.state.snapshot()
    messages = snap["slack"]["channels"]["incidents"]["messages"]
    assert [m["ts"] for m in messages] == sorted(stamps)
    messages.clear()  # a snapshot is a copy
    assert server.state.snapshot()["slack"]["channels"]["incidents"]["message_count"] == 320

"""Injected faults: before or after the effect, deterministic with a seed, always recorded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cockpit.sandbox.faults import FaultInjector, Limit, RateLimiter
from cockpit.sandbox.server import SandboxError, SandboxServer
from cockpit.sandbox.state import PAGE_ID
from tests import spec_check
from tests.integration.test_sandbox_support import ADF, JIRA_AUTH, SLACK_BOT, STATUSPAGE, slack

INCIDENTS = "C0SBXINCIDNT"
DELAY = 0.4  # the held-back response of a timeout fault
CLIENT_TIMEOUT = 0.15


def attempt(client: httpx.Client, text: str) -> tuple[str, Any]:
    """Post one message and say what the client saw."""
    try:
        r = client.post(
            "/api/chat.postMessage", json={"channel": INCIDENTS, "text": text}, headers=SLACK_BOT
        )
    except httpx.TimeoutException:
        return "timeout", None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
        return "drop", None
    if r.status_code == 429:
        return "ratelimit", r
    if r.status_code >= 500:
        return "server_error", r
    return "ok", r


def texts(server: SandboxServer) -> list[str]:
    return [
        m["text"] for m in server.state.snapshot()["slack"]["channels"]["incidents"]["messages"]
    ]


@pytest.fixture
def faulty() -> Iterator[SandboxServer]:
    with SandboxServer(
        scenario=None, faults=1.0, seed=14, fault_delay=DELAY, rate_limits={"t5": 0}
    ) as srv:
        yield srv


def test_every_fault_kind_before_and_after_the_effect(faulty: SandboxServer) -> None:
    seen: set[tuple[str, str]] = set()
    with httpx.Client(base_url=faulty.base_url, timeout=CLIENT_TIMEOUT) as client:
        for i in range(10):  # seed 14 meets all seven kinds of fault in these ten
            kind, response = attempt(client, f"msg-{i}")
            fault = faulty.state.snapshot()["faults_injected"][i]
            assert fault["n"] == i + 1 and fault["path"] == "/api/chat.postMessage"
            assert kind == fault["kind"], (i, fault)
            seen.add((fault["kind"], fault["when"]))
            if kind == "ratelimit":
                assert response.headers["Retry-After"] == "1"
                assert response.json() == {"ok": False, "error": "ratelimited"}
            if kind == "server_error":
                assert response.status_code == fault["status"] in (500, 502)
                assert response.headers["content-type"] == "text/html"
                assert f"<title>{fault['status']} " in response.text
            if fault["kind"] == "timeout":
                # the late response (or the drop) must be over before the next request
                faulty._stopping.wait(DELAY + 0.05)
            applied = f"msg-{i}" in texts(faulty)
            assert applied == (fault["when"] == "after"), fault
    # a rate limit refuses before anything is done: never after the effect
    assert seen == {("ratelimit", "before")} | {
        (k, w) for k in ("server_error", "timeout", "drop") for w in ("before", "after")
    }


def test_the_same_seed_injects_the_same_faults() -> None:
    def run(seed: int) -> list[tuple[str, str, Any]]:
        with (
            SandboxServer(
                scenario=None, faults=0.5, seed=seed, fault_kinds=["ratelimit", "server_error"]
            ) as srv,
            httpx.Client(base_url=srv.base_url, timeout=5) as client,
        ):
            for i in range(30):
                attempt(client, f"m{i}")
            return [(f["kind"], f["when"], f["status"]) for f in srv.state.faults_injected]

    first, again, other = run(42), run(42), run(43)
    assert first == again and 5 < len(first) < 25
    assert first != other


def test_forced_fault_after_the_effect_on_jira_and_statuspage() -> None:
    with SandboxServer(scenario=None) as srv, httpx.Client(base_url=srv.base_url, timeout=5) as c:
        srv.faults.force("server_error", "after", status=502)
        body = {
            "fields": {
                "project": {"key": "INCIDENT"},
                "issuetype": {"name": "Task"},
                "summary": "Card payments fail",
                "description": ADF,
                "priority": {"name": "High"},  # INCIDENT requires these (jira_site.py)
                "customfield_10042": {"value": "Major"},
            }
        }
        r = c.post("/rest/api/3/issue", json=body, auth=JIRA_AUTH)
        assert r.status_code == 502 and "Bad Gateway" in r.text
        assert list(srv.state.snapshot()["jira"]["issues"]) == ["INCIDENT-1"]  # it happened

        srv.faults.force("ratelimit", "before")
        r = c.post(
            f"/v1/pages/{PAGE_ID}/incidents", json={"incident": {"name": "x"}}, headers=STATUSPAGE
        )
        assert r.status_code == 429 and r.headers["Retry-After"] == "1"
        assert srv.state.snapshot()["statuspage"]["incidents"] == []  # it did not
        spec_check.check_statuspage(r.request, None)

        srv.faults.force("ratelimit", "before")
        r = c.get("/rest/api/3/myself", auth=JIRA_AUTH)
        assert r.status_code == 429 and r.json()["errorMessages"] == ["Rate limit exceeded."]
        faults = srv.state.snapshot()["faults_injected"]
        assert [(f["service"], f["kind"], f["when"]) for f in faults] == [
            ("jira", "server_error", "after"),
            ("statuspage", "ratelimit", "before"),
            ("jira", "ratelimit", "before"),
        ]


def test_the_inspection_endpoint_is_never_faulted(faulty: SandboxServer) -> None:
    with httpx.Client(base_url=faulty.base_url, timeout=CLIENT_TIMEOUT) as client:
        for _ in range(20):
            assert client.get("/_sandbox/state").status_code == 200
    assert faulty.state.snapshot()["faults_injected"] == []


def test_no_faults_by_default() -> None:
    with (
        SandboxServer(scenario=None, lenient=True) as srv,  # 20 posts at once: no rate limit
        httpx.Client(base_url=srv.base_url) as client,
    ):
        for i in range(20):
            assert slack(client, "chat.postMessage", channel=INCIDENTS, text=f"m{i}")["ok"]
        assert srv.state.faults_injected == []


def test_fault_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="fault kinds"):
        FaultInjector(0.1, kinds=["meteor"])
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultInjector(1.5)
    with pytest.raises(SandboxError, match="fault kinds"):
        SandboxServer(scenario=None, faults=0.1, fault_kinds=[])


def test_rate_limiter_window_and_retry_after() -> None:
    now = [1000.0]
    limiter = RateLimiter({"t3": 2, "chat.postMessage": 0}, clock=lambda: now[0])
    assert limiter.hit("conversations.history", "t3") is None
    now[0] += 10
    assert limiter.hit("conversations.history", "t3") is None
    assert limiter.hit("conversations.history", "t3") == 50  # the first hit leaves at 1060
    assert limiter.hit("conversations.replies", "t3") is None  # counted per method
    assert all(limiter.hit("chat.postMessage", "t5") is None for _ in range(5000))  # 0 = off
    now[0] += 50
    assert limiter.hit("conversations.history", "t3") is None


def test_jira_and_statuspage_are_limited_only_when_asked() -> None:
    with (
        SandboxServer(scenario=None, rate_limits={"statuspage": 2}) as srv,
        httpx.Client(base_url=srv.base_url, timeout=5) as client,
    ):
        page = f"/v1/pages/{PAGE_ID}"
        assert [client.get(page, headers=STATUSPAGE).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]
        r = client.get(page, headers=STATUSPAGE)
        assert r.json() == {"message": "Rate limit exceeded"} and int(r.headers["Retry-After"]) >= 1
        assert all(
            client.get("/rest/api/3/myself", auth=JIRA_AUTH).status_code == 200 for _ in range(30)
        )
        assert srv.state.snapshot()["requests"][f"statuspage:GET {page}"] == 4


def test_forced_faults_over_the_wire_target_routes() -> None:
    """The kinds tests force, as a client on a socket sees them (the same dispatch as in
    process, see test_sandbox_transport.py)."""
    with (
        SandboxServer(scenario=None, fault_delay=30) as srv,
        httpx.Client(base_url=srv.base_url, timeout=CLIENT_TIMEOUT) as client,
    ):
        force = srv.faults.force
        force("connect", on="chat.postMessage")  # a socket is open by then: no answer
        assert attempt(client, "never")[0] == "drop"
        force("status", "after", status=503, on="chat.postMessage")
        r = attempt(client, "m1")[1]
        assert r.status_code == 503 and r.json() == {"ok": False, "error": "internal_error"}
        force("slack_error", on="chat.postMessage", error="is_archived")
        r = attempt(client, "never")[1]
        assert r.status_code == 200 and r.json() == {"ok": False, "error": "is_archived"}
        spec_check.check_slack(r.request, r)  # a well-formed answer, unlike the others
        force("truncated", "after", on="chat.postMessage")
        r = attempt(client, "m2")[1]
        with pytest.raises(ValueError):
            r.json()
        assert r.content.startswith(b'{"ok": true') and texts(srv) == ["m1", "m2"]
        force("huge", on="conversations.history", size=100_000)
        r = client.get(
            "/api/conversations.history", params={"channel": INCIDENTS}, headers=SLACK_BOT
        )
        assert len(r.content) == 100_000
        force("slow", on="chat.postMessage", seconds=0.3)
        started = time.monotonic()
        with httpx.Client(base_url=srv.base_url, timeout=5) as patient:
            assert attempt(patient, "m3")[0] == "ok"
        assert time.monotonic() - started >= 0.3
        force("timeout", on="chat.postMessage", seconds=0.3)  # held less than the delay
        assert attempt(client, "never")[0] == "timeout"
        srv._stopping.wait(0.35)
        assert texts(srv) == ["m1", "m2", "m3"]
        kinds = [(f["kind"], f["when"]) for f in srv.state.snapshot()["faults_injected"]]
        assert kinds == [
            ("connect", "before"),
            ("status", "after"),
            ("slack_error", "before"),
            ("truncated", "after"),
            ("huge", "before"),
            ("slow", "before"),
            ("timeout", "before"),
        ]


def test_forced_fault_settings_are_checked() -> None:
    faults = FaultInjector()
    with pytest.raises(ValueError, match="unknown fault"):
        faults.force("meteor")
    with pytest.raises(ValueError, match="times"):
        faults.force("drop", times=0)
    with pytest.raises(ValueError, match="never has an effect"):
        faults.force("connect", "after")
    with pytest.raises(ValueError, match="error code"):
        faults.force("slack_error")
    with pytest.raises(ValueError, match="pause"):
        faults.force("slow")
    assert faults.pending() == []
    assert faults.force("slow", "after", seconds=1).when == "before"  # a pause comes first
    assert faults.decide("jira:GET /rest/api/3/myself") is not None  # no `on`: any route
    assert faults.decide("jira:GET /rest/api/3/myself") is None


def test_a_limit_per_window_and_statuspage_420() -> None:
    now = [1000.0]
    limiter = RateLimiter(
        {"statuspage": Limit(1, per=1.0, status=420), "jira": Limit(2, per=10.0)},
        clock=lambda: now[0],
    )
    assert limiter.hit("statuspage") is None
    assert limiter.hit("statuspage") == 1
    refusal = limiter.refusal("statuspage", "statuspage", 1)
    assert refusal.status == 420 and ("Retry-After", "1") not in refusal.headers
    now[0] += 1.0
    assert limiter.hit("statuspage") is None  # a second later: fine
    assert limiter.hit("jira") is None and limiter.hit("jira") is None
    assert limiter.hit("jira") == 10
    refusal = limiter.refusal("jira", "jira", 10)
    assert refusal.status == 429 and ("Retry-After", "10") in refusal.headers
    assert limiter.hit("slack-anything", "t5") is None  # Slack's tiers by default
    with (
        SandboxServer(scenario=None, rate_limits=limiter) as srv,
        httpx.Client(base_url=srv.base_url, timeout=5) as c,
    ):
        page = f"/v1/pages/{PAGE_ID}"  # a window per API key
        assert c.get(page, headers=STATUSPAGE).status_code == 200
        assert c.get(page, headers=STATUSPAGE).status_code == 420
        other = {"Authorization": "OAuth drill-range-statuspage-key-2"}
        srv.state.tokens.add_statuspage("drill-range-statuspage-key-2")
        assert c.get(page, headers=other).status_code == 200  # its own window
        now[0] += 1.0
        assert c.get(page, headers=STATUSPAGE).status_code == 200

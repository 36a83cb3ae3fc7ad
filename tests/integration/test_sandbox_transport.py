"""The drill range in process (cockpit/sandbox/transport.py): the same dispatch as the
loopback server (routing, counts, faults, the inspection endpoint), delivered without a
socket, to async and sync httpx clients."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cockpit.sandbox.dispatch import IN_PROCESS_URL, MAX_BODY
from cockpit.sandbox.faults import Fault
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.state import PAGE_ID
from cockpit.sandbox.transport import FAULT_EXTENSION
from tests.integration.test_sandbox_support import (
    ADF,
    JIRA_AUTH,
    SLACK_BOT,
    STATUSPAGE,
    check_exchange,
)

INCIDENTS = "C0SBXINCIDNT"
POST = "/api/chat.postMessage"


def texts(server: SandboxServer) -> list[str]:
    return [
        m["text"] for m in server.state.snapshot()["slack"]["channels"]["incidents"]["messages"]
    ]


@pytest.fixture
def server() -> SandboxServer:
    return SandboxServer(scenario=None, lenient=True)  # many posts at once: no rate limit


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    """A sync client in process, every exchange checked against the specs."""
    with httpx.Client(
        base_url=IN_PROCESS_URL,
        transport=server.transport(),
        event_hooks={"response": [check_exchange]},
    ) as c:
        yield c


def post(client: httpx.Client, text: str) -> httpx.Response:
    return client.post(POST, json={"channel": INCIDENTS, "text": text}, headers=SLACK_BOT)


# -- one dispatch --------------------------------------------------------------------------------
def test_the_server_and_the_transport_share_state_counts_and_faults(server: SandboxServer):
    with server:  # started: the same drill range over loopback too
        assert server.base_url.startswith("http://127.0.0.1:")
        with (
            httpx.Client(base_url=server.base_url, timeout=5) as wire,
            httpx.Client(base_url=IN_PROCESS_URL, transport=server.transport()) as local,
        ):
            assert post(wire, "over the wire").json()["ok"]
            assert post(local, "in process").json()["ok"]
            server.faults.force("ratelimit", on="chat.postMessage", times=2, retry_after=7)
            for c in (wire, local):
                r = post(c, "refused")
                assert r.status_code == 429 and r.headers["Retry-After"] == "7"
                assert r.json() == {"ok": False, "error": "ratelimited"}
            assert texts(server) == ["over the wire", "in process"]
            for c in (wire, local):  # the inspection endpoint: never faulted, read-only
                server.faults.force("drop")
                snap = c.get("/_sandbox/state").json()
                assert snap["requests"]["slack:chat.postMessage"] == 4
                assert [f["kind"] for f in snap["faults_injected"]] == ["ratelimit"] * 2
                assert c.post("/_sandbox/state").status_code == 405
                server.faults.clear()
            assert wire.get("/nowhere").status_code == local.get("/nowhere").status_code == 404
    # the base URL the server had stays in the state (Jira's links)
    assert server.state.base_url.startswith("http://127.0.0.1:")


def test_the_transport_needs_no_started_server(server: SandboxServer, client: httpx.Client):
    assert server.base_url == IN_PROCESS_URL  # for settings(), Jira's links, the snapshot
    assert server.settings()["slack"] == {"api_url": f"{IN_PROCESS_URL}/api"}
    assert post(client, "hello").json()["ok"] is True
    r = client.post("/rest/api/3/issue", json=_issue(), auth=JIRA_AUTH)
    assert r.status_code == 201 and r.json()["self"].startswith(f"{IN_PROCESS_URL}/rest/api/3/")
    r = client.get(f"/v1/pages/{PAGE_ID}/components", headers=STATUSPAGE)
    assert [c["name"] for c in r.json()] == ["Website", "API", "Payments", "Search"]
    assert server.socket is not None and server.socket.port == 0  # nothing listens
    assert texts(server) == ["hello"]


def test_paths_and_queries_reach_the_apis_as_sent(server: SandboxServer, client: httpx.Client):
    client.post("/rest/api/3/issue", json=_issue(), auth=JIRA_AUTH)
    prop = "/rest/api/3/issue/INCIDENT-1/properties/cockpit%2Estate"
    assert client.put(prop, json={"v": 1}, auth=JIRA_AUTH).status_code == 201
    assert client.get(prop, auth=JIRA_AUTH).json() == {"key": "cockpit.state", "value": {"v": 1}}
    assert server.state.requests[f"jira:GET {prop}"] == 1  # counted by the path as sent
    got = client.get(
        "/api/conversations.history", params={"channel": INCIDENTS, "limit": 1}, headers=SLACK_BOT
    )
    assert got.json()["ok"] is True


def test_a_request_too_large_is_refused_unseen(server: SandboxServer):
    with httpx.Client(base_url=IN_PROCESS_URL, transport=server.transport()) as c:
        r = c.post(POST, content=b"x" * (MAX_BODY + 1), headers=SLACK_BOT)
    assert r.status_code == 413 and r.headers["Connection"] == "close"
    assert server.state.requests == {}


# -- faults, as a client without a network sees them ---------------------------------------------
@pytest.mark.parametrize(
    ("kind", "when", "error"),
    [
        ("connect", "before", httpx.ConnectError),
        ("timeout", "before", httpx.ReadTimeout),
        ("timeout", "after", httpx.ReadTimeout),
        ("drop", "before", httpx.RemoteProtocolError),
        ("drop", "after", httpx.RemoteProtocolError),
    ],
)
def test_no_answer_is_raised_as_httpx_would(
    server: SandboxServer, kind: str, when: str, error: type[Exception]
):
    server.faults.force(kind, when, on="chat.postMessage")
    with (
        httpx.Client(base_url=IN_PROCESS_URL, transport=server.transport()) as c,
        pytest.raises(error),
    ):
        post(c, "lost")
    assert texts(server) == (["lost"] if when == "after" else [])
    (fault,) = server.state.snapshot()["faults_injected"]
    assert (fault["kind"], fault["when"], fault["path"]) == (kind, when, POST)


@pytest.mark.parametrize("when", ["before", "after"])
def test_answers_broken_on_purpose(server: SandboxServer, when: str):
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"kind": "server_error", "status": 503}, 503, "text/html"),
        ({"kind": "status", "status": 500}, 500, "application/json"),
        ({"kind": "truncated"}, 200, "application/json"),
        ({"kind": "huge", "size": 4096}, 200, "application/json"),
        ({"kind": "slack_error", "error": "is_archived"}, 200, "application/json"),
    ]
    with httpx.Client(base_url=IN_PROCESS_URL, transport=server.transport()) as c:
        for i, (force, status, ctype) in enumerate(cases):
            server.faults.force(when=when, on="chat.postMessage", **force)
            r = post(c, f"m{i}")
            fault = r.extensions[FAULT_EXTENSION]
            assert isinstance(fault, Fault) and fault.kind == force["kind"]
            assert fault.off_spec is (force["kind"] != "slack_error")
            assert r.status_code == status and r.headers["content-type"].startswith(ctype)
            if force["kind"] == "status":
                assert r.json() == {"ok": False, "error": "internal_error"}
            if force["kind"] == "truncated":
                with pytest.raises(ValueError):
                    r.json()
            if force["kind"] == "huge":
                assert len(r.content) == 4096 and r.json()["ok"] is True
            if force["kind"] == "slack_error":
                assert r.json() == {"ok": False, "error": "is_archived"}
        ok = post(c, "fine")
        assert FAULT_EXTENSION not in ok.extensions and ok.json()["ok"] is True
    applied = [f"m{i}" for i in range(len(cases))] if when == "after" else []
    assert texts(server) == [*applied, "fine"]


async def test_a_slow_answer_can_be_given_up_before_it_is_handled(server: SandboxServer):
    server.faults.force("slow", on="chat.postMessage", seconds=5)
    async with httpx.AsyncClient(base_url=IN_PROCESS_URL, transport=server.transport()) as c:
        body = {"channel": INCIDENTS, "text": "slow"}
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await c.post(POST, json=body, headers=SLACK_BOT)
        assert texts(server) == []  # given up during the pause: never handled
        server.faults.force("slow", on="chat.postMessage", seconds=0.01)
        r = await c.post(POST, json=body, headers=SLACK_BOT)
        assert r.json()["ok"] is True and texts(server) == ["slow"]


def test_forced_faults_go_to_matching_routes_in_order(server: SandboxServer, client: httpx.Client):
    faults = server.faults
    faults.force("status", status=503, on="jira:POST /rest/api/3/issue")  # full route
    faults.force("ratelimit", on="GET /v1/pages/*/incidents", retry_after=9)  # service-less
    faults.force("server_error", status=500, on="chat.*", times=2)
    faults.force("status", status=504, on="chat.postMessage")
    assert [(f.kind, on, n) for f, on, n in faults.pending()][2] == ("server_error", "chat.*", 2)
    assert client.get(f"/v1/pages/{PAGE_ID}", headers=STATUSPAGE).status_code == 200
    assert client.post("/rest/api/3/issue", json=_issue(), auth=JIRA_AUTH).status_code == 503
    assert client.post("/rest/api/3/issue", json=_issue(), auth=JIRA_AUTH).status_code == 201
    r = client.get(f"/v1/pages/{PAGE_ID}/incidents", headers=STATUSPAGE)
    assert r.status_code == 429 and r.headers["Retry-After"] == "9"
    assert [post(client, f"m{i}").status_code for i in range(4)] == [500, 500, 504, 200]
    assert faults.pending() == [] and texts(server) == ["m3"]
    assert len(server.state.faults_injected) == 5


def _issue() -> dict[str, Any]:
    return {
        "fields": {
            "project": {"key": "INCIDENT"},
            "issuetype": {"name": "Task"},
            "summary": "Card payments fail",
            "description": ADF,
            "priority": {"name": "High"},  # INCIDENT requires these (jira_site.py)
            "customfield_10042": {"value": "Major"},
        }
    }

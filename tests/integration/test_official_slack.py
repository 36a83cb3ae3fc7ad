"""Slack's official Python client, slack_sdk, against the drill range on a real loopback
server: the Web API calls an incident makes (WebClient, `base_url` pointed at the range) and
Socket Mode (SocketModeClient: apps.connections.open, an event received and acknowledged).

A team that practises on the drill range meets no surprise when it connects its real Slack:
the range's strict answers (unknown and revoked tokens, missing scopes, rate limits, Block
Kit, unknown methods, per-user invite errors) reach slack_sdk as `SlackApiError`s with
Slack's own `error`, and the rest as the documents slack_sdk expects.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

slack_sdk = pytest.importorskip("slack_sdk")  # the test extra installs it (pyproject.toml)

from slack_sdk import WebClient  # noqa: E402
from slack_sdk.errors import SlackApiError  # noqa: E402
from slack_sdk.socket_mode import SocketModeClient  # noqa: E402
from slack_sdk.socket_mode.request import SocketModeRequest  # noqa: E402
from slack_sdk.socket_mode.response import SocketModeResponse  # noqa: E402

from cockpit.sandbox.faults import Limit, RateLimiter  # noqa: E402
from cockpit.sandbox.server import SandboxServer  # noqa: E402
from cockpit.sandbox.state import BOT_USER_ID  # noqa: E402
from cockpit.sandbox.tokens import (  # noqa: E402
    APP_TOKEN,
    BOT_TOKEN,
    NARROW_BOT_TOKEN,
    REVOKED_BOT_TOKEN,
)

pytestmark = pytest.mark.timeout(120)

INCIDENTS = "C0SBXINCIDNT"
ALICE, BENJI, PRIYA = "U0SBXALICE1", "U0SBXBENJI1", "U0SBXPRIYA1"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(scenario=None) as srv:  # strict: the services' own defaults
        yield srv


def web(server: SandboxServer, token: str = BOT_TOKEN) -> WebClient:
    return WebClient(token=token, base_url=f"{server.base_url}/api/", timeout=10)


def refused(call: Callable[[], Any]) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value


# -- the Web API calls of an incident -------------------------------------------------------------
def test_an_incident_through_the_official_web_client(server: SandboxServer) -> None:
    client = web(server)
    me = client.auth_test()
    assert me["ok"] and me["user_id"] == BOT_USER_ID and me["bot_id"]
    assert "chat:write" in me.headers["x-oauth-scopes"]

    created = client.conversations_create(name="incident-42-checkout")
    cid = created["channel"]["id"]
    assert created["channel"]["is_member"] is True
    info = client.conversations_info(channel=cid)
    assert info["channel"]["name"] == "incident-42-checkout"
    invited = client.conversations_invite(channel=cid, users=[ALICE, BENJI])
    assert invited["ok"] and "errors" not in invited.data
    assert {ALICE, BENJI} <= set(server.state.channels[cid].members)
    joined = client.conversations_join(channel=INCIDENTS)
    assert joined["warning"] == "already_in_channel"

    posted = client.chat_postMessage(
        channel=cid,
        text="SEV2: card payments fail at checkout",
        blocks=[
            {"type": "header", "text": {"type": "plain_text", "text": "SEV2: checkout"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Lead:* <@U0SBXALICE1>"}},
        ],
        metadata={"event_type": "cockpit_incident", "event_payload": {"id": "42"}},
    )
    ts = posted["ts"]
    assert posted["message"]["blocks"][0]["type"] == "header"
    reply = client.chat_postMessage(channel=cid, thread_ts=ts, text="Payments team paged")
    updated = client.chat_update(channel=cid, ts=ts, text="SEV1: card payments fail at checkout")
    assert updated["ts"] == ts and updated["text"].startswith("SEV1")
    link = client.chat_getPermalink(channel=cid, message_ts=reply["ts"])
    assert link["permalink"].endswith(f"?thread_ts={ts}&cid={cid}")

    history = client.conversations_history(channel=cid, include_all_metadata=True, limit=10)
    top = next(m for m in history["messages"] if m["ts"] == ts)
    assert top["text"].startswith("SEV1") and top["edited"]["user"] == BOT_USER_ID
    assert top["metadata"]["event_payload"] == {"id": "42"}
    replies = client.conversations_replies(channel=cid, ts=ts)
    assert [m["text"] for m in replies["messages"]][1:] == ["Payments team paged"]
    assert client.users_info(user=PRIYA)["user"]["name"] == "priya"

    deleted = client.chat_delete(channel=cid, ts=reply["ts"])
    assert deleted["ts"] == reply["ts"]
    assert reply["ts"] not in server.state.channels[cid].by_ts


def test_paging_with_the_clients_cursor_iterator(server: SandboxServer) -> None:
    server.slack.max_page_size = 2  # Slack may return fewer than asked for
    client = web(server)
    names: list[str] = []
    pages = 0
    for page in client.conversations_list(limit=100):  # follows next_cursor
        pages += 1
        names.extend(c["name"] for c in page["channels"])
    assert pages >= 2 and {"incidents", "alerts", "general"} <= set(names)
    assert len(names) == len(set(names))


# -- the strict answers, as slack_sdk sees them ----------------------------------------------------
def test_refused_tokens_reach_the_client_as_slack_api_errors(server: SandboxServer) -> None:
    assert refused(web(server, "xoxb-1234-5678-unknown").auth_test).response["error"] == (
        "invalid_auth"
    )
    assert refused(web(server, REVOKED_BOT_TOKEN).auth_test).response["error"] == "token_revoked"
    narrow = web(server, NARROW_BOT_TOKEN)
    err = refused(lambda: narrow.conversations_create(name="incident-43"))
    assert err.response["error"] == "missing_scope"
    assert err.response["needed"] == "channels:manage"
    assert "chat:write" in err.response["provided"].split(",")
    err = refused(lambda: web(server, APP_TOKEN).chat_postMessage(channel=INCIDENTS, text="x"))
    assert err.response["error"] == "not_allowed_token_type"


def test_blocks_slack_would_refuse(server: SandboxServer) -> None:
    client = web(server)
    err = refused(
        lambda: client.chat_postMessage(
            channel=INCIDENTS,
            text="fallback",
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        )
    )
    assert err.response["error"] == "invalid_blocks"
    assert (
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
        in (err.response["errors"])
    )
    assert err.response["response_metadata"]["messages"][0].startswith("[ERROR] ")
    ts = client.chat_postMessage(channel=INCIDENTS, text="ok")["ts"]
    err = refused(
        lambda: client.chat_update(channel=INCIDENTS, ts=ts, text="ok", blocks=[{"type": "x"}])
    )
    assert err.response["error"] == "invalid_blocks"


def test_rate_limits_reach_the_client_with_retry_after() -> None:
    limiter = RateLimiter({"conversations.history": Limit(3)})  # Tier 3, made small
    with SandboxServer(scenario=None, rate_limits=limiter) as srv:
        client = web(srv)
        for _ in range(3):
            client.conversations_history(channel=INCIDENTS)
        err = refused(lambda: client.conversations_history(channel=INCIDENTS))
        assert err.response.status_code == 429 and err.response["error"] == "ratelimited"
        assert 1 <= int(err.response.headers["Retry-After"]) <= 60


def test_chat_post_message_one_a_second_per_channel(server: SandboxServer) -> None:
    client = web(server)
    errors = []
    for i in range(8):  # back to back: the burst passes, then Slack asks to wait
        try:
            client.chat_postMessage(channel=INCIDENTS, text=f"update {i}")
        except SlackApiError as exc:
            errors.append(exc.response)
    assert errors and all(e["error"] == "ratelimited" for e in errors)
    assert all(int(e.headers["Retry-After"]) >= 1 for e in errors)


def test_an_unknown_method_and_per_user_invite_errors(server: SandboxServer) -> None:
    client = web(server)
    err = refused(lambda: client.api_call("chat.scheduleNothing"))
    assert err.response.status_code == 404
    assert err.response["error"] == "unknown_method"
    assert err.response["req_method"] == "chat.scheduleNothing"
    cid = client.conversations_create(name="incident-44")["channel"]["id"]
    err = refused(lambda: client.conversations_invite(channel=cid, users=[ALICE, "U0NOBODY"]))
    assert err.response["error"] == "user_not_found"
    assert err.response["errors"] == [{"user": "U0NOBODY", "ok": False, "error": "user_not_found"}]
    forced = client.conversations_invite(channel=cid, users=[ALICE, "U0NOBODY"], force=True)
    assert forced["errors"][0]["user"] == "U0NOBODY"
    assert ALICE in server.state.channels[cid].members


# -- Socket Mode ----------------------------------------------------------------------------------
def test_socket_mode_client_receives_a_message_and_acknowledges_it(server: SandboxServer) -> None:
    received: list[dict[str, Any]] = []
    arrived = threading.Event()

    def on_request(client: SocketModeClient, req: SocketModeRequest) -> None:
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        if req.type == "events_api" and req.payload["event"].get("type") == "message":
            received.append(req.payload)
            arrived.set()

    socket = SocketModeClient(app_token=APP_TOKEN, web_client=web(server, APP_TOKEN))
    socket.socket_mode_request_listeners.append(on_request)
    try:
        socket.connect()
        deadline = time.monotonic() + 10
        while not socket.is_connected() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert socket.is_connected()
        posted = httpx.post(
            f"{server.base_url}/api/chat.postMessage",
            headers={"Authorization": "Bearer xoxp-priya"},
            json={"channel": INCIDENTS, "text": "Checkout is failing for a lot of buyers"},
            timeout=5,
        ).json()
        assert posted["ok"], posted
        assert arrived.wait(10), "no events_api envelope arrived"
        event = received[0]["event"]
        assert event["ts"] == posted["ts"] and event["channel"] == INCIDENTS
        assert event["user"] == PRIYA and event["text"].startswith("Checkout is failing")
        assert received[0]["team_id"] and received[0]["api_app_id"]
        deadline = time.monotonic() + 5
        while server.state.snapshot()["socket"]["acked"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = server.state.snapshot()["socket"]
        assert stats["acked"] >= 1 and stats["unacked"] == []
    finally:
        socket.close()
    assert server.state.requests["slack:apps.connections.open"] >= 1

"""SlackClient against the drill range in process (cockpit/sandbox/transport.py), every
exchange checked against Slack's specs; state is checked in the sandbox's own state."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from cockpit.integrations.errors import NameTaken, NotInChannel, RemoteError, redact
from cockpit.integrations.http import RetryPolicy, counting
from cockpit.integrations.slack import (
    SlackClient,
    channel_name,
    marker_metadata,
    mentioned_users,
    mrkdwn_to_text,
    render_message,
    to_feed_message,
    ts_key,
)
from cockpit.sandbox.dispatch import IN_PROCESS_URL
from cockpit.sandbox.faults import Limit, RateLimiter
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.state import (
    BOT_ID,
    BOT_USER_ID,
    JSON,
    TEAM_NAME,
    WORKSPACE_URL,
    SandboxState,
)
from tests.integration.test_sandbox_support import FakeClock, checked_transport

API = f"{IN_PROCESS_URL}/api"
TOKEN = "xoxb-1111-2222-SECRETSLACKTOKEN"
ALICE = "U0SBXALICE1"


@pytest.fixture
def server() -> SandboxServer:
    srv = SandboxServer(scenario=None, tokens=[TOKEN])  # in process only: no socket
    srv.state.add_person("ada", "Ada Lovelace", display_name="Ada")
    srv.state.add_person("bob", "Bob Jones", display_name="")  # never set a display name
    return srv


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def client(server: SandboxServer, clock: FakeClock, token: str = TOKEN, **kw: Any) -> SlackClient:
    return SlackClient(
        API,
        token,
        transport=checked_transport(server, "slack"),
        sleep=clock.sleep,
        clock=clock,
        **kw,
    )


@pytest.fixture
async def slack(server: SandboxServer, clock: FakeClock) -> AsyncIterator[SlackClient]:
    c = client(server, clock, rng=lambda: 1.0)
    yield c
    await c.aclose()


def uid(server: SandboxServer, name: str) -> str:
    user = server.state.user_by_name(name)
    assert user is not None
    return str(user["id"])


def channel(
    server: SandboxServer,
    name: str,
    *,
    member: bool = True,
    private: bool = False,
    archived: bool = False,
) -> str:
    """A new channel (the bot in it unless `member` is False); its id."""
    state = server.state
    ch = state.create_channel(name, BOT_USER_ID if member else ALICE, is_private=private)
    if archived:
        state.archive_channel(ch)
    return ch.id


def post(server: SandboxServer, cid: str, text: str, *, thread_ts: str | None = None) -> str:
    """Alice posts `text` (a reply with `thread_ts`); its ts."""
    state = server.state
    msg = state.post(state.channels[cid], state.person_message(ALICE, text), thread_ts=thread_ts)
    return str(msg["ts"])


def snap_channel(state: SandboxState, cid: str) -> JSON:
    snap = state.snapshot()["slack"]["channels"]
    found: JSON = next(c for c in snap.values() if c["id"] == cid)
    return found


def messages(server: SandboxServer, cid: str) -> list[JSON]:
    """The channel's top-level messages, each with its "replies"."""
    found: list[JSON] = snap_channel(server.state, cid)["messages"]
    return found


def calls(server: SandboxServer, method: str) -> int:
    return server.state.requests[f"slack:{method}"]


def nothing_sent(server: SandboxServer) -> bool:
    return sum(server.state.requests.values()) == 0


# -- reads ------------------------------------------------------------------------------------
async def test_auth_test(slack: SlackClient):
    me = await slack.auth_test()
    assert (me.user_id, me.team, me.bot_id, me.url) == (
        BOT_USER_ID,
        TEAM_NAME,
        BOT_ID,
        WORKSPACE_URL,
    )


async def test_find_channel_pages_through_and_stops_when_found(
    slack: SlackClient, server: SandboxServer
):
    server.slack.max_page_size = 2
    ids = [channel(server, f"chan-{i}") for i in range(5)]  # listed before the seeded three
    found = await slack.find_channel("#chan-4")
    assert found is not None and found.id == ids[4]
    assert calls(server, "conversations.list") == 3
    server.state.requests.clear()
    assert (await slack.find_channel("chan-0")).id == ids[0]  # type: ignore[union-attr]
    assert calls(server, "conversations.list") == 1
    assert await slack.find_channel("nope") is None


async def test_history_pages_oldest_first_and_fetches_only_what_is_new(
    slack: SlackClient, server: SandboxServer
):
    server.slack.max_page_size = 2
    cid = channel(server, "ops-alerts")
    stamps = [post(server, cid, f"m{i}") for i in range(5)]
    got = await slack.history(cid)
    assert [m["text"] for m in got] == ["m0", "m1", "m2", "m3", "m4"]
    assert calls(server, "conversations.history") == 3
    server.state.requests.clear()
    newer = await slack.history(cid, oldest=stamps[2])
    assert [m["ts"] for m in newer] == stamps[3:]
    assert calls(server, "conversations.history") == 1
    assert await slack.history(cid, oldest=stamps[-1]) == []  # the end: nothing new


async def test_thread_replies_are_not_in_history_but_in_replies(
    slack: SlackClient, server: SandboxServer
):
    server.slack.max_page_size = 1
    cid = channel(server, "ops")
    parent = post(server, cid, "DB is down")
    replies = [post(server, cid, f"r{i}", thread_ts=parent) for i in range(3)]
    assert [m["ts"] for m in await slack.history(cid)] == [parent]
    thread = await slack.replies(cid, parent)
    assert [m["ts"] for m in thread] == [parent, *replies]  # parent once, though on every page
    assert calls(server, "conversations.replies") == 3
    assert [m["ts"] for m in await slack.replies(cid, parent, oldest=replies[1])] == [
        parent,
        replies[2],
    ]


async def test_permalink_user_names_and_cache(slack: SlackClient, server: SandboxServer):
    cid = channel(server, "ops")
    ts = post(server, cid, "x")
    assert (await slack.permalink(cid, ts)).startswith(f"{WORKSPACE_URL}archives/{cid}/p")
    ada, bob = uid(server, "ada"), uid(server, "bob")
    assert await slack.user_name(ada) == "Ada"
    assert await slack.user_name(bob) == "Bob Jones"  # no display name: the real name
    assert await slack.user_name(ada) == "Ada"
    assert calls(server, "users.info") == 2
    assert await slack.user_name("U0GHOST") == "U0GHOST"  # user_not_found: the id


# -- writes -----------------------------------------------------------------------------------
async def test_post_message_thread_reply_and_marker(slack: SlackClient, server: SandboxServer):
    cid = channel(server, "incident-1")
    start = server.state.next_ts()
    top = await slack.post_message(cid, "Incident raised", metadata=marker_metadata("act-1"))
    assert top.channel == cid and ts_key(top.ts) > ts_key(start)
    reply = await slack.post_message(
        "#incident-1", "update", thread_ts=top.ts, metadata=marker_metadata("act-2")
    )
    (stored,) = messages(server, cid)
    assert stored["replies"][-1]["thread_ts"] == top.ts and stored["replies"][-1]["ts"] == reply.ts
    assert await slack.find_message_with_marker(cid, "act-1", start) == top
    assert await slack.find_message_with_marker(cid, "act-2", start) is None  # in the thread
    assert await slack.find_message_with_marker(cid, "act-2", start, thread_ts=top.ts) == reply
    assert await slack.find_message_with_marker(cid, "act-3", start) is None


async def test_create_channel_invite_topic_join(slack: SlackClient, server: SandboxServer):
    ch = await slack.create_channel("incident-42")
    assert server.state.channels[ch.id].name == "incident-42"
    ada, bob = uid(server, "ada"), uid(server, "bob")
    await slack.invite(ch.id, [ada, bob])
    await slack.invite(ch.id, [ada])  # already_in_channel is fine
    assert {ada, bob} <= set(snap_channel(server.state, ch.id)["members"])
    await slack.set_topic(ch.id, "SEV1: payments down")
    assert snap_channel(server.state, ch.id)["topic"] == "SEV1: payments down"
    public = channel(server, "ops-chat", member=False)
    await slack.join(public)
    assert snap_channel(server.state, public)["bot_is_member"]
    with pytest.raises(RemoteError, match="user_not_found"):
        await slack.invite(ch.id, ["U0NOBODY"])


async def test_name_taken(slack: SlackClient, server: SandboxServer):
    channel(server, "incident-7")
    with pytest.raises(NameTaken) as info:
        await slack.create_channel("incident-7")
    assert str(info.value) == (
        "Slack: channel name is taken (name_taken) — pick another name or use the existing channel"
    )
    assert info.value.code == "name_taken" and not info.value.retryable


async def test_bad_channel_name_is_refused_before_sending(
    slack: SlackClient, server: SandboxServer
):
    with pytest.raises(RemoteError, match="'incident-42-db-down'"):
        await slack.create_channel("Incident 42: DB down!")
    assert nothing_sent(server)


def test_channel_name_rules():
    assert channel_name("Incident 42: DB Down!") == "incident-42-db-down"
    assert channel_name("ÄÖ §$ x_y") == "x_y"
    assert len(channel_name("a" * 200)) == 80


# -- Slack's ok:false errors, in plain words ---------------------------------------------------
async def test_not_in_channel(slack: SlackClient, server: SandboxServer):
    cid = channel(server, "private-ops", member=False, private=True)
    with pytest.raises(NotInChannel) as info:
        await slack.history(cid)
    assert "not a member" in str(info.value) and "/invite" in str(info.value)


@pytest.mark.parametrize(
    ("code", "extra", "words"),
    [
        ("channel_not_found", {}, "channel not found"),
        ("invalid_auth", {}, "Slack refused the token"),
        ("not_authed", {}, "no token was sent"),
        (
            "missing_scope",
            {"needed": "channels:history", "provided": "chat:write"},
            "lacks the scope channels:history",
        ),
        ("ratelimited", {}, "rate limiting"),
    ],
)
async def test_ok_false_errors(
    slack: SlackClient, server: SandboxServer, code: str, extra: dict[str, Any], words: str
):
    cid = channel(server, "ops")
    server.faults.force("slack_error", on="conversations.history", error=code, body=extra)
    with pytest.raises(RemoteError) as info:
        await slack.history(cid)
    err = info.value
    assert words in str(err) and err.code == code and err.status == 200
    assert err.retryable is (code == "ratelimited")


async def test_archived_and_too_long(slack: SlackClient, server: SandboxServer):
    cid = channel(server, "old", archived=True)
    with pytest.raises(RemoteError, match="archived"):
        await slack.post_message(cid, "x")
    live = channel(server, "live")
    with pytest.raises(RemoteError, match="too long") as info:
        await slack.post_message(live, "x" * 40_001)
    assert info.value.code == "msg_too_long" and not info.value.ambiguous
    assert messages(server, cid) == messages(server, live) == []


async def test_wrong_token_never_appears_in_the_error(server: SandboxServer, clock: FakeClock):
    server.state.refuse_token("xoxb-9999-WRONGTOKEN")  # revoked, or mistyped
    c = client(server, clock, "xoxb-9999-WRONGTOKEN")
    with pytest.raises(RemoteError) as info:
        await c.auth_test()
    assert "Slack refused the token" in str(info.value) and "WRONGTOKEN" not in repr(info.value)
    await c.aclose()


async def test_token_echoed_by_a_server_is_redacted(slack: SlackClient, server: SandboxServer):
    cid = channel(server, "ops")
    server.faults.force(
        "status",
        status=400,
        on="conversations.history",
        body={"detail": f"bad token {TOKEN} Bearer {TOKEN}"},
    )
    with pytest.raises(RemoteError) as info:
        await slack.history(cid)
    assert TOKEN not in str(info.value) and "[redacted]" in str(info.value)


def test_redact():
    assert redact("key abcd1234 here", ["abcd1234"]) == "key [redacted] here"
    assert redact("Authorization: Bearer xyz123456789") == "Authorization: Bearer [redacted]"
    assert redact("xoxb-123-456-abc and xoxp-9") == "[redacted] and [redacted]"
    assert redact("https://x/?token=s3cr3t&a=1") == "https://x/?token=[redacted]&a=1"
    assert redact("abc", ["abc"]) == "abc"  # too short to be a secret; would mangle text


# -- the HTTP layer: rate limits, retries, ambiguity ----------------------------------------------
async def test_429_waits_retry_after_then_succeeds(
    slack: SlackClient, server: SandboxServer, clock: FakeClock
):
    cid = channel(server, "ops")
    server.faults.force("ratelimit", on="conversations.history", retry_after=3)
    assert await slack.history(cid) == []
    assert clock.sleeps == [3.0] and calls(server, "conversations.history") == 2


async def test_counting_tells_each_request_of_the_task_retries_included(
    slack: SlackClient, server: SandboxServer, clock: FakeClock
):
    """What the outbox sends counts in the feed's budget: `counting` tells each attempt
    that goes out (a retry is a request too), and nothing made outside it."""
    cid = channel(server, "ops")
    told: list[str] = []
    server.faults.force("ratelimit", on="conversations.history", retry_after=1)
    with counting(told.append):
        await slack.history(cid)
    assert told == ["Slack", "Slack"] == ["Slack"] * calls(server, "conversations.history")
    await slack.history(cid)
    assert len(told) == 2


async def test_429_on_post_is_left_to_the_outbox(
    slack: SlackClient, server: SandboxServer, clock: FakeClock
):
    """A write answered 429 is not repeated by the client: a server may have applied it
    anyway, so the outbox waits Retry-After and checks for the effect first."""
    cid = channel(server, "incident-2")
    server.faults.force("ratelimit", on="chat.postMessage", retry_after=2)
    with pytest.raises(RemoteError) as info:
        await slack.post_message(cid, "once")
    assert info.value.retryable and info.value.ambiguous and info.value.retry_after == 2.0
    assert clock.sleeps == [] and messages(server, cid) == []
    await slack.post_message(cid, "once")
    assert [m["text"] for m in messages(server, cid)] == ["once"]


async def test_429_with_a_long_wait_is_raised(
    slack: SlackClient, server: SandboxServer, clock: FakeClock
):
    cid = channel(server, "ops")
    server.faults.force("ratelimit", on="conversations.history", retry_after=120)
    with pytest.raises(RemoteError) as info:
        await slack.history(cid)
    assert info.value.retry_after == 120.0 and info.value.retryable and clock.sleeps == []
    assert "wait 120 s" in str(info.value)


async def test_the_drill_ranges_own_rate_limit_is_waited_out(clock: FakeClock):
    """No forced fault: the sandbox's per-method limit, on the client's clock."""
    limits = RateLimiter({"conversations.history": Limit(2, per=20.0)}, clock=clock)
    server = SandboxServer(scenario=None, rate_limits=limits, tokens=[TOKEN])
    c = client(server, clock, rng=lambda: 1.0)
    cid = channel(server, "ops")
    for _ in range(3):
        assert await c.history(cid) == []
    assert calls(server, "conversations.history") == 4 and clock.sleeps == [20.0]
    await c.aclose()


async def test_5xx_on_get_is_retried_with_backoff(
    slack: SlackClient, server: SandboxServer, clock: FakeClock
):
    cid = channel(server, "ops")
    post(server, cid, "hello")
    server.faults.force("status", status=503, on="conversations.history")
    server.faults.force("server_error", status=502, on="conversations.history")
    assert [m["text"] for m in await slack.history(cid)] == ["hello"]
    assert clock.sleeps == [0.5, 1.0]
    assert [f["status"] for f in server.state.faults_injected] == [503, 502]


async def test_5xx_on_get_gives_up_after_the_attempts(server: SandboxServer, clock: FakeClock):
    c = client(server, clock, rng=lambda: 0.0, retry=RetryPolicy(attempts=3))
    cid = channel(server, "ops")
    server.faults.force("status", status=500, on="conversations.history", times=3)
    with pytest.raises(RemoteError) as info:
        await c.history(cid)
    assert info.value.retryable and not info.value.ambiguous and info.value.status == 500
    assert calls(server, "conversations.history") == 3 and clock.sleeps == [0.25, 0.5]
    assert server.faults.pending() == []
    await c.aclose()


async def test_5xx_on_post_is_ambiguous_not_retried(slack: SlackClient, server: SandboxServer):
    cid = channel(server, "incident-3")
    start = server.state.next_ts()
    server.faults.force("status", "after", status=500, on="chat.postMessage")
    with pytest.raises(RemoteError) as info:
        await slack.post_message(cid, "update", metadata=marker_metadata("act-9"))
    assert info.value.ambiguous and info.value.retryable
    assert str(info.value).startswith("Slack answered 500: internal_error — it may have gone")
    assert calls(server, "chat.postMessage") == 1
    # What the outbox does next: look for the effect before sending again.
    assert await slack.find_message_with_marker(cid, "act-9", start) is not None


async def test_connect_error_on_post_is_retried(slack: SlackClient, server: SandboxServer):
    cid = channel(server, "incident-4")
    server.faults.force("connect", on="chat.postMessage")
    await slack.post_message(cid, "hi")
    assert len(messages(server, cid)) == 1 and calls(server, "chat.postMessage") == 2


@pytest.mark.parametrize("when", ["before", "after"])
async def test_timeout_on_post_is_ambiguous(slack: SlackClient, server: SandboxServer, when: str):
    cid = channel(server, "incident-5")
    server.faults.force("timeout", when, on="chat.postMessage")
    with pytest.raises(RemoteError) as info:
        await slack.post_message(cid, "hi")
    assert info.value.ambiguous and "may have gone through" in str(info.value)
    assert len(messages(server, cid)) == (1 if when == "after" else 0)
    assert calls(server, "chat.postMessage") == 1


async def test_dropped_after_the_post_is_ambiguous(slack: SlackClient, server: SandboxServer):
    cid = channel(server, "incident-6")
    server.faults.force("drop", "after", on="chat.postMessage")
    with pytest.raises(RemoteError, match="dropped the connection") as info:
        await slack.post_message(cid, "hi")
    assert info.value.ambiguous and len(messages(server, cid)) == 1


async def test_timeout_on_get_is_retried(slack: SlackClient, server: SandboxServer):
    cid = channel(server, "ops")
    server.faults.force("timeout", on="conversations.history")
    assert await slack.history(cid) == []
    assert calls(server, "conversations.history") == 2


async def test_whole_call_deadline(server: SandboxServer, clock: FakeClock):
    c = client(server, clock, deadline=0.05)
    cid = channel(server, "incident-8")
    server.faults.force("slow", on="chat.postMessage", seconds=5)
    began = time.monotonic()
    with pytest.raises(RemoteError, match=r"no complete answer within 0\.05 s") as info:
        await c.post_message(cid, "hi")
    assert info.value.ambiguous and time.monotonic() - began < 2
    server.faults.force("slow", on="conversations.history", seconds=5)
    assert await c.history(cid) is not None  # a GET tries again
    assert calls(server, "conversations.history") == 2
    await c.aclose()


async def test_html_proxy_page_is_reported_briefly(slack: SlackClient, server: SandboxServer):
    cid = channel(server, "incident-9")
    server.faults.force("server_error", status=502, on="chat.postMessage")
    with pytest.raises(RemoteError) as info:
        await slack.post_message(cid, "hi")
    msg = str(info.value)
    assert msg.startswith("Slack answered 502 with an HTML page (a proxy error?)")
    assert len(msg) < 200 and "<" not in msg and info.value.ambiguous


async def test_truncated_json(slack: SlackClient, server: SandboxServer):
    cid = channel(server, "incident-10")
    server.faults.force("truncated", "after", on="chat.postMessage")
    with pytest.raises(RemoteError, match="broken JSON") as info:
        await slack.post_message(cid, "hi")
    assert info.value.ambiguous and len(messages(server, cid)) == 1
    server.faults.force("truncated", "after", on="conversations.history")
    with pytest.raises(RemoteError, match="broken JSON") as info:
        await slack.history(cid)
    assert not info.value.ambiguous and info.value.retryable


async def test_huge_body_is_refused(server: SandboxServer, clock: FakeClock):
    c = client(server, clock, max_body=1024 * 1024)
    cid = channel(server, "ops")
    server.faults.force("huge", on="conversations.history", size=2 * 1024 * 1024)
    with pytest.raises(RemoteError, match="larger than 1 MB") as info:
        await c.history(cid)
    assert not info.value.retryable
    await c.aclose()


async def test_wrong_shapes(slack: SlackClient, server: SandboxServer):
    cid = channel(server, "ops")
    server.faults.force("status", status=200, on="conversations.history", body=[1, 2])
    with pytest.raises(RemoteError, match="expected an object, got a list"):
        await slack.history(cid)
    server.faults.force(
        "status", status=200, on="conversations.history", body={"ok": True, "messages": "none"}
    )
    with pytest.raises(RemoteError, match="without a list of messages"):
        await slack.history(cid)
    server.faults.force("status", status=200, on="chat.postMessage", body={"ok": True})
    with pytest.raises(RemoteError, match="without the message's ts") as info:
        await slack.post_message(cid, "x")
    assert info.value.ambiguous
    server.faults.force("status", status=200, on="auth.test", body={"fine": True})
    with pytest.raises(RemoteError, match="no 'ok' field"):
        await slack.auth_test()


# -- how a message reads -------------------------------------------------------------------------
NAMES = {"U0ALICE": "Alice", "U0BOB": "Bob Jones"}


def test_mrkdwn_to_text():
    text = (
        "<@U0ALICE> see <#C0123456789|incidents> and "
        "<https://grafana.example/d?a=1&amp;b=2|the graph> "
        "<https://x.example> <mailto:a@b.c|a@b.c> <!here> <@U0NOBODY> &lt;b&gt; &amp;amp;"
    )
    assert mrkdwn_to_text(text, NAMES) == (
        "@Alice see #incidents and the graph (https://grafana.example/d?a=1&b=2) "
        "https://x.example a@b.c @here @U0NOBODY <b> &amp;"
    )


def test_render_bot_attachments_and_blocks():
    datadog = {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B0DATADOG1",
        "username": "Datadog",
        "text": "",
        "ts": "1700000000.000100",
        "attachments": [
            {
                "title": "[Triggered] p99 latency > 2s",
                "title_link": "https://dd.example/m/1",
                "text": "api-gateway on <@U0ALICE>'s watch",
                "fields": [{"title": "env", "value": "prod"}],
                "color": "#ff0000",
                "fallback": "Triggered",
            }
        ],
    }
    shown = render_message(datadog, NAMES)
    assert shown.author == "Datadog" and shown.is_bot
    assert shown.text == (
        "[Triggered] p99 latency > 2s (https://dd.example/m/1)\napi-gateway on @Alice's watch"
    )
    assert shown.extra == ("env: prod",)
    sentry = {
        "type": "message",
        "bot_id": "B0SENTRY01",
        "text": "",
        "ts": "1700000000.000200",
        "bot_profile": {"name": "Sentry"},
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "TypeError"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "in *checkout*"}},
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "by "},
                            {"type": "user", "user_id": "U0BOB"},
                        ],
                    }
                ],
            },
        ],
    }
    shown = render_message(sentry, NAMES)
    assert shown.author == "Sentry"
    assert shown.text == "TypeError\nin *checkout*\nby @Bob Jones"
    fallback_text = {**datadog, "text": "Triggered: p99 latency"}
    assert render_message(fallback_text, NAMES).extra[0].startswith("[Triggered]")


def test_render_subtypes():
    changed = {
        "type": "message",
        "subtype": "message_changed",
        "ts": "1700000001.000000",
        "message": {
            "type": "message",
            "user": "U0ALICE",
            "text": "fixed typo",
            "ts": "1700000000.000100",
            "edited": {"user": "U0ALICE"},
        },
        "previous_message": {"type": "message", "user": "U0ALICE", "text": "fxied"},
    }
    shown = render_message(changed, NAMES)
    assert (shown.text, shown.author, shown.edited) == ("fixed typo", "Alice", True)
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "ts": "1700000002.000000",
        "previous_message": {"type": "message", "user": "U0BOB", "text": "oops"},
    }
    shown = render_message(deleted, NAMES)
    assert shown.deleted and shown.author == "Bob Jones" and "oops" not in shown.text
    joined = {
        "type": "message",
        "subtype": "channel_join",
        "user": "U0BOB",
        "text": "<@U0BOB> has joined the channel",
        "ts": "1700000003.000000",
    }
    assert render_message(joined, NAMES).text == "@Bob Jones has joined the channel"
    broadcast = {
        "type": "message",
        "subtype": "thread_broadcast",
        "user": "U0ALICE",
        "text": "rolled back",
        "ts": "1700000004.000000",
        "thread_ts": "1700000000.000100",
    }
    assert "also sent to the channel" in render_message(broadcast, NAMES).extra[-1]
    files = {
        "type": "message",
        "subtype": "file_share",
        "user": "U0ALICE",
        "text": "logs",
        "ts": "1700000005.000000",
        "files": [{"name": "api.log"}, {"title": "trace"}],
    }
    assert render_message(files, NAMES).extra == ("📎 api.log", "📎 trace")


def test_render_sanitizes_hostile_text():
    evil = {
        "type": "message",
        "user": "U0EVIL",
        "ts": "1700000000.000100",
        "username": "x",
        "text": "hi\x1b]52;c;cm0gLXJmIC8=\x07 \u202eevil\x1b[2J [@click=app.quit]",
        "files": [{"name": "a\x1b[31m.log"}],
    }
    shown = render_message(evil, {"U0EVIL": "Mal\x1b]0;title\x07lory"})
    assert "\x1b" not in shown.text + shown.author + "".join(shown.extra)
    assert "\u202e" not in shown.text and shown.author == "Mallory"
    assert "[@click=app.quit]" in shown.text  # markup is not parsed here, only shown as text


def test_to_feed_message_and_mentions():
    msg = {
        "type": "message",
        "user": "U0ALICE",
        "text": "ping <@U0BOB>",
        "ts": "1700000000.000100",
        "thread_ts": "1700000000.000100",
        "reply_count": 2,
    }
    assert mentioned_users(msg) == {"U0ALICE", "U0BOB"}
    feed = to_feed_message(msg, "incidents", NAMES, permalink="https://x")
    assert (feed.author, feed.text, feed.reply_count, feed.channel) == (
        "Alice",
        "ping @Bob Jones",
        2,
        "incidents",
    )
    assert feed.at.timestamp() == pytest.approx(1700000000.0001)
    assert not feed.is_reply

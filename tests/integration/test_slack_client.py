"""SlackClient against the in-memory Slack (every exchange checked against Slack's specs)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from cockpit.integrations.errors import NameTaken, NotInChannel, RemoteError, redact
from cockpit.integrations.http import RetryPolicy
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
from tests.integration.fakes import (
    FakeClock,
    SlackFake,
    connect_error,
    html_page,
    http_status,
    huge_body,
    rate_limited,
    read_timeout,
    slack_error,
    slow,
    truncated_json,
    wrong_shape,
)

API = "https://slack.test/api"


@pytest.fixture
def fake() -> SlackFake:
    f = SlackFake()
    f.add_user("U0ALICE", "alice", "Alice")
    f.add_user("U0BOB", "bob", "", real_name="Bob Jones")
    return f


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def slack(fake: SlackFake, clock: FakeClock) -> AsyncIterator[SlackClient]:
    client = SlackClient(
        API, fake.token, transport=fake.transport(), sleep=clock.sleep, clock=clock, rng=lambda: 1.0
    )
    yield client
    await client.aclose()


def calls(fake: SlackFake, method: str) -> int:
    return fake.calls.count(method)


# -- reads ------------------------------------------------------------------------------------
async def test_auth_test(slack: SlackClient):
    me = await slack.auth_test()
    assert (me.user_id, me.team, me.bot_id) == ("U0COCKPIT", "Cockpit Test", "B0COCKPIT1")


async def test_find_channel_pages_through_and_stops_when_found(slack: SlackClient, fake: SlackFake):
    fake.page_size = 2
    ids = [fake.add_channel(f"chan-{i}") for i in range(5)]
    found = await slack.find_channel("#chan-4")
    assert found is not None and found.id == ids[4]
    assert calls(fake, "conversations.list") == 3
    fake.calls.clear()
    assert (await slack.find_channel("chan-0")).id == ids[0]  # type: ignore[union-attr]
    assert calls(fake, "conversations.list") == 1
    assert await slack.find_channel("nope") is None


async def test_history_pages_oldest_first_and_fetches_only_what_is_new(
    slack: SlackClient, fake: SlackFake
):
    fake.page_size = 2
    cid = fake.add_channel("alerts")
    stamps = [fake.add_message(cid, f"m{i}") for i in range(5)]
    got = await slack.history(cid)
    assert [m["text"] for m in got] == ["m0", "m1", "m2", "m3", "m4"]
    assert calls(fake, "conversations.history") == 3
    fake.calls.clear()
    newer = await slack.history(cid, oldest=stamps[2])
    assert [m["ts"] for m in newer] == stamps[3:]
    assert calls(fake, "conversations.history") == 1
    assert await slack.history(cid, oldest=stamps[-1]) == []  # the end: nothing new


async def test_thread_replies_are_not_in_history_but_in_replies(
    slack: SlackClient, fake: SlackFake
):
    fake.page_size = 1
    cid = fake.add_channel("incidents")
    parent = fake.add_message(cid, "DB is down")
    replies = [fake.add_message(cid, f"r{i}", thread_ts=parent) for i in range(3)]
    assert [m["ts"] for m in await slack.history(cid)] == [parent]
    thread = await slack.replies(cid, parent)
    assert [m["ts"] for m in thread] == [parent, *replies]  # parent once, though on every page
    assert [m["ts"] for m in await slack.replies(cid, parent, oldest=replies[1])] == [
        parent,
        replies[2],
    ]


async def test_permalink_user_names_and_cache(slack: SlackClient, fake: SlackFake):
    cid = fake.add_channel("incidents")
    ts = fake.add_message(cid, "x")
    assert (await slack.permalink(cid, ts)).startswith("https://cockpit-test.slack.com/archives/")
    assert await slack.user_name("U0ALICE") == "Alice"
    assert await slack.user_name("U0BOB") == "Bob Jones"  # no display name: the real name
    assert await slack.user_name("U0ALICE") == "Alice"
    assert calls(fake, "users.info") == 2
    assert await slack.user_name("U0GHOST") == "U0GHOST"  # user_not_found: the id


# -- writes -----------------------------------------------------------------------------------
async def test_post_message_thread_reply_and_marker(slack: SlackClient, fake: SlackFake):
    cid = fake.add_channel("incidents")
    start = fake.next_ts()
    top = await slack.post_message(cid, "Incident raised", metadata=marker_metadata("act-1"))
    assert top.channel == cid and ts_key(top.ts) > ts_key(start)
    reply = await slack.post_message(
        "#incidents", "update", thread_ts=top.ts, metadata=marker_metadata("act-2")
    )
    assert fake.messages(cid)[-1]["thread_ts"] == top.ts
    assert await slack.find_message_with_marker(cid, "act-1", start) == top
    assert await slack.find_message_with_marker(cid, "act-2", start) is None  # in the thread
    assert await slack.find_message_with_marker(cid, "act-2", start, thread_ts=top.ts) == reply
    assert await slack.find_message_with_marker(cid, "act-3", start) is None


async def test_create_channel_invite_topic_join(slack: SlackClient, fake: SlackFake):
    ch = await slack.create_channel("incident-42")
    assert fake.channels[ch.id]["name"] == "incident-42"
    await slack.invite(ch.id, ["U0ALICE", "U0BOB"])
    await slack.invite(ch.id, ["U0ALICE"])  # already_in_channel is fine
    assert {"U0ALICE", "U0BOB"} <= fake.channels[ch.id]["members"]
    await slack.set_topic(ch.id, "SEV1: payments down")
    assert fake.channels[ch.id]["topic"] == "SEV1: payments down"
    public = fake.add_channel("alerts", member=False)
    await slack.join(public)
    assert fake.bot_user in fake.channels[public]["members"]
    with pytest.raises(RemoteError, match="user_not_found"):
        await slack.invite(ch.id, ["U0NOBODY"])


async def test_name_taken(slack: SlackClient, fake: SlackFake):
    fake.add_channel("incident-7")
    with pytest.raises(NameTaken) as info:
        await slack.create_channel("incident-7")
    assert str(info.value) == (
        "Slack: channel name is taken (name_taken) — pick another name or use the existing channel"
    )
    assert info.value.code == "name_taken" and not info.value.retryable


async def test_bad_channel_name_is_refused_before_sending(slack: SlackClient, fake: SlackFake):
    with pytest.raises(RemoteError, match="'incident-42-db-down'"):
        await slack.create_channel("Incident 42: DB down!")
    assert fake.calls == []


def test_channel_name_rules():
    assert channel_name("Incident 42: DB Down!") == "incident-42-db-down"
    assert channel_name("ÄÖ §$ x_y") == "x_y"
    assert len(channel_name("a" * 200)) == 80


# -- Slack's ok:false errors, in plain words ---------------------------------------------------
async def test_not_in_channel(slack: SlackClient, fake: SlackFake):
    cid = fake.add_channel("private-ops", member=False)
    with pytest.raises(NotInChannel) as info:
        await slack.history(cid)
    assert "not a member" in str(info.value) and "/invite" in str(info.value)


@pytest.mark.parametrize(
    ("code", "extra", "words"),
    [
        ("channel_not_found", {}, "channel not found"),
        ("invalid_auth", {}, "token was refused"),
        ("not_authed", {}, "no token was sent"),
        (
            "missing_scope",
            {"needed": "channels:history", "provided": "chat:write"},
            "lacks the channels:history permission",
        ),
        ("ratelimited", {}, "rate limiting"),
    ],
)
async def test_ok_false_errors(
    slack: SlackClient, fake: SlackFake, code: str, extra: dict[str, Any], words: str
):
    cid = fake.add_channel("alerts")
    fake.inject("conversations.history", slack_error(code, **extra))
    with pytest.raises(RemoteError) as info:
        await slack.history(cid)
    err = info.value
    assert words in str(err) and err.code == code and err.status == 200
    assert err.retryable is (code == "ratelimited")


async def test_archived_and_too_long(slack: SlackClient, fake: SlackFake):
    cid = fake.add_channel("old", archived=True)
    with pytest.raises(RemoteError, match="archived"):
        await slack.post_message(cid, "x")
    live = fake.add_channel("live")
    with pytest.raises(RemoteError, match="too long") as info:
        await slack.post_message(live, "x" * 40_001)
    assert info.value.code == "msg_too_long" and not info.value.ambiguous


async def test_wrong_token_never_appears_in_the_error(fake: SlackFake, clock: FakeClock):
    client = SlackClient(
        API, "xoxb-9999-WRONGTOKEN", transport=fake.transport(), sleep=clock.sleep, clock=clock
    )
    with pytest.raises(RemoteError) as info:
        await client.auth_test()
    assert "token was refused" in str(info.value) and "WRONGTOKEN" not in repr(info.value)
    await client.aclose()


async def test_token_echoed_by_a_server_is_redacted(slack: SlackClient, fake: SlackFake):
    cid = fake.add_channel("alerts")
    fake.inject(
        "conversations.history",
        wrong_shape({"detail": f"bad token {fake.token} Bearer {fake.token}"}, 400),
    )
    with pytest.raises(RemoteError) as info:
        await slack.history(cid)
    assert fake.token not in str(info.value) and "[redacted]" in str(info.value)


def test_redact():
    assert redact("key abcd1234 here", ["abcd1234"]) == "key [redacted] here"
    assert redact("Authorization: Bearer xyz123456789") == "Authorization: Bearer [redacted]"
    assert redact("xoxb-123-456-abc and xoxp-9") == "[redacted] and [redacted]"
    assert redact("https://x/?token=s3cr3t&a=1") == "https://x/?token=[redacted]&a=1"
    assert redact("abc", ["abc"]) == "abc"  # too short to be a secret; would mangle text


# -- the HTTP layer: rate limits, retries, ambiguity ----------------------------------------------
async def test_429_waits_retry_after_then_succeeds(
    slack: SlackClient, fake: SlackFake, clock: FakeClock
):
    cid = fake.add_channel("alerts")
    fake.inject("conversations.history", rate_limited("3"))
    assert await slack.history(cid) == []
    assert clock.sleeps == [3.0]


async def test_429_on_post_is_left_to_the_outbox(
    slack: SlackClient, fake: SlackFake, clock: FakeClock
):
    """A write answered 429 is not repeated by the client: a server may have applied it
    anyway, so the outbox waits Retry-After and checks for the effect first."""
    cid = fake.add_channel("incidents")
    fake.inject("chat.postMessage", rate_limited("2"))
    with pytest.raises(RemoteError) as info:
        await slack.post_message(cid, "once")
    assert info.value.retryable and info.value.ambiguous and info.value.retry_after == 2.0
    assert clock.sleeps == [] and fake.messages(cid) == []
    await slack.post_message(cid, "once")
    assert [m["text"] for m in fake.messages(cid)] == ["once"]


async def test_429_with_a_long_wait_is_raised(
    slack: SlackClient, fake: SlackFake, clock: FakeClock
):
    cid = fake.add_channel("alerts")
    fake.inject("conversations.history", rate_limited("120"))
    with pytest.raises(RemoteError) as info:
        await slack.history(cid)
    assert info.value.retry_after == 120.0 and info.value.retryable and clock.sleeps == []
    assert "wait 120 s" in str(info.value)


async def test_5xx_on_get_is_retried_with_backoff(
    slack: SlackClient, fake: SlackFake, clock: FakeClock
):
    cid = fake.add_channel("alerts")
    fake.add_message(cid, "hello")
    fake.inject("conversations.history", http_status(503), html_page(502))
    assert [m["text"] for m in await slack.history(cid)] == ["hello"]
    assert clock.sleeps == [0.5, 1.0]


async def test_5xx_on_get_gives_up_after_the_attempts(fake: SlackFake, clock: FakeClock):
    client = SlackClient(
        API,
        fake.token,
        transport=fake.transport(),
        sleep=clock.sleep,
        clock=clock,
        rng=lambda: 0.0,
        retry=RetryPolicy(attempts=3),
    )
    cid = fake.add_channel("alerts")
    fake.inject("conversations.history", *[http_status(500)] * 3)
    with pytest.raises(RemoteError) as info:
        await client.history(cid)
    assert info.value.retryable and not info.value.ambiguous and info.value.status == 500
    assert calls(fake, "conversations.history") == 3 and clock.sleeps == [0.25, 0.5]
    await client.aclose()


async def test_5xx_on_post_is_ambiguous_not_retried(slack: SlackClient, fake: SlackFake):
    cid = fake.add_channel("incidents")
    start = fake.next_ts()
    fake.inject("chat.postMessage", http_status(500, after=True))
    with pytest.raises(RemoteError) as info:
        await slack.post_message(cid, "update", metadata=marker_metadata("act-9"))
    assert info.value.ambiguous and info.value.retryable
    assert str(info.value).startswith("Slack answered 500: internal_error — it may have gone")
    assert calls(fake, "chat.postMessage") == 1
    # What the outbox does next: look for the effect before sending again.
    assert await slack.find_message_with_marker(cid, "act-9", start) is not None


async def test_connect_error_on_post_is_retried(slack: SlackClient, fake: SlackFake):
    cid = fake.add_channel("incidents")
    fake.inject("chat.postMessage", connect_error())
    await slack.post_message(cid, "hi")
    assert len(fake.messages(cid)) == 1 and calls(fake, "chat.postMessage") == 2


@pytest.mark.parametrize("after", [False, True])
async def test_timeout_on_post_is_ambiguous(slack: SlackClient, fake: SlackFake, after: bool):
    cid = fake.add_channel("incidents")
    fake.inject("chat.postMessage", read_timeout(after=after))
    with pytest.raises(RemoteError) as info:
        await slack.post_message(cid, "hi")
    assert info.value.ambiguous and "may have gone through" in str(info.value)
    assert len(fake.messages(cid)) == (1 if after else 0)
    assert calls(fake, "chat.postMessage") == 1


async def test_timeout_on_get_is_retried(slack: SlackClient, fake: SlackFake):
    cid = fake.add_channel("alerts")
    fake.inject("conversations.history", read_timeout())
    assert await slack.history(cid) == []
    assert calls(fake, "conversations.history") == 2


async def test_whole_call_deadline(fake: SlackFake, clock: FakeClock):
    client = SlackClient(
        API, fake.token, transport=fake.transport(), sleep=clock.sleep, clock=clock, deadline=0.05
    )
    cid = fake.add_channel("incidents")
    fake.inject("chat.postMessage", slow(5))
    began = time.monotonic()
    with pytest.raises(RemoteError, match=r"no complete answer within 0\.05 s") as info:
        await client.post_message(cid, "hi")
    assert info.value.ambiguous and time.monotonic() - began < 2
    fake.inject("conversations.history", slow(5))
    assert await client.history(cid) is not None  # a GET tries again
    await client.aclose()


async def test_html_proxy_page_is_reported_briefly(slack: SlackClient, fake: SlackFake):
    cid = fake.add_channel("incidents")
    fake.inject("chat.postMessage", html_page(502))
    with pytest.raises(RemoteError) as info:
        await slack.post_message(cid, "hi")
    msg = str(info.value)
    assert msg.startswith("Slack answered 502 with an HTML page (a proxy error?)")
    assert len(msg) < 200 and "<" not in msg and info.value.ambiguous


async def test_truncated_json(slack: SlackClient, fake: SlackFake):
    cid = fake.add_channel("incidents")
    fake.inject("chat.postMessage", truncated_json(after=True))
    with pytest.raises(RemoteError, match="broken JSON") as info:
        await slack.post_message(cid, "hi")
    assert info.value.ambiguous and len(fake.messages(cid)) == 1
    fake.inject("conversations.history", truncated_json())
    with pytest.raises(RemoteError, match="broken JSON") as info:
        await slack.history(cid)
    assert not info.value.ambiguous and info.value.retryable


async def test_huge_body_is_refused(fake: SlackFake, clock: FakeClock):
    client = SlackClient(
        API,
        fake.token,
        transport=fake.transport(),
        sleep=clock.sleep,
        clock=clock,
        max_body=1024 * 1024,
    )
    cid = fake.add_channel("alerts")
    fake.inject("conversations.history", huge_body(2 * 1024 * 1024))
    with pytest.raises(RemoteError, match="larger than 1 MB") as info:
        await client.history(cid)
    assert not info.value.retryable
    await client.aclose()


async def test_wrong_shapes(slack: SlackClient, fake: SlackFake):
    cid = fake.add_channel("alerts")
    fake.inject("conversations.history", wrong_shape([1, 2]))
    with pytest.raises(RemoteError, match="expected an object, got a list"):
        await slack.history(cid)
    fake.inject("conversations.history", wrong_shape({"ok": True, "messages": "none"}))
    with pytest.raises(RemoteError, match="without a list of messages"):
        await slack.history(cid)
    fake.inject("chat.postMessage", wrong_shape({"ok": True}))
    with pytest.raises(RemoteError, match="without the message's ts") as info:
        await slack.post_message(cid, "x")
    assert info.value.ambiguous
    fake.inject("auth.test", wrong_shape({"fine": True}))
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

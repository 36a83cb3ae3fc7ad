"""The drill range as strict as the services, by default: Slack's and Statuspage's tokens,
scopes, rate limits, Block Kit, chat.update / chat.delete, unknown methods and
conversations.invite's per-user errors; and cockpit's own clients facing it (auth refusals in
plain words, Retry-After waited out).

Requests go in process (`server.transport()`; cockpit's clients' exchanges checked against
the vendors' specs by `checked_transport`), and once over the loopback server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cockpit.integrations.errors import AuthRefused, RemoteError
from cockpit.integrations.slack import SlackClient
from cockpit.integrations.statuspage.client import StatuspageClient
from cockpit.sandbox.blockkit import MAX_BLOCKS
from cockpit.sandbox.dispatch import IN_PROCESS_URL
from cockpit.sandbox.faults import RateLimiter
from cockpit.sandbox.scenarios import ScenarioError, parse_scenario
from cockpit.sandbox.server import SandboxServer, banner, build_parser, server_from_args
from cockpit.sandbox.state import BOT_USER_ID, PAGE_ID
from cockpit.sandbox.tokens import (
    APP_TOKEN,
    BOT_TOKEN,
    NARROW_BOT_TOKEN,
    REVOKED_BOT_TOKEN,
    REVOKED_STATUSPAGE_KEY,
    STATUSPAGE_KEY,
)
from tests.integration.test_sandbox_support import FakeClock, checked_transport

INCIDENTS, ALERTS = "C0SBXINCIDNT", "C0SBXALERTS1"
ALICE, PRIYA = "U0SBXALICE1", "U0SBXPRIYA1"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> SandboxServer:
    """Strict (the services' own limits), in process, its limits on the test's clock."""
    return SandboxServer(scenario=None, rate_limits=RateLimiter(clock=clock))


@pytest.fixture
def web(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=IN_PROCESS_URL, transport=server.transport()) as c:
        yield c


def call(
    c: httpx.Client, method: str, token: str = BOT_TOKEN, /, **args: Any
) -> tuple[httpx.Response, dict[str, Any]]:
    r = c.post(f"/api/{method}", json=args, headers={"Authorization": f"Bearer {token}"})
    doc: dict[str, Any] = r.json()
    return r, doc


def ok(c: httpx.Client, method: str, token: str = BOT_TOKEN, /, **args: Any) -> dict[str, Any]:
    r, doc = call(c, method, token, **args)
    assert r.status_code == 200 and doc["ok"] is True, doc
    return doc


# -- tokens and scopes ------------------------------------------------------------------------
def test_only_known_tokens_work(web: httpx.Client, server: SandboxServer) -> None:
    assert ok(web, "auth.test")["user_id"] == BOT_USER_ID
    for unknown in ("xoxb-any", "xoxb-1234-5678-typo", "token", "xoxp-nobody"):
        assert call(web, "auth.test", unknown)[1] == {"ok": False, "error": "invalid_auth"}
    assert call(web, "auth.test", REVOKED_BOT_TOKEN)[1] == {"ok": False, "error": "token_revoked"}
    assert ok(web, "auth.test", "xoxp-priya")["user_id"] == PRIYA  # a person of the workspace
    server.state.tokens.add_slack("xoxb-1111-2222-added")
    assert ok(web, "auth.test", "xoxb-1111-2222-added")["user_id"] == BOT_USER_ID
    server.state.refuse_token(BOT_TOKEN)  # refused from now on (a typo, an uninstalled app)
    assert call(web, "auth.test")[1]["error"] == "invalid_auth"


def test_the_app_token_opens_socket_mode_only(web: httpx.Client, server: SandboxServer) -> None:
    server.state.tokens.add_slack("xapp-1-A0-other")
    assert call(web, "auth.test", APP_TOKEN)[1]["error"] == "not_allowed_token_type"
    assert call(web, "apps.connections.open")[1]["error"] == "not_allowed_token_type"
    assert call(web, "apps.connections.open", "xapp-unknown")[1]["error"] == "invalid_auth"


def test_a_token_lacking_a_scope_gets_missing_scope_with_needed_and_provided(
    web: httpx.Client,
) -> None:
    assert ok(web, "conversations.history", NARROW_BOT_TOKEN, channel=INCIDENTS)["ok"]
    r, doc = call(web, "conversations.create", NARROW_BOT_TOKEN, name="incident-9")
    assert doc["error"] == "missing_scope" and doc["needed"] == "channels:manage"
    provided = doc["provided"].split(",")
    assert "channels:manage" not in provided and "chat:write" in provided
    assert r.headers["x-oauth-scopes"] == doc["provided"]
    # every method cockpit calls checks its scope: a token with none of them can do nothing
    r, doc = call(web, "chat.update", "xoxb-noscope-chat:write", channel=INCIDENTS, ts="1.0")
    assert (doc["error"], doc["needed"]) == ("missing_scope", "chat:write")


def test_a_scenario_brings_its_tokens_and_leniency() -> None:
    source = """
lenient = true

[[tokens]]
token = "xoxb-team-readonly"
scopes = ["channels:read", "channels:history"]

[[tokens]]
token = "xoxb-team-old"
revoked = true

[[tokens]]
token = "team-statuspage-key"
service = "statuspage"
"""
    scenario = parse_scenario(source, "team.toml")
    server = SandboxServer(scenario=scenario)
    assert server.lenient and server.rate_limiter.lenient
    with httpx.Client(base_url=IN_PROCESS_URL, transport=server.transport()) as c:
        _, doc = call(c, "chat.postMessage", "xoxb-team-readonly", channel=INCIDENTS, text="x")
        assert (doc["error"], doc["needed"]) == ("missing_scope", "chat:write")
        assert doc["provided"] == "channels:history,channels:read"
        assert call(c, "auth.test", "xoxb-team-old")[1]["error"] == "token_revoked"
        page = f"/v1/pages/{PAGE_ID}"
        assert c.get(page, headers={"Authorization": "OAuth team-statuspage-key"}).is_success
        for _ in range(80):  # lenient: no Statuspage limit at all
            assert c.get(page, headers={"Authorization": "OAuth team-statuspage-key"}).is_success


@pytest.mark.parametrize(
    "source,problem",
    [
        ('[[tokens]]\ntoken = "abc"\n', "starts with xoxb-"),
        ('[[tokens]]\ntoken = "xapp-1"\nscopes = ["x"]\n', "'scopes' is a list"),
        ('[[tokens]]\ntoken = "xoxb-1"\nwho = 1\n', "unknown key(s) who"),
        ('lenient = "yes"\n', "'lenient' must be true or false"),
        (
            '[[events]]\nat = 1\nchannel = "incidents"\nuser = "priya"\n'
            'blocks = [{ type = "section" }]\n',
            "Slack would refuse these blocks: must provide either text or fields",
        ),
    ],
)
def test_a_scenario_is_checked(source: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(source, "bad.toml")
    assert problem in str(info.value)


def test_statuspage_takes_its_keys_only(server: SandboxServer) -> None:
    page = f"/v1/pages/{PAGE_ID}"
    with httpx.Client(base_url=IN_PROCESS_URL, transport=server.transport()) as c:
        assert c.get(page, headers={"Authorization": f"OAuth {STATUSPAGE_KEY}"}).status_code == 200
        for key in ("any-key", REVOKED_STATUSPAGE_KEY):
            r = c.get(page, headers={"Authorization": f"OAuth {key}"})
            assert r.status_code == 401 and r.json() == {"message": "Could not authenticate"}


# -- rate limits --------------------------------------------------------------------------------
def test_slack_tiers_at_their_real_rates(
    web: httpx.Client, server: SandboxServer, clock: FakeClock
) -> None:
    for _ in range(50):  # Tier 3: 50 a minute
        ok(web, "conversations.history", channel=ALERTS)
    r, doc = call(web, "conversations.history", channel=ALERTS)
    assert r.status_code == 429 and doc == {"ok": False, "error": "ratelimited"}
    assert int(r.headers["Retry-After"]) == 60
    for i in range(20):  # Tier 2: 20 a minute
        ok(web, "conversations.create", name=f"incident-{i}")
    assert call(web, "conversations.create", name="incident-99")[0].status_code == 429
    clock.now += 61
    ok(web, "conversations.history", channel=ALERTS)  # a minute later: fine again


def test_chat_post_message_is_about_one_a_second_per_channel(
    web: httpx.Client, clock: FakeClock
) -> None:
    for i in range(5):  # a short burst is allowed
        ok(web, "chat.postMessage", channel=INCIDENTS, text=f"m{i}")
    r, doc = call(web, "chat.postMessage", channel=INCIDENTS, text="one too many")
    assert r.status_code == 429 and doc["error"] == "ratelimited" and r.headers["Retry-After"]
    ok(web, "chat.postMessage", channel=ALERTS, text="another channel has its own pace")
    clock.now += 1.0
    ok(web, "chat.postMessage", channel=INCIDENTS, text="a second later")
    _, doc = call(web, "chat.postMessage", channel="incidents", text="by name: same channel")
    assert doc["error"] == "ratelimited"
    clock.now += 10.0  # a quiet spell fills the burst again, up to 5
    for i in range(5):
        ok(web, "chat.postMessage", channel=INCIDENTS, text=f"again {i}")
    assert call(web, "chat.postMessage", channel=INCIDENTS, text="x")[0].status_code == 429


def test_lenient_is_classroom_speed() -> None:
    args = build_parser().parse_args(["--port", "0", "--scenario", "quiet", "--lenient"])
    server = server_from_args(args)
    assert server.lenient
    with httpx.Client(base_url=IN_PROCESS_URL, transport=server.transport()) as c:
        for i in range(60):
            ok(c, "conversations.history", channel=ALERTS)
            ok(c, "chat.postMessage", channel=INCIDENTS, text=f"m{i}")
    strict = server_from_args(build_parser().parse_args(["--port", "0"]))
    assert not strict.lenient and "Slack's tiers" in banner_of(strict)
    assert BOT_TOKEN in banner_of(strict) and REVOKED_BOT_TOKEN in banner_of(strict)


def banner_of(server: SandboxServer) -> str:
    server.transport()  # gives it its in-process address
    return banner(server)


def test_statuspage_one_request_a_second_per_key_answered_420(
    server: SandboxServer, clock: FakeClock
) -> None:
    page = f"/v1/pages/{PAGE_ID}"
    auth = {"Authorization": f"OAuth {STATUSPAGE_KEY}"}
    server.state.tokens.add_statuspage("second-key")
    with httpx.Client(base_url=IN_PROCESS_URL, transport=server.transport()) as c:
        for _ in range(60):  # "1 request / second as measured on a 60 second rolling window"
            assert c.get(page, headers=auth).status_code == 200
        r = c.get(page, headers=auth)
        assert r.status_code == 420 and "Retry-After" not in r.headers
        assert c.get(page, headers={"Authorization": "OAuth second-key"}).status_code == 200
        clock.now += 60
        assert c.get(page, headers=auth).status_code == 200


# -- Block Kit --------------------------------------------------------------------------------
def test_invalid_blocks_are_refused_as_slack_does(web: httpx.Client, server: SandboxServer) -> None:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},
        {"type": "header", "text": {"type": "mrkdwn", "text": "*Checkout down*"}},
        {"type": "carousel"},
    ]
    _, doc = call(web, "chat.postMessage", channel=INCIDENTS, text="fallback", blocks=blocks)
    assert doc["ok"] is False and doc["error"] == "invalid_blocks"
    assert doc["errors"] == [
        "failed to match all allowed schemas [json-pointer:/blocks/0/text]",
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
        "failed to match all allowed schemas [json-pointer:/blocks/1/text]",
        "must be one of: plain_text [json-pointer:/blocks/1/text/type]",
        "unsupported type: carousel [json-pointer:/blocks/2/type]",
    ]
    assert doc["response_metadata"]["messages"] == [f"[ERROR] {e}" for e in doc["errors"]]
    too_many = [{"type": "divider"}] * (MAX_BLOCKS + 1)
    _, doc = call(web, "chat.postMessage", channel=INCIDENTS, blocks=too_many)
    assert doc["errors"] == ["must be no more than 50 items [json-pointer:/blocks]"]
    _, doc = call(web, "chat.postMessage", channel=INCIDENTS, blocks="[{not json")
    assert doc["error"] == "invalid_blocks_format"
    assert server.state.channel_by_name("incidents").messages == []  # type: ignore[union-attr]


def test_valid_blocks_are_posted(web: httpx.Client) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Checkout down", "emoji": True}},
        {
            "type": "section",
            "block_id": "summary",
            "text": {"type": "mrkdwn", "text": "*SEV1* card payments fail"},
            "fields": [{"type": "mrkdwn", "text": "*Lead*\n<@U0SBXALICE1>"}],
            "accessory": {
                "type": "button",
                "text": {"type": "plain_text", "text": "Status page"},
                "url": "https://status.drill-range.example",
            },
        },
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Posted by cockpit"}]},
        {
            "type": "rich_text",
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": "hi"}]}
            ],
        },
    ]
    doc = ok(web, "chat.postMessage", channel=INCIDENTS, text="Checkout down", blocks=blocks)
    assert doc["message"]["blocks"] == blocks


# -- chat.update, chat.delete, unknown methods, invite ------------------------------------------
def test_chat_update_and_delete_the_bots_own_messages(
    web: httpx.Client, server: SandboxServer
) -> None:
    events: list[dict[str, Any]] = []
    server.state.listeners.append(lambda _ch, event: events.append(event))
    ts = ok(web, "chat.postMessage", channel=INCIDENTS, text="SEV2: checkout")["ts"]
    doc = ok(web, "chat.update", channel=INCIDENTS, ts=ts, text="SEV1: checkout")
    assert (doc["channel"], doc["ts"], doc["text"]) == (INCIDENTS, ts, "SEV1: checkout")
    assert doc["message"]["edited"]["user"] == BOT_USER_ID
    stored = server.state.channels[INCIDENTS].by_ts[ts]
    assert stored["text"] == "SEV1: checkout"
    _, refused = call(web, "chat.update", channel=INCIDENTS, ts=ts, blocks=[{"type": "x"}])
    assert refused["error"] == "invalid_blocks" and stored["text"] == "SEV1: checkout"
    theirs = ok(web, "chat.postMessage", "xoxp-priya", channel=INCIDENTS, text="mine")["ts"]
    assert call(web, "chat.update", channel=INCIDENTS, ts=theirs, text="x")[1]["error"] == (
        "cant_update_message"
    )
    assert call(web, "chat.delete", channel=INCIDENTS, ts=theirs)[1]["error"] == (
        "cant_delete_message"
    )
    assert ok(web, "chat.delete", channel=INCIDENTS, ts=ts) == {
        "ok": True,
        "channel": INCIDENTS,
        "ts": ts,
    }
    assert ts not in server.state.channels[INCIDENTS].by_ts
    assert call(web, "chat.delete", channel=INCIDENTS, ts=ts)[1]["error"] == "message_not_found"
    assert [e.get("subtype") for e in events] == [
        None,
        "message_changed",
        None,
        "message_deleted",
    ]


def test_an_unknown_method_names_itself(web: httpx.Client) -> None:
    r, doc = call(web, "chat.scheduleNothing")
    assert r.status_code == 404
    assert doc == {"ok": False, "error": "unknown_method", "req_method": "chat.scheduleNothing"}


def test_conversations_invite_names_each_user_it_could_not_invite(
    web: httpx.Client, server: SandboxServer
) -> None:
    cid = ok(web, "conversations.create", name="incident-7")["channel"]["id"]
    _, doc = call(web, "conversations.invite", channel=cid, users=f"{ALICE},U0NOBODY,{BOT_USER_ID}")
    assert doc["ok"] is False and doc["error"] == "user_not_found"
    assert doc["errors"] == [
        {"user": "U0NOBODY", "ok": False, "error": "user_not_found"},
        {"user": BOT_USER_ID, "ok": False, "error": "cant_invite_self"},
    ]
    assert ALICE not in server.state.channels[cid].members  # nobody is invited
    doc = ok(web, "conversations.invite", channel=cid, users=f"{ALICE},U0NOBODY", force=True)
    assert doc["errors"] == [{"user": "U0NOBODY", "ok": False, "error": "user_not_found"}]
    assert ALICE in server.state.channels[cid].members  # force: the valid ones are invited
    _, doc = call(web, "conversations.invite", channel=cid, users=ALICE)
    assert doc["error"] == "already_in_channel"
    assert doc["errors"] == [{"user": ALICE, "ok": False, "error": "already_in_channel"}]
    doc = ok(web, "conversations.invite", channel=cid, users=f"{ALICE},{PRIYA}")
    assert doc["errors"] == [{"user": ALICE, "ok": False, "error": "already_in_channel"}]
    assert PRIYA in server.state.channels[cid].members


# -- cockpit's own clients against the strict range --------------------------------------------
def slack_client(server: SandboxServer, clock: FakeClock, token: str = BOT_TOKEN) -> SlackClient:
    return SlackClient(
        f"{IN_PROCESS_URL}/api",
        token,
        transport=checked_transport(server, "slack"),
        sleep=clock.sleep,
        clock=clock,
        rng=lambda: 1.0,
    )


async def test_cockpit_says_refused_tokens_and_missing_scopes_in_plain_words(
    server: SandboxServer, clock: FakeClock
) -> None:
    for token, words in (
        ("xoxb-9999-8888-typo", "Slack refused the token"),
        (REVOKED_BOT_TOKEN, "revoked"),
    ):
        c = slack_client(server, clock, token)
        with pytest.raises(AuthRefused) as info:
            await c.auth_test()
        assert words in str(info.value) and "cockpit auth set slack" in str(info.value)
        assert token not in repr(info.value)
        await c.aclose()
    narrow = slack_client(server, clock, NARROW_BOT_TOKEN)
    with pytest.raises(AuthRefused) as refused:
        await narrow.create_channel("incident-8")
    err = refused.value
    assert err.code == "missing_scope" and list(err.needed) == ["channels:manage"]
    assert "chat:write" in err.provided
    assert "lacks the scope channels:manage" in str(err) and "cockpit auth set slack" in str(err)
    await narrow.aclose()


async def test_cockpit_meets_slacks_retry_after(server: SandboxServer, clock: FakeClock):
    """Tier 3's minute used up: a read told to wait longer than the client sits out is
    raised with the wait in plain words (the feed and the outbox wait); a shorter one is
    slept, then the read goes through."""
    c = slack_client(server, clock)
    for _ in range(50):
        await c.history(ALERTS)
    with pytest.raises(RemoteError) as info:
        await c.history(ALERTS)
    assert info.value.retry_after == 60.0 and info.value.retryable
    assert "rate limiting us" in str(info.value) and "wait 60 s" in str(info.value)
    clock.now += 35.0  # the window's first call is 25 s from leaving it
    assert await c.history(ALERTS) == []
    assert clock.sleeps == [25.0]
    await c.aclose()


async def test_cockpit_statuspage_keeps_to_the_strict_limit_and_names_a_bad_key(
    server: SandboxServer, clock: FakeClock
) -> None:
    transport = checked_transport(server, "statuspage")
    sp = StatuspageClient(
        f"{IN_PROCESS_URL}/v1",
        PAGE_ID,
        STATUSPAGE_KEY,
        transport=transport,
        clock=clock,
        sleep=clock.sleep,
    )
    for _ in range(70):
        await sp.components()
    assert server.state.requests[f"statuspage:GET /v1/pages/{PAGE_ID}/components"] == 70
    await sp.aclose()
    bad = StatuspageClient(
        f"{IN_PROCESS_URL}/v1",
        PAGE_ID,
        "not-our-key",
        transport=transport,
        clock=clock,
        sleep=clock.sleep,
    )
    with pytest.raises(RemoteError) as info:
        await bad.page()
    assert "API key was refused" in str(info.value)
    assert "cockpit auth set statuspage" in str(info.value)
    await bad.aclose()


def test_over_loopback_the_strict_range_answers_as_in_process() -> None:
    with SandboxServer(scenario=None) as srv, httpx.Client(base_url=srv.base_url) as c:
        assert call(c, "auth.test", "xoxb-any")[1]["error"] == "invalid_auth"
        assert ok(c, "auth.test")["ok"]
        r = c.get(f"/v1/pages/{PAGE_ID}", headers={"Authorization": "OAuth nope"})
        assert r.status_code == 401

"""Refused credentials and missing scopes, in plain words: the system, what happened, the
command that fixes it and, for Slack, the scope. Against the drill range in process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cockpit.integrations.errors import AuthRefused, scope_words
from cockpit.integrations.http import NO_RETRY
from cockpit.integrations.jira.client import JiraClient
from cockpit.integrations.slack.client import SlackClient
from cockpit.integrations.statuspage.client import StatuspageClient
from cockpit.sandbox.dispatch import IN_PROCESS_URL
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.state import PAGE_ID

TOKEN = "xoxb-1111-2222-SECRETSLACKTOKEN"
JIRA_TOKEN = "ATATT3xSECRETJIRATOKEN"
PAGE_KEY = "sp-SECRETPAGEKEY"


async def _nosleep(_: float) -> None:
    return None


@pytest.fixture
def server() -> SandboxServer:
    return SandboxServer(scenario=None, tokens=[TOKEN, PAGE_KEY])


@pytest.fixture
async def slack(server: SandboxServer) -> AsyncIterator[SlackClient]:
    client = SlackClient(
        f"{IN_PROCESS_URL}/api", TOKEN, transport=server.transport(), retry=NO_RETRY
    )
    yield client
    await client.aclose()


def slack_with(server: SandboxServer, token: str) -> SlackClient:
    return SlackClient(f"{IN_PROCESS_URL}/api", token, transport=server.transport(), retry=NO_RETRY)


async def test_the_default_drill_token_has_every_scope(slack: SlackClient):
    reply = await slack.request("GET", "auth.test")
    scopes = reply.headers["x-oauth-scopes"].split(",")
    assert {"channels:manage", "chat:write", "channels:join", "users:read"} <= set(scopes)
    assert (await slack.create_channel("inc-7-scopes")).name == "inc-7-scopes"


async def test_slack_invalid_auth(server: SandboxServer, slack: SlackClient):
    server.state.refuse_token(TOKEN)
    with pytest.raises(AuthRefused) as info:
        await slack.auth_test()
    text = str(info.value)
    assert text.startswith("Slack refused the token (invalid_auth) — ")
    assert text.endswith("then `cockpit auth set slack`")
    assert "SECRETSLACKTOKEN" not in text and not info.value.retryable


async def test_slack_token_revoked(server: SandboxServer):
    client = slack_with(server, "xoxb-revoked-1234")
    with pytest.raises(AuthRefused) as info:
        await client.post_message("C0SBXINCIDNT", "hello")
    await client.aclose()
    text = str(info.value)
    assert text.startswith("Slack refused the token: it has been revoked (token_revoked)")
    assert "reinstall the app" in text and text.endswith("`cockpit auth set slack`")


async def test_slack_missing_scope_names_the_scope_and_what_the_token_has(server: SandboxServer):
    token = "xoxb-2222-narrow"
    server.state.tokens.add_slack(token, scopes=["chat:write", "channels:history"])
    client = slack_with(server, token)
    with pytest.raises(AuthRefused) as info:
        await client.create_channel("inc-8-payments")
    await client.aclose()
    err = info.value
    assert err.code == "missing_scope"
    assert err.needed == ("channels:manage",)
    assert set(err.provided) == {"chat:write", "channels:history"}
    assert str(err) == (
        "Slack refused the token: it lacks the scope channels:manage (it has "
        "channels:history, chat:write) (missing_scope) — Add the scope to the app, "
        "reinstall it, then `cockpit auth set slack`."
    )


async def test_a_noscope_token_lacks_the_scopes_it_names(server: SandboxServer):
    client = slack_with(server, "xoxb-noscope-channels:join")
    reply = await client.request("GET", "auth.test")
    assert "channels:join" not in reply.headers["x-oauth-scopes"].split(",")
    with pytest.raises(AuthRefused, match="lacks the scope channels:join"):
        await client.join("C0SBXINCIDNT")
    await client.post_message("C0SBXINCIDNT", "still allowed")  # chat:write is there
    await client.aclose()


def test_scope_words_of_several_needed_scopes():
    what, hint = scope_words("channels:manage,groups:write", "")
    assert (
        what == "refused the token: it lacks the scopes channels:manage, groups:write (it has none)"
    )
    assert hint.startswith("Add one of the scope") and hint.endswith("`cockpit auth set slack`.")


async def test_slack_app_token_refused_names_its_own_secret(server: SandboxServer):
    server.state.refuse_token("xapp-1-A0-SECRET")
    client = slack_with(server, "xapp-1-A0-SECRET")
    with pytest.raises(AuthRefused) as info:
        await client.open_socket()
    await client.aclose()
    assert "`cockpit auth set slack-app`" in str(info.value)


async def test_jira_401_and_403(server: SandboxServer):
    jira = JiraClient(
        IN_PROCESS_URL,
        "oncall@example.com",
        JIRA_TOKEN,
        transport=server.transport(),
        retry=NO_RETRY,
    )
    server.state.refuse_token(JIRA_TOKEN)
    with pytest.raises(AuthRefused) as info:
        await jira.myself()
    text = str(info.value)
    assert text.startswith("Jira: the email or API token was refused")
    assert "id.atlassian.com" in text and text.endswith("then `cockpit auth set jira`")
    assert info.value.status == 401 and JIRA_TOKEN not in text

    server.state.refused_tokens.clear()
    server.faults.force(
        "status",
        status=403,
        on="GET /rest/api/3/myself",
        body={"errorMessages": ["You do not have the permission to see the specified issue."]},
    )
    with pytest.raises(AuthRefused) as info:
        await jira.myself()
    text = str(info.value)
    assert text.startswith("Jira: the account is not allowed to do this: You do not have")
    assert "ask a Jira admin" in text and text.endswith("`cockpit auth set jira`")
    await jira.aclose()


async def test_statuspage_401(server: SandboxServer):
    sp = StatuspageClient(
        f"{IN_PROCESS_URL}/v1",
        PAGE_ID,
        PAGE_KEY,
        transport=server.transport(),
        retry=NO_RETRY,
        sleep=_nosleep,
        min_interval=0.0,
    )
    server.state.refuse_token(PAGE_KEY)
    with pytest.raises(AuthRefused) as info:
        await sp.page()
    await sp.aclose()
    text = str(info.value)
    assert text.startswith("Statuspage: the API key was refused")
    assert "manage.statuspage.io" in text and text.endswith("then `cockpit auth set statuspage`")
    assert PAGE_KEY not in text

"""JiraClient's reads for the tracker watch and `I` against the drill range in process
(every exchange checked against Jira's spec): several tickets in one search, one with a
GET, a key Jira refuses in the search read one by one; a ticket's remote links."""

from __future__ import annotations

import json

import httpx

from cockpit.integrations import adf
from cockpit.integrations.jira import JiraClient
from cockpit.sandbox.server import SandboxServer
from tests.integration.test_jira_client import (
    EMAIL,
    REQUIRED,
    TOKEN,
    URL,
    client,
    clock,
    jira,
    server,
)
from tests.integration.test_sandbox_support import FakeClock, checked_transport

__all__ = ["clock", "jira", "server"]  # (the fixtures)
FIELDS = ["status", "priority", "updated"]


async def make(jira: JiraClient, title: str) -> str:
    created = await jira.create_issue(
        "INCIDENT", title, adf.from_plain(title), "Task", ["cockpit"], extra=REQUIRED
    )
    return created.key


async def test_issues_by_key_one_get_or_one_search(jira: JiraClient, server: SandboxServer) -> None:
    a, b = await make(jira, "Search down"), await make(jira, "Login slow")
    [one] = await jira.issues_by_key([a], FIELDS)
    assert one.key == a and one.status == "Pending" and "updated" in one.fields
    both = await jira.issues_by_key([b, a, "not a key", a], FIELDS)
    assert sorted(i.key for i in both) == sorted([a, b])
    assert await jira.issues_by_key(["INCIDENT-999"], FIELDS) == []  # (a 404: left out)


async def test_a_key_jira_refuses_in_search_is_read_one_by_one(
    server: SandboxServer, clock: FakeClock
) -> None:
    """Jira Cloud answers 400 to `key in (…)` naming a key it does not have."""
    inner = checked_transport(server, "jira")
    searches = []

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/search/jql"):
            searches.append(request)
            if "INCIDENT-999" in json.loads(request.content)["jql"]:
                body = {"errorMessages": ["An issue with key 'INCIDENT-999' does not exist."]}
                return httpx.Response(400, json=body)
        return await inner.handle_async_request(request)

    jira = JiraClient(
        URL, EMAIL, TOKEN, transport=httpx.MockTransport(handle), sleep=clock.sleep, clock=clock
    )
    maker = client(server, clock)
    a = await make(maker, "Search down")
    found = await jira.issues_by_key([a, "INCIDENT-999"], FIELDS)
    assert [i.key for i in found] == [a] and len(searches) == 1
    await jira.aclose()
    await maker.aclose()


async def test_remote_links(jira: JiraClient, server: SandboxServer, clock: FakeClock) -> None:
    key = await make(jira, "Search down")
    await jira.remote_link(key, "https://x.slack.com/archives/C0123ABCD", "#incident-7")
    await jira.remote_link(key, "javascript:alert(1)", "bad")
    # (unchecked: Jira's spec declares this answer one link, its own example and Jira Cloud
    # answer a list of them)
    reader = JiraClient(
        URL, EMAIL, TOKEN, transport=server.transport(), sleep=clock.sleep, clock=clock
    )
    try:
        links = await reader.remote_links(key)
    finally:
        await reader.aclose()
    assert links == [("https://x.slack.com/archives/C0123ABCD", "#incident-7")]

"""JiraClient against the in-memory Jira (every exchange checked against Jira's spec + ADF)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from cockpit.integrations import adf
from cockpit.integrations.errors import RemoteError, TransitionUnavailable
from cockpit.integrations.jira import JiraClient, jql_string
from tests.integration.fakes import (
    FakeClock,
    JiraFake,
    html_page,
    http_status,
    rate_limited,
    read_timeout,
    wrong_shape,
)
from tests.spec_check import check_adf

URL = "https://jira.test"


@pytest.fixture
def fake() -> JiraFake:
    return JiraFake()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def jira(fake: JiraFake, clock: FakeClock) -> AsyncIterator[JiraClient]:
    client = JiraClient(
        URL,
        fake.email,
        fake.token,
        transport=fake.transport(),
        sleep=clock.sleep,
        clock=clock,
        rng=lambda: 1.0,
    )
    yield client
    await client.aclose()


DESCRIPTION = adf.adf_doc(
    adf.heading(2, "Impact"),
    adf.paragraph("Checkout fails for ", adf.text("EU users", strong=True), "."),
    adf.bullet_list(
        "Grafana: https://grafana.example/d/1",
        ["Slack ", adf.text("thread", href="https://x.slack.com/archives/C1/p1")],
    ),
)


async def test_myself(jira: JiraClient, fake: JiraFake):
    me = await jira.myself()
    assert (me.account_id, me.display_name, me.email) == (fake.account_id, "On Call", fake.email)


async def test_create_issue_returns_key_and_browse_url(jira: JiraClient, fake: JiraFake):
    created = await jira.create_issue(
        "INC",
        "Checkout down",
        DESCRIPTION,
        "Task",
        ["cockpit", "incident 42"],
        properties={"cockpit.marker": {"marker": "inc-42"}},
    )
    assert created.key == "INC-1" and created.url == "https://jira.test/browse/INC-1"
    stored = fake.issues["INC-1"]
    assert stored["fields"]["description"] == DESCRIPTION
    assert stored["fields"]["labels"] == ["cockpit", "incident-42"]  # labels hold no spaces
    assert stored["properties"]["cockpit.marker"] == {"marker": "inc-42"}
    issue = await jira.get_issue("INC-1")
    assert (issue.summary, issue.status, issue.labels) == (
        "Checkout down",
        "OPEN",
        ("cockpit", "incident-42"),
    )


async def test_create_issue_field_errors_are_readable(jira: JiraClient):
    with pytest.raises(RemoteError) as info:
        await jira.create_issue("NOPE", "x", adf.from_plain("x"))
    assert "project: valid project is required" in str(info.value)
    assert info.value.status == 400 and not info.value.ambiguous


async def test_get_issue_not_found(jira: JiraClient):
    with pytest.raises(RemoteError) as info:
        await jira.get_issue("INC-999")
    assert str(info.value).startswith("Jira: not found: Issue does not exist")
    assert "check the issue key" in str(info.value) and info.value.status == 404


async def test_search_by_label_and_paging(jira: JiraClient, fake: JiraFake):
    for i in range(5):
        fake.add_issue("INC", f"i{i}", labels=("cockpit-inc-7",))
    fake.add_issue("OPS", "other", labels=("cockpit-inc-7",))
    fake.add_issue("INC", "unrelated", labels=("x",))
    found = await jira.search_by_label("cockpit-inc-7", project="INC")
    assert [i.summary for i in found] == ["i4", "i3", "i2", "i1", "i0"]  # newest first
    paged = await jira.search('labels = "cockpit-inc-7"', max_results=2)
    assert len(paged) == 6 and fake.calls.count("search") == 1 + 3
    assert await jira.search_by_label("none-such") == []
    assert jql_string('a "b" \\c') == '"a \\"b\\" \\\\c"'


async def test_transitions_by_name_in_the_incident_workflow(jira: JiraClient, fake: JiraFake):
    key = fake.add_issue("INC", "db down")
    assert {t.name for t in await jira.transitions(key)} == {"FIXING", "CANCELED"}
    chosen = await jira.transition_to(key, "fixing")  # case-insensitive
    assert chosen is not None and chosen.id == "11"
    assert fake.issues[key]["fields"]["status"] == "FIXING"
    await jira.transition_to(key, "Resolved", comment=adf.from_plain("fixed by rollback"))
    assert fake.issues[key]["fields"]["status"] == "RESOLVED"
    assert fake.issues[key]["comments"][-1]["body"] == adf.from_plain("fixed by rollback")


async def test_transitions_by_name_in_another_workflow(jira: JiraClient, fake: JiraFake):
    key = fake.add_issue("OPS", "follow-up")
    chosen = await jira.transition_to(key, "START PROGRESS")
    assert chosen is not None and chosen.id == "4"  # another workflow, other ids
    assert fake.issues[key]["fields"]["status"] == "In Progress"
    # Matched by the status it leads to when no transition has that name.
    key2 = fake.add_issue("OPS", "other")
    chosen = await jira.transition_to(key2, "in progress")
    assert chosen is not None and chosen.name == "Start Progress"


async def test_unknown_transition_lists_what_is_on_offer(jira: JiraClient, fake: JiraFake):
    key = fake.add_issue("OPS", "follow-up")
    with pytest.raises(TransitionUnavailable) as info:
        await jira.transition_to(key, "FIXING")
    err = info.value
    assert err.available == ("Start Progress", "Won't Do")
    assert "Start Progress, Won't Do" in str(err) and "To Do" in str(err)
    assert "do_transition" not in fake.calls


async def test_transition_already_done_is_harmless(jira: JiraClient, fake: JiraFake):
    key = fake.add_issue("INC", "db down", status="FIXING")
    assert await jira.transition_to(key, "fixing") is None
    assert "do_transition" not in fake.calls


async def test_comments_with_marker(jira: JiraClient, fake: JiraFake):
    key = fake.add_issue("INC", "db down")
    cid = await jira.add_comment(
        key, adf.from_plain("Update: see https://status.example"), marker="act-5"
    )
    assert await jira.find_comment_with_marker(key, "act-5") == cid
    assert await jira.find_comment_with_marker(key, "act-6") is None
    comments = await jira.comments(key)
    assert adf.adf_to_text(comments[0]["body"]) == "Update: see https://status.example"


async def test_remote_link_is_idempotent(jira: JiraClient, fake: JiraFake):
    key = fake.add_issue("INC", "db down")
    await jira.remote_link(key, "https://x.slack.com/archives/C1/p1", "Slack thread")
    await jira.remote_link(key, "https://x.slack.com/archives/C1/p1", "Slack thread")
    long_url = "https://status.example/" + "x" * 300
    await jira.remote_link(key, long_url, "Status page")
    links = fake.issues[key]["remote_links"]
    assert len(links) == 2 and all(len(gid) <= 255 for gid in links)


async def test_link_assign_labels_properties(jira: JiraClient, fake: JiraFake):
    a, b = fake.add_issue("INC", "incident"), fake.add_issue("OPS", "follow-up")
    await jira.link_issues(a, b)
    assert fake.links == [("Relates", a, b)]
    with pytest.raises(RemoteError, match="No issue link type with name 'Causes'"):
        await jira.link_issues(a, b, "Causes")
    await jira.assign(a, fake.account_id)
    assert fake.issues[a]["fields"]["assignee"] == fake.account_id
    await jira.add_labels(a, ["sev1", "sev1", "payments team"])
    assert fake.issues[a]["fields"]["labels"] == ["sev1", "payments-team"]
    assert await jira.get_property(a, "cockpit.state") is None
    await jira.set_property(a, "cockpit.state", {"step": 3, "acked": True})
    await jira.set_property(a, "cockpit.state", {"step": 4, "acked": True})
    assert await jira.get_property(a, "cockpit.state") == {"step": 4, "acked": True}


async def test_bad_credentials_are_named_and_never_shown(fake: JiraFake, clock: FakeClock):
    client = JiraClient(
        URL,
        fake.email,
        "WRONG-TOKEN-1234",
        transport=fake.transport(),
        sleep=clock.sleep,
        clock=clock,
    )
    with pytest.raises(RemoteError) as info:
        await client.myself()
    text = repr(info.value) + str(info.value)
    assert "email or API token was refused" in text and "id.atlassian.com" in text
    basic = base64.b64encode(f"{fake.email}:WRONG-TOKEN-1234".encode()).decode()
    assert "WRONG-TOKEN-1234" not in text and basic not in text
    await client.aclose()


async def test_server_echoing_credentials_is_redacted(jira: JiraClient, fake: JiraFake):
    basic = base64.b64encode(f"{fake.email}:{fake.token}".encode()).decode()
    fake.inject(
        "get_issue",
        wrong_shape({"errorMessages": [f"bad header Basic {basic}", f"token {fake.token}"]}, 400),
    )
    with pytest.raises(RemoteError) as info:
        await jira.get_issue("INC-1")
    assert basic not in str(info.value) and fake.token not in str(info.value)


async def test_ambiguous_create_then_found_by_label(jira: JiraClient, fake: JiraFake):
    fake.inject("create_issue", read_timeout(after=True))
    with pytest.raises(RemoteError) as info:
        await jira.create_issue("INC", "db down", adf.from_plain("x"), labels=["cockpit-inc-9"])
    assert info.value.ambiguous
    found = await jira.search_by_label("cockpit-inc-9")
    assert [i.key for i in found] == ["INC-1"]  # the outbox will not create a second one


async def test_5xx_on_post_is_ambiguous_and_get_is_retried(
    jira: JiraClient, fake: JiraFake, clock: FakeClock
):
    key = fake.add_issue("INC", "db down")
    fake.inject("add_comment", http_status(503, after=True))
    with pytest.raises(RemoteError) as info:
        await jira.add_comment(key, adf.from_plain("x"))
    assert info.value.ambiguous and fake.calls.count("add_comment") == 1
    fake.inject("get_issue", http_status(502), rate_limited("4"))
    assert (await jira.get_issue(key)).key == key
    assert clock.sleeps == [0.5, 4.0]


async def test_html_login_page_on_create(jira: JiraClient, fake: JiraFake):
    fake.inject("create_issue", html_page(503))
    with pytest.raises(RemoteError) as info:
        await jira.create_issue("INC", "x", adf.from_plain("x"))
    assert str(info.value).startswith("Jira answered 503 with an HTML page")
    assert len(str(info.value)) < 200 and info.value.ambiguous


async def test_unexpected_document(jira: JiraClient, fake: JiraFake):
    fake.inject("create_issue", wrong_shape({"id": "1"}, 201))
    with pytest.raises(RemoteError, match="'key' missing") as info:
        await jira.create_issue("INC", "x", adf.from_plain("x"))
    assert info.value.ambiguous  # it was probably created: look before creating again
    fake.inject("transitions", wrong_shape({"transitions": {}}))
    with pytest.raises(RemoteError, match="'transitions' is not a list"):
        await jira.transitions("INC-1")


# -- ADF -------------------------------------------------------------------------------------------
def test_adf_builders_are_valid_adf():
    check_adf(DESCRIPTION)
    doc = adf.from_plain("First line with https://a.example/x.\n\n- one\n- two\nlast")
    check_adf(doc)
    kinds = [b["type"] for b in doc["content"]]
    assert kinds == ["paragraph", "bulletList", "paragraph"]
    link = doc["content"][0]["content"][1]
    assert (
        link["text"] == "https://a.example/x"
        and link["marks"][0]["attrs"]["href"] == "https://a.example/x"
    )
    check_adf(adf.from_plain(""))
    with pytest.raises(ValueError):
        adf.text("")


def test_adf_to_text():
    assert adf.adf_to_text(DESCRIPTION) == (
        "Impact\nCheckout fails for EU users.\n"
        "• Grafana: https://grafana.example/d/1\n"
        "• Slack thread (https://x.slack.com/archives/C1/p1)"
    )
    jira_written = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "mention", "attrs": {"id": "5b10", "text": "@Mia"}},
                    {"type": "text", "text": " please look"},
                    {"type": "hardBreak"},
                    {"type": "emoji", "attrs": {"shortName": ":fire:", "text": "🔥"}},
                    {"type": "text", "text": "\x1b]52;c;eA==\x07x"},
                ],
            },
            {
                "type": "orderedList",
                "content": [
                    {
                        "type": "listItem",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "step"}]}
                        ],
                    }
                ],
            },
        ],
    }
    assert adf.adf_to_text(jira_written) == "@Mia please look\n🔥x\n1. step"
    assert adf.adf_to_text("v2 plain text") == "v2 plain text"

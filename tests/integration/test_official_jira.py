"""The `jira` library (pycontribs), Jira's most used Python client, with its default options
against the drill range on a real loopback server: the calls an incident makes.

`JIRA(server=..., basic_auth=...)` asks `serverInfo` first (it needs `versionNumbers`) and
talks REST v2 (rich text as plain strings) by default; its search asks `/field` first,
`create_issue_link` reads `/issueLinkType`. The range's strict answers (a required field
missing, a transition screen without its resolution, a field not on the screen) reach it as
`JIRAError`s carrying Jira Cloud's own words, and the range keeps rich text as ADF either
way, as Cloud does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

try:
    from jira import JIRA, JIRAError
except ImportError:  # the test extra installs it (pyproject.toml)
    if os.environ.get("COCKPIT_REQUIRE_TOOLS") == "1":
        raise
    pytest.skip(
        "the jira library is not installed: pip install -e '.[test]'", allow_module_level=True
    )

from cockpit.integrations import adf
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.state import JSON

pytestmark = pytest.mark.timeout(120)

EMAIL = "oncall@drill-range.example"
REQUIRED = {"priority": {"name": "High"}, "customfield_10042": {"value": "Major"}}


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(scenario=None, socket_mode=False, search_lag=0) as srv:
        yield srv


@pytest.fixture
def jira(server: SandboxServer) -> Iterator[JIRA]:
    client = JIRA(server=server.base_url, basic_auth=(EMAIL, "jira-api-token"))
    yield client
    client.close()


def stored(server: SandboxServer, key: str) -> JSON:
    issue: JSON = server.state.snapshot()["jira"]["issues"][key]
    return issue


def new_incident(jira: JIRA, summary: str = "Checkout payments failing") -> str:
    issue = jira.create_issue(
        project="INCIDENT",
        summary=summary,
        issuetype={"name": "Task"},
        description="Card payments fail at checkout.\nEU buyers only.",
        labels=["incident"],
        **REQUIRED,
    )
    return str(issue.key)


def test_server_info_is_cloud_with_version_numbers(jira: JIRA, server: SandboxServer):
    info = jira.server_info()
    assert info["deploymentType"] == "Cloud" and info["versionNumbers"][0] >= 1000
    assert jira._is_cloud  # what the library decides its Cloud-only calls by
    assert server.state.requests["jira:GET /rest/api/2/serverInfo"] >= 1


def test_create_issue_with_the_required_fields(jira: JIRA, server: SandboxServer):
    key = new_incident(jira)
    assert key == "INCIDENT-1"
    issue = jira.issue(key)  # v2: rich text is a plain string
    assert issue.fields.summary == "Checkout payments failing"
    assert issue.fields.description == "Card payments fail at checkout.\nEU buyers only."
    assert issue.fields.priority.name == "High"
    assert issue.raw["fields"]["customfield_10042"]["value"] == "Major"
    # kept as ADF, as Cloud keeps it (the v3 API answers the document)
    assert stored(server, key)["description"] == adf.from_plain(
        "Card payments fail at checkout.\nEU buyers only."
    )
    # the project and the issue type by name, as the library looks them up
    by_name = jira.create_issue(
        project="BUG", summary="Retry card auth", issuetype="Bug", description="x"
    )
    assert by_name.key == "BUG-1" and by_name.fields.priority.name == "Medium"  # its default


def test_create_issue_refusals_are_jira_clouds(jira: JIRA, server: SandboxServer):
    with pytest.raises(JIRAError) as info:
        jira.create_issue(project={"key": "INCIDENT"}, summary="x", issuetype={"name": "Task"})
    assert info.value.status_code == 400
    assert "Priority is required." in info.value.text and "Severity is required." in info.value.text
    with pytest.raises(JIRAError) as info:
        jira.create_issue(
            project={"key": "INCIDENT"},
            summary="x",
            issuetype={"name": "Task"},
            customfield_99999="x",
            **REQUIRED,
        )
    assert (
        "Field 'customfield_99999' cannot be set. It is not on the appropriate screen, or unknown."
        in info.value.text
    )
    assert server.state.issues == {}


def test_transitions_and_the_resolution_screen(jira: JIRA, server: SandboxServer):
    key = new_incident(jira)
    assert [t["name"] for t in jira.transitions(key)] == ["FIXING", "CANCELED"]
    jira.transition_issue(key, "FIXING")
    assert stored(server, key)["status"] == "Fixing"
    resolved = next(
        t for t in jira.transitions(key, expand="transitions.fields") if t["name"] == "RESOLVED"
    )
    assert resolved["hasScreen"] and resolved["fields"]["resolution"]["required"]
    with pytest.raises(JIRAError) as info:
        jira.transition_issue(key, "RESOLVED")
    assert info.value.status_code == 400 and "Resolution is required." in info.value.text
    assert stored(server, key)["status"] == "Fixing"
    jira.transition_issue(key, "RESOLVED", fields={"resolution": {"name": "Done"}})
    issue = jira.issue(key)
    assert issue.fields.status.name == "Resolved" and issue.fields.resolution.name == "Done"


def test_add_comment_is_plain_text_in_v2_and_adf_on_the_ticket(jira: JIRA, server: SandboxServer):
    key = new_incident(jira)
    comment = jira.add_comment(key, "Mitigated: payments routed to the backup acquirer.")
    assert comment.body == "Mitigated: payments routed to the backup acquirer."
    assert [c.body for c in jira.comments(key)] == [comment.body]
    assert stored(server, key)["comments"][0]["body"] == adf.from_plain(comment.body)


def test_search_issues(jira: JIRA, server: SandboxServer):
    first, second = new_incident(jira, "one"), new_incident(jira, "two")
    found = jira.search_issues("project = INCIDENT ORDER BY created DESC")
    assert [i.key for i in found] == [second, first]
    assert found[0].fields.summary == "two"
    assert server.state.requests["jira:GET /rest/api/2/field"] == 1  # names → ids first
    only = jira.search_issues('summary ~ "one"', fields="summary")
    assert [i.key for i in only] == [first]


def test_search_lags_writes_as_clouds_index_does(jira: JIRA, server: SandboxServer):
    server.state.jira_site.search_lag = 60
    key = new_incident(jira)
    assert list(jira.search_issues("project = INCIDENT")) == []  # not indexed yet
    assert jira.issue(key).key == key  # read by key: always current


def test_create_issue_link(jira: JIRA, server: SandboxServer):
    incident = new_incident(jira)
    bug = jira.create_issue(project="BUG", summary="Card auth retries", issuetype={"name": "Bug"})
    names = [t.name for t in jira.issue_link_types()]
    assert "Relates" in names and "Blocks" in names
    response = jira.create_issue_link("Relates", incident, bug.key)
    assert response.status_code == 201
    links = stored(server, incident)["links"]
    assert [(x["type"], x["inward"], x["outward"]) for x in links] == [
        ("Relates", incident, bug.key)
    ]
    linked = jira.issue(bug.key).fields.issuelinks
    assert linked[0].inwardIssue.key == incident
    with pytest.raises(JIRAError) as info:
        jira.create_issue_link("Causes", incident, bug.key)
    assert info.value.status_code == 404

"""The spec checker must catch bad traffic, or every test that relies on it proves nothing."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
import pytest

from cockpit.integrations import adf
from tests import spec_check
from tests.spec_check import (
    SpecViolation,
    check_adf,
    check_jira,
    check_slack,
    check_slack_call,
    check_statuspage,
    checked_transport,
)

SLACK = "https://slack.test/api/"
JIRA = "https://jira.test/rest/api/3/"
SP = "https://sp.test/v1/pages/kctbh9vrtdwd/"
BASIC = "Basic " + base64.b64encode(b"me@example.com:tok").decode()


def slack_post(method: str, body: dict[str, Any], token: str = "xoxb-1") -> httpx.Request:
    return httpx.Request(
        "POST", SLACK + method, json=body, headers={"Authorization": f"Bearer {token}"}
    )


def jira(method: str, path: str, body: Any = None, **params: str) -> httpx.Request:
    return httpx.Request(
        method, JIRA + path, json=body, params=params or None, headers={"Authorization": BASIC}
    )


def sp(method: str, path: str, body: Any = None) -> httpx.Request:
    return httpx.Request(method, SP + path, json=body, headers={"Authorization": "OAuth key"})


# -- Slack ----------------------------------------------------------------------------------
def test_slack_accepts_a_good_post_message():
    check_slack_call(
        "chat.postMessage",
        {
            "channel": "C0123456789",
            "text": "hi",
            "metadata": {"event_type": "e", "event_payload": {}},
        },
        {
            "ok": True,
            "channel": "C0123456789",
            "ts": "1700000000.000100",
            "message": {"type": "message", "text": "hi", "ts": "1700000000.000100"},
        },
    )


def test_slack_missing_required_argument():
    with pytest.raises(SpecViolation, match="required argument 'channel' is missing"):
        check_slack_call("chat.postMessage", {"text": "hi"})


def test_slack_unknown_method():
    with pytest.raises(SpecViolation, match=r"no method 'chat\.postMesage'"):
        check_slack_call("chat.postMesage", {"channel": "C1", "text": "hi"})


def test_slack_unknown_argument_and_wrong_verb():
    with pytest.raises(SpecViolation, match="unknown argument 'txt'"):
        check_slack_call("chat.postMessage", {"channel": "C1", "txt": "hi"})
    with pytest.raises(SpecViolation, match="called with POST"):
        check_slack_call("conversations.history", {"channel": "C1"}, http_method="POST")


def test_slack_args_only_in_the_newer_reference_are_accepted():
    # include_all_metadata is missing from the 2020 OpenAPI file but documented today.
    check_slack_call("conversations.history", {"channel": "C1", "include_all_metadata": "true"})


def test_slack_argument_types_and_metadata_shape():
    with pytest.raises(SpecViolation, match="'limit'='many' is not a"):
        check_slack_call(
            "conversations.history",
            {"channel": "C1", "limit": "many"},
            http_method="GET",
            json_body=False,
        )
    with pytest.raises(SpecViolation, match="event_payload must be an object"):
        check_slack_call(
            "chat.postMessage", {"channel": "C1", "text": "x", "metadata": {"event_type": "e"}}
        )


def test_slack_token_must_travel_in_the_header():
    with pytest.raises(SpecViolation, match="Authorization: Bearer"):
        check_slack_call("chat.postMessage", {"channel": "C1", "text": "x", "token": "xoxb-1"})
    bare = httpx.Request("POST", SLACK + "chat.postMessage", json={"channel": "C1", "text": "x"})
    with pytest.raises(SpecViolation, match="no Authorization"):
        check_slack(bare)


def test_slack_responses_are_checked():
    with pytest.raises(SpecViolation, match="'ts' is a required property"):
        check_slack_call(
            "chat.postMessage",
            {"channel": "C1", "text": "x"},
            {"ok": True, "channel": "C0123456789"},
        )
    with pytest.raises(SpecViolation, match="'name_in_use' is not one"):
        check_slack_call(
            "conversations.create", {"name": "x"}, {"ok": False, "error": "name_in_use"}
        )
    check_slack_call("conversations.create", {"name": "x"}, {"ok": False, "error": "name_taken"})
    # objs_conversation was never checked before the tuple-items patch; now it is.
    with pytest.raises(SpecViolation, match=r"conversations\.create"):
        check_slack_call(
            "conversations.create", {"name": "x"}, {"ok": True, "channel": {"id": "C0123456789"}}
        )


def test_slack_methods_newer_than_the_openapi_file_are_checked_against_the_reference():
    # apps.connections.open (Socket Mode) is only in docs.slack.dev's data: POST, a JSON
    # body is fine, the token in the header, and an ok answer must carry the URL.
    request = slack_post("apps.connections.open", {}, token="xapp-1-A1-1-abc")
    url = "wss://wss-primary.slack.com/link/?ticket=1234&app_id=A1"
    check_slack(request, httpx.Response(200, json={"ok": True, "url": url}))
    with pytest.raises(SpecViolation, match="lacks 'url'"):
        check_slack(request, httpx.Response(200, json={"ok": True}))
    with pytest.raises(SpecViolation, match="'url' is not a string"):
        check_slack(request, httpx.Response(200, json={"ok": True, "url": 7}))
    with pytest.raises(SpecViolation, match="called with GET"):
        check_slack_call("apps.connections.open", {}, http_method="GET", json_body=False)
    with pytest.raises(SpecViolation, match="Authorization: Bearer"):
        check_slack_call("apps.connections.open", {"token": "xapp-1"})
    check_slack(request, httpx.Response(200, json={"ok": False, "error": "invalid_auth"}))
    check_slack(request, httpx.Response(200, json={"ok": False, "error": "not_allowed_token_type"}))
    with pytest.raises(SpecViolation, match="'no_such_thing' is not one"):
        check_slack(request, httpx.Response(200, json={"ok": False, "error": "no_such_thing"}))


def test_slack_429_must_say_when_to_come_back():
    request = slack_post("chat.postMessage", {"channel": "C1", "text": "x"})
    with pytest.raises(SpecViolation, match="Retry-After"):
        check_slack(request, httpx.Response(429, json={"ok": False, "error": "ratelimited"}))


# -- Jira -----------------------------------------------------------------------------------
def test_jira_comment_must_be_adf_not_a_plain_string():
    with pytest.raises(SpecViolation, match="ADF"):
        check_jira(jira("POST", "issue/INC-1/comment", {"body": "plain text"}))
    check_jira(jira("POST", "issue/INC-1/comment", {"body": adf.from_plain("fine")}))


def test_the_published_jira_spec_alone_would_accept_a_string_comment():
    """The defect `_patch_jira` fixes: without it the check above could not fail."""
    raw = json.loads((spec_check.specs_dir() / "jira" / "swagger-v3.v3.json").read_bytes())
    assert "type" not in raw["components"]["schemas"]["Comment"]["properties"]["body"]


def test_jira_description_must_be_adf():
    body = {
        "fields": {
            "project": {"key": "INC"},
            "summary": "x",
            "issuetype": {"name": "Task"},
            "description": "plain",
        }
    }
    with pytest.raises(SpecViolation, match=r"fields\.description must be an ADF"):
        check_jira(jira("POST", "issue", body))


def test_jira_unknown_path_query_and_missing_auth():
    with pytest.raises(SpecViolation, match="/rest/api/3/issues"):
        check_jira(jira("GET", "issues/INC-1"))
    with pytest.raises(SpecViolation, match="not in the spec: \\['feilds'\\]"):
        check_jira(jira("GET", "issue/INC-1", feilds="summary"))
    with pytest.raises(SpecViolation, match="Basic"):
        check_jira(httpx.Request("GET", JIRA + "myself"))


def test_jira_response_is_checked():
    request = jira("POST", "issue", {"fields": {"summary": "x"}})
    with pytest.raises(SpecViolation, match="bogus"):
        check_jira(request, httpx.Response(201, json={"id": "1", "key": "INC-1", "bogus": 1}))
    with pytest.raises(SpecViolation, match="does not declare"):
        check_jira(request, httpx.Response(200, json={"id": "1", "key": "INC-1"}))
    check_jira(request, httpx.Response(201, json={"id": "1", "key": "INC-1"}))


# -- Statuspage -----------------------------------------------------------------------------
def test_statuspage_malformed_body():
    with pytest.raises(SpecViolation, match="incident"):
        check_statuspage(sp("POST", "incidents", {"name": "x", "status": "investigating"}))
    with pytest.raises(SpecViolation, match="down"):
        check_statuspage(sp("POST", "incidents", {"incident": {"name": "x", "status": "down"}}))
    with pytest.raises(SpecViolation, match="broken"):
        check_statuspage(
            sp(
                "POST",
                "incidents",
                {
                    "incident": {
                        "name": "x",
                        "status": "investigating",
                        "components": {"abc": "broken"},
                    }
                },
            )
        )
    with pytest.raises(SpecViolation, match="top-level values must be objects"):
        check_statuspage(
            sp(
                "POST",
                "incidents",
                {
                    "incident": {
                        "name": "x",
                        "status": "investigating",
                        "metadata": {"cockpit": "m"},
                    }
                },
            )
        )
    check_statuspage(
        sp(
            "POST",
            "incidents",
            {
                "incident": {
                    "name": "x",
                    "status": "investigating",
                    "components": {"abc": "major_outage"},
                    "component_ids": ["abc"],
                    "metadata": {"cockpit": {"marker": "m"}},
                }
            },
        )
    )


def test_statuspage_auth_and_response():
    with pytest.raises(SpecViolation, match="OAuth"):
        check_statuspage(httpx.Request("GET", SP + "incidents"))
    request = sp("GET", "incidents/abc")
    good = {
        "id": "abc",
        "name": "x",
        "status": "resolved",
        "impact": "none",
        "metadata": {"jira": {"issue_id": "1"}},
        "resolved_at": None,
    }
    check_statuspage(request, httpx.Response(200, json=good))
    with pytest.raises(SpecViolation, match="catastrophic"):
        check_statuspage(request, httpx.Response(200, json={**good, "impact": "catastrophic"}))


# -- ADF and the transport ------------------------------------------------------------------
def test_adf_checks():
    check_adf(
        adf.adf_doc(
            adf.heading(2, "Impact"),
            adf.paragraph("see ", adf.text("x", href="https://x")),
            adf.bullet_list("a", "b"),
        )
    )
    with pytest.raises(SpecViolation):
        check_adf(
            {
                "type": "doc",
                "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}],
            }
        )
    with pytest.raises(SpecViolation):
        check_adf("plain")


async def test_checked_transport_refuses_a_bad_request_before_the_handler_runs():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    async with httpx.AsyncClient(transport=checked_transport("slack", handler)) as client:
        with pytest.raises(SpecViolation, match="required argument 'channel'"):
            await client.post(
                SLACK + "chat.postMessage",
                json={"text": "x"},
                headers={"Authorization": "Bearer xoxb-1"},
            )
    assert seen == []


# -- where the specs are ----------------------------------------------------------------------
def test_a_specs_dir_without_specs_fails_clearly(monkeypatch, tmp_path):
    monkeypatch.setenv(spec_check.SPECS_ENV, str(tmp_path))
    with pytest.raises(SpecViolation, match=re.escape(str(tmp_path))) as info:
        spec_check.specs_dir()
    assert "COCKPIT_SPECS_DIR" in str(info.value)
    assert not isinstance(info.value, spec_check.SpecsUnavailable)  # a mistake, not a skip
    with pytest.raises(pytest.fail.Exception, match="holds no vendor API specs"):
        spec_check.require_specs()


def _fake_specs(root, *, trimmed: bool):
    (root / "slack").mkdir(parents=True)
    (root / "slack" / "slack_web_openapi_v2.json").write_text("{}")
    if trimmed:
        (root / "PROVENANCE.md").write_text("extract")
    return root


def test_the_full_specs_come_first_then_the_extract(monkeypatch, tmp_path):
    monkeypatch.delenv(spec_check.SPECS_ENV, raising=False)
    full = _fake_specs(tmp_path / "shared" / "specs", trimmed=False)
    extract = _fake_specs(tmp_path / "tests" / "specs", trimmed=True)
    monkeypatch.setattr(spec_check, "FULL_SPECS", full)
    monkeypatch.setattr(spec_check, "EXTRACT", extract)
    assert spec_check.spec_source() == spec_check.SpecSource(full, trimmed=False)
    monkeypatch.setattr(spec_check, "FULL_SPECS", tmp_path / "elsewhere")
    assert spec_check.spec_source() == spec_check.SpecSource(extract, trimmed=True)
    monkeypatch.setenv(spec_check.SPECS_ENV, str(full))
    assert spec_check.spec_source() == spec_check.SpecSource(full, trimmed=False)
    # the extract in the checkout is a real one, and says so
    assert (spec_check.Path(spec_check.__file__).parent / "specs" / "PROVENANCE.md").is_file()


def test_no_specs_at_all_skips_saying_why_or_fails_when_tools_are_required(monkeypatch, tmp_path):
    monkeypatch.delenv(spec_check.SPECS_ENV, raising=False)
    monkeypatch.delenv(spec_check.REQUIRE_ENV, raising=False)
    monkeypatch.setattr(spec_check, "FULL_SPECS", tmp_path / "shared" / "specs")
    monkeypatch.setattr(spec_check, "EXTRACT", tmp_path / "tests" / "specs")
    monkeypatch.setattr(spec_check, "_missed", [])  # the conftest hook reads it after the test
    with pytest.raises(spec_check.SpecsUnavailable, match="specs were not found"):
        spec_check.specs_dir()
    with pytest.raises(pytest.skip.Exception, match=re.escape(str(tmp_path / "tests" / "specs"))):
        spec_check.require_specs()
    assert spec_check.missed_specs() is not None
    monkeypatch.setenv(spec_check.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="COCKPIT_REQUIRE_TOOLS=1"):
        spec_check.require_specs()


def test_modules_using_the_checks_are_found_through_the_sandbox_helpers():
    import sys
    import types

    from tests.integration import test_sandbox_support, test_slack_client

    assert spec_check.uses_specs(test_sandbox_support)
    assert spec_check.uses_specs(test_slack_client)  # through test_sandbox_support
    plain = types.ModuleType("tests.unit.plain")
    plain.json = json  # type: ignore[attr-defined]
    plain.re = re  # type: ignore[attr-defined]
    assert not spec_check.uses_specs(plain)
    plain.check = check_adf  # type: ignore[attr-defined]
    assert spec_check.uses_specs(plain)
    other = types.ModuleType("tests.unit.other")
    other.adf = adf  # type: ignore[attr-defined]  # cockpit's own code is not a user
    other.mod = sys.modules[__name__]  # a test module that uses it
    assert spec_check.uses_specs(other)
    del other.mod  # type: ignore[attr-defined]
    assert not spec_check.uses_specs(other)


def test_what_the_extract_lacks_is_named_as_such(monkeypatch):
    monkeypatch.setenv(spec_check.SPECS_ENV, str(spec_check.EXTRACT))
    with pytest.raises(SpecViolation, match=r"no method 'chat\.postMesage' \[.*trimmed extract"):
        check_slack_call("chat.postMesage", {"channel": "C1", "text": "hi"})
    with pytest.raises(SpecViolation, match="trimmed extract"):
        check_jira(jira("GET", "issues/INC-1"))

"""Jira ADF from untrusted text: text nodes only, no link, mark or mention."""

from __future__ import annotations

from typing import Any

import pytest

from cockpit.integrations import adf

HOSTILE = [
    "see https://evil.example/login",
    "<https://evil.example|status page> and [click](javascript:alert(1))",
    "<!channel> @here [~accountid:123] <@U1>",
    "*bold* _it_ `code` {code}x{code} h1. heading",
    "- https://evil.example/in-a-bullet\n• [x](https://evil.example)",
    "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \u202eevil",
]


def _nodes(node: Any) -> list[dict[str, Any]]:
    out = [node]
    for child in node.get("content", []):
        out.extend(_nodes(child))
    return out


@pytest.mark.parametrize("text", HOSTILE)
def test_untrusted_text_becomes_text_nodes_only(text: str) -> None:
    doc = adf.from_plain(text)
    nodes = _nodes(doc)
    assert {n["type"] for n in nodes} <= {"doc", "paragraph", "bulletList", "listItem", "text"}
    for n in nodes:
        assert "marks" not in n and "attrs" not in n
        if n["type"] == "text":
            assert "\x1b" not in n["text"] and "\u202e" not in n["text"]


def test_the_text_reads_as_written() -> None:
    doc = adf.from_plain(HOSTILE[1])
    assert adf.adf_to_text(doc) == HOSTILE[1]
    assert adf.adf_to_text(adf.from_plain("see https://evil.example/login")) == (
        "see https://evil.example/login"
    )


def test_links_are_built_on_purpose_only() -> None:
    node = adf.text("INC-1", href="https://acme.atlassian.net/browse/INC-1")
    assert node["marks"] == [
        {"type": "link", "attrs": {"href": "https://acme.atlassian.net/browse/INC-1"}}
    ]


# -- Slack mrkdwn made a document (what the ticket gets of a message written for Slack) -------
def test_mrkdwn_marks_links_and_lists() -> None:
    text = (
        ":white_check_mark: *Resolved: INC-4 — Checkout &amp; payments*\n"
        "_Severity Critical · <#C1|incident-4>_\n"
        "\n"
        "*Impact*\n"
        "• Who: buyers &lt;EU&gt;, see <https://status.example/x|the status page>\n"
        "• Ask <@U123|ana> or <!here>; `retry_count` ~was~ is 3"
    )
    doc = adf.from_mrkdwn(text)
    assert adf.adf_to_text(doc) == (
        "✅ Resolved: INC-4 — Checkout & payments\n"
        "Severity Critical · #incident-4\n"
        "Impact\n"
        "• Who: buyers <EU>, see the status page (https://status.example/x)\n"
        "• Ask @ana or @here; retry_count was is 3"
    )
    first = doc["content"][0]["content"]
    assert first[0] == {"type": "emoji", "attrs": {"shortName": ":white_check_mark:", "text": "✅"}}
    assert first[2] == {
        "type": "text",
        "text": "Resolved: INC-4 — Checkout & payments",
        "marks": [{"type": "strong"}],
    }
    assert first[3] == {"type": "hardBreak"}
    assert doc["content"][2]["type"] == "bulletList"
    link = doc["content"][2]["content"][0]["content"][0]["content"][-1]
    assert link["marks"] == [{"type": "link", "attrs": {"href": "https://status.example/x"}}]
    marks = [n.get("marks") for n in _nodes(doc) if n.get("type") == "text"]
    assert [{"type": "code"}] in marks and [{"type": "strike"}] in marks


@pytest.mark.parametrize(
    "hostile",
    [
        "<javascript:alert(1)|click me>",
        "&lt;https://evil.example|status page&gt;",  # escaped by cockpit: stays text
        "*unclosed bold and a_snake_case_name",
        "\x1b]52;c;eA==\x07 <!channel>",
    ],
)
def test_mrkdwn_never_links_what_is_not_a_link(hostile: str) -> None:
    doc = adf.from_mrkdwn(hostile)
    links = [
        m["attrs"]["href"]
        for n in _nodes(doc)
        for m in n.get("marks", [])
        if m.get("type") == "link"
    ]
    assert links == []
    assert "\x1b" not in adf.adf_to_text(doc)

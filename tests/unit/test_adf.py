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

"""Atlassian Document Format: Jira v3's rich text (descriptions, comments), never a string.

Build documents from plain text and links::

    adf_doc(heading(2, "Impact"), paragraph("See ", text("the graph", href=url), "."),
            bullet_list("first", "second"))
    from_plain("line one\\n- a point")   # untrusted text: paragraphs, bullets, text only

and read them back with `adf_to_text` (comments written in Jira by people).
The node shapes follow the ADF JSON schema (tests validate against it): a text node is
never empty, a list item holds a paragraph, a heading has a level 1–6.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from cockpit.domain.sanitize import sanitize

Node = dict[str, Any]
Inline = str | Node

_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)]}'\""


def text(s: str, href: str | None = None, *, strong: bool = False, code: bool = False) -> Node:
    """A text node; with `href` it is a link. `s` must not be empty."""
    s = sanitize(s)
    if not s:
        raise ValueError("an ADF text node cannot be empty")
    node: Node = {"type": "text", "text": s}
    marks: list[Node] = []
    if href:
        marks.append({"type": "link", "attrs": {"href": href}})
    if strong:
        marks.append({"type": "strong"})
    if code:
        marks.append({"type": "code"})
    if marks:
        node["marks"] = marks
    return node


def linkify(s: str) -> list[Node]:
    """Text nodes for `s`, with each http(s) URL in it made a link."""
    nodes: list[Node] = []
    pos = 0
    for m in _URL.finditer(s):
        url = m.group(0).rstrip(_TRAILING)
        end = m.start() + len(url)
        if m.start() > pos:
            nodes.append(text(s[pos : m.start()]))
        nodes.append(text(url, href=url))
        pos = end
    if pos < len(s):
        nodes.append(text(s[pos:]))
    return nodes


def _inline(parts: Iterable[Inline]) -> list[Node]:
    out: list[Node] = []
    for part in parts:
        if isinstance(part, str):
            if part:
                out.extend(linkify(part))
        else:
            out.append(part)
    return out


def paragraph(*parts: Inline) -> Node:
    """A paragraph of strings (URLs become links) and inline nodes (`text(...)`)."""
    return {"type": "paragraph", "content": _inline(parts)}


def heading(level: int, *parts: Inline) -> Node:
    if not 1 <= level <= 6:
        raise ValueError("an ADF heading level is 1 to 6")
    return {"type": "heading", "attrs": {"level": level}, "content": _inline(parts)}


def bullet_list(*items: Inline | list[Inline]) -> Node:
    """A bullet list; each item is a string, an inline node, or a list of them."""
    if not items:
        raise ValueError("an ADF bullet list needs at least one item")
    content = []
    for item in items:
        parts = item if isinstance(item, list) else [item]
        content.append({"type": "listItem", "content": [paragraph(*parts)]})
    return {"type": "bulletList", "content": content}


def adf_doc(*blocks: Node) -> Node:
    """A whole document (version 1) of block nodes."""
    return {"type": "doc", "version": 1, "content": list(blocks)}


def from_plain(s: str) -> Node:
    """Plain (untrusted) text as a document: each non-empty line a paragraph, "- " / "• "
    lines a bullet list, and every piece of text a plain text node: no link, mark or mention
    is made from it (a URL stays text; markup such as `<https://x|label>`, `[x](url)`,
    `*bold*` or `@name` stays as written). Build links with `text(label, href=url)`."""
    blocks: list[Node] = []
    bullets: list[Inline | list[Inline]] = []
    for raw in sanitize(s).split("\n"):
        line = raw.rstrip()
        stripped = line.lstrip()
        if stripped.startswith(("- ", "* ", "• ")) and stripped[2:].strip():
            bullets.append(text(stripped[2:].strip()))
            continue
        if bullets:
            blocks.append(bullet_list(*bullets))
            bullets = []
        if line.strip():
            blocks.append(paragraph(text(line)))
    if bullets:
        blocks.append(bullet_list(*bullets))
    return adf_doc(*blocks)


# -- reading -----------------------------------------------------------------------------
_BLOCKS = {
    "paragraph",
    "heading",
    "codeBlock",
    "blockquote",
    "panel",
    "rule",
    "mediaSingle",
    "mediaGroup",
    "table",
    "tableRow",
    "expand",
    "nestedExpand",
    "decisionItem",
    "taskItem",
}


def adf_to_text(doc: object) -> str:
    """The text of an ADF document as a person reads it (links as "label (url)").

    A plain string (Jira v2 style, or a server that does not speak ADF) is returned
    as it is. The result is sanitized.
    """
    if isinstance(doc, str):
        return sanitize(doc).strip()
    out: list[str] = []
    _walk(doc, out, depth=0)
    joined = "".join(out)
    lines = [line.rstrip() for line in joined.split("\n")]
    return sanitize("\n".join(lines)).strip()


def _walk(node: object, out: list[str], depth: int) -> None:
    if isinstance(node, list):
        for child in node:
            _walk(child, out, depth)
        return
    if not isinstance(node, Mapping) or depth > 50:
        return
    kind = node.get("type")
    raw_attrs = node.get("attrs")
    attrs: Mapping[str, Any] = raw_attrs if isinstance(raw_attrs, Mapping) else {}
    if kind == "text":
        s = str(node.get("text", ""))
        href = next(
            (
                m.get("attrs", {}).get("href")
                for m in node.get("marks") or []
                if isinstance(m, Mapping) and m.get("type") == "link"
            ),
            None,
        )
        out.append(f"{s} ({href})" if href and href != s else s)
        return
    if kind == "hardBreak":
        out.append("\n")
        return
    if kind == "mention":
        out.append(str(attrs.get("text") or "@" + str(attrs.get("id", ""))))
        return
    if kind == "emoji":
        out.append(str(attrs.get("text") or attrs.get("shortName", "")))
        return
    if kind in ("inlineCard", "blockCard", "embedCard"):
        out.append(str(attrs.get("url", "")))
        if kind != "inlineCard":
            out.append("\n")
        return
    if kind == "date":
        out.append(str(attrs.get("timestamp", "")))
        return
    if kind == "status":
        out.append(f"[{attrs.get('text', '')}]")
        return
    if kind == "listItem":
        out.append("  " * max(0, depth - 1) + "• ")
        _walk(node.get("content"), out, depth + 1)
        return
    if kind in ("bulletList", "orderedList"):
        for i, item in enumerate(node.get("content") or [], start=1):
            if kind == "orderedList" and isinstance(item, Mapping):
                out.append("  " * depth + f"{i}. ")
                _walk(item.get("content"), out, depth + 1)
            else:
                _walk(item, out, depth + 1)
        return
    _walk(node.get("content"), out, depth)
    if (kind in _BLOCKS or kind == "doc") and out and not out[-1].endswith("\n"):
        out.append("\n")

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


# -- from Slack mrkdwn --------------------------------------------------------------------
# what the shipped templates' emoji read as on a ticket (others stay as written)
EMOJI = {
    "white_check_mark": "\u2705",
    "rotating_light": "\U0001f6a8",
    "relieved": "\U0001f60c",
    "warning": "\u26a0\ufe0f",
    "red_circle": "\U0001f534",
    "large_green_circle": "\U0001f7e2",
    "hourglass_flowing_sand": "\u23f3",
    "mag": "\U0001f50d",
    "pushpin": "\U0001f4cc",
}
_MARKS = {"*": "strong", "_": "em", "~": "strike", "`": "code"}
_SPAN = re.compile(r"(?<![\w*_~`])([*_~`])(?=\S)(.+?)(?<=\S)\1(?![\w*_~`])")
_ANGLE = re.compile(r"<([^<>\s][^<>]*)>")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_LINKABLE = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)


def _unescape(s: str) -> str:
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _node(s: str, marks: tuple[str, ...], href: str = "") -> Node | None:
    s = sanitize(s)
    if not s:
        return None
    node: Node = {"type": "text", "text": s}
    all_marks: list[Node] = [{"type": m} for m in marks]
    if href:
        all_marks.append({"type": "link", "attrs": {"href": href}})
    if all_marks:
        node["marks"] = all_marks
    return node


def _plain_atoms(s: str, marks: tuple[str, ...]) -> list[Node]:
    """Text with `:emoji:` (the ones in EMOJI) as emoji nodes."""
    out: list[Node] = []
    pos = 0
    for m in _EMOJI.finditer(s):
        char = EMOJI.get(m.group(1))
        if char is None:
            continue
        before = _node(_unescape(s[pos : m.start()]), marks)
        if before:
            out.append(before)
        out.append({"type": "emoji", "attrs": {"shortName": m.group(0), "text": char}})
        pos = m.end()
    rest = _node(_unescape(s[pos:]), marks)
    if rest:
        out.append(rest)
    return out


def _atoms(s: str, marks: tuple[str, ...]) -> list[Node]:
    """A span's text: `<url|label>` links, `<@U1|name>` / `<#C1|name>` / `<!here>` read as
    people read them, the rest plain text."""
    out: list[Node] = []
    pos = 0
    for m in _ANGLE.finditer(s):
        out.extend(_plain_atoms(s[pos : m.start()], marks))
        target, _, label = m.group(1).partition("|")
        label = _unescape(label)
        node: Node | None
        if target.startswith("@"):
            node = _node("@" + (label.lstrip("@") or target[1:]), marks)
        elif target.startswith("#"):
            node = _node("#" + (label.lstrip("#") or target[1:]), marks)
        elif target.startswith("!"):
            word = target[1:].split("^", 1)[0]
            node = _node(label or "@" + word, marks)
        elif _LINKABLE.match(target):
            url = _unescape(target)
            node = _node(label or url, marks, href=url)
        else:
            node = _node(label or _unescape(target), marks)
        if node:
            out.append(node)
        pos = m.end()
    out.extend(_plain_atoms(s[pos:], marks))
    return out


def _inline_mrkdwn(s: str, marks: tuple[str, ...] = ()) -> list[Node]:
    out: list[Node] = []
    pos = 0
    for m in _SPAN.finditer(s):
        out.extend(_atoms(s[pos : m.start()], marks))
        mark = _MARKS[m.group(1)]
        if mark == "code":  # code is literal, and takes no other mark
            node = _node(_unescape(m.group(2)), ("code",))
            if node:
                out.append(node)
        elif mark in marks:
            out.extend(_inline_mrkdwn(m.group(2), marks))
        else:
            out.extend(_inline_mrkdwn(m.group(2), (*marks, mark)))
        pos = m.end()
    out.extend(_atoms(s[pos:], marks))
    return out


def from_mrkdwn(s: str) -> Node:
    """A message written in Slack mrkdwn (as cockpit's Slack templates make it) as the
    document a person reads in Jira: `*bold*`, `_italic_`, `~strike~` and `` `code` `` as
    marks, `<url|label>` as links (http, https and mailto only), mentions and channel
    links as their names, `&amp;` `&lt;` `&gt;` as the characters, known `:emoji:` as
    emoji; blank lines separate paragraphs, lines within one are kept apart with hard
    breaks, and "• " / "- " lines make bullet lists. Never any Slack markup on the ticket.
    """
    blocks: list[Node] = []
    lines: list[list[Node]] = []
    bullets: list[list[Node]] = []

    def flush_paragraph() -> None:
        if lines:
            content: list[Node] = []
            for i, nodes in enumerate(lines):
                if i:
                    content.append({"type": "hardBreak"})
                content.extend(nodes)
            blocks.append({"type": "paragraph", "content": content})
            lines.clear()

    def flush_bullets() -> None:
        if bullets:
            items = [
                {"type": "listItem", "content": [{"type": "paragraph", "content": nodes}]}
                for nodes in bullets
            ]
            blocks.append({"type": "bulletList", "content": items})
            bullets.clear()

    for raw in sanitize(s).split("\n"):
        line = raw.strip()
        if not line:
            flush_paragraph()
            flush_bullets()
            continue
        if line.startswith(("• ", "- ", "◦ ")) and line[2:].strip():
            flush_paragraph()
            nodes = _inline_mrkdwn(line[2:].strip())
            if nodes:
                bullets.append(nodes)
            continue
        flush_bullets()
        nodes = _inline_mrkdwn(line)
        if nodes:
            lines.append(nodes)
    flush_paragraph()
    flush_bullets()
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

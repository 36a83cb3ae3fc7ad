"""Escaping on the way out: untrusted text made inert for where it goes.

Remote and typed text (titles, summaries, names, timeline texts, reasons, link labels and
URLs) is kept as it was written; it is escaped only when it leaves cockpit, for the format
of the place it goes to:

- Slack mrkdwn (`slack_escape`): `&`, `<`, `>` as `&amp;`, `&lt;`, `&gt;`, so that a
  `<!channel>`, a `<@U123>` or a `<https://evil.example|status page>` written by a reporter
  is shown as text, never acted on. The markup cockpit builds itself stays live.
- Markdown (`md_text`, `md_inline`, `md_url`): HTML escaped, no link, code span or table
  cell built from the text, and no heading, list, quote or code block started by one of
  its lines; only http(s), mailto and relative URLs are linked.
- Jira's ADF is escaped by construction (`integrations/adf.py`: text nodes only).

`escape_context` applies one of them to a template's context (see
`TemplateLibrary.render`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from cockpit.domain.sanitize import sanitize

# -- Slack ------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Text as Slack mrkdwn shows it, literally (Slack's own three escapes)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_unescape(text: str) -> str:
    """Slack mrkdwn's three escapes undone: the text as Slack shows it, and as a person
    pastes it by hand into Slack's composer (which escapes what it is given itself)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# -- Markdown ---------------------------------------------------------------------------
_MD_CHARS = str.maketrans(
    {
        "\\": "\\\\",
        "`": "\\`",
        "[": "\\[",
        "]": "\\]",
        "|": "\\|",
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
    }
)
# what starts a block when it opens a line: a heading, a list item, a thematic break or
# setext underline, a ~~~ fence (a quote's ">" and a ``` fence are escaped already)
_MD_LINE_START = re.compile(
    r"^(?:#{1,6}(?=\s|$)|[-+*](?=\s|$)|[-*_=\s]*[-*_=]\s*$|~{3,}|\d{1,9}(?=[.)](?:\s|$)))"
)


def _md_line(line: str) -> str:
    line = line.lstrip(" \t")  # four spaces would start a code block
    m = _MD_LINE_START.match(line)
    if m is None:
        return line
    if m.group(0).isdigit():  # "1. x" → "1\. x"
        end = m.end()
        return line[:end] + "\\" + line[end:]
    return "\\" + line


def md_text(text: str) -> str:
    """Untrusted text inside Markdown, line by line: it reads the same, does nothing."""
    escaped = sanitize(text).translate(_MD_CHARS)
    return "\n".join(_md_line(line) for line in escaped.split("\n"))


def md_inline(text: str) -> str:
    """Untrusted text in one line of Markdown (a heading, a table cell, a list item)."""
    return _md_line(sanitize(text, single_line=True).replace("\n", " ").translate(_MD_CHARS))


_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_SAFE_SCHEMES = {"http", "https", "mailto"}


def md_url(url: str) -> str:
    """A URL as a Markdown link destination: "" unless it is http(s), mailto or relative
    (so `javascript:` and `data:` never become links), and nothing that ends the `( )`."""
    clean = "".join(sanitize(url, single_line=True).split())  # "java\tscript:" included
    m = _SCHEME.match(clean)
    if m is not None and m.group(1).lower() not in _SAFE_SCHEMES:
        return ""
    if m is None and ":" in clean.split("/", 1)[0]:
        return ""  # something like "javascript&colon;" or an odd scheme
    return quote(clean, safe=":/?#@!$&'*+,;=%~[]-._")


# -- a template's context ---------------------------------------------------------------
def _is_url_key(key: object) -> bool:
    return isinstance(key, str) and (key in ("url", "link") or key.endswith("_url"))


def escape_context(
    value: Any,
    text: Callable[[str], str],
    url: Callable[[str], str] | None = None,
    *,
    skip: frozenset[str] = frozenset(),
    key: object = None,
) -> Any:
    """A copy of a template context with every string escaped by `text` (by `url` for the
    values of `url`, `link` and `*_url` keys). Keys in `skip` are left as they are (values
    their builder escaped already)."""
    if isinstance(value, str):
        return (url or text)(value) if _is_url_key(key) else text(value)
    if isinstance(value, Mapping):
        return {
            k: v if k in skip else escape_context(v, text, url, key=k) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [escape_context(v, text, url, key=key) for v in value]
    return value

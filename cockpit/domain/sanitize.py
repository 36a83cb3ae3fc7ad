"""One function that makes hostile text safe to keep and to show.

Remote text (Slack messages, user names, ticket fields, API error bodies), text loaded
from disk (store, config, templates' output) and clipboard text all pass through
`sanitize` where they enter. What comes out never holds a byte that a terminal would
act on: no ESC (so no CSI / OSC / DCS sequences), no C0 control other than newline and
tab, no DEL, no C1 control, no bidi override or isolate, and no lone surrogate. Markup
is *not* escaped here: the UI never parses remote text as markup (see DESIGN.md §3).
"""

from __future__ import annotations

import re
import unicodedata

# ESC-introduced sequences first, so that their parameters go along with the ESC:
#   CSI  ESC [ params intermediates final
#   OSC  ESC ] ... (BEL | ESC \)          (window titles, OSC 52 clipboard writes, links)
#   DCS/SOS/PM/APC  ESC P|X|^|_ ... ESC \
#   any other two-character escape
_ESC_SEQUENCE = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]?             # CSI
    | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?  # OSC
    | \x1b[PX^_][^\x1b]*(?:\x1b\\)?       # DCS, SOS, PM, APC
    | \x1b[ -~]?                          # two-character escapes (and a lone ESC)
    """,
    re.VERBOSE,
)
# 8-bit forms of the same introducers (C1): CSI, OSC, DCS, SOS, PM, APC.
_C1_SEQUENCE = re.compile(
    r"\x9b[0-?]*[ -/]*[@-~]?|\x9d[^\x07\x9c]*[\x07\x9c]?|[\x90\x98\x9e\x9f][^\x9c]*\x9c?"
)

_BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

# Everything left that must go: C0 except \t and \n, DEL, C1, bidi controls, surrogates.
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI_CONTROLS + "\ud800-\udfff]")

# A pile of combining marks on one character ("zalgo") is capped, so that one message
# cannot smear across lines of the screen.
_MAX_COMBINING = 4


def _cap_combining(text: str) -> str:
    out: list[str] = []
    run = 0
    for ch in text:
        if unicodedata.combining(ch):
            run += 1
            if run > _MAX_COMBINING:
                continue
        else:
            run = 0
        out.append(ch)
    return "".join(out)


def sanitize(text: object, *, single_line: bool = False) -> str:
    """Return `text` as a string that is safe to store and to show in a terminal.

    Carriage returns become newlines (a bare CR would overwrite a line on screen).
    With `single_line`, newlines and tabs become spaces (names, titles, channel tags).
    Non-string input is converted with `str()` first; `None` becomes "".
    """
    if text is None:
        return ""
    if isinstance(text, bytes):
        s = text.decode("utf-8", errors="replace")
    else:
        s = text if isinstance(text, str) else str(text)
    if not s:
        return s
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _ESC_SEQUENCE.sub("", s)
    s = _C1_SEQUENCE.sub("", s)
    s = _FORBIDDEN.sub("", s)
    if any(unicodedata.combining(ch) for ch in s):
        s = _cap_combining(s)
    if single_line:
        s = s.replace("\n", " ").replace("\t", " ")
    return s


def sanitize_tree(value: object) -> object:
    """Sanitize every string (keys and values) in a JSON-like tree."""
    if isinstance(value, str):
        return sanitize(value)
    if isinstance(value, dict):
        return {sanitize(k): sanitize_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitize_tree(v) for v in value]
    return value


# Characters that take no cell of their own but that terminals disagree about: zero-width
# spaces and joiners, variation selectors, the BOM. Joined emoji then show as their parts.
_INVISIBLE = re.compile("[\u200b-\u200d\u2060-\u2064\ufeff\ufe00-\ufe0f]")


def for_display(text: str) -> str:
    """`text` as one line of a pane can show it without breaking the layout: no invisible
    characters whose width terminals disagree about, at most one combining mark per
    character. (Stored text keeps them; this is only for drawing.)"""
    s = _INVISIBLE.sub("", text)
    if not any(unicodedata.combining(ch) for ch in s):
        return s
    out: list[str] = []
    run = 0
    for ch in s:
        if unicodedata.combining(ch):
            run += 1
            if run > 1:
                continue
        else:
            run = 0
        out.append(ch)
    return "".join(out)

"""The one redactor: no token ever reaches the screen, the log or the terminal (DESIGN.md §5).

`redact(text)` replaces, in plain text:

- every **known secret value**: a process-wide set filled by `remember` — `cockpit.secrets`
  registers each token as it is loaded (keyring, environment), typed into the app or set
  with ``cockpit auth set``; the demo registers its throwaway tokens;
- anything **token-shaped**, known or not: Slack tokens (``xox?-…``, ``xapp-…``), the value
  of a ``Bearer``/``Basic``/``OAuth`` header or a ``token=``/``api_key=``-like parameter,
  long hex runs (32+), and long base64 runs (40+ characters mixing upper case, lower case
  and digits).

Run it on the plain text, **before** any styling: once text is coloured, escape codes or
spans can split a token so no pattern and no known value matches it any more. Every path
that shows text it did not write itself goes through here: notifications
(`CockpitHost.notify`), log records (`cockpit.logs.RedactingFilter`), the CLI's error
messages, remote errors (`cockpit.integrations.errors`) and the crash report.

Standard library only, so every layer may import it (the domain does not need it).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

REDACTED = "[redacted]"
MIN_SECRET = 4  # shorter values are ignored: replacing them would mangle text, protect nothing

_known: set[str] = set()
_lock = threading.Lock()

_SHAPES = (
    re.compile(r"xox[a-z]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    # … and Socket Mode's connection URL, whose ticket lets anyone in for a while
    re.compile(r"\b(token|api_key|apikey|access_token|ticket)=[^&\s\"']+", re.IGNORECASE),
    # long hex: API keys, signing secrets (also a git hash or a digest: better hidden)
    re.compile(r"(?<![A-Za-z0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])"),
)
# an Authorization header's value (kept when it reads as a word: "Basic Authentication")
_HEADER = re.compile(r"\b(Bearer|Basic|OAuth)(\s+)([A-Za-z0-9._~+/=-]{8,})", re.IGNORECASE)
# long base64 / base64url runs; kept when they read as a path or lack the mix of a key
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{40,}={0,2}")


def remember(*values: str | None) -> None:
    """Redact each of `values` from now on, everywhere in this process."""
    fresh = {v for v in values if v and len(v) >= MIN_SECRET}
    if fresh:
        with _lock:
            _known.update(fresh)


def known() -> frozenset[str]:
    """Every secret value registered so far."""
    with _lock:
        return frozenset(_known)


def forget_all() -> None:
    """Forget every registered value (tests)."""
    with _lock:
        _known.clear()


def redact(text: str, secrets: Iterable[str] = (), *, marker: str = REDACTED) -> str:
    """`text` with every known secret, each of `secrets`, and anything that looks like a
    token replaced by `marker` (``[redacted]``; pass an escaped one for markup text)."""
    values = set(known())
    values.update(s for s in secrets if s and len(s) >= MIN_SECRET)
    for secret in sorted(values, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, marker)

    def shaped(m: re.Match[str]) -> str:
        whole = m.group(0)
        if m.re.groups and m.group(1):
            sep = "=" if "=" in whole[: len(m.group(1)) + 1] else " "
            return f"{m.group(1)}{sep}{marker}"
        return marker

    for pattern in _SHAPES:
        text = pattern.sub(shaped, text)
    text = _HEADER.sub(
        lambda m: m.group(1) + m.group(2) + marker if _credential(m.group(3)) else m.group(0),
        text,
    )
    return _BASE64.sub(lambda m: marker if _looks_like_key(m.group(0)) else m.group(0), text)


def _credential(value: str) -> bool:
    """An Authorization value rather than a word: digits or symbols in it, or capitals
    after its first letter mixed with lower case (base64)."""
    if any(not c.isalpha() for c in value):
        return True
    return any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)


def _looks_like_key(run: str) -> bool:
    if not (
        any(c.isdigit() for c in run)
        and any(c.islower() for c in run)
        and any(c.isupper() for c in run)
    ):
        return False
    if "/" in run:  # a path ("src/Cockpit/ui/…") has short parts; a key's parts are long
        parts = [p for p in run.strip("=").split("/") if p]
        return max((len(p) for p in parts), default=0) >= 24
    return True

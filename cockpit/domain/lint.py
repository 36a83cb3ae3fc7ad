"""Checks for text that goes public (the status page): the slips people make under stress.

The status page is read by users and partners, some of them by e-mail on every update:
brief, about public impact and affected services, no technical detail or internal code
names, and always saying when the next update comes until it is resolved. `lint_public`
returns warnings, not errors: the person sending decides.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

INTERNAL_NAME = "internal-name"
STACK_TRACE = "stack-trace"
INTERNAL_HOST = "internal-host"
TOO_LONG = "too-long"
NO_COMPONENT = "no-component"
NO_NEXT_UPDATE = "no-next-update"

CODES = (INTERNAL_NAME, STACK_TRACE, INTERNAL_HOST, TOO_LONG, NO_COMPONENT, NO_NEXT_UPDATE)


@dataclass(frozen=True)
class LintWarning:
    code: str
    message: str
    words: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.message


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    """First spelling of each item, case-insensitively, in order."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return tuple(out)


def _word_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    """Whole-word, case-insensitive alternation (longest first, so `api-v2` beats `api`)."""
    cleaned = sorted({w.strip() for w in words if w.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    alternation = "|".join(re.escape(w) for w in cleaned)
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)


# -- stack traces ---------------------------------------------------------------------
_TRACE_LINES = [
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r"^\s*File \"[^\"]+\", line \d+", re.MULTILINE),
    # Java / Kotlin / Scala frames: at com.foo.Bar.baz(Bar.java:12), (Native Method), …
    re.compile(
        r"\bat\s+[\w$]+(?:\.[\w$<>]+)+\((?:[\w$]+\.(?:java|kt|scala|groovy):\d+"
        r"|Native Method|Unknown Source)\)"
    ),
    # JavaScript frames: at handler (/app/src/x.js:12:3)
    re.compile(
        r"\bat\s+(?:[\w$.<>]+\s+)?\(?(?:/|[A-Za-z]:\\|file:|webpack:|node:)"
        r"[^\s()]*:\d+:\d+\)?"
    ),
    # Ruby / Go frames: /app/lib/x.rb:12:in `foo', /src/x.go:12 +0x1d
    re.compile(r"(?:/[\w.-]+)+\.(?:rb|go|py|js|ts|php):\d+(?::in\b| \+0x[0-9a-f]+)"),
]
# "Error:" / "Exception:" lines are technical when they also carry code-like tokens.
_ERROR_LINE = re.compile(r"\b\w*(?:Error|Exception)\s*:", re.IGNORECASE)
_CODE_TOKENS = [
    re.compile(r"\b[A-Za-z_]\w+(?:\.[A-Za-z_]\w+)+\b"),  # dotted.names.Like
    re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+\b"),  # PascalCase (ValueError)
    re.compile(r"\b[a-z]+[A-Z]\w*\b"),  # camelCase
    re.compile(r"\b\w+_\w+\b"),  # snake_case
    re.compile(r"\b\w+\([^)]*\)"),  # call(...)
    re.compile(r"(?:/[\w.-]+){2,}"),  # /a/path
    re.compile(r"\b0x[0-9a-fA-F]+\b"),  # 0xdeadbeef
    re.compile(r"::|->|=>|\{\}|\[\]"),
]


def _stack_trace(text: str) -> list[str]:
    found: list[str] = []
    for pattern in _TRACE_LINES:
        found.extend(m.group(0).strip() for m in pattern.finditer(text))
    for line in text.splitlines():
        if _ERROR_LINE.search(line) and any(p.search(line) for p in _CODE_TOKENS):
            found.append(line.strip())
    return list(_unique(found))


# -- internal hosts -------------------------------------------------------------------
_URL_HOST = re.compile(
    r"\b[a-z][a-z0-9+.-]*://(?:[^\s/@]*@)?(\[[0-9a-f:.]+\]|[^\s/:?#\]\[)>,;'\"]+)",
    re.IGNORECASE,
)
_INTERNAL_SUFFIX = re.compile(
    r"(?<![\w.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:internal|local|corp|lan|intranet)"
    r"(?![\w-]|\.\w)",
    re.IGNORECASE,
)
_LOCALHOST = re.compile(r"(?<![\w.-])localhost(?![\w-])", re.IGNORECASE)
_IPV4 = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?!\w|\.\d)")


def _is_private_ip(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local


def _internal_hosts(text: str, names: re.Pattern[str] | None) -> list[str]:
    found: list[str] = []
    for m in _URL_HOST.finditer(text):
        host = m.group(1).rstrip(".")
        if (
            _INTERNAL_SUFFIX.fullmatch(host)
            or _LOCALHOST.fullmatch(host)
            or _is_private_ip(host)
            or (names is not None and names.search(host))
        ):
            found.append(host)
    found.extend(m.group(0) for m in _INTERNAL_SUFFIX.finditer(text))
    found.extend(m.group(0) for m in _LOCALHOST.finditer(text))
    found.extend(m.group(1) for m in _IPV4.finditer(text) if _is_private_ip(m.group(1)))
    return list(_unique(found))


# -- next-update promise --------------------------------------------------------------
_PROMISE = re.compile(
    r"\bnext update|\bupdate you\b|\bupdates? within\b|\bupdates? by\b|\bwill (?:\w+ )?update\b"
    r"|\bfurther updates?\b|\banother update\b|\bupdates? (?:again )?in \d|\bkeep you (?:posted"
    r"|updated|informed)\b|\bpost (?:an |more )?updates?\b|\bprovide (?:an |more )?updates?\b",
    re.IGNORECASE,
)


def has_update_promise(text: str) -> bool:
    return _PROMISE.search(" ".join(text.split())) is not None


def lint_public(
    text: str,
    *,
    internal_names: Sequence[str],
    max_length: int = 600,
    components: Sequence[str],
    resolved: bool,
) -> list[LintWarning]:
    """Warnings for a public (status-page) text, in a fixed order (see `CODES`).

    `internal_names` are code names, service and host names the public must not see
    (case-insensitive, whole words). `components` are the status-page components this
    incident affects (or, before any is chosen, all known ones): when given, at least one
    should be named. Until the incident is `resolved` the text should promise the next
    update.
    """
    warnings: list[LintWarning] = []
    names = _word_pattern(internal_names)
    if names is not None:
        hits = _unique(m.group(0) for m in names.finditer(text))
        if hits:
            warnings.append(
                LintWarning(
                    INTERNAL_NAME,
                    f"internal name{'s' if len(hits) > 1 else ''} {', '.join(hits)}: the public "
                    "does not know our code names; say which service is affected instead",
                    hits,
                )
            )
    traces = _stack_trace(text)
    if traces:
        warnings.append(
            LintWarning(
                STACK_TRACE,
                "looks like a stack trace or error output: leave technical detail out of public "
                "updates",
                tuple(traces),
            )
        )
    hosts = _internal_hosts(text, names)
    if hosts:
        warnings.append(
            LintWarning(
                INTERNAL_HOST,
                f"internal address{'es' if len(hosts) > 1 else ''} {', '.join(hosts)}: "
                "public readers cannot reach it and should not see it",
                tuple(hosts),
            )
        )
    if len(text) > max_length:
        warnings.append(
            LintWarning(
                TOO_LONG,
                f"{len(text)} characters, more than {max_length}: keep public updates brief "
                "(some readers get every update by e-mail)",
            )
        )
    wanted = [c.strip() for c in components if c.strip()]
    if wanted:
        pattern = _word_pattern(wanted)
        if pattern is not None and not pattern.search(text):
            warnings.append(
                LintWarning(
                    NO_COMPONENT,
                    f"no affected service named: mention {_or_list(wanted)} so readers know "
                    "what is affected",
                )
            )
    if not resolved and not has_update_promise(text):
        warnings.append(
            LintWarning(
                NO_NEXT_UPDATE,
                "no next update promised: say when the next update comes (e.g. \"We'll post "
                'the next update within 30 minutes.")',
            )
        )
    return warnings


def _or_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]

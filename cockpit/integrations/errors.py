"""What goes wrong when cockpit talks to Slack, Jira or Statuspage, said in plain words.

Every failure of a remote call is a `RemoteError`. It says which system failed, what
happened and what the user can do, and carries what the caller needs to decide the next
step: may it be retried (`retryable`), may the request already have taken effect
(`ambiguous`: a timeout or a dropped connection after the request was sent, or a 5xx
answer to a call that is not idempotent), and how long the service asked us to wait
(`retry_after`).

Text that comes from a response (error strings, bodies) is hostile: it is sanitized,
shortened, and never holds a token (`redact`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from cockpit.domain.errors import CockpitError
from cockpit.domain.sanitize import sanitize

# One redactor for every layer (cockpit/redact.py): the known tokens and the token shapes.
from cockpit.redact import REDACTED as REDACTED
from cockpit.redact import redact as _redact

MAX_DETAIL = 200  # characters of a remote error text kept in a message


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret (given here or registered with `cockpit.redact`) and
    anything that looks like a token replaced (`cockpit.redact.redact`)."""
    return _redact(text, secrets)


def shorten(text: str, limit: int = MAX_DETAIL) -> str:
    """One line, at most `limit` characters, sanitized."""
    one = " ".join(sanitize(text, single_line=True).split())
    return one if len(one) <= limit else one[: limit - 1].rstrip() + "…"


def looks_like_html(content_type: str, body: bytes | str) -> bool:
    if "html" in content_type.lower():
        return True
    head = body[:200] if isinstance(body, str) else body[:200].decode("utf-8", "replace")
    head = head.lstrip().lower()
    return head.startswith(("<!doctype html", "<html", "<head", "<body", "<?xml"))


def describe_body(
    system: str, status: int, content_type: str, body: bytes, secrets: Iterable[str] = ()
) -> str:
    """A short, safe description of an unexpected response body, for an error message."""
    if looks_like_html(content_type, body):
        return f"{system} answered {status} with an HTML page (a proxy error?)"
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return f"{system} answered {status} with an empty body"
    return f"{system} answered {status}: {shorten(redact(_json_detail(text), secrets))}"


def _json_detail(text: str) -> str:
    """The message inside a JSON error document ({"error": ...}, {"message": ...}, …)."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if isinstance(doc, dict):
        for key in ("error", "message", "errorMessages", "errors", "detail", "error_description"):
            value = doc.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, list) and value:
                return "; ".join(str(v) for v in value[:3])
            if isinstance(value, dict) and value:
                return "; ".join(f"{k}: {v}" for k, v in list(value.items())[:3])
    return text


# A `what` starting with one of these is a phrase about the system ("is rate limiting
# us"), so the message reads "Slack is rate limiting us", not "Slack: is rate limiting us".
_VERB_PHRASES = frozenset(
    {
        "answered",
        "is",
        "timed",
        "could",
        "dropped",
        "gave",
        "had",
        "has",
        "sent",
        "cannot",
        "refused",
        "rejected",
    }
)


class RemoteError(CockpitError):
    """A remote call failed. `str()` is what the user reads:

    "Slack: channel name is taken (name_taken) — pick another name or …"
    """

    def __init__(
        self,
        system: str,
        what: str,
        *,
        hint: str = "",
        status: int | None = None,
        code: str | None = None,
        retryable: bool = False,
        ambiguous: bool = False,
        retry_after: float | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        secrets = tuple(secrets)
        self.system = system
        what = shorten(redact(what, secrets), 300)
        if what.split(" ", 1)[0] in _VERB_PHRASES:
            what = f"{system} {what}"  # "answered 502 …" reads "Slack answered 502 …"
        self.what = what
        self.hint = shorten(redact(hint, secrets), 300)
        self.status = status
        self.code = shorten(redact(code, secrets), 80) if code else None
        self.retryable = retryable
        self.ambiguous = ambiguous
        self.retry_after = retry_after
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if self.what.startswith(self.system + " "):
            text = self.what
        else:
            text = f"{self.system}: {self.what}"
        if self.code and self.code not in self.what:
            text += f" ({self.code})"
        if self.hint:
            text += f" — {self.hint}"
        return text

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.system!r}, {self.what!r}, status={self.status!r}, "
            f"code={self.code!r}, retryable={self.retryable!r}, "
            f"ambiguous={self.ambiguous!r}, retry_after={self.retry_after!r})"
        )


def auth_set(token_name: str) -> str:
    """The command that stores a token again: "`cockpit auth set slack`"."""
    return f"`cockpit auth set {token_name}`"


def auth_hint(token_name: str, how: str = "") -> str:
    """A refused credential's fix: `how` (where to get a good one), then the command that
    stores it ("… then `cockpit auth set jira`")."""
    command = auth_set(token_name)
    return f"{how}, then {command}" if how else f"store a good one: {command}"


def scope_words(needed: str, provided: str = "") -> tuple[str, str]:
    """(what, hint) for a token that lacks a scope, from Slack's `needed` and `provided`
    (comma-separated lists)."""
    wanted = [s.strip() for s in needed.split(",") if s.strip()] or ["another one"]
    have = [s.strip() for s in provided.split(",") if s.strip()]
    scope = "scope " + wanted[0] if len(wanted) == 1 else "scopes " + ", ".join(wanted)
    one = "one of " if len(wanted) > 1 else ""
    what = f"refused the token: it lacks the {scope}"
    what += f" (it has {', '.join(have)})" if have else " (it has none)"
    hint = f"Add {one}the scope to the app, reinstall it, then {auth_set('slack')}."
    return what, hint


class AuthRefused(RemoteError):
    """The system refused the credentials (401, Slack's `invalid_auth`, `token_revoked`),
    the account may not do this (403), or the token lacks a scope (`missing_scope`:
    `needed`, and what it has, `provided`). The hint names the command that fixes it."""

    def __init__(
        self,
        system: str,
        what: str,
        *,
        needed: Iterable[str] = (),
        provided: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        self.needed = tuple(needed)
        self.provided = tuple(provided)
        super().__init__(system, what, **kwargs)


class NameTaken(RemoteError):
    """Slack: a channel with that name already exists."""


class NotInChannel(RemoteError):
    """Slack: the app is not a member of the channel it tried to read or post to."""


class TransitionUnavailable(RemoteError):
    """Jira: the issue's workflow offers no transition of that name right now.

    `available` lists the names it does offer.
    """

    def __init__(
        self,
        system: str,
        what: str,
        *,
        available: Iterable[str] = (),
        hint: str = "",
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        self.available = tuple(available)
        super().__init__(system, what, hint=hint, code=code, status=status)

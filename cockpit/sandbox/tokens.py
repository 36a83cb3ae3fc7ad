"""The drill range's credentials: which Slack tokens and Statuspage keys it takes.

As the services do, only credentials the range knows work; anything else is refused
(Slack `invalid_auth`, Statuspage 401). Every run knows:

    xoxb-drill-range              the cockpit bot, holding every scope cockpit uses
    xapp-drill-range              the app-level token (Socket Mode, connections:write)
    xoxp-<handle or user id>      a person of the workspace (a trainer's curl, a report)
    xoxb-drill-range-revoked      a revoked bot token (`token_revoked`)
    xoxb-drill-range-narrow       a bot token without channels:manage (`missing_scope`
                                  when cockpit creates an incident channel)
    drill-range-statuspage-key    the Statuspage API key
    drill-range-statuspage-revoked  a revoked Statuspage key (401)

and, for tests, two shapes: `xoxb-revoked…` (revoked) and `xoxb-noscope-<a>,<b>` (a bot
token holding every scope but those). A scenario adds its own (`[[tokens]]`, see
scenarios.py), a test `SandboxServer(tokens=[...])` or `Tokens.add_slack` /
`add_statuspage`. `SandboxState.refuse_token` refuses any credential from then on.

Jira's credentials are jira_api.py's own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

BOT_TOKEN = "xoxb-drill-range"
APP_TOKEN = "xapp-drill-range"
REVOKED_BOT_TOKEN = "xoxb-drill-range-revoked"
NARROW_BOT_TOKEN = "xoxb-drill-range-narrow"
NARROW_LACKS = ("channels:manage",)
STATUSPAGE_KEY = "drill-range-statuspage-key"
REVOKED_STATUSPAGE_KEY = "drill-range-statuspage-revoked"

REVOKED_PREFIX = "xoxb-revoked"  # xoxb-revoked…: answered token_revoked
NOSCOPE_PREFIX = "xoxb-noscope-"  # xoxb-noscope-chat:write,channels:join: lacks those

# What a bot token holds unless told otherwise: every scope cockpit's calls use (and the
# ones the official client's incident calls need: chat:write covers update and delete).
FULL_SCOPES: tuple[str, ...] = (
    "channels:history",
    "channels:join",
    "channels:manage",
    "channels:read",
    "chat:write",
    "groups:history",
    "groups:read",
    "groups:write",
    "team:read",
    "usergroups:read",
    "users:read",
)
APP_SCOPES: tuple[str, ...] = ("connections:write",)

SLACK_KINDS = ("bot", "user", "app")


@dataclass(frozen=True)
class SlackToken:
    """A Slack token the range knows: `kind` bot, user (a person, `user` their handle or
    id) or app; a bot's `scopes`; `revoked` ones are answered `token_revoked`."""

    token: str
    kind: str = "bot"
    scopes: tuple[str, ...] = FULL_SCOPES
    revoked: bool = False
    user: str | None = None


def kind_of(token: str) -> str:
    """A Slack token's kind by its prefix, as Slack's own tokens show it."""
    if token.startswith("xoxp-"):
        return "user"
    if token.startswith("xapp-"):
        return "app"
    return "bot"


class Tokens:
    """The credentials one run of the drill range knows (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slack: dict[str, SlackToken] = {}
        self._statuspage: dict[str, bool] = {}  # key -> revoked
        self.add_slack(BOT_TOKEN)
        self.add_slack(APP_TOKEN)
        self.add_slack(REVOKED_BOT_TOKEN, revoked=True)
        self.add_slack(NARROW_BOT_TOKEN, scopes=[s for s in FULL_SCOPES if s not in NARROW_LACKS])
        self.add_statuspage(STATUSPAGE_KEY)
        self.add_statuspage(REVOKED_STATUSPAGE_KEY, revoked=True)

    # -- adding ---------------------------------------------------------------------------
    def add_slack(
        self,
        token: str,
        *,
        scopes: Iterable[str] | None = None,
        revoked: bool = False,
        kind: str | None = None,
    ) -> SlackToken:
        """Know `token` (its kind from its prefix unless given; a bot's scopes default to
        `FULL_SCOPES`, an app-level token's to connections:write)."""
        token = token.strip()
        kind = kind or kind_of(token)
        if not token or kind not in SLACK_KINDS:
            raise ValueError(f"a Slack token and a kind of {', '.join(SLACK_KINDS)} are needed")
        if scopes is None:
            held = {"bot": FULL_SCOPES, "app": APP_SCOPES, "user": ()}[kind]
        else:
            held = tuple(sorted({s.strip() for s in scopes if s.strip()}))
        user = token[len("xoxp-") :] if kind == "user" and token.startswith("xoxp-") else None
        entry = SlackToken(token, kind, tuple(held), revoked, user)
        with self._lock:
            self._slack[token] = entry
        return entry

    def add_statuspage(self, key: str, *, revoked: bool = False) -> None:
        key = key.strip()
        if not key:
            raise ValueError("a Statuspage API key cannot be empty")
        with self._lock:
            self._statuspage[key] = revoked

    def add(self, credential: str) -> None:
        """Know a good credential: a Slack token (xoxb-, xoxp-, xapp-) or a Statuspage key."""
        if credential.startswith(("xox", "xapp-")):
            self.add_slack(credential)
        else:
            self.add_statuspage(credential)

    # -- asking ---------------------------------------------------------------------------
    def slack(self, token: str) -> SlackToken | None:
        """The token as the range knows it (the two test shapes included), or None. A
        person's `xoxp-` token is known when its handle is (slack_api.py looks it up)."""
        with self._lock:
            known = self._slack.get(token)
        if known is not None:
            return known
        if token.startswith(REVOKED_PREFIX):
            return SlackToken(token, "bot", FULL_SCOPES, revoked=True)
        if token.startswith(NOSCOPE_PREFIX):
            lacking = {s.strip() for s in token[len(NOSCOPE_PREFIX) :].split(",")}
            return SlackToken(token, "bot", tuple(s for s in FULL_SCOPES if s not in lacking))
        if token.startswith("xoxp-") and len(token) > len("xoxp-"):
            return SlackToken(token, "user", (), user=token[len("xoxp-") :])
        return None

    def statuspage(self, key: str) -> bool | None:
        """True: a good key; False: a revoked one; None: unknown."""
        with self._lock:
            revoked = self._statuspage.get(key)
        return None if revoked is None else not revoked

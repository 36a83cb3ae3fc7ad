"""The Slack scopes cockpit's bot token needs, from the methods it calls.

Each Web API method cockpit calls with the bot token accepts any one of the scopes listed
for it (Slack's method reference, docs.slack.dev, bot scopes; the public-channel one
first). `REQUIRED` is what `cockpit doctor` checks against the `x-oauth-scopes` header of
`auth.test`; `PRIVATE_CHANNELS` are needed only when the incident channels or #incidents
are private.
"""

from __future__ import annotations

from collections.abc import Iterable

# method -> the bot scopes that allow it (any one of them); () = no scope needed
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "chat.getPermalink": (),
    "conversations.list": ("channels:read", "groups:read"),
    "conversations.info": ("channels:read", "groups:read"),
    "conversations.history": ("channels:history", "groups:history"),
    "conversations.replies": ("channels:history", "groups:history"),
    "conversations.create": ("channels:manage", "groups:write"),
    "conversations.invite": ("channels:manage", "channels:write.invites", "groups:write"),
    "conversations.setTopic": ("channels:manage", "channels:write.topic", "groups:write"),
    "conversations.join": ("channels:join",),
    "chat.postMessage": ("chat:write",),
    "users.info": ("users:read",),
    "bots.info": ("users:read",),
}

# what the bot token must hold (the public-channel scope of every method above)
REQUIRED: tuple[str, ...] = (
    "channels:read",
    "channels:history",
    "channels:manage",
    "channels:join",
    "chat:write",
    "users:read",
)
# for private channels (a private #incidents, private incident channels)
PRIVATE_CHANNELS: tuple[str, ...] = ("groups:read", "groups:history")


def parse_scopes(header: str) -> frozenset[str]:
    """The scopes of an `x-oauth-scopes` header ("chat:write,channels:read")."""
    return frozenset(s.strip() for s in header.split(",") if s.strip())


def missing(held: Iterable[str], wanted: Iterable[str] = REQUIRED) -> list[str]:
    """The scopes of `wanted` (in its order) that `held` lacks."""
    have = set(held)
    return [s for s in wanted if s not in have]

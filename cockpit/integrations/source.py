"""Where the live feed reads messages from: the `MessageSource` interface (Slack's client
implements it), and `PushSource`, what Socket Mode needs to open a connection.

The feed poller (feed.py) decides what to fetch and when, within its rate budget; a source
only fetches. Each `async` method of a source is exactly one request, so the poller can
count every one in its budget before making it; `names` and `feed_message` make none.

Messages travel as raw mappings (`RawMessage`) in the shape the poller reads: `ts` (a
"seconds.fraction" string, unique within a channel, ordered by `ts_key`), and where they
apply `user` (the author's id, named by `user_name`), `thread_ts` (set on replies),
`reply_count` and `latest_reply` (on a thread's first message). These are Slack's field
names; another source maps its messages to them. `feed_message` turns one into the
domain's `FeedMessage`, as a person reads it, sanitized, naming people, channels, groups
and bots from the source's `names` (a `NameBook`); the ids it could not name are in the
message's `wanted`, and the poller looks them up with `lookup_name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

if TYPE_CHECKING:
    from cockpit.domain.feed import FeedMessage
    from cockpit.integrations.names import NameBook

RawMessage: TypeAlias = dict[str, Any]


def ts_key(ts: str) -> tuple[int, int]:
    """A sort key for "1700000000.000100" timestamps (exact, unlike float)."""
    whole, _, frac = str(ts).partition(".")
    try:
        return int(whole or 0), int((frac + "000000")[:6])
    except ValueError:
        return (0, 0)


@dataclass(frozen=True)
class SourceChannel:
    """A channel as a listing names it."""

    id: str
    name: str
    is_member: bool = False


@dataclass(frozen=True)
class ChannelPage:
    """One page of the channels the source can see; `next_cursor` is None on the last."""

    channels: list[SourceChannel] = field(default_factory=list)
    next_cursor: str | None = None


@dataclass(frozen=True)
class MessagePage:
    """One page of messages (each with a string `ts`), as the source returned them.
    `next_cursor` and `has_more` say whether there is more (older) to page through."""

    messages: list[RawMessage] = field(default_factory=list)
    next_cursor: str | None = None
    has_more: bool = False


class MessageSource(Protocol):
    """What the feed poller reads through. Every `async` method is one request."""

    async def workspace_url(self) -> str:
        """The base of message permalinks (no trailing slash)."""
        ...

    async def channels_page(
        self, cursor: str | None = None, *, member_only: bool = False
    ) -> ChannelPage:
        """One page of the channels the token can see (channel lookup by name), or with
        `member_only` of those it is a member of."""
        ...

    async def join(self, channel_id: str) -> None:
        """Become a member of a channel (pushed messages come only from those)."""
        ...

    async def messages_since(
        self, channel_id: str, oldest: str | None, *, cursor: str | None, limit: int
    ) -> MessagePage:
        """One page of a channel's messages newer than `oldest` (None: the newest
        `limit`), continuing at `cursor` when given."""
        ...

    async def thread_replies(
        self, channel_id: str, thread_ts: str, oldest: str | None, *, limit: int
    ) -> MessagePage:
        """One page of a thread (its first message and its replies newer than `oldest`)."""
        ...

    async def lookup_name(self, kind: str, ident: str) -> dict[tuple[str, str], str | None]:
        """The name of `ident` of `kind` ("user", "channel", "usergroup", "bot"): {(kind,
        id): name, or None if the source does not know it}, and any other names the same
        answer gave."""
        ...

    @property
    def names(self) -> NameBook:
        """The names known, which `feed_message` reads with."""
        ...

    def feed_message(
        self,
        raw: Mapping[str, Any],
        channel: str,
        *,
        channel_id: str,
        workspace: str,
        is_alert: bool,
    ) -> FeedMessage:
        """A raw message of channel `channel` (its name) as the feed shows it, with its
        permalink under `workspace`, named from `names`."""
        ...


class PushSource(Protocol):
    """What Socket Mode (socket.py) needs of a source: a fresh WebSocket URL, good for one
    connection (one request)."""

    async def open_socket(self) -> str: ...

"""A message in the live feed (#incidents, #alerts, #incident-N), as a person reads it."""

from __future__ import annotations

from datetime import datetime, time, tzinfo
from typing import Any

import msgspec

from cockpit.domain.clock import from_iso, to_iso, utc
from cockpit.domain.sanitize import sanitize

TITLE_LIMIT = 120  # an incident title raised from a message: at most this many characters


class FeedMessage(msgspec.Struct, frozen=True):
    channel: str  # channel name without '#': "incidents", "alerts", "incident-7"
    ts: str  # Slack's message ts: unique within a channel, sortable
    at: datetime  # the message's own time (UTC)
    author: str
    text: str
    thread_ts: str | None = None  # set on replies (and on parents, equal to ts)
    reply_count: int = 0
    is_alert: bool = False  # from the alerts channel or posted by an alerting bot
    permalink: str = ""
    edited: bool = False
    deleted: bool = False
    extra: tuple[str, ...] = ()  # attachment lines (fields, file names)
    line: str = ""  # the row's most informative line ("" : the text's first line)
    detail: str = ""  # the reader's text: the whole message in structure ("" : the text)
    state: str = ""  # an alert's state from its colour: good, warning, danger or "#rrggbb"
    broadcast: bool = False  # a thread reply also sent to the channel: shown in it
    # (kind, id) of the names not known when it was read ("user", "U1"): the feed looks
    # them up and reads the message again. Not stored.
    wanted: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        put = msgspec.structs.force_setattr
        put(self, "at", utc(self.at))
        put(self, "author", sanitize(self.author, single_line=True))
        put(self, "text", sanitize(self.text))
        put(self, "channel", sanitize(self.channel, single_line=True))
        put(self, "line", sanitize(self.line, single_line=True))
        put(self, "detail", sanitize(self.detail))
        put(self, "state", sanitize(self.state, single_line=True))

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": 1,
            "channel": self.channel,
            "ts": self.ts,
            "at": to_iso(self.at),
            "author": self.author,
            "text": self.text,
            "thread_ts": self.thread_ts,
            "reply_count": self.reply_count,
            "is_alert": self.is_alert,
            "permalink": self.permalink,
            "edited": self.edited,
            "deleted": self.deleted,
            "extra": list(self.extra),
            "line": self.line,
            "detail": self.detail,
            "state": self.state,
            "broadcast": self.broadcast,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeedMessage:
        at = from_iso(d["at"])
        assert at is not None
        thread = d.get("thread_ts")
        return cls(
            channel=str(d["channel"]),
            ts=str(d["ts"]),
            at=at,
            author=str(d.get("author", "")),
            text=str(d.get("text", "")),
            thread_ts=str(thread) if thread else None,
            reply_count=int(d.get("reply_count", 0)),
            is_alert=bool(d.get("is_alert", False)),
            permalink=sanitize(d.get("permalink", ""), single_line=True),
            edited=bool(d.get("edited", False)),
            deleted=bool(d.get("deleted", False)),
            extra=tuple(sanitize(x) for x in d.get("extra", [])),
            line=str(d.get("line", "")),
            detail=str(d.get("detail", "")),
            state=str(d.get("state", "")),
            broadcast=bool(d.get("broadcast", False)),
        )

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.ts)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts and not self.broadcast

    @property
    def headline(self) -> str:
        """The row's line: the most informative one (an alert's title when its text is empty)."""
        return self.line or self.first_line

    @property
    def reader_text(self) -> str:
        """What the reader shows: the whole message in structure."""
        if self.detail:
            return self.detail
        return "\n".join((self.text, *self.extra)) if self.extra else self.text

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0]

    @property
    def line_count(self) -> int:
        return self.text.count("\n") + 1

    def title_guess(self, limit: int = TITLE_LIMIT) -> str:
        """A title for an incident raised from this message, from its full text: the first
        line (spaces collapsed) up to its first sentence's end when that fits, else cut at
        a word boundary to at most `limit` characters, the cut marked with "…". Only picks
        the text: escaping is for where it goes out."""
        line = " ".join(self.first_line.split())
        for stop in (". ", "! ", "? "):
            end = line.find(stop, 0, limit)
            if end > 0:
                line = line[:end]
                break
        if len(line) <= limit:
            return line
        room = line[: limit - 1]  # one character for the "…"
        if line[limit - 1] != " ":
            head, space, _ = room.rpartition(" ")
            if space and head.strip():
                room = head  # the last whole word that fits
        return room.rstrip(" ,;:—–-") + "…"


def in_waking_hours(at: datetime, tz: tzinfo, start: time = time(7), end: time = time(19)) -> bool:
    """The playbook asks to watch #alerts during business/waking hours only."""
    local = at.astimezone(tz).time()
    return start <= local < end

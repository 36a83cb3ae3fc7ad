"""Slack Web API client, and how a raw Slack message reads on screen.

* `SlackClient`: the calls cockpit makes (read channels and threads, post, create the
  incident channel, invite, topic, permalinks, user names; with an app-level token,
  `open_socket` for Socket Mode, see socket.py). Reads are GET with query
  arguments, writes are POST with a JSON body; the token travels only in the
  `Authorization: Bearer` header. Slack reports most errors as HTTP 200
  `{"ok": false, "error": "..."}`: those become a `RemoteError` in plain words.
* `marker_metadata` / `SlackClient.find_message_with_marker`: every message cockpit
  posts can carry Slack message metadata naming the outbox action that sent it, so
  after an ambiguous failure the outbox can tell whether the message is already there.
* `SlackClient` is the live feed's `MessageSource` (see source.py: one request per
  call, the feed poller counts them) and Socket Mode's `PushSource`.
* `render_message` / `to_feed_message`: a message as a person reads it in Slack
  (mentions, channel links, URLs, entities, bot attachments and blocks, edits,
  deletions, broadcasts, files). Everything returned is sanitized.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from cockpit.domain.feed import FeedMessage
from cockpit.domain.sanitize import sanitize, sanitize_tree
from cockpit.integrations.errors import (
    AuthRefused,
    NameTaken,
    NotInChannel,
    RemoteError,
    auth_hint,
    scope_words,
    shorten,
)
from cockpit.integrations.http import ApiClient, Reply
from cockpit.integrations.names import NameBook
from cockpit.integrations.slack.render import MappingNames, Names, Rendered, mrkdwn, render
from cockpit.integrations.source import (
    ChannelPage,
    MessagePage,
    RawMessage,
    SourceChannel,
)
from cockpit.integrations.source import ts_key as ts_key  # re-exported: Slack's ts order

MARKER_EVENT_TYPE = "cockpit_action"
CHANNEL_NAME_MAX = 80
_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")

# Slack's error codes, in plain words: (what happened, what the user can do).
_ERRORS: dict[str, tuple[str, str]] = {
    # the credential codes: the hint's "then `cockpit auth set …`" is added by _slack_error
    "not_authed": ("no token was sent", "store the Slack token"),
    "invalid_auth": (
        "refused the token",
        "it is mistyped, or the app was uninstalled: copy the token from the app's "
        "OAuth & Permissions page",
    ),
    "token_revoked": (
        "refused the token: it has been revoked",
        "reinstall the app to the workspace and copy its new token",
    ),
    "token_expired": (
        "refused the token: it has expired",
        "copy a new token from the app's OAuth & Permissions page",
    ),
    "account_inactive": (
        "refused the token: it belongs to a deactivated account or app",
        "use the token of an active app",
    ),
    "channel_not_found": (
        "channel not found",
        "check the channel name; a private channel must invite the app first",
    ),
    "not_in_channel": (
        "the app is not a member of this channel",
        "invite it there (/invite @app) or let cockpit join the channel",
    ),
    "name_taken": ("channel name is taken", "pick another name or use the existing channel"),
    "ratelimited": ("is rate limiting us (too many requests)", "wait a little and try again"),
    "rate_limited": ("is rate limiting us (too many requests)", "wait a little and try again"),
    "is_archived": ("the channel is archived", "unarchive it in Slack or use another channel"),
    "msg_too_long": (
        "the message is too long",
        "shorten it: Slack takes at most 40,000 characters",
    ),
    "no_text": ("the message is empty", "write some text"),
    "invalid_name": (
        "that channel name is not allowed",
        "use lowercase letters, digits, - and _ (at most 80 characters)",
    ),
    "invalid_name_specials": (
        "that channel name has characters Slack does not allow",
        "use lowercase letters, digits, - and _",
    ),
    "invalid_name_punctuation": (
        "that channel name is only punctuation",
        "use some letters or digits",
    ),
    "invalid_name_maxlength": ("that channel name is too long", "use at most 80 characters"),
    "invalid_name_required": ("no channel name was given", "give the channel a name"),
    "user_not_found": ("user not found", "check the user id"),
    "users_not_found": ("some of those users were not found", "check the user ids"),
    "user_is_bot": ("that user is a bot", "invite people, not bots"),
    "cant_invite_self": ("the app cannot invite itself", ""),
    "method_not_supported_for_channel_type": (
        "that cannot be done in this kind of channel",
        "for a private channel, invite the app instead",
    ),
    "restricted_action": ("the workspace does not allow the app to do this", "ask a Slack admin"),
    "thread_not_found": ("the thread was not found", "its first message may have been deleted"),
    "message_not_found": ("the message was not found", "it may have been deleted"),
    "too_many_users": ("too many users at once", "invite fewer people at a time"),
    "invalid_arguments": ("refused the request as malformed", "this is a bug in cockpit"),
    "invalid_arg_name": ("refused an argument name", "this is a bug in cockpit"),
    "invalid_json": ("could not read the request", "this is a bug in cockpit"),
    "internal_error": ("had an internal error", "try again in a moment"),
    "fatal_error": ("had an internal error", "try again in a moment"),
    "service_unavailable": ("is unavailable right now", "try again in a moment"),
    "request_timeout": ("timed out handling the request", "try again in a moment"),
    "not_allowed_token_type": (
        "refused this kind of token for the call",
        "Socket Mode needs an app-level token (xapp-…): cockpit auth set slack-app; "
        "everything else the bot token (xoxb-…)",
    ),
    "forbidden_team": (
        "does not let this workspace use Socket Mode",
        "turn Socket Mode on in the app's settings, or leave it off (cockpit polls)",
    ),
    "missing_args": ("was sent no app-level token", "cockpit auth set slack-app"),
}
_AUTH_CODES = {"not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive"}
_RETRYABLE = {
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}
# Codes after which a write may have (partly) taken effect, per Slack's documentation.
_MAYBE_DONE = {"internal_error", "fatal_error"}

# Name look-ups: the method of each kind, and how many a minute the feed makes of each:
# half of the method's rate tier (Tier 2: 20+ a minute, Tier 3: 50+, Tier 4: 100+), the
# rest left to the other cockpits on the same app. The feed's own budget (25 requests a
# minute, polls included) bounds them all together.
NAME_METHODS = {
    "user": "users.info",  # Tier 4
    "channel": "conversations.info",  # Tier 3
    "usergroup": "usergroups.list",  # Tier 2: one call names every group
    "bot": "bots.info",  # Tier 3
}
NAME_LIMITS = {"user": 50.0, "channel": 25.0, "usergroup": 2.0, "bot": 25.0}
_NOT_FOUND = {
    "user_not_found",
    "user_not_visible",
    "channel_not_found",
    "bot_not_found",
    "channel_is_limited_access",
}
_NAME_LASTING = {"missing_scope", "plan_upgrade_required", "not_allowed_token_type"}


# -- small helpers -----------------------------------------------------------------------
def ts_to_datetime(ts: str) -> datetime:
    seconds, micros = ts_key(ts)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)


def channel_name(text: str) -> str:
    """`text` made into a name Slack accepts: lowercase, a–z 0–9 - _, at most 80."""
    name = sanitize(text, single_line=True).lower()
    name = re.sub(r"[^a-z0-9_-]+", "-", name)
    name = re.sub(r"-{2,}", "-", name).strip("-")
    return name[:CHANNEL_NAME_MAX].rstrip("-")


def is_valid_channel_name(name: str) -> bool:
    return bool(_CHANNEL_NAME.match(name))


def marker_metadata(
    marker: str, event_type: str = MARKER_EVENT_TYPE, **payload: str | int | bool
) -> dict[str, Any]:
    """Slack message metadata that marks a message as sent by outbox action `marker`."""
    return {"event_type": event_type, "event_payload": {"marker": marker, **payload}}


def message_marker(msg: Mapping[str, Any]) -> str | None:
    """The outbox marker a message carries in its metadata, if any."""
    meta = msg.get("metadata")
    if not isinstance(meta, Mapping):
        return None
    payload = meta.get("event_payload")
    if not isinstance(payload, Mapping):
        return None
    marker = payload.get("marker")
    return marker if isinstance(marker, str) else None


@dataclass(frozen=True)
class Identity:
    """Who the token is (auth.test)."""

    user_id: str
    user: str
    team_id: str
    team: str
    url: str
    bot_id: str = ""


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_member: bool = False
    is_archived: bool = False


@dataclass(frozen=True)
class Posted:
    """Where a posted message landed: channel id and its ts."""

    channel: str
    ts: str


# -- the client ---------------------------------------------------------------------------
class SlackClient(ApiClient):
    system = "Slack"
    auth_hint = "check the Slack token"

    def __init__(self, api_url: str, token: str, **kwargs: Any) -> None:
        """`kwargs` go to `ApiClient` (transport, sleep, clock, retry, deadline, …)."""
        super().__init__(
            api_url, headers={"Authorization": f"Bearer {token}"}, secrets=(token,), **kwargs
        )
        self._user_names: dict[str, str] = {}
        # who the ids in messages are (the feed poller makes the look-ups, see names.py)
        self.names = NameBook(
            limits=NAME_LIMITS, batch_kinds=("usergroup",), unknown={"channel": "private channel"}
        )
        self.tz: tzinfo = UTC  # dates in messages read in this zone (the user's)

    # -- the call and its errors ----------------------------------------------------------
    async def call(
        self,
        method: str,
        args: Mapping[str, Any] | None = None,
        *,
        write: bool = False,
        idempotent: bool | None = None,
        accept_errors: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Call Web API `method`; return the ok:true document (sanitized).

        Reads go as GET with query arguments; writes as POST with a JSON body.
        Error codes in `accept_errors` are returned as their document, not raised.
        """
        if write:
            reply = await self.request(
                "POST", method, json_body=dict(args or {}), idempotent=idempotent
            )
        else:
            reply = await self.request("GET", method, params=args, idempotent=idempotent)
        doc = reply.as_dict()
        ok = doc.get("ok")
        if ok is True:
            clean = sanitize_tree(doc)
            assert isinstance(clean, dict)
            return clean
        if ok is False:
            code = doc.get("error")
            if isinstance(code, str) and code in set(accept_errors):
                return {"ok": False, "error": code}
            raise self._slack_error(doc, reply)
        raise reply.shape_error("no 'ok' field")

    def error_for_status(self, reply: Reply, body: bytes, content_type: str) -> RemoteError:
        if isinstance(reply.data, dict) and reply.data.get("ok") is False:
            return self._slack_error(reply.data, reply)
        return super().error_for_status(reply, body, content_type)

    def _slack_error(self, doc: Mapping[str, Any], reply: Reply) -> RemoteError:
        code = sanitize(doc.get("error") or "unknown_error", single_line=True)[:80]
        what, hint = _ERRORS.get(code, ("refused the request", ""))
        needed = shorten(str(doc.get("needed") or ""), 200)
        provided = shorten(str(doc.get("provided") or ""), 300)
        if code == "missing_scope":
            what, hint = scope_words(needed, provided)
        elif code in _AUTH_CODES:
            # the Socket Mode client carries the app-level token: its own secret name
            name = "slack-app" if any(t.startswith("xapp-") for t in self.secrets) else "slack"
            hint = auth_hint(name, hint)
        details = _response_messages(doc)
        if details and code not in _ERRORS:
            what = f"{what}: {details}"
        retry_after = None
        if code in ("ratelimited", "rate_limited"):
            raw = reply.headers.get("retry-after", "")
            retry_after = float(raw) if raw.replace(".", "", 1).isdigit() else None
        cls: type[RemoteError] = RemoteError
        if code == "missing_scope" or code in _AUTH_CODES:
            return AuthRefused(
                self.system,
                what,
                hint=hint,
                status=reply.status,
                code=code,
                needed=[x.strip() for x in needed.split(",") if x.strip()],
                provided=[x.strip() for x in provided.split(",") if x.strip()],
                secrets=self.secrets,
            )
        if code == "name_taken":
            cls = NameTaken
        elif code == "not_in_channel":
            cls = NotInChannel
        return cls(
            self.system,
            what,
            hint=hint,
            status=reply.status,
            code=code,
            retryable=code in _RETRYABLE,
            ambiguous=code in _MAYBE_DONE and not reply.idempotent,
            retry_after=retry_after,
            secrets=self.secrets,
        )

    async def _pages(
        self, method: str, args: Mapping[str, Any], key: str
    ) -> AsyncIterator[list[Any]]:
        """Each page's `key` list, following `response_metadata.next_cursor`."""
        cursor = ""
        while True:
            doc = await self.call(method, {**args, "cursor": cursor or None})
            items = doc.get(key)
            if not isinstance(items, list):
                raise self.error(
                    f"answered {method} without a list of {key}", hint="try again later"
                )
            yield items
            meta = doc.get("response_metadata")
            cursor = meta.get("next_cursor", "") if isinstance(meta, dict) else ""
            if not cursor:
                return

    # -- reads ----------------------------------------------------------------------------
    async def auth_test(self) -> Identity:
        doc = await self.call("auth.test")
        return Identity(
            user_id=str(doc.get("user_id", "")),
            user=str(doc.get("user", "")),
            team_id=str(doc.get("team_id", "")),
            team=str(doc.get("team", "")),
            url=str(doc.get("url", "")),
            bot_id=str(doc.get("bot_id", "") or ""),
        )

    async def conversations_list(
        self,
        *,
        types: str = "public_channel,private_channel",
        exclude_archived: bool = True,
        limit: int = 200,
    ) -> AsyncGenerator[Channel, None]:
        """Every channel the token can see, page by page."""
        args = {"types": types, "exclude_archived": exclude_archived, "limit": limit}
        async for page in self._pages("conversations.list", args, "channels"):
            for ch in page:
                if isinstance(ch, dict) and isinstance(ch.get("id"), str):
                    yield Channel(
                        id=ch["id"],
                        name=str(ch.get("name", "")),
                        is_private=bool(ch.get("is_private")),
                        is_member=bool(ch.get("is_member")),
                        is_archived=bool(ch.get("is_archived")),
                    )

    async def find_channel(
        self, name: str, *, types: str = "public_channel,private_channel"
    ) -> Channel | None:
        """The channel called `name` (with or without '#'), or None; stops paging once found."""
        wanted = name.lstrip("#").lower()
        async with aclosing(self.conversations_list(types=types)) as channels:
            async for ch in channels:
                if ch.name.lower() == wanted:
                    return ch
        return None

    async def history(
        self,
        channel_id: str,
        oldest: str | None = None,
        *,
        limit: int = 200,
        include_all_metadata: bool = False,
    ) -> list[dict[str, Any]]:
        """Messages of a channel newer than `oldest` (exclusive), oldest first."""
        args = {
            "channel": channel_id,
            "oldest": oldest,
            "limit": limit,
            "include_all_metadata": include_all_metadata or None,
        }
        return await self._messages("conversations.history", args)

    async def replies(
        self,
        channel_id: str,
        thread_ts: str,
        oldest: str | None = None,
        *,
        limit: int = 200,
        include_all_metadata: bool = False,
    ) -> list[dict[str, Any]]:
        """A thread: its first message and the replies newer than `oldest`, oldest first."""
        args = {
            "channel": channel_id,
            "ts": thread_ts,
            "oldest": oldest,
            "limit": limit,
            "include_all_metadata": include_all_metadata or None,
        }
        return await self._messages("conversations.replies", args)

    async def _messages(self, method: str, args: dict[str, Any]) -> list[dict[str, Any]]:
        """Every message of every page, once each (a thread's first message comes on every
        page of conversations.replies), oldest first."""
        unique: dict[str, dict[str, Any]] = {}
        async for page in self._pages(method, args, "messages"):
            for m in page:
                if isinstance(m, dict) and isinstance(m.get("ts"), str):
                    unique.setdefault(m["ts"], m)
        return sorted(unique.values(), key=lambda m: ts_key(m["ts"]))

    async def find_message_with_marker(
        self, channel: str, marker: str, oldest: str | None = None, *, thread_ts: str | None = None
    ) -> Posted | None:
        """The message carrying outbox `marker` in its metadata, posted after `oldest`.

        Thread replies do not appear in a channel's history: pass `thread_ts` to look
        in that thread instead.
        """
        if thread_ts:
            messages = await self.replies(channel, thread_ts, oldest, include_all_metadata=True)
        else:
            messages = await self.history(channel, oldest, include_all_metadata=True)
        for msg in messages:
            if message_marker(msg) == marker:
                return Posted(channel=channel, ts=msg["ts"])
        return None

    async def open_socket(self) -> str:
        """A fresh Socket Mode WebSocket URL (`apps.connections.open`). The client must
        hold an app-level token (`xapp-…`, scope connections:write); each URL is good for
        one connection and carries a ticket, so it is never logged."""
        doc = await self.call("apps.connections.open", {}, write=True, idempotent=True)
        url = doc.get("url")
        if not isinstance(url, str) or not url.startswith(("wss://", "ws://")):
            raise self.error(
                "answered apps.connections.open without a WebSocket URL",
                hint="try again later",
            )
        return url

    async def permalink(self, channel: str, ts: str) -> str:
        doc = await self.call("chat.getPermalink", {"channel": channel, "message_ts": ts})
        link = doc.get("permalink")
        if not isinstance(link, str):
            raise self.error("gave no permalink for the message", hint="try again later")
        return link

    async def user_name(self, user_id: str) -> str:
        """The name people see for `user_id` (cached for the client's life)."""
        if user_id in self._user_names:
            return self._user_names[user_id]
        doc = await self.call(
            "users.info", {"user": user_id}, accept_errors=("user_not_found", "user_not_visible")
        )
        user = doc.get("user") if doc.get("ok") else None
        name = _person_name(user) or user_id
        self._user_names[user_id] = name
        if user is not None and name != user_id:
            self.names.note("user", user_id, name)
        return name

    async def lookup_name(self, kind: str, ident: str) -> dict[tuple[str, str], str | None]:
        """One request for the name of `ident` of `kind` (user, channel, usergroup, bot):
        {(kind, id): name, or None when Slack does not know it (or does not show it to
        the app)}. User groups come all at once (`usergroups.list`), so the answer names
        every group. A refused scope or plan raises `RemoteError` (not retryable)."""
        method = NAME_METHODS.get(kind)
        if method is None:
            return {(kind, ident): None}
        if kind == "usergroup":
            doc = await self.call(method, {"include_disabled": True})
            found: dict[tuple[str, str], str | None] = {}
            for g in doc.get("usergroups") or []:
                if isinstance(g, dict) and isinstance(g.get("id"), str):
                    handle = g.get("handle") or g.get("name")
                    found[("usergroup", g["id"])] = _clean_name(handle)
            found.setdefault((kind, ident), None)
            return found
        arg = {"user": "user", "channel": "channel", "bot": "bot"}[kind]
        doc = await self.call(method, {arg: ident}, accept_errors=_NOT_FOUND)
        if not doc.get("ok"):
            return {(kind, ident): None}
        if kind == "user":
            name = _person_name(doc.get("user"))
            if name:
                self._user_names[ident] = name
        else:
            obj = doc.get("channel" if kind == "channel" else "bot")
            name = _clean_name(obj.get("name")) if isinstance(obj, dict) else None
        return {(kind, ident): name}

    def harvest_names(self, raw: Mapping[str, Any]) -> None:
        """Names that come free with a message: a bot's profile, a person's profile."""
        for m in (raw, raw.get("message")):
            if not isinstance(m, Mapping):
                continue
            bot = m.get("bot_profile")
            if isinstance(bot, Mapping) and isinstance(m.get("bot_id"), str):
                name = _clean_name(bot.get("name"))
                if name:
                    self.names.note("bot", m["bot_id"], name)
            profile = m.get("user_profile")
            if isinstance(profile, Mapping) and isinstance(m.get("user"), str):
                name = _person_name({"profile": profile})
                if name:
                    self.names.note("user", m["user"], name)

    def remember_user(self, user_id: str, name: str) -> None:
        self._user_names[user_id] = sanitize(name, single_line=True)

    @property
    def known_user_names(self) -> Mapping[str, str]:
        return dict(self._user_names)

    # -- the feed's MessageSource (source.py): one request each -----------------------------
    async def workspace_url(self) -> str:
        return (await self.auth_test()).url.rstrip("/")

    async def channels_page(
        self, cursor: str | None = None, *, member_only: bool = False
    ) -> ChannelPage:
        """One page of channels: every channel the token can see (conversations.list), or
        with `member_only` those the app is in (users.conversations: a handful even in a
        workspace of thousands)."""
        args: dict[str, Any] = {
            "types": "public_channel,private_channel",
            "exclude_archived": True,
            "limit": 1000,
        }
        if cursor:
            args["cursor"] = cursor
        method = "users.conversations" if member_only else "conversations.list"
        doc = await self.call(method, args)
        channels = [
            SourceChannel(
                id=c["id"],
                name=str(c.get("name", "")),
                is_member=member_only or bool(c.get("is_member")),
            )
            for c in doc.get("channels") or []
            if isinstance(c, dict) and isinstance(c.get("id"), str)
        ]
        return ChannelPage(channels, _next_cursor(doc))

    async def messages_since(
        self,
        channel_id: str,
        oldest: str | None,
        *,
        cursor: str | None,
        limit: int,
        include_all_metadata: bool = True,
    ) -> MessagePage:
        # with their metadata: the team's changes in an incident's channel ride on the
        # feed's reads (cockpit.domain.team), no request of their own
        args: dict[str, Any] = {"channel": channel_id, "limit": limit}
        if include_all_metadata:
            args["include_all_metadata"] = True
        if oldest is not None:
            args["oldest"] = oldest
        if cursor:
            args["cursor"] = cursor
        return _message_page(await self.call("conversations.history", args))

    async def thread_replies(
        self,
        channel_id: str,
        thread_ts: str,
        oldest: str | None,
        *,
        limit: int,
        include_all_metadata: bool = True,
    ) -> MessagePage:
        args: dict[str, Any] = {"channel": channel_id, "ts": thread_ts, "limit": limit}
        if include_all_metadata:  # (another cockpit's raise, replied in a report's thread)
            args["include_all_metadata"] = True
        if oldest is not None:
            args["oldest"] = oldest
        return _message_page(await self.call("conversations.replies", args))

    def feed_message(
        self,
        raw: Mapping[str, Any],
        channel: str,
        *,
        channel_id: str,
        workspace: str,
        is_alert: bool,
    ) -> FeedMessage:
        link = f"{workspace}/archives/{channel_id}/p{str(raw.get('ts', '')).replace('.', '')}"
        self.harvest_names(raw)
        return to_feed_message(
            raw, channel, self.names, permalink=link, is_alert=is_alert, tz=self.tz
        )

    # -- writes ---------------------------------------------------------------------------
    async def post_message(
        self,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        blocks: list[dict[str, Any]] | None = None,
        reply_broadcast: bool = False,
    ) -> Posted:
        """Post `text` (mrkdwn) to `channel` (id or name), as a thread reply with `thread_ts`.

        `metadata` ({"event_type": ..., "event_payload": {...}}, see `marker_metadata`)
        lets `find_message_with_marker` find the message again.
        """
        args: dict[str, Any] = {"channel": channel, "text": text}
        if thread_ts:
            args["thread_ts"] = thread_ts
            if reply_broadcast:
                args["reply_broadcast"] = True
        if metadata is not None:
            args["metadata"] = dict(metadata)
        if blocks is not None:
            args["blocks"] = blocks
        doc = await self.call("chat.postMessage", args, write=True)
        ts, where = doc.get("ts"), doc.get("channel")
        if not isinstance(ts, str) or not isinstance(where, str):
            raise self.error(
                "answered chat.postMessage without the message's ts",
                hint="the message was probably posted; check the channel",
                ambiguous=True,
            )
        return Posted(channel=where, ts=ts)

    async def create_channel(self, name: str, *, is_private: bool = False) -> Channel:
        """Create channel `name`; a name in use raises `NameTaken`."""
        if not is_valid_channel_name(name):
            raise RemoteError(
                self.system,
                f"{name!r} is not a valid channel name",
                code="invalid_name",
                hint=f"use lowercase letters, digits, - and _ (at most 80), e.g. "
                f"{channel_name(name) or 'incident-1'!r}",
            )
        doc = await self.call(
            "conversations.create", {"name": name, "is_private": is_private}, write=True
        )
        ch = doc.get("channel")
        if not isinstance(ch, dict) or not isinstance(ch.get("id"), str):
            raise self.error(
                "answered conversations.create without the channel",
                hint="the channel was probably created; look for it",
                ambiguous=True,
            )
        return Channel(
            id=ch["id"], name=str(ch.get("name", name)), is_private=is_private, is_member=True
        )

    async def join(self, channel: str) -> None:
        await self.call(
            "conversations.join",
            {"channel": channel},
            write=True,
            idempotent=True,
            accept_errors=("already_in_channel",),
        )

    async def invite(self, channel: str, user_ids: Iterable[str]) -> None:
        """Invite people; those already in the channel are fine."""
        users = [u for u in user_ids if u]
        if not users:
            return
        await self.call(
            "conversations.invite",
            {"channel": channel, "users": ",".join(users)},
            write=True,
            idempotent=True,
            accept_errors=("already_in_channel", "cant_invite_self"),
        )

    async def set_topic(self, channel: str, topic: str) -> None:
        await self.call(
            "conversations.setTopic",
            {"channel": channel, "topic": topic},
            write=True,
            idempotent=True,
        )


def _clean_name(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return sanitize(value, single_line=True).strip()


def _person_name(user: object) -> str | None:
    """The name Slack shows for a person: the display name, else the real name."""
    if not isinstance(user, Mapping):
        return None
    raw_profile = user.get("profile")
    profile: Mapping[str, Any] = raw_profile if isinstance(raw_profile, Mapping) else {}
    for candidate in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    ):
        name = _clean_name(candidate)
        if name:
            return name
    return None


def _next_cursor(doc: Mapping[str, Any]) -> str | None:
    meta = doc.get("response_metadata") or {}
    cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
    return str(cursor) if cursor else None


def _message_page(doc: Mapping[str, Any]) -> MessagePage:
    messages: list[RawMessage] = [
        m for m in doc.get("messages") or [] if isinstance(m, dict) and isinstance(m.get("ts"), str)
    ]
    return MessagePage(messages, _next_cursor(doc), bool(doc.get("has_more")))


def _response_messages(doc: Mapping[str, Any]) -> str:
    meta = doc.get("response_metadata")
    if not isinstance(meta, Mapping):
        return ""
    msgs = meta.get("messages")
    if not isinstance(msgs, list):
        return ""
    return shorten("; ".join(str(m) for m in msgs[:3]), 160)


# -- how a message reads: render.py -------------------------------------------------------
FeedText = Rendered  # a message as a person reads it (all fields sanitized)


def mrkdwn_to_text(
    text: str, user_names: Mapping[str, str], channel_names: Mapping[str, str] | None = None
) -> str:
    """Slack mrkdwn as read: <@U1> → @name, <#C1|x> → #x, <url|label> → label (url); an
    unknown id reads as itself (render.py's `mrkdwn` gives readable placeholders)."""
    return mrkdwn(text, MappingNames(user_names, channel_names or {}), bare_ids=True)


def mentioned_users(msg: Mapping[str, Any]) -> set[str]:
    """User ids a message names (author and <@U…> mentions), to look their names up first."""
    ids: set[str] = set()
    for m in (msg, msg.get("message"), msg.get("previous_message")):
        if isinstance(m, Mapping):
            if isinstance(m.get("user"), str):
                ids.add(m["user"])
            ids.update(re.findall(r"<@([A-Z0-9]+)(?:\|[^>]*)?>", str(m.get("text") or "")))
    return ids


def render_message(
    msg: Mapping[str, Any],
    user_names: Mapping[str, str] | Names,
    channel_names: Mapping[str, str] | None = None,
    *,
    tz: tzinfo = UTC,
) -> Rendered:
    """A raw Slack message (from history/replies) as a person reads it in Slack."""
    names = (
        MappingNames(user_names, channel_names or {})
        if isinstance(user_names, Mapping)
        else user_names
    )
    return render(msg, names, tz=tz)


def to_feed_message(
    msg: Mapping[str, Any],
    channel: str,
    user_names: Mapping[str, str] | Names,
    *,
    is_alert: bool = False,
    permalink: str = "",
    channel_names: Mapping[str, str] | None = None,
    tz: tzinfo = UTC,
) -> FeedMessage:
    """A raw Slack message as the domain's `FeedMessage` for channel name `channel`
    (dates in it read in `tz`); `wanted` lists the names not known yet."""
    shown = render_message(msg, user_names, channel_names, tz=tz)
    ts = str(msg.get("ts", ""))
    thread_ts = msg.get("thread_ts")
    reply_count = msg.get("reply_count")
    return FeedMessage(
        channel=channel,
        ts=ts,
        at=ts_to_datetime(ts),
        author=shown.author,
        text=shown.text,
        thread_ts=thread_ts if isinstance(thread_ts, str) else None,
        reply_count=reply_count if isinstance(reply_count, int) else 0,
        is_alert=is_alert,
        permalink=permalink,
        edited=shown.edited,
        deleted=shown.deleted,
        extra=shown.extra,
        line=shown.line,
        detail=shown.detail,
        state=shown.state,
        broadcast=shown.broadcast,
        wanted=shown.wanted,
    )

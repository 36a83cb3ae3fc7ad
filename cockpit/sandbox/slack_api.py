"""The Slack Web API methods cockpit uses, at `<base>/api/<method>`.

As Slack does: arguments come form-encoded, in the query string, or (for the methods that
accept it) as a JSON body; the token comes as `Authorization: Bearer <token>` or a `token`
argument; errors are HTTP 200 with `{"ok": false, "error": "..."}`; rate limits are HTTP 429
with `Retry-After`.

Only tokens the range knows work (tokens.py: the drill range's own, a scenario's, a
test's): an unknown one gets `invalid_auth`, as does one refused with
`SandboxState.refuse_token` (a typo, an uninstalled app); a revoked one `token_revoked`. A bot
token holds scopes, named in the `x-oauth-scopes` header of every answer; a method none of
whose scopes (`METHOD_SCOPES`) it holds answers `missing_scope` with `needed` and `provided`,
as Slack does. A person's token, `xoxp-<name or user id>`, acts as that person (so a trainer
can `curl` a report into #incidents). The app-level token (`xapp-…`) is good for
`apps.connections.open` (Socket Mode, see socket_mode.py) and nothing else, and only it is
(`not_allowed_token_type`), as in Slack. A bot token is the cockpit bot, which — like a real
bot — must be a member of a channel to read or post there (`not_in_channel`); it is a
member of #incidents and #alerts from the start, and of every channel it creates or joins.
An archived channel (`SandboxState.archive_channel`) can be read but not posted to, joined,
or changed (`is_archived`).

Rate limits are Slack's (faults.py `STRICT_LIMITS`, unless the range runs `lenient`): each
method's tier per minute, chat.postMessage about one a second per channel; over them, HTTP
429 with `Retry-After` and `{"ok": false, "error": "ratelimited"}`. Messages' `blocks` are
checked as Slack checks Block Kit (blockkit.py): `invalid_blocks` with the reasons in
`response_metadata.messages`. An unknown method answers 404 `unknown_method` with
`req_method`, as Slack does.

Paged methods return at most `limit` items, and at most `max_page_size` when it is set:
Slack may return fewer than asked for, and a client must follow `next_cursor` all the same.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from bisect import bisect_left, bisect_right
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from cockpit.sandbox.blockkit import BlockKitError, check_blocks
from cockpit.sandbox.faults import RateLimiter
from cockpit.sandbox.state import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    JSON,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    WORKSPACE_URL,
    Channel,
    Request,
    Response,
    SandboxState,
    micro_to_ts,
    ts_to_micro,
)
from cockpit.sandbox.tokens import SlackToken

if TYPE_CHECKING:
    from cockpit.sandbox.socket_mode import SocketHub

# Rate-limit tier and whether a JSON body is read, per method (docs.slack.dev method data).
METHODS: dict[str, tuple[str, bool]] = {
    "apps.connections.open": ("t3", True),
    "auth.test": ("t5", True),
    "conversations.list": ("t2", False),
    "conversations.history": ("t3", True),
    "conversations.replies": ("t3", False),
    "conversations.create": ("t2", True),
    "conversations.invite": ("t3", True),
    "conversations.join": ("t3", True),
    "conversations.setTopic": ("t2", True),
    "conversations.info": ("t3", False),
    "chat.postMessage": ("t5", True),
    "chat.update": ("t3", True),
    "chat.delete": ("t3", True),
    "chat.getPermalink": ("t5", False),
    "users.info": ("t4", False),
    "users.list": ("t2", False),
    "users.conversations": ("t3", False),
    "usergroups.list": ("t2", False),
    "bots.info": ("t3", False),
}

# The bot scopes that allow each method (any one of them; the public-channel one first, the
# one `missing_scope` names as `needed`), per docs.slack.dev's method reference.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "conversations.list": ("channels:read", "groups:read"),
    "conversations.info": ("channels:read", "groups:read"),
    "conversations.history": ("channels:history", "groups:history"),
    "conversations.replies": ("channels:history", "groups:history"),
    "conversations.create": ("channels:manage", "groups:write"),
    "conversations.invite": ("channels:manage", "channels:write.invites", "groups:write"),
    "conversations.join": ("channels:join",),
    "conversations.setTopic": ("channels:manage", "channels:write.topic", "groups:write"),
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "users.info": ("users:read",),
    "users.list": ("users:read",),
    "bots.info": ("users:read",),
    "users.conversations": ("channels:read", "groups:read"),
    "usergroups.list": ("usergroups:read",),
}
# Methods on one channel: the scopes that allow them on a public channel, and on a private
# one (Slack's channels:* and groups:* pairs); conversations.create by its `is_private`.
CHANNEL_SCOPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "conversations.info": (("channels:read",), ("groups:read",)),
    "conversations.history": (("channels:history",), ("groups:history",)),
    "conversations.replies": (("channels:history",), ("groups:history",)),
    "conversations.create": (("channels:manage",), ("groups:write",)),
    "conversations.invite": (
        ("channels:manage", "channels:write.invites"),
        ("groups:write", "groups:write.invites"),
    ),
    "conversations.setTopic": (
        ("channels:manage", "channels:write.topic"),
        ("groups:write", "groups:write.topic"),
    ),
}

MAX_TEXT = 40_000
MAX_ATTACHMENTS = 100
MAX_INVITES = 1000  # users in one conversations.invite
_CHANNEL_NAME = re.compile(r"^[a-z0-9_\-\u00c0-\uffff]+$")


class SlackError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def _encode_cursor(kind: str, value: str) -> str:
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def _cursor_ts(cursor: str) -> int:
    try:
        return ts_to_micro(_decode_cursor(cursor, "next_ts"))
    except ValueError as exc:
        raise SlackError("invalid_cursor") from exc


def _decode_cursor(cursor: str, kind: str) -> str:
    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise SlackError("invalid_cursor") from exc
    prefix, _, value = raw.partition(":")
    if prefix != kind or not value:
        raise SlackError("invalid_cursor")
    return value


def _limit(args: JSON, default: int, maximum: int) -> int:
    raw = args.get("limit")
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError as exc:
        raise SlackError("invalid_limit") from exc
    if value <= 0:
        return default
    return min(value, maximum)


class SlackAPI:
    def __init__(
        self,
        state: SandboxState,
        limiter: RateLimiter | None = None,
        socket: SocketHub | None = None,
    ) -> None:
        self.state = state
        self.limiter = limiter or RateLimiter()
        self.socket = socket  # Socket Mode; without it apps.connections.open is refused
        self.max_page_size: int | None = None  # fewer items per page than asked for

    # -- entry ----------------------------------------------------------------------------
    def handle(self, request: Request, method: str) -> Response:
        if method not in METHODS:
            unknown = {"ok": False, "error": "unknown_method", "req_method": method}
            return Response.json(404, unknown)
        tier, json_ok = METHODS[method]
        try:
            args, header_token = self._args(request, json_ok)
        except SlackError as err:
            return Response.json(200, {"ok": False, "error": err.error})
        token = (header_token or str(args.get("token") or "")).strip()
        if not token:
            return Response.json(200, {"ok": False, "error": "not_authed"})
        known = self._known(token)
        if known is None:
            return Response.json(200, {"ok": False, "error": "invalid_auth"})
        if known.revoked:
            return Response.json(200, {"ok": False, "error": "token_revoked"})
        if (known.kind == "app") != (method == "apps.connections.open"):
            return Response.json(200, {"ok": False, "error": "not_allowed_token_type"})
        scopes = list(known.scopes) if known.kind == "bot" else None
        headers = [("x-oauth-scopes", ",".join(scopes))] if scopes is not None else []
        accepted = self._accepted_scopes(method, args)
        if scopes is not None and accepted and not set(accepted) & set(scopes):
            refusal = {
                "ok": False,
                "error": "missing_scope",
                "needed": accepted[0],
                "provided": ",".join(scopes),
            }
            return Response.json(200, refusal, headers)
        refused = self._rate(method, tier, args)
        if refused is not None:
            return refused
        caller = self._caller(known)
        handler = getattr(self, "m_" + method.replace(".", "_"))
        try:
            with self.state.lock:
                payload = handler(caller, args)
        except SlackError as err:
            return Response.json(200, {"ok": False, "error": err.error, **err.extra}, headers)
        return Response.json(200, {"ok": True, **payload}, headers)

    def _known(self, token: str) -> SlackToken | None:
        """The token as the range knows it (tokens.py), or None (`invalid_auth`): unknown,
        refused by `SandboxState.refuse_token`, or a person's token naming nobody."""
        if token in self.state.refused_tokens:
            return None
        known = self.state.tokens.slack(token)
        if known is not None and known.kind == "user":
            with self.state.lock:
                if self.state.user_by_name(known.user or "") is None:
                    return None
        return known

    def scopes_of(self, token: str) -> list[str] | None:
        """The scopes a bot token holds (None for a person's, the app-level or an unknown
        token)."""
        known = self._known(token)
        return list(known.scopes) if known is not None and known.kind == "bot" else None

    def _accepted_scopes(self, method: str, args: JSON) -> tuple[str, ...]:
        """The scopes any one of which allows this call: for a method on one channel, its
        public or private channel's (`CHANNEL_SCOPES`), else `METHOD_SCOPES`'."""
        pair = CHANNEL_SCOPES.get(method)
        if pair is None:
            return METHOD_SCOPES.get(method, ())
        if method == "conversations.create":
            private = _truthy(args.get("is_private", False))
        else:
            with self.state.lock:
                ch = self.state.channels.get(str(args.get("channel") or "").strip())
            private = ch is not None and ch.is_private
        return pair[1] if private else pair[0]

    def _rate(self, method: str, tier: str, args: JSON) -> Response | None:
        """Slack's rate limits: the method's tier; chat.postMessage also about one a second
        per channel. None when the call may go on, else the 429."""
        wait = self.limiter.hit(method, tier)
        if wait is None and method == "chat.postMessage":
            ref = str(args.get("channel") or "").strip()
            with self.state.lock:
                ch = self.state.resolve_channel(ref) if ref else None
            key = f"{method}:{ch.id if ch is not None else ref}"
            wait = self.limiter.hit(key, "post_per_channel")
            if wait is not None:
                return self.limiter.refusal(key, "slack", wait, "post_per_channel")
        if wait is not None:
            return self.limiter.refusal(method, "slack", wait, tier)
        return None

    def _args(self, request: Request, json_ok: bool) -> tuple[JSON, str]:
        args: JSON = {k: v[-1] for k, v in request.query.items()}
        ctype = request.content_type
        if request.body:
            if ctype == "application/x-www-form-urlencoded":
                try:
                    form = parse_qs(request.body.decode(), keep_blank_values=True)
                except UnicodeDecodeError as exc:
                    raise SlackError("invalid_charset") from exc
                args.update({k: v[-1] for k, v in form.items()})
            elif ctype == "multipart/form-data":
                args.update(_multipart(request))
            elif ctype == "application/json":
                try:
                    body = json.loads(request.body)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise SlackError("invalid_json") from exc
                if not isinstance(body, dict):
                    raise SlackError("json_not_object")
                # Methods without JSON support ignore the body, as Slack does; and Slack
                # never reads a token from a JSON body (only the header or the query).
                if json_ok:
                    args.update({k: v for k, v in body.items() if k != "token"})
        auth = request.header("Authorization")
        header_token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        return args, header_token

    def _caller(self, token: SlackToken) -> JSON:
        if token.kind == "user":
            user = self.state.user_by_name(token.user or "")
            if user is not None:
                return user
        return self.state.slack_users[BOT_USER_ID]

    # -- helpers --------------------------------------------------------------------------
    def _channel(self, args: JSON, *, by_name: bool = False) -> Channel:
        ref = str(args.get("channel") or "").strip()
        if not ref:
            raise SlackError("channel_not_found")
        ch = self.state.resolve_channel(ref) if by_name else self.state.channels.get(ref)
        if ch is None:
            raise SlackError("channel_not_found")
        return ch

    def _member(self, caller: JSON, ch: Channel) -> None:
        if caller["id"] not in ch.members:
            raise SlackError("not_in_channel")

    def _live(self, ch: Channel) -> None:
        if ch.is_archived:
            raise SlackError("is_archived")

    def _limit(self, args: JSON, default: int, maximum: int) -> int:
        limit = _limit(args, default, maximum)
        return min(limit, self.max_page_size) if self.max_page_size else limit

    def _conversation(self, ch: Channel, caller: JSON) -> JSON:
        return {
            "id": ch.id,
            "name": ch.name,
            "is_channel": not ch.is_private,
            "is_group": ch.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": ch.is_private,
            "created": ch.created,
            "is_archived": ch.is_archived,
            "is_general": ch.is_general,
            "unlinked": 0,
            "name_normalized": ch.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "parent_conversation": None,
            "creator": ch.creator,
            "is_ext_shared": False,
            "shared_team_ids": [TEAM_ID],
            "pending_connected_team_ids": [],
            "is_member": caller["id"] in ch.members,
            "topic": dict(ch.topic),
            "purpose": dict(ch.purpose),
            "previous_names": list(ch.previous_names),
            "num_members": len(ch.members),
        }

    def _out(self, message: JSON, with_metadata: bool) -> JSON:
        out = dict(message)
        if not with_metadata:
            out.pop("metadata", None)
        return out

    def _window(self, args: JSON) -> tuple[int | None, int | None, bool]:
        def parse(name: str) -> int | None:
            raw = args.get(name)
            if raw in (None, "", "0"):
                return None
            try:
                return ts_to_micro(str(raw))
            except ValueError as exc:
                raise SlackError(f"invalid_ts_{name}") from exc

        return parse("oldest"), parse("latest"), _truthy(args.get("inclusive", False))

    # -- Socket Mode ----------------------------------------------------------------------
    def m_apps_connections_open(self, caller: JSON, args: JSON) -> JSON:
        if self.socket is None:
            raise SlackError("forbidden_team")
        return {"url": self.socket.open_url()}

    # -- auth -------------------------------------------------------------------------------
    def m_auth_test(self, caller: JSON, args: JSON) -> JSON:
        out = {
            "url": WORKSPACE_URL,
            "team": TEAM_NAME,
            "user": caller["name"],
            "team_id": TEAM_ID,
            "user_id": caller["id"],
            "is_enterprise_install": False,
        }
        if caller["id"] == BOT_USER_ID:
            out["bot_id"] = BOT_ID
        return out

    # -- conversations -------------------------------------------------------------------
    def m_conversations_list(self, caller: JSON, args: JSON) -> JSON:
        types = {t.strip() for t in str(args.get("types") or "public_channel").split(",")}
        if not types <= {"public_channel", "private_channel", "im", "mpim"}:
            raise SlackError("invalid_types")
        limit = self._limit(args, 100, 1000)
        live_only = _truthy(args.get("exclude_archived", False))
        chans = [
            c
            for c in self.state.channels.values()
            if (
                ("private_channel" in types and c.is_private and caller["id"] in c.members)
                or ("public_channel" in types and not c.is_private)
            )
            and not (live_only and c.is_archived)
        ]
        chans.sort(key=lambda c: c.id)
        start = 0
        if args.get("cursor"):
            after = _decode_cursor(str(args["cursor"]), "channel")
            start = next((i for i, c in enumerate(chans) if c.id >= after), len(chans))
        page = chans[start : start + limit]
        rest = chans[start + limit :]
        return {
            "channels": [self._conversation(c, caller) for c in page],
            "response_metadata": {
                "next_cursor": _encode_cursor("channel", rest[0].id) if rest else ""
            },
        }

    def m_conversations_info(self, caller: JSON, args: JSON) -> JSON:
        return {"channel": self._conversation(self._channel(args), caller)}

    def m_conversations_history(self, caller: JSON, args: JSON) -> JSON:
        ch = self._channel(args)
        self._member(caller, ch)
        oldest, latest, inclusive = self._window(args)
        limit = self._limit(args, 100, 999)
        keys = ch.keys
        # Messages newest first, within (oldest, latest) or [oldest, latest] when inclusive.
        if latest is None:
            hi = len(keys)
        else:
            hi = bisect_right(keys, latest) if inclusive else bisect_left(keys, latest)
        if args.get("cursor"):
            next_micro = _cursor_ts(str(args["cursor"]))
            hi = min(hi, bisect_right(keys, next_micro))
        if oldest is None:
            lo = 0
        else:
            lo = bisect_left(keys, oldest) if inclusive else bisect_right(keys, oldest)
        lo_page = max(lo, hi - limit)
        page = ch.messages[lo_page:hi][::-1]
        has_more = lo_page > lo
        with_meta = _truthy(args.get("include_all_metadata", False))
        out: JSON = {
            "messages": [self._out(m, with_meta) for m in page],
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        if has_more:
            out["response_metadata"] = {
                "next_cursor": _encode_cursor("next_ts", micro_to_ts(keys[lo_page - 1]))
            }
        return out

    def m_conversations_replies(self, caller: JSON, args: JSON) -> JSON:
        ch = self._channel(args)
        self._member(caller, ch)
        ts = str(args.get("ts") or "")
        parent = ch.by_ts.get(ts)
        if parent is None:
            raise SlackError("thread_not_found")
        if parent.get("thread_ts") and parent["thread_ts"] != ts:  # a reply: use its thread
            ts = parent["thread_ts"]
            parent = ch.by_ts.get(ts)
            if parent is None:  # a reply in an invisible thread
                raise SlackError("thread_not_found")
        thread = [parent, *ch.threads.get(ts, [])]
        oldest, latest, inclusive = self._window(args)

        def inside(m: JSON) -> bool:
            k = ts_to_micro(m["ts"])
            if oldest is not None and (k < oldest or (k == oldest and not inclusive)):
                return False
            return not (latest is not None and (k > latest or (k == latest and not inclusive)))

        # The parent always comes first; replies oldest first, paged by cursor.
        replies = [m for m in thread[1:] if inside(m)]
        if args.get("cursor"):
            start_micro = _cursor_ts(str(args["cursor"]))
            replies = [m for m in replies if ts_to_micro(m["ts"]) >= start_micro]
        limit = self._limit(args, 1000, 1000)
        page, rest = replies[: max(limit - 1, 1)], replies[max(limit - 1, 1) :]
        with_meta = _truthy(args.get("include_all_metadata", False))
        out: JSON = {
            "messages": [self._out(m, with_meta) for m in [parent, *page]],
            "has_more": bool(rest),
        }
        if rest:
            out["response_metadata"] = {"next_cursor": _encode_cursor("next_ts", rest[0]["ts"])}
        return out

    def m_conversations_create(self, caller: JSON, args: JSON) -> JSON:
        name = str(args.get("name") or "")
        if not name.strip():
            raise SlackError("invalid_name_required")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not _CHANNEL_NAME.match(name) or name != name.lower():
            raise SlackError("invalid_name_specials")
        if not re.search(r"[^\-_]", name):
            raise SlackError("invalid_name_punctuation")
        if self.state.channel_by_name(name) is not None:
            raise SlackError("name_taken")
        ch = self.state.create_channel(
            name, caller["id"], is_private=_truthy(args.get("is_private", False))
        )
        return {"channel": self._conversation(ch, caller)}

    def m_conversations_join(self, caller: JSON, args: JSON) -> JSON:
        ch = self._channel(args)
        if ch.is_private and caller["id"] not in ch.members:
            raise SlackError("method_not_supported_for_channel_type")
        self._live(ch)
        out: JSON = {}
        if caller["id"] in ch.members:
            out = {
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        else:
            ch.members.append(caller["id"])
            self._join_message(ch, caller["id"])
        return {"channel": self._conversation(ch, caller), **out}

    def m_conversations_invite(self, caller: JSON, args: JSON) -> JSON:
        ch = self._channel(args)
        self._member(caller, ch)
        self._live(ch)
        ids = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not ids:
            raise SlackError("no_user")
        if len(ids) > MAX_INVITES:
            raise SlackError("too_many_users")
        # Each user that cannot be invited is named in `errors`; unless `force`, one such
        # user fails the whole call (nobody is invited), as Slack does.
        errors: list[JSON] = []
        for uid in dict.fromkeys(ids):
            problem = None
            if uid not in self.state.slack_users:
                problem = "user_not_found"
            elif uid == caller["id"]:
                problem = "cant_invite_self"
            elif uid in ch.members:
                problem = "already_in_channel"
            if problem is not None:
                errors.append({"user": uid, "ok": False, "error": problem})
        new = [u for u in dict.fromkeys(ids) if u not in {e["user"] for e in errors}]
        invalid = [e for e in errors if e["error"] != "already_in_channel"]
        if (invalid and not _truthy(args.get("force", False))) or not new:
            raise SlackError((invalid or errors)[0]["error"], errors=errors)
        for uid in new:
            ch.members.append(uid)
            self._join_message(ch, uid, inviter=caller["id"])
        out: JSON = {"channel": self._conversation(ch, caller)}
        if errors:
            out["errors"] = errors
        return out

    def _join_message(self, ch: Channel, uid: str, inviter: str | None = None) -> None:
        extra: JSON = {"subtype": "channel_join"}
        if inviter:
            extra["inviter"] = inviter
        msg = {"type": "message", "text": f"<@{uid}> has joined the channel", "user": uid, **extra}
        self.state.post(ch, msg)

    def m_conversations_setTopic(self, caller: JSON, args: JSON) -> JSON:
        ch = self._channel(args)
        self._member(caller, ch)
        self._live(ch)
        topic = str(args.get("topic") or "")
        if len(topic) > 250:
            raise SlackError("too_long")
        ch.topic = {"value": topic, "creator": caller["id"], "last_set": int(self.state.now())}
        self.state.post(
            ch,
            {
                "type": "message",
                "subtype": "channel_topic",
                "text": f"set the channel topic: {topic}",
                "user": caller["id"],
                "topic": topic,
            },
        )
        return {"channel": self._conversation(ch, caller)}

    # -- chat -----------------------------------------------------------------------------
    def m_chat_postMessage(self, caller: JSON, args: JSON) -> JSON:
        ch = self._channel(args, by_name=True)
        self._member(caller, ch)
        self._live(ch)
        text = str(args.get("text") or "")
        attachments = _json_arg(args.get("attachments"), "invalid_arguments", list)
        blocks = _json_arg(args.get("blocks"), "invalid_blocks_format", list)
        metadata = _json_arg(args.get("metadata"), "invalid_metadata_format", dict)
        if not text and not attachments and not blocks:
            raise SlackError("no_text")
        if len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        if attachments and len(attachments) > MAX_ATTACHMENTS:
            raise SlackError("too_many_attachments")
        if blocks is not None:
            _check_blocks(blocks)
        if metadata is not None and (
            not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            raise SlackError("invalid_metadata_format")
        thread_ts = str(args.get("thread_ts") or "") or None
        if thread_ts is not None:
            parent = ch.by_ts.get(thread_ts)  # unknown: Slack posts into an invisible thread
            if parent is not None and parent.get("thread_ts") not in (None, thread_ts):
                thread_ts = parent["thread_ts"]  # replying to a reply joins its thread
        message: JSON
        if caller["id"] == BOT_USER_ID:
            message = {
                "type": "message",
                "text": text,
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "app_id": APP_ID,
                "team": TEAM_ID,
                "bot_profile": _bot_profile(self.state),
            }
        else:
            message = self.state.person_message(caller["id"], text)
        if attachments:
            message["attachments"] = [
                dict(a, id=a.get("id", i)) if isinstance(a, dict) else a
                for i, a in enumerate(attachments, 1)
            ]
        if blocks:
            message["blocks"] = blocks
        if metadata is not None:
            message["metadata"] = {
                "event_type": metadata["event_type"],
                "event_payload": metadata["event_payload"],
            }
        stored = self.state.post(
            ch, message, thread_ts=thread_ts, broadcast=_truthy(args.get("reply_broadcast", False))
        )
        return {"channel": ch.id, "ts": stored["ts"], "message": dict(stored)}

    def m_chat_getPermalink(self, caller: JSON, args: JSON) -> JSON:
        ch = self._channel(args)
        ts = str(args.get("message_ts") or "")
        message = ch.by_ts.get(ts)
        if message is None:
            raise SlackError("message_not_found")
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{ch.id}/p{ts.replace('.', '')}"
        if message.get("thread_ts") and message["thread_ts"] != ts:
            link += f"?thread_ts={message['thread_ts']}&cid={ch.id}"
        return {"channel": ch.id, "permalink": link}

    def _own_message(self, caller: JSON, args: JSON, refusal: str) -> tuple[Channel, JSON]:
        """The message `args` names (channel id, ts), which `caller` may change: a bot its
        own messages, a person theirs (else `refusal`)."""
        ch = self._channel(args)
        ts = str(args.get("ts") or "")
        message = ch.by_ts.get(ts)
        if message is None:
            raise SlackError("message_not_found")
        if caller["id"] == BOT_USER_ID:
            mine = message.get("bot_id") == BOT_ID
        else:
            mine = message.get("user") == caller["id"] and not message.get("bot_id")
        if not mine:
            raise SlackError(refusal)
        return ch, message

    def m_chat_update(self, caller: JSON, args: JSON) -> JSON:
        ch, message = self._own_message(caller, args, "cant_update_message")
        if ch.is_archived:
            raise SlackError("is_inactive")
        text = args.get("text")
        attachments = _json_arg(args.get("attachments"), "invalid_attachments", list)
        blocks = _json_arg(args.get("blocks"), "invalid_blocks_format", list)
        if text is None and attachments is None and blocks is None:
            raise SlackError("no_text")
        if text is not None and len(str(text)) > MAX_TEXT:
            raise SlackError("msg_too_long")
        if blocks is not None:
            _check_blocks(blocks)
        changes: JSON = {}
        if attachments is not None:
            changes["attachments"] = [
                dict(a, id=a.get("id", i)) if isinstance(a, dict) else a
                for i, a in enumerate(attachments, 1)
            ]
        if blocks is not None:
            changes["blocks"] = blocks
        new_text = str(text) if text is not None else str(message.get("text") or "")
        stored = self.state.edit_message(ch, message["ts"], new_text, **changes)
        out_message = {k: v for k, v in stored.items() if k not in ("replies",)}
        return {"channel": ch.id, "ts": stored["ts"], "text": new_text, "message": out_message}

    def m_chat_delete(self, caller: JSON, args: JSON) -> JSON:
        ch, message = self._own_message(caller, args, "cant_delete_message")
        self.state.delete_message(ch, message["ts"])
        return {"channel": ch.id, "ts": message["ts"]}

    # -- users ----------------------------------------------------------------------------
    def m_users_info(self, caller: JSON, args: JSON) -> JSON:
        user = self.state.slack_users.get(str(args.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user}

    def m_users_conversations(self, caller: JSON, args: JSON) -> JSON:
        """The channels the caller (or `user`) is a member of, paged like
        conversations.list: a handful, however many channels the workspace has."""
        types = {t.strip() for t in str(args.get("types") or "public_channel").split(",")}
        if not types <= {"public_channel", "private_channel", "im", "mpim"}:
            raise SlackError("invalid_types")
        who = str(args.get("user") or caller["id"])
        if who not in self.state.slack_users:
            raise SlackError("user_not_found")
        limit = self._limit(args, 100, 1000)
        live_only = _truthy(args.get("exclude_archived", False))
        chans = sorted(
            (
                c
                for c in self.state.channels.values()
                if who in c.members
                and ("private_channel" if c.is_private else "public_channel") in types
                and not (live_only and c.is_archived)
                and (not c.is_private or caller["id"] in c.members)
            ),
            key=lambda c: c.id,
        )
        start = 0
        if args.get("cursor"):
            after = _decode_cursor(str(args["cursor"]), "channel")
            start = next((i for i, c in enumerate(chans) if c.id >= after), len(chans))
        page, rest = chans[start : start + limit], chans[start + limit :]
        return {
            "channels": [self._conversation(c, caller) for c in page],
            "response_metadata": {
                "next_cursor": _encode_cursor("channel", rest[0].id) if rest else ""
            },
        }

    def m_usergroups_list(self, caller: JSON, args: JSON) -> JSON:
        """Every user group of the workspace, in one answer (Slack does not page it)."""
        with_disabled = _truthy(args.get("include_disabled", False))
        with_users = _truthy(args.get("include_users", False))
        with_count = _truthy(args.get("include_count", False))
        out = []
        for group in sorted(self.state.usergroups.values(), key=lambda g: g["id"]):
            if group["date_delete"] and not with_disabled:
                continue
            g = {k: v for k, v in group.items() if k not in ("users", "user_count")}
            if with_users:
                g["users"] = list(group["users"])
            if with_count:
                g["user_count"] = len(group["users"])
            out.append(g)
        return {"usergroups": out}

    def m_bots_info(self, caller: JSON, args: JSON) -> JSON:
        bot_id = str(args.get("bot") or "")
        if bot_id == BOT_ID:
            profile = _bot_profile(self.state)
            return {"bot": {**profile, "user_id": BOT_USER_ID}}
        bot = next((b for b in self.state.bots.values() if b.bot_id == bot_id), None)
        if bot is None:
            raise SlackError("bot_not_found")
        return {
            "bot": {
                "id": bot.bot_id,
                "deleted": False,
                "name": bot.name or bot.username,
                "updated": 1_690_000_000,
                "app_id": bot.app_id,
                "icons": {"image_36": bot.icon, "image_48": bot.icon, "image_72": bot.icon},
            }
        }

    def m_users_list(self, caller: JSON, args: JSON) -> JSON:
        users = sorted(self.state.slack_users.values(), key=lambda u: u["id"])
        limit = self._limit(args, 0, 1000) or min(len(users), self.max_page_size or len(users))
        start = 0
        if args.get("cursor"):
            after = _decode_cursor(str(args["cursor"]), "user")
            start = next((i for i, u in enumerate(users) if u["id"] >= after), len(users))
        page, rest = users[start : start + limit], users[start + limit :]
        return {
            "members": page,
            "cache_ts": int(self.state.now()),
            "response_metadata": {
                "next_cursor": _encode_cursor("user", rest[0]["id"]) if rest else ""
            },
        }


def _bot_profile(state: SandboxState) -> JSON:
    icon = "https://a.slack-edge.com/sandbox/cockpit_{}.png"
    return {
        "id": BOT_ID,
        "deleted": False,
        "name": "cockpit",
        "updated": 1_690_000_000,
        "app_id": APP_ID,
        "team_id": TEAM_ID,
        "icons": {
            "image_36": icon.format(36),
            "image_48": icon.format(48),
            "image_72": icon.format(72),
        },
    }


def _check_blocks(blocks: list[Any]) -> None:
    """Slack's `invalid_blocks`: each problem in `errors` and, as "[ERROR] …", in
    `response_metadata.messages`."""
    try:
        check_blocks(blocks)
    except BlockKitError as exc:
        raise SlackError(
            "invalid_blocks",
            errors=exc.errors,
            response_metadata={"messages": [f"[ERROR] {e}" for e in exc.errors]},
        ) from exc


def _json_arg(value: Any, error: str, kind: type) -> Any:
    """Slack's structured arguments: JSON strings in forms, real JSON in JSON bodies."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise SlackError(error) from exc
    if not isinstance(value, kind):
        raise SlackError(error)
    return value


def _multipart(request: Request) -> JSON:
    head = f"Content-Type: {request.header('Content-Type')}\r\n\r\n".encode()
    msg = BytesParser(policy=HTTP).parsebytes(head + request.body)
    out: JSON = {}
    if not msg.is_multipart():
        raise SlackError("invalid_form_data")
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            out[name] = payload.decode() if isinstance(payload, bytes) else ""
    return out

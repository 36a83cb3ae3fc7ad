"""In-memory fakes of Slack, Jira Cloud and Statuspage, as httpx MockTransport handlers.

Each fake keeps just enough state to behave like the service for the calls cockpit
makes, answers with documents shaped like the real ones, and runs behind
`spec_check.checked_transport`, so every request the clients send and every answer the
fake gives is validated against the vendor's published spec.

Misbehaviour is queued per route with `fake.inject(route, *behaviours)`; each behaviour
is used once, in order. Slack routes are method names ("chat.postMessage"); Jira and
Statuspage routes are the names in each fake's `ROUTES`. A behaviour either replaces the
call (`after=False`: the request never took effect) or follows it (`after=True`: the
effect is applied, then the answer is lost or mangled, as when a request left but its
answer did not come back). Broken answers are marked `unchecked` for the spec checker.

    fake = SlackFake()
    fake.inject("chat.postMessage", read_timeout(after=True))
    client = SlackClient("https://slack.test/api", fake.token, transport=fake.transport())
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import unquote

import httpx

from cockpit.integrations.slack import ts_key
from tests.spec_check import CheckedTransport, checked_transport, unchecked

HTML_502 = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
    + b"<h1>Bad Gateway</h1><p>The proxy server received an invalid response.</p>" * 400
    + b"</body></html>"
)


# -- misbehaviours ------------------------------------------------------------------------------
@dataclass
class Misbehaviour:
    kind: str
    after: bool = False
    status: int = 500
    retry_after: str | None = None
    doc: Any = None
    seconds: float = 0.0
    size: int = 0


def connect_error() -> Misbehaviour:
    """The connection could not be made: the request never left."""
    return Misbehaviour("connect_error")


def read_timeout(*, after: bool = False) -> Misbehaviour:
    """No answer in time; with `after`, the request took effect first."""
    return Misbehaviour("read_timeout", after=after)


def dropped(*, after: bool = True) -> Misbehaviour:
    """The server closed the connection without an answer."""
    return Misbehaviour("dropped", after=after)


def http_status(
    status: int, *, after: bool = False, retry_after: str | None = None, doc: Any = None
) -> Misbehaviour:
    """An answer with `status` (5xx, 429, …) and a small JSON body (or `doc`)."""
    return Misbehaviour("status", after=after, status=status, retry_after=retry_after, doc=doc)


def rate_limited(retry_after: str | None = "1", status: int = 429) -> Misbehaviour:
    return http_status(status, retry_after=retry_after)


def html_page(status: int = 502, *, after: bool = False) -> Misbehaviour:
    """A proxy's HTML error page (about 40 KB)."""
    return Misbehaviour("html", status=status, after=after)


def truncated_json(*, after: bool = True) -> Misbehaviour:
    """The real answer, cut off half way."""
    return Misbehaviour("truncated", after=after)


def huge_body(size: int = 6 * 1024 * 1024) -> Misbehaviour:
    return Misbehaviour("huge", size=size)


def wrong_shape(doc: Any, status: int = 200) -> Misbehaviour:
    """Valid JSON that is not the document the call answers with."""
    return Misbehaviour("body", status=status, doc=doc)


def slow(seconds: float) -> Misbehaviour:
    """Take `seconds` before answering normally."""
    return Misbehaviour("slow", seconds=seconds)


def slack_error(code: str, **extra: Any) -> Misbehaviour:
    """Slack's HTTP 200 {"ok": false, "error": code} (spec-checked: the code must exist)."""
    return Misbehaviour("slack_error", doc={"ok": False, "error": code, **extra})


Result = httpx.Response


class FakeService:
    """Shared machinery: routing, queued misbehaviours, the checked transport."""

    service: ClassVar[str]

    def __init__(self) -> None:
        self._queued: dict[str, list[Misbehaviour]] = defaultdict(list)
        self.calls: list[str] = []  # routes, in the order they were called
        self.effects: list[str] = []  # routes whose effect was applied

    def inject(self, route: str, *behaviours: Misbehaviour) -> None:
        self._queued[route].extend(behaviours)

    def transport(self) -> CheckedTransport:
        return checked_transport(self.service, self.handle)

    def route(self, request: httpx.Request) -> tuple[str, Callable[[], Result]]:
        raise NotImplementedError

    async def handle(self, request: httpx.Request) -> httpx.Response:
        route, call = self.route(request)
        self.calls.append(route)
        queue = self._queued.get(route)
        b = queue.pop(0) if queue else None
        if b is not None and b.kind == "slow":
            await asyncio.sleep(b.seconds)
            b = None
        if b is not None and not b.after:
            return self._misbehave(b, request, None)
        response = call()
        if b is not None:
            return self._misbehave(b, request, response)
        return response

    def _misbehave(
        self, b: Misbehaviour, request: httpx.Request, real: httpx.Response | None
    ) -> httpx.Response:
        if b.kind == "connect_error":
            raise httpx.ConnectError("connection refused", request=request)
        if b.kind == "read_timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if b.kind == "dropped":
            raise httpx.RemoteProtocolError(
                "server disconnected without a response", request=request
            )
        if b.kind == "status":
            headers = {"Retry-After": b.retry_after} if b.retry_after is not None else {}
            doc = b.doc if b.doc is not None else self.error_doc(b.status)
            return unchecked(httpx.Response(b.status, json=doc, headers=headers))
        if b.kind == "html":
            return unchecked(
                httpx.Response(b.status, content=HTML_502, headers={"Content-Type": "text/html"})
            )
        if b.kind == "truncated":
            body = real.content if real is not None and real.content else b'{"ok": true, "x": 1}'
            return unchecked(
                httpx.Response(
                    200,
                    content=body[: max(1, len(body) // 2)],
                    headers={"Content-Type": "application/json"},
                )
            )
        if b.kind == "huge":
            blob = b'{"ok": true, "pad": "' + b"x" * b.size + b'"}'
            return unchecked(
                httpx.Response(200, content=blob, headers={"Content-Type": "application/json"})
            )
        if b.kind == "body":
            return unchecked(httpx.Response(b.status, json=b.doc))
        if b.kind == "slack_error":
            return httpx.Response(200, json=b.doc)
        raise AssertionError(f"unknown misbehaviour {b.kind}")

    def error_doc(self, status: int) -> Any:
        return {"message": f"error {status}"}


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# -- Slack --------------------------------------------------------------------------------------
_SLACK_NAME = re.compile(r"^[a-z0-9_-]+$")


class SlackFake(FakeService):
    """A Slack workspace: channels with messages and threads, users, one bot (the app)."""

    service = "slack"

    def __init__(
        self,
        token: str = "xoxb-1111-2222-SECRETSLACKTOKEN",
        app_token: str = "xapp-1-A0COCKPIT1-3333-SECRETAPPTOKEN",
    ) -> None:
        super().__init__()
        self.token = token
        self.app_token = app_token  # Socket Mode's app-level token (apps.connections.open)
        self.socket_urls: list[str] = []  # the connection URLs handed out, in order
        self.team_id = "T0TEAM0001"
        self.bot_user = "U0COCKPIT"
        self.bot_id = "B0COCKPIT1"
        self.app_id = "A0COCKPIT1"
        self.page_size = 100
        self._clock = 1_767_000_000
        self._ids = 0
        self.channels: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.add_user(self.bot_user, "cockpit", "cockpit", is_bot=True)

    # -- state --------------------------------------------------------------------------------
    def _new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}0{self._ids:08d}"

    def next_ts(self) -> str:
        self._clock += 1
        return f"{self._clock}.{self._ids * 7 % 1000000:06d}"

    def add_user(
        self,
        user_id: str,
        name: str,
        display_name: str = "",
        *,
        real_name: str = "",
        is_bot: bool = False,
    ) -> str:
        self.users[user_id] = {
            "name": name,
            "display_name": display_name,
            "real_name": real_name or name,
            "is_bot": is_bot,
        }
        return user_id

    def add_channel(
        self, name: str, *, private: bool = False, member: bool = True, archived: bool = False
    ) -> str:
        cid = self._new_id("G" if private else "C")
        self.channels[cid] = {
            "name": name,
            "is_private": private,
            "archived": archived,
            "members": {self.bot_user} if member else set(),
            "topic": "",
            "messages": [],
            "created": self._clock,
        }
        return cid

    def add_message(
        self,
        channel_id: str,
        text: str = "",
        *,
        user: str | None = "U0ALICE",
        thread_ts: str | None = None,
        **fields: Any,
    ) -> str:
        ts = self.next_ts()
        msg: dict[str, Any] = {"type": "message", "text": text, "ts": ts}
        if user:
            msg["user"] = user
        if thread_ts:
            msg["thread_ts"] = thread_ts
            parent = self._find(channel_id, thread_ts)
            if parent is not None:
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
        msg.update(fields)
        self.channels[channel_id]["messages"].append(msg)
        return ts

    def _find(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.channels[channel_id]["messages"] if m["ts"] == ts), None)

    def channel_by_name(self, name: str) -> str | None:
        return next((cid for cid, c in self.channels.items() if c["name"] == name), None)

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        return list(self.channels[channel_id]["messages"])

    # -- documents ------------------------------------------------------------------------------
    def conversation(self, cid: str) -> dict[str, Any]:
        c = self.channels[cid]
        return {
            "id": cid,
            "name": c["name"],
            "name_normalized": c["name"],
            "created": c["created"],
            "creator": self.bot_user,
            "is_archived": c["archived"],
            "is_channel": not c["is_private"],
            "is_group": c["is_private"],
            "is_im": False,
            "is_mpim": False,
            "is_general": False,
            "is_private": c["is_private"],
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "is_member": self.bot_user in c["members"],
            "num_members": len(c["members"]),
            "topic": {
                "value": c["topic"],
                "creator": self.bot_user if c["topic"] else "",
                "last_set": self._clock if c["topic"] else 0,
            },
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
            "shared_team_ids": [self.team_id],
            "pending_shared": [],
            "unlinked": 0,
        }

    def user_doc(self, uid: str) -> dict[str, Any]:
        u = self.users[uid]
        return {
            "id": uid,
            "team_id": self.team_id,
            "name": u["name"],
            "deleted": False,
            "real_name": u["real_name"],
            "tz": "Europe/London",
            "tz_label": "GMT",
            "tz_offset": 0,
            "is_admin": False,
            "is_owner": False,
            "is_bot": u["is_bot"],
            "is_app_user": False,
            "updated": 1_700_000_000,
            "profile": {
                "real_name": u["real_name"],
                "real_name_normalized": u["real_name"],
                "display_name": u["display_name"],
                "display_name_normalized": u["display_name"],
                "avatar_hash": "ge3b51ca72de",
                "title": "",
                "phone": "",
                "skype": "",
                "status_text": "",
                "status_emoji": "",
                "fields": None,
            },
        }

    # -- routing --------------------------------------------------------------------------------
    def error_doc(self, status: int) -> Any:
        return {"ok": False, "error": "internal_error"}

    def route(self, request: httpx.Request) -> tuple[str, Callable[[], Result]]:
        method = request.url.path.rsplit("/", 1)[-1]
        args: dict[str, Any] = dict(request.url.params.multi_items())
        if request.method == "POST" and request.content:
            args.update(json.loads(request.content))

        def call() -> Result:
            wanted = self.app_token if method == "apps.connections.open" else self.token
            sent = request.headers.get("authorization")
            if sent != f"Bearer {wanted}":
                if sent in (f"Bearer {self.token}", f"Bearer {self.app_token}"):
                    return self._err("not_allowed_token_type")  # the other kind of token
                return self._err("invalid_auth")
            handler = getattr(self, "m_" + method.replace(".", "_"), None)
            if handler is None:
                return httpx.Response(200, json={"ok": False, "error": "unknown_method"})
            doc = handler(args)
            if doc.get("ok"):
                self.effects.append(method)
            return httpx.Response(200, json=doc)

        return method, call

    @staticmethod
    def _err(code: str, **extra: Any) -> Result:
        return httpx.Response(200, json={"ok": False, "error": code, **extra})

    def _channel(
        self,
        args: dict[str, Any],
        *,
        must_be_member: bool = True,
        by_name: bool = False,
    ) -> tuple[str | None, dict[str, Any] | None]:
        """The channel an id names; only chat.postMessage also takes a "#name"."""
        ref = str(args.get("channel", ""))
        cid = ref if ref in self.channels else None
        if cid is None and by_name:
            cid = self.channel_by_name(ref.lstrip("#"))
        if cid is None:
            return None, {"ok": False, "error": "channel_not_found"}
        if must_be_member and self.bot_user not in self.channels[cid]["members"]:
            return None, {"ok": False, "error": "not_in_channel"}
        return cid, None

    def _page(self, items: list[Any], args: dict[str, Any]) -> tuple[list[Any], str]:
        cursor = str(args.get("cursor") or "")
        start = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
        size = min(int(args.get("limit") or 100), self.page_size)
        page = items[start : start + size]
        more = start + size < len(items)
        nxt = base64.b64encode(f"offset:{start + size}".encode()).decode() if more else ""
        return page, nxt

    def _shown(self, msg: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        out = dict(msg)
        if str(args.get("include_all_metadata", "")).lower() not in ("true", "1"):
            out.pop("metadata", None)
        return out

    def m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://cockpit-test.slack.com/",
            "team": "Cockpit Test",
            "user": "cockpit",
            "team_id": self.team_id,
            "user_id": self.bot_user,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def m_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        types = str(args.get("types") or "public_channel").split(",")
        exclude = str(args.get("exclude_archived", "false")).lower() in ("true", "1")
        ids = [
            cid
            for cid, c in self.channels.items()
            if ("private_channel" if c["is_private"] else "public_channel") in types
            and not (exclude and c["archived"])
        ]
        page, nxt = self._page(ids, args)
        return {
            "ok": True,
            "channels": [self.conversation(c) for c in page],
            "response_metadata": {"next_cursor": nxt},
        }

    def m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._channel(args)
        if err:
            return err
        assert cid is not None
        oldest = args.get("oldest")
        msgs = [
            m
            for m in self.channels[cid]["messages"]
            if (m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast")
            and (oldest is None or ts_key(m["ts"]) > ts_key(str(oldest)))
        ]
        msgs.sort(key=lambda m: ts_key(m["ts"]), reverse=True)  # newest first, like Slack
        page, nxt = self._page(msgs, args)
        doc: dict[str, Any] = {
            "ok": True,
            "messages": [self._shown(m, args) for m in page],
            "has_more": bool(nxt),
            "pin_count": 0,
        }
        if nxt:
            doc["response_metadata"] = {"next_cursor": nxt}
        return doc

    def m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._channel(args)
        if err:
            return err
        assert cid is not None
        parent = self._find(cid, str(args.get("ts")))
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        oldest = args.get("oldest")
        replies = [
            m
            for m in self.channels[cid]["messages"]
            if m.get("thread_ts") == parent["ts"]
            and m["ts"] != parent["ts"]
            and (oldest is None or ts_key(m["ts"]) > ts_key(str(oldest)))
        ]
        replies.sort(key=lambda m: ts_key(m["ts"]))
        page, nxt = self._page(replies, args)
        # Slack repeats the thread's first message at the top of every page.
        doc: dict[str, Any] = {
            "ok": True,
            "has_more": bool(nxt),
            "messages": [self._shown(parent, args)] + [self._shown(m, args) for m in page],
        }
        if nxt:
            doc["response_metadata"] = {"next_cursor": nxt}
        return doc

    def m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._channel(args, by_name=True)
        if err:
            return err
        assert cid is not None
        if self.channels[cid]["archived"]:
            return {"ok": False, "error": "is_archived"}
        text = args.get("text") or ""
        if not text and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if len(text) > 40000:
            return {"ok": False, "error": "msg_too_long"}
        extra: dict[str, Any] = {"bot_id": self.bot_id, "app_id": self.app_id, "team": self.team_id}
        if isinstance(args.get("metadata"), dict):
            extra["metadata"] = args["metadata"]
        if args.get("blocks"):
            extra["blocks"] = args["blocks"]
        thread_ts = args.get("thread_ts")
        if thread_ts and args.get("reply_broadcast"):
            extra["subtype"] = "thread_broadcast"
        ts = self.add_message(cid, text, user=self.bot_user, thread_ts=thread_ts, **extra)
        return {"ok": True, "channel": cid, "ts": ts, "message": self._find(cid, ts)}

    def m_conversations_create(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name") or "")
        if not name:
            return {"ok": False, "error": "invalid_name_required"}
        if len(name) > 80:
            return {"ok": False, "error": "invalid_name_maxlength"}
        if not _SLACK_NAME.match(name):
            return {"ok": False, "error": "invalid_name_specials"}
        if self.channel_by_name(name):
            return {"ok": False, "error": "name_taken"}
        cid = self.add_channel(name, private=bool(args.get("is_private")))
        return {"ok": True, "channel": self.conversation(cid)}

    def m_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._channel(args, must_be_member=False)
        if err:
            return err
        assert cid is not None
        if self.channels[cid]["is_private"]:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        if self.channels[cid]["archived"]:
            return {"ok": False, "error": "is_archived"}
        self.channels[cid]["members"].add(self.bot_user)
        return {"ok": True, "channel": self.conversation(cid)}

    def m_conversations_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._channel(args)
        if err:
            return err
        assert cid is not None
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if any(u not in self.users for u in users):
            return {"ok": False, "error": "user_not_found"}
        members = self.channels[cid]["members"]
        new = [u for u in users if u not in members]
        if not new:
            return {"ok": False, "error": "already_in_channel"}
        members.update(new)
        return {"ok": True, "channel": self.conversation(cid)}

    def m_conversations_setTopic(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._channel(args)
        if err:
            return err
        assert cid is not None
        self.channels[cid]["topic"] = str(args.get("topic") or "")
        return {"ok": True, "channel": self.conversation(cid)}

    def m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._channel(args, must_be_member=False)
        if err:
            return err
        assert cid is not None
        ts = str(args.get("message_ts"))
        if self._find(cid, ts) is None:
            return {"ok": False, "error": "message_not_found"}
        return {
            "ok": True,
            "channel": cid,
            "permalink": f"https://cockpit-test.slack.com/archives/{cid}/p" + ts.replace(".", ""),
        }

    def m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        n = len(self.socket_urls) + 1
        url = f"wss://wss-primary.slack.test/link/?ticket=ticket-{n}&app_id={self.app_id}"
        self.socket_urls.append(url)
        return {"ok": True, "url": url}

    def m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        uid = str(args.get("user"))
        if uid not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self.user_doc(uid)}


# -- Jira ---------------------------------------------------------------------------------------
# Two workflows, to prove transitions are looked up by name, never by id.
WORKFLOWS: dict[str, dict[str, list[tuple[str, str, str]]]] = {
    # the incident workflow: status → [(transition id, transition name, target status)]
    "incident": {
        "OPEN": [("11", "FIXING", "FIXING"), ("41", "CANCELED", "CANCELED")],
        "FIXING": [
            ("21", "MONITORING", "MONITORING"),
            ("31", "RESOLVED", "RESOLVED"),
            ("41", "CANCELED", "CANCELED"),
        ],
        "MONITORING": [("11", "FIXING", "FIXING"), ("31", "RESOLVED", "RESOLVED")],
        "RESOLVED": [("51", "Reopen", "OPEN")],
        "CANCELED": [("51", "Reopen", "OPEN")],
    },
    # a team's simple workflow with its own names and ids
    "simple": {
        "To Do": [("4", "Start Progress", "In Progress"), ("7", "Won't Do", "Closed")],
        "In Progress": [("5", "Done", "Done"), ("6", "Stop Progress", "To Do")],
        "Done": [("8", "Reopen", "To Do")],
        "Closed": [("8", "Reopen", "To Do")],
    },
}


class JiraFake(FakeService):
    """A Jira Cloud site with two projects on two different workflows."""

    service = "jira"
    ROUTES = (
        "myself",
        "create_issue",
        "get_issue",
        "edit_issue",
        "search",
        "transitions",
        "do_transition",
        "add_comment",
        "get_comments",
        "remote_link",
        "issue_link",
        "assign",
        "set_property",
        "get_property",
    )

    def __init__(
        self, email: str = "oncall@example.com", token: str = "ATATT3xFfGF0SECRETJIRATOKEN"
    ) -> None:
        super().__init__()
        self.email, self.token = email, token
        self.base = "https://jira.test"
        self.account_id = "5b10ac8d82e05b22cc7d4ef5"
        self.projects = {"INC": ("10000", "incident"), "OPS": ("10001", "simple")}
        self.initial = {"incident": "OPEN", "simple": "To Do"}
        self.issues: dict[str, dict[str, Any]] = {}
        self.link_types = {
            "Relates": ("10003", "relates to", "relates to"),
            "Blocks": ("10000", "is blocked by", "blocks"),
        }
        self.links: list[tuple[str, str, str]] = []
        self.accounts = {self.account_id: "On Call", "5b10a2844c20165700ede21g": "Mia Krystof"}
        self._n = 0
        self._time = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def error_doc(self, status: int) -> Any:
        return {"errorMessages": [f"Internal server error {status}"], "errors": {}}

    def _now(self) -> str:
        self._time += timedelta(seconds=1)
        return self._time.strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    def user(self, account_id: str) -> dict[str, Any]:
        return {
            "accountId": account_id,
            "accountType": "atlassian",
            "active": True,
            "displayName": self.accounts.get(account_id, "Someone"),
            "self": f"{self.base}/rest/api/3/user?accountId={account_id}",
            "timeZone": "Europe/London",
        }

    def add_issue(
        self, project: str, summary: str, *, labels: tuple[str, ...] = (), status: str | None = None
    ) -> str:
        _pid, workflow = self.projects[project]
        self._n += 1
        key = f"{project}-{self._n}"
        self.issues[key] = {
            "id": str(10000 + self._n),
            "key": key,
            "project": project,
            "workflow": workflow,
            "fields": {
                "summary": summary,
                "labels": list(labels),
                "status": status or self.initial[workflow],
                "issuetype": "Task",
                "description": None,
                "assignee": None,
            },
            "comments": [],
            "properties": {},
            "remote_links": {},
        }
        return key

    # -- routing --------------------------------------------------------------------------------
    def route(self, request: httpx.Request) -> tuple[str, Callable[[], Result]]:
        path = request.url.path
        at = path.find("/rest/api/3/")
        rest = path[at + len("/rest/api/3/") :] if at >= 0 else path
        parts = [unquote(p) for p in rest.split("/")]
        m = request.method
        body = json.loads(request.content) if request.content else None
        params = dict(request.url.params.multi_items())
        table: list[tuple[str, str, int, Callable[..., Result]]] = [
            ("GET", "myself", 1, lambda: self.r_myself()),
            ("POST", "issue", 1, lambda: self.r_create_issue(body)),
            ("POST", "search/jql", 2, lambda: self.r_search(body)),
            ("POST", "issueLink", 1, lambda: self.r_issue_link(body)),
        ]
        route, fn = "unknown", lambda: httpx.Response(404, json={"errorMessages": ["no route"]})
        joined = "/".join(parts)
        for verb, name, n, handler in table:
            if m == verb and joined == name and len(parts) == n:
                route, fn = (
                    {
                        "myself": "myself",
                        "issue": "create_issue",
                        "search/jql": "search",
                        "issueLink": "issue_link",
                    }[name],
                    handler,
                )
        if parts[0] == "issue" and len(parts) >= 2 and route == "unknown":
            key = parts[1]
            sub = parts[2] if len(parts) > 2 else ""
            routes: dict[tuple[str, str], tuple[str, Callable[[], Result]]] = {
                ("GET", ""): ("get_issue", lambda: self.r_get_issue(key, params)),
                ("PUT", ""): ("edit_issue", lambda: self.r_edit_issue(key, body)),
                ("GET", "transitions"): ("transitions", lambda: self.r_transitions(key)),
                ("POST", "transitions"): ("do_transition", lambda: self.r_transition(key, body)),
                ("POST", "comment"): ("add_comment", lambda: self.r_add_comment(key, body)),
                ("GET", "comment"): ("get_comments", lambda: self.r_comments(key, params)),
                ("POST", "remotelink"): ("remote_link", lambda: self.r_remote_link(key, body)),
                ("PUT", "assignee"): ("assign", lambda: self.r_assign(key, body)),
                ("PUT", "properties"): (
                    "set_property",
                    lambda: self.r_set_property(key, parts[3], body),
                ),
                ("GET", "properties"): ("get_property", lambda: self.r_get_property(key, parts[3])),
            }
            if (m, sub) in routes:
                route, fn = routes[(m, sub)]

        def call() -> Result:
            expected = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {expected}":
                return httpx.Response(
                    401,
                    json={
                        "errorMessages": ["Client must be authenticated to access this resource."],
                        "errors": {},
                    },
                )
            response = fn()
            if response.status_code < 300:
                self.effects.append(route)
            return response

        return route, call

    def _missing(self) -> Result:
        return httpx.Response(
            404,
            json={
                "errorMessages": ["Issue does not exist or you do not have permission to see it."],
                "errors": {},
            },
        )

    def issue_doc(self, key: str, fields: list[str] | None = None) -> dict[str, Any]:
        issue = self.issues[key]
        f = issue["fields"]
        wf = issue["workflow"]
        status_names = {s for s in WORKFLOWS[wf]}
        all_fields: dict[str, Any] = {
            "summary": f["summary"],
            "labels": f["labels"],
            "status": {
                "id": str(sorted(status_names).index(f["status"]) + 1),
                "name": f["status"],
                "self": f"{self.base}/rest/api/3/status/1",
                "statusCategory": {"id": 2, "key": "new", "name": "To Do"},
            },
            "issuetype": {"name": f["issuetype"]},
            "description": f["description"],
            "assignee": self.user(f["assignee"]) if f["assignee"] else None,
            "project": {"key": issue["project"]},
        }
        wanted = (
            all_fields
            if not fields or "*all" in fields
            else {k: v for k, v in all_fields.items() if k in fields}
        )
        return {
            "id": issue["id"],
            "key": key,
            "self": f"{self.base}/rest/api/3/issue/{issue['id']}",
            "fields": wanted,
        }

    def r_myself(self) -> Result:
        return httpx.Response(
            200, json={**self.user(self.account_id), "emailAddress": self.email, "locale": "en_GB"}
        )

    def r_create_issue(self, body: Any) -> Result:
        fields = body.get("fields", {})
        project = (fields.get("project") or {}).get("key")
        errors: dict[str, str] = {}
        if project not in self.projects:
            errors["project"] = "valid project is required"
        if not fields.get("summary"):
            errors["summary"] = "You must specify a summary of the issue."
        if (fields.get("issuetype") or {}).get("name") not in ("Task", "Incident", "Bug"):
            errors["issuetype"] = "Specify an issue type"
        if any(" " in lb for lb in fields.get("labels") or []):
            errors["labels"] = "The label can't contain spaces."
        if errors:
            return httpx.Response(400, json={"errorMessages": [], "errors": errors})
        key = self.add_issue(project, fields["summary"], labels=tuple(fields.get("labels") or ()))
        issue = self.issues[key]
        issue["fields"]["description"] = fields.get("description")
        issue["fields"]["issuetype"] = fields["issuetype"]["name"]
        for prop in body.get("properties") or []:
            issue["properties"][prop["key"]] = prop["value"]
        return httpx.Response(
            201,
            json={
                "id": issue["id"],
                "key": key,
                "self": f"{self.base}/rest/api/3/issue/{issue['id']}",
            },
        )

    def r_get_issue(self, key: str, params: dict[str, str]) -> Result:
        if key not in self.issues:
            return self._missing()
        fields = params.get("fields", "").split(",") if params.get("fields") else None
        return httpx.Response(200, json=self.issue_doc(key, fields))

    def r_edit_issue(self, key: str, body: Any) -> Result:
        if key not in self.issues:
            return self._missing()
        f = self.issues[key]["fields"]
        for op in (body.get("update") or {}).get("labels", []):
            if "add" in op and op["add"] not in f["labels"]:
                f["labels"].append(op["add"])
            if "remove" in op and op["remove"] in f["labels"]:
                f["labels"].remove(op["remove"])
        for name, value in (body.get("fields") or {}).items():
            f[name] = value
        return httpx.Response(204)

    def r_search(self, body: Any) -> Result:
        jql = body.get("jql", "")
        m = re.search(r'labels\s*=\s*"((?:[^"\\]|\\.)*)"', jql)
        pm = re.search(r'project\s*=\s*"((?:[^"\\]|\\.)*)"', jql)
        if m is None:
            return httpx.Response(
                400, json={"errorMessages": ["The JQL query is unbounded."], "errors": {}}
            )
        wanted = m.group(1).replace('\\"', '"').replace("\\\\", "\\")
        keys = [
            k
            for k, i in self.issues.items()
            if wanted in i["fields"]["labels"] and (pm is None or i["project"] == pm.group(1))
        ]
        keys.reverse()  # ORDER BY created DESC
        start = int(body.get("nextPageToken") or 0)
        size = int(body.get("maxResults") or 50)
        page = keys[start : start + size]
        doc: dict[str, Any] = {
            "issues": [self.issue_doc(k, body.get("fields")) for k in page],
            "isLast": start + size >= len(keys),
        }
        if not doc["isLast"]:
            doc["nextPageToken"] = str(start + size)
        return httpx.Response(200, json=doc)

    def _offered(self, key: str) -> list[tuple[str, str, str]]:
        issue = self.issues[key]
        return WORKFLOWS[issue["workflow"]][issue["fields"]["status"]]

    def r_transitions(self, key: str) -> Result:
        if key not in self.issues:
            return self._missing()
        return httpx.Response(
            200,
            json={
                "transitions": [
                    {
                        "id": tid,
                        "name": name,
                        "hasScreen": False,
                        "isGlobal": False,
                        "isInitial": False,
                        "isAvailable": True,
                        "isConditional": False,
                        "looped": False,
                        "to": {
                            "id": str(
                                sorted(WORKFLOWS[self.issues[key]["workflow"]]).index(to) + 1
                            ),
                            "name": to,
                            "self": f"{self.base}/rest/api/3/status/{to}",
                            "statusCategory": {
                                "id": 4,
                                "key": "indeterminate",
                                "name": "In Progress",
                            },
                        },
                    }
                    for tid, name, to in self._offered(key)
                ]
            },
        )

    def r_transition(self, key: str, body: Any) -> Result:
        if key not in self.issues:
            return self._missing()
        tid = (body.get("transition") or {}).get("id")
        chosen = next((t for t in self._offered(key) if t[0] == tid), None)
        if chosen is None:
            return httpx.Response(
                400,
                json={
                    "errorMessages": [f"Transition id '{tid}' is not valid for this issue."],
                    "errors": {},
                },
            )
        self.issues[key]["fields"]["status"] = chosen[2]
        for op in (body.get("update") or {}).get("comment", []):
            self._comment(key, op["add"]["body"], [])
        return httpx.Response(204)

    def _comment(self, key: str, adf: Any, props: list[dict[str, Any]]) -> dict[str, Any]:
        issue = self.issues[key]
        cid = str(10000 + sum(len(i["comments"]) for i in self.issues.values()) + 1)
        now = self._now()
        comment = {
            "id": cid,
            "self": f"{self.base}/rest/api/3/issue/{issue['id']}/comment/{cid}",
            "author": self.user(self.account_id),
            "updateAuthor": self.user(self.account_id),
            "body": adf,
            "created": now,
            "updated": now,
            "jsdPublic": True,
            "properties": props,
        }
        issue["comments"].append(comment)
        return comment

    def r_add_comment(self, key: str, body: Any) -> Result:
        if key not in self.issues:
            return self._missing()
        comment = self._comment(key, body["body"], body.get("properties") or [])
        return httpx.Response(201, json={k: v for k, v in comment.items() if k != "properties"})

    def r_comments(self, key: str, params: dict[str, str]) -> Result:
        if key not in self.issues:
            return self._missing()
        comments = self.issues[key]["comments"]
        start, size = int(params.get("startAt", 0)), int(params.get("maxResults", 50))
        expand = "properties" in params.get("expand", "")
        page = [
            c if expand else {k: v for k, v in c.items() if k != "properties"}
            for c in comments[start : start + size]
        ]
        return httpx.Response(
            200,
            json={"comments": page, "startAt": start, "maxResults": size, "total": len(comments)},
        )

    def r_remote_link(self, key: str, body: Any) -> Result:
        if key not in self.issues:
            return self._missing()
        links = self.issues[key]["remote_links"]
        gid = body.get("globalId") or f"anon-{len(links)}"
        existed = gid in links
        link_id = links[gid]["id"] if existed else 10000 + len(links)
        links[gid] = {"id": link_id, "object": body["object"]}
        return httpx.Response(
            200 if existed else 201,
            json={
                "id": link_id,
                "self": f"{self.base}/rest/api/3/issue/{key}/remotelink/{link_id}",
            },
        )

    def r_issue_link(self, body: Any) -> Result:
        name = (body.get("type") or {}).get("name")
        if name not in self.link_types:
            return httpx.Response(
                404,
                json={
                    "errorMessages": [f"No issue link type with name '{name}' found."],
                    "errors": {},
                },
            )
        inward, outward = body["inwardIssue"]["key"], body["outwardIssue"]["key"]
        if inward not in self.issues or outward not in self.issues:
            return self._missing()
        link = (name, inward, outward)
        if link not in self.links:
            self.links.append(link)
        return httpx.Response(201)

    def r_assign(self, key: str, body: Any) -> Result:
        if key not in self.issues:
            return self._missing()
        account = body.get("accountId")
        if account is not None and account not in self.accounts:
            return httpx.Response(
                400,
                json={
                    "errorMessages": [],
                    "errors": {"assignee": f"User '{account}' cannot be assigned issues."},
                },
            )
        self.issues[key]["fields"]["assignee"] = account
        return httpx.Response(204)

    def r_set_property(self, key: str, prop: str, body: Any) -> Result:
        if key not in self.issues:
            return self._missing()
        props = self.issues[key]["properties"]
        existed = prop in props
        props[prop] = body
        return httpx.Response(200 if existed else 201)

    def r_get_property(self, key: str, prop: str) -> Result:
        if key not in self.issues:
            return self._missing()
        props = self.issues[key]["properties"]
        if prop not in props:
            return httpx.Response(
                404,
                json={
                    "errorMessages": [f"The property with key '{prop}' does not exist."],
                    "errors": {},
                },
            )
        return httpx.Response(200, json={"key": prop, "value": props[prop]})


# -- Statuspage -------------------------------------------------------------------------------
class StatuspageFake(FakeService):
    """A status page with components and incidents; can enforce ~1 request/second."""

    service = "statuspage"
    ROUTES = (
        "page",
        "components",
        "create_incident",
        "update_incident",
        "get_incident",
        "list_incidents",
    )

    def __init__(
        self,
        page_id: str = "kctbh9vrtdwd",
        token: str = "89a229ce1a8dbcf9ff30430fbe35eb4cSECRET",
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.page_id, self.token = page_id, token
        self.clock = clock  # set it to refuse requests closer than 1 s apart
        self.request_times: list[float] = []
        self.components: dict[str, dict[str, Any]] = {}
        self.incidents: list[dict[str, Any]] = []
        self._n = 0
        self._time = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        for name in ("API", "Website", "Payments"):
            self.add_component(name)

    def error_doc(self, status: int) -> Any:
        return {"message": f"error {status}"}

    def _id(self) -> str:
        self._n += 1
        return f"x{self._n:011d}"

    def _now(self) -> str:
        self._time += timedelta(seconds=1)
        return _iso(self._time)

    def add_component(self, name: str, status: str = "operational") -> str:
        cid = self._id()
        now = self._now()
        self.components[cid] = {
            "id": cid,
            "page_id": self.page_id,
            "group_id": None,
            "created_at": now,
            "updated_at": now,
            "group": False,
            "name": name,
            "description": None,
            "position": len(self.components) + 1,
            "status": status,
            "showcase": True,
            "only_show_if_degraded": False,
            "automation_email": f"component+{cid}@notifications.statuspage.io",
            "start_date": None,
        }
        return cid

    def page_doc(self) -> dict[str, Any]:
        return {
            "id": self.page_id,
            "name": "Cockpit Test",
            "url": "https://status.example.com",
            "subdomain": "cockpit-test",
            "time_zone": "Etc/UTC",
            "domain": None,
            "created_at": "2025-01-01T00:00:00.000Z",
            "updated_at": self._now(),
            "allow_page_subscribers": True,
            "allow_incident_subscribers": True,
            "allow_email_subscribers": True,
            "allow_sms_subscribers": False,
            "allow_rss_atom_feeds": True,
            "allow_webhook_subscribers": True,
            "hidden_from_search": False,
            "viewers_must_be_team_members": False,
            "activity_score": 0,
            "headline": None,
            "page_description": None,
        }

    def route(self, request: httpx.Request) -> tuple[str, Callable[[], Result]]:
        path = request.url.path
        at = path.find("/pages/")
        parts = [unquote(p) for p in path[at + 1 :].split("/")] if at >= 0 else [""]
        m = request.method
        body = json.loads(request.content) if request.content else None
        params = dict(request.url.params.multi_items())
        page_ok = len(parts) >= 2 and parts[1] == self.page_id
        rest = parts[2:]
        route, fn = "unknown", lambda: httpx.Response(404, json={"message": "not found"})
        if rest == [] and m == "GET":
            route, fn = "page", lambda: httpx.Response(200, json=self.page_doc())
        elif rest == ["components"] and m == "GET":
            route, fn = "components", lambda: self.r_components(params)
        elif rest == ["incidents"] and m == "POST":
            route, fn = "create_incident", lambda: self.r_create(body)
        elif rest == ["incidents"] and m == "GET":
            route, fn = "list_incidents", lambda: self.r_list(params)
        elif len(rest) == 2 and rest[0] == "incidents" and m in ("PATCH", "PUT"):
            route, fn = "update_incident", lambda: self.r_update(rest[1], body)
        elif len(rest) == 2 and rest[0] == "incidents" and m == "GET":
            route, fn = "get_incident", lambda: self.r_get(rest[1])

        def call() -> Result:
            if request.headers.get("authorization") != f"OAuth {self.token}":
                return httpx.Response(401, json={"message": "Could not authenticate"})
            if self.clock is not None:
                now = self.clock()
                if self.request_times and now - self.request_times[-1] < 1.0:
                    return unchecked(httpx.Response(420, json={"error": "Enhance your calm"}))
                self.request_times.append(now)
            if not page_ok:
                return httpx.Response(404, json={"message": "The page could not be found"})
            response = fn()
            if response.status_code < 300:
                self.effects.append(route)
            return response

        return route, call

    def r_components(self, params: dict[str, str]) -> Result:
        per_page = int(params.get("per_page", 100))
        page = int(params.get("page", 1))
        items = list(self.components.values())[(page - 1) * per_page : page * per_page]
        return httpx.Response(200, json=items)

    def _update(self, inc: dict[str, Any], status: str, body: str, changes: dict[str, str]) -> None:
        now = self._now()
        affected = []
        for cid, new in changes.items():
            comp = self.components[cid]
            affected.append(
                {"code": cid, "name": comp["name"], "old_status": comp["status"], "new_status": new}
            )
            comp["status"] = new
            comp["updated_at"] = now
            if cid not in inc["component_ids"]:
                inc["component_ids"].append(cid)
        inc["incident_updates"].insert(
            0,
            {
                "id": self._id(),
                "incident_id": inc["id"],
                "affected_components": affected or None,
                "body": body,
                "created_at": now,
                "custom_tweet": None,
                "deliver_notifications": True,
                "display_at": now,
                "status": status,
                "tweet_id": None,
                "twitter_updated_at": None,
                "updated_at": now,
                "wants_twitter_update": False,
            },
        )
        inc["status"] = status
        inc["updated_at"] = now
        if status == "monitoring" and inc["monitoring_at"] is None:
            inc["monitoring_at"] = now
        if status == "resolved":
            inc["resolved_at"] = now

    def incident_doc(self, inc: dict[str, Any]) -> dict[str, Any]:
        doc = {k: v for k, v in inc.items() if k != "component_ids"}
        doc["components"] = [self.components[c] for c in inc["component_ids"]]
        return doc

    def _bad(self, message: str) -> Result:
        return httpx.Response(422, json={"message": message})

    def r_create(self, body: Any) -> Result:
        inc_in = body["incident"]
        changes = dict(inc_in.get("components") or {})
        for cid in inc_in.get("component_ids") or []:
            changes.setdefault(cid, "major_outage")
        if any(c not in self.components for c in changes):
            return self._bad("Components must belong to this page")
        now = self._now()
        worst = max(
            (COMPONENT_IMPACT.get(s, "none") for s in changes.values()),
            key=IMPACT_ORDER.index,
            default="none",
        )
        inc = {
            "id": self._id(),
            "name": inc_in["name"],
            "status": inc_in.get("status") or "investigating",
            "impact": inc_in.get("impact_override") or worst,
            "impact_override": inc_in.get("impact_override"),
            "created_at": now,
            "updated_at": now,
            "monitoring_at": None,
            "resolved_at": None,
            "page_id": self.page_id,
            "shortlink": f"https://stspg.io/{self._n:05d}",
            "metadata": inc_in.get("metadata") or {},
            "incident_updates": [],
            "postmortem_body": None,
            "postmortem_body_last_updated_at": None,
            "postmortem_ignored": False,
            "postmortem_notified_subscribers": False,
            "postmortem_notified_twitter": False,
            "postmortem_published_at": None,
            "scheduled_for": None,
            "scheduled_until": None,
            "scheduled_remind_prior": False,
            "scheduled_reminded_at": None,
            "scheduled_auto_in_progress": False,
            "scheduled_auto_completed": False,
            "reminder_intervals": None,
            "component_ids": [],
        }
        self._update(inc, inc["status"], inc_in.get("body") or "", changes)
        self.incidents.insert(0, inc)
        return httpx.Response(201, json=self.incident_doc(inc))

    def _incident(self, incident_id: str) -> dict[str, Any] | None:
        return next((i for i in self.incidents if i["id"] == incident_id), None)

    def r_update(self, incident_id: str, body: Any) -> Result:
        inc = self._incident(incident_id)
        if inc is None:
            return httpx.Response(404, json={"message": "Incident not found"})
        inc_in = body["incident"]
        changes = dict(inc_in.get("components") or {})
        if any(c not in self.components for c in changes):
            return self._bad("Components must belong to this page")
        self._update(inc, inc_in.get("status") or inc["status"], inc_in.get("body") or "", changes)
        return httpx.Response(200, json=self.incident_doc(inc))

    def r_get(self, incident_id: str) -> Result:
        inc = self._incident(incident_id)
        if inc is None:
            return httpx.Response(404, json={"message": "Incident not found"})
        return httpx.Response(200, json=self.incident_doc(inc))

    def r_list(self, params: dict[str, str]) -> Result:
        q = (params.get("q") or "").lower()
        limit = int(params.get("limit") or 100)
        found = [
            self.incident_doc(i)
            for i in self.incidents
            if not q
            or q in i["name"].lower()
            or any(q in (u["body"] or "").lower() for u in i["incident_updates"])
        ]
        return httpx.Response(200, json=found[:limit])


IMPACT_ORDER = ["none", "maintenance", "minor", "major", "critical"]
COMPONENT_IMPACT = {
    "operational": "none",
    "under_maintenance": "maintenance",
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
}


@dataclass
class FakeClock:
    """A monotonic clock that only moves when something sleeps on it (or by hand)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

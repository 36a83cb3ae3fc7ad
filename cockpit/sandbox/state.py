"""The drill range's memory: one workspace, one Jira site, one status page.

Everything lives in plain dicts shaped like the vendors' own objects, guarded by one
re-entrant lock (`SandboxState.lock`); the API modules take the lock for each request, the
scenario runner for each event. `snapshot()` returns a deep, JSON-ready copy for tests and for
`GET /_sandbox/state`.

Every Slack message stored (`post`), edited (`edit_message`) or deleted (`delete_message`)
is also handed, as the `message` event Slack's Events API would send, to each function in
`listeners` (called with the lock held: they must be quick); the Socket Mode hub is one.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from cockpit.sandbox.tokens import Tokens

JSON = dict[str, Any]
log = logging.getLogger("cockpit.sandbox")


# -- the wire (shared by the API modules and the server) ---------------------------------
class Headers(Protocol):
    def get(self, name: str, failobj: Any = None) -> Any: ...


@dataclass
class Request:
    """One HTTP request, already read off the socket."""

    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: Headers  # case-insensitive (an email.message.Message)
    body: bytes = b""

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""

    @property
    def content_type(self) -> str:
        return self.header("Content-Type").split(";", 1)[0].strip().lower()

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
        try:
            body = json.dumps(payload, ensure_ascii=False).encode()
        except UnicodeEncodeError:  # a lone surrogate someone posted: send it escaped,
            body = json.dumps(payload).encode()  # as a real (if broken) API would
        return cls(status, body, [("Content-Type", "application/json;charset=utf-8"), *headers])

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status)

    @classmethod
    def html(cls, status: int, text: str) -> Response:
        return cls(status, text.encode(), [("Content-Type", "text/html")])

    def json_body(self) -> Any:
        return json.loads(self.body) if self.body else None


# -- ids and clocks ----------------------------------------------------------------------
TEAM_ID = "T0SBXDRILL"
TEAM_NAME = "Drill Range"
TEAM_DOMAIN = "drill-range"
WORKSPACE_URL = f"https://{TEAM_DOMAIN}.slack.com/"

BOT_USER_ID = "U0SBXCOCKPT"
BOT_ID = "B0SBXCOCKPT"
APP_ID = "A0SBXCOCKPT"

PAGE_ID = "sbxdrill0pge"


def ts_to_micro(ts: str | float | int) -> int:
    """A Slack timestamp ("1700000000.000100", "1700000000", 1.7e9) as integer microseconds."""
    try:
        value = Decimal(str(ts).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a Slack timestamp: {ts!r}") from exc
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a Slack timestamp: {ts!r}")
    return int(value * 1_000_000)


def micro_to_ts(micro: int) -> str:
    return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"


def iso_jira(epoch: float) -> str:
    """Jira's date-time format: 2023-11-14T22:13:20.123+0000."""
    dt = datetime.fromtimestamp(epoch, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


def iso_z(epoch: float) -> str:
    """Statuspage's date-time format: 2023-11-14T22:13:20.123Z."""
    dt = datetime.fromtimestamp(epoch, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


# -- Slack -------------------------------------------------------------------------------
@dataclass
class Channel:
    id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    is_general: bool = False
    is_archived: bool = False
    members: list[str] = field(default_factory=list)
    topic: JSON = field(default_factory=lambda: {"value": "", "creator": "", "last_set": 0})
    purpose: JSON = field(default_factory=lambda: {"value": "", "creator": "", "last_set": 0})
    previous_names: list[str] = field(default_factory=list)
    # Top-level messages (and thread broadcasts) in timestamp order, with their keys.
    messages: list[JSON] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    # Thread replies per parent ts, in timestamp order.
    threads: dict[str, list[JSON]] = field(default_factory=dict)
    by_ts: dict[str, JSON] = field(default_factory=dict)

    def add_top_level(self, message: JSON) -> None:
        key = ts_to_micro(message["ts"])
        i = bisect.bisect_right(self.keys, key)
        self.keys.insert(i, key)
        self.messages.insert(i, message)


def _avatar(seed: str, size: int) -> str:
    return f"https://avatars.slack-edge.com/sandbox/{seed}_{size}.png"


def slack_person(
    uid: str,
    name: str,
    real_name: str,
    title: str = "",
    *,
    color: str = "9f69e7",
    tz: str = "Europe/Berlin",
    admin: bool = False,
    display_name: str | None = None,
) -> JSON:
    """A person as users.info shows them; `display_name` defaults to `name` ("" for none,
    as people who never set one have)."""
    first, _, last = real_name.partition(" ")
    shown = name if display_name is None else display_name
    avatar_hash = hashlib.sha1(uid.encode()).hexdigest()[:12]
    return {
        "id": uid,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": False,
        "color": color,
        "real_name": real_name,
        "tz": tz,
        "tz_label": "Central European Time",
        "tz_offset": 3600,
        "is_admin": admin,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": False,
        "is_app_user": False,
        "updated": 1_690_000_000,
        "profile": {
            "title": title,
            "phone": "",
            "skype": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": shown,
            "display_name_normalized": shown,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": avatar_hash,
            "email": f"{name}@{TEAM_DOMAIN}.example",
            "first_name": first,
            "last_name": last,
            "image_24": _avatar(avatar_hash, 24),
            "image_32": _avatar(avatar_hash, 32),
            "image_48": _avatar(avatar_hash, 48),
            "image_72": _avatar(avatar_hash, 72),
            "image_192": _avatar(avatar_hash, 192),
            "image_512": _avatar(avatar_hash, 512),
            "team": TEAM_ID,
        },
    }


def slack_bot_user(uid: str, name: str, real_name: str, bot_id: str, app_id: str) -> JSON:
    user = slack_person(uid, name, real_name, color="3c989f")
    user.update(
        {
            "is_bot": True,
            "tz": "America/Los_Angeles",
            "tz_label": "Pacific Standard Time",
            "tz_offset": -28800,
        }
    )
    profile = user["profile"]
    profile.update(
        {
            "bot_id": bot_id,
            "api_app_id": app_id,
            "always_active": True,
            "first_name": real_name,
            "last_name": "",
        }
    )
    del profile["email"]
    return user


_FIRST = ("maria", "wei", "olu", "anna", "raj", "lena", "tom", "sara", "yuki", "omar")
_LAST = ("lopez", "chen", "adeyemi", "novak", "patel", "berg", "kim", "costa", "ito")


def generated_handle(i: int) -> str:
    """The handle of the i-th person of a generated workspace (`SandboxState.populate`):
    1 is "wei.lopez1", 2 "olu.lopez2", 12 "wei.chen12"."""
    return f"{_FIRST[i % len(_FIRST)]}.{_LAST[(i // len(_FIRST)) % len(_LAST)]}{i}"


@dataclass(frozen=True)
class Bot:
    """An integration that posts `bot_message`s (Datadog, Pingdom, …). One whose messages
    carry no `username` (`username=""`) is named only by bots.info (`name`)."""

    key: str
    bot_id: str
    username: str
    app_id: str
    icon: str
    name: str = ""  # what bots.info answers (the username when empty)


# -- Jira --------------------------------------------------------------------------------
@dataclass(frozen=True)
class JiraStatus:
    id: str
    name: str
    category: str  # "new" | "indeterminate" | "done"


@dataclass(frozen=True)
class JiraTransition:
    id: str
    name: str
    to: str  # status name
    sources: tuple[str, ...]  # status names it is available from


STATUS_CATEGORIES: dict[str, JSON] = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    },
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}


@dataclass(frozen=True)
class Workflow:
    name: str
    statuses: tuple[JiraStatus, ...]
    transitions: tuple[JiraTransition, ...]
    initial: str

    def status(self, name: str) -> JiraStatus:
        for s in self.statuses:
            if s.name == name:
                return s
        raise KeyError(name)

    def available(self, status: str) -> list[JiraTransition]:
        return [t for t in self.transitions if status in t.sources]


INCIDENT_WORKFLOW = Workflow(
    name="Incident workflow",
    statuses=(
        JiraStatus("10100", "Pending", "new"),
        JiraStatus("10101", "Fixing", "indeterminate"),
        JiraStatus("10102", "Monitoring", "indeterminate"),
        JiraStatus("10103", "Resolved", "done"),
        JiraStatus("10104", "Canceled", "done"),
    ),
    transitions=(
        JiraTransition("11", "FIXING", "Fixing", ("Pending", "Monitoring")),
        JiraTransition("21", "MONITORING", "Monitoring", ("Fixing",)),
        JiraTransition("31", "RESOLVED", "Resolved", ("Fixing", "Monitoring")),
        JiraTransition("41", "CANCELED", "Canceled", ("Pending", "Fixing")),
        JiraTransition("51", "REOPEN", "Pending", ("Resolved", "Canceled")),
    ),
    initial="Pending",
)

SOFTWARE_WORKFLOW = Workflow(
    name="Software simplified workflow",
    statuses=(
        JiraStatus("10000", "To Do", "new"),
        JiraStatus("10001", "In Progress", "indeterminate"),
        JiraStatus("10002", "Done", "done"),
    ),
    transitions=(
        JiraTransition("61", "Start progress", "In Progress", ("To Do",)),
        JiraTransition("71", "Done", "Done", ("To Do", "In Progress")),
        JiraTransition("81", "Back to To Do", "To Do", ("In Progress", "Done")),
    ),
    initial="To Do",
)

ISSUE_TYPES: dict[str, JSON] = {
    "Task": {
        "id": "10002",
        "name": "Task",
        "subtask": False,
        "hierarchyLevel": 0,
        "description": "A small, distinct piece of work.",
    },
    "Bug": {
        "id": "10004",
        "name": "Bug",
        "subtask": False,
        "hierarchyLevel": 0,
        "description": "A problem or error.",
    },
    "Incident": {
        "id": "10005",
        "name": "Incident",
        "subtask": False,
        "hierarchyLevel": 0,
        "description": "A system outage or incident.",
    },
    "Story": {
        "id": "10001",
        "name": "Story",
        "subtask": False,
        "hierarchyLevel": 0,
        "description": "Functionality or a feature expressed as a user goal.",
    },
}

PRIORITIES: dict[str, str] = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}

LINK_TYPES: dict[str, JSON] = {
    "Blocks": {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
    "Cloners": {"id": "10001", "name": "Cloners", "inward": "is cloned by", "outward": "clones"},
    "Duplicate": {
        "id": "10002",
        "name": "Duplicate",
        "inward": "is duplicated by",
        "outward": "duplicates",
    },
    "Relates": {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"},
}


@dataclass
class JiraProject:
    id: str
    key: str
    name: str
    workflow: Workflow
    issue_types: tuple[str, ...]
    next_number: int = 1


@dataclass
class JiraIssue:
    id: str
    key: str
    project: str
    fields: JSON  # summary, description, issuetype (name), labels, priority (name), custom…
    status: str
    reporter: str  # accountId
    assignee: str | None
    created: float
    updated: float
    resolution: str | None = None
    resolutiondate: float | None = None
    comments: list[JSON] = field(default_factory=list)
    remote_links: list[JSON] = field(default_factory=list)
    links: list[JSON] = field(default_factory=list)  # {"id", "type", "inward", "outward"}
    properties: dict[str, Any] = field(default_factory=dict)
    history: list[JSON] = field(default_factory=list)  # status changes


def jira_account_id(email: str) -> str:
    return "712020:" + hashlib.sha1(email.strip().lower().encode()).hexdigest()[:24]


def jira_display_name(email: str) -> str:
    local = email.split("@", 1)[0] or email
    parts = [p for p in local.replace("_", ".").replace("-", ".").split(".") if p]
    return " ".join(p.capitalize() for p in parts) or email


# -- Statuspage --------------------------------------------------------------------------
COMPONENT_STATUSES = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)
REALTIME_STATUSES = ("investigating", "identified", "monitoring", "resolved")
SCHEDULED_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
IMPACTS = ("none", "maintenance", "minor", "major", "critical")


# -- the state -------------------------------------------------------------------------
class SandboxState:
    """All sandbox data. Hold `lock` while reading or changing anything."""

    def __init__(self, *, clock: Callable[[], float] = time.time, base_url: str = "") -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.base_url = base_url
        self.started_at = clock()
        self._last_ts_micro = 0
        self._counters: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        # tokens (Slack tokens, Jira API tokens, Statuspage keys) answered as invalid
        self.refused_tokens: set[str] = set()
        self.tokens = Tokens()  # the Slack tokens and Statuspage keys the range takes
        self.faults_injected: list[JSON] = []
        # called with (channel, message event) for every message stored, edited, deleted
        self.listeners: list[Callable[[Channel, JSON], None]] = []
        self.socket_stats: Callable[[], JSON] | None = None  # the Socket Mode hub's figures
        self.scenario: JSON = {
            "name": None,
            "speed": 1.0,
            "events_total": 0,
            "events_fired": 0,
            "started_at": None,
            "finished": False,
        }
        self._seed_slack()
        self._seed_jira()
        self._seed_statuspage()

    # -- helpers -------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock()

    def next_id(self, kind: str, start: int = 1) -> int:
        with self.lock:
            self._counters[kind] += 1
            return start + self._counters[kind] - 1

    def next_ts(self) -> str:
        """A fresh, strictly increasing Slack timestamp for "now"."""
        with self.lock:
            micro = max(int(self.clock() * 1_000_000), self._last_ts_micro + 1)
            self._last_ts_micro = micro
            return micro_to_ts(micro)

    def ts_at(self, epoch: float, channel: Channel) -> str:
        """A timestamp at `epoch` (e.g. backdated history), unique within `channel`."""
        micro = int(epoch * 1_000_000)
        while micro_to_ts(micro) in channel.by_ts:
            micro += 1
        if micro > self._last_ts_micro:
            self._last_ts_micro = micro
        return micro_to_ts(micro)

    def refuse_token(self, token: str) -> None:
        """Answer `token` as a revoked or mistyped credential from now on: Slack's
        `invalid_auth`, Jira's and Statuspage's 401, even one the range knows (tokens.py)."""
        with self.lock:
            self.refused_tokens.add(token.strip())

    def record_fault(self, fault: JSON) -> None:
        with self.lock:
            fault = dict(fault, n=len(self.faults_injected) + 1)
            self.faults_injected.append(fault)

    # -- Slack ---------------------------------------------------------------------------
    def _seed_slack(self) -> None:
        self.slack_users: dict[str, JSON] = {}
        self.bots: dict[str, Bot] = {}
        self.usergroups: dict[str, JSON] = {}  # by id, as usergroups.list shows them
        for uid, name, real, title in (
            ("U0SBXALICE1", "alice", "Alice Moreno", "Platform engineer (on call)"),
            ("U0SBXBENJI1", "benji", "Benji Okafor", "Backend engineer (on call)"),
            ("U0SBXPRIYA1", "priya", "Priya Shah", "Customer success lead"),
            ("U0SBXMARCO1", "marco", "Marco Rossi", "Partner support"),
            ("U0SBXJUNE01", "june", "June Park", "Head of sales"),
            ("U0SBXTRAIN1", "trainer", "Drill Trainer", "Runs the drill"),
        ):
            self.slack_users[uid] = slack_person(uid, name, real, title)
        self.slack_users[BOT_USER_ID] = slack_bot_user(
            BOT_USER_ID, "cockpit", "cockpit", BOT_ID, APP_ID
        )
        for key, bot_id, username, app_id, icon in (
            (
                "datadog",
                "B0SBXDATADG",
                "Datadog",
                "A0SBXDATADG",
                "https://a.slack-edge.com/sandbox/datadog_48.png",
            ),
            (
                "pingdom",
                "B0SBXPINGDM",
                "Pingdom",
                "A0SBXPINGDM",
                "https://a.slack-edge.com/sandbox/pingdom_48.png",
            ),
            (
                "sentry",
                "B0SBXSENTRY",
                "Sentry",
                "A0SBXSENTRY",
                "https://a.slack-edge.com/sandbox/sentry_48.png",
            ),
        ):
            self.add_bot(Bot(key, bot_id, username, app_id, icon))
        # an integration whose messages carry no name at all: only bots.info names it
        self.add_bot(
            Bot(
                "uptime",
                "B0SBXUPTIME",
                "",
                "A0SBXUPTIME",
                "https://a.slack-edge.com/sandbox/uptime_48.png",
                name="Uptime Monitor",
            )
        )
        self.add_usergroup("oncall", "On-call engineers", ["U0SBXALICE1", "U0SBXBENJI1"])
        self.add_usergroup("payments-team", "Payments team", ["U0SBXBENJI1", "U0SBXPRIYA1"])

        self.channels: dict[str, Channel] = {}
        people = [u for u in self.slack_users if not self.slack_users[u]["is_bot"]]
        created = int(self.started_at) - 400 * 86400
        for cid, name, purpose, bot_member, general in (
            ("C0SBXGENERAL", "general", "Company-wide announcements", False, True),
            (
                "C0SBXINCIDNT",
                "incidents",
                "Report possible incidents here. On call answers.",
                True,
                False,
            ),
            ("C0SBXALERTS1", "alerts", "Automated alerts: Datadog, Pingdom, Sentry", True, False),
        ):
            members = list(people) + ([BOT_USER_ID] if bot_member else [])
            ch = Channel(cid, name, created, "U0SBXALICE1", is_general=general, members=members)
            ch.purpose = {"value": purpose, "creator": "U0SBXALICE1", "last_set": created}
            self.channels[cid] = ch

    def add_bot(self, bot: Bot) -> None:
        self.bots[bot.key] = bot

    def populate(self, *, channels: int = 0, people: int = 0) -> None:
        """A large workspace, generated: `people` more people (handles like
        "maria.lopez42", in #general, #incidents and #alerts as everyone is) and `channels`
        more public channels ("team-0001"…, a few members each, the app in none). Their ids
        sort before the built-in channels', so a listing finds #incidents on its last page."""
        with self.lock:
            added: list[str] = []
            for i in range(1, people + 1):
                uid = f"U0SBXG{i:05d}"
                handle = generated_handle(i)
                real = handle.rstrip("0123456789").replace(".", " ").title()
                self.slack_users[uid] = slack_person(uid, handle, real, display_name="")
                added.append(uid)
            everyone = ("general", "incidents", "alerts")
            for ch in self.channels.values():
                if ch.name in everyone:
                    ch.members.extend(added)
            created = int(self.started_at) - 200 * 86400
            pool = added or [u for u in self.slack_users if not self.slack_users[u]["is_bot"]]
            for i in range(1, channels + 1):
                cid = f"C0SBX0G{i:05d}"
                members = [pool[(i * 7 + k) % len(pool)] for k in range(3)]
                ch = Channel(cid, f"team-{i:04d}", created, members[0], members=members)
                self.channels[cid] = ch

    def add_usergroup(self, handle: str, name: str, members: Iterable[str] = ()) -> JSON:
        """A user group (`<!subteam^S…>` mentions it), as usergroups.list shows it."""
        with self.lock:
            for g in self.usergroups.values():
                if g["handle"] == handle:
                    return g
            n = self.next_id("slack-usergroup")
            gid = f"S0SBX{n:06d}"
            created = int(self.started_at) - 300 * 86400
            group: JSON = {
                "id": gid,
                "team_id": TEAM_ID,
                "is_usergroup": True,
                "is_subteam": True,
                "name": name,
                "description": f"{name} (drill range)",
                "handle": handle,
                "is_external": False,
                "date_create": created,
                "date_update": created,
                "date_delete": 0,
                "auto_type": None,
                "auto_provision": False,
                "enterprise_subteam_id": "",
                "created_by": "U0SBXALICE1",
                "updated_by": "U0SBXALICE1",
                "deleted_by": None,
                "prefs": {"channels": [], "groups": []},
                "users": list(members),
            }
            self.usergroups[gid] = group
            return group

    def add_person(
        self, name: str, real_name: str, title: str = "", *, display_name: str | None = None
    ) -> JSON:
        """A new person in the workspace (the one called `name` if there is one), member of
        every public channel; `display_name` as in `slack_person`."""
        with self.lock:
            for u in self.slack_users.values():
                if u["name"] == name:
                    return u
            n = self.next_id("slack-user")
            uid = f"U0SBXP{n:05d}"
            user = slack_person(uid, name, real_name, title, display_name=display_name)
            self.slack_users[uid] = user
            for ch in self.channels.values():
                if not ch.is_private:
                    ch.members.append(uid)
            return user

    def user_by_name(self, name: str) -> JSON | None:
        for u in self.slack_users.values():
            if u["name"] == name or u["id"] == name:
                return u
        return None

    def channel_by_name(self, name: str) -> Channel | None:
        name = name.lstrip("#")
        for ch in self.channels.values():
            if ch.name == name:
                return ch
        return None

    def resolve_channel(self, ref: str) -> Channel | None:
        return self.channels.get(ref) or self.channel_by_name(ref)

    def create_channel(self, name: str, creator: str, *, is_private: bool = False) -> Channel:
        with self.lock:
            n = self.next_id("slack-channel")
            cid = f"{'G' if is_private else 'C'}0SBX{n:06d}"
            ch = Channel(
                cid, name, int(self.now()), creator, is_private=is_private, members=[creator]
            )
            self.channels[cid] = ch
            return ch

    def archive_channel(self, channel: Channel, *, archived: bool = True) -> None:
        """Archive `channel` (or bring it back): it can be read, not posted to or joined."""
        with self.lock:
            channel.is_archived = archived

    def person_message(self, user_id: str, text: str, **extra: Any) -> JSON:
        msg: JSON = {
            "type": "message",
            "text": text,
            "user": user_id,
            "team": TEAM_ID,
            "client_msg_id": str(uuid.uuid4()),
        }
        msg.update(extra)
        return msg

    def bot_message(
        self, bot: Bot, text: str, attachments: Iterable[JSON] = (), **extra: Any
    ) -> JSON:
        msg: JSON = {
            "type": "message",
            "subtype": "bot_message",
            "text": text,
            "bot_id": bot.bot_id,
            "icons": {"image_64": bot.icon},
        }
        if bot.username:  # (a bot without one is named by bots.info only)
            msg["username"] = bot.username
        atts = [dict(a) for a in attachments]
        for i, a in enumerate(atts, 1):
            a.setdefault("id", i)
            a.setdefault("fallback", a.get("title") or a.get("text") or text or bot.username)
        if atts:
            msg["attachments"] = atts
        msg.update(extra)
        return msg

    def post(
        self,
        channel: Channel,
        message: JSON,
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
        ts: str | None = None,
    ) -> JSON:
        """Store `message` (given a ts unless `ts`), as a reply when `thread_ts` is given.

        A reply to a `thread_ts` that is no message is kept, as Slack does, in a thread
        nobody can see (`orphan_replies` in the snapshot).
        """
        with self.lock:
            stored = self._store(channel, message, thread_ts, broadcast, ts)
            self._emit(channel, dict(stored))
            return stored

    def _store(
        self,
        channel: Channel,
        message: JSON,
        thread_ts: str | None,
        broadcast: bool,
        ts: str | None,
    ) -> JSON:
        with self.lock:
            message["ts"] = ts or self.next_ts()
            if thread_ts is None:
                channel.add_top_level(message)
                channel.by_ts[message["ts"]] = message
                return message
            parent = channel.by_ts.get(thread_ts)
            if parent is None:
                message["thread_ts"] = thread_ts
                channel.threads.setdefault(thread_ts, []).append(message)
                channel.by_ts[message["ts"]] = message
                return message
            message["thread_ts"] = thread_ts
            if "user" in parent:
                message["parent_user_id"] = parent["user"]
            if broadcast:
                message["subtype"] = "thread_broadcast"
                channel.add_top_level(message)
            channel.threads.setdefault(thread_ts, []).append(message)
            channel.by_ts[message["ts"]] = message
            replies = channel.threads[thread_ts]
            author = message.get("user") or message.get("bot_id") or ""
            users = list(parent.get("reply_users", []))
            if author and author.startswith(("U", "W")) and author not in users:
                users.append(author)
            parent.update(
                {
                    "thread_ts": thread_ts,
                    "reply_count": len(replies),
                    "reply_users_count": len(users),
                    "latest_reply": message["ts"],
                    "is_locked": False,
                    "subscribed": False,
                }
            )
            if users:
                parent["reply_users"] = users[:5]
            return message

    def edit_message(self, channel: Channel, ts: str, text: str, **changes: Any) -> JSON:
        """Change a stored message's text (and `changes`: blocks, attachments), as its
        author editing it in Slack would (it keeps its ts and gets `edited`); the event is
        a `message_changed`."""
        with self.lock:
            message = channel.by_ts.get(ts)
            if message is None:
                raise KeyError(f"no message {ts} in #{channel.name}")
            before = copy.deepcopy(message)
            event_ts = self.next_ts()
            message["text"] = text
            message.update(changes)
            message["edited"] = {
                "user": message.get("user") or message.get("bot_id") or "",
                "ts": event_ts,
            }
            self._emit(
                channel,
                {
                    "type": "message",
                    "subtype": "message_changed",
                    "hidden": True,
                    "ts": event_ts,
                    "message": copy.deepcopy(message),
                    "previous_message": before,
                },
            )
            return message

    def unfurl(self, channel: Channel, ts: str, attachment: JSON) -> JSON:
        """Slack unfurling a link in a stored message: an attachment is added (no `edited`:
        nobody edited it); the event is a `message_changed`."""
        with self.lock:
            message = channel.by_ts.get(ts)
            if message is None:
                raise KeyError(f"no message {ts} in #{channel.name}")
            before = copy.deepcopy(message)
            atts = list(message.get("attachments") or [])
            atts.append({"id": len(atts) + 1, **attachment})
            message["attachments"] = atts
            self._emit(
                channel,
                {
                    "type": "message",
                    "subtype": "message_changed",
                    "hidden": True,
                    "ts": self.next_ts(),
                    "message": copy.deepcopy(message),
                    "previous_message": before,
                },
            )
            return message

    def _tombstone(self, channel: Channel, message: JSON) -> None:
        """A thread's first message deleted while it has replies: Slack keeps it as a
        tombstone (by Slackbot, "This message was deleted.") so the thread stays; the
        event is a `message_changed` to the tombstone."""
        before = copy.deepcopy(message)
        kept = {k: message[k] for k in ("ts", "thread_ts", "reply_count", "latest_reply")}
        kept.update(reply_users_count=message.get("reply_users_count", 0))
        message.clear()
        message.update(
            {
                "type": "message",
                "subtype": "tombstone",
                "text": "This message was deleted.",
                "user": "USLACKBOT",
                "hidden": True,
                **kept,
            }
        )
        self._emit(
            channel,
            {
                "type": "message",
                "subtype": "message_changed",
                "hidden": True,
                "ts": self.next_ts(),
                "message": copy.deepcopy(message),
                "previous_message": before,
            },
        )

    def delete_message(self, channel: Channel, ts: str) -> None:
        """Remove a stored message (a thread's replies stay, unseen, as in Slack); the event
        is a `message_deleted`. A thread's first message with replies becomes a tombstone
        instead (`_tombstone`)."""
        with self.lock:
            parent = channel.by_ts.get(ts)
            if parent is not None and parent.get("thread_ts") == ts and channel.threads.get(ts):
                self._tombstone(channel, parent)
                return
            message = channel.by_ts.pop(ts, None)
            if message is None:
                raise KeyError(f"no message {ts} in #{channel.name}")
            key = ts_to_micro(ts)
            i = bisect.bisect_left(channel.keys, key)
            while i < len(channel.keys) and channel.keys[i] == key:
                if channel.messages[i] is message:
                    del channel.keys[i], channel.messages[i]
                    break
                i += 1
            parent_ts = message.get("thread_ts")
            if parent_ts and parent_ts != ts and parent_ts in channel.threads:
                replies = channel.threads[parent_ts]
                replies[:] = [r for r in replies if r is not message]
                parent = channel.by_ts.get(parent_ts)
                if parent is not None:
                    parent["reply_count"] = len(replies)
            self._emit(
                channel,
                {
                    "type": "message",
                    "subtype": "message_deleted",
                    "hidden": True,
                    "ts": self.next_ts(),
                    "deleted_ts": ts,
                    "previous_message": copy.deepcopy(message),
                },
            )

    def _emit(self, channel: Channel, event: JSON) -> None:
        """Hand `event` (a message, or a message_changed / message_deleted) to the
        listeners as Slack's `message` event for `channel`."""
        if not self.listeners:
            return
        event["channel"] = channel.id
        event.setdefault("event_ts", event["ts"])
        event["channel_type"] = "group" if channel.is_private else "channel"
        for listener in list(self.listeners):
            try:
                listener(channel, event)
            except Exception:  # a broken listener must not lose the message itself
                log.exception("sandbox: a message listener failed")

    # -- Jira ----------------------------------------------------------------------------
    def _seed_jira(self) -> None:
        from cockpit.sandbox.jira_site import JiraSite

        self.jira_site = JiraSite()  # fields, screens, the search index (jira_site.py)
        self.jira_users: dict[str, JSON] = {}
        self.projects: dict[str, JiraProject] = {
            "INCIDENT": JiraProject(
                "10000", "INCIDENT", "Incidents", INCIDENT_WORKFLOW, ("Task", "Incident", "Bug")
            ),
            "BUG": JiraProject(
                "10001", "BUG", "Bug backlog", SOFTWARE_WORKFLOW, ("Bug", "Task", "Story")
            ),
        }
        self.issues: dict[str, JiraIssue] = {}
        for email in (
            "alice@drill-range.example",
            "benji@drill-range.example",
            "priya@drill-range.example",
        ):
            self.jira_user(email)

    def jira_user(self, email: str) -> JSON:
        """The Jira user for `email`, created on first sight (any credentials are accepted)."""
        with self.lock:
            account_id = jira_account_id(email)
            user = self.jira_users.get(account_id)
            if user is None:
                user = {
                    "accountId": account_id,
                    "emailAddress": email.strip(),
                    "displayName": jira_display_name(email),
                    "accountType": "atlassian",
                    "active": True,
                    "timeZone": "Europe/Berlin",
                    "locale": "en_US",
                }
                self.jira_users[account_id] = user
            return user

    def new_issue(
        self,
        project: JiraProject,
        fields: JSON,
        reporter: str,
        *,
        assignee: str | None = None,
        status: str | None = None,
        store: bool = True,
    ) -> JiraIssue:
        """A new issue in `project` (its next key) with `fields` as JiraIssue keeps them,
        stored unless `store` is False; `status` (a status of the project's workflow)
        defaults to the initial one."""
        with self.lock:
            if status is not None:
                project.workflow.status(status)  # KeyError: not in this workflow
            now = self.now()
            number = project.next_number
            project.next_number += 1
            issue = JiraIssue(
                id=str(self.next_id("jira-issue", 10000)),
                key=f"{project.key}-{number}",
                project=project.key,
                fields=fields,
                status=status or project.workflow.initial,
                reporter=reporter,
                assignee=assignee,
                created=now,
                updated=now,
            )
            if project.workflow.status(issue.status).category == "done":
                issue.resolution = "Done"
                issue.resolutiondate = now
            if store:
                self.issues[issue.key] = issue
            return issue

    def add_issue(
        self,
        project: str,
        summary: str,
        *,
        issuetype: str = "Task",
        labels: Iterable[str] = (),
        status: str | None = None,
        reporter: str = "alice@drill-range.example",
        priority: str = "Medium",
    ) -> JiraIssue:
        """An issue already on the site (for scenarios and tests), as if `reporter` (an
        email) had created it."""
        with self.lock:
            account = self.jira_user(reporter)["accountId"]
            fields: JSON = {
                "summary": summary,
                "description": None,
                "issuetype": issuetype,
                "labels": list(labels),
                "priority": priority,
            }
            return self.new_issue(self.projects[project], fields, account, status=status)

    def issue(self, id_or_key: str) -> JiraIssue | None:
        issue = self.issues.get(id_or_key.upper())
        if issue is not None:
            return issue
        for i in self.issues.values():
            if i.id == id_or_key:
                return i
        return None

    # -- Statuspage ----------------------------------------------------------------------
    def _seed_statuspage(self) -> None:
        created = self.started_at - 300 * 86400
        self.page: JSON = {
            "id": PAGE_ID,
            "created_at": iso_z(created),
            "updated_at": iso_z(created),
            "name": "Drill Range",
            "page_description": "Status of the Drill Range services",
            "headline": "",
            "branding": "basic",
            "subdomain": "drill-range",
            "domain": "status.drill-range.example",
            "url": "https://drill-range.example",
            "support_url": "https://drill-range.example/support",
            "hidden_from_search": True,
            "allow_page_subscribers": True,
            "allow_incident_subscribers": True,
            "allow_email_subscribers": True,
            "allow_sms_subscribers": False,
            "allow_rss_atom_feeds": True,
            "allow_webhook_subscribers": True,
            "notifications_from_email": "noreply@drill-range.example",
            "notifications_email_footer": "",
            "activity_score": 0.0,
            "twitter_username": "",
            "viewers_must_be_team_members": False,
            "ip_restrictions": "",
            "city": "Berlin",
            "state": "",
            "country": "Germany",
            "time_zone": "UTC",
            "css_body_background_color": "#ffffff",
            "css_font_color": "#333333",
            "css_light_font_color": "#757575",
            "css_greens": "#2fcc66",
            "css_yellows": "#f1c40f",
            "css_oranges": "#e67e22",
            "css_blues": "#3498db",
            "css_reds": "#e74c3c",
            "css_border_color": "#ecf0f1",
            "css_graph_color": "#3498db",
            "css_link_color": "#3498db",
            "css_no_data": "#b3bac5",
        }
        self.components: dict[str, JSON] = {}
        for pos, (cid, name, desc) in enumerate(
            (
                ("sbxcmpwebsit", "Website", "The public website and the online shop"),
                ("sbxcmpapi001", "API", "The public API used by apps and partners"),
                ("sbxcmppaymnt", "Payments", "Card payments and checkout"),
                ("sbxcmpsearch", "Search", "Search across artworks and partners"),
            ),
            1,
        ):
            self.components[cid] = {
                "id": cid,
                "page_id": PAGE_ID,
                "group_id": None,
                "created_at": iso_z(created),
                "updated_at": iso_z(created),
                "group": False,
                "name": name,
                "description": desc,
                "position": pos,
                "status": "operational",
                "showcase": True,
                "only_show_if_degraded": False,
                "automation_email": f"component+{cid}@notifications.statuspage.io",
                "start_date": datetime.fromtimestamp(created, UTC).date().isoformat(),
            }
        self.sp_incidents: dict[str, JSON] = {}

    # -- snapshot -----------------------------------------------------------------------
    def snapshot(self) -> JSON:
        """A deep, JSON-ready copy of everything (see the package docstring for the shape)."""
        with self.lock:
            return copy.deepcopy(self._snapshot())

    def _snapshot(self) -> JSON:
        channels: JSON = {}
        for ch in self.channels.values():
            messages = []
            for m in ch.messages:
                entry = dict(m)
                if m.get("subtype") != "thread_broadcast":
                    entry["replies"] = list(ch.threads.get(m["ts"], []))
                messages.append(entry)
            channels[ch.name] = {
                "id": ch.id,
                "name": ch.name,
                "is_private": ch.is_private,
                "is_archived": ch.is_archived,
                "created": ch.created,
                "creator": ch.creator,
                "members": list(ch.members),
                "bot_is_member": BOT_USER_ID in ch.members,
                "topic": ch.topic["value"],
                "purpose": ch.purpose["value"],
                "messages": messages,
                "message_count": len(messages),
                "orphan_replies": [
                    r for t, rs in ch.threads.items() if t not in ch.by_ts for r in rs
                ],
            }
        issues: JSON = {}
        for issue in self.issues.values():
            issues[issue.key] = {
                "id": issue.id,
                "key": issue.key,
                "project": issue.project,
                "summary": issue.fields.get("summary"),
                "description": issue.fields.get("description"),
                "issuetype": issue.fields.get("issuetype"),
                "priority": issue.fields.get("priority"),
                "labels": list(issue.fields.get("labels", [])),
                "status": issue.status,
                "resolution": issue.resolution,
                "reporter": issue.reporter,
                "assignee": issue.assignee,
                "created": iso_jira(issue.created),
                "updated": iso_jira(issue.updated),
                "fields": {k: v for k, v in issue.fields.items() if k.startswith("customfield_")},
                "comments": [
                    {
                        "id": c["id"],
                        "author": c["author"],
                        "body": c["body"],
                        "created": c["created"],
                        "properties": dict(c.get("properties", {})),
                    }
                    for c in issue.comments
                ],
                "remote_links": list(issue.remote_links),
                "links": list(issue.links),
                "properties": dict(issue.properties),
                "history": list(issue.history),
            }
        return {
            "started_at": iso_z(self.started_at),
            "base_url": self.base_url,
            "scenario": dict(self.scenario),
            "slack": {
                "team": {"id": TEAM_ID, "name": TEAM_NAME, "domain": TEAM_DOMAIN},
                "bot": {"user_id": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID},
                "users": [
                    {
                        "id": u["id"],
                        "name": u["name"],
                        "real_name": u["real_name"],
                        "is_bot": u["is_bot"],
                    }
                    for u in self.slack_users.values()
                ],
                "channels": channels,
            },
            "jira": {
                "projects": [
                    {"id": p.id, "key": p.key, "name": p.name, "workflow": p.workflow.name}
                    for p in self.projects.values()
                ],
                "users": list(self.jira_users.values()),
                "issues": issues,
                "site": self.jira_site.describe(),
            },
            "statuspage": {
                "page_id": PAGE_ID,
                "components": {c["name"]: c["status"] for c in self.components.values()},
                "component_ids": {c["name"]: c["id"] for c in self.components.values()},
                "incidents": list(self.sp_incidents.values()),
            },
            "faults_injected": list(self.faults_injected),
            "requests": dict(self.requests),
            "socket": self.socket_stats() if self.socket_stats is not None else None,
        }

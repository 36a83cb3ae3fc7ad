"""Scripted drills: TOML files of timed Slack messages, played into the sandbox.

A scenario is loaded by name (a file shipped in `cockpit/sandbox/scenarios/`) or by path.
The format (every key but `events[].at`, `events[].channel` and one of `user`/`bot` optional):

    name = "outage"
    description = "Card payments fail; alerts flap; a partner files a non-incident."

    [[people]]                 # extra people besides the built-in cast
    name = "sam"               # Slack handle; `user = "sam"` in events
    real_name = "Sam Lee"
    title = "Payments engineer"

    [[channels]]               # extra channels besides #general, #incidents, #alerts
    name = "payments-team"
    purpose = "The payments team"
    bot_member = false         # is the cockpit bot in it from the start?

    [[events]]
    at = 5                     # seconds after the start; negative = history already there
    channel = "incidents"
    user = "priya"             # a person … (or: bot = "datadog" | "pingdom" | "sentry")
    text = "Checkout is failing for a lot of buyers — card payments error out"
    id = "report"              # name it, so later events can reply in its thread
    thread = "report"          # post as a reply in the thread of an earlier event
    reply_broadcast = false    # a thread reply also sent to the channel
    repeat = 1                 # this many copies; `{n}` in any string becomes 1..repeat
    every = 0.0                # seconds between copies (0 = all at once: a burst)
    attachments = [{ color = "#d00000", title = "…", text = "…", fields = [] }]
    blocks = []                # Block Kit blocks, checked as Slack checks them

    lenient = false            # true: classroom rate limits (else Slack's and Statuspage's)

    [[tokens]]                 # credentials the drill range takes besides its own (tokens.py)
    token = "xoxb-team-bot"    # a Slack token (xoxb- bot, xoxp- person, xapp- app-level)
    scopes = ["chat:write"]    # a bot token's scopes (default: every scope cockpit uses)
    revoked = false            # answered token_revoked (Statuspage: 401)
    service = "slack"          # or "statuspage" (an API key)

    [jira]                     # the Jira site's setup (cockpit/sandbox/jira_site.py)
    search_lag = 3             # seconds before a write shows in search (0: at once)
    [jira.projects.INCIDENT]
    required = ["priority", "customfield_10042"]   # fields the create screen requires
    screens = { RESOLVED = ["resolution"] }        # what each transition's screen asks

    [[events]]                 # Slack changing an earlier message (no user, bot or text):
    at = 12
    channel = "incidents"
    unfurl = "report"          # its link's preview, one attachment (not an edit); or
    delete = "report"          # deleted (a thread's first message: a tombstone)

    [workspace]                # a large workspace, generated at the start
    channels = 5000            # team-0001…: public channels the app is not in
    people = 20000             # people in #general, #incidents and #alerts

In text, `{@name}` becomes a mention of that person (`<@U…>`), `{#channel}` a channel
link (`<#C…|channel>`), `{!handle}` a user group's mention (`<!subteam^S…>`) and
`{date+N}` (or `-N`) a date N seconds from the start as readers see it in their own zone
(`<!date^…^{date_short_pretty} at {time}|…>`). `--speed X` divides every offset by X. The
built-in cast: people alice, benji, priya, marco, june, trainer; bots datadog, pingdom,
sentry and uptime (whose messages carry no name: only bots.info names it); user groups
oncall and payments-team.
"""

from __future__ import annotations

import heapq
import re
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from cockpit.sandbox.blockkit import BlockKitError, check_blocks
from cockpit.sandbox.jira_site import parse_jira_table
from cockpit.sandbox.state import BOT_USER_ID, JSON, Channel, SandboxState, generated_handle
from cockpit.sandbox.tokens import Tokens

TOP_KEYS = {
    "name",
    "description",
    "people",
    "channels",
    "events",
    "lenient",
    "tokens",
    "jira",
    "workspace",
}
TOKEN_KEYS = frozenset({"token", "scopes", "revoked", "service"})
EVENT_KEYS = frozenset(
    {
        "at",
        "channel",
        "user",
        "bot",
        "text",
        "id",
        "thread",
        "reply_broadcast",
        "repeat",
        "every",
        "attachments",
        "blocks",
        "unfurl",
        "delete",
    }
)
MAX_GENERATED_CHANNELS = 20_000  # [workspace] channels
MAX_GENERATED_PEOPLE = 100_000  # [workspace] people
# What one scenario may expand to (checked by `parse_scenario`, where `repeat` is read):
# the shipped storm is 10,000 messages in one channel.
MAX_REPEAT = 10_000  # copies of one event
MAX_CHANNEL_MESSAGES = 10_000  # messages (events × repeat) in one channel
MAX_EVENTS = 20_000  # messages (events × repeat) in all
MAX_EXPANDED_BYTES = 32 * 1024 * 1024  # text, attachments and blocks, × repeat
MESSAGE_OVERHEAD = 256  # bytes counted for each message besides its content


class ScenarioError(ValueError):
    """A scenario file that cannot be played; names the file and, where known, the line."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Person:
    name: str
    real_name: str
    title: str = ""


@dataclass(frozen=True)
class ExtraChannel:
    name: str
    purpose: str = ""
    topic: str = ""
    bot_member: bool = False


@dataclass(frozen=True)
class ScenarioEvent:
    at: float
    channel: str
    text: str = ""
    user: str | None = None
    bot: str | None = None
    id: str | None = None
    thread: str | None = None
    reply_broadcast: bool = False
    repeat: int = 1
    every: float = 0.0
    attachments: tuple[JSON, ...] = ()
    blocks: tuple[JSON, ...] = ()
    line: int | None = None
    unfurl: str | None = None  # the id of an earlier event whose link Slack unfurls
    delete: str | None = None  # the id of an earlier event deleted (a tombstone if replied)


@dataclass(frozen=True)
class ScenarioToken:
    token: str
    service: str = "slack"  # "slack" | "statuspage"
    scopes: tuple[str, ...] | None = None  # a Slack bot token's; None: every scope
    revoked: bool = False


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str = ""
    events: tuple[ScenarioEvent, ...] = ()
    people: tuple[Person, ...] = ()
    channels: tuple[ExtraChannel, ...] = ()
    path: str = ""
    lenient: bool = False  # classroom rate limits
    tokens: tuple[ScenarioToken, ...] = ()
    jira: JSON = field(default_factory=dict)  # the Jira site's setup (jira_site.py)
    workspace: tuple[int, int] = (0, 0)  # channels and people generated (a large workspace)

    def add_tokens(self, book: Tokens) -> None:
        """Make the scenario's credentials known to the drill range."""
        for t in self.tokens:
            if t.service == "statuspage":
                book.add_statuspage(t.token, revoked=t.revoked)
            else:
                book.add_slack(t.token, scopes=t.scopes, revoked=t.revoked)

    @property
    def message_count(self) -> int:
        return sum(e.repeat for e in self.events)


# -- loading -----------------------------------------------------------------------------
def _scenario_dir() -> Any:
    return resources.files("cockpit.sandbox").joinpath("scenarios")


def available_scenarios() -> list[str]:
    """The names of the scenarios shipped with cockpit."""
    return sorted(p.name[:-5] for p in _scenario_dir().iterdir() if p.name.endswith(".toml"))


def load_scenario(ref: str | Path, state: SandboxState | None = None) -> Scenario:
    """A shipped scenario by name ("outage") or a TOML file by path."""
    text_ref = str(ref)
    looks_like_path = isinstance(ref, Path) or "/" in text_ref or text_ref.endswith(".toml")
    if not looks_like_path:
        resource = _scenario_dir().joinpath(f"{text_ref}.toml")
        if not resource.is_file():
            known = ", ".join(available_scenarios())
            raise ScenarioError(
                text_ref,
                None,
                f"no such scenario (shipped: {known}; or give the path of a .toml file)",
            )
        return parse_scenario(
            resource.read_text(encoding="utf-8"),
            f"{text_ref}.toml",
            state=state,
            default_name=text_ref,
        )
    from cockpit.safefile import SMALL_LIMIT, UnsafeFile, depth_problem, read_file

    path = Path(text_ref).expanduser()
    try:  # a regular file of at most SMALL_LIMIT bytes: never /dev/zero, a FIFO, a directory
        raw, _st = read_file(path, limit=SMALL_LIMIT)
    except UnsafeFile as exc:
        raise ScenarioError(str(path), None, f"cannot read: it {exc.problem}") from None
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(str(path), None, "not UTF-8 text") from None
    try:
        return parse_scenario(source, str(path), state=state, default_name=path.stem)
    except RecursionError:
        raise ScenarioError(str(path), None, f"the TOML {depth_problem()}") from None


class _Lines:
    """Line numbers for tables and keys, which tomllib does not report."""

    def __init__(self, source: str) -> None:
        self.lines = source.splitlines()
        self.headers: dict[str, list[int]] = {}
        for i, line in enumerate(self.lines, 1):
            m = re.match(r"^\s*\[\[\s*([A-Za-z_]+)\s*\]\]", line)
            if m:
                self.headers.setdefault(m.group(1), []).append(i)

    def of(self, table: str, index: int, key: str | None = None) -> int | None:
        starts = self.headers.get(table, [])
        if index >= len(starts):
            return None
        start = starts[index]
        if key is None:
            return start
        following = [n for lines in self.headers.values() for n in lines if n > start]
        end = min(following, default=len(self.lines) + 1)
        for n in range(start + 1, end):
            if re.match(rf"^\s*{re.escape(key)}\s*=", self.lines[n - 1]):
                return n
        return start


def parse_scenario(
    source: str, path: str, *, state: SandboxState | None = None, default_name: str = "scenario"
) -> Scenario:
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = int(m.group(1)) if m else None
        if line is None and "end of document" in str(exc):
            line = len(source.splitlines()) + (1 if source.endswith("\n") else 0)
        raise ScenarioError(path, line, f"not valid TOML: {exc}") from exc
    lines = _Lines(source)
    cast = state or SandboxState()

    def fail(
        message: str, table: str | None = None, index: int = 0, key: str | None = None
    ) -> ScenarioError:
        line = lines.of(table, index, key) if table else None
        return ScenarioError(path, line, message)

    unknown_top = set(data) - TOP_KEYS
    if unknown_top:
        raise fail(
            f"unknown key(s) {', '.join(sorted(unknown_top))} (expected "
            f"{', '.join(sorted(TOP_KEYS))})"
        )
    for key in ("people", "channels", "events", "tokens"):
        if key in data and not (
            isinstance(data[key], list) and all(isinstance(x, dict) for x in data[key])
        ):
            raise fail(f"'{key}' must be an array of tables ([[{key}]])")

    workspace = _parse_workspace(data.get("workspace", {}), fail)
    people: list[Person] = []
    names = {u["name"] for u in cast.slack_users.values()}
    names.update(generated_handle(i) for i in range(1, workspace[1] + 1))
    for i, p in enumerate(data.get("people", [])):
        extra = set(p) - {"name", "real_name", "title"}
        if extra:
            raise fail(
                f"person {i + 1}: unknown key(s) {', '.join(sorted(extra))}",
                "people",
                i,
                sorted(extra)[0],
            )
        if not isinstance(p.get("name"), str) or not re.fullmatch(r"[a-z0-9._-]+", p["name"]):
            raise fail(
                f"person {i + 1}: 'name' must be a Slack handle (lowercase letters, digits, . _ -)",
                "people",
                i,
                "name",
            )
        real = p.get("real_name", p["name"])
        if not isinstance(real, str) or not isinstance(p.get("title", ""), str):
            raise fail(f"person {i + 1}: 'real_name' and 'title' must be strings", "people", i)
        people.append(Person(p["name"], real, p.get("title", "")))
        names.add(p["name"])

    channels: list[ExtraChannel] = []
    channel_names = {c.name for c in cast.channels.values()}
    for i, c in enumerate(data.get("channels", [])):
        extra = set(c) - {"name", "purpose", "topic", "bot_member"}
        if extra:
            raise fail(
                f"channel {i + 1}: unknown key(s) {', '.join(sorted(extra))}",
                "channels",
                i,
                sorted(extra)[0],
            )
        name = c.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_-]{1,80}", name):
            raise fail(
                f"channel {i + 1}: 'name' must follow Slack's channel naming rules "
                "(lowercase letters, digits, - and _, at most 80)",
                "channels",
                i,
                "name",
            )
        if name in channel_names:
            raise fail(f"channel {i + 1}: #{name} already exists", "channels", i, "name")
        if not isinstance(c.get("bot_member", False), bool):
            raise fail(
                f"channel {i + 1}: 'bot_member' must be true or false", "channels", i, "bot_member"
            )
        channels.append(
            ExtraChannel(
                name, str(c.get("purpose", "")), str(c.get("topic", "")), c.get("bot_member", False)
            )
        )
        channel_names.add(name)

    events: list[ScenarioEvent] = []
    ids: dict[str, tuple[float, str]] = {}
    for i, e in enumerate(data.get("events", [])):

        def bad(message: str, key: str | None = None, i: int = i) -> ScenarioError:
            return fail(f"event {i + 1}: {message}", "events", i, key)

        extra = set(e) - EVENT_KEYS
        if extra:
            raise bad(
                f"unknown key(s) {', '.join(sorted(extra))} (expected "
                f"{', '.join(sorted(EVENT_KEYS))})",
                sorted(extra)[0],
            )
        at = e.get("at")
        if isinstance(at, bool) or not isinstance(at, int | float):
            raise bad("'at' (seconds after the start) is required and must be a number", "at")
        channel = e.get("channel")
        if not isinstance(channel, str) or channel.lstrip("#") not in channel_names:
            raise bad(
                f"'channel' must name a channel (known: {', '.join(sorted(channel_names))})",
                "channel",
            )
        channel = channel.lstrip("#")
        if "unfurl" in e or "delete" in e:
            events.append(_change_event(e, float(at), channel, ids, bad, lines.of("events", i)))
            continue
        user, bot = e.get("user"), e.get("bot")
        if (user is None) == (bot is None):
            raise bad(
                "give exactly one of 'user' (a person) or 'bot' (an integration)",
                "user" if user is not None else "bot",
            )
        if user is not None and user not in names:
            raise bad(f"unknown user '{user}' (known: {_some(names)})", "user")
        if bot is not None and bot not in cast.bots:
            raise bad(f"unknown bot '{bot}' (known: {', '.join(sorted(cast.bots))})", "bot")
        text = e.get("text", "")
        if not isinstance(text, str):
            raise bad("'text' must be a string", "text")
        attachments = e.get("attachments", [])
        blocks = e.get("blocks", [])
        for key, value in (("attachments", attachments), ("blocks", blocks)):
            if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
                raise bad(f"'{key}' must be an array of tables", key)
        if not text and not attachments and not blocks:
            raise bad("a message needs 'text', 'attachments' or 'blocks'", "text")
        try:
            check_blocks(blocks)
        except BlockKitError as exc:
            reasons = "; ".join(exc.errors)
            raise bad(f"Slack would refuse these blocks: {reasons}", "blocks") from None
        repeat = e.get("repeat", 1)
        if (
            isinstance(repeat, bool)
            or not isinstance(repeat, int)
            or not (1 <= repeat <= MAX_REPEAT)
        ):
            raise bad(f"'repeat' must be a whole number from 1 to {MAX_REPEAT}", "repeat")
        every = e.get("every", 0.0)
        if isinstance(every, bool) or not isinstance(every, int | float) or every < 0:
            raise bad("'every' must be a number of seconds, 0 or more", "every")
        thread = e.get("thread")
        if thread is not None:
            if not isinstance(thread, str) or thread not in ids:
                raise bad(
                    f"'thread' must name the id of an earlier event (known: "
                    f"{', '.join(sorted(ids)) or 'none'})",
                    "thread",
                )
            parent_at, parent_channel = ids[thread]
            if parent_channel != channel:
                raise bad(f"thread '{thread}' is in #{parent_channel}, not #{channel}", "thread")
            if parent_at > at:
                raise bad(f"thread '{thread}' starts at {parent_at}s, after this event", "thread")
        event_id = e.get("id")
        if event_id is not None:
            if not isinstance(event_id, str) or event_id in ids:
                raise bad("'id' must be a string not used by another event", "id")
            ids[event_id] = (float(at), channel)
        broadcast = e.get("reply_broadcast", False)
        if not isinstance(broadcast, bool):
            raise bad("'reply_broadcast' must be true or false", "reply_broadcast")
        events.append(
            ScenarioEvent(
                at=float(at),
                channel=channel,
                text=text,
                user=user,
                bot=bot,
                id=event_id,
                thread=thread,
                reply_broadcast=broadcast,
                repeat=repeat,
                every=float(every),
                attachments=tuple(attachments),
                blocks=tuple(blocks),
                line=lines.of("events", i),
            )
        )

    _check_size(events, fail)

    name = data.get("name", default_name)
    description = data.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise fail("'name' and 'description' must be strings")
    lenient = data.get("lenient", False)
    if not isinstance(lenient, bool):
        raise fail("'lenient' must be true or false")
    tokens = _parse_tokens(data.get("tokens", []), fail)
    return Scenario(
        name,
        description,
        tuple(events),
        tuple(people),
        tuple(channels),
        path,
        lenient=lenient,
        tokens=tokens,
        jira=parse_jira_table(data["jira"], fail) if "jira" in data else {},
        workspace=workspace,
    )


def _some(names: set[str], most: int = 12) -> str:
    """Names for an error message: all of a few, the first of many ("and 19,994 more")."""
    shown = sorted(names)
    more = f", and {len(shown) - most:,} more" if len(shown) > most else ""
    return ", ".join(shown[:most]) + more


def _change_event(
    e: dict[str, Any],
    at: float,
    channel: str,
    ids: dict[str, tuple[float, str]],
    bad: Callable[..., ScenarioError],
    line: int | None,
) -> ScenarioEvent:
    """An event that changes an earlier message instead of posting one: `unfurl` (Slack
    adds the link's preview, one attachment; no edit) or `delete` (a thread's first
    message with replies stays as a tombstone)."""
    kinds = [k for k in ("unfurl", "delete") if k in e]
    kind = kinds[0]
    if len(kinds) > 1:
        raise bad("give one of 'unfurl' or 'delete'", kinds[1])
    target = e[kind]
    if not isinstance(target, str) or target not in ids:
        known = ", ".join(sorted(ids)) or "none"
        raise bad(f"'{kind}' must name the id of an earlier event (known: {known})", kind)
    if ids[target][1] != channel or ids[target][0] > at:
        raise bad(f"'{kind}' names an event of another channel, or a later one", kind)
    for key in ("user", "bot", "text", "blocks", "thread", "repeat", "every", "id"):
        if key in e:
            raise bad(f"an '{kind}' event has no '{key}' (Slack itself changes the message)", key)
    attachments = e.get("attachments", [])
    if kind == "unfurl" and not (
        isinstance(attachments, list) and len(attachments) == 1 and isinstance(attachments[0], dict)
    ):
        raise bad("an unfurl adds one attachment (the link's preview)", "attachments")
    if kind == "delete" and attachments:
        raise bad("a 'delete' event has no 'attachments'", "attachments")
    return ScenarioEvent(
        at=at,
        channel=channel,
        attachments=tuple(attachments),
        line=line,
        unfurl=target if kind == "unfurl" else None,
        delete=target if kind == "delete" else None,
    )


def _parse_workspace(value: Any, fail: Callable[..., ScenarioError]) -> tuple[int, int]:
    """[workspace] channels = N, people = N: a large workspace, generated at the start."""
    if not isinstance(value, dict) or set(value) - {"channels", "people"}:
        raise fail("'workspace' must be a table of 'channels' and 'people' (how many to make)")
    counts = []
    for key, most in (("channels", MAX_GENERATED_CHANNELS), ("people", MAX_GENERATED_PEOPLE)):
        n = value.get(key, 0)
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= most:
            raise fail(f"workspace '{key}' must be a whole number from 0 to {most:,}")
        counts.append(n)
    return counts[0], counts[1]


def _parse_tokens(
    entries: list[JSON], fail: Callable[..., ScenarioError]
) -> tuple[ScenarioToken, ...]:
    tokens: list[ScenarioToken] = []
    for i, t in enumerate(entries):

        def bad(message: str, key: str | None = None, i: int = i) -> ScenarioError:
            return fail(f"token {i + 1}: {message}", "tokens", i, key)

        extra = set(t) - TOKEN_KEYS
        if extra:
            raise bad(
                f"unknown key(s) {', '.join(sorted(extra))} (expected "
                f"{', '.join(sorted(TOKEN_KEYS))})",
                sorted(extra)[0],
            )
        token = t.get("token")
        if not isinstance(token, str) or not token.strip() or token != token.strip():
            raise bad("'token' must be a non-empty string without spaces around it", "token")
        service = t.get("service", "slack")
        if service not in ("slack", "statuspage"):
            raise bad('\'service\' must be "slack" or "statuspage"', "service")
        scopes = t.get("scopes")
        if scopes is not None and (
            service != "slack"
            or token.startswith(("xoxp-", "xapp-"))
            or not isinstance(scopes, list)
            or not all(isinstance(x, str) and x.strip() for x in scopes)
        ):
            raise bad("'scopes' is a list of scope names, for a Slack bot token", "scopes")
        if service == "slack" and not token.startswith(("xoxb-", "xoxp-", "xapp-")):
            raise bad("a Slack token starts with xoxb-, xoxp- or xapp-", "token")
        revoked = t.get("revoked", False)
        if not isinstance(revoked, bool):
            raise bad("'revoked' must be true or false", "revoked")
        tokens.append(
            ScenarioToken(token, service, tuple(scopes) if scopes is not None else None, revoked)
        )
    return tuple(tokens)


def _check_size(events: list[ScenarioEvent], fail: Callable[..., ScenarioError]) -> None:
    """Refuse a scenario that expands (events × repeat) past the limits above."""
    per_channel: dict[str, int] = {}
    total = size = 0
    for i, e in enumerate(events):
        total += e.repeat
        per_channel[e.channel] = per_channel.get(e.channel, 0) + e.repeat
        content = len(e.text.encode()) + len(repr(e.attachments)) + len(repr(e.blocks))
        size += e.repeat * (content + MESSAGE_OVERHEAD)
        if per_channel[e.channel] > MAX_CHANNEL_MESSAGES:
            raise fail(
                f"event {i + 1}: #{e.channel} would get {per_channel[e.channel]:,} messages "
                f"(events × repeat); the limit is {MAX_CHANNEL_MESSAGES:,} per channel",
                "events",
                i,
                "repeat",
            )
        if total > MAX_EVENTS:
            raise fail(
                f"event {i + 1}: the scenario would post {total:,} messages (events × "
                f"repeat); the limit is {MAX_EVENTS:,}",
                "events",
                i,
                "repeat",
            )
        if size > MAX_EXPANDED_BYTES:
            raise fail(
                f"event {i + 1}: the scenario would expand to over "
                f"{MAX_EXPANDED_BYTES // (1024 * 1024)} MB of messages (text, attachments "
                "and blocks × repeat)",
                "events",
                i,
                "repeat",
            )


# -- playing -----------------------------------------------------------------------------
def _fill(value: Any, n: int) -> Any:
    if isinstance(value, str):
        return value.replace("{n}", str(n))
    if isinstance(value, list):
        return [_fill(v, n) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, n) for k, v in value.items()}
    return value


@dataclass(order=True)
class _Due:
    due: float
    order: int
    event: ScenarioEvent = field(compare=False)
    copy: int = field(compare=False, default=1)  # first copy; a burst posts all from here


class ScenarioRunner:
    """Plays a scenario into a state on a daemon thread; `stop()` ends it early."""

    def __init__(
        self,
        state: SandboxState,
        scenario: Scenario,
        *,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be greater than 0")
        self.state = state
        self.scenario = scenario
        self.speed = speed
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._posted: dict[str, tuple[Channel, str]] = {}
        self.finished = threading.Event()

    def start(self) -> None:
        with self.state.lock:
            self._setup()
        self._thread = threading.Thread(target=self._run, name="sandbox-scenario", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every event has been posted."""
        return self.finished.wait(timeout)

    def _setup(self) -> None:
        state = self.state
        channels, people_made = self.scenario.workspace
        if channels or people_made:
            state.populate(channels=channels, people=people_made)
        for p in self.scenario.people:
            state.add_person(p.name, p.real_name, p.title)
        people = [u["id"] for u in state.slack_users.values() if not u["is_bot"]]
        for c in self.scenario.channels:
            ch = state.create_channel(c.name, people[0])
            ch.members = [*people, *([BOT_USER_ID] if c.bot_member else [])]
            ch.purpose = {"value": c.purpose, "creator": people[0], "last_set": ch.created}
            ch.topic = {"value": c.topic, "creator": people[0], "last_set": ch.created}
        state.scenario.update(
            {
                "name": self.scenario.name,
                "description": self.scenario.description,
                "path": self.scenario.path,
                "speed": self.speed,
                "events_total": self.scenario.message_count,
                "events_fired": 0,
                "started_at": state.now(),
                "finished": False,
            }
        )

    def _queue(self) -> list[_Due]:
        queue: list[_Due] = []
        order = 0
        for e in sorted(self.scenario.events, key=lambda e: e.at):  # stable: file order
            if e.every == 0 or e.repeat == 1:
                queue.append(_Due(e.at / self.speed, order, e))
                order += 1
                continue
            for n in range(1, e.repeat + 1):
                queue.append(_Due((e.at + (n - 1) * e.every) / self.speed, order, e, n))
                order += 1
        heapq.heapify(queue)
        return queue

    def _run(self) -> None:
        start_mono = self._clock()
        start_wall = self._start_wall = self.state.now()
        queue = self._queue()
        while queue and not self._stop.is_set():
            item = queue[0]
            delay = start_mono + item.due - self._clock()
            if delay > 0 and item.event.at >= 0:
                self._stop.wait(min(delay, 0.5))
                continue
            heapq.heappop(queue)
            e = item.event
            copies = range(1, e.repeat + 1) if (e.every == 0 and e.repeat > 1) else [item.copy]
            history_at = start_wall + e.at if e.at < 0 else None
            with self.state.lock:
                for n in copies:
                    self._post(e, n, history_at)
                self.state.scenario["events_fired"] += len(copies)
        with self.state.lock:
            self.state.scenario["finished"] = not queue
        if not queue:
            self.finished.set()

    def _post(self, e: ScenarioEvent, n: int, history_at: float | None) -> None:
        state = self.state
        ch = state.channel_by_name(e.channel)
        assert ch is not None
        target = e.unfurl or e.delete
        if target is not None:  # Slack changing an earlier message
            where, at_ts = self._posted[target]
            if e.unfurl is not None:
                state.unfurl(where, at_ts, dict(e.attachments[0]))
            elif at_ts in where.by_ts:
                state.delete_message(where, at_ts)
            return
        text = self._mentions(_fill(e.text, n))
        attachments = [_fill(a, n) for a in e.attachments]
        if e.bot is not None:
            message = state.bot_message(state.bots[e.bot], text, attachments)
        else:
            user = state.user_by_name(e.user or "")
            assert user is not None
            message = state.person_message(user["id"], text)
            if attachments:
                message["attachments"] = [
                    dict(a, id=a.get("id", i)) for i, a in enumerate(attachments, 1)
                ]
        if e.blocks:
            message["blocks"] = [_fill(b, n) for b in e.blocks]
        thread_ts = None
        if e.thread is not None and e.thread in self._posted:
            thread_ts = self._posted[e.thread][1]
        ts = state.ts_at(history_at, ch) if history_at is not None else None
        stored = state.post(ch, message, thread_ts=thread_ts, broadcast=e.reply_broadcast, ts=ts)
        if e.id is not None and e.id not in self._posted:
            self._posted[e.id] = (ch, stored["ts"])

    def _mentions(self, text: str) -> str:
        def person(m: re.Match[str]) -> str:
            user = self.state.user_by_name(m.group(1))
            return f"<@{user['id']}>" if user else m.group(0)

        def channel(m: re.Match[str]) -> str:
            ch = self.state.channel_by_name(m.group(1))
            return f"<#{ch.id}|{ch.name}>" if ch else m.group(0)

        def group(m: re.Match[str]) -> str:
            found = [g for g in self.state.usergroups.values() if g["handle"] == m.group(1)]
            return f"<!subteam^{found[0]['id']}>" if found else m.group(0)

        def date(m: re.Match[str]) -> str:
            at = int(getattr(self, "_start_wall", self.state.now()) + int(m.group(1)))
            fallback = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")
            return f"<!date^{at}^{{date_short_pretty}} at {{time}}|{fallback}>"

        text = re.sub(r"\{@([a-z0-9._-]+)\}", person, text)
        text = re.sub(r"\{!([a-z0-9._-]+)\}", group, text)
        text = re.sub(r"\{date([+-][0-9]+)\}", date, text)
        return re.sub(r"\{#([a-z0-9_-]+)\}", channel, text)

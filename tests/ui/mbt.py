"""Model-based UI testing: random keystrokes from the live bindings, checked after every step.

`run_seed(tmp, seed, steps)` starts the real app (the services from the one builder, a
system clock) against the drill range in process (`SandboxServer(scenario=None)`, three
messages already in #incidents), presses `steps` random steps drawn with
`random.Random(seed)` and after each one checks:

- **no crash**: the app runs, no exception, no "Something went wrong" toast
  (`CockpitHost.something_went_wrong` is hooked);
- **nothing sent without a confirm**: a new outbox item appears only in a step that
  pressed a confirm key in a dialog (ctrl+s or enter in a `Dialog`; enter or f/m/r in the
  status dialog; enter in a choice dialog), and the drill range receives a request that
  changes something (Slack writes, Jira POST/PUT, Statuspage POST/PATCH; reads do not
  count) only while the outbox has something to send;
- **the screen agrees with the store**: the header's id, status and severity and the
  checklist's progress match `services.service.get(active)` and the store's ticks, once
  the store calls are done (retried for a moment while the remote side reloads).

A step is one key, or a short typed string (its characters pressed one by one). The quit
keys stay in the alphabet: the app's `action_quit` is replaced by one that only counts.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

from cockpit.application.team import is_team_post
from cockpit.commands import COMMANDS
from cockpit.config import load_settings
from cockpit.domain.clock import SystemClock
from cockpit.domain.outbox import OutboxItem
from cockpit.domain.presence import PROPERTY_KEY as PRESENCE_KEY
from cockpit.sandbox import IN_PROCESS_URL, SandboxServer
from cockpit.sandbox.tokens import BOT_TOKEN, STATUSPAGE_KEY
from cockpit.ui.dialogs.base import Dialog, DialogScreen
from cockpit.ui.dialogs.prompts import ChoiceModal
from cockpit.ui.screens.main import CockpitScreen
from cockpit.ui.widgets.header import IncidentSummary, severity_content
from cockpit.ui.widgets.panes import ChecklistPane

from .conftest import SIZE, Harness

# the drill range's own Slack token and Statuspage key (it refuses others, as Slack does)
TOKENS = {"slack": BOT_TOKEN, "jira": "jira-mbt", "statuspage": STATUSPAGE_KEY}
ENV = {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "UTC"}
REPORTS = (
    "Checkout payments failing for EU buyers. Card payments error out.",
    "Search is slow for everyone since the 14:00 deploy",
    "disk full on db-3 [b]again[/b]",
)

NAVIGATION = ("up", "down", "left", "right", "home", "end", "pageup", "pagedown")
STRUCTURE = ("escape", "enter", "tab", "shift+tab", "space", "backspace", "ctrl+s")
TYPED = (
    "a",
    "x",
    "Search is down",
    "rollback started",
    "12",
    "-12m",
    "14:03",
    "[b]",
    "[/b]",
    "   ",
    "grace",
    "db-3 é ☃",
    "\x1b[31mred\x1b[0m\x07\x1b]52;c;aGk=\x07",  # hostile: escape codes, OSC 52, a bell
)

# Slack methods that only read; any other Slack call changes something.
SLACK_READS = ("auth.", "users.", "bots.", "team.", "emoji.")
SLACK_READ_SUFFIXES = (".history", ".replies", ".info", ".list", ".members", ".getPermalink")


def is_change(request: httpx.Request) -> bool:
    """Whether `request` changes something on the drill range (reads do not count)."""
    path = request.url.path
    if path.startswith("/_sandbox/"):
        return False
    if path.startswith("/api/"):  # Slack: the method names it
        name = path[len("/api/") :]
        return not (name.startswith(SLACK_READS) or name.endswith(SLACK_READ_SUFFIXES))
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    if path.endswith(f"/properties/{PRESENCE_KEY}"):
        return False  # presence: the cockpit's line on the ticket, refreshed by itself
    return not path.rstrip("/").endswith(("/search", "/search/jql"))  # Jira's JQL reads


class CountingTransport(httpx.AsyncBaseTransport, httpx.BaseTransport):
    """The drill range's transport, noting every request that changes something."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.changes: list[str] = []
        self.reads = 0

    def _note(self, request: httpx.Request) -> None:
        if is_change(request):
            self.changes.append(f"{request.method} {request.url.path}")
        else:
            self.reads += 1

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._note(request)
        return await self.inner.handle_async_request(request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._note(request)
        return self.inner.handle_request(request)


# -- the key alphabet ---------------------------------------------------------------------------
def _binding_keys(bindings: Any) -> set[str]:
    keys: set[str] = set()
    for b in bindings:
        key = b[0] if isinstance(b, tuple) else b.key
        keys.update(k.strip() for k in key.split(","))
    return keys


def _dialog_classes() -> list[type]:
    # every dialog imported, for its bindings
    import cockpit.ui.dialogs.incident
    import cockpit.ui.dialogs.message
    import cockpit.ui.dialogs.prompts
    import cockpit.ui.dialogs.send
    import cockpit.ui.screens.help
    import cockpit.ui.screens.history
    import cockpit.ui.screens.metrics  # noqa: F401

    seen: list[type] = []
    todo: list[type] = [DialogScreen]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


def live_binding_keys(app: Any) -> list[str]:
    """Every key bound on the running app (app, screen, every widget, after the keymap),
    the registry's, and the dialogs' and screens' own, sorted (the alphabet must not
    depend on the order things mounted, or a seed would not replay)."""
    keys: set[str] = {c.key for c in COMMANDS}
    for node in [app, app.screen, *app.screen.query("*")]:
        live = node._bindings.copy()
        if app._keymap:
            live.apply_keymap(app._keymap)
        keys.update(live.key_to_bindings)
    for cls in _dialog_classes():
        keys |= _binding_keys(getattr(cls, "BINDINGS", []))
    return sorted(keys)


def sequence(seed: int, steps: int, bindings: list[str]) -> list[str]:
    """`steps` steps for `seed`: a key name, or "type:<text>" for a typed string."""
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(steps):
        r = rng.random()
        if r < 0.55:
            out.append(rng.choice(bindings))
        elif r < 0.70:
            out.append(rng.choice(NAVIGATION))
        elif r < 0.85:
            out.append(rng.choice(STRUCTURE))
        else:
            out.append("type:" + rng.choice(TYPED))
    return out


def keys_of(step: str) -> list[str]:
    if step.startswith("type:"):
        return list(step[len("type:") :])
    return [step]


# -- a run ------------------------------------------------------------------------------------
@dataclass
class Finding:
    kind: str  # crash, error-toast, queued-without-confirm, sent-without-outbox, screen-vs-store
    step: int
    detail: str
    known: str = ""  # the known bug it is, if it is one


@dataclass
class Run:
    seed: int
    steps: list[str]
    findings: list[Finding] = field(default_factory=list)
    done: int = 0  # steps pressed
    quits: int = 0
    queued: int = 0
    changes: int = 0
    seconds: float = 0.0
    screens: set[str] = field(default_factory=set)

    @property
    def unknown(self) -> list[Finding]:
        return [f for f in self.findings if not f.known]

    def report(self) -> str:
        lines = [f"seed {self.seed}: {len(self.findings)} finding(s) in {self.done} steps"]
        for f in self.findings[:5]:
            label = f" [known: {f.known}]" if f.known else ""
            lines.append(f"  step {f.step} ({self.steps[f.step]!r}): {f.kind}{label}: {f.detail}")
        last = max(f.step for f in self.findings) if self.findings else self.done - 1
        lines.append(f"  keys up to there: {self.steps[: last + 1]!r}")
        lines.append(
            f"  replay: COCKPIT_MBT_SEED={self.seed} COCKPIT_MBT_STEPS={len(self.steps)} "
            ".venv/bin/python -m pytest tests/ui/test_model_based.py -k replay -s"
        )
        return "\n".join(lines)


def is_confirm(screen: Any, key: str) -> bool:
    """A deliberate confirm: a key that submits a dialog."""
    if isinstance(screen, Dialog):
        return key in ("ctrl+s", "enter")
    if isinstance(screen, ChoiceModal):
        return key == "enter"
    return False


def known_bug(screen: Any, focused: Any, key: str) -> str:
    """The known bug a queued-without-confirm finding is, or "": none is known now (the
    checklist's enter, the status dialog's keys and the palette confirm in ConfirmSend)."""
    return ""


async def press(pilot: Any, key: str) -> None:
    """`pilot.press(key)` without its waits for the CPU to go idle (two 20 ms sleeps at
    least, far longer while the remote thread works): the key event is sent as the
    pilot sends it, then every message the screen and its widgets have queued is
    processed."""
    import unicodedata

    app = pilot.app
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    original_key = REPLACED_KEYS.get(key, key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(original_key))
    except KeyError:
        char = key if len(key) == 1 else None
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)
    await asyncio.sleep(0)
    await pilot._wait_for_screen()


async def calm(pilot: Any) -> None:
    """Until the store calls made so far are done and the messages they posted handled
    (a callback may start another store call: three rounds)."""
    for _ in range(3):
        await pilot.app.store_settled()
        await pilot._wait_for_screen()
        await asyncio.sleep(0)


def post_reports(server: SandboxServer) -> None:
    with httpx.Client(transport=server.transport(), base_url=IN_PROCESS_URL) as c:
        for text in REPORTS:
            c.post(
                "/api/chat.postMessage",
                headers={"Authorization": "Bearer xoxp-priya"},
                json={"channel": "incidents", "text": text},
            ).raise_for_status()


def make_harness(tmp: Path) -> tuple[Harness, SandboxServer, CountingTransport]:
    server = SandboxServer(scenario=None, lenient=True)  # keys at machine speed
    transport = CountingTransport(server.transport())
    post_reports(server)
    tmp.mkdir(parents=True, exist_ok=True)
    config = tmp / "config.toml"
    config.write_text("[slack]\nsocket_mode = false\n" + server.config_snippet().split("\n", 1)[1])
    settings = load_settings(config, ENV)
    h = Harness(
        tmp,
        settings,
        clock=SystemClock(),
        token=TOKENS.get,
        client_options={"transport": transport},
    )
    return h, server, transport


def outbox_ids(h: Harness) -> tuple[set[str], set[str], int]:
    """Every outbox item's id, those of the team's posts among them, and how many items
    are still to send.

    A team post tells the teammates' cockpits what this one did (a tick, a status, the
    raise's ticks once the sender has made the channel): it goes with a change the person
    made, confirmed or not, and only to the incident's own channel, so it needs no
    confirm of its own; it is something to send all the same."""
    ids: set[str] = set()
    team: set[str] = set()
    pending = 0
    for row in h.service.incidents():
        for doc in h.store.docs(row.id, "outbox"):
            key = f"{row.id}:{doc['id']}"
            ids.add(key)
            if is_team_post(OutboxItem.from_dict(doc)):
                team.add(key)
            if doc.get("state") in ("queued", "sending"):
                pending += 1
    return ids, team, pending


def screen_vs_store(app: Any, h: Harness) -> str:
    """ "" when the cockpit screen shows what the store holds, else what differs."""
    screen = next((s for s in app.screen_stack if isinstance(s, CockpitScreen)), None)
    if screen is None:
        return "no cockpit screen in the stack"
    header = screen.query_one(IncidentSummary).summary().plain
    active = screen.active_id
    if active is None:
        if "no active incident" not in header:
            return f"no active incident, but the header says {header!r}"
        return ""
    inc = h.service.get(active)
    want = [f"#{inc.id} ", f" {inc.status.label} ", severity_content(inc.severity).plain]
    missing = [w for w in want if w not in header]
    if missing:
        return f"header {header!r} lacks {missing!r} (store: {inc.status}, {inc.severity})"
    view = h.service.checklist(inc, h.store.ticks(active))
    progress = str(screen.query_one(ChecklistPane).border_subtitle)
    if not progress.endswith(f" {view.done}/{view.total}"):
        return f"checklist shows {progress!r}, the store {view.done}/{view.total}"
    return ""


async def run_seed(
    tmp: Path,
    seed: int,
    steps: int,
    *,
    stop_at_first: bool = True,
    on_step: Callable[[int, str], None] | None = None,
    given: list[str] | None = None,
) -> Run:
    h, server, transport = make_harness(tmp)
    errors: list[str] = []
    app = h.app()
    original = app.something_went_wrong

    def went_wrong(what: str, error: BaseException) -> None:
        errors.append(f"{what}: {type(error).__name__}: {error}")
        original(what, error)

    app.something_went_wrong = went_wrong  # type: ignore[method-assign]
    run = Run(seed, [])
    current: list[int | None] = [None]
    last: list[tuple[str, str]] = [("", "")]  # the screen a key was pressed on, the key

    async def no_quit() -> None:
        run.quits += 1

    real_quit = app.action_quit
    app.action_quit = no_quit  # type: ignore[method-assign]
    started = time.monotonic()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await app.store_settled()
            await pilot.pause()
            run.steps = (
                given if given is not None else sequence(seed, steps, live_binding_keys(app))
            )
            seen, _team, pending = outbox_ids(h)
            for i, step in enumerate(run.steps):
                current[0] = i
                if on_step is not None:
                    on_step(i, step)
                changes_before = len(transport.changes)
                confirm = False
                bug = ""
                for key in keys_of(step):
                    last[0] = (type(app.screen).__name__, key)
                    if is_confirm(app.screen, key):
                        confirm = True
                    bug = bug or known_bug(app.screen, app.focused, key)
                    await press(pilot, key)
                    if not app.is_running:
                        break
                run.screens.add(type(app.screen).__name__)
                await calm(pilot)
                run.done = i + 1
                found: list[Finding] = []
                if not app.is_running or app._exception is not None:
                    found.append(Finding("crash", i, repr(app._exception)))
                if errors:
                    found.append(Finding("error-toast", i, "; ".join(errors)))
                    errors.clear()
                if app.is_running:
                    now_ids, team, now_pending = outbox_ids(h)
                    new = now_ids - seen
                    run.queued += len(new)
                    if new - team and not confirm:
                        found.append(
                            Finding("queued-without-confirm", i, f"{sorted(new - team)}", known=bug)
                        )
                    sent = transport.changes[changes_before:]
                    run.changes += len(sent)
                    if sent and not (pending or new or now_pending):
                        found.append(Finding("sent-without-outbox", i, f"{sent}"))
                    seen, pending = now_ids, now_pending
                    mismatch = screen_vs_store(app, h)
                    deadline = time.monotonic() + 2.0
                    while mismatch and time.monotonic() < deadline:
                        await asyncio.sleep(0.05)
                        await calm(pilot)
                        mismatch = screen_vs_store(app, h)
                    if mismatch:
                        found.append(Finding("screen-vs-store", i, mismatch))
                run.findings.extend(found)
                if not app.is_running or (stop_at_first and any(not f.known for f in found)):
                    break
            if app.is_running:
                await real_quit()
    except Exception as e:  # the app crashed: run_test raises its exception on the way out
        step = max(run.done - 1, 0) if run.done < len(run.steps) else len(run.steps) - 1
        step = current[0] if current[0] is not None else step
        if not any(f.kind == "crash" for f in run.findings):
            run.findings.append(Finding("crash", step, f"{type(e).__name__}: {e}"))
        run.findings[-1].detail += f" ({type(e).__name__}: {e})"
    finally:
        run.seconds = time.monotonic() - started
        await asyncio.sleep(0)
        h.services.close()
        del server
    return run

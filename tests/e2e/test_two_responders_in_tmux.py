"""Two responders, one incident, from the keyboard: `cockpit demo --pair` in tmux.

The first pane runs the drill range (outage scenario, `--faults 0.2`) and Ada's cockpit
(the Commander); `--pair` opens the second pane with Bo's (the Communications Officer):
his own data directory and name, on the same range (`--range URL --as bo`). Then, as the
two people would:

* both raise from the same report: Ada raises it, Bo is offered to join and joins: one
  ticket, one channel, one reply in the thread;
* Ada names the roles, sets the severity and moves it to FIXING while Bo sends the status
  page's first update: both screens show the same status, severity, roles, checklist
  progress and timeline, within the budget;
* Bo's cockpit is killed (SIGKILL) and restarted while Ada moves on (MONITORING, a note):
  it catches up, nothing doubled;
* a status change made in Jira itself (the drill range's Jira API) reaches both;
* at the end both exported records are equal but for the fields each cockpit keeps as its
  own (`LOCAL`).

The steps share one drill (a module fixture) and run in order; a step after a failed one
is skipped.
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from .drill import drill_state, free_port, ours, wait_state
from .tmux import Tmux, cockpit_command

pytestmark = [
    pytest.mark.timeout(900),
    # Issue 18's done-when drill: 2-3 minutes. Under the range's faults a change's way to
    # the other screen is held to 30 s; the move made in Jira to its own read's 200 s.
]

REPORT = "Checkout is failing for a lot of buyers"
# the convergence budget on screen: Socket Mode's 5 s max (the issue's), plus the outbox's
# retries when the drill range refuses one request in five (a refused post waits its
# backoff). The steps wait longer (WAIT) so that the later ones run; each wait is kept in
# the figures and judged against the budget at the end (test_convergence_within_the_budget).
BUDGET_WITH_FAULTS = 30.0
WAIT = 150.0
NOTE = "Bo is on the acquirer bridge"
# What each cockpit keeps as its own, not shared through the ticket and the channel: the
# incident's number in this store and when this cockpit recorded it; an entry's id, when
# this cockpit wrote it down, and its store's incident number. The rest of the exported
# record (the incident, every timeline entry at its own time by its own author, every
# tick, the progress) is the same in both.
LOCAL_INCIDENT = {"id", "created_at"}
LOCAL_ENTRY = {"id", "incident_id", "recorded_at"}
# and the remote steps each cockpit took itself (its outbox's records: "ticket INCIDENT-1
# created", "Reply in the original thread: posted", "joined INCIDENT-1 raised by ada")
LOCAL_ENTRY_KINDS = {"action", "sent"}


def tracker_watch_in_main() -> bool:
    """The Jira tracker watch (cockpit/application/tracker.py, wired into the remote
    side) is committed: a status changed in Jira reaches the cockpits."""
    out = subprocess.run(
        ["git", "ls-files", "--error-unmatch", "cockpit/application/tracker.py"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
    )
    return out.returncode == 0


@dataclass
class Pair:
    term: Tmux
    tmp: Path
    port: int
    ada: Tmux
    bo: Tmux
    env: dict[str, str]
    figures: dict[str, float] = field(default_factory=dict)
    failed: str = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def both(self) -> tuple[Tmux, Tmux]:
        return self.ada, self.bo


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    tmp = tmp_path_factory.mktemp("pair")
    term = Tmux(tmp, width=300, height=50)  # two panes side by side, 150 columns each
    port = free_port()
    env = {
        "COCKPIT_CONFIG": str(tmp / "none.toml"),
        "COCKPIT_LOG_DIR": str(tmp / "logs"),
        "COCKPIT_TIMEZONE": "UTC",
        "TERM": "xterm-256color",
    }
    term.start(
        [
            *cockpit_command(),
            "demo",
            "--pair",
            "--scenario",
            "outage",
            "--speed",
            "5",
            "--port",
            str(port),
            "--data-dir",
            str(tmp / "ada"),
            "--faults",
            "0.2",
        ],
        env,
    )
    deadline = time.monotonic() + 30
    while len(term.panes()) < 2:
        assert time.monotonic() < deadline, "--pair opened no second pane:\n" + term.screen()
        time.sleep(0.2)
    first, second = term.panes()[:2]
    p = Pair(term, tmp, port, term.pane(first), term.pane(second), env)
    yield p
    if p.figures:
        print("\nconvergence on screen (s):", json.dumps(p.figures))
    # (shown when a step fails: what each cockpit logged, its remote side's faults)
    for name in ("ada", "ada-bo"):
        log = tmp / name / "logs" / "cockpit.log"
        if log.exists():
            print(f"\n{name}'s log:\n" + "\n".join(log.read_text().splitlines()[-40:]))
    term.kill()


@pytest.fixture
def step(pair: Pair) -> Pair:
    if pair.failed:
        pytest.skip(f"an earlier step failed: {pair.failed}")
    return pair


def chained(test: Callable[[Pair], None]) -> Callable[[Pair], None]:
    """A step of the drill: when it fails, the steps after it are skipped."""

    @functools.wraps(test)
    def run(step: Pair) -> None:
        try:
            test(step)
        except BaseException as e:
            if not isinstance(e, (pytest.skip.Exception, pytest.xfail.Exception)):
                step.failed = test.__name__
            raise

    return run


# -- what a screen shows ----------------------------------------------------------------
def view(screen: str) -> dict[str, str]:
    """The shared state as a screen shows it: the header's severity, status and roles, the
    checklist's progress (its border's done/total)."""
    lines = screen.splitlines()
    head = lines[0] if lines else ""
    status = re.search(r"\b(REPORTED|FIXING|MONITORING|RESOLVED|CANCELED)\b", head)
    severity = re.search(r"\b(CRITICAL|MAJOR|MINOR)\b", head)
    # a role's holder: "IC ada", or among the others here, "ada (IC)"
    ic = re.search(r"\bIC (\w+)", head) or re.search(r"(\w+) \(IC\b", head)
    comms = re.search(r"\bComms (\w+)", head) or re.search(r"(\w+) \((?:IC, )?Comms\b", head)
    progress = re.search(r"[█░]{12} (\d+)/(\d+)\b", screen)
    return {
        "status": status.group(1) if status else "",
        "severity": severity.group(1) if severity else "",
        "ic": ic.group(1) if ic else "",
        "comms": comms.group(1) if comms else "",
        "progress": f"{progress.group(1)}/{progress.group(2)}" if progress else "",
    }


SHARED = ("status", "severity", "ic", "comms")  # the header's


def converge(
    p: Pair,
    want: Callable[[dict[str, str]], bool],
    what: str,
    timeout: float,
    fields: tuple[str, ...] = SHARED,
) -> float:
    """Wait until both screens show the same `fields` and they are what is wanted; the
    seconds it took (kept in the figures under `what`)."""
    start = time.monotonic()
    a: dict[str, str] = {}
    b: dict[str, str] = {}
    while time.monotonic() - start < timeout:
        a = {k: v for k, v in view(p.ada.screen()).items() if k in fields}
        b = {k: v for k, v in view(p.bo.screen()).items() if k in fields}
        if a == b and want(a):
            took = time.monotonic() - start
            p.figures[what] = round(took, 2)
            return took
        time.sleep(0.2)
    raise AssertionError(
        f"{what}: the screens did not agree within {timeout} s: ada {a}, bo {b}\n"
        f"the incident channel: {channel_events(p)}\n"
        f"ada:\n{p.ada.screen()}\nbo:\n{p.bo.screen()}"
    )


def wait_for_text(term: Tmux, text: str, timeout: float) -> None:
    """Wait until the screen shows `text`, in any case."""
    deadline = time.monotonic() + timeout
    while text.lower() not in term.screen().lower():
        assert time.monotonic() < deadline, f"{text!r} not on screen:\n{term.screen()}"
        time.sleep(0.2)


def channel_events(p: Pair) -> list[tuple[str, list[str]]]:
    """The incident channel's messages as the drill range holds them: text and events."""
    out = []
    for name, ch in drill_state(p.port)["slack"]["channels"].items():
        if name.startswith("incident-"):
            for m in ch["messages"]:
                payload = (m.get("metadata") or {}).get("event_payload") or {}
                kinds = [str(e.get("kind", "?")) for e in payload.get("events", [])]
                out.append((m["text"][:60], kinds or [str(list(payload))[:80]]))
    return out


def raise_from_report(term: Tmux) -> None:
    """Filter the feed to the report, select it, r."""
    term.keys("1", "/")
    term.wait_for("Filter the feed")
    term.type("Checkout is failing")
    term.keys("C-s")
    term.wait_gone("Filter the feed")
    term.keys("1")
    term.wait_for("Raise from msg")
    term.keys("End", "r")


def join_from_report(p: Pair, term: Tmux) -> None:
    """Raise from the report a teammate raised: the join offer, j. The look in the thread
    is one request: when the drill range refuses it (a fault, a rate limit, an answer
    slower than the look's 8 s), the cockpit offers to raise anew ("Could not look in the
    report's thread"); a person backs out of that dialog and tries again. The tries are
    counted in the figures; raising twice would show as a second ticket."""
    raise_from_report(term)
    for tries in range(1, 7):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            screen = term.screen()
            if "Already raised by a teammate" in screen:
                p.figures["join-tries"] = tries
                time.sleep(0.8)  # opened when the look ended: no key at once
                term.keys("j")
                return
            if "Raise an incident" in screen:
                time.sleep(0.8)
                term.keys("escape")
                term.wait_gone("Raise an incident")
                term.keys("1", "r")
                break
            time.sleep(0.1)
        else:
            raise AssertionError("neither a join offer nor the raise dialog:\n" + term.screen())
    raise AssertionError("no join offered in six tries:\n" + term.screen())


def thread_replies(state: dict[str, Any]) -> list[dict[str, Any]]:
    report = next(
        m for m in state["slack"]["channels"]["incidents"]["messages"] if REPORT in m["text"]
    )
    return [m for m in report.get("replies", []) if m.get("bot_id")]


def export(data: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "COCKPIT_CONFIG": str(data.parent / "none.toml"),
        "COCKPIT_DATA_DIR": str(data),
        "COCKPIT_LOG_DIR": str(data.parent / "export-logs"),
    }
    out = subprocess.run(  # the drill's one incident: the first in each store
        [sys.executable, "-m", "cockpit", "export", "1", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


# -- the steps ----------------------------------------------------------------------------
@chained
def test_both_raise_from_the_same_report_one_incident(step: Pair) -> None:
    p = step
    for t in p.both():
        t.wait_for("DRILL", timeout=40)
        t.wait_for(REPORT, timeout=60)
    # Ada raises it
    raise_from_report(p.ada)
    p.ada.wait_for("Raise an incident")
    time.sleep(0.7)  # opened when the look in its thread ended: no key at once
    p.ada.keys("C-s")
    wait_state(p.port, lambda s: ours(s) and thread_replies(s), timeout=90)
    # Bo raises the same report: his cockpit finds Ada's in the thread and offers to join
    join_from_report(p, p.bo)
    for t in p.both():
        t.keys("escape")  # the feed's filter
    converge(p, lambda v: v["status"] == "REPORTED", "join", WAIT)
    state = drill_state(p.port)
    issues = ours(state)
    assert len(issues) == 1, [i["key"] for i in issues]
    number = issues[0]["key"].split("-")[1]
    channels = [n for n in state["slack"]["channels"] if n.startswith("incident-")]
    assert channels == [f"incident-{number}"]
    link_back = [m for m in thread_replies(state) if "Tracked as" in m["text"]]
    assert len(link_back) == 1, [m["text"] for m in thread_replies(state)]


@chained
def test_commander_fixes_while_comms_updates_the_status_page(step: Pair) -> None:
    p, ada, bo = step, step.ada, step.bo
    # the roles: Ada the Commander, Bo the Communications Officer
    ada.keys("A")
    ada.wait_for("Roles")
    time.sleep(0.3)
    ada.keys("Tab")
    ada.type("bo")
    ada.keys("C-s")
    converge(p, lambda v: v["ic"] == "ada" and v["comms"] == "bo", "roles", WAIT)
    # Ada: severity Critical …
    ada.keys("S")
    ada.wait_for("Assess: set the severity")
    ada.type("most card payments")
    ada.keys("Tab", "Tab", "Tab", "Enter")
    ada.keys("C-s")
    ada.wait_for("CRITICAL")
    # … while Bo sends the status page's first update
    bo.keys("4", "d")
    bo.wait_for("Draft a message")
    bo.keys("Down", "Down", "Down", "Enter")
    bo.wait_for("DRAFT  Status page: investigating")
    converge(p, lambda v: v["severity"] == "CRITICAL", "severity", WAIT)
    # … and Ada moves it to FIXING
    ada.keys("C-t")
    ada.wait_for("Move incident from")
    ada.keys("f")
    ada.wait_for("Mark FIXING?")
    ada.keys("C-s")
    bo.keys("s")
    bo.wait_for("Affected components")
    bo.keys("space", "C-s")
    bo.wait_for("Send?")
    bo.keys("C-s")
    converge(
        p,
        lambda v: v["status"] == "FIXING" and v["severity"] == "CRITICAL",
        "fixing",
        WAIT,
    )
    wait_state(p.port, lambda s: s["statuspage"]["incidents"], timeout=90)
    for t in p.both():
        t.keys("2")
        t.wait_for("REPORTED → FIXING", timeout=WAIT)
        # (the case aside: the export compares the texts themselves)
        wait_for_text(t, "severity unset → critical", timeout=WAIT)


def test_the_status_page_update_reaches_the_commander(step: Pair) -> None:
    # (not chained) Bo sent it: Ada's timeline shows it too
    step.bo.keys("2")
    step.bo.wait_for("status-page incident opened", timeout=WAIT)
    step.ada.keys("2")
    step.ada.wait_for("status-page incident opened", timeout=WAIT)


def test_both_show_the_same_checklist_progress(step: Pair) -> None:
    # (not chained: the steps after it go on when it fails)
    converge(step, lambda v: v["progress"] != "", "checklist", WAIT, ("progress",))


@chained
def test_a_killed_cockpit_restarts_and_catches_up(step: Pair) -> None:
    p, ada, bo = step, step.ada, step.bo
    shell = bo.pane_pid()
    kids = subprocess.run(["pgrep", "-P", str(shell)], capture_output=True, text=True)
    pids = [int(x) for x in kids.stdout.split()] or [shell]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    # meanwhile, Ada: MONITORING and a note
    ada.keys("C-t")
    ada.wait_for("Move incident from")
    ada.keys("m")
    ada.wait_for("Mark MONITORING?")
    ada.keys("C-s")
    ada.wait_for("MONITORING ")
    ada.keys("n")
    ada.wait_for("Add a note to the timeline")
    ada.type(NOTE)
    ada.keys("C-s")
    ada.wait_for(NOTE)
    # Bo starts his cockpit again on his data directory
    bo.respawn(
        [
            *cockpit_command(),
            "demo",
            "--range",
            p.base,
            "--as",
            "bo",
            "--data-dir",
            str(p.tmp / "ada-bo"),
        ],
        p.env,
    )
    bo.wait_for("DRILL", timeout=40)
    converge(p, lambda v: v["status"] == "MONITORING", "restart", WAIT)
    bo.keys("2")
    bo.wait_for(NOTE, timeout=WAIT)


@pytest.mark.xfail(
    not tracker_watch_in_main(),
    reason="a status changed in Jira itself needs the tracker watch "
    "(cockpit/application/tracker.py), not in main yet",
    strict=False,
)
def test_a_status_changed_in_jira_reaches_both(step: Pair) -> None:
    p = step
    [issue] = ours(drill_state(p.port))
    auth = ("trainer@drill-range.example", "any-token")
    key = issue["key"]

    def fixing_in_jira() -> bool:
        """The ticket is at Fixing (In Progress) in Jira."""
        state = ours(drill_state(p.port))
        return any(i["key"] == key and i["status"] == "Fixing" for i in state)

    with httpx.Client(base_url=p.base, auth=auth, timeout=10) as c:
        # the drill range's faults (a refusal, an answer lost or late): the trainer tries
        # again, as a person in Jira's page would, until the ticket shows the move
        for _ in range(20):
            try:
                found = c.get(f"/rest/api/3/issue/{key}/transitions")
                found.raise_for_status()
                back = next(
                    t
                    for t in found.json()["transitions"]
                    if re.search(r"fix|progress", t["name"] + " " + t["to"]["name"], re.I)
                )
                c.post(
                    f"/rest/api/3/issue/{key}/transitions",
                    json={"transition": {"id": back["id"]}},
                )
            except (httpx.HTTPError, ValueError, StopIteration):
                pass
            if fixing_in_jira():
                break
            time.sleep(1)
        assert fixing_in_jira(), ours(drill_state(p.port))
    # the tracker watch reads tickets about once a minute and confirms on a second read
    converge(p, lambda v: v["status"] == "FIXING", "from-jira", 200)


@chained
def test_both_exports_are_equal_but_local_fields(step: Pair) -> None:
    p = step
    # each outbox done: nothing still going out
    for t in p.both():
        deadline = time.monotonic() + 120
        while not re.search(r"\b(\d+)/\1 sent\b", t.screen()) or "waiting" in t.screen():
            assert time.monotonic() < deadline, t.screen()
            time.sleep(0.5)
    a = export(p.tmp / "ada" / "data")
    b = export(p.tmp / "ada-bo" / "data")

    def shared(doc: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in doc.items() if k not in ("incident", "timeline", "checklist")}
        out["incident"] = {k: v for k, v in doc["incident"].items() if k not in LOCAL_INCIDENT}
        entries = [
            {k: v for k, v in e.items() if k not in LOCAL_ENTRY}
            for e in doc["timeline"]
            if e["kind"] not in LOCAL_ENTRY_KINDS
        ]
        out["timeline"] = sorted(entries, key=lambda e: (e["event_at"], e["kind"], e["text"]))
        out["checklist"] = sorted(doc["checklist"], key=lambda t: t["item_id"])
        return out

    sa, sb = shared(a), shared(b)
    diff: dict[str, Any] = {}
    for part in sa.keys() | sb.keys():
        x, y = sa.get(part), sb.get(part)
        if part == "incident" and isinstance(x, dict) and isinstance(y, dict):
            for k in x.keys() | y.keys():
                if x.get(k) != y.get(k):
                    diff[f"incident.{k}"] = (x.get(k), y.get(k))
        elif part in ("timeline", "checklist") and isinstance(x, list) and isinstance(y, list):
            only_a = [e for e in x if e not in y]
            only_b = [e for e in y if e not in x]
            if only_a or only_b:
                diff[part] = {"only ada's": only_a, "only bo's": only_b}
        elif x != y:
            diff[part] = (x, y)
    assert not diff, json.dumps(diff, indent=1, default=str, ensure_ascii=False)[:8000]
    for doc in (a, b):  # nothing doubled by the restart's catch-up
        seen = [(e["event_at"], e["kind"], e["text"]) for e in doc["timeline"]]
        assert len(seen) == len(set(seen)), [x for x in seen if seen.count(x) > 1]
        assert sum(NOTE in e["text"] for e in doc["timeline"]) == 1


def test_convergence_within_the_budget(pair: Pair) -> None:
    """Each change above reached both screens within the budget (with the drill range's
    faults); the restart's catch-up and the Jira read are judged by their own steps."""
    judged = {
        k: v
        for k, v in pair.figures.items()
        if k in ("join", "roles", "severity", "fixing", "checklist")
    }
    if not judged:
        pytest.skip("no change was measured")
    late = {k: v for k, v in judged.items() if v > BUDGET_WITH_FAULTS}
    assert not late, f"later than {BUDGET_WITH_FAULTS} s: {late} (all: {pair.figures})"

"""Exactly once, request by request: a sweep of failures after the effect, and kills.

Three chains of outbox items go to the drill range in process (its own transport behind
`FaultProxy`, a fake sleep, a frozen clock advanced past every backoff):

* the raise chain: the ticket, the channel and its topic, the ticket's link to the
  channel, the reply in the reporter's thread (and the auth.test its permalink needs);
* the status-page chain: the public incident (and the ticket's link to it), an update,
  the resolution;
* the resolve chain: FIXING (transition, then assign), a follow-up (create, then link),
  RESOLVED with the final update in the thread, the final comment on the ticket.

A clean run of each chain lists the requests it makes, in order. Then, for every one of
them (the n-th request to its route), 1 to 4 times in a row, the request fails after its
effect (a proxy's 502 page; `slow` adds a timeout and a dropped connection), two ways: the
same cockpit goes on (warm: its caches filled), or cockpit restarts after every item's
attempt (cold: a fresh store, clients and sender on the same data dir each time, so
Slack's workspace URL, Jira's account id are asked again: the clean cold run has more
requests). Cold, cockpit is also killed right after each request's effect (nothing after
the request runs: the item is left SENDING) and restarted (`slow`: 1 to 4 kills in a row).
After each trial the drill range's state must hold every effect (topic, assignee, links,
updates …) exactly once, and every item must be SENT.

The totals are printed (`-s` shows them):

    .venv/bin/python -m pytest tests/integration/test_exactly_once.py -q -s -p no:cacheprovider
"""

from __future__ import annotations

import asyncio
import functools
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit.application.planner import Planner
from cockpit.application.sender import OutboxSender
from cockpit.application.service import IncidentService
from cockpit.config import Settings, load_settings
from cockpit.domain.clock import FrozenClock, SystemClock
from cockpit.domain.incident import Incident
from cockpit.domain.outbox import OutboxItem, OutboxState, blocking
from cockpit.domain.playbook import default_playbook
from cockpit.domain.templates import TemplateLibrary
from cockpit.domain.timeline import TimelineEntry
from cockpit.integrations.http import RetryPolicy
from cockpit.integrations.outbox import RemoteActions, build_clients
from cockpit.sandbox.dispatch import IN_PROCESS_URL
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.tokens import BOT_TOKEN, STATUSPAGE_KEY
from cockpit.store.store import Store
from tests.integration.faultproxy import FaultProxy, Killed

# the drill range's own Slack token and Statuspage key (it refuses others, as the services do)
TOKENS = {"slack": BOT_TOKEN, "jira": "jira-test-token", "statuspage": STATUSPAGE_KEY}
TITLE = "Checkout payments failing"
REPORT = "Checkout is failing for a lot of buyers"


async def _no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


@functools.cache
def _templates() -> TemplateLibrary:
    """The shipped templates, compiled once for every cockpit the sweep starts."""
    return TemplateLibrary(None)


class Rig:
    """One cockpit (store, service, clients, sender) on a data dir, against the proxy."""

    def __init__(self, tmp: Path, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self.transport = proxy.transport()
        config = tmp / "config.toml"
        config.write_text(proxy.server.config_snippet())
        self.settings: Settings = load_settings(
            config, {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "UTC"}
        )
        self.data = tmp / "data"
        self.clock = FrozenClock(SystemClock().now())
        self.planner = Planner(self.settings.configured)
        self.restarts = 0
        self.open()

    def open(self) -> None:
        self.store = Store.open(self.data)
        self.service = IncidentService(
            self.store,
            clock=self.clock,
            tz=self.settings.tz,
            user="ada",
            playbook=default_playbook(),
            configured=self.settings.configured,
            templates=_templates(),
        )
        self.clients = build_clients(
            self.settings,
            TOKENS.get,
            transport=self.transport,
            sleep=_no_sleep,
            retry=RetryPolicy(base_delay=0.0, max_delay=0.0, total=30.0),
        )

        def render(incident: Incident, template: str) -> str:
            entries = self.store.timeline(incident.id)
            return self.service.templates.render(
                template, self.service.draft_context(incident, entries)
            )

        self.sender = OutboxSender(
            self.store, RemoteActions(self.clients, render), self.clock, user="ada", sleep=_no_sleep
        )

    async def close(self) -> None:
        await self.clients.aclose()
        self.store.close()

    async def restart(self) -> None:
        """cockpit stops (or died) and starts again on the same data dir."""
        await self.close()
        self.open()
        self.restarts += 1

    def enqueue(self, items: list[OutboxItem]) -> None:
        self.sender.enqueue(items)

    def pending(self) -> list[OutboxItem]:
        return [
            i
            for s in self.store.list_incidents()
            for i in self.sender.items(s.id)
            if i.state.pending
        ]

    async def drain(self, *, cold: bool = False, rounds: int = 60) -> None:
        """Send everything queued. `cold`: cockpit restarts after every item's attempt
        (sent, failed or killed), so each one meets a fresh process (no cached look-ups);
        otherwise only after a kill."""
        for _ in range(rounds):
            if not self.pending():
                return
            try:
                if cold:
                    await self._one()
                else:
                    await self.sender.drain()
            except Killed:
                await self.restart()
            else:
                if cold:
                    await self.restart()
            self.clock.advance(seconds=120)  # every backoff has run out
        raise AssertionError(f"still pending after {rounds} rounds: {self.pending()}")

    async def _one(self) -> None:
        """One attempt at the next item due (in order, as `OutboxSender.drain` goes)."""
        for summary in self.store.list_incidents():
            items = self.sender.items(summary.id)
            if blocking(items) is not None:
                continue
            item = next((i for i in items if i.state.pending), None)
            if item is not None and item.due(self.clock.now()):
                await self.sender.attempt(item)
                return

    def http(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=IN_PROCESS_URL,
            transport=self.transport,
            headers={"Authorization": f"Bearer {token}"},
        )

    def report(self) -> str:
        """A person posts a report in #incidents; returns its permalink."""
        with self.http("xoxp-priya") as c:
            posted = c.post("/api/chat.postMessage", json={"channel": "incidents", "text": REPORT})
            assert posted.json()["ok"], posted.text
            link = c.get(
                "/api/chat.getPermalink",
                params={"channel": posted.json()["channel"], "message_ts": posted.json()["ts"]},
            ).json()
        return str(link["permalink"])

    def jira_account(self) -> str:
        assert self.settings.jira is not None
        with httpx.Client(
            base_url=IN_PROCESS_URL,
            transport=self.transport,
            auth=(self.settings.jira.email, TOKENS["jira"]),
        ) as c:
            return str(c.get("/rest/api/3/myself").json()["accountId"])

    def state(self) -> dict[str, Any]:
        return self.proxy.server.state.snapshot()


# -- the chains ----------------------------------------------------------------------------
@dataclass
class Tally:
    """What one check of the drill range's state found."""

    effects: int = 0
    duplicates: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)

    def once(self, what: str, found: int) -> None:
        """`what` must be there exactly once."""
        self.effects += 1
        if found == 0:
            self.losses.append(what)
        elif found > 1:
            self.duplicates.append(f"{what} ×{found}")

    def holds(self, what: str, ok: bool) -> None:
        self.effects += 1
        if not ok:
            self.losses.append(what)


def _ours(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in state["jira"]["issues"].values() if "cockpit" in i["labels"]]


def _ticket(state: dict[str, Any]) -> dict[str, Any]:
    (ticket,) = _ours(state)
    return ticket


def _thread_replies(state: dict[str, Any]) -> list[dict[str, Any]]:
    report = next(
        m for m in state["slack"]["channels"]["incidents"]["messages"] if REPORT in m["text"]
    )
    return [m for m in report["replies"] if m.get("bot_id")]


def _markers(messages: list[dict[str, Any]]) -> list[str]:
    return [
        str(m["metadata"]["event_payload"].get("marker", ""))
        for m in messages
        if isinstance(m.get("metadata"), dict)
    ]


def _all_sent(r: Rig, iid: str, t: Tally) -> None:
    for item in r.sender.items(iid):
        t.holds(
            f"{item.operation} sent ({item.state.value}: {item.reason})",
            item.state is OutboxState.SENT,
        )


def check_raise(r: Rig, iid: str, t: Tally) -> None:
    state = r.state()
    issues = _ours(state)
    t.once("incident ticket", len(issues))
    channels = {n: c for n, c in state["slack"]["channels"].items() if n.startswith("incident-")}
    t.once("incident channel", len(channels))
    for name, ch in channels.items():
        t.holds(f"topic of #{name}", TITLE in ch["topic"])
        t.holds(f"bot in #{name}", ch["bot_is_member"])
    if issues:
        links = [x for x in issues[0]["remote_links"] if "incident-" in str(x)]
        t.once("ticket's link to the channel", len(links))
    t.once("reply in the thread", len(_thread_replies(state)))
    inc = r.service.get(iid)
    t.holds("incident's ticket link", inc.links.ticket is not None)
    t.holds("incident's channel link", inc.links.channel is not None)
    _all_sent(r, iid, t)


def check_statuspage(r: Rig, iid: str, t: Tally) -> None:
    state = r.state()
    incidents = state["statuspage"]["incidents"]
    t.once("status-page incident", len(incidents))
    for status in ("investigating", "identified", "resolved"):
        updates = [u for sp in incidents for u in sp["incident_updates"] if u["status"] == status]
        t.once(f"status-page update {status}", len(updates))
    t.holds(
        "Payments operational again", state["statuspage"]["components"]["Payments"] == "operational"
    )
    links = [x for x in _ticket(state)["remote_links"] if "incident-" not in str(x)]
    t.once("ticket's link to the status page", len(links))
    t.holds("incident's status-page link", r.service.get(iid).links.status_page is not None)
    _all_sent(r, iid, t)


def check_resolve(r: Rig, iid: str, t: Tally, account: str) -> None:
    state = r.state()
    ticket = _ticket(state)
    t.holds("ticket RESOLVED", ticket["status"] == "Resolved")
    t.holds("ticket assigned to cockpit's user", ticket["assignee"] == account)
    moves = [h["to"] for h in ticket["history"]]
    t.once("transition to Fixing", moves.count("Fixing"))
    t.once("transition to Resolved", moves.count("Resolved"))
    follow_ups = [i for i in state["jira"]["issues"].values() if "follow-up" in i["labels"]]
    t.once("follow-up issue", len(follow_ups))
    for f in follow_ups:
        linked = [x for x in ticket["links"] if f["key"] in (x["inward"], x["outward"])]
        t.once(f"link to {f['key']}", len(linked))
    markers = _markers(_thread_replies(state))
    t.once("final update in the thread", len(markers) - 1)  # the raise chain's reply is one
    t.holds("thread markers unique", len(markers) == len(set(markers)))
    comments = [c for c in ticket["comments"] if c["properties"]]
    t.once("final comment on the ticket", len(comments))
    inc = r.service.get(iid)
    t.once("incident's follow-up link", len(inc.links.follow_ups))
    _all_sent(r, iid, t)


@dataclass
class Chain:
    name: str
    setup: Callable[[Rig], Any]  # fault-free: what the chain needs; returns its context
    run: Callable[[Rig, Any], list[OutboxItem]]  # the items under test
    check: Callable[[Rig, Any, Tally], None]


def setup_raised(r: Rig) -> dict[str, Any]:
    thread = r.report()
    inc = r.service.raise_incident(TITLE, thread=thread, acknowledge=False)
    return {"iid": inc.id}


async def _raise_fault_free(r: Rig) -> dict[str, Any]:
    ctx = setup_raised(r)
    r.enqueue(r.planner.raise_chain(r.service.get(ctx["iid"]), r.clock.now()))
    await r.drain()
    return ctx


def run_raise(r: Rig, ctx: dict[str, Any]) -> list[OutboxItem]:
    return r.planner.raise_chain(r.service.get(ctx["iid"]), r.clock.now())


def _payments(incident: Incident) -> list[TimelineEntry]:
    incident.affected_components = ["Payments"]
    return []


SP_TEMPLATES = ("statuspage-investigating", "statuspage-identified", "statuspage-resolved")


def _other_account(r: Rig, account: str) -> str:
    users = r.state()["jira"]["users"]
    return next(str(u["accountId"]) for u in users if u["accountId"] != account)


async def sweep_chain(chain: str, *, slow: bool = False) -> dict[str, Any]:
    """Run `chain` clean (to list its requests), then every request × failure × times."""
    totals: dict[str, Any] = {
        "failures": 0,
        "trials": 0,
        "kills": 0,
        "restarts": 0,
        "effects": 0,
        "duplicates": [],
        "losses": [],
        "requests": 0,
    }
    kinds = ("server_error", "timeout", "drop") if slow else ("server_error",)

    async def trial(faults: list[tuple[str, str, int, int]], cold: bool) -> list[str]:
        with tempfile.TemporaryDirectory() as tmp:
            # lenient: hundreds of trials back to back, each at machine speed
            proxy = FaultProxy(SandboxServer(scenario=None, socket_mode=False, lenient=True))
            r = Rig(Path(tmp), proxy)
            try:
                ctx = await _raise_fault_free(r) if chain != "raise" else setup_raised(r)
                iid = ctx["iid"]
                if chain == "statuspage":
                    r.service.update(iid, _payments)
                elif chain == "resolve":
                    account = r.jira_account()
                    key = r.service.get(iid).links.ticket.label  # type: ignore[union-attr]
                    other = _other_account(r, account)
                    with httpx.Client(
                        base_url=IN_PROCESS_URL,
                        transport=r.transport,
                        auth=(r.settings.jira.email, TOKENS["jira"]),  # type: ignore[union-attr]
                    ) as c:  # someone else holds the ticket: the assign step must move it
                        c.put(f"/rest/api/3/issue/{key}/assignee", json={"accountId": other})
                    ctx["account"] = account
                mark = proxy.mark()
                for route, kind, times, skip in faults:
                    proxy.fail(route, kind, when="after", times=times, skip=skip)
                if chain == "raise":
                    r.enqueue(run_raise(r, ctx))
                    await r.drain(cold=cold)
                elif chain == "statuspage":
                    for template in SP_TEMPLATES:
                        draft = r.service.new_draft(iid, template)
                        r.enqueue(r.planner.for_draft(draft, r.service.get(iid), r.clock.now()))
                        await r.drain(cold=cold)
                else:
                    inc = r.service.get(iid)
                    r.enqueue(r.planner.for_action("mark-fixing", inc, r.clock.now()))
                    r.enqueue(
                        r.planner.follow_up(
                            inc, "Retry payments on 502", r.clock.now(), kind="follow-up"
                        )
                    )
                    await r.drain(cold=cold)
                    inc = r.service.get(iid)
                    r.enqueue(r.planner.for_action("mark-resolved", inc, r.clock.now()))
                    r.enqueue(r.planner.for_action("final-update", inc, r.clock.now()))
                    await r.drain(cold=cold)
                routes = proxy.since(mark)
                proxy.clear()
                t = Tally()
                if chain == "raise":
                    check_raise(r, iid, t)
                elif chain == "statuspage":
                    check_statuspage(r, iid, t)
                else:
                    check_resolve(r, iid, t, ctx["account"])
                totals["trials"] += 1
                totals["kills"] += proxy.kills
                totals["failures"] += proxy.failures
                totals["restarts"] += r.restarts
                totals["effects"] += t.effects
                where = (
                    ", ".join(f"{k} {w} #{s + 1} ×{n}" for w, k, n, s in faults)
                    + (" cold" if cold else "")
                ) or "clean"
                totals["duplicates"] += [f"{chain} [{where}]: {d}" for d in t.duplicates]
                totals["losses"] += [f"{chain} [{where}]: {x}" for x in t.losses]
                return routes
            finally:
                await r.close()

    for cold in (False, True):
        # every request of a clean run, in order: (route, how many of it came before)
        routes = await trial([], cold=cold)
        points = [(route, routes[:i].count(route)) for i, route in enumerate(routes)]
        totals["requests"] += len(points)
        for route, skip in points:
            for times in range(1, 5):
                for kind in kinds:
                    await trial([(route, kind, times, skip)], cold=cold)
                if cold and (slow or times == 1):
                    await trial([(route, "kill", times, skip)], cold=cold)
    return totals


CHAINS = ("raise", "statuspage", "resolve")


def _report(totals: dict[str, dict[str, Any]]) -> str:
    lines = []
    for name, t in totals.items():
        lines.append(
            f"{name}: {t['requests']} requests, {t['trials']} trials, "
            f"{t['failures']} failures injected, {t['kills']} kills, "
            f"{t['restarts']} restarts, {t['effects']} effects checked, "
            f"{len(t['duplicates'])} duplicates, {len(t['losses'])} losses"
        )
    keys = ("requests", "trials", "failures", "kills", "restarts", "effects")
    total = {k: sum(t[k] for t in totals.values()) for k in keys}
    dups = sum(len(t["duplicates"]) for t in totals.values())
    losses = sum(len(t["losses"]) for t in totals.values())
    lines.append(
        f"total: {total['requests']} requests, {total['trials']} trials, "
        f"{total['failures']} failures injected, {total['kills']} kills, "
        f"{total['restarts']} restarts, "
        f"{total['effects']} effects checked, {dups} duplicates, {losses} losses"
    )
    return "\n".join(lines)


async def _sweep(slow: bool) -> None:
    totals = {name: await sweep_chain(name, slow=slow) for name in CHAINS}
    print("\nexactly-once sweep" + (" (slow)" if slow else "") + "\n" + _report(totals))
    problems = [p for t in totals.values() for p in t["duplicates"] + t["losses"]]
    assert not problems, "\n".join(problems[:40])
    assert all(t["kills"] > 0 for t in totals.values())


@pytest.fixture
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's writes skip fsync here: what is under test is which requests go out,
    not the disk (a killed writer is tests/unit/store/test_crash.py's)."""
    monkeypatch.setattr(os, "fsync", lambda _fd: None)


async def test_every_request_failing_after_its_effect_happens_once(no_fsync: None) -> None:
    await _sweep(slow=False)


@pytest.mark.slow
@pytest.mark.timeout(900)  # ~860 trials; Jira's search lags (3 s): lost creates are found by key
async def test_every_request_failing_every_way_happens_once(no_fsync: None) -> None:
    await _sweep(slow=True)

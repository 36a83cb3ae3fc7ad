"""A realistic cockpit store for the benchmarks (DESIGN.md §7), generated deterministically.

    python bench/generate.py [--incidents 1000] [--entries 50000] [--feed 20000]
                             [--seed 7] [--out DIR] [--force]

What it makes (the default sizes are the budgets' "realistic store"):

- `--incidents` past incidents, numbered 1…N in report order over the two years before
  ANCHOR, with mixed severities and statuses (mostly resolved, some canceled, the newest few
  still open: the newest is FIXING a critical incident, the one cockpit shows on start),
  realistic titles, summaries, roles, role hand-overs, links (report thread, incident
  channel, Jira ticket, status page for the bigger ones, follow-ups and bugs);
- `--entries` timeline entries spread over them (skewed: a critical incident has many
  more than a minor one), from the lifecycle (report, raise, severity, acknowledgement,
  roles, status changes) and from people (notes, pinned Slack messages, sent updates,
  assessments, hand-offs);
- checklist ticks (and a few unticks) of the items each incident went through;
- `--feed` cached feed messages over 30 days, written by the app's own FeedCache
  (`<data dir>/feed/DAY.jsonl`), so the app reads them at start as it reads a real cache.

Everything goes through the Store API: one `create_incident` per incident with all its
entries (one fsynced write of its file), then `rebuild_index` makes the summaries. The
store has no bulk call for ticks, so an incident's ticks are batched into one transaction
of its file (`SafeJSONStorage.transaction()`, which the store's own writes nest into)
rather than one fsynced write per tick. Ids and times are made here from the seed (never the wall
clock), so the same parameters always give the same store.

Generated stores are cached under $COCKPIT_BENCH_CACHE (default /tmp/cockpit-bench),
keyed by the parameters and a hash of this file and of the schema versions; `ensure()`
returns the cached copy, generating it once. Benchmarks that write must work on a copy
(`working_copy()`).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cockpit.domain.checklist import SCHEMA_VERSION as TICK_SCHEMA
from cockpit.domain.checklist import Tick
from cockpit.domain.feed import FeedMessage
from cockpit.domain.incident import SCHEMA_VERSION as INCIDENT_SCHEMA
from cockpit.domain.incident import (
    Assessment,
    Incident,
    Link,
    Links,
    Role,
    RoleChange,
    Severity,
    Status,
)
from cockpit.domain.playbook import default_playbook
from cockpit.domain.timeline import SCHEMA_VERSION as ENTRY_SCHEMA
from cockpit.domain.timeline import EntryKind, TimelineEntry
from cockpit.store.migrations import STORE_SCHEMA
from cockpit.store.store import Store

GEN_VERSION = 1
#: "Now" in the generated world: the newest incident was reported 25 minutes before it.
ANCHOR = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
HISTORY = timedelta(days=730)
FEED_SCHEMA = 2  # the app's FeedCache files
MANIFEST = "bench-manifest.json"
DEFAULT_CACHE = Path(os.environ.get("COCKPIT_BENCH_CACHE", "/tmp/cockpit-bench"))

SLACK = "https://acme.slack.com/archives"
JIRA = "https://acme.atlassian.net/browse"
STATUS_PAGE = "https://status.acme.com/incidents"


@dataclass(frozen=True)
class Params:
    incidents: int = 1000
    entries: int = 50_000
    feed: int = 20_000
    seed: int = 7
    days: int = 730  # the history's span, ending at ANCHOR

    def key(self) -> str:
        span = "" if self.days == 730 else f"-d{self.days}"
        return f"i{self.incidents}-e{self.entries}-f{self.feed}-s{self.seed}{span}-{_code_hash()}"


FULL = Params()
QUICK = Params(incidents=200, entries=10_000, feed=4_000)
# Ten years of history (bench/run.py's `history` section; --quick uses it too).
HISTORY_STORE = Params(incidents=20_000, entries=1_000_000, feed=4_000, days=3650)


@dataclass
class Report:
    """What a generation made and how long it took."""

    path: Path
    incidents: int
    entries: int
    ticks: int
    feed: int
    open_incidents: int
    active_id: str
    seconds: float
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["path"] = str(self.path)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Report:
        return cls(**{**d, "path": Path(d["path"])})

    def describe(self) -> str:
        how = "cached" if self.cached else "generated"
        return (
            f"{how} store {self.path}: {self.incidents} incidents ({self.open_incidents} open, "
            f"active #{self.active_id}), {self.entries} entries, {self.ticks} ticks, "
            f"{self.feed} cached feed messages; generation took {self.seconds:.1f} s"
        )


# -- vocabulary --------------------------------------------------------------------------
PEOPLE = [
    "ada", "bola", "chen", "dmitri", "elif", "farah", "gus", "hana", "ines", "jonas",
    "kemi", "lars", "mara", "nikhil", "olga", "priya", "quinn", "rafael", "sam", "tomoko",
    "uma", "viktor", "wen", "xavier", "yusuf", "zoe",
]  # fmt: skip
SERVICES = [
    ("Checkout", "checkout-api"), ("Payments", "payments-service"), ("Search", "search-api"),
    ("Login", "auth-service"), ("Notifications", "notifier"), ("Image CDN", "img-cdn"),
    ("Public API", "api-gateway"), ("Mobile app", "mobile-bff"), ("Partner API", "partner-api"),
    ("Report exports", "export-worker"), ("Billing", "billing"), ("Inventory sync", "inventory"),
    ("Email delivery", "mailer"), ("Webhooks", "webhook-dispatcher"), ("Admin console", "admin"),
    ("Status page", "statuspage"), ("Order history", "orders-api"), ("Shipping rates", "shipping"),
]  # fmt: skip
SYMPTOMS = [
    "failing for {who}", "returning 502 for {who}", "timing out for {who}",
    "latency above {n} s for {who}", "down for {who}", "degraded for {who}",
    "showing stale data to {who}", "error rate at {n}% for {who}",
    "intermittent 500s after deploy {deploy}", "not loading for {who}",
    "double-charging {who}", "emails delayed by {n} hours for {who}",
]  # fmt: skip
AUDIENCES = [
    "EU buyers", "all users", "iOS users", "Android users", "partners", "Acme Corp",
    "enterprise customers", "new sign-ups", "US-east", "web users", "some merchants",
    "users on the beta", "APAC customers", "internal staff",
]  # fmt: skip
COMPONENTS = ["Website", "API", "Checkout", "Payments", "Mobile apps", "Notifications"]
NOTES = [
    "Error rate on {svc} at {n}% (p95 latency {f} s)",
    "Rolled back {svc} to {deploy}",
    "Deploy {deploy} of {svc} went out at the start of the spike",
    "Scaled {svc} from {n} to {m} replicas",
    "Customer support reports {m} tickets mentioning this",
    "Workaround for users: retry after a minute, or use the mobile app",
    "Asked {person} to check the {svc} logs",
    "{svc} database CPU at {n}%: long-running query from the nightly job",
    "Feature flag {flag} turned off",
    "Cannot reproduce from the office network; reproduced from eu-west",
    "Upstream provider confirms degraded performance in eu-west-1",
    "Cache hit ratio on {svc} dropped from 94% to {n}%",
    "Connection pool exhausted on {svc} ({m}/{m} in use)",
    "Certificate for {svc} expired at 00:00 UTC; renewed",
    "Queue depth on {svc} at {m}k messages and draining",
    "Error budget for {svc} down to {n}% for the month",
    "Opened a ticket with the vendor, reference {ref}",
    "Mitigation holding for {n} minutes; watching",
]
PINNED = [
    "{person}: seeing {n}% errors on {svc} since the deploy",
    "Datadog: [Triggered] {svc} error rate > 5% on prod",
    "Sentry: New issue in {svc}: TimeoutError: upstream did not answer in 30s",
    "{person}: Acme's account manager says their checkout is failing",
    "Pingdom: {svc} is DOWN (HTTP 502) from 3 locations",
    "{person}: confirmed fixed on my side",
]
SENT = [
    "Reply in the report thread — investigating",
    "Status page: investigating — {svc} degraded",
    "Status page update: a fix is being rolled out",
    "Stakeholder update #{n} posted to #product",
    "Internal update: workaround shared with support",
    "Status page: resolved",
]
ALERT_BOTS = ["Datadog", "Sentry", "Pingdom", "PagerDuty", "Grafana"]
CHAT = [
    "Is anyone else seeing {svc} errors? Customers are complaining",
    "{svc} is slow for me too, p95 is at {f} s",
    "Deploying {deploy} to {svc} now",
    "Looks like the spike started with {deploy}",
    "Support has {m} tickets about this in the last hour",
    "I'll take comms on this one",
    "Rolling back, ETA 5 minutes",
    "Error rate back to normal on {svc}",
    "Can someone from the {svc} team have a look?",
    "FYI scheduled maintenance on {svc} at 22:00 UTC",
]


def _fill(rng: random.Random, template: str, svc: str | None = None) -> str:
    name, any_svc = rng.choice(SERVICES)
    svc = svc or any_svc
    return template.format(
        svc=svc,
        name=name,
        who=rng.choice(AUDIENCES),
        n=rng.randint(2, 60),
        m=rng.randint(7, 400),
        f=f"{rng.uniform(1.2, 9.5):.1f}",
        deploy=f"2026.{rng.randint(1, 47)}.{rng.randint(0, 9)}",
        person="@" + rng.choice(PEOPLE),
        flag=f"{svc.split('-')[0]}-{rng.choice(['v2', 'new-flow', 'batching', 'prefetch'])}",
        ref=f"CASE-{rng.randint(10000, 99999)}",
    )


def _title(rng: random.Random) -> tuple[str, str]:
    name, svc = rng.choice(SERVICES)
    symptom = rng.choice(SYMPTOMS).format(
        who=rng.choice(AUDIENCES),
        n=rng.randint(2, 40),
        deploy=f"2026.{rng.randint(1, 47)}.{rng.randint(0, 9)}",
    )
    return f"{name} {symptom}", svc


def _ts(at: datetime, n: int) -> str:
    """A Slack ts: seconds with 6 decimals, made unique by `n`."""
    return f"{int(at.timestamp())}.{n % 1_000_000:06d}"


# -- the store ---------------------------------------------------------------------------
class _Ids:
    """Entry ids in the store's format (time, counter, node), from the data, not the clock."""

    def __init__(self, seed: int) -> None:
        self.n = 0
        self.node = f"{seed % 0xFFFFFF:06x}"

    def __call__(self, at: datetime) -> str:
        self.n += 1
        return f"{int(at.timestamp() * 1e9):016x}{self.n % 0x10000:04x}{self.node}"


def _entry_counts(rng: random.Random, severities: list[Severity | None], total: int) -> list[int]:
    """Split `total` entries over the incidents: skewed by severity and a long tail."""
    base = {None: 0.5, Severity.MINOR: 0.7, Severity.MAJOR: 1.4, Severity.CRITICAL: 3.0}
    weights = [base[s] * rng.lognormvariate(0, 0.6) for s in severities]
    floor = min(8, total // max(1, len(severities)))
    spare = total - floor * len(severities)
    wsum = sum(weights)
    counts = [floor + math.floor(spare * w / wsum) for w in weights]
    for i in rng.sample(range(len(counts)), total - sum(counts)):
        counts[i] += 1
    return counts


def _plan_status(rng: random.Random, n: int, total: int) -> Status:
    """The newest incidents are still open; older ones resolved or canceled."""
    from_newest = total - n
    if from_newest == 0:
        return Status.FIXING
    if from_newest == 1:
        return Status.MONITORING
    if from_newest == 2:
        return Status.REPORTED
    if from_newest in (17, 140) and total > 150:
        return Status.FIXING  # a forgotten one: open for weeks
    return Status.CANCELED if rng.random() < 0.12 else Status.RESOLVED


def _ticked_items(
    rng: random.Random, incident: Incident, ids: set[str], statuspage: bool
) -> list[str]:
    """The playbook items this incident went through, in playbook order."""
    pb = default_playbook()
    status = incident.status
    if status is Status.CANCELED:
        wanted = {
            "watch-incidents", "watch-alerts", "educate-reporter", "raise-incident",
            "create-ticket", "link-thread", "answer-assess-questions",
            "not-incident-redirect", "not-incident-link-bug", "not-incident-cancel",
        }  # fmt: skip
    else:
        reached = {
            Status.REPORTED: ["alert", "raise"],
            Status.FIXING: ["alert", "raise", "assess"],
            Status.MONITORING: ["alert", "raise", "assess", "address"],
            Status.RESOLVED: ["alert", "raise", "assess", "address", "resolve"],
        }[status]
        wanted = {i.id for s in pb.steps if s.id in reached for i in s.items}
        wanted -= {"educate-reporter", "not-incident-redirect", "not-incident-link-bug"}
        wanted -= {"not-incident-cancel"}
        if not statuspage:
            wanted -= {i for i in wanted if i.startswith("statuspage-")}
        if incident.severity is not Severity.CRITICAL:
            wanted.discard("post-mortem")
        if status is Status.REPORTED:
            wanted &= {"watch-incidents", "watch-alerts", "raise-incident", "create-ticket"}
        if status is Status.FIXING:
            wanted -= {"post-kickoff", "not-incident-cancel"} if rng.random() < 0.5 else set()
    wanted &= ids
    forgetful = 0.1 if status is Status.RESOLVED else 0.0
    return [i.id for i in pb.items if i.id in wanted and rng.random() >= forgetful]


def _incident(
    rng: random.Random, n: int, total: int, reported: datetime
) -> tuple[Incident, str, Status]:
    """A new incident (still REPORTED), its service, and the status it will end in."""
    title, svc = _title(rng)
    status = _plan_status(rng, n, total)
    roll = rng.random()
    severity: Severity | None = (
        Severity.CRITICAL if roll < 0.1 else Severity.MAJOR if roll < 0.42 else Severity.MINOR
    )
    if n == total:
        severity = Severity.CRITICAL
    if status is Status.CANCELED and rng.random() < 0.5:
        severity = None
    if status is Status.REPORTED:
        severity = None if rng.random() < 0.5 else severity
    iid = str(n)
    reporter = rng.choice(PEOPLE)
    inc = Incident(
        id=iid,
        title=title,
        summary=f"{title}. First reported by {reporter} in #incidents.",
        first_reported_at=reported,
        created_at=reported + timedelta(minutes=rng.randint(1, 9)),
        created_by=rng.choice(PEOPLE),
        severity=severity,
        labels=rng.sample(["backend", "frontend", "vendor", "deploy", "capacity", "data"], 2),
    )
    inc.affected_components = rng.sample(COMPONENTS, rng.randint(1, 3))
    thread_ts = _ts(reported, n)
    inc.links = Links(
        thread=Link(f"{SLACK}/C04INCIDENTS/p{thread_ts.replace('.', '')}", "report thread"),
        channel=Link(f"{SLACK}/C07INC{n:05d}", f"#incident-{n}"),
        ticket=Link(f"{JIRA}/INC-{1200 + n}", f"INC-{1200 + n}"),
    )
    return inc, svc, status


def _lifecycle(
    rng: random.Random, inc: Incident, svc: str, final: Status, end: datetime
) -> list[tuple[EntryKind, str, datetime, str, str]]:
    """Set the incident's state and times; return its structural timeline entries."""
    t0 = inc.first_reported_at
    span = end - t0
    commander, comms = rng.sample(PEOPLE, 2)
    out: list[tuple[EntryKind, str, datetime, str, str]] = []
    by = inc.created_by
    assert inc.links.thread is not None and inc.links.ticket is not None
    out.append((EntryKind.NOTE, f"reported: {inc.title}", t0, by, inc.links.thread.url))
    out.append((EntryKind.ACTION, f"incident {inc.id} raised in cockpit", inc.created_at, by, ""))
    ack = inc.created_at + timedelta(minutes=rng.randint(1, 6))
    inc.acknowledged_at = ack
    ticket = inc.links.ticket
    out.append((EntryKind.ACTION, f"tracked as {ticket.label}", ack, by, ticket.url))
    if inc.severity is not None:
        text = f"severity unset → {inc.severity.label}"
        out.append((EntryKind.SEVERITY, text, ack + timedelta(minutes=2), by, ""))
    if final is Status.REPORTED:
        return out
    if final is Status.CANCELED:
        inc.status = Status.CANCELED
        inc.canceled_at = t0 + span * rng.uniform(0.3, 0.9)
        inc.cancel_reason = "not an incident: a known bug, redirected to the bug guide"
        text = f"REPORTED → CANCELED: {inc.cancel_reason}"
        out.append((EntryKind.STATUS, text, inc.canceled_at, by, ""))
        return out
    fixing = ack + timedelta(minutes=rng.randint(3, 15))
    inc.fixing_at = fixing
    inc.roles = {Role.COMMANDER: commander, Role.COMMS: comms}
    inc.role_history = [
        RoleChange(Role.COMMANDER, commander, fixing, by),
        RoleChange(Role.COMMS, comms, fixing + timedelta(minutes=1), commander),
    ]
    out.append((EntryKind.STATUS, "REPORTED → FIXING", fixing, by, ""))
    out.append((EntryKind.ROLE, f"Incident Commander: {commander}", fixing, by, ""))
    out.append((EntryKind.ROLE, f"Communications Officer: {comms}", fixing, commander, ""))
    inc.assessment = Assessment(
        affected=f"~{rng.randint(2, 90) * 100} {rng.choice(AUDIENCES)}",
        reproduced=rng.random() < 0.7,
        known=rng.random() < 0.3,
    )
    out.append((EntryKind.ASSESSMENT, inc.assessment.describe(), fixing, commander, ""))
    if inc.severity in (Severity.MAJOR, Severity.CRITICAL):
        sp = Link(f"{STATUS_PAGE}/{rng.getrandbits(40):010x}", "status page")
        inc.links.status_page = sp
        out.append((EntryKind.SENT, "Status page: investigating", fixing, comms, sp.url))
    if rng.random() < 0.15 and span > timedelta(hours=3):
        new = rng.choice([p for p in PEOPLE if p != commander])
        at = t0 + span * 0.6
        inc.roles[Role.COMMANDER] = new
        inc.role_history.append(RoleChange(Role.COMMANDER, new, at, commander))
        text = f"Incident Commander: {commander} → {new}"
        out.append((EntryKind.ROLE, text, at, commander, ""))
        text = f"Hand-off to {new}: status FIXING, next update due in 30 min"
        out.append((EntryKind.HANDOFF, text, at, commander, ""))
    inc.status = Status.FIXING
    if final is Status.FIXING:
        return out
    mitigated = t0 + span * rng.uniform(0.5, 0.8)
    inc.mitigated_at = mitigated
    inc.status = Status.MONITORING
    out.append((EntryKind.STATUS, "FIXING → MONITORING", mitigated, commander, ""))
    if final is Status.MONITORING:
        return out
    inc.status = Status.RESOLVED
    inc.resolved_at = end
    inc.last_update_at = end
    out.append((EntryKind.STATUS, "MONITORING → RESOLVED", end, commander, ""))
    n_follow = rng.randint(0, 3)
    inc.links.follow_ups = [
        Link(f"{JIRA}/{svc.split('-')[0].upper()}-{rng.randint(100, 999)}", "follow-up")
        for _ in range(n_follow)
    ]
    if rng.random() < 0.3:
        inc.links.bugs = [Link(f"{JIRA}/BUG-{rng.randint(1000, 9999)}", "root cause")]
    return out


def _people_entry(
    rng: random.Random, svc: str, at: datetime
) -> tuple[EntryKind, str, datetime, str, str]:
    roll = rng.random()
    author = rng.choice(PEOPLE)
    if roll < 0.62:
        return EntryKind.NOTE, _fill(rng, rng.choice(NOTES), svc), at, author, ""
    if roll < 0.85:
        ts = _ts(at, rng.randint(0, 999_999))
        link = f"{SLACK}/C04INCIDENTS/p{ts.replace('.', '')}"
        return EntryKind.PINNED, _fill(rng, rng.choice(PINNED), svc), at, author, link
    if roll < 0.97:
        return EntryKind.SENT, _fill(rng, rng.choice(SENT), svc), at, author, ""
    return EntryKind.CHECK, "checked the dashboards: no change", at, author, ""


def generate(data_dir: Path, params: Params = FULL) -> Report:
    """Write a store of `params`' size into `data_dir` (which must not hold a store yet)."""
    started = time.perf_counter()
    rng = random.Random(params.seed)
    ids = _Ids(params.seed)
    data_dir = Path(data_dir)
    if (data_dir / "index.json").exists():
        raise FileExistsError(f"{data_dir} already holds a store")
    pb_ids = {i.id for i in default_playbook().items}
    total = params.incidents
    # Report times: spread over the history, sorted, the newest 25 minutes before ANCHOR.
    history = timedelta(days=params.days)
    offsets = sorted(rng.uniform(0, history.total_seconds()) for _ in range(total))
    reported = [ANCHOR - history + timedelta(seconds=s) for s in offsets]
    if total:
        reported[-1] = ANCHOR - timedelta(minutes=25)
        if total > 1:
            reported[-2] = min(reported[-2], ANCHOR - timedelta(hours=5))
    plans = [_incident(rng, n, total, reported[n - 1]) for n in range(1, total + 1)]
    counts = _entry_counts(rng, [p[0].severity for p in plans], params.entries)
    n_entries = n_ticks = n_open = 0
    store = Store.open(data_dir)
    # Each incident is one write of its file (entries and ticks together), as
    # create_incident writes it; the index is made once at the end, by the store's own
    # rebuild from the files (a summary written per incident rewrites its block each time).
    put_summary, note = store._put_summary, store._note
    store._put_summary = lambda *a, **k: None  # type: ignore[method-assign]
    store._note = lambda incident_id: None  # type: ignore[method-assign]
    try:
        for (inc, svc, final), count in zip(plans, counts, strict=True):
            t0 = inc.first_reported_at
            if final.is_open:
                end = ANCHOR
            else:
                minutes = rng.lognormvariate(math.log(90), 0.9)
                if inc.severity is Severity.CRITICAL:
                    minutes *= 2
                end = min(t0 + timedelta(minutes=max(12.0, minutes)), ANCHOR)
            structural = _lifecycle(rng, inc, svc, final, end)
            rows = structural[:count]
            while len(rows) < count:
                at = t0 + (end - t0) * rng.random()
                rows.append(_people_entry(rng, svc, at))
            rows.sort(key=lambda r: r[2])
            entries = []
            for kind, text, at, author, link in rows:
                # People write things down a little after they happen; some are backdated.
                late = timedelta(seconds=rng.choice([5, 20, 60, 240, 900]))
                recorded = min(at + late, ANCHOR) if kind is not EntryKind.STATUS else at
                entries.append(
                    TimelineEntry(
                        id=ids(recorded),
                        incident_id=inc.id,
                        kind=kind,
                        text=text,
                        event_at=at,
                        recorded_at=max(recorded, at),
                        author=author,
                        link=link,
                    )
                )
            ticks = _ticks(rng, inc, end, pb_ids)
            store.create_incident(inc, entries, ticks=ticks)
            n_entries += len(entries)
            n_ticks += len(ticks)
            n_open += inc.is_open
        store._put_summary, store._note = put_summary, note  # type: ignore[method-assign]
        store.rebuild_index()  # every summary and the id counter, from the files
        listed = store.list_incidents()
    finally:
        store.close()
    n_feed = write_feed_cache(data_dir, params.feed, seed=params.seed)
    report = Report(
        path=data_dir,
        incidents=len(listed),
        entries=n_entries,
        ticks=n_ticks,
        feed=n_feed,
        open_incidents=n_open,
        active_id=str(total),
        seconds=time.perf_counter() - started,
    )
    return report


def _ticks(rng: random.Random, inc: Incident, end: datetime, pb_ids: set[str]) -> list[Tick]:
    items = _ticked_items(rng, inc, pb_ids, statuspage=inc.links.status_page is not None)
    if not items:
        return []
    t0 = inc.first_reported_at
    span = end - t0
    people = [p for p in (inc.commander, inc.comms, inc.created_by) if p]
    out: list[Tick] = []
    for k, item in enumerate(items):
        at = t0 + span * ((k + rng.random()) / len(items))
        who = rng.choice(people)
        if rng.random() < 0.04:  # ticked by mistake, unticked, ticked again later
            out.append(Tick(item, True, who, at))
            out.append(Tick(item, False, who, at + timedelta(seconds=20)))
            at += timedelta(seconds=40)
        out.append(Tick(item, True, who, at))
    return out


def _set_ticks(store: Store, incident_id: str, ticks: list[Tick]) -> None:
    """All of an incident's ticks in one write: `set_tick` nests into a transaction of the
    incident's file (the store has no bulk tick call; one fsync per tick would make the
    generator take minutes)."""
    shard = store._shard(incident_id)
    with shard.transaction():
        for tick in ticks:
            store.set_tick(incident_id, tick)


# -- the feed ----------------------------------------------------------------------------
def feed_dicts(
    n: int, *, seed: int, end: datetime, span: timedelta, alerts: float = 0.45
) -> Iterator[dict[str, Any]]:
    """`n` Slack messages as the feed shows them, oldest first, the last at `end`: #alerts
    bot alerts (a share `alerts` of them; some multi-line, some from integrations with
    attachment lines), people in #incidents and incident channels, threads with replies,
    a few edits and deletions."""
    rng = random.Random(seed * 31 + n)
    step = span / max(1, n)
    start = end - span
    open_threads: list[tuple[str, str, int]] = []  # (channel, ts, index in `pending`)
    pending: list[dict[str, Any]] = []
    for k in range(n):
        at = start + step * (k + 1)
        roll = rng.random()
        if roll < alerts:
            channel, author, is_alert = "alerts", rng.choice(ALERT_BOTS), True
            state = rng.choice(["Triggered", "Triggered", "Recovered", "Warn"])
            name, svc = rng.choice(SERVICES)
            metric = rng.choice(["error rate > 5%", "p95 latency > 2 s", "CPU > 90%"])
            text = f"[{state}] {svc} {metric} on prod-{rng.choice(['eu', 'us'])}"
            if rng.random() < 0.5:
                text += f"\nMonitor: {name} health\nhttps://app.datadoghq.eu/monitors/{k}"
            extra: list[str] = ["env: prod", f"service: {svc}"] if rng.random() < 0.3 else []
        else:
            people = (roll - alerts) / (1 - alerts) if alerts < 1 else 0.0
            channel = "incidents" if people < 0.64 else f"incident-{rng.randint(900, 1000)}"
            author, is_alert, extra = rng.choice(PEOPLE), False, []
            text = _fill(rng, rng.choice(CHAT))
        ts = _ts(at, k)
        msg: dict[str, Any] = {
            "v": FEED_SCHEMA,
            "channel": channel,
            "ts": ts,
            "at": at.isoformat(),
            "author": author,
            "text": text,
            "thread_ts": None,
            "reply_count": 0,
            "is_alert": is_alert,
            "permalink": f"{SLACK}/C0{channel.upper()[:8]}/p{ts.replace('.', '')}",
            "edited": rng.random() < 0.03,
            "deleted": rng.random() < 0.005,
            "extra": extra,
        }
        if not is_alert and open_threads and rng.random() < 0.35:
            t_channel, t_ts, t_index = rng.choice(open_threads)
            msg["channel"] = t_channel
            msg["thread_ts"] = t_ts
            pending[t_index]["reply_count"] += 1
            pending[t_index]["thread_ts"] = t_ts
        elif not is_alert and rng.random() < 0.3:
            open_threads.append((channel, ts, len(pending)))
            open_threads = open_threads[-20:]
        pending.append(msg)
    yield from pending


def feed_message(d: dict[str, Any]) -> FeedMessage:
    """A FeedMessage from one line of the feed cache."""
    return FeedMessage(
        channel=d["channel"],
        ts=d["ts"],
        at=datetime.fromisoformat(d["at"]),
        author=d["author"],
        text=d["text"],
        thread_ts=d.get("thread_ts"),
        reply_count=d.get("reply_count", 0),
        is_alert=d.get("is_alert", False),
        permalink=d.get("permalink", ""),
        edited=d.get("edited", False),
        deleted=d.get("deleted", False),
        extra=tuple(d.get("extra", ())),
    )


def write_feed_cache(data_dir: Path, n: int, *, seed: int) -> int:
    """The cached feed, written by the app's FeedCache (its format, its files)."""
    from cockpit.store.feedcache import FeedCache

    dicts = feed_dicts(n, seed=seed, end=ANCHOR, span=timedelta(days=30))
    return FeedCache(data_dir).append(feed_message(d) for d in dicts)


def read_feed_cache(data_dir: Path) -> list[FeedMessage]:
    """Every message in the feed cache, oldest first (as the files hold them)."""
    from cockpit.store.feedcache import FeedCache

    out: list[FeedMessage] = []
    for path in sorted(FeedCache(data_dir).dir.glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            out.extend(FeedMessage.from_dict(json.loads(line)) for line in f if line.strip())
    return out


# -- cache -------------------------------------------------------------------------------
def _code_hash() -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(f"{GEN_VERSION}/{STORE_SCHEMA}/{INCIDENT_SCHEMA}/{ENTRY_SCHEMA}".encode())
    h.update(f"/{TICK_SCHEMA}/{FEED_SCHEMA}".encode())
    return h.hexdigest()[:10]


def ensure(params: Params = FULL, *, cache: Path = DEFAULT_CACHE, force: bool = False) -> Report:
    """The cached store for `params`, generated (atomically: temp dir, then rename) if it
    is not there yet. Returns its report, with `cached` set when it was already there."""
    final = cache / f"store-{params.key()}"
    manifest = final / MANIFEST
    if not force and manifest.exists():
        report = Report.from_dict(json.loads(manifest.read_text()))
        report.path = final / "data"
        report.cached = True
        return report
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".gen-", dir=cache))
    try:
        report = generate(work / "data", params)
        (work / MANIFEST).write_text(json.dumps(report.to_dict(), indent=1))
        if final.exists():
            shutil.rmtree(final)
        try:
            os.rename(work, final)
        except OSError:  # another process won the race: use its copy
            if not manifest.exists():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    report.path = final / "data"
    return report


def working_copy(report: Report, dest: Path) -> Path:
    """A private copy of a cached store (benchmarks write to it); returns its data dir."""
    target = Path(dest) / "data"
    shutil.copytree(report.path, target, symlinks=True)
    with contextlib.suppress(FileNotFoundError):
        (target / "ui-state.json").unlink()
    return target


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Generate (or find cached) a realistic store.")
    p.add_argument("--incidents", type=int, default=FULL.incidents)
    p.add_argument("--entries", type=int, default=FULL.entries)
    p.add_argument("--feed", type=int, default=FULL.feed)
    p.add_argument("--seed", type=int, default=FULL.seed)
    p.add_argument("--days", type=int, default=FULL.days, help="the history's span")
    p.add_argument("--quick", action="store_true", help="the --quick size of bench/run.py")
    p.add_argument("--history", action="store_true", help="ten years: 20,000 incidents")
    p.add_argument("--out", type=Path, help="write here instead of the cache (not cached)")
    p.add_argument("--force", action="store_true", help="regenerate even if cached")
    a = p.parse_args(argv)
    params = (
        QUICK
        if a.quick
        else HISTORY_STORE
        if a.history
        else Params(a.incidents, a.entries, a.feed, a.seed, a.days)
    )
    report = generate(a.out, params) if a.out else ensure(params, force=a.force)
    print(report.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())

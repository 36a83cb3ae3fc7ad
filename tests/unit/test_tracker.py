"""The tracker's maps and its judgement of a ticket read from Jira (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cockpit.application.tracker import (
    Baseline,
    TicketState,
    TrackerMap,
    judge,
)
from cockpit.domain.incident import Incident, Link, Severity, Status
from cockpit.domain.outbox import OutboxItem, OutboxState
from cockpit.domain.team import TeamKind
from cockpit.integrations.jira.client import jira_time
from cockpit.integrations.jira.settings import JiraSettings

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def tmap(**kw: object) -> TrackerMap:
    return TrackerMap.of_settings(JiraSettings(**kw))  # type: ignore[arg-type]


def incident(
    status: Status = Status.FIXING, severity: Severity | None = Severity.CRITICAL
) -> Incident:
    inc = Incident(
        id="7", title="Search is down", first_reported_at=T0, created_at=T0, created_by="ada"
    )
    inc.links.ticket = Link("https://jira.example/browse/INC-7", "INC-7")
    if status is not Status.REPORTED:
        inc.transition(Status.FIXING, at=T0, by="ada")
    if status is Status.MONITORING:
        inc.transition(Status.MONITORING, at=T0, by="ada")
    inc.severity = severity
    return inc


def ticket(status: str = "Fixing", priority: str = "Highest", **kw: object) -> TicketState:
    return TicketState(
        "INC-7",
        status=status,
        category=str(kw.pop("category", "indeterminate")),
        priority=priority,
        updated=T0 + timedelta(minutes=5),
        **kw,
    )  # type: ignore[arg-type]


def base(state: TicketState) -> Baseline:
    return Baseline(state.values())


def test_status_names_map_through_the_configured_transitions() -> None:
    m = tmap()
    assert m.status_of(ticket("fixing"), {}) is Status.FIXING  # (case aside)
    assert m.status_of(ticket("Monitoring"), {}) is Status.MONITORING
    assert m.status_of(ticket("Pending", category="new"), {}) is Status.REPORTED
    assert m.status_of(ticket("In Review"), {}) is None
    assert m.status_of(ticket("In Review"), {"in review": "monitoring"}) is Status.MONITORING


def test_priority_and_field_map_back_to_one_severity() -> None:
    m = tmap()
    assert m.severity_of(ticket(priority="High"), by_priority=True) is Severity.MAJOR
    assert m.severity_of(ticket(priority="Medium"), by_priority=True) is Severity.MINOR
    assert m.severity_of(ticket(priority="Lowest"), by_priority=True) is None
    shared = tmap(priority={"critical": "P1", "major": "P1", "minor": "P3"})
    assert shared.severity_of(ticket(priority="P1"), by_priority=True) is None  # says nothing
    field = tmap(
        severity_field="customfield_10042", severity_values={"critical": "Sev1", "major": "Sev2"}
    )
    assert field.severity_of(ticket(severity_value="sev2")) is Severity.MAJOR


def test_the_first_read_is_the_baseline_and_no_news() -> None:
    j = judge(incident(Status.REPORTED), ticket("Monitoring"), None, tmap())
    assert not j.news and j.baseline is not None and j.baseline.values["status"] == "Monitoring"


def test_a_change_in_jira_is_a_move_legal_or_not() -> None:
    m, inc = tmap(), incident(Status.FIXING)
    j = judge(inc, ticket("Monitoring", "High"), base(ticket("Fixing")), m)
    assert [(x.kind, x.to, x.legal) for x in j.moves] == [
        (TeamKind.STATUS, "monitoring", True),
        (TeamKind.SEVERITY, "major", True),
    ]
    back = judge(inc, ticket("Pending", category="new"), base(ticket("Fixing")), m)
    [move] = back.moves
    assert not move.legal and "FIXING here" in move.why and "Pending" in move.why


def test_our_own_change_read_back_is_no_news() -> None:
    inc = incident(Status.MONITORING)  # we moved it; Jira followed
    j = judge(inc, ticket("Monitoring"), base(ticket("Fixing")), tmap())
    assert not j.news and j.baseline is not None


def test_a_ticket_that_never_took_our_value_is_not_a_change() -> None:
    inc = incident(Status.FIXING, Severity.CRITICAL)  # its screen has no Priority: Medium
    j = judge(inc, ticket("Fixing", "Medium"), base(ticket("Fixing", "Medium")), tmap())
    assert not j.news


def test_our_writes_in_flight_hold_the_judgement() -> None:
    item = OutboxItem.new("7", "jira.transition", "Mark FIXING", {"to": "fixing"}, at=T0)
    j = judge(
        incident(),
        ticket("Pending", category="new"),
        base(ticket("Fixing")),
        tmap(),
        own_writes=[item],
    )
    assert j.held and not j.moves
    failed = OutboxItem.from_dict({**item.to_dict(), "state": OutboxState.FAILED.value})
    before = replace(ticket("Pending"), updated=T0)  # as Jira was when ours failed
    assert judge(incident(), before, base(ticket("Fixing")), tmap(), own_writes=[failed]).held


def test_a_write_of_ours_that_failed_holds_no_change_made_after_it() -> None:
    """A failed write waits for the person (retry or discard): a change made in Jira
    after it failed was held until then, and the teammate's cockpit applied it alone."""
    item = OutboxItem.new("7", "jira.transition", "Mark RESOLVED", {"to": "resolved"}, at=T0)
    failed = OutboxItem.from_dict({**item.to_dict(), "state": OutboxState.FAILED.value})
    inc = incident(Status.MONITORING)
    later = replace(ticket("Fixing"), updated=T0 + timedelta(minutes=5))
    j = judge(inc, later, base(ticket("Monitoring")), tmap(), own_writes=[failed])
    assert not j.held
    assert [(m.kind, m.to) for m in j.moves] == [(TeamKind.STATUS, "fixing")]


def test_a_status_our_transition_led_to_is_learned() -> None:
    item = OutboxItem.new("7", "jira.transition", "Mark FIXING", {"to": "fixing"}, at=T0)
    sent = OutboxItem.from_dict({**item.to_dict(), "state": OutboxState.SENT.value})
    j = judge(incident(), ticket("In Progress"), base(ticket("Pending")), tmap(), own_writes=[sent])
    assert not j.news and j.baseline is not None
    assert j.baseline.learned == {"in progress": "fixing"}


def test_jira_times() -> None:
    assert jira_time("2026-12-07T04:52:02.123+0000") == datetime(
        2026, 12, 7, 4, 52, 2, 123000, tzinfo=UTC
    )
    assert jira_time("2026-12-07T05:52:02+0100") == datetime(2026, 12, 7, 4, 52, 2, tzinfo=UTC)
    assert jira_time("yesterday") is None and jira_time(None) is None


class FakeIssue:
    def __init__(self, key: str, status: str) -> None:
        self.key = key
        self.fields = {"status": {"name": status, "statusCategory": {"key": "indeterminate"}}}


class FakeJira:
    def __init__(self) -> None:
        self.status = {"INC-7": "Fixing", "INC-8": "Fixing"}
        self.reads: list[list[str]] = []

    async def issues_by_key(self, keys, fields):  # type: ignore[no-untyped-def]
        self.reads.append(list(keys))
        return [FakeIssue(k, self.status[k]) for k in keys]


async def test_the_watch_reads_when_due_and_confirms_a_change_before_applying() -> None:
    from cockpit.application.tracker import TrackerApplied, TrackerWatch

    now = [1000.0]
    applied: list[tuple[str, str]] = []

    async def apply(iid: str, state: TicketState) -> TrackerApplied:
        applied.append((iid, state.status))
        return TrackerApplied(iid)

    async def pending(iid: str, state: TicketState) -> bool:
        return state.status != "Fixing"  # (what the incident holds)

    jira = FakeJira()
    watch = TrackerWatch(jira, apply, pending, every=60.0, confirm=20.0, monotonic=lambda: now[0])
    tickets = {"INC-7": "7", "INC-8": "8"}
    assert watch.due(tickets) == ["INC-7", "INC-8"]  # never read: at once
    await watch.read(tickets)
    assert jira.reads == [["INC-7", "INC-8"]]  # one request for both
    assert applied == [("7", "Fixing"), ("8", "Fixing")]
    assert watch.due(tickets) == [] and watch.next_in(tickets) == 60.0
    jira.status["INC-7"] = "Monitoring"
    now[0] += 60
    await watch.read({k: tickets[k] for k in watch.due(tickets)})
    assert applied[-1] == ("8", "Fixing")  # INC-7's change: seen once, not applied
    assert watch.next_in(tickets) == 20.0  # read again sooner to confirm it
    now[0] += 20
    assert watch.due(tickets) == ["INC-7"]
    await watch.read({"INC-7": "7"})
    assert applied[-1] == ("7", "Monitoring")


def test_a_passing_fault_is_read_again_soon_a_lasting_one_later_and_later() -> None:
    """One read in five refused (the drill range's --faults 0.2) kept a change made in
    Jira out of both cockpits for minutes (60, 120, 240 s after each failure)."""
    from cockpit.application.tracker import TRANSIENT_READS, TrackerLoop
    from cockpit.integrations.errors import RemoteError

    loop = TrackerLoop(None, dict, print)  # type: ignore[arg-type]
    passing = RemoteError("Jira", "answered 502", status=502, retryable=True)
    lost = RemoteError("Jira", "gave no answer", ambiguous=True)
    refused = RemoteError("Jira", "answered 401", status=401)
    waits = []
    for n in range(1, TRANSIENT_READS + 3):
        loop._failures = n
        waits.append((loop.retry_in(passing), loop.retry_in(lost), loop.retry_in(refused)))
    assert [w[0] for w in waits] == [5.0, 10.0, 20.0, 60.0, 120.0]
    assert [w[1] for w in waits] == [w[0] for w in waits]
    assert [w[2] for w in waits] == [60.0, 120.0, 240.0, 480.0, 600.0]


def test_moved_back_in_jira_behind_our_own_move_is_a_change() -> None:
    """The last read said Fixing; ours to Monitoring went (the reads were held while it
    went); then someone moved the ticket back to Fixing in Jira before the next read. That
    read shows Fixing, what the last one said: a change all the same (in tmux, a move
    made in Jira reached neither cockpit in 200 s)."""
    mine = OutboxItem.new("7", "jira.transition", "Mark MONITORING", {"to": "monitoring"}, at=T0)
    sent = mine.sent(at=T0 + timedelta(minutes=1), remote_id="INC-7", remote_link="")
    inc = incident(Status.MONITORING)
    before = base(ticket("Fixing"))  # (taken before ours went: it knows none of ours)
    j = judge(inc, ticket("Fixing"), before, tmap(), own_writes=[sent])
    assert [(m.kind, m.to, m.legal) for m in j.moves] == [(TeamKind.STATUS, "fixing", True)]
    assert j.baseline is not None and j.baseline.ours == sent.id
    # read back at Monitoring: ours, no news; and the baseline knows it, so the next read
    # judges against it as before
    j = judge(inc, ticket("Monitoring"), before, tmap(), own_writes=[sent])
    assert not j.news and j.baseline is not None
    assert not judge(inc, ticket("Monitoring"), j.baseline, tmap(), own_writes=[sent]).news
    moved = judge(inc, ticket("Fixing"), j.baseline, tmap(), own_writes=[sent])
    assert [m.to for m in moved.moves] == ["fixing"]
    # kept and read back from the incident's file
    assert Baseline.from_docs([j.baseline.to_dict()]) == j.baseline

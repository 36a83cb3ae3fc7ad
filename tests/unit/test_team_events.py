"""Team events: encoding as Slack metadata, defensive decoding, and applying (idempotent,
original times, remote order, conflicts)."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.domain.checklist import Tick
from cockpit.domain.incident import (
    Incident,
    Link,
    Role,
    Severity,
    Status,
    severity_change,
    status_page_text,
)
from cockpit.domain.team import (
    CLOCK_SKEW,
    MAX_METADATA_BYTES,
    PENDING,
    BadEvent,
    Known,
    Received,
    Seen,
    TeamEvent,
    TeamKey,
    TeamKind,
    TeamLedger,
    decode_message,
    decode_metadata,
    joined_incident,
    raised_at,
    raised_event,
)
from cockpit.domain.timeline import EntryKind

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = TeamKey("INC-12", "C0INC12")
ME, THEM = "cockpit-a", "cockpit-b"


def incident(status: Status = Status.REPORTED) -> Incident:
    inc = Incident(id="3", title="Checkout fails", first_reported_at=T0, created_at=T0)
    inc.links.ticket = Link("https://jira.example/browse/INC-12", "INC-12")
    inc.links.channel = Link("https://drill.slack.com/archives/C0INC12", "#incident-12")
    if status is not Status.REPORTED:
        inc.transition(Status.FIXING, at=T0, by="x")
        if status is not Status.FIXING:
            inc.transition(status, at=T0, by="x", reason="r")
    return inc


def ev(kind: TeamKind, data: dict[str, Any], *, minutes: int = 1, by: str = "Ana") -> TeamEvent:
    return TeamEvent.new(kind, KEY, data, at=T0 + timedelta(minutes=minutes), by=by, origin=THEM)


def ts(n: int) -> str:
    return f"{int(T0.timestamp()) + 60 * n}.{n:06d}"


def rx(event: TeamEvent, n: int) -> Received:
    return Received(event, ts(n), KEY.channel)


NOW = T0 + timedelta(hours=1)


# -- encoding ------------------------------------------------------------------------------
def test_metadata_has_slacks_shape_and_reads_back() -> None:
    e = ev(TeamKind.STATUS, {"from": "reported", "to": "fixing"})
    meta = e.metadata()
    assert meta["event_type"] == "cockpit_status_changed"
    payload = meta["event_payload"]
    assert payload["id"] == e.id and payload["ticket"] == "INC-12"
    # Slack's payload values: scalars, or an object of scalars
    for value in payload.values():
        if isinstance(value, dict):
            assert all(isinstance(v, str | int | bool) for v in value.values())
        else:
            assert isinstance(value, str | int | bool)
    assert decode_metadata(json.loads(json.dumps(meta))) == e


def test_message_text_reads_well_and_is_escaped() -> None:
    e = ev(TeamKind.NOTE, {"text": "<!channel> db at 100% & <@U1>"}, by="Ana <b>")
    text = e.text()
    assert "<!channel>" not in text and "<@U1>" not in text and "<b>" not in text
    assert "&lt;!channel&gt;" in text and "&amp;" in text
    assert text.startswith(":memo: *Timeline* (Ana &lt;b&gt;)")


def test_our_own_events_are_checked_before_they_go() -> None:
    with pytest.raises(BadEvent):
        ev(TeamKind.STATUS, {"to": "sideways"})
    with pytest.raises(BadEvent):
        TeamEvent.new(TeamKind.NOTE, TeamKey(), {"text": "x"}, at=T0, by="a", origin=ME)
    with pytest.raises(BadEvent):
        ev(TeamKind.NOTE, {"text": "x" * 5000})


# -- decoding defensively ----------------------------------------------------------------------
def good_meta() -> dict[str, Any]:
    return ev(TeamKind.SEVERITY, {"to": "major"}).metadata()


@pytest.mark.parametrize(
    "spoil",
    [
        lambda m: m.update(event_type="cockpit_unknown_thing"),
        lambda m: m.update(event_type="task_created"),
        lambda m: m.update(event_type=["cockpit_severity_set"]),
        lambda m: m.update(event_payload="{}"),
        lambda m: m["event_payload"].update(v=2),
        lambda m: m["event_payload"].update(v=True),
        lambda m: m["event_payload"].update(id="not-a-uuid"),
        lambda m: m["event_payload"].update(id=str(uuid.uuid4()).upper()),
        lambda m: m["event_payload"].update(ticket="inc-12; drop"),
        lambda m: m["event_payload"].update(ticket="", channel=""),
        lambda m: m["event_payload"].update(channel="#incident-12"),
        lambda m: m["event_payload"].update(at="yesterday"),
        lambda m: m["event_payload"].update(at="1066-10-14T09:00:00+00:00"),
        lambda m: m["event_payload"].update(at=12),
        lambda m: m["event_payload"].update(by=["Ana"]),
        lambda m: m["event_payload"].update(by="A" * 500),
        lambda m: m["event_payload"].update(origin="a b"),
        lambda m: m["event_payload"].update(data=[1, 2]),
        lambda m: m["event_payload"]["data"].update(to="catastrophic"),
        lambda m: m["event_payload"]["data"].update(to=3),
        lambda m: m["event_payload"]["data"].pop("to"),
        lambda m: m["event_payload"]["data"].update(big="x" * (MAX_METADATA_BYTES + 1)),
    ],
)
def test_malformed_or_foreign_metadata_is_refused_quietly(spoil: Any) -> None:
    meta = good_meta()
    assert decode_metadata(meta) is not None
    spoil(meta)
    assert decode_metadata(meta) is None


def test_decoded_text_is_sanitized() -> None:
    meta = ev(TeamKind.NOTE, {"text": "ok"}).metadata()
    meta["event_payload"]["data"]["text"] = "\x1b]52;c;aGk=\x07evil\u202e\x1b[2J line"
    meta["event_payload"]["by"] = "Ana\x1b[31m\nEve"
    got = decode_metadata(meta)
    assert got is not None
    assert "\x1b" not in str(got.data["text"]) and "\u202e" not in str(got.data["text"])
    assert "\n" not in got.by and "\x1b" not in got.by


def test_bad_urls_are_refused() -> None:
    meta = ev(TeamKind.NOTE, {"text": "x"}).metadata()
    meta["event_payload"]["data"]["link"] = "javascript:alert(1)"
    assert decode_metadata(meta) is None


def test_decode_message_wants_a_plain_post_with_a_ts() -> None:
    e = ev(TeamKind.NOTE, {"text": "x"})
    msg = {"type": "message", "ts": ts(1), "text": e.text(), "metadata": e.metadata()}
    assert decode_message(msg, "C0INC12") == Received(e, ts(1), "C0INC12")
    assert decode_message({**msg, "subtype": "message_changed"}, "C0INC12") is None
    assert decode_message({**msg, "ts": "soon"}, "C0INC12") is None
    assert decode_message(msg, "C0OTHER") is None  # an event about another channel
    assert decode_message({k: v for k, v in msg.items() if k != "metadata"}) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=120, deadline=None)
@given(
    event_type=st.sampled_from([*(k.event_type for k in TeamKind), "x", ""]) | st.text(),
    payload=st.dictionaries(
        st.sampled_from(["v", "id", "ticket", "channel", "at", "by", "origin", "data"])
        | st.text(max_size=5),
        json_values,
        max_size=9,
    ),
)
def test_decode_never_raises_on_anything(event_type: str, payload: dict[str, Any]) -> None:
    got = decode_metadata({"event_type": event_type, "event_payload": payload})
    assert got is None or isinstance(got, TeamEvent)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(min_size=1, max_size=300),
    by=st.text(max_size=60),
    minutes=st.integers(0, 600),
)
def test_every_note_we_can_make_reads_back_equal(text: str, by: str, minutes: int) -> None:
    try:
        e = ev(TeamKind.NOTE, {"text": text}, minutes=minutes, by=by)
    except BadEvent:
        return  # (nothing left of the text once sanitized)
    assert decode_metadata(json.loads(json.dumps(e.metadata()))) == e


# -- applying -------------------------------------------------------------------------------
def test_an_event_is_applied_once_with_its_own_time() -> None:
    inc, ledger = incident(), TeamLedger([], me=ME)
    e = ev(TeamKind.STATUS, {"from": "reported", "to": "fixing"}, minutes=5)
    out = ledger.receive(inc, rx(e, 6), ticks={}, now=NOW)
    assert inc.status is Status.FIXING and inc.fixing_at == T0 + timedelta(minutes=5)
    assert out.changed and out.applied == 1
    [entry] = out.entries
    assert entry.kind is EntryKind.STATUS and entry.event_at == T0 + timedelta(minutes=5)
    assert entry.author == "Ana" and entry.id == f"team-{e.id}"
    again = ledger.receive(inc, rx(e, 6), ticks={}, now=NOW)
    assert again.entries == [] and again.applied == 0 and not again.changed


def test_a_hostile_time_is_clamped_to_the_report_and_the_post() -> None:
    inc, ledger = incident(), TeamLedger([], me=ME)
    early = TeamEvent.new(
        TeamKind.NOTE, KEY, {"text": "x"}, at=T0 - timedelta(days=30), by="a", origin=THEM
    )
    late = TeamEvent.new(
        TeamKind.NOTE, KEY, {"text": "y"}, at=T0 + timedelta(days=30), by="a", origin=THEM
    )
    [e1] = ledger.receive(inc, rx(early, 1), ticks={}, now=NOW).entries
    [e2] = ledger.receive(inc, rx(late, 2), ticks={}, now=NOW).entries
    assert e1.event_at == T0
    assert e2.event_at <= Received(late, ts(2)).posted_at + timedelta(minutes=2)


def test_two_changes_of_one_field_resolve_by_slacks_order_whatever_the_arrival() -> None:
    a = ev(TeamKind.SEVERITY, {"to": "major"}, minutes=9)  # happened later...
    b = ev(TeamKind.SEVERITY, {"to": "critical"}, minutes=1)  # ...but posted later
    for order in ([(a, 1), (b, 2)], [(b, 2), (a, 1)]):
        inc, ledger = incident(), TeamLedger([], me=ME)
        for e, n in order:
            ledger.receive(inc, rx(e, n), ticks={}, now=NOW)
        assert inc.severity is Severity.CRITICAL
        assert ledger.known[a.id].state is Seen.SUPERSEDED


def test_our_pending_change_holds_until_it_takes_its_place() -> None:
    inc, ledger = incident(), TeamLedger([], me=ME)
    inc.set_severity(Severity.MINOR, at=T0, by="me")
    mine = TeamEvent.new(TeamKind.SEVERITY, KEY, {"to": "minor"}, at=T0, by="me", origin=ME)
    ledger.record_own(mine, marker="item-1")
    theirs = ev(TeamKind.SEVERITY, {"to": "critical"})
    ledger.receive(inc, rx(theirs, 5), ticks={}, now=NOW)
    assert inc.severity is Severity.MINOR  # ours is not posted yet: it will be later
    # ours turns out to have been posted before theirs: theirs wins after all
    out = ledger.receive(inc, Received(mine, ts(3), KEY.channel), ticks={}, now=NOW)
    assert inc.severity is Severity.CRITICAL and out.changed


def test_our_lost_change_counts_not_at_all() -> None:
    inc = incident()
    mine = TeamEvent.new(TeamKind.SEVERITY, KEY, {"to": "minor"}, at=T0, by="me", origin=ME)
    ledger = TeamLedger([Known(mine, state=Seen.OWN, marker="m")], me=ME, own_order=lambda k: None)
    ledger.receive(inc, rx(ev(TeamKind.SEVERITY, {"to": "major"}), 1), ticks={}, now=NOW)
    assert inc.severity is Severity.MAJOR


def test_an_illegal_move_is_a_conflict_never_applied() -> None:
    inc, ledger = incident(Status.RESOLVED), TeamLedger([], me=ME)
    e = ev(TeamKind.STATUS, {"from": "fixing", "to": "monitoring"})
    out = ledger.receive(inc, rx(e, 1), ticks={}, now=NOW)
    assert inc.status is Status.RESOLVED
    assert out.conflicts and "RESOLVED here" in out.conflicts[0]
    assert ledger.known[e.id].state is Seen.CONFLICT
    assert "not applied here" in out.entries[0].text
    assert [k.event.id for k in ledger.conflicts()] == [e.id]
    ledger.settle(e.id)
    assert ledger.conflicts() == []


def test_ticks_roles_assessment_and_notes() -> None:
    inc, ledger = incident(), TeamLedger([], me=ME)
    later = Tick("mark-fixing", False, "me", T0 + timedelta(minutes=30))
    out = ledger.receive(
        inc,
        rx(ev(TeamKind.TICK, {"item": "mark-fixing", "ticked": True}), 1),
        ticks={"mark-fixing": later},
        now=NOW,
    )
    [tick] = out.ticks
    assert tick.ticked and tick.at == later.at  # the newest, so the store's latest is it
    ledger.receive(
        inc, rx(ev(TeamKind.ROLE, {"role": "comms", "person": "Bo"}), 2), ticks={}, now=NOW
    )
    assert inc.roles[Role.COMMS] == "Bo"
    ledger.receive(
        inc,
        rx(ev(TeamKind.ASSESSMENT, {"affected": "all EU", "reproduced": "yes", "known": ""}), 3),
        ticks={},
        now=NOW,
    )
    assert inc.assessment.affected == "all EU" and inc.assessment.reproduced is True
    out = ledger.receive(
        inc, rx(ev(TeamKind.STATUS_PAGE, {"status": "identified"}, minutes=7), 8), ticks={}, now=NOW
    )
    assert inc.last_update_at == T0 + timedelta(minutes=7)


def test_another_incidents_event_is_ignored() -> None:
    inc, ledger = incident(), TeamLedger([], me=ME)
    other = TeamEvent.new(
        TeamKind.SEVERITY, TeamKey("INC-99", "C0INC99"), {"to": "major"}, at=T0, by="a", origin=THEM
    )
    assert ledger.receive(inc, rx(other, 1), ticks={}, now=NOW).applied == 0
    assert inc.severity is None


def test_the_ledger_survives_its_documents() -> None:
    inc, ledger = incident(), TeamLedger([], me=ME)
    e = ev(TeamKind.SEVERITY, {"to": "major"})
    out = ledger.receive(inc, rx(e, 1), ticks={}, now=NOW)
    docs = [json.loads(json.dumps(k.to_dict())) for k in out.known]
    again = TeamLedger.from_docs(docs, me=ME)
    assert again.receive(inc, rx(e, 1), ticks={}, now=NOW).applied == 0
    assert TeamLedger.from_docs([{"id": "x", "v": 1, "event": {"bad": 1}}], me=ME).known == {}


# -- convergence, as a property ------------------------------------------------------------
SEVERITY_EVENTS = [
    ev(TeamKind.SEVERITY, {"to": s.value}, minutes=i) for i, s in enumerate(Severity)
]
ROLE_EVENTS = [ev(TeamKind.ROLE, {"role": "commander", "person": p}) for p in ("Ana", "Bo", "Cy")]


@settings(max_examples=200, deadline=None)
@given(
    picks=st.lists(st.tuples(st.integers(0, 5), st.integers(1, 1000)), min_size=1, max_size=8),
    seed=st.integers(0, 2**32),
)
def test_any_arrival_order_and_repeats_end_in_the_same_state(
    picks: list[tuple[int, int]], seed: int
) -> None:
    events = SEVERITY_EVENTS + ROLE_EVENTS
    stream = [rx(events[i], n) for i, n in picks]
    stream = list({r.event.id: r for r in stream}.values())  # one post per event
    results = set()
    rng = random.Random(seed)
    for _ in range(3):
        order = stream + rng.sample(stream, k=min(2, len(stream)))  # with repeats
        rng.shuffle(order)
        inc, ledger = incident(), TeamLedger([], me=ME)
        for r in order:
            ledger.receive(inc, r, ticks={}, now=NOW)
        results.add((inc.severity, inc.commander))
    assert len(results) == 1
    [(severity, commander)] = results

    def last(kind: TeamKind) -> TeamEvent | None:
        mine = [r for r in stream if r.event.kind is kind]
        return (
            max(mine, key=lambda r: (int(r.ts.split(".")[1]), r.event.id)).event if mine else None
        )

    sev = last(TeamKind.SEVERITY)
    assert severity == (Severity(str(sev.data["to"])) if sev else None)
    role = last(TeamKind.ROLE)
    assert commander == (str(role.data["person"]) if role else "")


# -- raising and joining --------------------------------------------------------------------
def test_join_makes_the_incident_from_the_raised_event() -> None:
    inc = incident(Status.FIXING)
    inc.links.thread = Link("https://drill.slack.com/archives/C0REPORTS/p1700000000000100", "x")
    inc.set_severity(Severity.MAJOR, at=T0, by="Ana")
    inc.roles[Role.COMMS] = "Bo"
    raised = raised_event(inc, origin=THEM, at=T0 + timedelta(minutes=2), by="Ana")
    r = decode_message(
        {"type": "message", "ts": ts(3), "metadata": json.loads(json.dumps(raised.metadata()))}
    )
    assert r is not None
    joined, entries = joined_incident(r, incident_id="1", now=NOW)
    assert joined.id == "1" and joined.title == "Checkout fails"
    assert joined.first_reported_at == T0
    assert joined.status is Status.FIXING and joined.severity is Severity.MAJOR
    assert joined.roles == {Role.COMMANDER: "x", Role.COMMS: "Bo"}
    assert TeamKey.of(joined) == KEY
    assert joined.links.thread is not None and joined.acknowledged_at is not None
    assert [e.kind for e in entries] == [EntryKind.NOTE, EntryKind.ACTION]


def test_a_joined_incident_is_acknowledged_when_the_raisers_ticket_was_made() -> None:
    """The raise is queued before its ticket exists: the joiner's acknowledgement (the
    SLO's stop) is the raiser's, not the raise's time; a time long after the reply was
    posted (a lie) is held to the post and the clocks' skew."""
    inc = incident(Status.FIXING)
    inc.acknowledged_at = T0 + timedelta(minutes=2, seconds=3.25)
    inc.created_at = T0 + timedelta(minutes=1, seconds=2.5)  # (raised a minute after the report)
    raised = raised_event(inc, origin=THEM, at=T0 + timedelta(minutes=2), by="Ana")
    meta = json.loads(json.dumps(raised.metadata()))
    r = decode_message({"type": "message", "ts": ts(3), "metadata": meta})
    assert r is not None
    joined, _ = joined_incident(r, incident_id="1", now=NOW)
    assert joined.acknowledged_at == inc.acknowledged_at
    # the "raise" tick's time: when the raiser's cockpit made the incident
    assert raised_at(r, now=NOW) == inc.created_at
    meta["event_payload"]["data"]["acknowledged_at"] = (T0 + timedelta(hours=5)).isoformat()
    late = decode_message({"type": "message", "ts": ts(3), "metadata": meta})
    assert late is not None
    joined, _ = joined_incident(late, incident_id="1", now=NOW)
    assert joined.acknowledged_at == late.posted_at + CLOCK_SKEW  # (clocks may differ)


def test_keys_match_on_a_ticket_or_a_channel_in_common() -> None:
    assert TeamKey("INC-1", "").matches(TeamKey("INC-1", "C0X1"))
    assert TeamKey("", "C0X1").matches(TeamKey("INC-1", "C0X1"))
    assert not TeamKey("INC-1", "C0X1").matches(TeamKey("INC-1", "C0X2"))
    assert not TeamKey().matches(TeamKey())


def test_pending_sorts_after_any_real_ts() -> None:
    assert PENDING > (10**12, 999999)


# -- what went out, and hand-offs ------------------------------------------------------------
def test_a_status_page_update_links_the_page_incident_and_shows_as_sent() -> None:
    inc = incident(Status.FIXING)
    ledger = TeamLedger([], me=ME)
    data = {
        "status": "investigating",
        "link": "https://stspg.io/abc",
        "page_id": "p0abc123",
        "components": "Payments, Checkout",
        "template": "statuspage-investigating",
        "title": "Status page: investigating",
        "text": "We're investigating failed card payments.",
    }
    e = ev(TeamKind.STATUS_PAGE, data, minutes=5)
    out = ledger.receive(inc, rx(e, 6), ticks={}, now=NOW)
    # the page's incident, by its id: this cockpit's next update goes to it
    assert inc.links.status_page == Link("https://stspg.io/abc", "p0abc123")
    assert inc.affected_components == ["Payments", "Checkout"]
    assert inc.last_update_at == T0 + timedelta(minutes=5)
    [entry] = out.entries
    assert entry.event_at == T0 + timedelta(minutes=5) and entry.author == "Ana"
    assert entry.text == "status page: investigating (Payments, Checkout)"
    assert entry.kind is EntryKind.SENT  # (an update: the sender's entry is a send)
    [draft] = out.drafts
    assert draft.state.value == "sent" and draft.kind == "statuspage"
    assert draft.body == data["text"] and draft.target.endswith("(sent by Ana)")
    assert draft.id == f"team-{e.id}" and draft.sent_at == T0 + timedelta(minutes=5)
    # an older update read later neither moves the link, nor the components, nor the time
    older = ev(TeamKind.STATUS_PAGE, {**data, "page_id": "other", "components": "X"}, minutes=2)
    ledger.receive(inc, rx(older, 7), ticks={}, now=NOW)
    assert inc.links.status_page.label == "p0abc123"
    assert inc.affected_components == ["Payments", "Checkout"]
    assert inc.last_update_at == T0 + timedelta(minutes=5)
    # and again: nothing
    again = ledger.receive(inc, rx(e, 6), ticks={}, now=NOW)
    assert again.applied == 0 and not again.drafts and not again.entries


def test_a_status_page_link_without_its_id_is_not_taken() -> None:
    inc = incident(Status.FIXING)
    e = ev(TeamKind.STATUS_PAGE, {"status": "identified", "link": "https://stspg.io/x"})
    TeamLedger([], me=ME).receive(inc, rx(e, 2), ticks={}, now=NOW)
    assert inc.links.status_page is None  # (the updates address the page's incident by id)


def test_a_sent_draft_shows_what_went_where_by_whom() -> None:
    inc = incident(Status.FIXING)
    e = ev(
        TeamKind.DRAFT_SENT,
        {
            "title": "Stakeholder update",
            "target": "the #incidents thread",
            "template": "stakeholder-update",
            "text": "Payments are failing; next update 10:30.",
            "link": "https://drill.slack.com/archives/C0INC12/p1",
        },
        minutes=7,
        by="Bo",
    )
    out = TeamLedger([], me=ME).receive(inc, rx(e, 8), ticks={}, now=NOW)
    [entry] = out.entries
    assert entry.kind is EntryKind.SENT and entry.link.endswith("/p1")
    assert entry.text == "Stakeholder update — sent to the #incidents thread"
    [draft] = out.drafts
    assert (draft.title, draft.target) == (
        "Stakeholder update",
        "the #incidents thread (sent by Bo)",
    )
    assert draft.remote_link.endswith("/p1") and draft.kind == "slack"
    assert inc.last_update_at == T0 + timedelta(minutes=7)
    # without the text, only the timeline hears of it
    bare = ev(TeamKind.DRAFT_SENT, {"title": "Kick-off"}, minutes=8)
    assert not TeamLedger([], me=ME).receive(inc, rx(bare, 9), ticks={}, now=NOW).drafts


def test_a_hand_off_moves_the_role_and_resolves_with_assignments() -> None:
    inc = incident(Status.FIXING)
    inc.roles[Role.COMMS] = "Ana"
    ledger = TeamLedger([], me=ME)
    handoff = ev(TeamKind.HANDOFF, {"role": "comms", "person": "Bo", "previous": "Ana"}, minutes=4)
    out = ledger.receive(inc, rx(handoff, 5), ticks={}, now=NOW)
    assert inc.roles[Role.COMMS] == "Bo"
    assert out.entries[0].text == "Communications Officer: Ana → Bo (handed over)"
    assert out.entries[0].kind is EntryKind.ROLE
    # an assignment posted before it, read after, does not undo the hand-off
    earlier = ev(TeamKind.ROLE, {"role": "comms", "person": "Cy"}, minutes=3)
    ledger.receive(inc, rx(earlier, 4), ticks={}, now=NOW)
    assert inc.roles[Role.COMMS] == "Bo"
    later = ev(TeamKind.HANDOFF, {"role": "comms", "person": "Ana", "previous": "Bo"}, minutes=9)
    ledger.receive(inc, rx(later, 10), ticks={}, now=NOW)
    assert inc.roles[Role.COMMS] == "Ana"


def test_sent_texts_are_sanitized_and_bounded() -> None:
    meta = ev(TeamKind.DRAFT_SENT, {"title": "Update", "text": "ok"}).metadata()
    meta["event_payload"]["data"]["text"] = "[b]x[/b]\x1b[31m red\u202e"
    e = decode_metadata(meta)
    assert (
        e is not None and "\x1b" not in str(e.data["text"]) and "\u202e" not in str(e.data["text"])
    )
    meta["event_payload"]["data"]["text"] = "x" * 2001
    assert decode_metadata(meta) is None
    meta = ev(TeamKind.STATUS_PAGE, {"status": "monitoring"}).metadata()
    meta["event_payload"]["data"]["page_id"] = "../../x"
    assert decode_metadata(meta) is None


@pytest.mark.parametrize(
    ("before", "after"),
    [(b, a) for b in (None, *Severity) for a in Severity if b is not a],
)
def test_a_severity_event_reads_as_the_entry_its_sender_made(
    before: Severity | None, after: Severity
) -> None:
    inc = incident()
    inc.severity = before
    entry = inc.set_severity(after, at=T0, by="Ana")
    said = severity_change(entry.text)
    assert said == (before, after)
    data = {"to": after.value, "from": before.value if before else ""}
    assert ev(TeamKind.SEVERITY, data).describe() == entry.text
    # an older cockpit's event, without where it came from: never a made-up "unset"
    assert ev(TeamKind.SEVERITY, {"to": after.value}).describe() == f"severity set to {after.label}"


def test_a_status_page_incident_opened_reads_as_the_senders_entry() -> None:
    """The cockpit that opened the page's incident wrote "status-page incident opened: …"
    (an action): the others' entry has its words and kind."""
    inc = incident(Status.FIXING)
    data = {"status": "investigating", "components": "Payments", "opened": "yes"}
    [entry] = (
        TeamLedger([], me=ME)
        .receive(inc, rx(ev(TeamKind.STATUS_PAGE, data), 2), ticks={}, now=NOW)
        .entries
    )
    assert entry.text == status_page_text("investigating", ["Payments"], opened=True)
    assert entry.text == "status-page incident opened: investigating (Payments)"
    assert entry.kind is EntryKind.ACTION
    # read from Slack: a value the schema does not know is refused, not read as "opened"
    meta = ev(TeamKind.STATUS_PAGE, data).metadata()
    assert decode_metadata(meta) is not None
    meta["event_payload"]["data"]["opened"] = "maybe"
    assert decode_metadata(meta) is None

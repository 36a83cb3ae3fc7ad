"""Presence: who else has an incident open (entries on the ticket's issue property):
parsed defensively, merged without stale entries, shown as "also here"; the loop's
requests and what it reports."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cockpit.application.presence import PresenceLoop
from cockpit.domain.clock import FrozenClock
from cockpit.domain.incident import Incident, Link, Role
from cockpit.domain.presence import (
    PERIOD,
    PROPERTY_KEY,
    STALE_AFTER,
    Here,
    also_here,
    merge,
    others,
    parse,
    value,
)
from cockpit.integrations.errors import RemoteError

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def incident(ticket: str = "INC-7") -> Incident:
    inc = Incident(id="7", title="Checkout fails", first_reported_at=T0, created_at=T0)
    inc.links.ticket = Link(f"https://jira.example/browse/{ticket}", ticket)
    inc.roles[Role.COMMANDER] = "Ana"
    inc.roles[Role.COMMS] = "Bo"
    return inc


def here(cockpit: str, person: str, *roles: Role, ago: timedelta = timedelta()) -> Here:
    return Here(cockpit, person, tuple(roles), T0 - ago)


def test_an_entry_says_the_roles_its_person_holds_and_reads_back() -> None:
    inc = incident()
    mine = Here.of(inc, cockpit="c-ana", person="Ana", at=T0)
    assert mine.roles == (Role.COMMANDER,) and mine.label() == "Ana (IC)"
    inc.roles[Role.COMMS] = "Ana"
    both = Here.of(inc, cockpit="c-ana", person="Ana", at=T0)
    assert both.label() == "Ana (IC, Comms)"
    assert Here.of(inc, cockpit="c-cy", person="Cy", at=T0).label() == "Cy"
    assert parse(json.loads(json.dumps(value([both, mine])))) == [both]  # one per cockpit


def test_merge_puts_mine_in_place_and_drops_the_stale() -> None:
    old_me = here("c-ana", "Ana", ago=timedelta(seconds=60))
    bo = here("c-bo", "Bo", Role.COMMS, ago=timedelta(seconds=30))
    gone = here("c-cy", "Cy", ago=STALE_AFTER + timedelta(seconds=1))
    me = here("c-ana", "Ana", Role.COMMANDER)
    assert merge([old_me, bo, gone], me, me="c-ana", now=T0) == [me, bo]
    assert merge([old_me, bo], None, me="c-ana", now=T0) == [bo]  # leaving


def test_others_are_fresh_other_people_once_each() -> None:
    entries = [
        here("c-ana", "Ana", Role.COMMANDER),
        here("c-bo", "Bo", Role.COMMS, ago=timedelta(seconds=10)),
        here("c-bo2", "Bo", ago=timedelta(seconds=90)),  # Bo's laptop, older
        here("c-ana2", "Ana"),  # the same person on another machine: not "else"
        here("c-cy", "Cy", ago=STALE_AFTER + timedelta(seconds=1)),
        here("c-dee", "Dee", ago=-timedelta(hours=1)),  # a clock far ahead: not trusted
    ]
    shown = others(entries, me="c-ana", person="Ana", now=T0)
    assert [h.label() for h in shown] == ["Bo (Comms)"]
    assert also_here(shown) == "also here: Bo (Comms)"
    assert also_here([]) == ""
    # the roles as the incident holds them now (a hand-off since the entry was written)
    inc = incident()
    inc.roles[Role.COMMANDER] = "Bo"
    assert also_here(shown, inc) == "also here: Bo (IC, Comms)"
    # an entry is shown for three periods after it was last refreshed, not more
    assert here("c-x", "X", ago=3 * PERIOD).fresh(T0)
    assert not here("c-x", "X", ago=3 * PERIOD + timedelta(seconds=1)).fresh(T0)


def test_hostile_values_are_refused_quietly() -> None:
    good = value([here("c-bo", "Bo", Role.COMMS)])
    assert len(parse(good)) == 1
    for bad in (
        None,
        [],
        "x",
        {"v": 2, "here": good["here"]},
        {"v": True, "here": good["here"]},
        {"v": 1, "here": "no"},
    ):
        assert parse(bad) == []
    spoiled = [
        {"cockpit": "c b", "person": "Bo", "roles": [], "seen": "2026-03-02T09:00:00Z"},
        {"cockpit": "c-b", "person": "", "roles": [], "seen": "2026-03-02T09:00:00Z"},
        {"cockpit": "c-b", "person": "B" * 81, "roles": [], "seen": "2026-03-02T09:00:00Z"},
        {"cockpit": "c-b", "person": "Bo", "roles": ["king"], "seen": "2026-03-02T09:00:00Z"},
        {"cockpit": "c-b", "person": "Bo", "roles": [], "seen": "yesterday"},
        {"cockpit": "c-b", "person": 5, "roles": [], "seen": "2026-03-02T09:00:00Z"},
    ]
    assert parse({"v": 1, "here": spoiled}) == []
    [clean] = parse(
        {
            "v": 1,
            "here": [
                {
                    "cockpit": "c-b",
                    "person": "[b]Bo[/b]\x1b[2J\u202e",
                    "roles": ["comms"],
                    "seen": "2026-03-02T09:00:00Z",
                }
            ],
        }
    )
    assert "\x1b" not in clean.person and "\u202e" not in clean.person
    many = {"v": 1, "here": [dict(good["here"][0], cockpit=f"c{n}") for n in range(500)]}
    assert len(parse(many)) == 20


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_parse_never_raises(anything: Any) -> None:
    parse(anything)
    parse({"v": 1, "here": anything})
    parse({"v": 1, "here": [anything]})


class FakeJira:
    def __init__(self) -> None:
        self.props: dict[tuple[str, str], Any] = {}
        self.calls: list[tuple[str, str]] = []
        self.fail = False

    async def get_property(self, key: str, prop: str) -> Any:
        self.calls.append(("GET", key))
        if self.fail:
            raise RemoteError("jira", "down", retryable=True)
        return json.loads(json.dumps(self.props.get((key, prop))))

    async def set_property(self, key: str, prop: str, value: Any) -> None:
        self.calls.append(("PUT", key))
        self.props[(key, prop)] = json.loads(json.dumps(value))


def test_the_loop_refreshes_leaves_and_reports_who_is_there() -> None:
    async def go() -> None:
        jira, clock = FakeJira(), FrozenClock(T0)
        seen: list[str] = []
        ana = PresenceLoop(jira, cockpit="c-ana", person="Ana", clock=clock, on_seen=seen.append)
        bo = PresenceLoop(jira, cockpit="c-bo", person="Bo", clock=clock)
        inc = incident()
        ana.show(inc)
        await ana.refresh()
        assert ana.others("7") == [] and jira.calls == [("GET", "INC-7"), ("PUT", "INC-7")]
        bo.show(inc)
        await bo.refresh()
        assert [h.label() for h in bo.others("7")] == ["Ana (IC)"]
        clock.advance(seconds=60)
        await ana.refresh()
        assert [h.label() for h in ana.others("7")] == ["Bo (Comms)"] and seen == ["7"]
        await ana.refresh()
        assert seen == ["7"]  # (nothing new: not reported again)
        # Bo's cockpit stops refreshing: after three periods Ana no longer shows him
        clock.advance(seconds=180)
        await ana.refresh()
        assert ana.others("7") == [] and seen == ["7", "7"]
        # Ana switches to another incident: her entry leaves INC-7
        bo.show(inc)
        await bo.refresh()
        ana.show(incident("INC-9"))
        await ana.refresh()
        people = {h["person"] for h in jira.props[("INC-7", PROPERTY_KEY)]["here"]}
        assert people == {"Bo"}
        # Jira down: logged, what was read still shows until it is stale
        jira.fail = True
        bo.show(inc)
        await bo.refresh()
        assert [h.person for h in bo.others("7")] == ["Ana"]  # (read before she left)
        clock.advance(seconds=181)
        assert bo.others("7") == []  # stale now, even unread

    asyncio.run(go())


def test_the_loop_keeps_to_its_period() -> None:
    async def go() -> None:
        jira, clock = FakeJira(), FrozenClock(T0)
        loop = PresenceLoop(jira, cockpit="c-ana", person="Ana", clock=clock, period=0.05)
        loop.show(incident())
        task = asyncio.create_task(loop.run())
        await asyncio.sleep(0.28)
        task.cancel()
        # once at the start, then once a period: 2 requests each
        assert 8 <= len(jira.calls) <= 14

    asyncio.run(go())

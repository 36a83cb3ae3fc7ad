"""StatuspageClient against the in-memory Statuspage (every exchange checked against its spec)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cockpit.integrations.errors import RemoteError
from cockpit.integrations.statuspage import StatuspageClient
from tests.integration.fakes import (
    FakeClock,
    StatuspageFake,
    http_status,
    rate_limited,
    read_timeout,
    wrong_shape,
)

API = "https://statuspage.test/v1"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> StatuspageFake:
    return StatuspageFake(clock=clock)  # refuses requests closer than 1 s apart


@pytest.fixture
async def sp(fake: StatuspageFake, clock: FakeClock) -> AsyncIterator[StatuspageClient]:
    client = StatuspageClient(
        API,
        fake.page_id,
        fake.token,
        transport=fake.transport(),
        clock=clock,
        sleep=clock.sleep,
        rng=lambda: 1.0,
    )
    yield client
    await client.aclose()


async def test_page_and_components(sp: StatuspageClient, fake: StatuspageFake):
    page = await sp.page()
    assert (page.id, page.name) == (fake.page_id, "Cockpit Test")
    comps = await sp.components()
    assert [c.name for c in comps] == ["API", "Website", "Payments"]
    assert all(c.status == "operational" for c in comps)


async def test_incident_lifecycle(sp: StatuspageClient, fake: StatuspageFake):
    api, web, _ = (c.id for c in await sp.components())
    inc = await sp.create_incident(
        "Checkout errors",
        "investigating",
        "We are investigating errors at checkout.",
        [api, web],
        "partial_outage",
        impact_override="major",
        marker="act-1",
    )
    assert (inc.status, inc.impact, inc.marker, inc.updates) == (
        "investigating",
        "major",
        "act-1",
        1,
    )
    assert fake.components[api]["status"] == "partial_outage"
    inc = await sp.update_incident(
        inc.id, "identified", "A bad deploy; rolling back.", {api: "degraded_performance"}
    )
    assert inc.status == "identified" and inc.updates == 2
    assert fake.components[api]["status"] == "degraded_performance"
    inc = await sp.resolve_incident(inc.id, "Resolved.", [api, web])
    assert inc.status == "resolved"
    assert {fake.components[c]["status"] for c in (api, web)} == {"operational"}
    assert (await sp.get_incident(inc.id)).updates == 3


async def test_requests_are_spaced_one_second_apart(sp: StatuspageClient, clock: FakeClock):
    await sp.page()
    await sp.components()
    await sp.list_incidents()
    assert clock.sleeps == [1.0, 1.0]  # and the fake, which refuses faster, never did


async def test_without_spacing_the_420_is_waited_out(fake: StatuspageFake, clock: FakeClock):
    client = StatuspageClient(
        API,
        fake.page_id,
        fake.token,
        transport=fake.transport(),
        clock=clock,
        sleep=clock.sleep,
        rng=lambda: 1.0,
        min_interval=0,
    )
    await client.page()
    await client.page()  # too soon: 420 without Retry-After → backoff, then fine
    assert clock.sleeps == [0.5, 1.0]
    await client.aclose()


async def test_rate_limit_with_long_retry_after_is_raised(
    sp: StatuspageClient, fake: StatuspageFake
):
    fake.inject("list_incidents", rate_limited("90", status=420))
    with pytest.raises(RemoteError) as info:
        await sp.list_incidents()
    assert info.value.retry_after == 90.0 and info.value.status == 420


async def test_find_incident_by_name_and_marker(sp: StatuspageClient):
    first = await sp.create_incident("API down", "investigating", "first")
    second = await sp.create_incident("API down", "investigating", "second", marker="act-7")
    await sp.create_incident("API down again", "investigating", "other")
    assert (await sp.find_incident_by_name("API down")) == second  # newest exact match
    assert (await sp.find_incident_by_name("API down", marker="act-7")) == second
    assert (await sp.find_incident_by_name("API down", marker="act-0")) == second
    assert await sp.find_incident_by_name("Nothing like it") is None
    assert {i.id for i in await sp.list_incidents(q="api down")} >= {first.id, second.id}


async def test_ambiguous_create_is_found_afterwards(sp: StatuspageClient, fake: StatuspageFake):
    fake.inject("create_incident", read_timeout(after=True))
    with pytest.raises(RemoteError) as info:
        await sp.create_incident("DB down", "investigating", "x", marker="act-3")
    assert info.value.ambiguous and len(fake.incidents) == 1
    found = await sp.find_incident_by_name("DB down", marker="act-3")
    assert found is not None and found.marker == "act-3"


async def test_patch_5xx_is_ambiguous_and_get_is_retried(
    sp: StatuspageClient, fake: StatuspageFake
):
    inc = await sp.create_incident("DB down", "investigating", "x")
    fake.inject("update_incident", http_status(500, after=True))
    with pytest.raises(RemoteError) as info:
        await sp.update_incident(inc.id, "monitoring", "watching")
    assert info.value.ambiguous and fake.calls.count("update_incident") == 1
    fake.inject("get_incident", http_status(503))
    assert (await sp.get_incident(inc.id)).status == "monitoring"


async def test_errors_in_plain_words(sp: StatuspageClient, fake: StatuspageFake, clock: FakeClock):
    with pytest.raises(RemoteError, match="not found: Incident not found"):
        await sp.get_incident("nope")
    with pytest.raises(RemoteError, match="Components must belong to this page"):
        await sp.create_incident("x", "investigating", "x", ["bogus"])
    bad = StatuspageClient(
        API,
        fake.page_id,
        "WRONGKEY12345",
        transport=fake.transport(),
        clock=clock,
        sleep=clock.sleep,
    )
    with pytest.raises(RemoteError) as info:
        await bad.page()
    assert "API key was refused: Could not authenticate" in str(info.value)
    assert "WRONGKEY12345" not in repr(info.value)
    await bad.aclose()
    wrong_page = StatuspageClient(
        API, "otherpage", fake.token, transport=fake.transport(), clock=clock, sleep=clock.sleep
    )
    with pytest.raises(RemoteError, match="check the page id"):
        await wrong_page.components()
    await wrong_page.aclose()


async def test_bad_values_are_refused_before_sending(sp: StatuspageClient, fake: StatuspageFake):
    with pytest.raises(ValueError, match="investigating, identified"):
        await sp.create_incident("x", "on fire", "x")
    with pytest.raises(ValueError, match="component status"):
        await sp.update_incident("abc", "identified", "x", {"c1": "broken"})
    assert fake.calls == []


async def test_unexpected_documents(sp: StatuspageClient, fake: StatuspageFake):
    fake.inject("components", wrong_shape({"components": []}))
    with pytest.raises(RemoteError, match="expected a list"):
        await sp.components()
    fake.inject("create_incident", wrong_shape({"name": "x"}, 201))
    with pytest.raises(RemoteError, match="'id' missing") as info:
        await sp.create_incident("x", "investigating", "x")
    assert info.value.ambiguous

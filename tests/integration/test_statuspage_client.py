"""StatuspageClient against the drill range in process (cockpit/sandbox/transport.py), every
exchange checked against Statuspage's spec; state is checked in the sandbox's own state.

The drill range keeps Statuspage's pace here: at most 1 request per second (on the test's
clock), refused with 420 as Statuspage does ("Error codes 420 or 429")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from cockpit.integrations.errors import RemoteError
from cockpit.integrations.statuspage import StatuspageClient
from cockpit.sandbox.dispatch import IN_PROCESS_URL
from cockpit.sandbox.faults import Limit, RateLimiter
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.state import JSON, PAGE_ID
from tests.integration.test_sandbox_support import FakeClock, checked_transport

API = f"{IN_PROCESS_URL}/v1"
KEY = "89a229ce1a8dbcf9ff30430fbe35eb4cSECRET"
INCIDENTS = f"/v1/pages/{PAGE_ID}/incidents"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> SandboxServer:
    # never started (no socket, in process only); refuses requests closer than 1 s apart
    limits = RateLimiter({"statuspage": Limit(1, per=1.0, status=420)}, clock=clock)
    return SandboxServer(scenario=None, rate_limits=limits, tokens=[KEY])


def client(
    server: SandboxServer, clock: FakeClock, key: str = KEY, page: str = PAGE_ID, **kw: Any
) -> StatuspageClient:
    return StatuspageClient(
        API,
        page,
        key,
        transport=checked_transport(server, "statuspage"),
        clock=clock,
        sleep=clock.sleep,
        **kw,
    )


@pytest.fixture
async def sp(server: SandboxServer, clock: FakeClock) -> AsyncIterator[StatuspageClient]:
    c = client(server, clock, rng=lambda: 1.0)
    yield c
    await c.aclose()


def component_status(server: SandboxServer, cid: str) -> str:
    return str(server.state.components[cid]["status"])


def incidents(server: SandboxServer) -> list[JSON]:
    found: list[JSON] = server.state.snapshot()["statuspage"]["incidents"]
    return found


async def test_page_and_components(sp: StatuspageClient):
    page = await sp.page()
    assert (page.id, page.name) == (PAGE_ID, "Drill Range")
    comps = await sp.components()
    assert [c.name for c in comps] == ["Website", "API", "Payments", "Search"]
    assert all(c.status == "operational" for c in comps)


async def test_incident_lifecycle(sp: StatuspageClient, server: SandboxServer):
    ids = {c.name: c.id for c in await sp.components()}
    api, web = ids["API"], ids["Website"]
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
    assert component_status(server, api) == "partial_outage"
    inc = await sp.update_incident(
        inc.id, "identified", "A bad deploy; rolling back.", {api: "degraded_performance"}
    )
    assert inc.status == "identified" and inc.updates == 2
    assert component_status(server, api) == "degraded_performance"
    inc = await sp.resolve_incident(inc.id, "Resolved.", [api, web])
    assert inc.status == "resolved"
    assert {component_status(server, c) for c in (api, web)} == {"operational"}
    assert (await sp.get_incident(inc.id)).updates == 3
    (stored,) = incidents(server)
    assert [u["status"] for u in stored["incident_updates"]] == [
        "resolved",
        "identified",
        "investigating",
    ]


async def test_requests_are_spaced_one_second_apart(
    sp: StatuspageClient, server: SandboxServer, clock: FakeClock
):
    await sp.page()
    await sp.components()
    await sp.list_incidents()
    assert clock.sleeps == [1.0, 1.0]
    # and the drill range, which refuses faster ones, never had to
    assert sum(server.state.requests.values()) == 3


async def test_without_spacing_the_420_is_waited_out(server: SandboxServer, clock: FakeClock):
    c = client(server, clock, rng=lambda: 1.0, min_interval=0)
    await c.page()
    await c.page()  # too soon: 420 without Retry-After → backoff, then fine
    assert clock.sleeps == [0.5, 1.0]
    assert server.state.requests[f"statuspage:GET /v1/pages/{PAGE_ID}"] == 4  # 2 refused
    await c.aclose()


async def test_rate_limit_with_long_retry_after_is_raised(
    sp: StatuspageClient, server: SandboxServer
):
    server.faults.force("ratelimit", status=420, on=f"GET {INCIDENTS}", retry_after=90)
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


async def test_ambiguous_create_is_found_afterwards(sp: StatuspageClient, server: SandboxServer):
    server.faults.force("timeout", "after", on=f"POST {INCIDENTS}")
    with pytest.raises(RemoteError) as info:
        await sp.create_incident("DB down", "investigating", "x", marker="act-3")
    assert info.value.ambiguous and len(incidents(server)) == 1
    found = await sp.find_incident_by_name("DB down", marker="act-3")
    assert found is not None and found.marker == "act-3"


async def test_patch_5xx_is_ambiguous_and_get_is_retried(
    sp: StatuspageClient, server: SandboxServer
):
    inc = await sp.create_incident("DB down", "investigating", "x")
    server.faults.force("status", "after", status=500, on=f"PATCH {INCIDENTS}/{inc.id}")
    with pytest.raises(RemoteError) as info:
        await sp.update_incident(inc.id, "monitoring", "watching")
    assert info.value.ambiguous
    assert server.state.requests[f"statuspage:PATCH {INCIDENTS}/{inc.id}"] == 1
    server.faults.force("status", status=503, on=f"GET {INCIDENTS}/{inc.id}")
    assert (await sp.get_incident(inc.id)).status == "monitoring"
    assert server.state.requests[f"statuspage:GET {INCIDENTS}/{inc.id}"] == 2


async def test_errors_in_plain_words(sp: StatuspageClient, server: SandboxServer, clock: FakeClock):
    with pytest.raises(RemoteError, match="not found: The requested resource could not be found"):
        await sp.get_incident("nope")
    with pytest.raises(RemoteError, match="Component bogus not found"):
        await sp.create_incident("x", "investigating", "x", ["bogus"])
    assert incidents(server) == []
    server.state.refuse_token("WRONGKEY12345")  # revoked, or mistyped
    bad = client(server, clock, "WRONGKEY12345")
    with pytest.raises(RemoteError) as info:
        await bad.page()
    assert "API key was refused: Could not authenticate" in str(info.value)
    assert "WRONGKEY12345" not in repr(info.value)
    await bad.aclose()
    wrong_page = client(server, clock, page="otherpage")
    with pytest.raises(RemoteError, match="check the page id"):
        await wrong_page.components()
    await wrong_page.aclose()


async def test_bad_values_are_refused_before_sending(sp: StatuspageClient, server: SandboxServer):
    with pytest.raises(ValueError, match="investigating, identified"):
        await sp.create_incident("x", "on fire", "x")
    with pytest.raises(ValueError, match="component status"):
        await sp.update_incident("abc", "identified", "x", {"c1": "broken"})
    assert sum(server.state.requests.values()) == 0


async def test_unexpected_documents(sp: StatuspageClient, server: SandboxServer):
    server.faults.force(
        "status", status=200, on=f"GET /v1/pages/{PAGE_ID}/components", body={"components": []}
    )
    with pytest.raises(RemoteError, match="expected a list"):
        await sp.components()
    server.faults.force("status", "after", status=201, on=f"POST {INCIDENTS}", body={"name": "x"})
    with pytest.raises(RemoteError, match="'id' missing") as info:
        await sp.create_incident("x", "investigating", "x")
    assert info.value.ambiguous and len(incidents(server)) == 1  # created all the same

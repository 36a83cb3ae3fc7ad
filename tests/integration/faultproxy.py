"""A fault-injecting proxy in front of the drill range, in process (no tests here).

`FaultProxy(server)` sits between cockpit's clients and a `SandboxServer`: its
`transport()` is the drill range's own in-process transport (`SandboxTransport`), with
every request going through the proxy first. It can fail any chosen request, before or
after the request's effect, N times:

    proxy = FaultProxy(SandboxServer(scenario=None))
    proxy.fail("slack:conversations.setTopic", "server_error", when="after", times=4)
    proxy.fail("jira:POST /rest/api/3/issue", "kill")  # cockpit dies once it is applied
    proxy.fail("slack:auth.test", "timeout", skip=1)  # the second auth.test, not the first

The kinds are the drill range's own (`cockpit.sandbox.faults`: a proxy's HTML 5xx page, a
timeout, a dropped connection, a 429 …, delivered by the drill range as its own fault
injector's would be), plus ``kill``:
the request reaches the drill range (AFTER: its effect is applied; BEFORE: it is not) and
then cockpit's process is gone — `Killed`, a `BaseException` nothing in cockpit catches,
comes out of the transport, so nothing after the request runs (no answer read, nothing
written). A test then opens a fresh store, clients and sender on the same data dir, as a
restarted cockpit would.

`routes` lists the route of every request seen, in order (the drill range's route names:
``slack:chat.postMessage``, ``jira:POST /rest/api/3/issue``, ``statuspage:PATCH
/v1/pages/<id>/incidents/<id>``); `mark()` / `since(mark)` give the routes of one stretch.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass

from cockpit.sandbox.dispatch import Outcome, Plan
from cockpit.sandbox.faults import Fault
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.state import Request
from cockpit.sandbox.transport import SandboxTransport


class Killed(BaseException):
    """cockpit's process died here (raised by the transport, caught only by the test)."""


STATUS = {"server_error": 502, "ratelimit": 429, "status": 500}


@dataclass
class _Armed:
    on: str
    kind: str
    when: str
    left: int
    skip: int  # matching requests let through first


class FaultProxy:
    """A `Dispatcher` in front of `server`: counts routes, injects faults and kills."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.routes: list[str] = []
        self.kills = 0  # kills that happened
        self.failures = 0  # other faults that happened
        self._armed: list[_Armed] = []
        self._killing: dict[int, str] = {}  # plans whose request kills cockpit: when
        self._lock = threading.Lock()

    def transport(self) -> SandboxTransport:
        self.server.transport()  # the drill range's in-process address, for its links
        return SandboxTransport(self)

    # -- what to fail ---------------------------------------------------------------------
    def fail(
        self,
        on: str,
        kind: str = "server_error",
        *,
        when: str = "after",
        times: int = 1,
        skip: int = 0,
    ) -> None:
        """Fail `times` requests whose route matches `on` (a route, or an fnmatch pattern)
        with `kind`, `when` ("before" or "after") their effect, after letting the first
        `skip` of them through."""
        if when not in ("before", "after") or times < 1 or skip < 0:
            raise ValueError(f"bad fault: {kind} {when} ×{times} (skip {skip})")
        with self._lock:
            self._armed.append(_Armed(on, kind, when, times, skip))

    def clear(self) -> None:
        """Drop the faults and kills not used yet."""
        with self._lock:
            self._armed.clear()

    def mark(self) -> int:
        return len(self.routes)

    def since(self, mark: int) -> list[str]:
        return self.routes[mark:]

    # -- the Dispatcher -------------------------------------------------------------------
    def plan(self, request: Request) -> Plan:
        plan = self.server.plan(request)
        if not plan.route:
            return plan
        with self._lock:
            self.routes.append(plan.route)
            armed = self._take(plan.route)
        if armed is not None and armed.kind == "kill":
            self._killing[id(plan)] = armed.when
        elif armed is not None:
            self.failures += 1
            plan.fault = Fault(armed.kind, armed.when, STATUS.get(armed.kind))
        return plan

    def carry_out(self, plan: Plan) -> Outcome:
        when = self._killing.pop(id(plan), None)
        if when is None:
            return self.server.carry_out(plan)
        self.kills += 1
        if when == "after":
            self.server.carry_out(plan)  # the effect is made; cockpit never hears of it
        raise Killed(plan.route)

    def _take(self, route: str) -> _Armed | None:
        for armed in self._armed:
            if fnmatch.fnmatchcase(route, armed.on):
                if armed.skip > 0:
                    armed.skip -= 1
                    return None
                armed.left -= 1
                if armed.left <= 0:
                    self._armed.remove(armed)
                return armed
        return None

"""A fault-injecting proxy in front of the drill range, in process (no tests here).

`FaultProxy(server)` sits between cockpit's clients and a `SandboxServer`: its
`transport()` is the drill range's own in-process transport (`SandboxTransport`), with
every request going through the proxy first. It can fail any chosen request, before or
after the request's effect, N times:

    proxy = FaultProxy(SandboxServer(scenario=None))
    proxy.fail("slack:conversations.setTopic", "server_error", when="after", times=4)
    proxy.fail("jira:POST /rest/api/3/issue", "kill")  # cockpit dies once it is applied

The kinds are the drill range's own (`cockpit.sandbox.faults`: a proxy's HTML 5xx page, a
timeout, a dropped connection, a 429 …, forced through its fault injector), plus ``kill``:
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
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.state import Request
from cockpit.sandbox.transport import SandboxTransport


class Killed(BaseException):
    """cockpit's process died here (raised by the transport, caught only by the test)."""


@dataclass
class _Kill:
    on: str
    when: str
    left: int


class FaultProxy:
    """A `Dispatcher` in front of `server`: counts routes, injects faults and kills."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.routes: list[str] = []
        self.kills = 0  # kills that happened
        self._kills: list[_Kill] = []
        self._lock = threading.Lock()

    def transport(self) -> SandboxTransport:
        self.server.transport()  # the drill range's in-process address, for its links
        return SandboxTransport(self)

    # -- what to fail ---------------------------------------------------------------------
    def fail(
        self, on: str, kind: str = "server_error", *, when: str = "after", times: int = 1
    ) -> None:
        """Fail the next `times` requests whose route matches `on` (a route, or an fnmatch
        pattern) with `kind`, `when` ("before" or "after") their effect."""
        if kind == "kill":
            with self._lock:
                self._kills.append(_Kill(on, when, times))
        else:
            self.server.faults.force(kind, when, on=on, times=times)

    def clear(self) -> None:
        """Drop the faults and kills not used yet."""
        with self._lock:
            self._kills.clear()
        self.server.faults.clear()

    def mark(self) -> int:
        return len(self.routes)

    def since(self, mark: int) -> list[str]:
        return self.routes[mark:]

    # -- the Dispatcher -------------------------------------------------------------------
    def plan(self, request: Request) -> Plan:
        plan = self.server.plan(request)
        if plan.route:
            with self._lock:
                self.routes.append(plan.route)
        return plan

    def carry_out(self, plan: Plan) -> Outcome:
        kill = self._take_kill(plan.route) if plan.route else None
        if kill is not None and kill.when == "before":
            self.kills += 1
            raise Killed(plan.route)
        outcome = self.server.carry_out(plan)
        if kill is not None:
            self.kills += 1
            raise Killed(plan.route)
        return outcome

    def _take_kill(self, route: str) -> _Kill | None:
        with self._lock:
            for kill in self._kills:
                if fnmatch.fnmatchcase(route, kill.on):
                    kill.left -= 1
                    if kill.left <= 0:
                        self._kills.remove(kill)
                    return kill
        return None

"""One request through the drill range, as data: the plan (the service and route it goes
to, the fault it meets, or the answer it gets at once) and the outcome (the answer, or no
answer). The loopback server's HTTP handler and the in-process transport both deliver
what `SandboxServer.plan` and `carry_out` decide (see server.py and transport.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cockpit.sandbox.faults import Fault
from cockpit.sandbox.state import Request, Response

MAX_BODY = 10 * 1024 * 1024
# The base URL of the in-process drill range (never resolves: .invalid, RFC 6761).
IN_PROCESS_URL = "http://drill-range.invalid"


def too_large() -> Response:
    """The answer to a request body over MAX_BODY (or one that cannot be read)."""
    return Response.json(413, {"message": "request body too large or malformed"})


@dataclass
class Plan:
    """One request, decided: the service and route it goes to, the fault it meets (if
    any), or the answer it gets at once (the inspection endpoint, an unknown path)."""

    request: Request
    service: str | None = None
    route: str = ""
    fault: Fault | None = None
    answer: Response | None = None

    @property
    def pause(self) -> float:
        """Seconds to wait before the request is handled (a slow fault)."""
        if self.fault is not None and self.fault.kind == "slow":
            return self.fault.seconds or 0.0
        return 0.0


@dataclass
class Outcome:
    """What the client gets: `response`, or no answer at all (None: the connection is
    dropped, or was never made); `hold`: how long a socket holds the answer (or the drop)
    back (a timeout fault); `close`: the answer says `Connection: close`."""

    response: Response | None
    fault: Fault | None = None
    hold: float = 0.0
    close: bool = False


class Dispatcher(Protocol):
    """What delivers requests into the drill range (the server)."""

    def plan(self, request: Request) -> Plan: ...

    def carry_out(self, plan: Plan) -> Outcome: ...

"""How the drill range pushes back: injected faults and per-method rate limits.

`FaultInjector` decides, per request and with probability `probability`, to fail it in one of
four ways, either BEFORE the request's effect is applied (nothing happened) or AFTER (the
effect happened, but the client sees a failure — the case that tests exactly-once delivery):

- ``ratelimit``: HTTP 429 with ``Retry-After`` and the service's own error body;
- ``server_error``: HTTP 500 or 502 with an HTML body, as a proxy in front would send;
- ``timeout``: the response is held back for `delay` seconds (longer than a client's timeout);
  BEFORE: the connection is then dropped and nothing is applied; AFTER: the effect is applied
  at once and the (late) response is sent after the delay;
- ``drop``: the connection is closed without a response.

Decisions come from one `random.Random(seed)`, so a run with the same seed and the same
sequence of requests injects the same faults. Every injected fault is recorded in
`SandboxState.faults_injected`.

`RateLimiter` counts requests per key (a Slack method) in a sliding 60-second window.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from cockpit.sandbox.state import Response

FAULT_KINDS = ("ratelimit", "server_error", "timeout", "drop")
WHEN = ("before", "after")

_HTML = {
    500: "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n"
    "<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n",
    502: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n",
}


@dataclass(frozen=True)
class Fault:
    kind: str  # one of FAULT_KINDS
    when: str  # "before" | "after"
    status: int | None = None  # HTTP status for ratelimit / server_error
    retry_after: int = 1


class FaultInjector:
    def __init__(
        self,
        probability: float = 0.0,
        *,
        seed: int | None = None,
        delay: float = 12.0,
        kinds: Iterable[str] = FAULT_KINDS,
    ) -> None:
        kinds = tuple(kinds)
        unknown = [k for k in kinds if k not in FAULT_KINDS]
        if unknown or not kinds:
            raise ValueError(
                f"fault kinds must be some of {', '.join(FAULT_KINDS)}; "
                f"got {', '.join(unknown) or 'none'}"
            )
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"fault probability must be between 0 and 1, got {probability}")
        self.probability = probability
        self.delay = delay
        self.kinds = kinds
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._forced: deque[Fault] = deque()

    def force(self, kind: str, when: str = "before", status: int | None = None) -> None:
        """Inject exactly this fault into the next faultable request (for tests and trainers)."""
        if kind not in FAULT_KINDS or when not in WHEN:
            raise ValueError(f"unknown fault {kind!r}/{when!r}")
        with self._lock:
            self._forced.append(Fault(kind, when, status or _default_status(kind)))

    def decide(self) -> Fault | None:
        with self._lock:
            if self._forced:
                return self._forced.popleft()
            if self.probability <= 0.0:
                return None
            # Always draw the same number of values, so one decision never shifts the next.
            hit = self._rng.random() < self.probability
            kind = self._rng.choice(self.kinds)
            when = self._rng.choice(WHEN)
            status = self._rng.choice((500, 502))
        if not hit:
            return None
        if kind == "server_error":
            return Fault(kind, when, status)
        return Fault(kind, when, _default_status(kind))


def _default_status(kind: str) -> int | None:
    return {"ratelimit": 429, "server_error": 502}.get(kind)


def fault_response(fault: Fault, service: str) -> Response:
    """The response a client sees for a ratelimit or server_error fault."""
    if fault.kind == "ratelimit":
        headers = [("Retry-After", str(fault.retry_after))]
        if service == "slack":
            return Response.json(429, {"ok": False, "error": "ratelimited"}, headers)
        if service == "jira":
            return Response.json(
                429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, headers
            )
        return Response.json(429, {"message": "Rate limit exceeded"}, headers)
    status = fault.status or 502
    return Response.html(status, _HTML.get(status, _HTML[502]))


# -- rate limits ---------------------------------------------------------------------------
# Slack's published tiers are "N+ per minute"; the sandbox defaults are more generous so a
# normal client never meets them (pass `SLACK_TIER_LIMITS` to get Slack's own numbers).
SLACK_TIER_LIMITS: dict[str, int] = {"t1": 1, "t2": 20, "t3": 50, "t4": 100, "t5": 60}
GENEROUS_LIMITS: dict[str, int] = {"t1": 60, "t2": 300, "t3": 600, "t4": 1200, "t5": 1200}


class RateLimiter:
    """Sliding one-minute window per key; `limits` maps a tier ("t1".."t5") or a key to N/min."""

    WINDOW = 60.0

    def __init__(
        self, limits: Mapping[str, int] | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = dict(GENEROUS_LIMITS)
        self.limits.update(limits or {})
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def limit_for(self, key: str, tier: str | None) -> int | None:
        if key in self.limits:
            return self.limits[key]
        return self.limits.get(tier) if tier else None

    def hit(self, key: str, tier: str | None = None) -> int | None:
        """Count one request; None if allowed, else the seconds to wait (for Retry-After)."""
        limit = self.limit_for(key, tier)
        if limit is None or limit <= 0:
            return None
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.WINDOW:
                hits.popleft()
            if len(hits) >= limit:
                return max(1, math.ceil(hits[0] + self.WINDOW - now))
            hits.append(now)
            return None

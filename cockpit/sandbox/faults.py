"""How the drill range pushes back: injected faults and rate limits.

`FaultInjector` fails requests in two ways: at random (`probability`, for drills: one of
`kinds`, BEFORE or AFTER the effect) and on demand (`force`, for tests and trainers: a given
fault for the next `times` requests that match a route pattern). A fault happens either
BEFORE the request's effect is applied (nothing happened) or AFTER it (the effect happened,
but the client sees a failure — the case that tests exactly-once delivery). The kinds:

- ``ratelimit``: HTTP 429 (or `status`, e.g. Statuspage's 420) with ``Retry-After:
  retry_after`` (none when `retry_after` is None) and the service's own error body; drawn
  at random always BEFORE (a service refuses before doing anything: a 429 after the effect
  would be a drill range's invention, and would teach cockpit to send twice);
- ``server_error``: an HTML error page (500, 502, 503 or 504), as a proxy in front sends it;
- ``timeout``: no answer in time. Over a socket the answer is held back for `seconds`
  (default: the injector's `delay`, longer than a client's timeout), then BEFORE: the
  connection is dropped and nothing is applied; AFTER: the effect was applied at once and
  the late answer is sent. In process the client's timeout fires at once
  (`httpx.ReadTimeout`);
- ``drop``: the connection is closed without an answer (`httpx.RemoteProtocolError` in
  process);
- ``connect`` (forced only, always BEFORE): the connection could not be made
  (`httpx.ConnectError` in process; over a socket, which is open by then, the closest a
  server can do: the connection is reset before the request is read);
- ``status`` (forced only): HTTP `status` (default 500) with a JSON `body`; without one, the
  service's own error document for that status. With status 200 and a `body`, a document
  of the wrong shape;
- ``slack_error`` (forced only): Slack's HTTP 200 ``{"ok": false, "error": error, ...}``
  (`body` adds fields, e.g. ``{"needed": "channels:history"}``); this one is a well-formed
  answer: `Fault.off_spec` is False;
- ``truncated`` (forced only): the answer cut off half way (AFTER: the real answer; BEFORE:
  the service's error document);
- ``huge`` (forced only): HTTP 200 with a JSON document of `size` bytes;
- ``slow`` (forced only): wait `seconds`, then handle the request normally.

`force(kind, when, status, on=..., times=...)` queues a fault; `on` is a route pattern
(`fnmatch`, case-sensitive) matched against the request's route, the key the sandbox counts
requests by (`SandboxState.requests`): ``slack:chat.postMessage``,
``jira:POST /rest/api/3/issue``, ``statuspage:GET /v1/pages/<id>/incidents``. A pattern
without a ``service:`` prefix is matched against the part after it, so
``on="chat.postMessage"`` and ``on="GET /rest/api/3/issue/*"`` work too; no `on` matches
every request. Forced faults are used before random ones, oldest first among those that
match; `pending()` lists those not used yet, `clear()` drops them.

Random decisions come from one `random.Random(seed)`, so a run with the same seed and the
same sequence of requests injects the same faults. Every injected fault is recorded in
`SandboxState.faults_injected`; the inspection endpoint (`/_sandbox/...`) is never faulted.

`RateLimiter` counts requests per key (a Slack method, a Slack channel's posts, a Statuspage
API key, "jira") in a sliding window (a minute unless a `Limit` says otherwise) or a token
bucket (a `Limit` with a `burst`); by default at the services' own rates (`STRICT_LIMITS`),
`lenient` at classroom speed.
"""

from __future__ import annotations

import fnmatch
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from cockpit.sandbox.state import Response

FAULT_KINDS = ("ratelimit", "server_error", "timeout", "drop")  # also drawn at random
FORCED_KINDS = ("connect", "status", "slack_error", "truncated", "huge", "slow")
ALL_KINDS = FAULT_KINDS + FORCED_KINDS
WHEN = ("before", "after")
HUGE_SIZE = 6 * 1024 * 1024

_HTML_TITLES = {
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}


def _html_page(status: int) -> str:
    """nginx's own error page for `status` (a 5xx it knows, else 502)."""
    title = _HTML_TITLES.get(status, _HTML_TITLES[502])
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )


@dataclass(frozen=True)
class Fault:
    kind: str  # one of ALL_KINDS
    when: str = "before"  # "before" | "after" the effect
    status: int | None = None  # ratelimit, server_error, status
    retry_after: int | None = 1  # ratelimit: Retry-After in seconds (None: no header)
    body: Any = field(default=None, compare=False)  # status, slack_error (see above)
    seconds: float | None = None  # timeout: how long the answer is held; slow: the pause
    size: int = HUGE_SIZE  # huge

    @property
    def off_spec(self) -> bool:
        """True when the answer is deliberately not one the vendor's spec describes."""
        return self.kind != "slack_error"


@dataclass
class _Forced:
    fault: Fault
    on: str | None
    left: int

    def matches(self, route: str) -> bool:
        if self.on is None:
            return True
        if fnmatch.fnmatchcase(route, self.on):
            return True
        _, sep, rest = route.partition(":")
        return bool(sep) and fnmatch.fnmatchcase(rest, self.on)


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
        self._forced: list[_Forced] = []

    def force(
        self,
        kind: str,
        when: str = "before",
        status: int | None = None,
        *,
        on: str | None = None,
        times: int = 1,
        retry_after: int | None = 1,
        error: str | None = None,
        body: Any = None,
        seconds: float | None = None,
        size: int = HUGE_SIZE,
    ) -> Fault:
        """Inject this fault into the next `times` requests whose route matches `on` (every
        request without it); see the module's docstring for the kinds and their options."""
        if kind not in ALL_KINDS or when not in WHEN:
            raise ValueError(
                f"unknown fault {kind!r}/{when!r}: kinds are {', '.join(ALL_KINDS)}, "
                f"when is {' or '.join(WHEN)}"
            )
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        if kind == "connect" and when != "before":
            raise ValueError("a connection that could not be made never has an effect")
        if kind == "slack_error":
            if not error:
                raise ValueError("a slack_error needs its error code (error=...)")
            body = {"ok": False, "error": error, **(body or {})}
        if kind == "slow" and (seconds is None or seconds < 0):
            raise ValueError("a slow fault needs its pause (seconds=...)")
        fault = Fault(
            kind,
            "before" if kind == "slow" else when,
            status or _default_status(kind),
            retry_after,
            body,
            seconds,
            size,
        )
        with self._lock:
            self._forced.append(_Forced(fault, on, times))
        return fault

    def pending(self) -> list[tuple[Fault, str | None, int]]:
        """The forced faults not used up yet: (fault, route pattern, times left)."""
        with self._lock:
            return [(f.fault, f.on, f.left) for f in self._forced]

    def clear(self) -> None:
        """Drop the forced faults not used yet."""
        with self._lock:
            self._forced.clear()

    def decide(self, route: str = "") -> Fault | None:
        """The fault for one request to `route` (see the module's docstring), or None."""
        with self._lock:
            for forced in self._forced:
                if forced.matches(route):
                    forced.left -= 1
                    if forced.left <= 0:
                        self._forced.remove(forced)
                    return forced.fault
            if self.probability <= 0.0:
                return None
            # Always draw the same number of values, so one decision never shifts the next.
            hit = self._rng.random() < self.probability
            kind = self._rng.choice(self.kinds)
            when = self._rng.choice(WHEN)
            status = self._rng.choice((500, 502))
        if not hit:
            return None
        if kind == "ratelimit":  # a service refuses before it does anything: never after
            when = "before"
        if kind == "server_error":
            return Fault(kind, when, status)
        return Fault(kind, when, _default_status(kind))


def _default_status(kind: str) -> int | None:
    return {"ratelimit": 429, "server_error": 502, "status": 500}.get(kind)


def error_document(service: str, status: int) -> dict[str, Any]:
    """The JSON error document `service` answers `status` with."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    if service == "slack":
        return {"ok": False, "error": "internal_error" if status >= 500 else "invalid_request"}
    if service == "jira":
        return {"errorMessages": [f"{phrase} ({status})"], "errors": {}}
    return {"message": phrase}


def rate_limit_response(service: str, status: int = 429, retry_after: int | None = 1) -> Response:
    """`service`'s answer to a request over its rate limit."""
    headers = [("Retry-After", str(retry_after))] if retry_after is not None else []
    if service == "slack":
        return Response.json(status, {"ok": False, "error": "ratelimited"}, headers)
    if service == "jira":
        return Response.json(
            status, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, headers
        )
    return Response.json(status, {"message": "Rate limit exceeded"}, headers)


def fault_response(fault: Fault, service: str, applied: Response | None = None) -> Response:
    """The answer a client sees for `fault` (a kind that answers at all); `applied` is the
    real answer when the effect was applied first."""
    if fault.kind == "ratelimit":
        return rate_limit_response(service, fault.status or 429, fault.retry_after)
    if fault.kind == "server_error":
        status = fault.status or 502
        return Response.html(status, _html_page(status))
    if fault.kind == "status":
        status = fault.status or 500
        body = fault.body if fault.body is not None else error_document(service, status)
        return Response.json(status, body)
    if fault.kind == "slack_error":
        return Response.json(200, fault.body)
    if fault.kind == "truncated":
        whole = applied if applied is not None and applied.body else None
        body = whole.body if whole is not None else json.dumps(error_document(service, 500))
        raw = body if isinstance(body, bytes) else body.encode()
        status = whole.status if whole is not None else 200
        return Response(
            status, raw[: max(1, len(raw) // 2)], [("Content-Type", "application/json")]
        )
    if fault.kind == "huge":
        head = b'{"ok": true, "pad": "' if service == "slack" else b'{"pad": "'
        pad = max(0, fault.size - len(head) - 2)
        return Response(200, head + b"x" * pad + b'"}', [("Content-Type", "application/json")])
    raise ValueError(f"a {fault.kind} fault has no answer")


# -- rate limits ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Limit:
    """At most `requests` per `per` seconds (a sliding window), answered with `status` once
    over it: 429 carries Retry-After; Statuspage also answers 420 ("1 request / second ...
    Error codes 420 or 429"), which carries none."""

    requests: int
    per: float = 60.0
    status: int = 429
    # > 0: a token bucket instead of a window: `requests` per `per` seconds on average,
    # with bursts of up to `burst` back to back (Slack's "1 per second ... short bursts")
    burst: int = 0


# Slack's published tiers, per method ("N+ per minute"; t5 is "special": auth.test and
# chat.getPermalink get Tier 4's pace here, chat.postMessage its own below), and
# Statuspage's "1 request / second as measured on a 60 second rolling window" per API key,
# answered 420 (its docs: "Error codes 420 or 429"). The drill range keeps these by default.
SLACK_TIER_LIMITS: dict[str, int] = {"t1": 1, "t2": 20, "t3": 50, "t4": 100, "t5": 100}
STRICT_LIMITS: dict[str, Limit] = {
    **{tier: Limit(n) for tier, n in SLACK_TIER_LIMITS.items()},
    # chat.postMessage: about one a second per channel, short bursts allowed (a sliding
    # bucket of 5), and a few hundred a minute in the whole workspace
    "chat.postMessage": Limit(300),
    "post_per_channel": Limit(1, per=1.0, burst=5),
    "statuspage": Limit(60, per=60.0, status=420),
}
# `lenient` (classroom speed): ten times Slack's tiers or more, no per-channel posting
# pace, Statuspage unlimited.
GENEROUS_LIMITS: dict[str, int] = {"t1": 60, "t2": 300, "t3": 600, "t4": 1200, "t5": 1200}


class RateLimiter:
    """A sliding window per key; `limits` maps a tier ("t1".."t5") or a key to requests per
    minute, or to a `Limit` (0 or fewer requests: unlimited), over the defaults: the
    services' own (`STRICT_LIMITS`) unless `lenient` (`GENEROUS_LIMITS`)."""

    WINDOW = 60.0

    def __init__(
        self,
        limits: Mapping[str, int | Limit] | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        lenient: bool = False,
    ) -> None:
        self.lenient = lenient
        self.limits: dict[str, Limit] = (
            {k: Limit(v) for k, v in GENEROUS_LIMITS.items()} if lenient else dict(STRICT_LIMITS)
        )
        for key, value in (limits or {}).items():
            self.limits[key] = value if isinstance(value, Limit) else Limit(int(value))
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def limit_for(self, key: str, tier: str | None = None) -> Limit | None:
        if key in self.limits:
            return self.limits[key]
        return self.limits.get(tier) if tier else None

    def hit(self, key: str, tier: str | None = None) -> int | None:
        """Count one request; None if allowed, else the seconds to wait (for Retry-After)."""
        limit = self.limit_for(key, tier)
        if limit is None or limit.requests <= 0:
            return None
        now = self._clock()
        if limit.burst > 0:
            return self._take(key, limit, now)
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - limit.per:
                hits.popleft()
            if len(hits) >= limit.requests:
                return max(1, math.ceil(hits[0] + limit.per - now))
            hits.append(now)
            return None

    def _take(self, key: str, limit: Limit, now: float) -> int | None:
        """A token bucket: None if a token was left (and take it), else the seconds until
        the next one."""
        rate = limit.requests / limit.per
        with self._lock:
            tokens, when = self._buckets.get(key, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + (now - when) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / rate))

    def refusal(self, key: str, service: str, wait: int, tier: str | None = None) -> Response:
        """The answer to a request `hit` refused (`wait`: what it returned)."""
        limit = self.limit_for(key, tier)
        status = limit.status if limit is not None else 429
        return rate_limit_response(service, status, wait if status == 429 else None)

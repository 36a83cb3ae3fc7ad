"""The one way cockpit makes an HTTP call: `ApiClient`, a base for the three API clients.

What it does for every call (DESIGN.md §6):

* one `httpx.AsyncClient` per service for the app's life (base URL from configuration,
  `transport` injectable so tests talk to in-memory fakes);
* a deadline for each attempt as a whole (`asyncio.timeout`), because httpx's own
  timeout starts again whenever a byte arrives, so a server that trickles never ends;
* retries with exponential backoff and jitter, on connection failures (the request
  never left, so any call may be repeated) and, for idempotent calls only, on 5xx and on
  timeouts. A call that is not idempotent and may have left (timeout or dropped
  connection after sending, 5xx, a cut-off answer) is *not* repeated: it raises a
  `RemoteError` with `ambiguous=True`, and the outbox looks at the remote for the effect
  before it tries again;
* 429: for idempotent calls, waits `Retry-After` and tries again when the wait is short (≤
  `RetryPolicy.max_retry_after`), else raises with `retry_after` set;
* bodies are capped (5 MB by default), and HTML, empty, broken or cut-off JSON become
  a clear `RemoteError` instead of a parser traceback or 40 KB of HTML on screen;
* calls made inside `polling(deadline)` (in that task only) are polls: one attempt, a
  429 raised at once with its `retry_after`, and a short deadline for the whole call. A
  poll that fails is simply made again at the next turn, and a retried poll that times
  out would hold its caller (the feed's one loop) for a minute.

The sleep function, the clock and the random source are injected, so tests never wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import email.utils
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from cockpit.integrations.errors import (
    AuthRefused,
    RemoteError,
    auth_hint,
    auth_set,
    describe_body,
    looks_like_html,
    redact,
)

log = logging.getLogger("cockpit.integrations")

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

MAX_BODY = 5 * 1024 * 1024
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # tries in all, for a call that may be repeated
    base_delay: float = 0.5  # first backoff; doubles each time
    max_delay: float = 8.0  # backoff ceiling
    max_retry_after: float = 30.0  # a 429 asking for a longer wait is raised, not slept
    rate_limit_waits: int = 3  # how many 429s in a row one call sits out
    total: float = 60.0  # no new attempt starts later than this after the call began


NO_RETRY = RetryPolicy(attempts=1, rate_limit_waits=0)
POLL_DEADLINE = 4.0  # a poll's whole call: the feed shows new messages within 5 s

# (deadline, retry policy) for the calls of the current task: see `polling`
_call_limits: contextvars.ContextVar[tuple[float, RetryPolicy] | None] = contextvars.ContextVar(
    "cockpit_call_limits", default=None
)


@contextlib.contextmanager
def polling(deadline: float = POLL_DEADLINE) -> Iterator[None]:
    """The calls made inside (by this task) are polls: one attempt (the next poll is the
    retry), no 429 sat out (raised with `retry_after`), each bounded by `deadline` (or the
    client's own, when shorter)."""
    token = _call_limits.set((deadline, NO_RETRY))
    try:
        yield
    finally:
        _call_limits.reset(token)


# told of each request the current task sends (its system's name): see `counting`
_on_request: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "cockpit_on_request", default=None
)


@contextlib.contextmanager
def counting(hook: Callable[[str], None]) -> Iterator[None]:
    """`hook(system)` is called as each request made inside (by this task, and the tasks
    it starts) goes out, each retry included: a budget shared with another part (the
    feed's Slack budget, which the outbox's posts count in) sees them."""
    token = _on_request.set(hook)
    try:
        yield
    finally:
        _on_request.reset(token)


@dataclass(frozen=True)
class Reply:
    """A response that came back whole: status, headers and the parsed JSON (or None)."""

    system: str
    method: str
    path: str
    status: int
    headers: httpx.Headers
    data: Any
    idempotent: bool

    def shape_error(self, detail: str) -> RemoteError:
        """The answer is valid JSON but not the document we expected."""
        return RemoteError(
            self.system,
            f"answered {self.method} {self.path} with an unexpected document ({detail})",
            hint="the service or a proxy in between may have changed; try again later",
            status=self.status,
            retryable=False,
            ambiguous=not self.idempotent,
        )

    def as_dict(self) -> dict[str, Any]:
        if not isinstance(self.data, dict):
            raise self.shape_error(f"expected an object, got {_kind(self.data)}")
        return self.data

    def as_list(self) -> list[Any]:
        if not isinstance(self.data, list):
            raise self.shape_error(f"expected a list, got {_kind(self.data)}")
        return self.data


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def require(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], reply: Reply) -> Any:
    """`obj[key]`, which must be of `kind`; else a RemoteError naming the field."""
    value = obj.get(key)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
        raise reply.shape_error(f"'{key}' missing or not {names}")
    return value


_TYPE_NAMES: dict[type, str] = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}


class _Failed(Exception):
    """An attempt that got no complete response. `sent`: the request may have left."""

    def __init__(self, what: str, *, sent: bool, retryable: bool = True) -> None:
        super().__init__(what)
        self.what, self.sent, self.retryable = what, sent, retryable


class _TooLarge(Exception):
    pass


class MinInterval:
    """A client-side rate limiter: at most one request per `interval` seconds."""

    def __init__(
        self, interval: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.interval = interval
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = self._clock()
            if now < self._next:
                await self._sleep(self._next - now)
                now = max(self._clock(), self._next)
            self._next = now + self.interval


class ApiClient:
    """Base for the service clients. Subclasses set `system` and may override
    `error_for_status` to read their service's error documents."""

    system: ClassVar[str] = "Remote"
    # A hint for errors that mean the credentials were refused.
    auth_hint: ClassVar[str] = "check the token"
    # The secret whose token this client sends (`cockpit auth set <name>`); default: the
    # system's name in lowercase ("jira", "statuspage").
    token_name: ClassVar[str] = ""
    # Statuses that mean "slow down" (Statuspage has used 420 as well as 429).
    rate_limit_statuses: ClassVar[frozenset[int]] = frozenset({429})

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        secrets: Iterable[str] = (),
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        deadline: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        rng: Callable[[], float] = random.random,
        max_body: int = MAX_BODY,
        limiter: MinInterval | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.secrets = tuple(s for s in secrets if s)
        self.deadline = deadline
        self.retry = retry
        self.max_body = max_body
        self.limiter = limiter
        self._sleep, self._clock, self._rng = sleep, clock, rng
        all_headers = {"Accept": "application/json", "User-Agent": "cockpit"}
        all_headers.update(headers or {})
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers=all_headers,
            auth=auth,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
        )

    # -- lifecycle ---------------------------------------------------------------------
    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- errors ------------------------------------------------------------------------
    def error(self, what: str, **kwargs: Any) -> RemoteError:
        """A RemoteError for this system, with the client's secrets redacted."""
        return RemoteError(self.system, what, secrets=self.secrets, **kwargs)

    def error_for_status(self, reply: Reply, body: bytes, content_type: str) -> RemoteError:
        """The error for a 4xx answer (other than 429). Services override this."""
        return self.error(
            describe_body(self.system, reply.status, content_type, body, self.secrets),
            hint=_status_hint(reply.status, self.auth_hint),
            status=reply.status,
        )

    def refused(self, err: RemoteError) -> RemoteError:
        """A 401 or 403 as an `AuthRefused` whose hint ends with the command that stores a
        good token (`cockpit auth set jira`); any other error as it is."""
        if err.status not in (401, 403) or isinstance(err, AuthRefused):
            return err
        name = self.token_name or self.system.lower()
        if err.status == 401:
            hint = auth_hint(name, err.hint or self.auth_hint)
        else:
            hint = (err.hint + "; or" if err.hint else "") + (
                f" store the token of an account that may: {auth_set(name)}"
            )
        return AuthRefused(
            self.system,
            err.what,
            hint=hint.strip(),
            status=err.status,
            code=err.code,
            secrets=self.secrets,
        )

    # -- the call ----------------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
        allow_status: Iterable[int] = (),
    ) -> Reply:
        """Send one call (with the retries described above) and return its Reply.

        `idempotent` defaults to the HTTP method's own nature (GET/PUT/DELETE yes, POST
        and PATCH no). `allow_status` lists 4xx statuses the caller handles itself.
        """
        method = method.upper()
        idem = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        allowed = set(allow_status)
        limits = _call_limits.get()
        deadline, policy = (
            (self.deadline, self.retry)
            if limits is None
            else (min(self.deadline, limits[0]), limits[1])
        )
        started = self._clock()
        attempt = 0
        waits = 0
        told = _on_request.get()
        while True:
            attempt += 1
            if self.limiter is not None:
                await self.limiter.wait()
            if told is not None:
                told(self.system)
            try:
                status, headers, body = await self._attempt(
                    method, path, params, json_body, deadline
                )
            except _Failed as failed:
                may_repeat = failed.retryable and (idem or not failed.sent)
                if may_repeat and await self._backoff(attempt, started, policy):
                    log.info("%s %s %s: %s; trying again", self.system, method, path, failed.what)
                    continue
                raise self._failure(failed, idem) from None
            content_type = headers.get("content-type", "")
            reply = Reply(self.system, method, path, status, headers, None, idem)

            if status in self.rate_limit_statuses:
                wait = _retry_after(headers)
                if wait is None:
                    wait = self._delay(waits + 1)
                # A write answered 429 is not repeated here: a server can apply a request
                # and still answer 429 (a proxy, a lie), so the outbox checks first.
                if (
                    idem
                    and waits < policy.rate_limit_waits
                    and wait <= policy.max_retry_after
                    and self._clock() - started + wait <= policy.total
                ):
                    waits += 1
                    log.info("%s rate limit: waiting %.1f s", self.system, wait)
                    await self._sleep(wait)
                    continue
                raise self.error(
                    "is rate limiting us (too many requests)",
                    hint=f"wait {wait:.0f} s and try again"
                    if idem
                    else f"cockpit waits {wait:.0f} s and checks before sending it again",
                    status=status,
                    retryable=True,
                    ambiguous=not idem,
                    retry_after=wait,
                )
            if status >= 500:
                if idem and await self._backoff(attempt, started, policy):
                    log.info("%s %s %s: %s; trying again", self.system, method, path, status)
                    continue
                what = describe_body(self.system, status, content_type, body, self.secrets)
                hint = (
                    "it may have gone through: cockpit checks before sending it again"
                    if not idem
                    else "the service is having trouble; try again later"
                )
                raise self.error(what, hint=hint, status=status, retryable=True, ambiguous=not idem)
            if 300 <= status < 400:
                where = redact(headers.get("location", "somewhere else"), self.secrets)
                raise self.error(
                    f"answered {status}: redirected to {where}",
                    hint="check the configured URL (https? trailing path?)",
                    status=status,
                )
            if status >= 400 and status not in allowed:
                parsed = self._parse(body, content_type, reply, lenient=True)
                raise self.refused(
                    self.error_for_status(
                        Reply(self.system, method, path, status, headers, parsed, idem),
                        body,
                        content_type,
                    )
                )
            data = self._parse(body, content_type, reply, lenient=status >= 400)
            return Reply(self.system, method, path, status, headers, data, idem)

    # -- helpers -----------------------------------------------------------------------
    async def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        deadline: float | None = None,
    ) -> tuple[int, httpx.Headers, bytes]:
        deadline = self.deadline if deadline is None else deadline
        request = self._http.build_request(
            method,
            path.lstrip("/"),
            params=_clean_params(params),
            json=json_body if json_body is not None else None,
        )
        try:
            async with asyncio.timeout(deadline):
                response = await self._http.send(request, stream=True)
                try:
                    body = await self._read_capped(response)
                finally:
                    await response.aclose()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
            raise _Failed(f"could not connect ({type(e).__name__})", sent=False) from None
        except httpx.TimeoutException as e:
            raise _Failed(
                f"timed out waiting for an answer ({type(e).__name__})", sent=True
            ) from None
        except TimeoutError:
            raise _Failed(f"gave no complete answer within {deadline:g} s", sent=True) from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as e:
            raise _Failed(f"dropped the connection ({type(e).__name__})", sent=True) from None
        except httpx.DecodingError:
            raise _Failed(
                "sent a body that could not be decoded", sent=True, retryable=True
            ) from None
        except _TooLarge:
            raise _Failed(
                f"sent an answer larger than {self.max_body // (1024 * 1024)} MB",
                sent=True,
                retryable=False,
            ) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.LocalProtocolError) as e:
            raise _Failed(
                f"cannot be reached at this URL ({type(e).__name__})", sent=False, retryable=False
            ) from None
        return response.status_code, response.headers, body

    async def _read_capped(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def _parse(self, body: bytes, content_type: str, reply: Reply, *, lenient: bool) -> Any:
        if not body.strip():
            return None
        if looks_like_html(content_type, body):
            if lenient:
                return None
            raise self.error(
                describe_body(self.system, reply.status, content_type, body),
                hint="a proxy or login page may be in the way; check the URL",
                status=reply.status,
                retryable=True,
                ambiguous=not reply.idempotent,
            )
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            if lenient:
                return None
            raise self.error(
                f"answered {reply.status} with broken JSON (cut off?)",
                hint="try again; if it keeps happening a proxy may be at fault",
                status=reply.status,
                retryable=True,
                ambiguous=not reply.idempotent,
            ) from None

    def _failure(self, failed: _Failed, idem: bool) -> RemoteError:
        ambiguous = failed.sent and not idem
        if ambiguous:
            hint = "it may have gone through: cockpit checks before sending it again"
        elif failed.retryable:
            hint = "check the network or the service's status, then try again"
        else:
            hint = "check the configured URL"
        return self.error(failed.what, hint=hint, retryable=failed.retryable, ambiguous=ambiguous)

    def _delay(self, attempt: int, policy: RetryPolicy | None = None) -> float:
        policy = policy or self.retry
        base: float = min(policy.max_delay, policy.base_delay * 2.0 ** (attempt - 1))
        return base * (0.5 + 0.5 * float(self._rng()))  # jitter: between half and all of it

    async def _backoff(
        self, attempt: int, started: float, policy: RetryPolicy | None = None
    ) -> bool:
        """Sleep before attempt `attempt + 1`; False when no attempt is left."""
        policy = policy or self.retry
        if attempt >= policy.attempts:
            return False
        delay = self._delay(attempt, policy)
        if self._clock() - started + delay > policy.total:
            return False
        await self._sleep(delay)
        return True


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not params:
        return None
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


def _retry_after(headers: httpx.Headers) -> float | None:
    raw = headers.get("retry-after", "").strip()
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, float(when.timestamp()) - time.time())


def _status_hint(status: int, auth_hint: str) -> str:
    if status == 401:
        return auth_hint
    if status == 403:
        return "the account lacks permission for this; ask an admin"
    if status == 404:
        return "check the configured URL and ids"
    if status == 413:
        return "the request is too large; shorten the text"
    return ""

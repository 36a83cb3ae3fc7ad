"""The drill range's HTTP API on uvicorn: a small ASGI app on a thread with its own loop.

uvicorn (h11) parses the wire and keeps the limits a hand-written server lacked:

- request bodies are read with a running cap (`MAX_BODY`, chunked ones too: a 100 MB
  chunked body or a chunk size of FFFFFFFFFF gets a 413 and a closed connection; uvicorn
  stops reading while the app is not asking for more, so memory stays flat); a body that
  stalls for `BODY_TIMEOUT` gets a 408;
- a request line and headers are at most `MAX_HEAD` bytes (h11), and must arrive within
  `HEADER_TIMEOUT` of the connection opening or the last answer (`_Protocol`: uvicorn
  itself times out only idle keep-alive connections, `KEEP_ALIVE`);
- one event loop serves every connection (`MAX_CONNECTIONS` at once; beyond, 503), and the
  dispatch runs on `WORKERS` threads: the thread count stays small whatever the clients do.

Each request goes through `SandboxServer.plan` / `carry_out` (dispatch.py), as the
in-process transport's do; this module only delivers the outcome over the socket: a slow
fault's pause and a timeout fault's hold are awaited (cut short by `stop()`), a drop closes
the connection without an answer, `close` answers with `Connection: close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from cockpit.sandbox.dispatch import MAX_BODY, Dispatcher, Outcome, too_large
from cockpit.sandbox.state import Request, Response

log = logging.getLogger("cockpit.sandbox")

MAX_HEAD = 64 * 1024  # request line and headers, bytes (h11's incomplete-event limit)
HEADER_TIMEOUT = 10.0  # seconds for a request's line and headers to arrive
BODY_TIMEOUT = 10.0  # seconds a request body may stall
KEEP_ALIVE = 5.0  # seconds an idle keep-alive connection stays open
MAX_CONNECTIONS = 1000  # connections and requests in flight at once; beyond, 503
WORKERS = 4  # threads running the dispatch
SERVER = "drill-range/1"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

# The connection a request came on (set while uvicorn parses it, so the request's task
# inherits it): a drop fault closes it, which ASGI has no message for.
_CONNECTION: contextvars.ContextVar[_Protocol | None] = contextvars.ContextVar(
    "sandbox_connection", default=None
)


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header timeout: a connection that has no request in
    progress and has not sent a complete request head within HEADER_TIMEOUT (of opening
    or of its last answer) is closed, however slowly bytes trickle in (slowloris)."""

    _head_timer: asyncio.TimerHandle | None = None
    _waiting_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def handle_events(self) -> None:
        token = _CONNECTION.set(self)
        try:
            super().handle_events()
        finally:
            _CONNECTION.reset(token)

    def on_response_complete(self) -> None:
        self._await_head()
        super().on_response_complete()

    def drop(self) -> None:
        """Close the connection without (more of) an answer."""
        if self.cycle is not None:
            self.cycle.disconnected = True  # uvicorn answers nothing more on it
        self.transport.close()

    def _await_head(self) -> None:
        self._waiting_since = self.loop.time()
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(HEADER_TIMEOUT, self._check_head)

    def _check_head(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being handled: its head arrived
        left = self._waiting_since + HEADER_TIMEOUT - self.loop.time()
        if left > 0.01:
            self._head_timer = self.loop.call_later(left, self._check_head)
            return
        log.debug("closing a connection that sent no complete request in %gs", HEADER_TIMEOUT)
        self.transport.close()


class _TooLarge(Exception):
    pass


class _Gone(Exception):
    pass


class SandboxApp:
    """The ASGI app: one request, read with a cap, planned and carried out by `dispatcher`
    on the worker threads, and its outcome delivered."""

    def __init__(self, dispatcher: Dispatcher, *, verbose: bool = False) -> None:
        self.dispatcher = dispatcher
        self.verbose = verbose
        self.stopping: asyncio.Event | None = None  # made on the loop (`HTTPServer._run`)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = Message()
        for name, value in scope["headers"]:
            headers[name.decode("latin-1")] = value.decode("latin-1")
        try:
            body = await _read_body(scope, headers, receive)
        except _Gone:
            return
        except _TooLarge:
            await self._send(scope, send, too_large(), close=True)
            return
        except TimeoutError:
            timeout = Response.json(408, {"message": "request body timed out"})
            await self._send(scope, send, timeout, close=True)
            return
        path = scope["raw_path"].decode("latin-1")
        query = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        request = Request(scope["method"], path, query, headers, body)
        try:
            outcome = await self._serve(request)
        except Exception:  # a bug in the sandbox must not kill the connection silently
            log.exception("sandbox error on %s %s", request.method, path)
            outcome = Outcome(Response.json(500, {"message": "sandbox internal error"}))
        if outcome.response is None or (self.stopping is not None and self.stopping.is_set()):
            connection = _CONNECTION.get()
            if connection is not None:
                connection.drop()
            self._log(scope, "-")
            return
        await self._send(scope, send, outcome.response, close=outcome.close)

    async def _serve(self, request: Request) -> Outcome:
        loop = asyncio.get_running_loop()
        plan = await loop.run_in_executor(None, self.dispatcher.plan, request)
        if plan.pause:
            await self._wait(plan.pause)
        outcome = await loop.run_in_executor(None, self.dispatcher.carry_out, plan)
        if outcome.hold:
            await self._wait(outcome.hold)
        return outcome

    async def _wait(self, seconds: float) -> None:
        """Sleep `seconds`, or until the server stops."""
        if self.stopping is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    async def _send(self, scope: Scope, send: Send, response: Response, *, close: bool) -> None:
        names = {k.lower() for k, _ in response.headers}
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        if "content-length" not in names:
            headers.append((b"content-length", str(len(response.body)).encode()))
        if "server" not in names:
            headers.append((b"server", SERVER.encode()))
        if close:
            headers.append((b"connection", b"close"))
        body = b"" if scope["method"] == "HEAD" else response.body
        with contextlib.suppress(OSError):  # the client went away (e.g. after a timeout)
            await send(
                {"type": "http.response.start", "status": response.status, "headers": headers}
            )
            await send({"type": "http.response.body", "body": body})
        self._log(scope, str(response.status))

    def _log(self, scope: Scope, status: str) -> None:
        client = scope.get("client") or ("-", 0)
        line = f'"{scope["method"]} {scope["raw_path"].decode("latin-1")}" {status}'
        if self.verbose:
            sys.stderr.write(f"{client[0]} {line}\n")
        else:
            log.debug("%s", line)


async def _read_body(scope: Scope, headers: Message, receive: Receive) -> bytes:
    """The request body, at most MAX_BODY bytes (chunked or not), each part within
    BODY_TIMEOUT of the last."""
    try:
        if int(headers.get("Content-Length") or 0) > MAX_BODY:
            raise _TooLarge
    except ValueError:
        raise _TooLarge from None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await asyncio.wait_for(receive(), BODY_TIMEOUT)
        if message["type"] == "http.disconnect":
            raise _Gone
        part = message.get("body", b"")
        size += len(part)
        if size > MAX_BODY:
            raise _TooLarge
        if part:
            chunks.append(part)
        if not message.get("more_body", False):
            return b"".join(chunks)


class HTTPServer:
    """uvicorn serving `SandboxApp` on a loopback socket, on a thread of its own."""

    def __init__(self, host: str, port: int, dispatcher: Dispatcher, *, verbose: bool) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host.strip("[]"), port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.socket = sock
        self.address: tuple[str, int] = sock.getsockname()[:2]
        self.app = SandboxApp(dispatcher, verbose=verbose)
        config = uvicorn.Config(
            self.app,
            http=_Protocol,
            ws="none",
            lifespan="off",
            interface="asgi3",
            log_config=None,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            server_header=False,
            limit_concurrency=MAX_CONNECTIONS,
            timeout_keep_alive=int(KEEP_ALIVE),
            timeout_graceful_shutdown=1,
            h11_max_incomplete_event_size=MAX_HEAD,
        )
        self.server = uvicorn.Server(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-http", daemon=True)
        self._thread.start()
        self._started.wait(5)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="sandbox-http-worker")
        loop.set_default_executor(executor)
        try:
            self.app.stopping = asyncio.Event()
            loop.call_soon(self._started.set)
            loop.run_until_complete(self.server.serve(sockets=[self.socket]))
        except Exception:
            log.exception("the drill range's HTTP server failed")
        finally:
            self._started.set()
            with contextlib.suppress(Exception):
                tasks = asyncio.all_tasks(loop)
                for task in tasks:
                    task.cancel()
                if tasks:
                    loop.run_until_complete(asyncio.wait(tasks, timeout=1))
            loop.close()
            executor.shutdown(wait=False, cancel_futures=True)
            self.socket.close()

    def stop(self) -> None:
        """Stop serving: held answers are cut short, open connections closed (promptly)."""
        self.server.should_exit = True
        self.server.force_exit = True
        loop, stopping = self._loop, self.app.stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop ended already
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.socket.close()

"""The drill range in process: an httpx transport with no socket.

`SandboxServer.transport()` (or `SandboxTransport(server)`) hands every request to the same
dispatch the loopback server's HTTP handler uses (`SandboxServer.plan` / `carry_out`): the
same routing, rate limits, injected faults, request counts and `/_sandbox/...` inspection
endpoint. Only the delivery differs, as a client would see it without a network:

- an answer becomes an `httpx.Response` (carrying `extensions["sandbox_fault"]`, the
  `Fault`, when a fault made it; tests use it to skip the spec check of answers that are
  broken on purpose);
- a ``timeout`` fault raises `httpx.ReadTimeout` at once (the client's timeout ran out;
  AFTER: the effect was applied), a ``drop`` `httpx.RemoteProtocolError`, a ``connect``
  `httpx.ConnectError`;
- a ``slow`` fault sleeps (`asyncio.sleep` for async clients, so a client's deadline can
  cancel it before the request is handled; `time.sleep` for sync ones).

The server need not be started (no scenario runs then, no Socket Mode server listens:
`apps.connections.open` still hands out URLs, for a test's own far end). It serves any host
name; `IN_PROCESS_URL` is the drill range's own.

    server = SandboxServer(scenario=None)
    transport = server.transport()
    slack = SlackClient(f"{IN_PROCESS_URL}/api", "xoxb-drill-range", transport=transport)
    server.faults.force("timeout", "after", on="chat.postMessage")
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qs

import httpx

from cockpit.sandbox.dispatch import MAX_BODY, Dispatcher, Outcome, too_large
from cockpit.sandbox.state import Request, Response

FAULT_EXTENSION = "sandbox_fault"


class SandboxTransport(httpx.AsyncBaseTransport, httpx.BaseTransport):
    """An async and sync httpx transport into a `SandboxServer`."""

    def __init__(self, server: Dispatcher) -> None:
        self.server = server

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        if len(request.content) > MAX_BODY:
            return _response(request, Outcome(too_large(), close=True))
        plan = self.server.plan(_request(request))
        if plan.pause:
            await asyncio.sleep(plan.pause)
        return _response(request, self.server.carry_out(plan))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        if len(request.content) > MAX_BODY:
            return _response(request, Outcome(too_large(), close=True))
        plan = self.server.plan(_request(request))
        if plan.pause:
            time.sleep(plan.pause)
        return _response(request, self.server.carry_out(plan))


def _request(request: httpx.Request) -> Request:
    """`request` as the dispatch takes it (the path as sent, still percent-encoded, as the
    HTTP handler reads it off the socket)."""
    raw = request.url.raw_path.decode("ascii")
    path, _, query = raw.partition("?")
    return Request(
        request.method,
        path,
        parse_qs(query, keep_blank_values=True),
        request.headers,
        request.content,
    )


def _response(request: httpx.Request, outcome: Outcome) -> httpx.Response:
    """Deliver `outcome` as a client without a network sees it."""
    fault = outcome.fault
    kind = fault.kind if fault is not None else None
    if kind == "connect":
        raise httpx.ConnectError("connection refused (injected by the sandbox)", request=request)
    if kind == "timeout":
        raise httpx.ReadTimeout("timed out (injected by the sandbox)", request=request)
    answer: Response | None = outcome.response
    if answer is None:
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response (injected by the sandbox).",
            request=request,
        )
    headers = list(answer.headers)
    if not any(k.lower() == "content-length" for k, _ in headers):
        headers.append(("Content-Length", str(len(answer.body))))
    if outcome.close:
        headers.append(("Connection", "close"))
    body = b"" if request.method == "HEAD" else answer.body
    response = httpx.Response(answer.status, headers=headers, content=body, request=request)
    if fault is not None:
        response.extensions[FAULT_EXTENSION] = fault
    return response

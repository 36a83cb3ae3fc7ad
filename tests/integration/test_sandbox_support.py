"""Helpers for the sandbox tests (no tests here): clients whose every exchange with the
sandbox is checked against the vendors' specs by tests/spec_check.py, over loopback
(`checked_client`) or in process (`checked_transport`)."""

from __future__ import annotations

import asyncio
import copy
import functools
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema

from cockpit.sandbox.faults import Fault
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.tokens import BOT_TOKEN, STATUSPAGE_KEY
from cockpit.sandbox.transport import FAULT_EXTENSION
from tests import spec_check

SLACK_BOT = {"Authorization": f"Bearer {BOT_TOKEN}"}
JIRA_AUTH = ("alice@drill-range.example", "api-token")
STATUSPAGE = {"Authorization": f"OAuth {STATUSPAGE_KEY}"}

ADF = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Card payments fail"}]}],
}


@functools.cache
def _replies_validator() -> jsonschema.Draft4Validator:
    """conversations.replies as published types `messages` as a 2-tuple (parent, reply),
    each with `additionalProperties: false` and without the keys real messages carry
    (client_msg_id, bot_id, app_id, blocks, metadata, …), so no real thread passes, and a
    thread posted by a bot cannot. Patched here (a copy; spec_check.py's cache is untouched)
    to: each message is a message object (spec_check's patched objs_message), the first one
    a thread parent."""
    spec = copy.deepcopy(spec_check._slack_spec())
    ok = spec["paths"]["/conversations.replies"]["get"]["responses"]["200"]["schema"]
    ok["properties"]["messages"] = {
        "type": "array",
        "items": {"$ref": "#/definitions/objs_message"},
        "minItems": 1,
    }
    ok["properties"]["response_metadata"] = {"$ref": "#/definitions/objs_response_metadata"}
    return jsonschema.Draft4Validator({**ok, "definitions": spec["definitions"]})


def check_replies_answer(doc: Any) -> None:
    errors = list(_replies_validator().iter_errors(doc))
    if errors:
        raise spec_check.SpecViolation(f"conversations.replies: {errors[0].message[:300]}")
    parent = doc["messages"][0] if doc.get("messages") else None
    if parent is not None and not {"thread_ts", "reply_count", "ts"} <= set(parent):
        raise spec_check.SpecViolation("conversations.replies: the first message is no parent")


def check_exchange(response: httpx.Response) -> None:
    """Check one real exchange with the sandbox against the right vendor spec."""
    response.read()
    request = response.request
    path = request.url.path
    if path.startswith("/api/"):
        if (
            path.endswith("/conversations.replies")
            and response.status_code == 200
            and response.json().get("ok") is True
        ):
            spec_check.check_slack(request, None)
            check_replies_answer(response.json())
        else:
            spec_check.check_slack(request, response)
    elif path.startswith("/rest/api/3"):
        spec_check.check_jira(request, response)
    elif path.startswith("/v1/"):
        spec_check.check_statuspage(request, response)


def checked_client(base_url: str, timeout: float = 10.0) -> httpx.Client:
    """An httpx client on real sockets whose every exchange is checked against the specs."""
    return httpx.Client(
        base_url=base_url, timeout=timeout, event_hooks={"response": [check_exchange]}
    )


def slack(
    client: httpx.Client, method: str, headers: dict[str, str] | None = None, /, **args: Any
) -> dict[str, Any]:
    """Call a Slack method the way its docs say: GET with a query for read methods, POST
    with JSON where the method takes JSON, else a form."""
    ref = spec_check._slack_ref(method) or {}
    headers = headers or SLACK_BOT
    if str(ref.get("http_method", "POST")).upper() == "GET":
        response = client.get(f"/api/{method}", params=args, headers=headers)
    elif ref.get("json_input_supported"):
        response = client.post(f"/api/{method}", json=args, headers=headers)
    else:
        response = client.post(f"/api/{method}", data=args, headers=headers)
    assert response.status_code == 200, response.text
    doc: dict[str, Any] = response.json()
    return doc


def checked_transport(server: SandboxServer, service: str) -> spec_check.CheckedTransport:
    """The drill range in process (`server.transport()`) for `service`'s client, every
    request and answer checked against the vendor's spec, as `checked_client` does. Answers
    an injected fault broke on purpose are left unchecked (their requests are checked); a
    `slack_error` is a well-formed answer and is checked. `.exchanges` keeps every
    (request, response or None) pair."""
    inner = server.transport()

    async def handle(request: httpx.Request) -> httpx.Response:
        response = await inner.handle_async_request(request)
        fault = response.extensions.get(FAULT_EXTENSION)
        if isinstance(fault, Fault) and fault.off_spec:
            return spec_check.unchecked(response)
        if (
            service == "slack"
            and request.url.path.endswith("/conversations.replies")
            and response.status_code == 200
            and response.json().get("ok") is True
        ):
            check_replies_answer(response.json())  # see _replies_validator
            return spec_check.unchecked(response)
        return response

    return spec_check.checked_transport(service, handle)


@dataclass
class FakeClock:
    """A monotonic clock that only moves when something sleeps on it (or by hand)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

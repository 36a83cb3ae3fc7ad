"""The drill range as the e2e tests look at it: a free port, its state (/_sandbox/state),
waiting for it to get somewhere, cockpit's own tickets."""

from __future__ import annotations

import json
import socket
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def drill_state(port: int) -> dict:  # type: ignore[type-arg]
    return httpx.get(f"http://127.0.0.1:{port}/_sandbox/state", timeout=5).json()  # type: ignore[no-any-return]


def wait_state(port: int, check, timeout: float = 40.0) -> dict:  # type: ignore[no-untyped-def,type-arg]
    deadline = time.monotonic() + timeout
    state: dict = {}  # type: ignore[type-arg]
    while time.monotonic() < deadline:
        state = drill_state(port)
        if check(state):
            return state
        time.sleep(0.3)
    summary = {
        "issues": [(i["key"], i["status"]) for i in ours(state)] if state else [],
        "statuspage": [
            (i["status"], [u["status"] for u in i.get("incident_updates", [])])
            for i in state.get("statuspage", {}).get("incidents", [])
        ],
        "faults": len(state.get("faults_injected", [])),
        "requests": state.get("requests", {}),
    }
    raise AssertionError(f"the drill range never got there: {json.dumps(summary)[:4000]}")


def ours(state: dict) -> list[dict]:  # type: ignore[type-arg]
    return [i for i in state["jira"]["issues"].values() if "cockpit" in i["labels"]]

"""The drill range's Slack for bench/run.py's soak section, in a process of its own: what
it stores (every message of the shift) and the CPU it spends are not the app's, so the
soak's memory and idle-CPU figures are the app's alone.

    python bench/_soakrange.py

Prints one JSON line, {"url": …}, then answers one JSON command per stdin line with one
JSON line on stdout:

    {"op": "channels", "names": [...]}         create these channels (if missing)
    {"op": "targets", "names": [...]}          the incidents' channels people post in now
                                               (the open incidents' ones the app watches)
    {"op": "post", "n": N, "seconds": S, "seed": K}
                                               post N messages over S seconds in the
                                               background (75% #alerts, 15% #incidents, 10%
                                               the incidents' channels, some thread replies)
    {"op": "drain"}                            wait for the background posts to be made
    {"op": "probe", "channel": NAME}           post one message now: its ts and the time
                                               (time.monotonic, the same clock as the app's
                                               process) just before it was stored
    {"op": "disconnect", "reason": R | null}   Slack ends every socket (null: cut silently)
    {"op": "refuse", "seconds": S}             new socket connections refused for S s
    {"op": "stats"}                            requests by method, socket figures, posts
    {"op": "quit"}
"""

from __future__ import annotations

import json
import queue
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from cockpit.sandbox.server import SandboxServer  # noqa: E402

PEOPLE = ("U0SBXALICE1", "U0SBXBENJI1", "U0SBXPRIYA1", "U0SBXMARCO1", "U0SBXJUNE01")
ALERTS = (
    "[Triggered] checkout-api error rate > 5% on {host}",
    "[Recovered] checkout-api error rate > 5% on {host}",
    "[Warn] p99 latency of payments-gateway 1.8 s on {host}",
    "Pingdom: www.example.com is DOWN ({host})",
    "Sentry: TypeError in cart.totals ({n} events) on {host}",
)
SAYINGS = (
    "checkout is failing for some EU buyers again",
    "anyone else seeing 502s from the payments gateway?",
    "the dashboards look better since the rollback",
    "customers report slow search on the mobile app",
    "I am on it, looking at the error logs now",
    "deploy 4812 is out, watching the graphs",
)


class Range:
    def __init__(self) -> None:
        self.server = SandboxServer(scenario=None, lenient=True).start()
        self.state = self.server.state
        self.requests: Counter[str] = Counter()
        self.posted = 0
        self.targets: list[str] = []  # the incidents' channels posted in
        self.jobs: queue.Queue[tuple[int, float, int] | None] = queue.Queue()
        self.idle = threading.Event()
        self.idle.set()
        plan = self.server.plan

        def counted(request: Any) -> Any:  # every request the app makes
            if request.path.startswith("/api/"):
                self.requests[request.path[5:]] += 1
            return plan(request)

        self.server.plan = counted  # type: ignore[method-assign]
        threading.Thread(target=self._poster, name="soak-poster", daemon=True).start()

    # -- posting ---------------------------------------------------------------------------
    def _poster(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            n, seconds, seed = job
            rng = random.Random(seed)
            began = time.monotonic()
            for k in range(n):
                self._post_one(rng, k)
                ahead = began + seconds * (k + 1) / n - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            if self.jobs.empty():
                self.idle.set()

    def _incident_channels(self) -> list[Any]:
        found = (self.state.channel_by_name(name) for name in list(self.targets))
        return [c for c in found if c is not None]

    def _post_one(self, rng: random.Random, k: int) -> None:
        state = self.state
        roll = rng.random()
        if roll < 0.75:
            channel = state.channel_by_name("alerts")
            bot = state.bots[rng.choice(("datadog", "pingdom", "sentry"))]
            text = rng.choice(ALERTS).format(host=f"web-{rng.randrange(40):02d}", n=k)
            msg = state.bot_message(bot, text)
        else:
            channels = self._incident_channels() if roll >= 0.9 else []
            channel = rng.choice(channels) if channels else state.channel_by_name("incidents")
            msg = state.person_message(rng.choice(PEOPLE), f"{rng.choice(SAYINGS)} ({k})")
        assert channel is not None
        thread = None
        if channel.name != "alerts" and channel.messages and rng.random() < 0.2:
            parent = channel.messages[-1 - rng.randrange(min(5, len(channel.messages)))]
            thread = parent.get("thread_ts") or parent["ts"]
        state.post(channel, msg, thread_ts=thread)
        self.posted += 1

    # -- commands ----------------------------------------------------------------------------
    def handle(self, cmd: dict[str, Any]) -> dict[str, Any]:
        op = cmd["op"]
        state, hub = self.state, self.server.socket
        assert hub is not None
        if op == "channels":
            for name in cmd["names"]:
                if state.channel_by_name(name) is None:
                    state.create_channel(name, "U0SBXALICE1")
            return {"ok": True}
        if op == "targets":
            self.targets = [str(n).lstrip("#") for n in cmd["names"]]
            return {"ok": True}
        if op == "post":
            self.idle.clear()
            self.jobs.put((int(cmd["n"]), float(cmd["seconds"]), int(cmd.get("seed", 0))))
            return {"ok": True}
        if op == "drain":
            self.idle.wait(600)
            return {"ok": True, "posted": self.posted}
        if op == "probe":
            channel = state.channel_by_name(cmd["channel"])
            assert channel is not None
            msg = state.person_message(PEOPLE[0], f"probe: still seeing errors ({self.posted})")
            at = time.monotonic()
            stored = state.post(channel, msg)
            self.posted += 1
            return {"ok": True, "ts": stored["ts"], "at": at}
        if op == "disconnect":
            return {"ok": True, "closed": hub.disconnect(cmd.get("reason"))}
        if op == "refuse":
            hub.refuse_for(float(cmd["seconds"]))
            return {"ok": True}
        if op == "stats":
            return {
                "ok": True,
                "requests": dict(self.requests),
                "socket": hub.stats(),
                "posted": self.posted,
            }
        raise ValueError(f"unknown op {op!r}")


def main() -> int:
    r = Range()
    print(json.dumps({"url": r.server.base_url}), flush=True)
    try:
        for line in sys.stdin:
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                break
            try:
                answer = r.handle(cmd)
            except Exception as e:  # said to the bench, which raises it
                answer = {"ok": False, "error": f"{type(e).__name__}: {e}"}
            print(json.dumps(answer), flush=True)
    finally:
        r.jobs.put(None)
        r.server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

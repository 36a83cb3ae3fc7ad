"""The drill range's HTTP server: Slack, Jira and Statuspage on one loopback port.

    <base>/api/<method>              Slack Web API
    <base>/rest/api/3/...            Jira Cloud REST v3
    <base>/v1/pages/<page_id>/...    Statuspage v1
    <base>/_sandbox/state            read-only JSON dump of everything (never faulted)
    ws://<host>:<another port>/link/ Slack's Socket Mode (socket_mode.py), the URL from
                                     apps.connections.open (an xapp- token)

In-process (for `cockpit demo` and tests):

    server = SandboxServer(scenario="outage", speed=10).start()
    ... server.base_url, server.state.snapshot(), server.config_snippet() ...
    server.stop()

The HTTP side is uvicorn running a small ASGI app on a thread with its own event loop
(asgi.py, imported by `start()`), with its limits: bodies capped (chunked too), header and
keep-alive timeouts, one loop and a few worker threads whatever the number of connections.

Without a socket at all (transport.py): `server.transport()` is an httpx transport that hands
each request to the same dispatch as the HTTP app; the server need not be started.

    server = SandboxServer(scenario=None)
    client = SlackClient(f"{IN_PROCESS_URL}/api", "xoxb-drill-range", transport=server.transport())

One dispatch serves both: `plan(request)` counts the request, answers the inspection
endpoint and unknown paths, and decides its fault; `carry_out(plan)` applies the effect
(unless a fault comes BEFORE it) and says what the client gets (`Outcome`: an answer, or
none, held back or not). The ASGI app and the transport only deliver the outcome, each
its own way (a slow fault's pause is taken between the two).

As a command: `run_sandbox(argv)` (wired as `cockpit sandbox`).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from cockpit.sandbox.dispatch import IN_PROCESS_URL, Outcome, Plan
from cockpit.sandbox.faults import (
    FAULT_KINDS,
    FaultInjector,
    Limit,
    RateLimiter,
    fault_response,
)
from cockpit.sandbox.jira_api import JiraAPI
from cockpit.sandbox.jira_site import DEFAULT_SEARCH_LAG, SEVERITY_FIELD
from cockpit.sandbox.scenarios import Scenario, ScenarioError, ScenarioRunner, load_scenario
from cockpit.sandbox.slack_api import SlackAPI
from cockpit.sandbox.socket_mode import SocketHub
from cockpit.sandbox.state import PAGE_ID, Request, Response, SandboxState
from cockpit.sandbox.statuspage_api import StatuspageAPI
from cockpit.sandbox.tokens import (
    APP_TOKEN,
    BOT_TOKEN,
    NARROW_BOT_TOKEN,
    NARROW_LACKS,
    REVOKED_BOT_TOKEN,
    STATUSPAGE_KEY,
)

if TYPE_CHECKING:
    from cockpit.sandbox.asgi import HTTPServer
    from cockpit.sandbox.transport import SandboxTransport

log = logging.getLogger("cockpit.sandbox")

DEFAULT_PORT = 8765
SEARCH_LAG_ENV = "COCKPIT_SANDBOX_JIRA_SEARCH_LAG"


class SandboxError(Exception):
    """A sandbox that cannot start: a non-loopback host, a port in use, a bad scenario."""


def drill_settings(base: str) -> dict[str, dict[str, object]]:
    """The config values that point cockpit at the drill range served at `base` (this
    process's or another's, as `cockpit demo --range` uses), by section.

    Any email works for Jira (it becomes the Jira user); BUG is the follow-up project.
    The incident project requires a Severity (customfield_10042): the severity's
    option goes there, "Major" as the guess until one is set (priority and the
    resolution screens take cockpit's defaults).
    """
    return {
        "slack": {"api_url": f"{base}/api"},
        "jira": {
            "url": base,
            "email": "oncall@drill-range.example",
            "follow_up_project": "BUG",
            "severity": {
                "field": SEVERITY_FIELD,
                "values": {
                    "critical": "Critical",
                    "major": "Major",
                    "minor": "Minor",
                    "unset": "Major",
                },
            },
        },
        "statuspage": {"api_url": f"{base}/v1", "page_id": PAGE_ID},
    }


def check_loopback(host: str) -> None:
    """Refuse anything but a loopback address: the sandbox's tokens are public."""
    if host.strip().lower() == "localhost":
        return
    try:
        addr = ipaddress.ip_address(host.strip().strip("[]"))
    except ValueError:
        addr = None
    if addr is None or not addr.is_loopback:
        raise SandboxError(
            f"refusing to listen on {host!r}: the sandbox's tokens are public, so it only binds "
            "a loopback address (127.0.0.1, another 127.x.y.z, ::1 or localhost)"
        )


class SandboxServer:
    """The drill range, in-process. `start()` serves on a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        scenario: str | Path | Scenario | None = "quiet",
        speed: float = 1.0,
        faults: float = 0.0,
        seed: int | None = None,
        *,
        fault_delay: float = 12.0,
        fault_kinds: Sequence[str] = FAULT_KINDS,
        rate_limits: Mapping[str, int | Limit] | RateLimiter | None = None,
        lenient: bool = False,
        tokens: Iterable[str] = (),
        search_lag: float | None = None,
        verbose: bool = False,
        socket_mode: bool = True,
    ) -> None:
        check_loopback(host)
        if speed <= 0:
            raise SandboxError(f"speed must be greater than 0, got {speed}")
        self.host, self.port = host, port
        self.verbose = verbose
        self.state = SandboxState()
        try:
            self.scenario = (
                scenario
                if isinstance(scenario, Scenario) or scenario is None
                else load_scenario(scenario, self.state)
            )
        except ScenarioError as exc:
            raise SandboxError(str(exc)) from exc
        self.speed = speed
        try:
            self.faults = FaultInjector(faults, seed=seed, delay=fault_delay, kinds=fault_kinds)
        except ValueError as exc:
            raise SandboxError(str(exc)) from exc
        # Slack's and Statuspage's own rate limits unless lenient (here or in the scenario)
        self.lenient = lenient or bool(self.scenario is not None and self.scenario.lenient)
        self.rate_limiter = (
            rate_limits
            if isinstance(rate_limits, RateLimiter)
            else RateLimiter(rate_limits, lenient=self.lenient)
        )
        # the credentials the range takes: its own, the scenario's, the caller's
        if self.scenario is not None:
            self.scenario.add_tokens(self.state.tokens)
        for credential in tokens:
            self.state.tokens.add(credential)
        # Socket Mode: message events pushed over a WebSocket (faults: self.socket.disconnect)
        self.socket = SocketHub(self.state, host) if socket_mode else None
        self.slack = SlackAPI(self.state, self.rate_limiter, self.socket)
        self.jira = JiraAPI(self.state)
        # Jira's site as the scenario sets it up; its search lags writes (None: the
        # scenario's lag, else jira_site.DEFAULT_SEARCH_LAG; 0 for tests that search at once)
        if self.scenario is not None and self.scenario.jira:
            self.state.jira_site.apply_scenario(self.scenario.jira)
        if search_lag is not None:
            self.state.jira_site.search_lag = search_lag
        self.statuspage = StatuspageAPI(self.state, self.rate_limiter)
        self.runner: ScenarioRunner | None = None
        self._httpd: HTTPServer | None = None
        self._stopping = threading.Event()  # set by stop()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        from cockpit.sandbox.asgi import HTTPServer  # uvicorn: imported when it starts

        try:
            self._httpd = HTTPServer(self.host, self.port, self, verbose=self.verbose)
        except OSError as exc:
            raise SandboxError(
                f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}"
            ) from exc
        self.port = self._httpd.address[1]
        self.state.base_url = self.base_url
        if self.socket is not None:
            try:
                self.socket.start()
            except OSError as exc:
                self._httpd.socket.close()
                self._httpd = None
                raise SandboxError(str(exc)) from exc
        self._httpd.start()
        if self.scenario is not None:
            self.runner = ScenarioRunner(self.state, self.scenario, speed=self.speed)
            self.runner.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self.runner is not None:
            self.runner.stop()
        if self.socket is not None:
            self.socket.stop()
        if self._httpd is not None:
            self._httpd.stop()
            self._httpd = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def transport(self, base_url: str = IN_PROCESS_URL) -> SandboxTransport:
        """An httpx transport (async and sync) into this drill range, with no socket; until
        the server is started, `base_url` is the drill range's own address (in Jira's links,
        `settings()`, the snapshot)."""
        from cockpit.sandbox.transport import SandboxTransport

        if self._httpd is None:
            self.state.base_url = base_url.rstrip("/")
        return SandboxTransport(self)

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            if self.state.base_url:  # in process only (`transport()`)
                return self.state.base_url
            raise RuntimeError("the sandbox is not started")
        host = self._httpd.address[0]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def page_id(self) -> str:
        return PAGE_ID

    def settings(self) -> dict[str, dict[str, object]]:
        """The config values that point cockpit at this sandbox, by section
        (`drill_settings`)."""
        return drill_settings(self.base_url)

    def config_snippet(self) -> str:
        return config_snippet(self.settings())

    # -- requests -------------------------------------------------------------------------
    def plan(self, request: Request) -> Plan:
        """Count `request` and decide its fault (see the module's docstring)."""
        path = request.path
        if path.startswith("/_sandbox/"):
            return Plan(request, answer=self._inspect(request))  # never faulted
        service = self._service(path)
        if service is None:
            missing = Response.json(404, {"message": f"no such endpoint: {path}"})
            return Plan(request, answer=missing)
        if service == "slack":
            route = "slack:" + path[len("/api/") :]
        else:
            route = f"{service}:{request.method} {path}"
        with self.state.lock:
            self.state.requests[route] += 1
        fault = self.faults.decide(route)
        if fault is not None:
            self.state.record_fault(
                {
                    "kind": fault.kind,
                    "when": fault.when,
                    "status": fault.status,
                    "service": service,
                    "method": request.method,
                    "path": path,
                    "at": self.state.now(),
                }
            )
        return Plan(request, service, route, fault)

    def carry_out(self, plan: Plan) -> Outcome:
        """Apply the request's effect (unless its fault comes before it) and say what the
        client gets."""
        if plan.answer is not None or plan.service is None:
            return Outcome(plan.answer or Response.json(404, {"message": "no such endpoint"}))
        fault = plan.fault
        if fault is None or fault.kind == "slow":
            return Outcome(self._apply(plan.service, plan.request), fault)
        applied = self._apply(plan.service, plan.request) if fault.when == "after" else None
        if fault.kind == "timeout":
            held = fault.seconds if fault.seconds is not None else self.faults.delay
            return Outcome(applied, fault, hold=held)
        if fault.kind in ("drop", "connect"):
            return Outcome(None, fault)
        # A proxy's error page comes with `Connection: close`, as nginx sends it.
        answer = fault_response(fault, plan.service, applied)
        return Outcome(answer, fault, close=fault.kind == "server_error")

    def _apply(self, service: str, request: Request) -> Response:
        try:
            return self._route(service, request)
        except Exception:  # a bug in the sandbox: an answer all the same
            log.exception("sandbox error on %s %s", request.method, request.path)
            return Response.json(500, {"message": "sandbox internal error"})

    @staticmethod
    def _service(path: str) -> str | None:
        if path.startswith("/api/"):
            return "slack"
        if path.startswith(JiraAPI.PREFIXES):  # v3, and v2 for the official `jira` library
            return "jira"
        if path.startswith(StatuspageAPI.PREFIX):
            return "statuspage"
        return None

    def _route(self, service: str, request: Request) -> Response:
        if service == "slack":
            return self.slack.handle(request, request.path[len("/api/") :])
        if service == "statuspage":  # limited per API key, after its auth (statuspage_api.py)
            return self.statuspage.handle(request)
        # Jira is limited only when asked (`rate_limits={"jira": 60}`).
        wait = self.rate_limiter.hit(service)
        if wait is not None:
            return self.rate_limiter.refusal(service, service, wait)
        return self.jira.handle(request)

    def _inspect(self, request: Request) -> Response:
        if request.path != "/_sandbox/state":
            return Response.json(404, {"message": "only /_sandbox/state is here"})
        if request.method not in ("GET", "HEAD"):
            return Response.json(
                405, {"message": "the inspection endpoint is read-only"}, [("Allow", "GET, HEAD")]
            )
        return Response.json(200, self.state.snapshot())


# -- the command ---------------------------------------------------------------------------
def _rate_limit(text: str) -> tuple[str, int]:
    name, sep, value = text.partition("=")
    try:
        if not sep or not name.strip():
            raise ValueError
        return name.strip(), int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected NAME=N (a tier t1..t5 or a Slack method, N per minute), got {text!r}"
        ) from exc


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def config_snippet(settings: Mapping[str, Mapping[str, object]]) -> str:
    """`settings` (by section) as a config file's TOML."""
    lines = []
    for section, values in settings.items():
        lines.append(f"[{section}]")
        lines.extend(f"{k} = {_toml(v)}" for k, v in values.items())
        lines.append("")
    return "\n".join(lines)


def _toml(value: object) -> str:
    """A value as TOML (strings as JSON writes them, which TOML reads; tables inline)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not 0 <= value <= 600:
        raise argparse.ArgumentTypeError(f"must be 0 to 600 seconds, got {value}")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `cockpit sandbox` options, for a parser (or sub-parser) the CLI owns."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--scenario",
        default="quiet",
        metavar="NAME|FILE",
        help="a shipped scenario (quiet, outage, storm) or a TOML file (default quiet)",
    )
    parser.add_argument(
        "--speed",
        type=_positive,
        default=1.0,
        metavar="X",
        help="play the scenario X times faster (default 1)",
    )
    parser.add_argument(
        "--faults",
        type=_probability,
        default=0.0,
        metavar="P",
        help="fail each request with probability P (0..1; default 0)",
    )
    parser.add_argument(
        "--fault-kinds",
        default=",".join(FAULT_KINDS),
        metavar="LIST",
        help=f"which faults to inject (default {','.join(FAULT_KINDS)})",
    )
    parser.add_argument(
        "--fault-delay",
        type=_positive,
        default=12.0,
        metavar="S",
        help="how long a timeout fault holds the response (default 12 s)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed for the faults, to replay the same run"
    )
    parser.add_argument(
        "--rate-limit",
        type=_rate_limit,
        action="append",
        default=[],
        metavar="NAME=N",
        help="requests per minute for a Slack tier (t1..t5), a Slack method, or jira / "
        "statuspage as a whole (0 = unlimited); repeatable",
    )
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="classroom speed: generous rate limits instead of Slack's tiers and "
        "Statuspage's 1 request a second (tokens and scopes stay strict)",
    )
    lag = os.environ.get(SEARCH_LAG_ENV, "").strip()
    parser.add_argument(
        "--jira-search-lag",
        type=_seconds,
        default=lag or None,  # argparse checks a string default with `type`
        metavar="S",
        help="seconds before a Jira write shows in search, as Cloud's index lags "
        f"(default: the scenario's, else {DEFAULT_SEARCH_LAG:g}; or ${SEARCH_LAG_ENV})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every request")


def build_parser(prog: str = "cockpit sandbox") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run the drill range: a loopback server speaking the Slack, Jira and "
        "Statuspage APIs, with scripted scenarios, as strict as the services: only its own "
        "tokens work, and Slack's and Statuspage's rate limits hold unless --lenient.",
    )
    add_arguments(parser)
    return parser


def server_from_args(args: argparse.Namespace) -> SandboxServer:
    limits = dict(args.rate_limit)
    kinds = [k.strip() for k in str(args.fault_kinds).split(",") if k.strip()]
    return SandboxServer(
        args.host,
        args.port,
        scenario=args.scenario,
        speed=args.speed,
        faults=args.faults,
        seed=args.seed,
        fault_delay=args.fault_delay,
        fault_kinds=kinds,
        rate_limits=limits,
        lenient=args.lenient,
        search_lag=args.jira_search_lag,
        verbose=args.verbose,
    )


def banner(server: SandboxServer) -> str:
    base = server.base_url
    scenario = server.scenario.name if server.scenario else "none"
    faults = server.faults.probability
    return "\n".join(
        [
            f"cockpit sandbox: Slack, Jira and Statuspage on {base}",
            f"  scenario {scenario!r} at speed {server.speed:g}x, faults {faults:.0%}"
            + (f" ({', '.join(server.faults.kinds)})" if faults else ""),
            "  rate limits: "
            + (
                "lenient (classroom speed)"
                if server.lenient
                else "Slack's tiers and Statuspage's 1 a second (--lenient for classroom speed)"
            ),
            "",
            "Point cockpit at it (config.toml):",
            "",
            server.config_snippet().rstrip(),
            "",
            "and give it the drill range's tokens (others are refused, as the services do):",
            f"  echo {BOT_TOKEN} | cockpit auth set slack",
            f"  echo {APP_TOKEN} | cockpit auth set slack-app   (Socket Mode)",
            f"  echo {STATUSPAGE_KEY} | cockpit auth set statuspage",
            f"To practise refusals: {REVOKED_BOT_TOKEN} (revoked), {NARROW_BOT_TOKEN} "
            f"(lacks {', '.join(NARROW_LACKS)}).",
            "",
            f"Inspect everything:   curl {base}/_sandbox/state",
            "Report as a person:   curl -H 'Authorization: Bearer xoxp-trainer' "
            f"-d channel=incidents -d text='Search is down' {base}/api/chat.postMessage",
            "Press Ctrl-C to stop.",
        ]
    )


def run_sandbox(argv: Sequence[str] | None = None) -> int:
    """`cockpit sandbox [--host H] [--port N] [--scenario NAME|FILE] [--speed X] ...`."""
    args = build_parser().parse_args(argv)
    return run_from_args(args)


def run_from_args(args: argparse.Namespace) -> int:
    try:
        server = server_from_args(args).start()
    except SandboxError as exc:
        print(f"cockpit sandbox: {exc}", file=sys.stderr)
        return 2
    print(banner(server), flush=True)
    done = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        done.set()

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_term) if in_main else None
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
        server.stop()
        print("\ncockpit sandbox: stopped.", flush=True)
    return 0


main = run_sandbox

"""`cockpit serve [demo]`: its options and what it does (the CLI calls `add_arguments`
and `run`; nothing here imports aiohttp until the server starts)."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from cockpit.config import Paths, Settings
    from cockpit.web.server import CockpitServer

INSTALL_HINT = (
    "cockpit serve needs textual-serve, which is not installed: "
    "pip install 'cockpit[serve]' (or pip install textual-serve)"
)
DEFAULT_PORT = 8765
# (sessions at once, minutes of idleness before a session ends), by what is served:
# one operator with a cockpit (two cockpits on one store would both send its outbox);
# a room of stakeholders watching a board all day
LIMITS = {"cockpit": (1, 30.0), "board": (20, 8 * 60.0)}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "what",
        nargs="?",
        choices=["demo"],
        help="demo: serve the drill (`cockpit demo`) instead of your cockpit",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on (default {DEFAULT_PORT}; 0: any free one)",
    )
    p.add_argument(
        "--read-only",
        action="store_true",
        help="serve the incident board for stakeholders: status, severity, roles, SLO "
        "clock, the updates sent and the timeline; nothing on it changes anything",
    )
    p.add_argument(
        "--expose",
        action="store_true",
        help="allow a --host other than loopback (everyone who can reach it and has the "
        "link gets in; plain HTTP unless a TLS proxy is in front: see the README)",
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use, when a reverse proxy (TLS) is in front, e.g. "
        "https://cockpit.example.com",
    )
    p.add_argument(
        "--max-sessions",
        type=int,
        metavar="N",
        help="browser sessions at once (default 1 for the cockpit, 20 for the board)",
    )
    p.add_argument(
        "--idle",
        type=float,
        metavar="MINUTES",
        help="end a session after this long without a key, click or resize (default 30; "
        "the board 480; 0: never)",
    )
    drill = p.add_argument_group("cockpit serve demo")
    drill.add_argument("--scenario", default="outage", metavar="NAME|FILE")
    drill.add_argument("--speed", type=float, default=1.0, metavar="X")
    drill.add_argument("--faults", type=float, default=0.0, metavar="P")
    drill.add_argument(
        "--sandbox-port", type=int, default=0, help="the drill range's port (default: any free)"
    )
    drill.add_argument(
        "--keep", action="store_true", help="keep the drill's throwaway data directory"
    )
    drill.add_argument(
        "--data-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,  # the global --data-dir stays when this is not given
        help="keep the drill's data here (default: a throwaway directory)",
    )


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or `localhost`) listens on this machine alone."""
    import ipaddress

    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def exposure(read_only: bool, host: str, public_url: str | None) -> list[str]:
    """What serving beyond loopback exposes, said before anything listens."""
    what = (
        "the incident board (read-only: status, roles, the updates sent, the timeline)"
        if read_only
        else "your cockpit with your tokens: whoever gets in can raise incidents, post to "
        "Slack, change tickets and the status page, and read everything"
    )
    lines = [
        f"cockpit serve: listening on {host}, beyond this machine. Exposed: {what}, to "
        "anyone who can reach this port and has the link.",
    ]
    if not (public_url or "").startswith("https://"):
        lines.append(
            "cockpit serve: this is plain HTTP: the link (and its token) and everything on "
            "screen cross the network in clear text. Put a TLS proxy in front and pass "
            "--public-url https://… (README: In a browser)."
        )
    return lines


def run(
    args: argparse.Namespace,
    *,
    paths: Paths,
    settings: Callable[[], Settings],
    env: dict[str, str],
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    def say(text: str) -> None:
        stream = out or sys.stdout
        stream.write(text + "\n")
        stream.flush()

    def warn(text: str) -> None:
        stream = err or sys.stderr
        stream.write(text + "\n")
        stream.flush()

    from importlib.util import find_spec

    if find_spec("textual_serve") is None or find_spec("aiohttp") is None:
        warn(INSTALL_HINT)
        return 2
    if not is_loopback(args.host) and not args.expose:
        warn(
            f"cockpit serve: {args.host} is not loopback: anyone who can reach it could "
            "try to get in. Add --expose to serve there anyway (and read what it exposes), "
            "or use --host 127.0.0.1 behind a TLS proxy."
        )
        return 2
    if args.public_url and not args.public_url.startswith(("http://", "https://")):
        warn("cockpit serve: --public-url must start with https:// (or http://)")
        return 2
    mode = "board" if args.read_only else "cockpit"
    sessions, idle = LIMITS[mode]
    sessions = args.max_sessions if args.max_sessions is not None else sessions
    idle = args.idle if args.idle is not None else idle
    if sessions < 1:
        warn("cockpit serve: --max-sessions must be at least 1")
        return 2
    if not is_loopback(args.host):
        for line in exposure(args.read_only, args.host, args.public_url):
            warn(line)
    secure = is_loopback(args.host) or (args.public_url or "").startswith("https://")
    if args.what == "demo":
        return _serve_demo(args, mode, sessions, idle, secure, env, say, warn)
    settings()  # a config with a mistake stops here, said as `cockpit` says it
    from cockpit.web.session import session_argv

    argv = session_argv(
        mode,
        config=paths.config_file,
        data_dir=paths.data_dir,
        log_dir=paths.log_dir,
        secure=secure,
    )
    return _serve(args, argv, mode, sessions, idle, env, say, drill=None)


def _serve_demo(
    args: argparse.Namespace,
    mode: str,
    sessions: int,
    idle: float,
    secure: bool,
    env: dict[str, str],
    say: Callable[[str], None],
    warn: Callable[[str], None],
) -> int:
    from cockpit.config import load_settings
    from cockpit.sandbox.server import SandboxServer
    from cockpit.web.session import session_argv

    given = getattr(args, "data_dir", None)
    own = given is None
    root = Path(given) if given else Path(tempfile.mkdtemp(prefix="cockpit-serve-demo-"))
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    server = SandboxServer(
        port=args.sandbox_port, scenario=args.scenario, speed=args.speed, faults=args.faults
    )
    server.start()
    status = 1
    try:
        config = root / "demo-config.toml"
        config.write_text('[ui]\ntheme = "cockpit-dark"\n\n' + server.config_snippet())
        load_settings(config, env)  # the scenario's config is checked before anyone connects
        argv = session_argv(
            "board" if mode == "board" else "demo",
            config=config,
            data_dir=root / "data",
            log_dir=root / "logs",
            secure=secure,
        )
        drill = [
            f"the drill range: {server.base_url} (what it holds: {server.base_url}/_sandbox/state)",
            f"the drill's data: {root}; a board on it: cockpit --config {config} "
            f"--data-dir {root / 'data'} serve --read-only --port {DEFAULT_PORT + 1}",
        ]
        status = _serve(args, argv, mode, sessions, idle, env, say, drill=drill)
    finally:
        server.stop()
        if own and not args.keep and status == 0:
            shutil.rmtree(root, ignore_errors=True)
        else:
            warn(f"The drill's data is kept in {root}")
    return status


def _serve(
    args: argparse.Namespace,
    argv: list[str],
    mode: str,
    sessions: int,
    idle: float,
    env: dict[str, str],
    say: Callable[[str], None],
    *,
    drill: list[str] | None,
) -> int:
    import asyncio

    from cockpit.redact import remember
    from cockpit.web.server import CockpitServer, ServeConfig, make_token

    try:
        token = make_token(env)
    except ValueError as e:
        sys.stderr.write(f"cockpit serve: {e}\n")
        return 2
    remember(token)  # never in a log line, whoever writes it
    config = ServeConfig(
        argv=argv,
        host=args.host,
        port=args.port,
        read_only=mode == "board",
        max_sessions=sessions,
        idle_seconds=idle * 60,
        public_url=args.public_url,
        title="cockpit board" if mode == "board" else "cockpit",
        token=token,
    )

    def started(server: CockpitServer) -> None:
        what = (
            "the incident board (read-only)"
            if mode == "board"
            else "the drill's cockpit"
            if drill
            else "your cockpit (full control, with your tokens)"
        )
        ends = f"; an idle one ends after {idle:g} min" if idle > 0 else ""
        lines = [
            f"cockpit serve: {what} at",
            f"    {server.url()}",
            "Open that link in a browser: it lets its holder in (keep it to yourself"
            + (", or share it with who may watch" if mode == "board" else "")
            + f"). At most {sessions} session{'s' if sessions != 1 else ''} at once{ends}. "
            "Ctrl+C stops.",
        ]
        lines += [f"  {line}" for line in drill or []]
        say("\n".join(lines))

    def session_said(text: str) -> None:
        sys.stderr.write(f"cockpit serve: {text}\n")
        sys.stderr.flush()

    server = CockpitServer(config, say=session_said)
    try:
        asyncio.run(server.serve_until_stopped(started))
    except OSError as e:
        why = e.strerror or str(e)
        sys.stderr.write(f"cockpit serve: cannot listen on {args.host}:{args.port}: {why}\n")
        return 1
    return 0

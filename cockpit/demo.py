"""`cockpit demo`: the drill range and the cockpit in one process, with no accounts.

The sandbox runs on loopback in a thread; the cockpit talks to it through its normal
clients with throwaway tokens kept in memory (the OS keyring is not touched; an
app-level token among them, so the feed runs in Slack's Socket Mode) and, unless
`--data-dir` is given, a throwaway data directory. Everything it records is marked as a
drill. When the app closes, a debrief is printed: for each incident, the SLO result and
the timeline.

Two responders on one drill range (the Commander and the Communications Officer, each
with their own cockpit, data directory and name):

    cockpit demo --pair                     the range and the Commander's cockpit (ada);
                                            in tmux, the partner's (bo) in a new pane,
                                            else the command to run in a second terminal
    cockpit demo --range URL --as bo        a cockpit on a range already running (another
                                            `cockpit demo`'s or `cockpit sandbox`'s)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cockpit.application.build import Services

# Throwaway, but tokens all the same: registered with the redactor (`cockpit.redact`) so
# the demo shows and logs them as the real app would its own ("drill-range" alone would
# also hide the drill range's host names).
DRILL_TOKENS = {
    "slack": "xoxb-drill-range",
    "slack-app": "xapp-drill-range",  # Socket Mode: messages pushed as they are posted
    "jira": "drill-range-jira-token",
    "statuspage": "drill-range-statuspage-key",
}
LOG_DIR = "logs"  # under the demo's data directory
DRILL_COMPONENTS = ("Website", "API", "Payments", "Search")  # the drill's status page
PAIR = ("ada", "bo")  # --pair: the Commander's name and the Communications Officer's


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario",
        default="outage",
        metavar="NAME|FILE",
        help="quiet, outage (default) or storm, or a scenario file",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="X",
        help="play the scenario X times faster (default 1)",
    )
    parser.add_argument("--port", type=int, default=0, help="sandbox port (default: any free)")
    parser.add_argument(
        "--faults",
        type=float,
        default=0.0,
        metavar="P",
        help="make each request fail with probability P (practise outages)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the throwaway data directory (its path is printed)",
    )
    parser.add_argument(
        "--as",
        dest="person",
        default=None,
        metavar="NAME",
        help=f"who you are in the drill (default: your name; with --pair, {PAIR[0]})",
    )
    team = parser.add_mutually_exclusive_group()
    team.add_argument(
        "--pair",
        action="store_true",
        help=f"two responders: the range and this cockpit ({PAIR[0]}, Commander), and a "
        f"second cockpit ({PAIR[1]}, Communications Officer) on the same range: in a new "
        "tmux pane when run in tmux, else its command is printed for a second terminal",
    )
    team.add_argument(
        "--range",
        dest="range_url",
        default=None,
        metavar="URL",
        help="join a drill range already running at URL (another `cockpit demo`'s or "
        "`cockpit sandbox`'s, on loopback): no range of its own, so --scenario, --speed, "
        "--port and --faults are the other one's",
    )


def run_demo(args: argparse.Namespace, *, data_dir: str | None, env: dict[str, str]) -> int:
    from cockpit.application.build import build_services
    from cockpit.config import load_settings
    from cockpit.logs import close_logging
    from cockpit.redact import remember
    from cockpit.sandbox.server import SandboxError, SandboxServer, config_snippet, drill_settings
    from cockpit.ui.app import CockpitApp

    remember(*DRILL_TOKENS.values())
    env = dict(env)
    person = getattr(args, "person", None) or (PAIR[0] if getattr(args, "pair", False) else "")
    if person:
        env["COCKPIT_USER"] = person
    range_url = getattr(args, "range_url", None)
    if range_url:
        try:
            base = range_base(range_url)
        except SandboxError as e:
            sys.stderr.write(f"cockpit demo: {e}\n")
            return 2
    own_dir = data_dir is None
    root = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="cockpit-demo-"))
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    status = 0
    server: SandboxServer | None = None
    if not range_url:
        server = SandboxServer(
            port=args.port, scenario=args.scenario, speed=args.speed, faults=args.faults
        )
        server.start()
        base = server.base_url
    start_logging(root)
    try:
        if getattr(args, "pair", False):
            partner = partner_command(base, root if not own_dir else None, env)
            if not start_partner(partner, env):
                print(pair_recipe(partner), flush=True)
                input("Press Enter to start the Commander's cockpit here… ")
        config = root / "demo-config.toml"
        config.write_text('[ui]\ntheme = "cockpit-dark"\n\n' + config_snippet(drill_settings(base)))
        services = build_services(
            load_settings(config, env),
            root / "data",
            token=DRILL_TOKENS.get,
            drill=True,
            components=DRILL_COMPONENTS,
        )
        app = CockpitApp(services, feed_empty_text=FEED_STARTING)
        app.run()
        status = app.exit_status()  # 1 after a crash
        if status == 0:
            print(debrief(services))
        services.close()
    except BaseException:
        status = 1
        raise
    finally:
        if server is not None:
            server.stop()
        close_logging()
        if own_dir and not args.keep and status == 0:
            shutil.rmtree(root, ignore_errors=True)
        else:  # after a crash too: its log is in there
            print(f"The drill's data is kept in {root}")
    return status


def range_base(url: str) -> str:
    """The base URL of a drill range to join: http on a loopback host (the range's tokens
    are public), with nothing after the port. Raises SandboxError otherwise."""
    from urllib.parse import urlsplit

    from cockpit.sandbox.server import SandboxError, check_loopback

    parts = urlsplit(url.strip())
    if parts.scheme != "http" or not parts.hostname or parts.path.strip("/"):
        raise SandboxError(
            f"--range wants a drill range's address like http://127.0.0.1:8765, not {url!r}"
        )
    try:
        port = parts.port
    except ValueError as e:
        raise SandboxError(f"--range: {e}") from e
    check_loopback(parts.hostname)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"http://{host}" + (f":{port}" if port else "")


def partner_command(base: str, root: Path | None, env: dict[str, str]) -> list[str]:
    """The second responder's cockpit on the range at `base`: the same Python, its own
    name and data directory (next to `root`'s when one was given, else a throwaway one)."""
    argv = [sys.executable, "-m", "cockpit", "demo", "--range", base, "--as", PAIR[1]]
    if root is not None:
        argv += ["--data-dir", f"{root}-{PAIR[1]}"]
    return argv


def start_partner(argv: list[str], env: dict[str, str]) -> bool:
    """In tmux: the partner's cockpit in a new pane of this window (side by side when the
    window is wide enough, else one above the other). False when not in tmux or tmux
    refused."""
    import os
    import shlex
    import subprocess

    tmux = shutil.which("tmux")
    if not env.get("TMUX") or tmux is None:
        return False
    try:
        size = subprocess.run(
            [tmux, "display-message", "-p", "#{window_width}"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        wide = size.returncode == 0 and int(size.stdout.strip() or 0) >= 2 * 110
        passed = [
            f"{k}={v}"
            for k, v in env.items()
            if (k.startswith("COCKPIT_") and k != "COCKPIT_USER") or k in ("TERM", "PYTHONPATH")
        ]
        # the pane stays (its debrief readable) until Enter
        # (COLUMNS and LINES in tmux's own environment would override the pane's size)
        line = (
            "env -u COLUMNS -u LINES "
            + shlex.join(argv)
            + "; printf '\\ncockpit demo: Enter closes this pane '; read _"
        )
        out = subprocess.run(
            [
                tmux,
                "split-window",
                "-d",
                "-h" if wide else "-v",
                "-c",
                os.getcwd(),
                *[a for kv in passed for a in ("-e", kv)],
                line,
            ],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, ValueError, subprocess.SubprocessError):
        return False
    return out.returncode == 0


def pair_recipe(argv: list[str]) -> str:
    import shlex

    return (
        f"Two responders on one drill range: this terminal is {PAIR[0]}'s cockpit (the "
        f"Commander). In a second terminal, start {PAIR[1]}'s (the Communications "
        f"Officer):\n\n    {shlex.join(argv)}\n\n"
        "When this cockpit quits, the drill range stops with it.\n"
    )


def start_logging(root: Path) -> Path | None:
    """Log the drill into ``<root>/logs/cockpit.log`` (redacted like the app's), so a
    crash has a log to name. Returns its path, or None when it cannot be written."""
    from cockpit.logs import setup_logging

    try:
        return setup_logging(root / LOG_DIR, secrets_values=lambda: DRILL_TOKENS.values())
    except OSError as e:
        sys.stderr.write(f"cockpit demo: not logging ({e})\n")
        return None


FEED_STARTING = (
    "The drill range is starting: the first messages arrive in a few seconds. A report "
    "will come into #incidents."
)


def debrief(services: Services) -> str:
    """For each incident of the drill: the SLO result and the timeline, as plain text for
    the terminal (the post mortem's Markdown rendered: headings underlined, the table in
    aligned columns, no `##`, `**` or `|`)."""
    import re

    from cockpit.domain.metrics import ack_outcome

    def inline(text: str) -> str:
        text = re.sub(r"\[([^\]]*)\]\(([^)]*)\)", r"\1 <\2>", text)  # [label](url)
        text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
        text = re.sub(r"(?<![\w\\])_(.+?)_(?!\w)", r"\1", text)
        text = text.replace("`", "")
        return re.sub(r"\\(.)", r"\1", text)  # Markdown's escapes

    def plain(markdown: str) -> str:
        lines: list[str] = []
        table: list[list[str]] = []

        def flush() -> None:
            if not table:
                return
            head = table[0]
            keep = [i for i, h in enumerate(head) if h != "UTC"]  # local time is enough
            rows = [[row[i] if i < len(row) else "" for i in keep] for row in table]
            widths = [max(len(r[c]) for r in rows) for c in range(len(keep) - 1)]
            for n, row in enumerate(rows):
                cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=False)]
                lines.append("  ".join([*cells, row[-1]]).rstrip())
                if n == 0:
                    lines.append("  ".join("-" * len(c) for c in [*cells, row[-1]]))
            table.clear()

        for line in markdown.splitlines():
            if line.startswith("|"):
                if not set(line) <= set("|-: "):
                    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
                    table.append([inline(c.strip()) for c in cells])
                continue
            flush()
            if line.startswith("#"):
                title = inline(line.lstrip("#").strip())
                lines += [title, "-" * len(title)]
            elif line.lstrip().startswith(("- ", "* ")):
                indent = len(line) - len(line.lstrip())
                lines.append(" " * indent + "• " + inline(line.lstrip()[2:]))
            else:
                lines.append(inline(line))
        flush()
        return "\n".join(lines)

    service, calendar = services.service, services.calendar
    rows = service.incidents()
    if not rows:
        return "Debrief: no incident was raised in this drill."
    out = ["", "Debrief of the drill", "===================="]
    for row in reversed(rows):
        rec = service.record(row.id)
        inc = rec.incident
        window, outcome = ack_outcome(inc, calendar, now=service.clock.now())
        took = ""
        if inc.acknowledged_at is not None:
            seconds = int((inc.acknowledged_at - inc.first_reported_at).total_seconds())
            took = f", tracked {seconds} s after the report"
        out.append(
            f"\nIncident {inc.id}: {inc.title} — {inc.status.label}\n"
            f"Acknowledgement SLO ({window.label}): {outcome.value}{took}"
        )
        text = service.postmortem_text(rec, calendar)
        start = text.find("## Timeline")
        end = text.find("\n## ", start + 5)
        out.append(plain(text[start : end if end > 0 else None].rstrip()))
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:  # for `python -m cockpit.demo`
    import os

    parser = argparse.ArgumentParser(prog="cockpit demo")
    add_arguments(parser)
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    return run_demo(args, data_dir=args.data_dir, env=dict(os.environ))


if __name__ == "__main__":
    sys.exit(main())

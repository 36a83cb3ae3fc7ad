"""`cockpit demo`: the drill range and the cockpit in one process, with no accounts.

The sandbox runs on loopback in a thread; the cockpit talks to it through its normal
clients with throwaway tokens kept in memory (the OS keyring is not touched; an
app-level token among them, so the feed runs in Slack's Socket Mode) and, unless
`--data-dir` is given, a throwaway data directory. Everything it records is marked as a
drill. When the app closes, a debrief is printed: for each incident, the SLO result and
the timeline.
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


def run_demo(args: argparse.Namespace, *, data_dir: str | None, env: dict[str, str]) -> int:
    from cockpit.application.build import build_services
    from cockpit.config import load_settings
    from cockpit.logs import close_logging
    from cockpit.redact import remember
    from cockpit.sandbox.server import SandboxServer
    from cockpit.ui.app import CockpitApp

    remember(*DRILL_TOKENS.values())
    own_dir = data_dir is None
    root = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="cockpit-demo-"))
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    status = 0
    server = SandboxServer(
        port=args.port, scenario=args.scenario, speed=args.speed, faults=args.faults
    )
    server.start()
    start_logging(root)
    try:
        config = root / "demo-config.toml"
        config.write_text('[ui]\ntheme = "cockpit-dark"\n\n' + server.config_snippet())
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
        server.stop()
        close_logging()
        if own_dir and not args.keep and status == 0:
            shutil.rmtree(root, ignore_errors=True)
        else:  # after a crash too: its log is in there
            print(f"The drill's data is kept in {root}")
    return status


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

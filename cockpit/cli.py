"""The `cockpit` command. Kept light: `cockpit --help` imports neither Textual nor httpx."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

from cockpit import __version__

if TYPE_CHECKING:
    import argparse

    from cockpit.application.actions import Done
    from cockpit.application.build import Services
    from cockpit.application.service import IncidentService
    from cockpit.config import Paths, Settings
    from cockpit.domain.slo import SupportCalendar
    from cockpit.secrets import Secrets
    from cockpit.store import StoreCorrupt

EXIT_USAGE = 2


class Context:
    """What every sub-command needs, built on first use."""

    def __init__(self, args: argparse.Namespace) -> None:
        from cockpit.config import Paths

        self.args = args
        env = dict(os.environ)
        if getattr(args, "config", None):
            env["COCKPIT_CONFIG"] = args.config
        if getattr(args, "data_dir", None):
            env["COCKPIT_DATA_DIR"] = args.data_dir
        self.paths: Paths = Paths.resolve(env)
        self.env = env
        self._settings: Settings | None = None
        self._services: Services | None = None
        self._secrets: Secrets | None = None
        # the app runs the store's crash sweep on its store thread after its first frame
        self.defer_reconcile = False

    @property
    def secrets(self) -> Secrets:
        if self._secrets is None:
            from cockpit.secrets import Secrets

            self._secrets = Secrets(env=self.env)
        return self._secrets

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from cockpit.config import load_settings

            self._settings = load_settings(self.paths.config_file, self.env)
        return self._settings

    @property
    def services(self) -> Services:
        """The services, built by the one builder (`cockpit.application.build`)."""
        if self._services is None:
            from cockpit.application.build import build_services

            self._services = build_services(
                self.settings,
                self.paths.data_dir,
                token=self.token,
                local=bool(getattr(self.args, "local", False)),
                reconcile=not self.defer_reconcile,
            )
        return self._services

    @property
    def service(self) -> IncidentService:
        return self.services.service

    def token(self, name: str) -> str | None:
        """A system's token from the keyring (or its environment variable); a keyring that
        fails is said, and the system waits."""
        from cockpit.domain.errors import CockpitError

        try:
            return self.secrets.get(name)
        except CockpitError as e:
            sys.stderr.write(f"cockpit: {e}\n")
            return None

    @property
    def calendar(self) -> SupportCalendar:
        return self.services.calendar

    def close(self) -> None:
        if self._services is not None:
            self._services.close()


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text if text.endswith("\n") else text + "\n")


# -- sub-commands --------------------------------------------------------------------------
def cmd_locate(ctx: Context) -> int:
    p = ctx.paths
    exists = "" if p.config_file.exists() else "  (not created: defaults in use)"
    _out(f"config  {p.config_file}{exists}")
    _out(f"data    {p.data_dir}")
    _out(f"logs    {p.log_dir}")
    return 0


def _finish(ctx: Context, done: Done, result: str) -> int:
    """Print the result (stdout: what a script reads, e.g. the new id); then, on stderr,
    the checklist items ticked and, with the systems configured, each remote step's state
    after sending what the action queued (up to --wait seconds). Exit 0 all done, 1 a
    step failed, 3 some still queued."""
    _out(result)
    if done.ticked:
        _err("ticked: " + ", ".join(done.ticked))
    if not done.queued:
        return 0
    from cockpit.application.delivery import deliver  # (asyncio, the sender: only to send)

    delivery = deliver(ctx.services, done.queued, wait=float(ctx.args.wait))
    for line in delivery.lines():
        _err(line)
    return delivery.exit_status


def cmd_raise(ctx: Context) -> int:
    from cockpit.domain.incident import Severity

    a = ctx.args
    severity = Severity.parse(a.severity) if a.severity else None
    done = ctx.services.actions.raise_incident(
        " ".join(a.title), severity=severity, reported_at=a.reported_at, thread=a.thread or ""
    )
    assert done.incident is not None
    return _finish(ctx, done, done.incident.id)


def cmd_list(ctx: Context) -> int:
    from cockpit.domain.export import format_duration

    rows = ctx.service.incidents(open_only=not ctx.args.all)
    if not rows:
        _out("no open incidents" if not ctx.args.all else "no incidents")
        return 0
    tz = ctx.settings.tz
    now = ctx.service.clock.now()
    _out(f"{'ID':>5}  {'STATUS':<10} {'SEVERITY':<9} {'REPORTED':<16} {'AGE':>8}  TITLE")
    for r in rows:
        sev = r.severity.label if r.severity else "unset"
        reported = r.first_reported_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        end = r.resolved_at or r.canceled_at or now
        _out(
            f"{r.id:>5}  {r.status.label:<10} {sev:<9} {reported:<16} "
            f"{format_duration(end - r.first_reported_at):>8}  {r.title}"
        )
    return 0


def cmd_note(ctx: Context) -> int:
    """A note, as the app's `n` makes it: shared with the team through the incident's
    channel where that is on (then sent like any other change, up to --wait)."""
    a = ctx.args
    done = ctx.services.actions.note(a.id, " ".join(a.text), at=a.at)
    entry = done.entry
    assert entry is not None
    when = entry.event_at.astimezone(ctx.settings.tz).strftime("%H:%M:%S")
    return _finish(ctx, done, f"noted on incident {entry.incident_id} at {when} ({entry.id})")


def cmd_status(ctx: Context) -> int:
    from cockpit.domain.incident import Status

    a = ctx.args
    status = Status.parse(a.status)
    actions = ctx.services.actions
    if status is Status.CANCELED:
        done = actions.cancel(a.id, a.reason or "")
    else:
        done = actions.set_status(a.id, status, reason=a.reason or "")
    assert done.incident is not None
    return _finish(ctx, done, f"incident {done.incident.id} is {done.incident.status.label}")


def cmd_cancel(ctx: Context) -> int:
    done = ctx.services.actions.cancel(ctx.args.id, " ".join(ctx.args.reason))
    assert done.incident is not None
    return _finish(ctx, done, f"incident {done.incident.id} is {done.incident.status.label}")


def cmd_resolve(ctx: Context) -> int:
    from cockpit.domain.incident import Status

    done = ctx.services.actions.set_status(ctx.args.id, Status.RESOLVED)
    assert done.incident is not None
    lines = [f"incident {done.incident.id} is {done.incident.status.label}"]
    if done.postmortem and done.draft is not None:
        lines.append(f"post-mortem draft kept: cockpit export {done.incident.id}")
    return _finish(ctx, done, "\n".join(lines))


def cmd_severity(ctx: Context) -> int:
    from cockpit.domain.incident import Severity

    a = ctx.args
    done = ctx.services.actions.set_severity(a.id, Severity.parse(a.level))
    assert done.incident is not None and done.incident.severity is not None
    return _finish(ctx, done, f"incident {done.incident.id} is {done.incident.severity.label}")


def cmd_assign(ctx: Context) -> int:
    from cockpit.domain.incident import Role

    a = ctx.args
    role = Role.parse(a.role)
    done = ctx.services.actions.assign(a.id, role, " ".join(a.person))
    assert done.incident is not None
    return _finish(
        ctx, done, f"incident {done.incident.id}: {role.label} is {done.incident.roles[role]}"
    )


def cmd_export(ctx: Context) -> int:
    a = ctx.args
    svc = ctx.service
    if a.output:
        path = svc.write_export(a.id, a.format, ctx.calendar, Path(a.output))
        _out(f"wrote {path}")
    else:
        sys.stdout.write(svc.export(a.id, a.format, ctx.calendar))
    return 0


def _template_problems(ctx: Context) -> None:
    for problem in ctx.service.templates.problems:
        sys.stderr.write(f"cockpit: template {problem} (the shipped one is used)\n")


def cmd_templates(ctx: Context) -> int:
    from cockpit.domain.templates import TEMPLATE_VARIABLES

    _template_problems(ctx)
    lib = ctx.service.templates
    for info in lib.list():
        where = "" if info.source == "shipped" else f"  (yours: {info.path})"
        _out(f"{info.name:<26} {info.kind:<10} {info.title}{where}")
        if info.description:
            _out(f"{'':<26} {'':<10} {info.description}")
    if ctx.args.variables:
        _out("\nVariables available to every template:")
        for name, text in TEMPLATE_VARIABLES.items():
            _out(f"  {name:<24} {text}")
    else:
        _out("\n`cockpit templates --variables` lists what templates can use.")
    if ctx.settings.templates_dir:
        _out(f"Your templates: {ctx.settings.templates_dir}")
    else:
        _out("Override or add templates: set [templates] dir in the config.")
    return 0


def cmd_draft(ctx: Context) -> int:
    from cockpit.clipboard import copy_text, write_osc52_to_tty
    from cockpit.domain.lint import lint_public

    a = ctx.args
    svc = ctx.service
    _template_problems(ctx)
    draft = svc.new_draft(a.id, a.template)
    text = draft.body if a.as_sent else draft.readable  # readable: what Slack shows
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    if draft.public:
        s = ctx.settings
        incident = svc.get(a.id)
        for w in lint_public(
            draft.body,
            internal_names=s.internal_names,
            max_length=s.public_max_length,
            components=incident.affected_components,
            resolved=not incident.is_open,
        ):
            sys.stderr.write(f"warning: {w.message}\n")
    if a.copy:
        result = copy_text(draft.readable, osc52_writer=write_osc52_to_tty)
        sys.stderr.write(result.summary() + "\n")
        return 0 if result.ok else 1
    return 0


def cmd_report(ctx: Context) -> int:
    import json

    from cockpit.domain.metrics import compute_metrics, parse_since, render_csv, render_text

    a = ctx.args
    svc = ctx.service
    calendar = ctx.calendar
    now = svc.clock.now()
    since = parse_since(a.since, now=now, tz=calendar.tz)
    # the index's summaries hold what metrics count: no incident file is opened
    rows = [r for r in svc.store.list_incidents() if r.first_reported_at >= since or r.is_open]
    m = compute_metrics(
        rows,
        calendar=calendar,
        since=since,
        until=now,
        include_drills=a.include_drills,
    )
    if a.format == "json":
        sys.stdout.write(json.dumps(m.to_dict(), indent=2) + "\n")
    elif a.format == "csv":
        sys.stdout.write(render_csv(m))
    else:
        sys.stdout.write(render_text(m))
    return 0


def cmd_auth(ctx: Context) -> int:
    from cockpit.config import ConfigError
    from cockpit.secrets import cmd_auth as run

    try:
        settings: Settings | None = ctx.settings
    except ConfigError:
        settings = None  # `auth set` must work even with a broken config
    return run(ctx.args, settings, ctx.secrets, sys.stdin, sys.stdout, sys.stderr)


def cmd_doctor(ctx: Context) -> int:
    from cockpit.doctor import cmd_doctor as run

    # a ConfigError becomes a failed check instead of stopping the doctor
    return run(ctx.args, lambda: ctx.settings, ctx.paths, ctx.secrets, sys.stdout, env=ctx.env)


def cmd_init(ctx: Context) -> int:
    """`cockpit init`: write a commented config, store the tokens, run doctor."""
    from cockpit.init import cmd_init as run

    return run(ctx.args, ctx.paths, ctx.secrets, sys.stdin, sys.stdout, sys.stderr, env=ctx.env)


def cmd_demo(ctx: Context) -> int:
    from cockpit.demo import run_demo

    return run_demo(ctx.args, data_dir=ctx.args.data_dir, env=ctx.env)


def cmd_serve(ctx: Context) -> int:
    """`cockpit serve [demo]`: the cockpit, or its read-only board, in a browser."""
    from cockpit.web.command import run

    return run(ctx.args, paths=ctx.paths, settings=lambda: ctx.settings, env=ctx.env)


def cmd_sandbox(ctx: Context) -> int:
    from cockpit.sandbox.server import run_from_args

    return run_from_args(ctx.args)


def cmd_app(ctx: Context) -> int:
    """`cockpit` with no sub-command: the full-screen app."""
    from cockpit.ui.app import CockpitApp

    ctx.defer_reconcile = True  # the app runs it after its first frame (a write runs it first)
    app = CockpitApp(ctx.services, incident_id=getattr(ctx.args, "incident", None))
    app.run()
    return app.exit_status()  # 1 after a crash


# -- parser ----------------------------------------------------------------------------------
# Commands a script runs often: their parse needs neither `auth`'s, `doctor`'s nor `demo`'s
# parser, whose modules import asyncio, the integrations' registry and msgspec (~100 ms).
SCRIPT_COMMANDS = frozenset(
    {"list", "note", "raise", "status", "severity", "assign", "cancel", "resolve", "report"}
    | {"export", "draft", "templates", "locate", "restore-backup"}
)


def _command(argv: Sequence[str]) -> str | None:
    """The sub-command named in `argv` (its first word after the global options), if any."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("--config", "--data-dir"):
            i += 2
        elif arg.startswith("-"):
            i += 1
        else:
            return arg
    return None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    import argparse

    p = argparse.ArgumentParser(
        prog="cockpit",
        description="A terminal cockpit for on-call engineers: run the incident playbook "
        "from the keyboard. Plain `cockpit` (no command) opens the full-screen app.",
        epilog="First time? `cockpit init` writes a commented config, stores the tokens and "
        "runs `cockpit doctor`; `cockpit demo` practises on the drill range. "
        "Times (--at, --reported-at) accept -12m, -1h30m, 14:03 or an ISO time.",
    )
    p.add_argument("--version", action="version", version=f"cockpit {__version__}")
    p.add_argument(
        "--config",
        metavar="FILE",
        help="settings file (default: $COCKPIT_CONFIG or the platform's config dir)",
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="data directory (default: $COCKPIT_DATA_DIR or the platform's data dir)",
    )
    p.set_defaults(func=cmd_app)
    sub = p.add_subparsers(title="commands", metavar="COMMAND")
    if _command(argv) not in SCRIPT_COMMANDS:  # their parsers import asyncio, the registry…
        from cockpit.doctor import add_doctor_parser
        from cockpit.secrets import add_auth_parser

        add_auth_parser(sub, func=cmd_auth)
        add_doctor_parser(sub, func=cmd_doctor)

    def add(name: str, func: Callable[[Context], int], help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=func)
        return sp

    add("locate", cmd_locate, "show where the config, data and logs live")
    sp = add(
        "init",
        cmd_init,
        "first run: write a commented config (channels, Jira, status page), store the "
        "tokens, run doctor; never overwrites a config without --force",
    )
    if _command(argv) not in SCRIPT_COMMANDS:  # its options: not needed to parse those
        from cockpit.init import add_init_arguments

        add_init_arguments(sp)

    def changing(name: str, func: Callable[[Context], int], help: str) -> argparse.ArgumentParser:
        """A command that changes an incident: the same action as the app's key, remote
        part included (ticket, channel, thread), unless --local."""
        sp = add(name, func, help)
        sp.add_argument(
            "--local",
            action="store_true",
            help="change only the local record: nothing is sent to Slack, Jira or the status page",
        )
        sp.add_argument(
            "--wait",
            type=float,
            default=30.0,
            metavar="SECONDS",
            help="how long to wait for the remote steps (default 30); what is left stays "
            "queued and is sent by the next cockpit that runs. Exit status: 0 all done, "
            "1 a step failed, 2 refused, 3 some still queued",
        )
        return sp

    sp = changing(
        "raise",
        cmd_raise,
        "raise an incident: record it, create its ticket and channel, reply in the "
        "report's thread (with the systems configured); prints its id",
    )
    sp.add_argument("title", nargs="+", help="what is broken, for whom")
    sp.add_argument("--severity", "-s", help="minor, major or critical")
    sp.add_argument(
        "--reported-at",
        metavar="TIME",
        help="when it was first reported (the SLO starts here); default now",
    )
    sp.add_argument("--thread", metavar="URL", help="link to the report's Slack thread")

    sp = add("list", cmd_list, "list open incidents (--all for every one)")
    sp.add_argument("--all", "-a", action="store_true", help="include resolved and canceled")

    sp = changing("note", cmd_note, "add a note to an incident's timeline")
    sp.add_argument("id", help="incident id")
    sp.add_argument("text", nargs="+")
    sp.add_argument("--at", metavar="TIME", help="when it happened (backdate); default now")

    sp = changing(
        "status", cmd_status, "move an incident to fixing, monitoring, resolved or canceled"
    )
    sp.add_argument("id", help="incident id")
    sp.add_argument("status", choices=["fixing", "monitoring", "resolved", "canceled"])
    sp.add_argument("--reason", "-r", help="why (required for canceled)")

    sp = changing("severity", cmd_severity, "set an incident's severity")
    sp.add_argument("id", help="incident id")
    sp.add_argument("level", help="minor, major or critical")

    sp = changing("assign", cmd_assign, "give a role (commander or comms) to a person")
    sp.add_argument("id", help="incident id")
    sp.add_argument("role", help="commander or comms")
    sp.add_argument("person", nargs="+")

    sp = changing("cancel", cmd_cancel, "cancel an incident that is not one (a kind reply follows)")
    sp.add_argument("id", help="incident id")
    sp.add_argument("reason", nargs="+", help="why it is not an incident")

    sp = changing("resolve", cmd_resolve, "resolve an incident (the ticket and thread follow)")
    sp.add_argument("id", help="incident id")

    sp = add(
        "demo",
        cmd_demo,
        "practise a whole incident on the drill range: no accounts, nothing real touched",
    )
    if _command(argv) not in SCRIPT_COMMANDS:  # its options cost an import
        from cockpit.demo import add_arguments as add_demo_arguments

        add_demo_arguments(sp)
    sp.add_argument(
        "--data-dir",
        metavar="DIR",
        help="keep the drill's data here (default: a throwaway directory)",
    )

    sp = add(
        "sandbox",
        cmd_sandbox,
        "the drill range: a loopback server speaking Slack, Jira and Statuspage",
    )
    if "sandbox" in argv:  # its options cost an import: only when it is asked for
        from cockpit.sandbox.server import add_arguments as add_sandbox_arguments

        add_sandbox_arguments(sp)

    sp = add(
        "serve",
        cmd_serve,
        "the cockpit in a browser (`serve demo`: the drill; --read-only: a board for "
        "stakeholders), behind a secret link; loopback unless --expose",
    )
    if "serve" in argv:  # its options cost an import: only when it is asked for
        from cockpit.web.command import add_arguments as add_serve_arguments

        add_serve_arguments(sp)

    sp = add(
        "report",
        cmd_report,
        "response metrics: incidents by severity and week, the SLO, time to resolve",
    )
    sp.add_argument("--since", default="30d", help="30d, 2w, 12h or a date (default 30d)")
    sp.add_argument("--format", "-f", choices=["text", "json", "csv"], default="text")
    sp.add_argument("--include-drills", action="store_true", help="count drill incidents too")

    sp = add(
        "restore-backup",
        cmd_restore_backup,
        "put a damaged data file's backup in place (the damaged one is kept)",
    )
    sp.add_argument("file", help="the data file named in the error")
    sp.add_argument("--force", action="store_true", help="restore even if the file reads fine")

    sp = add("templates", cmd_templates, "list the message templates (shipped and yours)")
    sp.add_argument("--variables", action="store_true", help="also list template variables")

    sp = add("draft", cmd_draft, "render a message for an incident (kept as a draft)")
    sp.add_argument("id", help="incident id")
    sp.add_argument("template", help="template name (see `cockpit templates`)")
    sp.add_argument("--copy", action="store_true", help="also copy it to the clipboard")
    sp.add_argument(
        "--as-sent",
        action="store_true",
        help="print a Slack draft as sent to Slack's API (mrkdwn, with &lt; &gt; &amp;) "
        "rather than as people read and paste it",
    )

    sp = add(
        "export",
        cmd_export,
        "export an incident: a post-mortem draft (markdown), the record, or JSON",
    )
    sp.add_argument("id", help="incident id")
    sp.add_argument(
        "--format",
        "-f",
        choices=["markdown", "record", "json"],
        default="markdown",
        help="markdown: blameless post-mortem draft; record: the incident record "
        "with its checklist; json: everything, for scripts",
    )
    sp.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    return p


def _offer_backup(e: StoreCorrupt) -> int:
    """A data file is damaged: say which, offer its backup, never overwrite it."""
    from cockpit.store import restore_backup

    _error(e)
    if e.backup is None:
        return 1
    if not sys.stdin.isatty():
        sys.stderr.write(f"cockpit: to restore the backup: cockpit restore-backup {e.path}\n")
        return 1
    sys.stderr.write(f"Restore the backup {e.backup} now? [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        sys.stderr.write("Left as it is.\n")
        return 1
    kept = restore_backup(e.path)
    sys.stderr.write(f"Restored. The damaged file is kept as {kept}. Run the command again.\n")
    return 1


def cmd_restore_backup(ctx: Context) -> int:
    from cockpit.store import restore_backup

    path = Path(ctx.args.file)
    kept = restore_backup(path, force=ctx.args.force)
    if kept is None:
        _out(f"restored {path} from its backup (there was no file in its place)")
        return 0
    _out(f"restored {path} from its backup; the damaged file is kept as {kept}")
    return 0


TIME_OPTIONS = ("--at", "--reported-at")


def _join_time_values(argv: list[str]) -> list[str]:
    """`--at -12m` reads as two options to argparse; glue it into `--at=-12m`."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in TIME_OPTIONS and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            out.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def _app_args(argv: Sequence[str]) -> SimpleNamespace | None:
    """`cockpit [--config FILE] [--data-dir DIR]`, the full-screen app, read without
    building every sub-command's parser (that is a tenth of the start-up time). Anything
    else, help and errors included, goes to the full parser."""
    values: dict[str, str | None] = {"config": None, "data_dir": None}
    i = 0
    while i < len(argv):
        name, eq, value = argv[i].partition("=")
        key = {"--config": "config", "--data-dir": "data_dir"}.get(name)
        if key is None:
            return None
        if not eq:
            if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
                return None
            value = argv[i + 1]
            i += 1
        if not value:
            return None
        values[key] = value
        i += 1
    return SimpleNamespace(**values, func=cmd_app)


def _error(e: BaseException) -> None:
    """An exception's message on stderr, plain, with every known token and anything
    token-shaped taken out (`cockpit.redact`)."""
    from cockpit.domain.sanitize import sanitize
    from cockpit.redact import redact

    sys.stderr.write(f"cockpit: {redact(sanitize(str(e)))}\n")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _join_time_values(list(sys.argv[1:] if argv is None else argv))
    args = _app_args(arguments) or build_parser(arguments).parse_args(arguments)
    if args.func in (cmd_app, cmd_demo):
        # The full-screen app: start-up makes many long-lived objects, and the garbage
        # collector's passes over them only slow it down. The app turns it back on (and
        # freezes what start-up made) after its first paint.
        import gc

        gc.disable()
    from cockpit.domain.errors import CockpitError

    ctx = Context(cast("argparse.Namespace", args))  # the fast path's is duck-typed
    if args.func not in (cmd_sandbox, cmd_demo):
        from cockpit.logs import setup_logging

        try:
            # a function, so the secrets module loads when the first record is written
            setup_logging(ctx.paths.log_dir, secrets_values=lambda: ctx.secrets.known_values())
        except OSError as e:
            sys.stderr.write(f"cockpit: not logging ({e})\n")
    try:
        return int(args.func(ctx))
    except CockpitError as e:
        from cockpit.config import ConfigError
        from cockpit.store import StoreCorrupt

        if isinstance(e, StoreCorrupt):
            return _offer_backup(e)
        from cockpit.domain.errors import IllegalTransition

        _error(e)
        return EXIT_USAGE if isinstance(e, ConfigError | IllegalTransition) else 1
    except ValueError as e:
        _error(e)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.close()

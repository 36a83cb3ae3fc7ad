"""`cockpit init`: a first run for a real team.

It asks (or takes from flags, for scripts) the few values cockpit needs — the Slack
channels, the Jira URL, account, project and issue type, the status page's id — writes
them as a commented config file (`render_config`; every key says what it is for, and the
systems left out stay as commented examples), stores the tokens through the keyring
(`Secrets.set`, typed with getpass, never echoed), and runs `cockpit doctor`.

It never overwrites an existing config without `--force`. With `--yes` (or when stdin is
not a terminal) it asks nothing: the flags and the defaults are the answers, and no token
is asked for (store them later with `cockpit auth set NAME`, or through the environment).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    import httpx

    from cockpit.config import Paths
    from cockpit.secrets import Secrets


@dataclass(frozen=True)
class Answers:
    """What `cockpit init` writes. An empty Jira URL or page id leaves that system out."""

    user: str = ""
    timezone: str = ""
    slack: bool = True
    slack_incidents_channel: str = "incidents"
    slack_alerts_channel: str = "alerts"
    slack_channel_prefix: str = "incident-"
    jira_url: str = ""
    jira_email: str = ""
    jira_project: str = "INCIDENT"
    jira_issue_type: str = "Task"
    jira_follow_up_project: str = ""
    statuspage_page_id: str = ""


# (field, question) in the order asked; a question is asked only when its system is wanted
_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("user", "Your name, as on the timeline (empty: your login name)"),
    ("timezone", "Your team's time zone, e.g. Europe/Berlin (empty: this machine's)"),
    ("slack_incidents_channel", "Slack channel where incidents are reported"),
    ("slack_alerts_channel", "Slack channel of the monitoring alerts"),
    ("slack_channel_prefix", "Prefix of each incident's own channel"),
    ("jira_url", "Jira URL, e.g. https://acme.atlassian.net (empty: no Jira)"),
    ("jira_email", "Jira account email (its API token is asked next)"),
    ("jira_project", "Jira project key for incident tickets"),
    ("jira_issue_type", "Jira issue type for incident tickets"),
    ("jira_follow_up_project", "Jira project key for follow-up bugs (empty: the same)"),
    ("statuspage_page_id", "Statuspage page id (empty: no status page)"),
)


def _q(value: str) -> str:
    """`value` as a TOML basic string."""
    return json.dumps(value)


def render_config(a: Answers) -> str:
    """The config file for `a`, every key with a comment saying what it is for."""

    def on(enabled: bool, lines: list[str]) -> list[str]:
        if enabled:
            return lines
        return [line if not line or line.startswith("#") else "# " + line for line in lines]

    out = [
        "# cockpit's settings, written by `cockpit init`. Edit freely; `cockpit doctor`",
        "# checks them. Tokens are never kept here: `cockpit auth set slack|jira|statuspage`",
        "# stores them in the OS keyring.",
        "",
        "[user]",
        "# Your name as it appears on incident timelines (empty: your login name).",
        f"name = {_q(a.user)}",
        "",
        "[support]",
        "# The time zone of your support hours (IANA name; empty: this machine's zone).",
        f"timezone = {_q(a.timezone)}",
        "",
        "# Slack: where incidents are reported and worked on.",
        *(
            ["# (left out: remove the '# ' before the lines below to use Slack)"]
            if not a.slack
            else []
        ),
        *on(
            a.slack,
            [
                "[slack]",
                "# The channel people report incidents in (without the #).",
                f"incidents_channel = {_q(a.slack_incidents_channel.lstrip('#'))}",
                "# The channel your monitoring posts alerts to; the feed shows it.",
                f"alerts_channel = {_q(a.slack_alerts_channel.lstrip('#'))}",
                "# Each incident gets its own channel: this prefix, then its number and title.",
                f"channel_prefix = {_q(a.slack_channel_prefix)}",
                "# The bot token (xoxb-…) needs the scopes channels:read, channels:history,",
                "# channels:manage, channels:join, chat:write and users:read (groups:read and",
                "# groups:history for private channels); `cockpit doctor` lists any missing.",
            ],
        ),
        "",
        "# Jira: one ticket per incident, moved along with its status.",
        *(
            ["# (left out: fill in and uncomment the lines below to use Jira)"]
            if not a.jira_url
            else []
        ),
        *on(
            bool(a.jira_url),
            [
                "[jira]",
                "# Your Jira site.",
                f"url = {_q(a.jira_url or 'https://your-team.atlassian.net')}",
                "# The account whose API token cockpit uses (`cockpit auth set jira`).",
                f"email = {_q(a.jira_email)}",
                "# The project incident tickets are created in, and their issue type.",
                f"project = {_q(a.jira_project)}",
                f"issue_type = {_q(a.jira_issue_type)}",
                "# Where follow-up bugs go (empty: the same project).",
                f"follow_up_project = {_q(a.jira_follow_up_project)}",
                "# A project that requires more fields on create (Priority, a custom Severity",
                "# field): `cockpit doctor` names them; see the README's Jira section.",
                "",
                "# The names of your workflow's transitions into each incident status.",
                "[jira.transitions]",
                'fixing = "FIXING"',
                'monitoring = "MONITORING"',
                'resolved = "RESOLVED"',
                'canceled = "CANCELED"',
            ],
        ),
        "",
        "# Statuspage: the public status page your customers read.",
        *(
            ["# (left out: fill in and uncomment the lines below to use Statuspage)"]
            if not a.statuspage_page_id
            else []
        ),
        *on(
            bool(a.statuspage_page_id),
            [
                "[statuspage]",
                "# The page's id (manage.statuspage.io → your page → API info).",
                f"page_id = {_q(a.statuspage_page_id or 'your-page-id')}",
            ],
        ),
        "",
    ]
    return "\n".join(out)


def write_config(path: Path, text: str, *, force: bool = False) -> None:
    """Write `text` to `path` (0600, atomically). An existing file is kept unless `force`:
    FileExistsError."""
    if path.exists() and not force:
        raise FileExistsError(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".init-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# -- `cockpit init` -----------------------------------------------------------------------
FLAGS: tuple[tuple[str, str], ...] = (
    ("user", "your name on the timeline"),
    ("timezone", "the support hours' time zone (IANA name)"),
    ("slack_incidents_channel", "the channel incidents are reported in (default incidents)"),
    ("slack_alerts_channel", "the monitoring alerts' channel (default alerts)"),
    ("slack_channel_prefix", "prefix of each incident's channel (default incident-)"),
    ("jira_url", "Jira URL (leave out for no Jira)"),
    ("jira_email", "the Jira account's email"),
    ("jira_project", "project key for incident tickets (default INCIDENT)"),
    ("jira_issue_type", "issue type for incident tickets (default Task)"),
    ("jira_follow_up_project", "project key for follow-up bugs"),
    ("statuspage_page_id", "the status page's id (leave out for no status page)"),
)


def add_init_arguments(p: argparse.ArgumentParser) -> None:
    for name, help_text in FLAGS:
        p.add_argument(
            "--" + name.replace("_", "-"),
            dest="init_" + name,
            metavar=name.rsplit("_", 1)[-1].upper(),
            help=help_text,
        )
    p.add_argument("--no-slack", action="store_true", help="leave Slack out")
    p.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="ask nothing (for scripts): the flags and defaults are the answers; store the "
        "tokens later with `cockpit auth set NAME`",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing config file")
    p.add_argument("--no-doctor", action="store_true", help="do not run `cockpit doctor` after")
    p.add_argument(
        "--offline", action="store_true", help="doctor calls neither Slack, Jira nor Statuspage"
    )


def answers_from(args: argparse.Namespace) -> Answers:
    """The flags given, over the defaults."""
    given: dict[str, Any] = {}
    for f in fields(Answers):
        value = getattr(args, "init_" + f.name, None)
        if value is not None:
            given[f.name] = value
    if getattr(args, "no_slack", False):
        given["slack"] = False
    return replace(Answers(), **given)


def _ask(a: Answers, ask: Callable[[str], str]) -> Answers:
    values: dict[str, Any] = {}
    for name, question in _QUESTIONS:
        current = {**{f.name: getattr(a, f.name) for f in fields(Answers)}, **values}
        if name.startswith("slack_") and not a.slack:
            continue
        if name.startswith("jira_") and name != "jira_url" and not current["jira_url"]:
            continue
        default = str(current[name])
        shown = f" [{default}]" if default else ""
        reply = ask(f"{question}{shown}: ").strip()
        values[name] = reply or default
    return replace(a, **values)


def cmd_init(
    args: argparse.Namespace,
    paths: Paths,
    secrets: Secrets,
    stdin: IO[str],
    stdout: IO[str],
    stderr: IO[str],
    *,
    env: Mapping[str, str] | None = None,
    input_fn: Callable[[str], str] | None = None,
    getpass_fn: Callable[[str], str] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> int:
    """Write the config, store the tokens, run doctor. 0 when all went well; 1 when the
    config exists (without --force) or doctor found a problem; 2 for a bad answer."""
    from cockpit.config import ConfigError, load_settings
    from cockpit.secrets import SecretsUnavailable, clean_token, masked

    def out(text: str) -> None:
        stdout.write(text + "\n")

    def err(text: str) -> None:
        stderr.write(f"cockpit: {text}\n")

    path = paths.config_file
    if path.exists() and not args.force:
        err(f"{path} already exists: nothing written (--force overwrites it)")
        return 1
    answers = answers_from(args)
    interactive = not args.yes and _isatty(stdin)
    if interactive:
        out(f"cockpit init: a config at {path}. Enter keeps the value in [brackets].")
        try:
            answers = _ask(answers, input_fn or input)
        except (EOFError, KeyboardInterrupt):
            err("stopped; nothing written")
            return 1
    text = render_config(answers)
    try:  # the file must load before it is written
        check = path.with_name(path.name + ".init-check")
        write_config(check, text, force=True)
        try:
            load_settings(check, env)
        finally:
            check.unlink(missing_ok=True)
    except ConfigError as e:
        err(f"{e}; nothing written")
        return 2
    write_config(path, text, force=True)
    out(f"Wrote {path}.")

    wanted = [
        name
        for name, on in (
            ("slack", answers.slack),
            ("jira", bool(answers.jira_url)),
            ("statuspage", bool(answers.statuspage_page_id)),
        )
        if on
    ]
    for name in wanted:
        if not interactive:
            break
        import getpass

        try:
            raw = (getpass_fn or getpass.getpass)(
                f"{name} token (not shown; empty: keep the one stored, or set it later): "
            )
        except (EOFError, KeyboardInterrupt):
            raw = ""
        if not raw.strip():
            continue
        try:
            token = clean_token(raw)
            secrets.set(name, token)
        except ValueError as e:
            err(f"{e}; the {name} token is not stored (cockpit auth set {name})")
            continue
        except SecretsUnavailable as e:
            err(f"{e} (the {name} token is not stored)")
            continue
        out(f"Stored the {name} token ({masked(token)}) in the OS keyring.")
    if not interactive and wanted:
        out("Store the tokens with: " + "; ".join(f"cockpit auth set {n}" for n in wanted))

    if args.no_doctor:
        out("Check it all with `cockpit doctor`; then `cockpit` opens the app.")
        return 0
    from cockpit.doctor import cmd_doctor

    out("")
    out("cockpit doctor:")
    status = cmd_doctor(
        args,
        lambda: load_settings(path, env),
        paths,
        secrets,
        stdout,
        transports=transports,
        env=env,
    )
    out(
        "Ready: `cockpit` opens the app."
        if status == 0
        else "Fix what doctor says, run `cockpit doctor` again, then `cockpit` opens the app."
    )
    return status


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False

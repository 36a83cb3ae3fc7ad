"""`cockpit doctor`: is everything cockpit needs in place? One plain verdict per line.

Checks, in order: the config file, the data and log directories, the OS keyring, the
clipboard, and for each configured system (Slack, Jira, Statuspage) one harmless
authenticated call (`auth.test`, `myself`, the page) that proves the token works. With
Slack configured, also its Socket Mode: `apps.connections.open` with the app-level token
(the URL it answers is not used), or, without one, how long new messages can take when
polling only. A failing check says what is wrong and what to do; no token is ever printed.

`run_doctor` is async (the remote calls run side by side) and never raises; keyring
calls, which can block, run in a thread. `transports` lets tests answer the remote calls.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from cockpit.integrations.errors import redact, shorten
from cockpit.secrets import ENV_VARS, LABELS, NAMES, SECTIONS, Secrets, SecretsUnavailable

if TYPE_CHECKING:
    import httpx

    from cockpit.config import Paths, Settings

CHECK_DEADLINE = 15.0  # seconds for each remote check as a whole


@dataclass(frozen=True)
class Check:
    """One verdict. `ok`: True passed, False failed, None neither (not configured, a
    warning that needs no action)."""

    name: str
    ok: bool | None
    detail: str
    hint: str = ""


# -- local checks ---------------------------------------------------------------------------
def check_config(settings: Settings | None, paths: Paths, error: Exception | None) -> Check:
    if error is not None:
        return Check("config file", False, str(error), "fix the value named above")
    if settings is not None and settings.source is not None:
        return Check("config file", True, f"{settings.source} (parsed OK)")
    return Check(
        "config file",
        True,
        f"{paths.config_file} not found: defaults in use",
        "create it to configure Slack, Jira or Statuspage",
    )


def check_dir(label: str, path: Path) -> Check:
    """Exists (or can be made), is writable, and is private (0700)."""
    if not path.exists():
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if os.access(parent, os.W_OK | os.X_OK):
            return Check(label, True, f"{path} not created yet (made, 0700, on first use)")
        return Check(
            label,
            False,
            f"{path} does not exist and cannot be created ({parent} is not writable)",
            f"create it: mkdir -p -m 700 {path}",
        )
    if not path.is_dir():
        return Check(label, False, f"{path} is not a directory", "move it away or choose another")
    if not os.access(path, os.W_OK | os.X_OK):
        return Check(label, False, f"{path} is not writable", f"fix its owner or mode: {path}")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check(
            label,
            False,
            f"{path} is writable but readable by others (mode {mode:04o})",
            f"chmod 700 {path}",
        )
    return Check(label, True, f"{path} (writable, 0700)")


def check_clipboard(env: Mapping[str, str] | None = None) -> Check:
    from cockpit.clipboard import find_local_mechanism

    mechanism, why_not = find_local_mechanism(env)
    if mechanism:
        return Check("clipboard", True, f"OSC 52 through the terminal; local: {mechanism}")
    return Check(
        "clipboard",
        True,
        "OSC 52 through the terminal only (in tmux: set -s set-clipboard on)",
        f"local clipboard: {why_not}",
    )


def check_keyring(secrets: Secrets, settings: Settings | None) -> Check:
    st = secrets.probe()
    if st.ok:
        return Check("keyring", True, f"{st.name}: usable")
    configured = settings.configured if settings is not None else frozenset()
    covered = bool(configured) and all(secrets.env_token(n) for n in configured)
    return Check(
        "keyring",
        None if covered else False,
        f"{st.name}: not usable: {st.detail}"
        + ("; the configured tokens come from the environment" if covered else ""),
        st.hint,
    )


# -- remote checks --------------------------------------------------------------------------
def _tokens(secrets: Secrets, names: list[str]) -> dict[str, str | SecretsUnavailable | None]:
    out: dict[str, str | SecretsUnavailable | None] = {}
    for name in names:
        try:
            out[name] = secrets.get(name)
        except SecretsUnavailable as e:
            out[name] = e
    return out


async def _remote(
    name: str,
    settings: Settings,
    token: str,
    transport: httpx.AsyncBaseTransport | None,
) -> Check:
    from cockpit.integrations.errors import RemoteError
    from cockpit.integrations.http import NO_RETRY

    label = LABELS[name]
    common: dict[str, Any] = {"transport": transport, "retry": NO_RETRY}
    client: Any = None
    try:
        async with asyncio.timeout(CHECK_DEADLINE):
            if name == "slack":
                from cockpit.integrations.slack import SlackClient

                assert settings.slack is not None
                client = SlackClient(settings.slack.api_url, token, **common)
                who = await client.auth_test()
                detail = f"signed in as {who.user or who.user_id} on {who.team or who.team_id}"
            elif name == "jira":
                from cockpit.integrations.jira import JiraClient

                assert settings.jira is not None
                if not settings.jira.email:
                    return Check(
                        label,
                        False,
                        "no email set for the API token",
                        "set email in the [jira] section of the config",
                    )
                client = JiraClient(settings.jira.url, settings.jira.email, token, **common)
                user = await client.myself()
                detail = f"signed in as {user.display_name or user.account_id}"
            else:
                from cockpit.integrations.statuspage import StatuspageClient

                assert settings.statuspage is not None
                sp = settings.statuspage
                client = StatuspageClient(sp.api_url, sp.page_id, token, **common)
                page = await client.page()
                detail = f"page {page.name or page.id}"
        return Check(label, True, detail)
    except RemoteError as e:
        return Check(label, False, e.what + (f" ({e.code})" if e.code else ""), e.hint)
    except TimeoutError:
        return Check(
            label,
            False,
            f"no answer within {CHECK_DEADLINE:g} s",
            "check the network and the URL in the config",
        )
    except Exception as e:  # doctor reports, it never crashes
        text = shorten(redact(str(e), [token]), 200)
        return Check(label, False, f"unexpected error: {type(e).__name__}: {text}")
    finally:
        if client is not None:
            await client.aclose()


SOCKET_CHECK = "Slack socket mode"


async def _socket_check(
    settings: Settings,
    token: str | SecretsUnavailable | None,
    transport: httpx.AsyncBaseTransport | None,
    offline: bool,
) -> Check:
    """Socket Mode: the app-level token opens a connection URL, or why the feed polls."""
    from cockpit.integrations.errors import RemoteError
    from cockpit.integrations.feed import POLLING_WORST_CASE
    from cockpit.integrations.http import NO_RETRY
    from cockpit.integrations.slack import SlackClient

    assert settings.slack is not None
    wanted = settings.slack.socket_mode  # None: on when there is a token
    polling = f"polling only: new messages can take up to {POLLING_WORST_CASE:.0f} s"
    how = (
        "cockpit auth set slack-app (the app's xapp- token with connections:write, Socket "
        f"Mode and the message.channels event on), or set {ENV_VARS['slack-app']}, less safe"
    )
    if wanted is False:
        return Check(SOCKET_CHECK, None, f"off in the config (socket_mode = false): {polling}")
    if isinstance(token, SecretsUnavailable):
        return Check(SOCKET_CHECK, False if wanted else None, f"{polling} ({token.reason})", how)
    if not token:
        return Check(
            SOCKET_CHECK,
            False if wanted else None,
            f"no app-level token: {polling}",
            how,
        )
    if offline:
        return Check(SOCKET_CHECK, None, "app-level token set; not checked (--offline)")
    client = SlackClient(
        settings.slack.api_url, token, transport=transport, retry=NO_RETRY, deadline=CHECK_DEADLINE
    )
    try:
        async with asyncio.timeout(CHECK_DEADLINE):
            await client.open_socket()
        return Check(
            SOCKET_CHECK, True, "apps.connections.open OK: new messages arrive as they are posted"
        )
    except RemoteError as e:
        detail = e.what + (f" ({e.code})" if e.code else "")
        return Check(SOCKET_CHECK, False, f"{detail}; {polling}", e.hint)
    except TimeoutError:
        return Check(SOCKET_CHECK, False, f"no answer within {CHECK_DEADLINE:g} s; {polling}", how)
    except Exception as e:  # doctor reports, it never crashes
        text = shorten(redact(str(e), [token]), 200)
        return Check(SOCKET_CHECK, False, f"unexpected error: {type(e).__name__}: {text}")
    finally:
        await client.aclose()


async def _auth_check(
    name: str,
    settings: Settings,
    token: str | SecretsUnavailable | None,
    transport: httpx.AsyncBaseTransport | None,
    offline: bool,
) -> Check:
    label = LABELS[name]
    if isinstance(token, SecretsUnavailable):
        return Check(label, False, f"no token: {token.reason}", token.hint)
    if not token:
        return Check(
            label,
            False,
            "configured, but no token is set",
            f"cockpit auth set {name} (or set {ENV_VARS[name]}, less safe)",
        )
    if offline:
        return Check(label, None, "token set; not checked (--offline)")
    return await _remote(name, settings, token, transport)


async def run_doctor(
    settings: Settings | None,
    paths: Paths,
    secrets: Secrets,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    config_error: Exception | None = None,
    offline: bool = False,
    env: Mapping[str, str] | None = None,
) -> list[Check]:
    """Every check, in display order. `settings` is None when the config could not be
    read (`config_error` says why); the remote checks are skipped then."""
    transports = transports or {}
    checks = [
        check_config(settings, paths, config_error),
        check_dir("data dir", paths.data_dir),
        check_dir("log dir", paths.log_dir),
        await asyncio.to_thread(check_keyring, secrets, settings),
        check_clipboard(env),
    ]
    systems = [n for n in NAMES if SECTIONS[n] == n]  # slack-app is checked with Slack
    if settings is None:
        checks.extend(
            Check(LABELS[n], None, "not checked: the config file could not be read")
            for n in systems
        )
        return checks
    configured = [n for n in systems if n in settings.configured]
    wanted = configured + (["slack-app"] if "slack" in configured else [])
    tokens = await asyncio.to_thread(_tokens, secrets, wanted)
    remote = await asyncio.gather(
        *(_auth_check(n, settings, tokens[n], transports.get(n), offline) for n in configured)
    )
    by_name = dict(zip(configured, remote, strict=True))
    for name in systems:
        if name in by_name:
            checks.append(by_name[name])
        else:
            where = settings.source or paths.config_file
            checks.append(
                Check(LABELS[name], None, "not configured", f"add a [{name}] section to {where}")
            )
        if name == "slack" and name in by_name:
            checks.append(
                await _socket_check(
                    settings, tokens["slack-app"], transports.get("slack-app"), offline
                )
            )
    return checks


def render(checks: list[Check]) -> str:
    """One line per check ("ok", "FAIL", "--"), its hint indented under it, and a total."""
    width = max((len(c.name) for c in checks), default=0)
    lines: list[str] = []
    for c in checks:
        mark = "ok  " if c.ok else ("FAIL" if c.ok is False else "--  ")
        lines.append(f"{mark}  {c.name:<{width}}  {c.detail}")
        if c.hint:
            lines.append(f"      {'':<{width}}  → {c.hint}")
    failed = sum(1 for c in checks if c.ok is False)
    lines.append("")
    lines.append(
        "All checks passed." if not failed else f"{failed} check{'s' * (failed > 1)} failed."
    )
    return "\n".join(lines) + "\n"


def failed(checks: list[Check]) -> bool:
    return any(c.ok is False for c in checks)


# -- `cockpit doctor` -----------------------------------------------------------------------
def add_doctor_parser(
    subparsers: Any, func: Callable[..., int] | None = None
) -> argparse.ArgumentParser:
    """Add `doctor` to `subparsers`; `func`, if given, becomes the namespace's `func`."""
    help_text = "check the config, data dir, keyring, clipboard and each system's token"
    p: argparse.ArgumentParser = subparsers.add_parser(
        "doctor", help=help_text, description=help_text + " (exit status 1 if any fails)."
    )
    p.add_argument("--offline", action="store_true", help="do not call Slack, Jira or Statuspage")
    if func is not None:
        p.set_defaults(func=func)
    return p


def cmd_doctor(
    args: argparse.Namespace,
    settings: Settings | Callable[[], Settings] | None,
    paths: Paths,
    secrets: Secrets,
    stdout: IO[str],
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run every check, print the verdicts, return 1 if any failed.

    `settings` may be a loader (e.g. ``lambda: ctx.settings``): a `ConfigError` it raises
    is reported as the config check's failure instead of stopping the doctor.
    """
    from cockpit.config import ConfigError

    error: Exception | None = None
    loaded: Settings | None
    if callable(settings):
        try:
            loaded = settings()
        except ConfigError as e:
            loaded, error = None, e
    else:
        loaded = settings
    checks = asyncio.run(
        run_doctor(
            loaded,
            paths,
            secrets,
            transports=transports,
            config_error=error,
            offline=bool(getattr(args, "offline", False)),
            env=env,
        )
    )
    stdout.write(render(checks))
    return 1 if failed(checks) else 0

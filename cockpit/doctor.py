"""`cockpit doctor`: is everything cockpit needs in place? One plain verdict per line.

Checks, in order: the config file, the data and log directories, the OS keyring, the
clipboard, and for each registered system (cockpit/integrations/registry.py) that is
configured, the checks its package declares: one harmless authenticated call (`auth.test`,
`myself`, the page) that proves the token works and, for Slack, its Socket Mode
(`apps.connections.open` with the app-level token, or how long new messages can take when
polling only). A failing check says what is wrong and what to do; no token is ever
printed.

`run_doctor` is async (the remote calls run side by side) and never raises; keyring
calls, which can block, run in a thread. `transports` lets tests answer the remote calls.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

# `Check` (the verdict) is defined with the systems' checks, and importable from here
from cockpit.integrations.checks import Check, DoctorCheck, DoctorContext, unexpected
from cockpit.secrets import Secrets, SecretsUnavailable

if TYPE_CHECKING:
    import httpx

    from cockpit.config import Paths, Settings
    from cockpit.integrations.base import Integration


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
        "make one with `cockpit init` (it asks for the channels, Jira and the status page, "
        "stores the tokens and runs doctor)",
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


def check_ui_state(path: Path, settings: Settings | None) -> Check:
    """The UI state the app saved (theme, last incident): readable, and a theme the app
    can start in. The app ignores and repairs a bad choice; this says so beforehand."""
    from cockpit.prefs import Prefs

    label = "UI state"
    if not path.exists():
        return Check(label, True, f"{path} not created yet")
    prefs = Prefs(path)
    if prefs.problem:
        return Check(
            label,
            None,
            f"{prefs.problem}: the app starts without it and leaves it as it is",
            f"delete it to start afresh: rm {path}",
        )
    saved = prefs.get("theme")
    if saved is None:
        return Check(label, True, f"{path} (no theme chosen in the app)")
    from cockpit.ui.themes import available_theme_names, choose_theme

    configured = settings.theme if settings is not None else ""
    choice = choose_theme(saved, prefs.get("theme-config"), configured, available_theme_names())
    if choice.warning:
        return Check(label, None, f"{path}: {choice.warning}", "the app repairs it at start")
    return Check(label, True, f"{path} (theme {choice.name})")


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


async def _run_check(
    check: DoctorCheck,
    integration: Integration,
    settings: Settings,
    token: str | SecretsUnavailable | None,
    transport: httpx.AsyncBaseTransport | None,
    offline: bool,
) -> Check:
    """One of a system's checks (the system's package says what it does)."""
    ctx = DoctorContext(
        integration,
        settings,
        token if isinstance(token, str) else None,
        unavailable=token.reason if isinstance(token, SecretsUnavailable) else "",
        unavailable_hint=token.hint if isinstance(token, SecretsUnavailable) else "",
        transport=transport,
        offline=offline,
    )
    try:
        return await check.run(ctx)
    except Exception as e:  # a check should never raise; doctor never crashes
        return unexpected(integration.label, e, ctx.token)


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
    read (`config_error` says why); the remote checks are skipped then. `transports`
    are by secret name ("slack", "slack-app", "jira", …)."""
    from cockpit.integrations.registry import INTEGRATIONS

    transports = transports or {}
    checks = [
        check_config(settings, paths, config_error),
        check_dir("data dir", paths.data_dir),
        check_dir("log dir", paths.log_dir),
        check_ui_state(paths.data_dir / "ui-state.json", settings),
        await asyncio.to_thread(check_keyring, secrets, settings),
        check_clipboard(env),
    ]
    systems = list(INTEGRATIONS.values())
    if settings is None:
        checks.extend(
            Check(i.label, None, "not checked: the config file could not be read") for i in systems
        )
        return checks
    configured = [i for i in systems if i.configured(settings)]
    wanted = list(dict.fromkeys(c.secret for i in configured for c in i.checks))
    tokens = await asyncio.to_thread(_tokens, secrets, wanted)
    jobs = [(i, c) for i in configured for c in i.checks]
    results = await asyncio.gather(
        *(
            _run_check(c, i, settings, tokens[c.secret], transports.get(c.secret), offline)
            for i, c in jobs
        )
    )
    by_system: dict[str, list[Check]] = {}
    for (integration, _), result in zip(jobs, results, strict=True):
        by_system.setdefault(integration.name, []).append(result)
    where = settings.source or paths.config_file
    for integration in systems:
        if integration.configured(settings):
            checks.extend(by_system.get(integration.name, []))
        else:
            checks.append(
                Check(
                    integration.label,
                    None,
                    "not configured",
                    f"add a [{integration.config}] section to {where}",
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

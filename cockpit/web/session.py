"""One browser session of `cockpit serve`: `python -m cockpit.web.session MODE …`.

The server starts this once per browser tab (textual-serve runs it with textual's web
driver). MODE is

* `cockpit`: the cockpit on the user's config, data and keyring, like plain `cockpit`;
* `demo`: the cockpit of `cockpit serve demo`, on the drill range the server started
  (its config names the range; the drill's throwaway tokens are `cockpit.demo`'s);
* `board`: the read-only board on that config and data, with no token and no remote
  side at all.

No secret of the server's reaches it (the access token stays in the server process).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cockpit.application.build import Services
    from cockpit.ui.host import CockpitHost

MODES = ("cockpit", "demo", "board")


def session_argv(
    mode: str, *, config: Path, data_dir: Path, log_dir: Path | None = None, secure: bool = True
) -> list[str]:
    """The command the server runs for each session."""
    argv = [sys.executable, "-m", "cockpit.web.session", mode]
    argv += ["--config", str(config), "--data-dir", str(data_dir)]
    if log_dir is not None:
        argv += ["--log-dir", str(log_dir)]
    if not secure:
        argv.append("--insecure-origin")
    return argv


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m cockpit.web.session")
    p.add_argument("mode", choices=MODES)
    p.add_argument("--config", required=True)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--log-dir")
    p.add_argument("--insecure-origin", action="store_true")
    return p.parse_args(argv)


def build(args: argparse.Namespace, env: dict[str, str]) -> tuple[Services, CockpitHost]:
    from cockpit.application.build import build_services
    from cockpit.config import load_settings
    from cockpit.logs import setup_logging
    from cockpit.web.apps import BoardApp, ServedCockpitApp

    config, data_dir = Path(args.config), Path(args.data_dir)
    secure = not args.insecure_origin
    settings = load_settings(config, env)
    if args.mode == "board":
        if args.log_dir:
            setup_logging(Path(args.log_dir), secrets_values=list)
        services = build_services(settings, data_dir, local=True, reconcile=False)
        return services, BoardApp(services, secure=secure)
    if args.mode == "demo":
        from cockpit.demo import DRILL_COMPONENTS, DRILL_TOKENS, FEED_STARTING
        from cockpit.redact import remember

        remember(*DRILL_TOKENS.values())
        if args.log_dir:
            setup_logging(Path(args.log_dir), secrets_values=lambda: DRILL_TOKENS.values())
        services = build_services(
            settings,
            data_dir,
            token=DRILL_TOKENS.get,
            drill=True,
            components=DRILL_COMPONENTS,
            reconcile=False,  # after the first frame, as in the terminal
        )
        app = ServedCockpitApp(services, secure=secure, feed_empty_text=FEED_STARTING)
        return services, app
    from cockpit.domain.errors import CockpitError
    from cockpit.secrets import Secrets

    keys = Secrets(env=env)
    if args.log_dir:
        setup_logging(Path(args.log_dir), secrets_values=keys.known_values)

    def token(name: str) -> str | None:
        try:
            return keys.get(name)
        except CockpitError as e:  # the system waits; the app says what is missing
            sys.stderr.write(f"cockpit: {e}\n")
            return None

    services = build_services(settings, data_dir, token=token, reconcile=False)
    return services, ServedCockpitApp(services, secure=secure)


def end_with_the_server(app: CockpitHost, *, every: float = 1.0, grace: float = 5.0) -> None:
    """If the server goes (killed, crashed), this session goes too: nobody can see it or
    type into it any more. A daemon thread notices the new parent, asks the app to quit,
    and after `grace` seconds ends the process."""
    import contextlib
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        with contextlib.suppress(RuntimeError):  # not running yet, or already gone
            app.call_from_thread(app.exit)
        time.sleep(grace)
        os._exit(1)

    threading.Thread(target=watch, name="cockpit-serve-parent", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from cockpit.domain.errors import CockpitError
    from cockpit.logs import close_logging

    try:
        services, app = build(args, dict(os.environ))
    except CockpitError as e:
        from cockpit.domain.sanitize import sanitize
        from cockpit.redact import redact

        sys.stderr.write(f"cockpit: {redact(sanitize(str(e)))}\n")
        return 1
    end_with_the_server(app)
    try:
        app.run()
        return app.exit_status()
    finally:
        services.close()
        close_logging()


if __name__ == "__main__":
    sys.exit(main())

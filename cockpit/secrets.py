"""Tokens for Slack, Jira and Statuspage: kept in the OS keyring, never on disk (DESIGN.md §5).

`Secrets` is the one way cockpit reads and writes them. A token is looked up in order:

1. **memory**: typed into the app for this session only (`remember`), never stored;
2. **the OS keyring** (service ``cockpit``, usernames ``slack``, ``jira``, ``statuspage``,
   ``slack-app``);
3. **the environment**: ``COCKPIT_SLACK_TOKEN``, ``COCKPIT_JIRA_TOKEN``,
   ``COCKPIT_STATUSPAGE_TOKEN``, ``COCKPIT_SLACK_APP_TOKEN``, a documented but less safe
   fallback (every program running as the user can read a process's environment).

``slack-app`` is Slack's app-level token (``xapp-…``, scope connections:write): with it the
feed gets new messages pushed over Socket Mode instead of waiting for the next poll. It
belongs to the ``[slack]`` section; without it cockpit polls.

The keyring library has no timeout and, on Linux with D-Bus but a locked collection, can
block forever on an unlock prompt nobody sees. So every keyring call runs in a daemon
thread and is given up after `timeout` seconds (the thread is left behind, which cannot
keep the process from exiting). Every keyring failure becomes a `SecretsUnavailable`
that says what is missing and the ways out; its text never holds a token.

Backends that are not secure are refused as if there were none: keyring's ``fail`` and
``null`` backends, and anything from ``keyrings.alt`` (on headless Linux it silently
becomes the default and keeps tokens as base64 in a plain file).

The CLI's ``cockpit auth set|list|delete`` is here too (`add_auth_parser`, `cmd_auth`).
No Textual: the UI calls these methods from thread workers.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING, Any, Literal, TypeVar

import msgspec

from cockpit.domain.errors import CockpitError
from cockpit.integrations import registry as _registry
from cockpit.integrations.base import env_var
from cockpit.integrations.errors import shorten
from cockpit.redact import redact
from cockpit.redact import remember as _register

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from cockpit.config import Settings

log = logging.getLogger("cockpit.secrets")

SERVICE = "cockpit"
# The tokens cockpit keeps are the registered systems' secrets (each system's package
# names its own: cockpit/integrations/registry.py): every system's client token, in the
# registry's order, then the others ("slack-app", Slack's app-level token).
NAMES: tuple[str, ...] = tuple(secret.name for secret, _ in _registry.secrets())
LABELS = {secret.name: secret.label for secret, _ in _registry.secrets()} | {
    i.name: i.label for i in _registry.INTEGRATIONS.values()
}
ENV_VARS = {name: env_var(name) for name in NAMES}
# The config section each token belongs to (the app-level token is Slack's too).
SECTIONS = {secret.name: system.config for secret, system in _registry.secrets()}
DEFAULT_TIMEOUT = 5.0

Source = Literal["keyring", "env", "memory"]
T = TypeVar("T")

WAYS_OUT = (
    "start a Secret Service (e.g. apt install gnome-keyring, then log in to a desktop "
    "session, or run `gnome-keyring-daemon --start --components=secrets` in a D-Bus session)",
    "set COCKPIT_SLACK_TOKEN, COCKPIT_JIRA_TOKEN or COCKPIT_STATUSPAGE_TOKEN (and "
    "COCKPIT_SLACK_APP_TOKEN for Slack's Socket Mode) in the environment (less safe: "
    "programs running as you can read it)",
    "type the token into the app (kept in memory only, gone when you quit)",
)


class SecretsUnavailable(CockpitError):
    """The OS keyring cannot be used. `reason` says why; `hint` lists the ways out."""

    def __init__(self, reason: str, *, extra_hint: str = "") -> None:
        self.reason = reason
        ways = ([extra_hint] if extra_hint else []) + list(WAYS_OUT)
        self.hint = "Ways out: " + "; or ".join(ways) + "."
        super().__init__(f"The OS keyring cannot be used: {reason}. {self.hint}")


class SecretStatus(msgspec.Struct, frozen=True):
    """Whether a token is set and where it comes from (`masked`: a hint of its value).

    `problem` says why the keyring could not be asked, when it could not.
    """

    set: bool
    source: Source | None
    masked: str
    problem: str = ""


class BackendStatus(msgspec.Struct, frozen=True):
    """What `Secrets.probe` found: the backend's name and whether it can be used."""

    name: str
    ok: bool
    detail: str
    hint: str = ""


def masked(token: str) -> str:
    """A hint of `token` safe to show: at most its first 4 and last 2 characters, and never
    more than a third of it ("xoxb…9f")."""
    if not token:
        return ""
    budget = len(token) // 3
    tail = min(2, budget // 3)
    head = min(4, budget - tail)
    return token[:head] + "…" + (token[-tail:] if tail else "")


def check_name(name: str) -> str:
    if name not in NAMES:
        raise ValueError(f"{name!r} is not a token cockpit keeps; use one of " + ", ".join(NAMES))
    return name


def clean_token(token: str) -> str:
    """The token without surrounding whitespace; refuses an empty one or one with spaces
    or control characters inside (a paste that caught more than the token)."""
    t = token.strip()
    if not t:
        raise ValueError("the token is empty")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in t):
        raise ValueError(
            "the token holds spaces or control characters: paste just the token, on one line"
        )
    return t


# -- backends ---------------------------------------------------------------------------
def insecure_reason(backend: object) -> str | None:
    """Why `backend` must not hold tokens, or None when it is a real keyring."""
    from keyring.backends import fail, null

    if isinstance(backend, fail.Keyring | null.Keyring):
        return "no keyring backend is available (no Secret Service answered on D-Bus)"
    for cls in type(backend).__mro__:
        module = getattr(cls, "__module__", "") or ""
        if module.startswith("keyrings.alt") or "plaintext" in cls.__name__.lower():
            return (
                f"only an insecure backend is installed ({_backend_name(backend)}: it keeps "
                "tokens in a file anyone who can read your home directory can decode); "
                "cockpit refuses it"
            )
    return None


def _backend_name(backend: object) -> str:
    from keyring.backends import fail, null

    if isinstance(backend, fail.Keyring):
        return "no backend"
    if isinstance(backend, null.Keyring):
        return "null backend"
    cls = type(backend)
    module = cls.__module__
    if module.startswith("keyring.backends."):
        module = module.removeprefix("keyring.backends.")
    return f"{module}.{cls.__name__}"


def _default_backend_name() -> str:
    """The name of keyring's own choice, if it has made one already (never resolves it)."""
    import keyring.core

    chosen = getattr(keyring.core, "_keyring_backend", None)
    return _backend_name(chosen) if chosen is not None else "none usable"


def _is_dbus_error(exc: BaseException) -> bool:
    for cls in type(exc).__mro__:
        module = getattr(cls, "__module__", "") or ""
        if module.split(".")[0] in ("jeepney", "secretstorage", "dbus"):
            return True
    return False


class Secrets:
    """Tokens from memory, the OS keyring or the environment, in that order.

    `backend` (a `keyring.backend.KeyringBackend`) is injectable; by default keyring's own
    choice is used, resolved on first use inside the guarded thread. `env` defaults to
    this process's environment.
    """

    def __init__(
        self,
        backend: KeyringBackend | None = None,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._given = backend
        self._backend: KeyringBackend | None = None
        self._env = os.environ if env is None else env
        self.timeout = timeout
        self._memory: dict[str, str] = {}
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._resolve_lock = threading.Lock()
        self._stuck: threading.Thread | None = None
        # tokens in the environment are as good as loaded: hidden from the start
        _register(*(self.env_token(n) for n in NAMES))

    # -- the guarded keyring call ----------------------------------------------------------
    def _resolve(self) -> KeyringBackend:
        """The backend to use (runs in the worker thread: resolving may talk to D-Bus)."""
        with self._resolve_lock:
            if self._backend is not None:
                return self._backend
            backend = self._given
            if backend is None:
                import keyring
                from keyring.backends.chainer import ChainerBackend

                backend = keyring.get_keyring()
                if isinstance(backend, ChainerBackend):
                    # use the best secure backend it chains, never a plaintext one
                    secure = [b for b in backend.backends if insecure_reason(b) is None]
                    if not secure:
                        reasons = [insecure_reason(b) for b in backend.backends]
                        raise SecretsUnavailable(
                            next((r for r in reasons if r), "no keyring backend is available")
                        )
                    backend = secure[0]
            why = insecure_reason(backend)
            if why is not None:
                raise SecretsUnavailable(why)
            self._backend = backend
            return backend

    def _call(self, what: str, fn: Callable[[KeyringBackend], T]) -> T:
        """`fn(backend)` in a daemon thread, given up after `self.timeout` seconds."""
        stuck = self._stuck
        if stuck is not None and stuck.is_alive():
            raise SecretsUnavailable(
                "an earlier keyring call is still waiting for an answer (an unlock prompt "
                "nobody can see?)",
                extra_hint="unlock the keyring (e.g. log in to the desktop session)",
            )
        result: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                result["value"] = fn(self._resolve())
            except BaseException as exc:  # handed to the caller, never raised in the thread
                result["error"] = exc
            finally:
                done.set()

        thread = threading.Thread(target=run, name=f"keyring-{what}", daemon=True)
        thread.start()
        if not done.wait(self.timeout):
            self._stuck = thread
            log.warning("keyring %s: no answer within %g s", what, self.timeout)
            raise SecretsUnavailable(
                f"the keyring did not answer within {self.timeout:g} s; it is probably "
                "waiting for an unlock prompt that cannot be seen (none can be shown over "
                "SSH or without a desktop session)",
                extra_hint="unlock the keyring (e.g. log in to the desktop session)",
            )
        if "error" in result:
            raise self._explain(result["error"]) from None
        value: T = result["value"]
        return value

    def _explain(self, exc: BaseException) -> SecretsUnavailable:
        from keyring.errors import InitError, KeyringError, KeyringLocked, NoKeyringError

        if isinstance(exc, SecretsUnavailable):
            return exc
        text = shorten(redact(str(exc), self.known_values()), 160)
        if isinstance(exc, NoKeyringError):
            return SecretsUnavailable(
                "no keyring backend is available (no Secret Service answered on D-Bus)"
            )
        if isinstance(exc, KeyringLocked):
            return SecretsUnavailable(
                "the keyring is locked, and the unlock prompt was dismissed or could not be shown",
                extra_hint="unlock it (e.g. log in to the desktop session, or open Seahorse)",
            )
        if isinstance(exc, InitError):
            return SecretsUnavailable(
                f"the keyring could not be opened ({text}); often there is no unlocked "
                "collection and no way to show the prompt that would create or unlock it",
                extra_hint="unlock it (e.g. log in to the desktop session)",
            )
        if _is_dbus_error(exc) or isinstance(exc, ConnectionError | EOFError):
            return SecretsUnavailable(
                f"the Secret Service could not be reached over D-Bus ({type(exc).__name__}: {text})"
            )
        if isinstance(exc, KeyringError):
            return SecretsUnavailable(f"the keyring failed ({type(exc).__name__}: {text})")
        return SecretsUnavailable(f"the keyring failed unexpectedly ({type(exc).__name__}: {text})")

    # -- the tokens ------------------------------------------------------------------------
    def env_token(self, name: str) -> str | None:
        """The token in the environment variable for `name`, if set."""
        value = (self._env.get(ENV_VARS[name]) or "").strip()
        return value or None

    def _note(self, token: str | None) -> str | None:
        """Keep `token` among the values seen, and have the one redactor hide it from now
        on, everywhere in the process (`cockpit.redact`)."""
        if token:
            _register(token)
            with self._lock:
                self._seen.add(token)
        return token

    def get(self, name: str) -> str | None:
        """The token for `name`, or None when none is set anywhere.

        Raises `SecretsUnavailable` when the keyring cannot be asked and neither memory
        nor the environment holds the token.
        """
        check_name(name)
        with self._lock:
            token = self._memory.get(name)
        if token:
            return token
        try:
            token = self._call("get", lambda b: b.get_password(SERVICE, name))
        except SecretsUnavailable as e:
            fallback = self.env_token(name)
            if fallback is None:
                raise
            log.info("%s token: keyring unusable (%s); using %s", name, e.reason, ENV_VARS[name])
            return self._note(fallback)
        if token:
            return self._note(token)
        return self._note(self.env_token(name))

    def set(self, name: str, token: str) -> None:
        """Store `token` in the OS keyring (it then wins over any copy in memory)."""
        check_name(name)
        token = clean_token(token)
        self._note(token)
        self._call("set", lambda b: b.set_password(SERVICE, name, token))
        with self._lock:
            self._memory.pop(name, None)

    def delete(self, name: str) -> bool:
        """Remove the token from the keyring (and from memory). True if one was removed."""
        from keyring.errors import PasswordDeleteError

        check_name(name)
        with self._lock:
            had_memory = self._memory.pop(name, None) is not None

        def remove(b: KeyringBackend) -> bool:
            try:
                b.delete_password(SERVICE, name)
            except PasswordDeleteError:
                return False
            return True

        return self._call("delete", remove) or had_memory

    def remember(self, name: str, token: str) -> None:
        """Keep `token` in memory only, for this session (typed into the app)."""
        check_name(name)
        token = clean_token(token)
        _register(token)
        with self._lock:
            self._memory[name] = token
            self._seen.add(token)

    def forget(self, name: str) -> bool:
        """Drop the in-memory token for `name`. True if there was one."""
        check_name(name)
        with self._lock:
            return self._memory.pop(name, None) is not None

    def status(self) -> dict[str, SecretStatus]:
        """Which tokens are set and where from. Never raises: when the keyring cannot be
        asked, `problem` says why (memory and environment are still reported)."""
        problem = ""
        stored: dict[str, str | None] = {}
        try:
            stored = self._call("status", lambda b: {n: b.get_password(SERVICE, n) for n in NAMES})
        except SecretsUnavailable as e:
            problem = e.reason
        out: dict[str, SecretStatus] = {}
        for name in NAMES:
            with self._lock:
                mem = self._memory.get(name)
            source: Source | None = None
            token: str | None = None
            if mem:
                source, token = "memory", mem
            elif stored.get(name):
                source, token = "keyring", stored[name]
            elif self.env_token(name):
                source, token = "env", self.env_token(name)
            self._note(token)
            out[name] = SecretStatus(
                set=token is not None,
                source=source,
                masked=masked(token) if token else "",
                problem=problem,
            )
        return out

    def probe(self) -> BackendStatus:
        """Can the keyring be used? Names the backend and, if not, why (for `doctor`)."""
        try:
            backend = self._call("probe", self._probe_backend)
        except SecretsUnavailable as e:
            known = self._backend or self._given
            name = _backend_name(known) if known is not None else _default_backend_name()
            return BackendStatus(name, False, e.reason, e.hint)
        return BackendStatus(_backend_name(backend), True, "usable")

    @staticmethod
    def _probe_backend(b: KeyringBackend) -> KeyringBackend:
        b.get_password(SERVICE, "cockpit-probe")  # unlocks the collection, reads nothing
        return b

    def known_values(self) -> list[str]:
        """Every token value seen this session (and those in the environment), for the
        log filter. Never calls the keyring. Each is registered with the one redactor."""
        with self._lock:
            values = set(self._seen) | set(self._memory.values())
        values.update(t for n in NAMES if (t := self.env_token(n)))
        _register(*values)
        return sorted(values)


# -- `cockpit auth` ---------------------------------------------------------------------
def add_auth_parser(
    subparsers: Any, func: Callable[..., int] | None = None
) -> argparse.ArgumentParser:
    """Add `auth set NAME`, `auth list`, `auth delete NAME` to `subparsers` (what
    `ArgumentParser.add_subparsers` returned). `func`, if given, becomes the `func` default
    of the parsed namespace. The chosen action is in `args.auth_action`."""
    help_text = "keep the Slack, Jira and Statuspage tokens in the OS keyring"
    p: argparse.ArgumentParser = subparsers.add_parser(
        "auth",
        help=help_text,
        description=help_text + ". Tokens are read in this order: typed into the app "
        "(memory only), the OS keyring, then the less safe environment variables "
        + ", ".join(ENV_VARS.values())
        + ".",
    )
    if func is not None:
        p.set_defaults(func=func)
    actions = p.add_subparsers(dest="auth_action", metavar="ACTION", required=True)
    s = actions.add_parser(
        "set",
        help="store a token (asked for without echo, or one line read from stdin)",
        description="Store a token in the OS keyring. On a terminal it is asked for "
        "without echo; otherwise one line is read from stdin "
        "(e.g. `pass show slack | cockpit auth set slack`). `slack-app` is Slack's "
        "app-level token (xapp-…): with it new messages are pushed over Socket Mode.",
    )
    s.add_argument("name", choices=NAMES)
    actions.add_parser("list", help="show which tokens are set, where from, masked")
    d = actions.add_parser("delete", help="remove a token from the OS keyring")
    d.add_argument("name", choices=NAMES)
    return p


def cmd_auth(
    args: argparse.Namespace,
    settings: Settings | None,
    secrets: Secrets,
    stdin: IO[str],
    stdout: IO[str],
    stderr: IO[str],
    *,
    getpass_fn: Callable[[str], str] | None = None,
) -> int:
    """`cockpit auth set|list|delete`. Returns the exit status; never prints a token."""

    def out(text: str) -> None:
        stdout.write(text + "\n")

    def err(text: str) -> None:
        stderr.write(f"cockpit: {text}\n")

    action = getattr(args, "auth_action", None)
    try:
        if action == "set":
            return _auth_set(args.name, settings, secrets, stdin, out, err, getpass_fn)
        if action == "delete":
            name = check_name(args.name)
            if secrets.delete(name):
                out(f"Deleted the {LABELS[name]} token from the keyring.")
            else:
                out(f"No {LABELS[name]} token in the keyring: nothing to delete.")
            if secrets.env_token(name):
                out(f"Note: {ENV_VARS[name]} is still set in the environment, and is used.")
            return 0
        if action == "list":
            return _auth_list(settings, secrets, out, err)
    except SecretsUnavailable as e:
        err(str(e))
        return 1
    err("auth needs an action: set NAME, list or delete NAME")
    return 2


def _auth_set(
    name: str,
    settings: Settings | None,
    secrets: Secrets,
    stdin: IO[str],
    out: Callable[[str], None],
    err: Callable[[str], None],
    getpass_fn: Callable[[str], str] | None,
) -> int:
    name = check_name(name)
    label = LABELS[name]
    try:
        if _isatty(stdin):
            import getpass

            raw = (getpass_fn or getpass.getpass)(f"{label} token (not shown): ")
        else:
            raw = stdin.readline()
    except (EOFError, KeyboardInterrupt):
        err("no token given; nothing stored")
        return 1
    try:
        token = clean_token(raw)
    except ValueError as e:
        err(f"{e}; nothing stored")
        return 2
    secrets.set(name, token)
    out(f"Stored the {label} token ({masked(token)}) in the OS keyring.")
    if name == "slack-app" and not token.startswith("xapp-"):
        out(
            "Note: Slack app-level tokens start with xapp- (the app's Basic Information "
            "page, scope connections:write); this one does not."
        )
    section = SECTIONS[name]
    if settings is not None and section not in settings.configured:
        where = settings.source or "the config file"
        out(f"Note: {LABELS[section]} is not configured yet: add a [{section}] section to {where}.")
    return 0


def _auth_list(
    settings: Settings | None,
    secrets: Secrets,
    out: Callable[[str], None],
    err: Callable[[str], None],
) -> int:
    states = secrets.status()
    problem = ""
    for name, st in states.items():
        problem = problem or st.problem
        if st.set:
            where = {
                "memory": "typed into the app (memory only)",
                "keyring": "OS keyring",
                "env": f"environment ({ENV_VARS[name]}; less safe)",
            }[st.source or "keyring"]
            line = f"{name:<11} set      {st.masked:<9} {where}"
        elif st.problem:
            line = f"{name:<11} unknown  (the keyring cannot be asked)"
        else:
            line = f"{name:<11} not set  (cockpit auth set {name})"
        if settings is not None and SECTIONS[name] not in settings.configured:
            line += "  [not configured]"
        out(line)
    if problem:
        err(str(SecretsUnavailable(problem)))
        return 1
    return 0


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False

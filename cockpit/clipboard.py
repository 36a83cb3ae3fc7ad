"""Copy text to the clipboard in the ways that can actually work (DESIGN.md §5).

Two paths, both tried:

* OSC 52 through the terminal (`ESC ] 52 ; c ; <base64> BEL`). It works over SSH and in
  tmux with `set -s set-clipboard on`; some terminals (VTE-based ones, macOS Terminal)
  ignore it, and nothing tells us whether it worked. The app passes
  `App.copy_to_clipboard`; the CLI passes `write_osc52_to_tty`.
* pyperclip, only where a local clipboard really exists: on Linux a display
  ($WAYLAND_DISPLAY or $DISPLAY) and one of wl-copy / xclip / xsel. pyperclip has no
  timeout, lets xclip print on our terminal, and "succeeds" on a stale $DISPLAY without
  copying anything, so it runs in a daemon thread with a timeout, its helpers' output
  goes to a file instead of the terminal, and the result is read back and compared.

No Textual here: the UI calls `copy_text` from a thread worker.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from cockpit.domain.sanitize import sanitize

OSC52_PREFIX = "\x1b]52;c;"
OSC52_END = "\x07"

INSTALL_HINT = "no xclip, xsel or wl-clipboard found: apt install xclip"


def osc52_sequence(text: str) -> str:
    """The escape sequence that asks the terminal to put `text` on the clipboard."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f"{OSC52_PREFIX}{payload}{OSC52_END}"


def write_osc52_to_tty(text: str, *, tty: str = "/dev/tty") -> None:
    """Write the OSC 52 sequence for `text` to the controlling terminal (the CLI's path).

    Going to /dev/tty rather than stdout keeps the sequence out of pipes and files when
    the output is redirected. Raises OSError when there is no terminal.
    """
    with open(tty, "w", encoding="utf-8") as f:
        f.write(osc52_sequence(text))
        f.flush()


@dataclass(frozen=True)
class CopyResult:
    osc52: bool = False
    local: bool = False
    local_mechanism: str | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.osc52 or self.local

    def summary(self) -> str:
        """One line for a toast: which path worked, or why none did."""
        if self.local and self.osc52:
            return (
                f"Copied to the clipboard ({self.local_mechanism}) and sent to the "
                "terminal (OSC 52)."
            )
        if self.local:
            text = f"Copied to the clipboard ({self.local_mechanism})."
            return f"{text} {self.problem}" if self.problem else text
        if self.osc52:
            text = (
                "Sent to the terminal's clipboard (OSC 52); if nothing pastes, the "
                "terminal ignores OSC 52 (in tmux: set -s set-clipboard on)."
            )
            return f"{text} Local clipboard: {self.problem}" if self.problem else text
        return (
            f"Not copied: {self.problem or 'no way to reach a clipboard'}. Select the text "
            "shown to copy it by hand."
        )


# -- the local clipboard --------------------------------------------------------------
@dataclass
class _Attempt:
    """What one guarded pyperclip call did: its children, their output, its outcome."""

    env: dict[str, str]
    children: list[subprocess.Popen[Any]] = field(default_factory=list)
    output: list[IO[bytes]] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    cancelled: bool = False
    error: BaseException | None = None
    pasted: str | None = None

    def captured(self) -> str:
        chunks: list[str] = []
        for f in self.output:
            try:
                f.seek(0)
                chunks.append(f.read().decode("utf-8", "replace"))
            except (OSError, ValueError):
                continue
        lines = [ln.strip() for c in chunks for ln in c.splitlines() if ln.strip()]
        return sanitize(" ".join(dict.fromkeys(lines)), single_line=True)

    def close(self) -> None:
        for f in self.output:
            with contextlib.suppress(OSError):
                f.close()

    def kill(self) -> None:
        """Give up: stop every helper started (and their process groups), start no more."""
        self.cancelled = True
        for p in self.children:
            _kill(p)


def _kill(p: subprocess.Popen[Any]) -> None:
    if p.poll() is not None:
        return
    try:
        if hasattr(os, "killpg"):
            os.killpg(p.pid, signal.SIGKILL)  # its own session: see _QuietSubprocess
        else:
            p.kill()
    except OSError:
        pass


_attempt = threading.local()


class _QuietSubprocess:
    """Stands in for `subprocess` inside pyperclip.

    The helpers it starts (xclip, xsel, wl-copy) get our chosen environment, no stdin
    unless pyperclip asks, and their stdout/stderr go to a temporary file rather than our
    terminal. A file and not a pipe: xclip forks a child that keeps serving the selection
    and holds its output open, so a pipe would never reach EOF.
    """

    PIPE = subprocess.PIPE
    DEVNULL = subprocess.DEVNULL
    STDOUT = subprocess.STDOUT
    CalledProcessError = subprocess.CalledProcessError
    TimeoutExpired = subprocess.TimeoutExpired

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def _prepare(kwargs: dict[str, Any]) -> _Attempt | None:
        attempt: _Attempt | None = getattr(_attempt, "current", None)
        if attempt is None:
            return None
        kwargs.setdefault("env", attempt.env)
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        if kwargs.get("stdout") is None:
            out = tempfile.TemporaryFile()  # noqa: SIM115  (closed by _Attempt.close)
            attempt.output.append(out)
            kwargs["stdout"] = out
        if kwargs.get("stderr") in (None, subprocess.PIPE):
            err = tempfile.TemporaryFile()  # noqa: SIM115
            attempt.output.append(err)
            kwargs["stderr"] = err
        kwargs["start_new_session"] = True  # never reads from or signals our terminal
        return attempt

    def Popen(self, args: Any, **kwargs: Any) -> subprocess.Popen[Any]:
        attempt = self._prepare(kwargs)
        if attempt is not None and attempt.cancelled:
            raise OSError("the copy was abandoned after its timeout")
        p: subprocess.Popen[Any] = subprocess.Popen(args, **kwargs)
        if attempt is not None:
            attempt.children.append(p)
            if attempt.cancelled:
                _kill(p)
        return p

    def check_call(self, args: Any, **kwargs: Any) -> int:
        with self.Popen(args, **kwargs) as p:
            rc = p.wait()
        if rc:
            raise subprocess.CalledProcessError(rc, args)
        return 0

    def call(self, args: Any, **kwargs: Any) -> int:
        with self.Popen(args, **kwargs) as p:
            return p.wait()


_install_lock = threading.Lock()


def _pyperclip() -> Any:
    """pyperclip, with its subprocess calls routed through `_QuietSubprocess`."""
    import pyperclip

    with _install_lock:
        if not isinstance(getattr(pyperclip, "subprocess", None), _QuietSubprocess):
            pyperclip.subprocess = _QuietSubprocess()
    return pyperclip


def _which(name: str, env: Mapping[str, str]) -> str | None:
    return shutil.which(name, path=env.get("PATH", os.defpath))


def find_local_mechanism(
    env: Mapping[str, str] | None = None, platform: str | None = None
) -> tuple[str | None, str | None]:
    """(mechanism, None) when a local clipboard is reachable, else (None, why not)."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        return ("pbcopy", None) if _which("pbcopy", env) else (None, "pbcopy is missing")
    if platform.startswith(("win", "cygwin")):
        return "windows", None
    wayland, display = env.get("WAYLAND_DISPLAY"), env.get("DISPLAY")
    if not wayland and not display:
        return None, (
            "no local clipboard: neither $DISPLAY nor $WAYLAND_DISPLAY is set "
            "(normal over SSH; OSC 52 through the terminal is the way there)"
        )
    if wayland and _which("wl-copy", env) and _which("wl-paste", env):
        return "wl-clipboard", None
    if display:
        for tool in ("xclip", "xsel"):
            if _which(tool, env):
                return tool, None
    if wayland and not display:
        return None, "no wl-clipboard found for $WAYLAND_DISPLAY: apt install wl-clipboard"
    return None, INSTALL_HINT


def _functions(pyperclip: Any, mechanism: str) -> tuple[Callable[[str], None], Callable[[], str]]:
    init = {
        "xclip": pyperclip.init_xclip_clipboard,
        "xsel": pyperclip.init_xsel_clipboard,
        "wl-clipboard": pyperclip.init_wl_clipboard,
        "pbcopy": pyperclip.init_osx_pbcopy_clipboard,
        "windows": getattr(pyperclip, "init_windows_clipboard", None),
    }[mechanism]
    if init is None:
        raise RuntimeError(f"pyperclip cannot use {mechanism} here")
    copy, paste = init()
    return copy, paste


def copy_local(
    text: str,
    *,
    timeout: float = 2.0,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
) -> tuple[bool, str | None, str | None]:
    """Copy with pyperclip and read it back: (worked, mechanism, problem)."""
    env_map = dict(os.environ if env is None else env)
    mechanism, why_not = find_local_mechanism(env_map, platform)
    if mechanism is None:
        return False, None, why_not
    try:
        pyperclip = _pyperclip()
        copy, paste = _functions(pyperclip, mechanism)
    except Exception as exc:  # pyperclip may be missing or refuse this platform
        return False, mechanism, f"{mechanism} could not be set up: {exc}"
    attempt = _Attempt(env=env_map)

    def run() -> None:
        _attempt.current = attempt
        try:
            copy(text)
            attempt.pasted = paste()
        except BaseException as exc:  # reported to the caller, never raised in a thread
            attempt.error = exc
        finally:
            _attempt.current = None
            attempt.done.set()

    thread = threading.Thread(target=run, name="clipboard-copy", daemon=True)
    thread.start()
    finished = attempt.done.wait(timeout)
    try:
        if not finished:
            attempt.kill()
            where = f" on display {env_map['DISPLAY']}" if env_map.get("DISPLAY") else ""
            return (
                False,
                mechanism,
                (
                    f"{mechanism} did not answer within {timeout:g} s"
                    f"{where}: is the display still there?"
                ),
            )
        said = attempt.captured()
        detail = f" ({mechanism} said: {said})" if said else ""
        if attempt.error is not None:
            return False, mechanism, f"{mechanism} failed: {attempt.error}{detail}"
        if attempt.pasted != text:
            return (
                False,
                mechanism,
                (f"the clipboard did not take the text (read back something else){detail}"),
            )
        return True, mechanism, None
    finally:
        if finished:
            attempt.close()


def copy_text(
    text: str,
    *,
    osc52_writer: Callable[[str], None] | None,
    timeout: float = 2.0,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
) -> CopyResult:
    """Copy `text` (sanitized first) by OSC 52 and by the local clipboard where there is one.

    `osc52_writer` is `App.copy_to_clipboard` in the app, `write_osc52_to_tty` in the
    CLI, or None to skip OSC 52. `env` and `platform` default to this process's.
    Never raises; the result says what worked and, in plain words, what did not.
    """
    clean = sanitize(text)
    problems: list[str] = []
    osc52 = False
    if osc52_writer is not None:
        try:
            osc52_writer(clean)
            osc52 = True
        except Exception as exc:
            problems.append(f"OSC 52 could not be written: {exc}")
    local, mechanism, problem = copy_local(clean, timeout=timeout, env=env, platform=platform)
    if problem:
        problems.append(problem)
    return CopyResult(
        osc52=osc52,
        local=local,
        local_mechanism=mechanism if local else None,
        problem="; ".join(problems) or None,
    )

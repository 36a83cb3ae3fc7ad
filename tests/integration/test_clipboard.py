"""Copying for real: pyperclip + xclip under a real Xvfb, and OSC 52 through a real tmux."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import cockpit
from cockpit.clipboard import (
    INSTALL_HINT,
    CopyResult,
    copy_text,
    find_local_mechanism,
    osc52_sequence,
)

REPO = Path(cockpit.__file__).resolve().parents[1]
TEXT = "INC-42: Checkout ✓ — card payments failing\n  second line\n"
ESC = "\x1b"


def _missing(*tools: str) -> list[str]:
    return [t for t in tools if shutil.which(t) is None]


needs_x = pytest.mark.skipif(
    bool(_missing("Xvfb", "xclip")),
    reason=f"needs the Xvfb and xclip binaries "
    f"(missing: {', '.join(_missing('Xvfb', 'xclip'))}; "
    "apt install xvfb xclip)",
)
needs_tmux = pytest.mark.skipif(
    bool(_missing("tmux")), reason="needs the tmux binary (apt install tmux)"
)


# -- fixtures ---------------------------------------------------------------------------
@pytest.fixture
def xvfb() -> Iterator[str]:
    """A private X server; yields its $DISPLAY. Xvfb picks a free display number itself."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-nolisten", "tcp", "-screen", "0", "320x240x24"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    os.close(write_fd)
    try:
        number = b""
        deadline = time.monotonic() + 10
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = os.read(read_fd, 16)
            if not chunk:
                break
            number += chunk
        if not number.strip().isdigit():
            pytest.fail(f"Xvfb did not report a display (got {number!r})")
        yield f":{number.decode().strip()}"
    finally:
        os.close(read_fd)
        # the X server and anything left in its session (xclip serving the selection)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def display_env(xvfb: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DISPLAY", xvfb)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return xvfb


def xclip_out(display: str) -> str:
    out = subprocess.run(
        ["xclip", "-o", "-selection", "clipboard"],
        capture_output=True,
        env={**os.environ, "DISPLAY": display},
        timeout=5,
        check=True,
    )
    return out.stdout.decode("utf-8")


@pytest.fixture
def tmux() -> Iterator[list[str]]:
    """A tmux server of our own (own socket, no config), with set-clipboard on."""
    base = ["tmux", "-L", f"cockpit-test-{uuid.uuid4().hex[:10]}", "-f", "/dev/null"]
    subprocess.run(
        [*base, "new-session", "-d", "-x", "100", "-y", "30", "sleep 60"], check=True, timeout=10
    )
    try:
        subprocess.run([*base, "set", "-s", "set-clipboard", "on"], check=True, timeout=10)
        yield base
    finally:
        subprocess.run([*base, "kill-server"], capture_output=True, timeout=10)


def run_in_tmux(base: list[str], script: Path) -> None:
    """Run a small python program in a new tmux window: its /dev/tty is the pane."""
    command = (
        f"env -u DISPLAY -u WAYLAND_DISPLAY PYTHONPATH={REPO} {sys.executable} {script}; sleep 5"
    )
    subprocess.run([*base, "new-window", command], check=True, timeout=10)


def wait_for_buffer(base: list[str], timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run([*base, "show-buffer"], capture_output=True, timeout=10)
        if out.returncode == 0:
            return out.stdout.decode("utf-8")
        time.sleep(0.05)
    pytest.fail("tmux never got a paste buffer from the OSC 52 sequence")


# -- OSC 52 -------------------------------------------------------------------------------
def test_osc52_sequence_shape() -> None:
    seq = osc52_sequence("héllo")
    assert seq.startswith("\x1b]52;c;") and seq.endswith("\x07")
    assert base64.b64decode(seq[7:-1]).decode("utf-8") == "héllo"


@needs_tmux
def test_osc52_through_a_real_tmux(tmux: list[str], tmp_path: Path) -> None:
    (tmp_path / "text.txt").write_text(TEXT, encoding="utf-8")
    script = tmp_path / "write_osc52.py"
    script.write_text(
        "from pathlib import Path\n"
        "from cockpit.clipboard import osc52_sequence\n"
        f"text = Path({str(tmp_path / 'text.txt')!r}).read_text(encoding='utf-8')\n"
        "with open('/dev/tty', 'w', encoding='utf-8') as tty:\n"
        "    tty.write(osc52_sequence(text))\n"
    )
    run_in_tmux(tmux, script)
    assert wait_for_buffer(tmux) == TEXT


@needs_tmux
def test_copy_text_from_the_cli_path_in_tmux(tmux: list[str], tmp_path: Path) -> None:
    """What `cockpit draft ... --copy` does over SSH: no display, OSC 52 to /dev/tty."""
    result_file = tmp_path / "result.json"
    script = tmp_path / "cli_copy.py"  # not copy.py: that would shadow the stdlib
    script.write_text(
        "import json\n"
        "from cockpit.clipboard import copy_text, write_osc52_to_tty\n"
        "r = copy_text('hostile ' + chr(27) + '[2Jtext ✓', osc52_writer=write_osc52_to_tty)\n"
        f"open({str(result_file)!r}, 'w').write(json.dumps([r.osc52, r.local, r.problem]))\n"
    )
    run_in_tmux(tmux, script)
    assert wait_for_buffer(tmux) == "hostile text ✓"  # sanitized before it was copied
    deadline = time.monotonic() + 10
    while not result_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    osc52, local, problem = json.loads(result_file.read_text())
    assert (osc52, local) == (True, False)
    assert "neither $DISPLAY nor $WAYLAND_DISPLAY" in problem


# -- the local clipboard --------------------------------------------------------------------
@needs_x
def test_copy_with_xclip_under_xvfb(display_env: str) -> None:
    result = copy_text(TEXT, osc52_writer=None)
    assert result == CopyResult(osc52=False, local=True, local_mechanism="xclip", problem=None)
    assert xclip_out(display_env) == TEXT
    assert result.summary() == "Copied to the clipboard (xclip)."


@needs_x
def test_both_paths_and_sanitized_text(display_env: str) -> None:
    sent: list[str] = []
    result = copy_text(f"a{ESC}]0;title{chr(7)}b{ESC}[31m c\u202e", osc52_writer=sent.append)
    assert sent == ["ab c"]
    assert xclip_out(display_env) == "ab c"
    assert result.osc52 and result.local and result.problem is None
    assert result.summary() == (
        "Copied to the clipboard (xclip) and sent to the terminal (OSC 52)."
    )


@needs_x
def test_stale_display_is_a_failure_not_a_silent_success(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DISPLAY", ":987")  # nothing listens there
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = copy_text("x", osc52_writer=None)
    assert not result.local and not result.ok
    assert result.problem is not None
    assert "did not take the text" in result.problem and "Can't open display" in result.problem
    out, err = capfd.readouterr()
    assert out == "" and err == "", "xclip wrote on the terminal"
    assert result.summary().startswith("Not copied: ")


def test_no_display_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = copy_text("x", osc52_writer=None, platform="linux")
    assert result == CopyResult(
        osc52=False, local=False, local_mechanism=None, problem=result.problem
    )
    assert result.problem is not None
    assert result.problem.startswith(
        "no local clipboard: neither $DISPLAY nor $WAYLAND_DISPLAY is set"
    )
    assert "OSC 52" in result.problem
    ok = copy_text("x", osc52_writer=lambda s: None, platform="linux")
    assert ok.osc52 and ok.ok
    assert ok.summary().startswith("Sent to the terminal's clipboard (OSC 52)")
    assert "set-clipboard on" in ok.summary() and "neither $DISPLAY" in ok.summary()


def test_display_but_no_tool_says_what_to_install(tmp_path: Path) -> None:
    env = {"DISPLAY": ":0", "PATH": str(tmp_path)}
    assert find_local_mechanism(env, "linux") == (None, INSTALL_HINT)
    result = copy_text("x", osc52_writer=None, env=env, platform="linux")
    assert result.problem == "no xclip, xsel or wl-clipboard found: apt install xclip"
    wayland = {"WAYLAND_DISPLAY": "wayland-0", "PATH": str(tmp_path)}
    assert "apt install wl-clipboard" in (find_local_mechanism(wayland, "linux")[1] or "")


def test_a_failing_osc52_writer_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)

    def broken(text: str) -> None:
        raise OSError("No such device or address: '/dev/tty'")

    result = copy_text("x", osc52_writer=broken, platform="linux")
    assert not result.ok
    assert result.problem is not None and result.problem.startswith(
        "OSC 52 could not be written: No such device or address"
    )


def test_a_hanging_tool_times_out(tmp_path: Path) -> None:
    fake = tmp_path / "xclip"
    pid_file = tmp_path / "pid"
    fake.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 30\n")
    fake.chmod(0o755)
    env = {"DISPLAY": ":0", "PATH": f"{tmp_path}:/usr/bin:/bin"}
    started = time.monotonic()
    # 1.5 s: time enough, on a loaded machine, for the helper to start and note its pid
    result = copy_text("x", osc52_writer=None, env=env, platform="linux", timeout=1.5)
    assert time.monotonic() - started < 6
    assert not result.local
    assert result.problem == (
        "xclip did not answer within 1.5 s on display :0: is the display still there?"
    )
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the stuck helper was killed, not left behind
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        if (
            Path(f"/proc/{pid}/stat").exists()
            and Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
        ):
            break  # a zombie waiting for its reaper is dead enough
        time.sleep(0.05)
    else:
        pytest.fail(f"the hung helper {pid} is still running")

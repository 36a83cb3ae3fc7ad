"""`cockpit.secrets` against a real Secret Service: gnome-keyring under `dbus-run-session`.

Each test runs a child Python in its own private D-Bus session with its own
gnome-keyring-daemon, HOME and XDG directories (nothing touches the user's keyring, and
no $DISPLAY is passed, so no prompt can pop up anywhere). The child drives `Secrets`
with keyring's own choice of backend and prints what happened as JSON; the test checks
it. The child is bounded by a timeout, runs in its own process group, and everything it
started is found by a marker in its environment and stopped afterwards.

Without `dbus-run-session` or `gnome-keyring-daemon` the tests are skipped, unless
COCKPIT_REQUIRE_TOOLS=1 (CI), where a missing tool is a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

import cockpit

REPO = Path(cockpit.__file__).resolve().parents[1]
TOOLS = ("dbus-run-session", "gnome-keyring-daemon")
TOKEN = "xoxb-7777-5555-realkeyringtest9f"
# The throwaway test keyring's password. gnome-keyring does not create the login keyring
# from an empty password, so an unlocked keyring needs some password.
KEYRING_PASSWORD = "cockpit-test-only"
CHILD_TIMEOUT = 25.0

# The daemon reads the password on stdin, creates and unlocks the login keyring with it,
# forks into the background and returns once it is ready; the child then runs on the
# same bus. dbus-run-session ends the bus when the child exits, and the daemon with it.
UNLOCKED = (
    'printf "%s" "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets '
    '--daemonize >/dev/null && exec "$PYTHON" "$CHILD"'
)
# A running Secret Service with no unlocked collection: creating or unlocking one needs a
# prompt, and there is no display to show it on.
LOCKED = (
    "gnome-keyring-daemon --start --components=secrets --daemonize >/dev/null "
    '&& exec "$PYTHON" "$CHILD"'
)

CHILD = textwrap.dedent(
    """
    import json, shutil, subprocess, sys, time
    from contextlib import closing
    from cockpit.secrets import Secrets, SecretsUnavailable

    TOKEN = sys.argv[2]
    out = {}

    def lookup():
        # read the item straight from the Secret Service: with libsecret's secret-tool
        # when it is installed (another implementation altogether), else secretstorage
        if shutil.which("secret-tool"):
            r = subprocess.run(
                ["secret-tool", "lookup", "service", "cockpit", "username", "slack"],
                capture_output=True, text=True, timeout=10,
            )
            return r.stdout
        import secretstorage
        with closing(secretstorage.dbus_init()) as bus:
            items = secretstorage.get_default_collection(bus).search_items(
                {"service": "cockpit", "username": "slack"}
            )
            return "".join(i.get_secret().decode() for i in items)

    def attempt(key, fn):
        t0 = time.monotonic()
        try:
            out[key] = fn()
        except SecretsUnavailable as e:
            out[key] = {"unavailable": e.reason, "message": str(e)}
        out[key + "_seconds"] = round(time.monotonic() - t0, 2)

    s = Secrets(timeout=3.0)
    if sys.argv[1] == "unlocked":
        probe = s.probe()
        out["probe"] = [probe.name, probe.ok, probe.detail]
        attempt("set", lambda: s.set("slack", "  " + TOKEN + "\\n") or "stored")
        attempt("get", lambda: s.get("slack"))
        attempt("get_fresh", lambda: Secrets(timeout=3.0).get("slack"))
        out["secret_tool"] = lookup()
        st = s.status()
        out["status"] = {n: [v.set, v.source, v.masked, v.problem] for n, v in st.items()}
        attempt("delete", lambda: s.delete("slack"))
        attempt("get_after_delete", lambda: Secrets(timeout=3.0).get("slack"))
        attempt("delete_again", lambda: s.delete("slack"))
        out["secret_tool_after_delete"] = lookup()
    else:
        probe = s.probe()
        out["probe"] = [probe.name, probe.ok, probe.detail]
        attempt("set", lambda: s.set("slack", TOKEN) or "stored")
        env = Secrets(env={"COCKPIT_SLACK_TOKEN": TOKEN}, timeout=3.0)
        attempt("get_env_fallback", lambda: env.get("slack"))
    print("RESULT " + json.dumps(out))
    """
)


def _missing() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


@pytest.fixture(autouse=True)
def tools() -> None:
    missing = _missing()
    if not missing:
        return
    reason = (
        f"needs a real Secret Service: {', '.join(missing)} not found "
        "(apt install dbus gnome-keyring libsecret-tools)"
    )
    if os.environ.get("COCKPIT_REQUIRE_TOOLS") == "1":
        pytest.fail(reason + "; COCKPIT_REQUIRE_TOOLS=1 makes this a failure")
    pytest.skip(reason)


def _marked_pids(marker: str) -> list[int]:
    """Processes started for this test: their environment holds `marker`."""
    needle = f"COCKPIT_TEST_MARKER={marker}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            pids.append(int(entry.name))
    return pids


def _stop(marker: str) -> list[int]:
    """Stop whatever is left of the run (by pid); returns the pids that were left."""
    deadline = time.monotonic() + 5
    left = _marked_pids(marker)
    while left and time.monotonic() < deadline:  # the daemons leave when the bus goes
        time.sleep(0.1)
        left = _marked_pids(marker)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _marked_pids(marker):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        time.sleep(0.2)
    return left


def run_child(tmp_path: Path, mode: str, shell: str) -> dict[str, Any]:
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    for d in (home, runtime):
        d.mkdir(mode=0o700)
    marker = uuid.uuid4().hex
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_RUNTIME_DIR": str(runtime),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(REPO),
        "PYTHON": sys.executable,
        "CHILD": str(child),
        "KEYRING_PASSWORD": KEYRING_PASSWORD,
        "COCKPIT_TEST_MARKER": marker,
    }
    argv = ["dbus-run-session", "--", "sh", "-c", shell.replace('"$CHILD"', '"$CHILD" "$@"')]
    argv += ["sh", mode, TOKEN]
    proc = subprocess.Popen(
        argv,
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(f"the child did not finish within {CHILD_TIMEOUT:g} s:\n{stderr[-2000:]}")
    finally:
        _stop(marker)
    results = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and results, (
        f"child failed (exit {proc.returncode}):\n{stdout[-2000:]}\n{stderr[-3000:]}"
    )
    assert not _marked_pids(marker), "processes of the test session are still running"
    data: dict[str, Any] = json.loads(results[-1].removeprefix("RESULT "))
    return data


def test_set_get_delete_in_a_real_secret_service(tmp_path: Path):
    r = run_child(tmp_path, "unlocked", UNLOCKED)
    assert r["probe"] == ["SecretService.Keyring", True, "usable"]
    assert r["set"] == "stored"
    assert r["get"] == TOKEN
    assert r["get_fresh"] == TOKEN  # read back from the Secret Service, not from memory
    assert r["secret_tool"] == TOKEN  # really stored there, under service=cockpit
    assert r["status"]["slack"] == [True, "keyring", "xoxb…9f", ""]
    assert r["status"]["jira"] == [False, None, "", ""]
    assert r["delete"] is True
    assert r["get_after_delete"] is None
    assert r["delete_again"] is False
    assert r["secret_tool_after_delete"] == ""
    for key in ("set", "get", "delete"):
        assert r[f"{key}_seconds"] < 3


def test_a_secret_service_without_an_unlocked_collection(tmp_path: Path):
    r = run_child(tmp_path, "locked", LOCKED)
    assert r["probe"][1] is False
    assert isinstance(r["set"], dict), f"a token was stored without an unlocked keyring: {r}"
    reason = r["set"]["unavailable"]
    assert "could not be opened" in reason or "locked" in reason or "did not answer" in reason
    assert "COCKPIT_SLACK_TOKEN" in r["set"]["message"]
    assert TOKEN not in r["set"]["message"]
    assert r["set_seconds"] < 4.5  # never longer than the timeout, whatever the daemon does
    assert r["get_env_fallback"] == TOKEN

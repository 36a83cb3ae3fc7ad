"""Secrets: the keyring behind a timeout, the order memory > keyring > env, the refusals,
the masking, and `cockpit auth` (DESIGN.md §5). An in-memory keyring backend throughout."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.compat import properties
from keyring.errors import InitError, KeyringLocked, NoKeyringError, PasswordDeleteError

import cockpit
from cockpit.domain.errors import CockpitError
from cockpit.secrets import (
    ENV_VARS,
    NAMES,
    SERVICE,
    Secrets,
    SecretStatus,
    SecretsUnavailable,
    add_auth_parser,
    cmd_auth,
    masked,
)

REPO = Path(cockpit.__file__).resolve().parents[1]
SLACK = "xoxb-1111-2222-abcdefghijkl9f"
JIRA = "ATATT3xFfGF0aBcDeFgHiJkLmNoP"
PAGE = "5f3c2a1b-9d8e-4c7b-a6f5-e4d3c2b1a0ff"


class MemoryBackend(KeyringBackend):
    """A keyring held in a dict. Not viable for keyring's own choice (its priority
    raises), so defining it never changes what `keyring.get_keyring()` picks."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("test backend: never chosen automatically")

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}
        self.calls: list[str] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.calls.append(f"get {username}")
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls.append(f"set {username}")
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.calls.append(f"delete {username}")
        if (service, username) not in self.store:
            raise PasswordDeleteError("No such password!")
        del self.store[(service, username)]


class RaisingBackend(MemoryBackend):
    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc = exc

    def get_password(self, service: str, username: str) -> str | None:
        raise self.exc

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self.exc

    def delete_password(self, service: str, username: str) -> None:
        raise self.exc


class BlockingBackend(MemoryBackend):
    """Waits like keyring does behind an unlock prompt nobody can see."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait()
        return None

    set_password = delete_password = get_password  # type: ignore[assignment]


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend()


@pytest.fixture
def secrets(backend: MemoryBackend) -> Secrets:
    return Secrets(backend, env={}, timeout=2.0)


# -- masking -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "token,expected",
    [
        (SLACK, "xoxb…9f"),
        ("abcdefghijklmnopqr", "abcd…qr"),  # 18 characters: 6 shown, a third
        ("abcdefghijkl", "abc…l"),
        ("abcdef", "ab…"),
        ("ab", "…"),
        ("", ""),
    ],
)
def test_masked(token: str, expected: str):
    assert masked(token) == expected


@pytest.mark.parametrize("length", range(1, 80))
def test_masked_never_shows_more_than_a_third_or_six(length: int):
    token = "".join(chr(ord("a") + i % 26) for i in range(length))
    shown = masked(token).replace("…", "")
    assert len(shown) <= length / 3 and len(shown) <= 6
    head, _, tail = masked(token).partition("…")
    assert token.startswith(head) and token.endswith(tail) and len(head) <= 4 and len(tail) <= 2


# -- the in-memory backend ---------------------------------------------------------------
def test_set_get_delete_through_the_keyring(secrets: Secrets, backend: MemoryBackend):
    assert secrets.get("slack") is None
    secrets.set("slack", f"  {SLACK}\n")
    assert backend.store == {(SERVICE, "slack"): SLACK}  # stripped, under service "cockpit"
    assert secrets.get("slack") == SLACK
    assert secrets.delete("slack") is True
    assert backend.store == {}
    assert secrets.get("slack") is None
    assert secrets.delete("slack") is False


def test_status_reports_source_and_masked_value(secrets: Secrets):
    secrets.set("jira", JIRA)
    st = secrets.status()
    assert set(st) == set(NAMES)
    assert st["jira"] == SecretStatus(set=True, source="keyring", masked="ATAT…oP")
    assert st["slack"] == SecretStatus(set=False, source=None, masked="")
    assert all(JIRA not in repr(v) for v in st.values())


def test_refuses_unknown_names_and_bad_tokens(secrets: Secrets):
    with pytest.raises(ValueError, match="slack, jira, statuspage"):
        secrets.get("github")
    with pytest.raises(ValueError, match="empty"):
        secrets.set("slack", "  \n")
    with pytest.raises(ValueError, match="spaces or control"):
        secrets.set("slack", "xoxb-1 xoxb-2")


# -- resolution order ----------------------------------------------------------------------
def test_environment_is_the_fallback(backend: MemoryBackend):
    s = Secrets(backend, env={ENV_VARS["statuspage"]: f" {PAGE} "})
    assert ENV_VARS == {
        "slack": "COCKPIT_SLACK_TOKEN",
        "jira": "COCKPIT_JIRA_TOKEN",
        "statuspage": "COCKPIT_STATUSPAGE_TOKEN",
        "slack-app": "COCKPIT_SLACK_APP_TOKEN",
    }
    assert s.get("statuspage") == PAGE
    assert s.status()["statuspage"].source == "env"


def test_memory_beats_keyring_beats_environment(backend: MemoryBackend):
    s = Secrets(backend, env={ENV_VARS["slack"]: "xoxb-from-the-env-000"})
    assert s.get("slack") == "xoxb-from-the-env-000"
    s.set("slack", "xoxb-from-the-keyring-111")
    assert s.get("slack") == "xoxb-from-the-keyring-111"
    assert s.status()["slack"].source == "keyring"
    s.remember("slack", "xoxb-typed-in-the-app-222")
    assert s.get("slack") == "xoxb-typed-in-the-app-222"
    assert s.status()["slack"].source == "memory"
    assert backend.store[(SERVICE, "slack")] == "xoxb-from-the-keyring-111"  # memory only
    calls = len(backend.calls)
    s.get("slack")
    assert len(backend.calls) == calls  # memory answers without asking the keyring
    assert s.forget("slack") is True
    assert s.get("slack") == "xoxb-from-the-keyring-111"


def test_set_replaces_a_token_kept_in_memory(secrets: Secrets):
    secrets.remember("jira", "typed-token-0001")
    secrets.set("jira", JIRA)
    assert secrets.get("jira") == JIRA


def test_env_is_used_when_the_keyring_is_unusable():
    s = Secrets(RaisingBackend(KeyringLocked("x")), env={ENV_VARS["slack"]: SLACK})
    assert s.get("slack") == SLACK
    with pytest.raises(SecretsUnavailable):
        s.get("jira")  # not in the environment: the keyring's problem is reported
    st = s.status()
    assert st["slack"].source == "env" and "locked" in st["slack"].problem
    assert st["jira"].set is False and "locked" in st["jira"].problem


def test_known_values_collects_what_was_seen_without_asking_the_keyring(
    secrets: Secrets, backend: MemoryBackend
):
    secrets.set("slack", SLACK)
    secrets.remember("jira", JIRA)
    backend.store[(SERVICE, "statuspage")] = PAGE
    calls = len(backend.calls)
    assert PAGE not in secrets.known_values()
    assert len(backend.calls) == calls
    secrets.get("statuspage")
    assert set(secrets.known_values()) == {SLACK, JIRA, PAGE}


# -- no usable keyring ---------------------------------------------------------------------
def _ways_out(message: str) -> None:
    assert "Secret Service" in message and "gnome-keyring" in message
    assert "COCKPIT_SLACK_TOKEN" in message and "less safe" in message
    assert "memory only" in message


def test_timeout_when_the_keyring_blocks_forever():
    backend = BlockingBackend()
    s = Secrets(backend, env={}, timeout=0.3)
    try:
        t0 = time.monotonic()
        with pytest.raises(SecretsUnavailable) as info:
            s.get("slack")
        assert time.monotonic() - t0 < 1.5
        msg = str(info.value)
        assert "did not answer within 0.3 s" in msg and "unlock prompt" in msg
        _ways_out(msg)
        assert isinstance(info.value, CockpitError)
        # while that call still hangs, the next one fails at once instead of piling up
        t0 = time.monotonic()
        with pytest.raises(SecretsUnavailable, match="still waiting"):
            s.set("slack", SLACK)
        assert time.monotonic() - t0 < 0.2
        st = s.status()
        assert not st["slack"].set and "still waiting" in st["slack"].problem
    finally:
        backend.release.set()


def test_keyring_works_again_once_the_stuck_call_returns():
    backend = BlockingBackend()
    s = Secrets(backend, env={}, timeout=0.2)
    with pytest.raises(SecretsUnavailable):
        s.get("slack")
    backend.release.set()
    deadline = time.monotonic() + 2
    while s._stuck is not None and s._stuck.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert s.get("slack") is None


def test_a_blocked_keyring_thread_does_not_keep_the_process_alive():
    code = textwrap.dedent(
        f"""
        import sys, threading
        sys.path.insert(0, {str(REPO)!r})
        from keyring.backend import KeyringBackend
        from keyring.compat import properties
        from cockpit.secrets import Secrets, SecretsUnavailable

        class Forever(KeyringBackend):
            @properties.classproperty
            def priority(cls):
                raise RuntimeError("test")
            def get_password(self, service, username):
                threading.Event().wait()
            set_password = delete_password = get_password

        try:
            Secrets(Forever(), env={{}}, timeout=0.2).get("slack")
        except SecretsUnavailable as e:
            print("unavailable:", e.reason)
        """
    )
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert "unavailable: the keyring did not answer within 0.2 s" in out.stdout
    assert time.monotonic() - t0 < 15


def test_no_keyring_error_from_a_backend():
    s = Secrets(RaisingBackend(NoKeyringError("No recommended backend")), env={})
    with pytest.raises(SecretsUnavailable) as info:
        s.get("slack")
    assert "no keyring backend is available" in info.value.reason
    _ways_out(str(info.value))


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_fail_and_null_backends_count_as_none(backend: KeyringBackend):
    s = Secrets(backend, env={})
    with pytest.raises(SecretsUnavailable, match="no keyring backend is available"):
        s.set("slack", SLACK)
    assert s.probe().ok is False


def test_keyring_locked():
    s = Secrets(RaisingBackend(KeyringLocked("Failed to unlock the collection!")), env={})
    with pytest.raises(SecretsUnavailable) as info:
        s.set("jira", JIRA)
    msg = str(info.value)
    assert "locked" in msg and "unlock it" in msg
    _ways_out(msg)
    assert JIRA not in msg


def test_init_error_without_a_collection():
    exc = InitError("Failed to create the collection: Prompt dismissed..")
    with pytest.raises(SecretsUnavailable, match=r"could not be opened .*Prompt dismissed"):
        Secrets(RaisingBackend(exc), env={}).get("slack")


def test_dbus_errors():
    from secretstorage.exceptions import SecretServiceNotAvailableException

    exc = SecretServiceNotAvailableException("Environment variable DBUS_SESSION_BUS_ADDRESS unset")
    with pytest.raises(SecretsUnavailable, match=r"D-Bus .*DBUS_SESSION_BUS_ADDRESS") as info:
        Secrets(RaisingBackend(exc), env={}).get("slack")
    _ways_out(str(info.value))

    class DBusErrorResponse(Exception):
        pass

    DBusErrorResponse.__module__ = "jeepney.wrappers"
    with pytest.raises(SecretsUnavailable, match="could not be reached over D-Bus"):
        Secrets(RaisingBackend(DBusErrorResponse("org.freedesktop.DBus.Error")), env={}).get("jira")


def test_an_error_text_holding_the_token_is_redacted(backend: MemoryBackend):
    s = Secrets(RaisingBackend(RuntimeError(f"boom {SLACK}")), env={})
    s.remember("slack", SLACK)
    s.forget("slack")
    with pytest.raises(SecretsUnavailable) as info:
        s.set("slack", SLACK)
    assert SLACK not in str(info.value) and "boom" in str(info.value)


def _plaintext_backend() -> KeyringBackend:
    cls = type("PlaintextKeyring", (MemoryBackend,), {"__module__": "keyrings.alt.file"})
    return cls()


def test_plaintext_backends_are_refused():
    backend = _plaintext_backend()
    s = Secrets(backend, env={})
    with pytest.raises(SecretsUnavailable, match=r"insecure backend.*refuses") as info:
        s.set("slack", SLACK)
    _ways_out(str(info.value))
    assert backend.store == {}  # type: ignore[attr-defined]
    probe = s.probe()
    assert probe.ok is False and "PlaintextKeyring" in probe.detail


@pytest.fixture
def default_keyring():
    import keyring
    import keyring.core

    before = keyring.core._keyring_backend
    yield keyring
    keyring.core._keyring_backend = before


def test_default_backend_is_keyrings_choice(default_keyring, backend: MemoryBackend):
    default_keyring.set_keyring(backend)
    s = Secrets(env={})
    s.set("slack", SLACK)
    assert backend.store == {(SERVICE, "slack"): SLACK}
    assert s.probe().ok is True


def test_default_plaintext_backend_is_refused(default_keyring):
    default_keyring.set_keyring(_plaintext_backend())
    with pytest.raises(SecretsUnavailable, match="insecure"):
        Secrets(env={}).get("slack")


def test_a_chain_uses_its_secure_backend_only(
    default_keyring, backend: MemoryBackend, monkeypatch: pytest.MonkeyPatch
):
    plain = _plaintext_backend()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [plain, backend])
    default_keyring.set_keyring(chainer.ChainerBackend())
    Secrets(env={}).set("jira", JIRA)
    assert backend.store == {(SERVICE, "jira"): JIRA}
    assert plain.store == {}  # type: ignore[attr-defined]
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [plain])
    with pytest.raises(SecretsUnavailable, match="insecure"):
        Secrets(env={}).get("jira")


# -- cockpit auth --------------------------------------------------------------------------
class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="cockpit")
    sub = p.add_subparsers()
    add_auth_parser(sub)
    return p.parse_args(list(argv))


def _auth(secrets: Secrets, *argv: str, stdin: io.StringIO | None = None, **kw):
    out, err = io.StringIO(), io.StringIO()
    rc = cmd_auth(_parse(*argv), None, secrets, stdin or io.StringIO(""), out, err, **kw)
    return rc, out.getvalue(), err.getvalue()


def test_auth_parser():
    assert _parse("auth", "set", "slack").auth_action == "set"
    assert _parse("auth", "delete", "statuspage").name == "statuspage"
    assert _parse("auth", "list").auth_action == "list"
    with pytest.raises(SystemExit):
        _parse("auth", "set", "github")
    with pytest.raises(SystemExit):
        _parse("auth")


def test_auth_set_from_stdin(secrets: Secrets, backend: MemoryBackend):
    rc, out, err = _auth(
        secrets, "auth", "set", "slack", stdin=io.StringIO(f"  {SLACK}  \nsecond line\n")
    )
    assert rc == 0, err
    assert backend.store[(SERVICE, "slack")] == SLACK
    assert "xoxb…9f" in out and SLACK not in out + err


def test_auth_set_prompts_without_echo_on_a_tty(secrets: Secrets, backend: MemoryBackend):
    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return JIRA + "\n"

    rc, out, _ = _auth(secrets, "auth", "set", "jira", stdin=Tty(""), getpass_fn=fake_getpass)
    assert rc == 0
    assert prompts == ["Jira token (not shown): "]
    assert backend.store[(SERVICE, "jira")] == JIRA and JIRA not in out


def test_auth_set_refuses_empty(secrets: Secrets, backend: MemoryBackend):
    rc, _, err = _auth(secrets, "auth", "set", "slack", stdin=io.StringIO("   \n"))
    assert rc == 2 and "empty" in err and backend.store == {}
    rc, _, err = _auth(secrets, "auth", "set", "slack", stdin=io.StringIO(""))
    assert rc == 2 and backend.store == {}


def test_auth_list_and_delete(backend: MemoryBackend):
    s = Secrets(backend, env={ENV_VARS["statuspage"]: PAGE})
    s.set("slack", SLACK)
    rc, out, _ = _auth(s, "auth", "list")
    assert rc == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert "set" in lines["slack"] and "xoxb…9f" in lines["slack"] and "keyring" in lines["slack"]
    assert "not set" in lines["jira"] and "cockpit auth set jira" in lines["jira"]
    assert "COCKPIT_STATUSPAGE_TOKEN" in lines["statuspage"]
    assert SLACK not in out and PAGE not in out

    rc, out, _ = _auth(s, "auth", "delete", "slack")
    assert rc == 0 and "Deleted" in out and backend.store == {}
    rc, out, _ = _auth(s, "auth", "delete", "slack")
    assert rc == 0 and "nothing to delete" in out
    rc, out, _ = _auth(s, "auth", "delete", "statuspage")
    assert "COCKPIT_STATUSPAGE_TOKEN is still set" in out


def test_auth_without_a_keyring_says_what_to_do():
    s = Secrets(fail.Keyring(), env={})
    rc, out, err = _auth(s, "auth", "set", "slack", stdin=io.StringIO(SLACK + "\n"))
    assert rc == 1 and SLACK not in out + err
    _ways_out(err)
    rc, out, err = _auth(s, "auth", "list")
    assert rc == 1 and "unknown" in out
    _ways_out(err)


def test_the_slack_app_level_token(backend: MemoryBackend):
    """Socket Mode's app-level token: a name of its own, in the keyring or the environment,
    set with `cockpit auth set slack-app`, and part of Slack's configuration."""
    app = "xapp-1-A0COCKPIT1-4242-0123456789abcdef"
    s = Secrets(backend, env={"COCKPIT_SLACK_APP_TOKEN": app})
    assert s.get("slack-app") == app and s.status()["slack-app"].source == "env"
    rc, out, _ = _auth(s, "auth", "set", "slack-app", stdin=io.StringIO(app + "\n"))
    assert rc == 0 and backend.store[(SERVICE, "slack-app")] == app and app not in out
    assert "start with xapp-" not in out
    rc, out, _ = _auth(s, "auth", "set", "slack-app", stdin=io.StringIO(SLACK + "\n"))
    assert rc == 0 and "start with xapp-" in out  # a bot token pasted by mistake: said
    rc, out, _ = _auth(s, "auth", "list")
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert "set" in lines["slack-app"] and "keyring" in lines["slack-app"]
    assert app not in out and SLACK not in out

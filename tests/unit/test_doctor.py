"""`cockpit doctor` with fake transports, and a sweep for leaked tokens after doctor, auth
and logging have run."""

from __future__ import annotations

import argparse
import base64
import io
import json
import logging
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from keyring.backends import fail

from cockpit.config import Paths, Settings, load_settings
from cockpit.doctor import (
    Check,
    add_doctor_parser,
    check_clipboard,
    check_dir,
    cmd_doctor,
    render,
    run_doctor,
)
from cockpit.logs import close_logging, setup_logging
from cockpit.secrets import ENV_VARS, SERVICE, Secrets, cmd_auth
from tests.unit.test_secrets import BlockingBackend, MemoryBackend

SLACK = "xoxb-4242-1717-q8w7e6r5t4y3"
JIRA = "ATATT3xFfGF0Zz9Yy8Xx7Ww6Vv5Uu"
PAGE = "d1e2a3d4-b5e6-4e7f-8a9b-c0d1e2f3a4b5"
EMAIL = "oncall@example.com"
ENV = {"COCKPIT_TIMEZONE": "UTC"}

CONFIG = """
[slack]
api_url = "https://slack.test/api"

[jira]
url = "https://acme.jira.test"
email = "oncall@example.com"

[statuspage]
api_url = "https://statuspage.test/v1"
page_id = "pg1"
"""

Handler = Callable[[httpx.Request], httpx.Response]


# -- fakes ------------------------------------------------------------------------------------
def slack_handler(token: str, *, echo: bool = False) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/auth.test"
        if request.headers.get("authorization") != f"Bearer {token}":
            # a hostile or careless server that repeats the credential back
            sent = request.headers.get("authorization", "") if echo else ""
            return httpx.Response(200, json={"ok": False, "error": "invalid_auth", "got": sent})
        return httpx.Response(
            200,
            json={
                "ok": True,
                "url": "https://acme.slack.com/",
                "team": "Acme",
                "user": "cockpit-bot",
                "team_id": "T01",
                "user_id": "U01",
            },
        )

    return handle


def jira_handler(token: str, *, echo: bool = False) -> Handler:
    expected = "Basic " + base64.b64encode(f"{EMAIL}:{token}".encode()).decode()

    def handle(request: httpx.Request) -> httpx.Response:
        sent = request.headers.get("authorization", "")
        if sent != expected:
            message = f"Client must be authenticated ({sent})" if echo else "Unauthorized"
            return httpx.Response(401, json={"errorMessages": [message], "errors": {}})
        path = request.url.path
        if path == "/rest/api/3/myself":
            return httpx.Response(
                200, json={"accountId": "5b10a2844c20165700ede21g", "displayName": "Ada Lovelace"}
            )
        page = {"startAt": 0, "maxResults": 50}
        if path.endswith("/issuetypes"):  # createmeta: the project's issue types
            types = [{"id": "10002", "name": "Task"}, {"id": "10004", "name": "Bug"}]
            return httpx.Response(200, json={**page, "total": 2, "issueTypes": types})
        if "/issuetypes/" in path:  # createmeta: a type's create screen
            fields = [
                {
                    "fieldId": f,
                    "key": f,
                    "name": f.capitalize(),
                    "required": f != "priority",
                    "hasDefaultValue": f == "priority",
                    "operations": ["set"],
                    "schema": {"type": f},
                    **(
                        {
                            "allowedValues": [
                                {"name": n} for n in ("Highest", "High", "Medium", "Low")
                            ]
                        }
                        if f == "priority"
                        else {}
                    ),
                }
                for f in ("summary", "issuetype", "project", "priority")
            ]
            return httpx.Response(200, json={**page, "total": len(fields), "fields": fields})
        assert path == "/rest/api/3/issueLinkType", path
        relates = {
            "id": "10003",
            "name": "Relates",
            "inward": "relates to",
            "outward": "relates to",
        }
        return httpx.Response(200, json={"issueLinkTypes": [relates]})

    return handle


def statuspage_handler(token: str, *, echo: bool = False) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/pages/pg1"
        sent = request.headers.get("authorization", "")
        if sent != f"OAuth {token}":
            detail = f"Could not authenticate with {sent}" if echo else "Could not authenticate"
            return httpx.Response(401, json={"error": detail})
        return httpx.Response(200, json={"id": "pg1", "name": "Acme Status"})

    return handle


def transports(
    slack: str = SLACK, jira: str = JIRA, page: str = PAGE, *, echo: bool = False
) -> dict[str, httpx.AsyncBaseTransport]:
    return {
        "slack": httpx.MockTransport(slack_handler(slack, echo=echo)),
        "jira": httpx.MockTransport(jira_handler(jira, echo=echo)),
        "statuspage": httpx.MockTransport(statuspage_handler(page, echo=echo)),
    }


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    data.chmod(0o700)
    return Paths(tmp_path / "config.toml", data, tmp_path / "logs")


@pytest.fixture
def settings(paths: Paths) -> Settings:
    paths.config_file.write_text(CONFIG)
    return load_settings(paths.config_file, ENV)


@pytest.fixture
def backend() -> MemoryBackend:
    b = MemoryBackend()
    b.store.update(
        {(SERVICE, "slack"): SLACK, (SERVICE, "jira"): JIRA, (SERVICE, "statuspage"): PAGE}
    )
    return b


@pytest.fixture
def secrets(backend: MemoryBackend) -> Secrets:
    return Secrets(backend, env={}, timeout=2.0)


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


NO_DISPLAY = {"PATH": os.defpath}


# -- the checks -------------------------------------------------------------------------------
async def test_everything_ok(settings: Settings, paths: Paths, secrets: Secrets):
    checks = await run_doctor(settings, paths, secrets, transports=transports(), env=NO_DISPLAY)
    c = by_name(checks)
    assert [x.name for x in checks] == [
        "config file",
        "data dir",
        "log dir",
        "UI state",
        "keyring",
        "clipboard",
        "Slack",
        "Slack socket mode",
        "Jira",
        "Jira fields",
        "Statuspage",
    ]
    assert c["config file"].ok and "parsed OK" in c["config file"].detail
    assert c["data dir"].ok and "0700" in c["data dir"].detail
    assert c["log dir"].ok and "not created yet" in c["log dir"].detail
    assert c["keyring"].ok and "MemoryBackend" in c["keyring"].detail
    assert c["Slack"] == Check("Slack", True, "signed in as cockpit-bot on Acme")
    # no app-level token: not a failure, but how slow the feed can be is said
    socket = c["Slack socket mode"]
    assert socket.ok is None and socket.detail.startswith("no app-level token: polling only")
    assert "up to 10 s" in socket.detail and "cockpit auth set slack-app" in socket.hint
    assert c["Jira"] == Check("Jira", True, "signed in as Ada Lovelace")
    assert c["Jira fields"].ok is True and "required: Summary" in c["Jira fields"].detail
    assert c["Statuspage"] == Check("Statuspage", True, "page Acme Status")
    text = render(checks)
    assert text.endswith("All checks passed.\n")
    assert "ok    Slack" in text


async def test_refused_tokens(settings: Settings, paths: Paths, secrets: Secrets):
    wrong = transports("xoxb-other", "other", "other")
    c = by_name(await run_doctor(settings, paths, secrets, transports=wrong, env=NO_DISPLAY))
    assert c["Slack"].ok is False
    assert "Slack refused the token" in c["Slack"].detail and "invalid_auth" in c["Slack"].detail
    assert "`cockpit auth set slack`" in c["Slack"].hint
    assert c["Jira"].ok is False and "email or API token was refused" in c["Jira"].detail
    assert "API token" in c["Jira"].hint and "`cockpit auth set jira`" in c["Jira"].hint
    assert c["Jira fields"].ok is None  # said once, by the sign-in check
    assert c["Statuspage"].ok is False and "API key was refused" in c["Statuspage"].detail
    text = render(list(c.values()))
    assert "FAIL  Slack" in text and "3 checks failed." in text


async def test_server_errors_and_unreachable(settings: Settings, paths: Paths, secrets: Secrets):
    def html_502(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, html="<html><body>Bad Gateway</body></html>")

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    t = transports()
    t["slack"] = httpx.MockTransport(html_502)
    t["jira"] = httpx.MockTransport(refuse)
    c = by_name(await run_doctor(settings, paths, secrets, transports=t, env=NO_DISPLAY))
    assert c["Slack"].ok is False and "HTML page" in c["Slack"].detail
    assert c["Jira"].ok is False and "could not connect" in c["Jira"].detail
    assert c["Statuspage"].ok is True


async def test_not_configured_and_missing_tokens(paths: Paths):
    paths.config_file.write_text('[slack]\napi_url = "https://slack.test/api"\n')
    settings = load_settings(paths.config_file, ENV)
    secrets = Secrets(MemoryBackend(), env={})
    c = by_name(await run_doctor(settings, paths, secrets, transports=transports()))
    assert c["Slack"].ok is False and "no token" in c["Slack"].detail
    assert "cockpit auth set slack" in c["Slack"].hint and ENV_VARS["slack"] in c["Slack"].hint
    assert c["Jira"] == Check(
        "Jira", None, "not configured", f"add a [jira] section to {paths.config_file}"
    )
    assert c["Statuspage"].ok is None


async def test_jira_without_email(paths: Paths, secrets: Secrets):
    paths.config_file.write_text('[jira]\nurl = "https://acme.jira.test"\n')
    settings = load_settings(paths.config_file, ENV)
    c = by_name(await run_doctor(settings, paths, secrets, transports=transports()))
    assert c["Jira"].ok is False and "email" in c["Jira"].hint


async def test_defaults_without_a_config_file(paths: Paths, secrets: Secrets):
    settings = load_settings(paths.config_file, ENV)
    checks = await run_doctor(settings, paths, secrets)
    c = by_name(checks)
    assert c["config file"].ok is True and "defaults in use" in c["config file"].detail
    assert {c[n].detail for n in ("Slack", "Jira", "Statuspage")} == {"not configured"}
    assert "All checks passed." in render(checks)


async def test_offline_skips_the_remote_calls(settings: Settings, paths: Paths, secrets: Secrets):
    def explode(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no call expected")

    t = {n: httpx.MockTransport(explode) for n in ("slack", "jira", "statuspage")}
    c = by_name(await run_doctor(settings, paths, secrets, transports=t, offline=True))
    assert c["Slack"].ok is None and "not checked" in c["Slack"].detail


async def test_no_keyring(settings: Settings, paths: Paths):
    secrets = Secrets(fail.Keyring(), env={})
    c = by_name(await run_doctor(settings, paths, secrets, transports=transports()))
    assert c["keyring"].ok is False and "no keyring backend" in c["keyring"].detail
    assert "gnome-keyring" in c["keyring"].hint and "COCKPIT_SLACK_TOKEN" in c["keyring"].hint
    assert c["Slack"].ok is False and "no token" in c["Slack"].detail


async def test_no_keyring_but_every_token_in_the_environment(settings: Settings, paths: Paths):
    env = {ENV_VARS["slack"]: SLACK, ENV_VARS["jira"]: JIRA, ENV_VARS["statuspage"]: PAGE}
    secrets = Secrets(fail.Keyring(), env=env)
    checks = await run_doctor(settings, paths, secrets, transports=transports())
    c = by_name(checks)
    assert c["keyring"].ok is None and "from the environment" in c["keyring"].detail
    assert all(c[n].ok for n in ("Slack", "Jira", "Statuspage"))
    assert "All checks passed." in render(checks)


async def test_a_blocked_keyring_is_reported_within_the_timeout(settings: Settings, paths: Paths):
    backend = BlockingBackend()
    secrets = Secrets(backend, env={}, timeout=0.3)
    try:
        c = by_name(await run_doctor(settings, paths, secrets, transports=transports()))
    finally:
        backend.release.set()
    assert c["keyring"].ok is False and "did not answer within 0.3 s" in c["keyring"].detail
    assert c["Slack"].ok is False and "still waiting" in c["Slack"].detail


def test_data_dir_checks(tmp_path: Path):
    d = tmp_path / "d"
    d.mkdir()
    d.chmod(0o755)
    c = check_dir("data dir", d)
    assert c.ok is False and "0755" in c.detail and c.hint == f"chmod 700 {d}"
    d.chmod(0o700)
    assert check_dir("data dir", d).ok is True
    f = tmp_path / "file"
    f.write_text("")
    assert check_dir("data dir", f).ok is False
    if os.geteuid() != 0:  # root may write anywhere
        d.chmod(0o500)
        try:
            assert check_dir("data dir", d).ok is False
        finally:
            d.chmod(0o700)


def test_clipboard_check(tmp_path: Path):
    c = check_clipboard({"PATH": str(tmp_path)})
    assert c.ok is True and "OSC 52" in c.detail and "DISPLAY" in c.hint
    c = check_clipboard({"PATH": str(tmp_path), "DISPLAY": ":9"})
    assert "apt install xclip" in c.hint
    tool = tmp_path / "xclip"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    c = check_clipboard({"PATH": str(tmp_path), "DISPLAY": ":9"})
    assert c.detail.endswith("local: xclip") and not c.hint


def test_render_is_plain():
    text = render(
        [
            Check("config file", True, "/x/config.toml (parsed OK)"),
            Check("Slack", False, "the token was refused (invalid_auth)", "check the token"),
            Check("Jira", None, "not configured"),
        ]
    )
    assert text.splitlines() == [
        "ok    config file  /x/config.toml (parsed OK)",
        "FAIL  Slack        the token was refused (invalid_auth)",
        "                   → check the token",
        "--    Jira         not configured",
        "",
        "1 check failed.",
    ]


def _doctor_args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_doctor_parser(p.add_subparsers())
    return p.parse_args(["doctor", *argv])


def test_cmd_doctor_exit_status(settings: Settings, paths: Paths, secrets: Secrets):
    out = io.StringIO()
    assert cmd_doctor(_doctor_args(), settings, paths, secrets, out, transports=transports()) == 0
    assert "All checks passed." in out.getvalue()
    out = io.StringIO()
    bad = transports("nope")
    assert cmd_doctor(_doctor_args(), settings, paths, secrets, out, transports=bad) == 1
    assert "FAIL  Slack" in out.getvalue()
    assert _doctor_args("--offline").offline is True


def test_cmd_doctor_reports_a_bad_config(paths: Paths, secrets: Secrets):
    paths.config_file.write_text("[slak]\n")
    out = io.StringIO()

    def load() -> Settings:
        return load_settings(paths.config_file, ENV)

    assert cmd_doctor(_doctor_args(), load, paths, secrets, out) == 1
    text = out.getvalue()
    assert "FAIL  config file" in text and "slak" in text
    assert "not checked: the config file could not be read" in text


# -- no token anywhere ----------------------------------------------------------------------
@pytest.fixture
def logging_to(paths: Paths) -> Iterator[Callable[[Secrets], Path]]:
    def start(secrets: Secrets) -> Path:
        return setup_logging(paths.log_dir, secrets_values=secrets.known_values)

    yield start
    close_logging()


def test_no_token_reaches_the_data_dir_or_the_logs(
    settings: Settings, paths: Paths, logging_to: Callable[[Secrets], Path]
):
    backend = MemoryBackend()
    secrets = Secrets(backend, env={}, timeout=2.0)
    log_file = logging_to(secrets)
    log = logging.getLogger("cockpit.test")
    printed = io.StringIO()

    # auth set for each system, from stdin as a script would; then list
    for name, token in (("slack", SLACK), ("jira", JIRA), ("statuspage", PAGE)):
        err = io.StringIO()
        args = argparse.Namespace(auth_action="set", name=name)
        rc = cmd_auth(args, settings, secrets, io.StringIO(token + "\n"), printed, err)
        assert rc == 0, err.getvalue()
        printed.write(err.getvalue())
    assert (
        cmd_auth(
            argparse.Namespace(auth_action="list"),
            settings,
            secrets,
            io.StringIO(),
            printed,
            printed,
        )
        == 0
    )
    assert backend.store[(SERVICE, "jira")] == JIRA  # the tokens really were stored

    # doctor, once against servers that accept the tokens, once against servers that
    # refuse them and echo the credentials they were sent back in their errors
    assert (
        cmd_doctor(_doctor_args(), settings, paths, secrets, printed, transports=transports()) == 0
    )
    bad = transports("x", "y", "z", echo=True)
    assert cmd_doctor(_doctor_args(), settings, paths, secrets, printed, transports=bad) == 1

    # and the app logging the careless things apps log
    basic = base64.b64encode(f"{EMAIL}:{JIRA}".encode()).decode()
    log.info("slack token is %s", SLACK)
    log.warning("request headers: %s", {"Authorization": f"OAuth {PAGE}"})
    try:
        raise RuntimeError(f"jira said no to Basic {basic} / {JIRA}")
    except RuntimeError:
        log.exception("jira call failed")
    (paths.data_dir / "store.json").write_text(json.dumps({"incidents": [], "note": "ok"}))
    logging.getLogger().handlers[-1].flush()

    tokens = [SLACK, JIRA, PAGE, basic]
    text = printed.getvalue()
    assert "signed in as cockpit-bot" in text and "FAIL  Slack" in text  # it really ran
    for token in tokens:
        assert token not in text
    files = [p for d in (paths.data_dir, paths.log_dir) for p in d.rglob("*") if p.is_file()]
    assert log_file in files and log_file.stat().st_size > 0
    for path in files:
        raw = path.read_bytes()
        for token in tokens:
            assert token.encode() not in raw, f"{token[:4]}… found in {path}"
    log_text = log_file.read_text()
    assert "slack token is [redacted]" in log_text and "jira call failed" in log_text
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600


# -- Slack's Socket Mode ----------------------------------------------------------------------
APP = "xapp-1-A0COCKPIT1-4242-SECRETAPPLEVEL"


def socket_transport(token: str = APP) -> httpx.AsyncBaseTransport:
    """apps.connections.open as Slack answers it, every exchange checked against the spec."""
    from tests.spec_check import checked_transport

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/apps.connections.open"
        if request.headers.get("authorization") != f"Bearer {token}":
            return httpx.Response(200, json={"ok": False, "error": "invalid_auth"})
        url = "wss://wss-primary.slack.test/link/?ticket=abc&app_id=A0COCKPIT1"
        return httpx.Response(200, json={"ok": True, "url": url})

    return checked_transport("slack", handle)


async def test_socket_mode_with_an_app_token(
    settings: Settings, paths: Paths, backend: MemoryBackend, secrets: Secrets
):
    backend.store[(SERVICE, "slack-app")] = APP
    t = {**transports(), "slack-app": socket_transport()}
    checks = await run_doctor(settings, paths, secrets, transports=t, env=NO_DISPLAY)
    c = by_name(checks)
    assert c["Slack socket mode"] == Check(
        "Slack socket mode",
        True,
        "apps.connections.open OK: new messages arrive as they are posted",
    )
    assert "All checks passed." in render(checks)
    # a refused app-level token fails, and says what that means for the feed
    t["slack-app"] = socket_transport("xapp-another")
    c = by_name(await run_doctor(settings, paths, secrets, transports=t, env=NO_DISPLAY))
    bad = c["Slack socket mode"]
    assert bad.ok is False and "invalid_auth" in bad.detail and "polling only" in bad.detail
    assert APP not in render(list(c.values()))
    # offline: not called
    c = by_name(await run_doctor(settings, paths, secrets, offline=True, env=NO_DISPLAY))
    assert c["Slack socket mode"].ok is None and "not checked" in c["Slack socket mode"].detail


async def test_socket_mode_from_the_environment_and_from_the_config(paths: Paths):
    secrets = Secrets(MemoryBackend(), env={ENV_VARS["slack"]: SLACK, ENV_VARS["slack-app"]: APP})
    t = {**transports(), "slack-app": socket_transport()}
    paths.config_file.write_text(
        '[slack]\napi_url = "https://slack.test/api"\nsocket_mode = false\n'
    )
    settings = load_settings(paths.config_file, ENV)
    c = by_name(await run_doctor(settings, paths, secrets, transports=t, env=NO_DISPLAY))
    assert c["Slack socket mode"].ok is None
    assert c["Slack socket mode"].detail.startswith("off in the config (socket_mode = false)")
    paths.config_file.write_text(
        '[slack]\napi_url = "https://slack.test/api"\nsocket_mode = true\n'
    )
    settings = load_settings(paths.config_file, ENV)
    c = by_name(await run_doctor(settings, paths, secrets, transports=t, env=NO_DISPLAY))
    assert c["Slack socket mode"].ok is True
    # asked for in the config, but no app-level token: that is a failure
    without = Secrets(MemoryBackend(), env={ENV_VARS["slack"]: SLACK})
    c = by_name(await run_doctor(settings, paths, without, transports=t, env=NO_DISPLAY))
    assert (
        c["Slack socket mode"].ok is False
        and "COCKPIT_SLACK_APP_TOKEN" in c["Slack socket mode"].hint
    )


async def test_no_socket_mode_check_without_slack(paths: Paths, secrets: Secrets):
    paths.config_file.write_text('[jira]\nurl = "https://acme.jira.test"\nemail = "a@b.c"\n')
    settings = load_settings(paths.config_file, ENV)
    c = by_name(await run_doctor(settings, paths, secrets, transports=transports()))
    assert "Slack socket mode" not in c and c["Slack"].detail == "not configured"


# -- scopes and refusals, on the drill range in process ----------------------------------------
def drill(server: object) -> tuple[Settings, dict[str, httpx.AsyncBaseTransport]]:
    from cockpit.sandbox.server import SandboxServer

    assert isinstance(server, SandboxServer)
    transport = server.transport()
    return load_settings_text(server.config_snippet()), {
        "slack": transport,
        "jira": transport,
        "statuspage": transport,
    }


def load_settings_text(text: str) -> Settings:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "config.toml"
        path.write_text(text)
        return load_settings(path, ENV)


async def test_doctor_names_a_missing_scope(paths: Paths, secrets: Secrets, backend: MemoryBackend):
    from cockpit.sandbox.server import SandboxServer

    server = SandboxServer(scenario=None, tokens=[SLACK, PAGE])  # the tokens doctor is given
    settings, t = drill(server)
    c = by_name(await run_doctor(settings, paths, secrets, transports=t, env=NO_DISPLAY))
    assert c["Slack"].ok is True and "every scope cockpit needs" in c["Slack"].detail
    assert c["Jira"].ok is True and c["Statuspage"].ok is True

    backend.store[(SERVICE, "slack")] = "xoxb-noscope-channels:manage,channels:join"
    c = by_name(await run_doctor(settings, paths, secrets, transports=t, env=NO_DISPLAY))
    slack = c["Slack"]
    assert slack.ok is False
    assert "the token lacks the scopes channels:manage, channels:join" in slack.detail
    assert "chat:write" in slack.detail  # what it has
    assert "reinstall it, then `cockpit auth set slack`" in slack.hint
    assert "1 check failed." in render(list(c.values()))

    backend.store[(SERVICE, "slack")] = "xoxb-revoked-5"
    c = by_name(await run_doctor(settings, paths, secrets, transports=t, env=NO_DISPLAY))
    assert c["Slack"].ok is False and "revoked (token_revoked)" in c["Slack"].detail
    assert c["Slack"].hint.endswith("`cockpit auth set slack`")


async def test_doctor_names_a_refused_jira_token_with_the_fix(paths: Paths, secrets: Secrets):
    from cockpit.sandbox.server import SandboxServer

    server = SandboxServer(scenario=None, tokens=[SLACK, PAGE])  # the tokens doctor is given
    settings, t = drill(server)
    server.state.refuse_token(JIRA)
    server.state.refuse_token(PAGE)
    c = by_name(await run_doctor(settings, paths, secrets, transports=t, env=NO_DISPLAY))
    assert c["Jira"].ok is False
    assert c["Jira"].detail.startswith("the email or API token was refused")
    assert c["Jira"].hint.endswith("then `cockpit auth set jira`")
    assert c["Statuspage"].ok is False
    assert c["Statuspage"].hint.endswith("then `cockpit auth set statuspage`")
    text = render(list(c.values()))
    assert JIRA not in text and PAGE not in text


async def test_doctor_names_every_required_field_without_a_value(paths: Paths, secrets: Secrets):
    """The drill range's INCIDENT project requires Priority and a custom Severity field:
    with the drill range's own config doctor passes; without the severity field (and
    with a priority map that leaves a severity out) it names each field and the fix."""
    from cockpit.sandbox.server import SandboxServer

    server = SandboxServer(scenario=None, tokens=[SLACK, PAGE])
    settings, t = drill(server)
    c = by_name(await run_doctor(settings, paths, secrets, transports=t, env=NO_DISPLAY))
    assert c["Jira fields"].ok is True, c["Jira fields"]
    assert "required: Summary, Issue Type, Project, Priority, Severity" in c["Jira fields"].detail

    bare = server.config_snippet().replace(
        server.config_snippet().split("\n")[7], 'severity = { priority = { critical = "Highest" } }'
    )
    assert "customfield_10042" not in bare
    c = by_name(
        await run_doctor(load_settings_text(bare), paths, secrets, transports=t, env=NO_DISPLAY)
    )
    fields = c["Jira fields"]
    assert fields.ok is False
    assert "INCIDENT (Task) requires Priority (priority), Severity (customfield_10042)" in (
        fields.detail
    )
    assert "no value before a severity is set" in fields.detail
    assert "[jira.severity]" in fields.hint
    assert "1 check failed." in render(list(c.values()))


async def test_doctor_on_the_drill_range_names_the_narrow_tokens_scope_and_the_severity(
    paths: Paths, secrets: Secrets, backend: MemoryBackend
):
    """The drill range's own narrow bot token (it lacks channels:manage) and a config
    without the Severity field INCIDENT requires: one doctor run names both, with the
    fixes, and nothing else fails."""
    from cockpit.sandbox.server import SandboxServer
    from cockpit.sandbox.tokens import NARROW_BOT_TOKEN

    server = SandboxServer(scenario=None, tokens=[PAGE])
    _, t = drill(server)
    snippet = server.config_snippet()
    severity_line = next(line for line in snippet.splitlines() if line.startswith("severity ="))
    settings = load_settings_text(snippet.replace(severity_line, ""))
    backend.store[(SERVICE, "slack")] = NARROW_BOT_TOKEN
    c = by_name(await run_doctor(settings, paths, secrets, transports=t, env=NO_DISPLAY))
    slack = c["Slack"]
    assert slack.ok is False
    assert "the token lacks the scope channels:manage (it has " in slack.detail
    assert "cockpit auth set slack" in slack.hint
    fields = c["Jira fields"]
    assert fields.ok is False
    assert "Severity (customfield_10042)" in fields.detail
    assert "[jira.severity]" in fields.hint
    assert c["Jira"].ok is True and c["Statuspage"].ok is True
    assert "2 checks failed." in render(list(c.values()))
    assert NARROW_BOT_TOKEN not in render(list(c.values()))


def test_doctor_checks_the_saved_ui_state(tmp_path: Path):
    """A saved theme the app cannot use is named (the app ignores and repairs it); an
    unreadable state file too; a good one passes."""
    from cockpit.doctor import check_ui_state

    path = tmp_path / "ui-state.json"
    assert check_ui_state(path, None).ok is True
    path.write_text('{"theme": "cockpit-dark", "theme-config": ""}')
    assert check_ui_state(path, None).ok is True
    path.write_text('{"theme": "no-such-theme", "theme-config": ""}')
    bad = check_ui_state(path, None)
    assert bad.ok is None and "no-such-theme" in bad.detail and "repairs" in bad.hint
    path.write_text('{"theme": "nord", "theme-config": ""}')  # a Textual theme works
    assert check_ui_state(path, None).ok is True
    path.write_text("{not json")
    broken = check_ui_state(path, None)
    assert broken.ok is None and "not valid JSON" in broken.detail and "rm" in broken.hint

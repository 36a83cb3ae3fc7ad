from datetime import date, timedelta
from pathlib import Path

import pytest

from cockpit.config import ConfigError, Paths, load_settings, parse_duration
from cockpit.domain.incident import Severity

ENV = {"USER": "ada", "TZ": "Europe/London"}


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text)
    return p


def test_missing_file_means_defaults(tmp_path: Path):
    s = load_settings(tmp_path / "nope.toml", ENV)
    assert s.user == "ada"
    assert s.support.timezone == "Europe/London"
    assert s.support.work_days == ("mon", "tue", "wed", "thu", "fri")
    assert s.severities[Severity.CRITICAL].update_every == timedelta(minutes=30)
    assert s.severities[Severity.MINOR].update_every is None
    assert s.configured == frozenset()
    assert s.source is None


def test_full_file(tmp_path: Path):
    p = write(
        tmp_path,
        """
[user]
name = "Grace"
[support]
timezone = "America/New_York"
work_days = ["Monday", "tue", "wed", "thu"]
holidays = ["2026-12-25"]
[severity.critical]
description = "Everything is on fire"
update_every = "15m"
[severity.minor]
update_every = "2h"
[lint]
internal_names = ["gravity", "metaphysics"]
max_length = 400
[slack]
api_url = "http://127.0.0.1:8123/api/"
[jira]
url = "https://example.atlassian.net"
project = "OPS"
transitions = { fixing = "In Progress" }
[statuspage]
page_id = "abc123"
""",
    )
    s = load_settings(p, ENV)
    assert s.user == "Grace"
    assert s.support.work_days == ("mon", "tue", "wed", "thu")
    assert s.support.holidays == (date(2026, 12, 25),)
    assert s.severities[Severity.CRITICAL].description == "Everything is on fire"
    assert s.severities[Severity.CRITICAL].update_every == timedelta(minutes=15)
    assert s.severities[Severity.MINOR].update_every == timedelta(hours=2)
    assert s.internal_names == ("gravity", "metaphysics")
    assert s.public_max_length == 400
    assert s.slack is not None and s.slack.api_url == "http://127.0.0.1:8123/api"
    assert s.jira is not None and s.jira.project == "OPS"
    assert s.jira.transition_fixing == "In Progress" and s.jira.transition_resolved == "RESOLVED"
    assert s.configured == frozenset({"slack", "jira", "statuspage"})


@pytest.mark.parametrize(
    "text,key,allowed",
    [
        ('[support]\ntimezone = "Mars/Base"', "support.timezone", "IANA name"),
        ('[support]\nwork_days = ["mon", "funday"]', "support.work_days", "mon, tue"),
        ('[support]\nholidays = ["25/12/2026"]', "support.holidays", "2026-12-25"),
        ('[support]\nfull_hours = "9 to 5"', "support.full_hours", "09:00-17:00"),
        ('[suport]\ntimezone = "UTC"', "suport", "unknown section"),
        ('[support]\ntimzone = "UTC"', "support.timzone", "allowed: full_hours"),
        ('[severity.critical]\nupdate_every = "soon"', "severity.critical.update_every", "30m"),
        ("[severity.critical]\nupdate_every = 30", "severity.critical.update_every", "string"),
        ('[lint]\nmax_length = "long"', "lint.max_length", "whole number"),
        ('[jira]\nurl = "example.atlassian.net"', "jira.url", "http"),
        ('[jira]\nproject = "X"', "jira.url", "required"),
        (
            '[statuspage]\napi_url = "https://api.statuspage.io/v1"',
            "statuspage.page_id",
            "required",
        ),
        ('[keys]\nexplode = "x"', "keys.explode", "allowed"),
        ("user = 3", "user", "table"),
    ],
)
def test_bad_values_name_file_key_and_what_is_allowed(
    tmp_path: Path, text: str, key: str, allowed: str
):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(p, ENV)
    msg = str(err.value)
    assert str(p) in msg
    assert f": {key}:" in msg
    assert allowed in msg
    assert err.value.key == key


def test_toml_syntax_error_names_file_and_line(tmp_path: Path):
    p = write(tmp_path, "[support]\ntimezone = \n")
    with pytest.raises(ConfigError, match=r"config.toml: not valid TOML.*line 2"):
        load_settings(p, ENV)


def test_env_overrides(tmp_path: Path):
    s = load_settings(None, {"COCKPIT_USER": "lin", "COCKPIT_TIMEZONE": "Asia/Tokyo"})
    assert s.user == "lin" and s.support.timezone == "Asia/Tokyo"


def test_paths_from_env(tmp_path: Path):
    p = Paths.resolve(
        {"COCKPIT_CONFIG": str(tmp_path / "c.toml"), "COCKPIT_DATA_DIR": str(tmp_path / "d")}
    )
    assert p.config_file == tmp_path / "c.toml" and p.data_dir == tmp_path / "d"
    default = Paths.resolve({})
    assert default.config_file.name == "config.toml" and "cockpit" in str(default.data_dir)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("30m", timedelta(minutes=30)),
        ("1h30m", timedelta(minutes=90)),
        ("none", None),
        ("", None),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_parse_duration(text: str, expected: timedelta | None):
    assert parse_duration(text) == expected


def test_escalation_directory(tmp_path: Path):
    p = write(
        tmp_path,
        """
[escalation.payments]
name = "Payments"
people = ["U024BE7LH", "U0SBXBENJI1"]
contacts = ["Ana", "Benji"]
links = ["https://wiki.example.com/payments-runbook"]

[escalation.search]
people = []
""",
    )
    s = load_settings(p, ENV)
    pay = s.escalation["payments"]
    assert pay.name == "Payments" and pay.slack_ids == ("U024BE7LH", "U0SBXBENJI1")
    assert pay.contacts == ("Ana", "Benji") and pay.links[0].endswith("payments-runbook")
    assert s.escalation["search"].name == "search"


@pytest.mark.parametrize(
    "text,key",
    [
        ('[escalation.payments]\npeople = ["ana"]', "escalation.payments.people"),
        ('[escalation.payments]\nphone = "555"', "escalation.payments.phone"),
    ],
)
def test_bad_escalation_entries(tmp_path: Path, text: str, key: str):
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text), ENV)
    assert err.value.key == key


def test_slack_socket_mode(tmp_path: Path):
    base = '[slack]\napi_url = "https://slack.com/api"\n'
    s = load_settings(write(tmp_path, base), ENV)
    assert s.slack is not None and s.slack.socket_mode is None  # on with an app token
    for text, wanted in (("true", True), ("false", False)):
        s = load_settings(write(tmp_path, base + f"socket_mode = {text}\n"), ENV)
        assert s.slack is not None and s.slack.socket_mode is wanted
    p = write(tmp_path, base + 'socket_mode = "yes"\n')
    with pytest.raises(ConfigError) as e:
        load_settings(p, ENV)
    assert str(p) in str(e.value) and "slack.socket_mode" in str(e.value)
    assert "true or false" in str(e.value)

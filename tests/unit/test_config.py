from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

from cockpit.config import (
    ConfigError,
    EscalationTarget,
    Paths,
    Settings,
    load_settings,
    parse_duration,
)
from cockpit.domain.incident import Severity
from cockpit.integrations.jira.settings import JiraSettings
from cockpit.integrations.slack.settings import SlackSettings
from cockpit.integrations.statuspage.settings import StatuspageSettings

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


# -- every section, typed and checked ----------------------------------------------------
EVERY_KEY = """
[user]
name = "Grace"
[support]
timezone = "Europe/Paris"
work_days = ["Mon", "TUESDAY", " wed "]
holidays = [2026-12-25, "2026-12-26"]
full_hours = " 08:30-16:30 "
waking_hours = "06:00-20:00"
nonwork_hours = "10:00-14:00"
[severity.minor]
description = "Cosmetic.\\nNo hurry."
update_every = "never"
[severity.major]
update_every = "45m"
[severity.critical]
update_every = "1h30m"
[playbook]
path = "~/oncall/playbook.toml"
[templates]
dir = "~/oncall/templates"
guide_url = "https://wiki.example.com/guide/"
product_channel = "#product"
[lint]
internal_names = ["gravity"]
max_length = 20
[ui]
theme = "cockpit-light"
[keys]
note = "N"
switch-incident = "ctrl+i"
[slack]
api_url = "https://slack.example.com/api/"
incidents_channel = "#incs"
alerts_channel = "#alarms"
channel_prefix = "inc-"
socket_mode = false
[jira]
url = "https://example.atlassian.net/"
email = "grace@example.com"
project = "OPS"
issue_type = "Incident"
follow_up_project = "BUG"
transitions = { fixing = "Fix", monitoring = "Watch", resolved = "Done", canceled = "Drop" }
[statuspage]
api_url = "http://127.0.0.1:9000/v1/"
page_id = "p1"
[escalation.payments]
name = "Payments"
people = ["W012A3CDE"]
contacts = ["Ana"]
links = ["https://wiki.example.com/pay"]
"""


def test_every_key_of_every_section(tmp_path: Path):
    s = load_settings(write(tmp_path, EVERY_KEY), ENV)
    assert s.user == "Grace"
    sup = s.support
    assert sup.timezone == "Europe/Paris" and sup.work_days == ("mon", "tue", "wed")
    assert sup.holidays == (date(2026, 12, 25), date(2026, 12, 26))  # TOML date or string
    assert (sup.full_hours, sup.waking_hours, sup.nonwork_hours) == (
        "08:30-16:30",
        "06:00-20:00",
        "10:00-14:00",
    )
    assert s.severities[Severity.MINOR].description == "Cosmetic.\nNo hurry."
    assert s.severities[Severity.MINOR].update_every is None
    assert s.severities[Severity.MAJOR].update_every == timedelta(minutes=45)
    assert s.severities[Severity.MAJOR].description.startswith("Significant")  # the default
    assert s.severities[Severity.CRITICAL].update_every == timedelta(minutes=90)
    assert s.playbook_path == Path("~/oncall/playbook.toml").expanduser()
    assert s.templates_dir == Path("~/oncall/templates").expanduser()
    assert s.guide_url == "https://wiki.example.com/guide" and s.product_channel == "#product"
    assert s.internal_names == ("gravity",) and s.public_max_length == 20
    assert s.theme == "cockpit-light"
    assert s.keys == {"note": "N", "switch-incident": "ctrl+i"}
    assert s.slack == SlackSettings(
        api_url="https://slack.example.com/api",
        incidents_channel="incs",
        alerts_channel="alarms",
        channel_prefix="inc-",
        socket_mode=False,
    )
    assert s.jira == JiraSettings(
        url="https://example.atlassian.net",
        email="grace@example.com",
        project="OPS",
        issue_type="Incident",
        follow_up_project="BUG",
        transition_fixing="Fix",
        transition_monitoring="Watch",
        transition_resolved="Done",
        transition_canceled="Drop",
    )
    assert s.statuspage == StatuspageSettings(api_url="http://127.0.0.1:9000/v1", page_id="p1")
    assert s.escalation == {
        "payments": EscalationTarget(
            system="payments",
            name="Payments",
            slack_ids=("W012A3CDE",),
            contacts=("Ana",),
            links=("https://wiki.example.com/pay",),
        )
    }
    assert s.source == tmp_path / "config.toml"
    # the UI tests build variants of the settings from their fields
    assert Settings(**msgspec.structs.asdict(s)) == s


def test_defaults_of_a_configured_system(tmp_path: Path):
    s = load_settings(write(tmp_path, '[slack]\n[statuspage]\npage_id = "p"\n'), ENV)
    assert s.slack == SlackSettings() and s.slack.api_url == "https://slack.com/api"
    assert s.statuspage == StatuspageSettings(page_id="p")
    assert s.configured == frozenset({"slack", "statuspage"})


SECTIONS = {
    "user": "name",
    "support": "full_hours, holidays, nonwork_hours, timezone, waking_hours, work_days",
    "severity.major": "description, update_every",
    "playbook": "path",
    "templates": "dir, guide_url, product_channel",
    "lint": "internal_names, max_length",
    "ui": "theme",
    "slack": "alerts_channel, api_url, channel_prefix, incidents_channel, socket_mode",
    "jira.transitions": "canceled, fixing, monitoring, resolved",
    "statuspage": "api_url, page_id",
    "escalation.search": "contacts, links, name, people",
}


@pytest.mark.parametrize("section,allowed", SECTIONS.items())
def test_every_section_refuses_unknown_keys_and_lists_the_known(
    tmp_path: Path, section: str, allowed: str
):
    extra = '[jira]\nurl = "https://x.example"\n' if section.startswith("jira") else ""
    p = write(tmp_path, f'{extra}[{section}]\nwhatever = "x"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(p, ENV)
    assert err.value.key == f"{section}.whatever"
    assert str(err.value) == f"{p}: {section}.whatever: unknown key; allowed: {allowed}"


@pytest.mark.parametrize(
    "section", ["user", "support", "severity", "playbook", "templates", "lint", "ui", "keys"]
)
def test_every_section_must_be_a_table(tmp_path: Path, section: str):
    p = write(tmp_path, f"{section} = 3\n")
    with pytest.raises(ConfigError) as err:
        load_settings(p, ENV)
    assert err.value.key == section
    assert str(err.value).startswith(f"{p}: {section}: must be a table")
    assert "not a whole number (3)" in str(err.value)


@pytest.mark.parametrize(
    "text,key,message",
    [
        ("[user]\nname = 1", "user.name", "must be a string, not a whole number (1)"),
        ("[ui]\ntheme = true", "ui.theme", "must be a string, not a boolean"),
        ('[playbook]\npath = ["a"]', "playbook.path", "must be a string, not a list"),
        ("[templates]\ndir = {}", "templates.dir", "must be a string, not a table"),
        ('[templates]\nguide_url = "wiki"', "templates.guide_url", "'wiki' is not an http://"),
        ('[lint]\ninternal_names = "a"', "lint.internal_names", "must be a list of strings"),
        ("[lint]\nmax_length = 5", "lint.max_length", "from 20 to 100,000, not 5"),
        ("[lint]\nmax_length = 10_000_000", "lint.max_length", "from 20 to 100,000"),
        ("[lint]\nmax_length = true", "lint.max_length", "whole number of characters"),
        ("[keys]\nnote = 3", "keys.note", "must be a string, not a whole number (3)"),
        ('[support]\nwork_days = "mon"', "support.work_days", "list of days from mon, tue"),
        ('[support]\nholidays = ["2026-13-45"]', "support.holidays", "entry 1 is '2026-13-45'"),
        ('[support]\ntimezone = "Europe"', "support.timezone", "not a known time zone"),
        ('[severity.major]\nupdate_every = "1y"', "severity.major.update_every", "'1y'"),
        ("[severity.minor]\ndescription = 1", "severity.minor.description", "a string"),
        ('[slack]\napi_url = "slack.com/api"', "slack.api_url", "http:// or https:// URL"),
        ('[slack]\napi_url = ""', "slack.api_url", "is required"),
        ('[slack]\napi_url = "https://x y"', "slack.api_url", "http:// or https:// URL"),
        ('[jira]\nurl = "ftp://x"', "jira.url", "'ftp://x' is not an http:// or https:// URL"),
        ('[jira]\nurl = "https://x"\ntransitions = 3', "jira.transitions", "a table with keys"),
        ('[statuspage]\npage_id = ""', "statuspage.page_id", "the page id from Statuspage"),
        ('[statuspage]\npage_id = "p"\napi_url = "x"', "statuspage.api_url", "'x' is not"),
        ("escalation = 5", "escalation", "tables: [escalation.<system>]"),
        ("[escalation]\npay = 5", "escalation.pay", "a table with keys: contacts, links"),
        ('[escalation.pay]\npeople = ["ana"]', "escalation.pay.people", "entry 1 is 'ana'"),
        ('[escalation.pay]\npeople = ["U1", "u024"]', "escalation.pay.people", "Slack user ids"),
        ("[escalation.pay]\ncontacts = [3]", "escalation.pay.contacts", "entry 1 is a whole"),
    ],
)
def test_each_value_is_checked_and_the_error_says_where_and_what(
    tmp_path: Path, text: str, key: str, message: str
):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(p, ENV)
    assert err.value.key == key and err.value.path == p
    assert str(err.value).startswith(f"{p}: {key}: ")
    assert message in str(err.value)


# -- limits --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,key,limit",
    [
        ('[user]\nname = "{long}"', "user.name", "at most 1,000 characters"),
        ('[jira]\nurl = "https://{long}"', "jira.url", "at most 1,000 characters"),
        ('[slack]\nincidents_channel = "{long}"', "slack.incidents_channel", "1,000 characters"),
        ('[keys]\nnote = "{long}"', "keys.note", "at most 1,000 characters"),
        ('[lint]\ninternal_names = ["a", "{long}"]', "lint.internal_names", "entry 2 is too long"),
        ('[escalation.pay]\nlinks = ["{long}"]', "escalation.pay.links", "1,000 characters"),
    ],
)
def test_strings_are_capped(tmp_path: Path, text: str, key: str, limit: str):
    p = write(tmp_path, text.replace("{long}", "x" * 1_001))
    with pytest.raises(ConfigError) as err:
        load_settings(p, ENV)
    assert err.value.key == key
    assert f"{p}: {key}: " in str(err.value) and limit in str(err.value)
    assert "x" * 100 not in str(err.value)  # the value is not echoed back whole
    load_settings(write(tmp_path, text.replace("{long}", "x" * 990)), ENV)  # just inside


def test_descriptions_lists_and_the_file_are_capped(tmp_path: Path):
    desc = "d" * 4_000
    s = load_settings(write(tmp_path, f'[severity.major]\ndescription = "{desc}"\n'), ENV)
    assert s.severities[Severity.MAJOR].description == desc
    with pytest.raises(ConfigError, match=r"severity.major.description: .*at most 4,000"):
        load_settings(write(tmp_path, f'[severity.major]\ndescription = "{desc}d"\n'), ENV)
    names = ", ".join(['"n"'] * 1_001)
    with pytest.raises(ConfigError, match=r"lint.internal_names: .*at most 1,000 entries"):
        load_settings(write(tmp_path, f"[lint]\ninternal_names = [{names}]\n"), ENV)
    p = write(tmp_path, "# " + "x" * 1_000_000 + "\n")
    with pytest.raises(ConfigError, match=r"config.toml: too large"):
        load_settings(p, ENV)


def test_a_huge_unknown_key_is_not_echoed(tmp_path: Path):
    huge = "k" * 10_000
    p = write(tmp_path, f'["{huge}"]\na = 1\n[user]\n"{huge}" = 1\n')
    with pytest.raises(ConfigError) as err:
        load_settings(p, ENV)
    assert err.value.key == "k" * 60 + "…"
    assert "unknown section; allowed: escalation, jira, keys" in str(err.value)
    assert len(str(err.value)) < len(str(p)) + 250
    p = write(tmp_path, f'[user]\n"{huge}" = 1\n')
    with pytest.raises(ConfigError) as err:
        load_settings(p, ENV)
    assert err.value.key == "user." + "k" * 60 + "…"


def test_terminal_escapes_never_reach_settings_or_errors(tmp_path: Path):
    s = load_settings(write(tmp_path, '[user]\nname = "Gr\\u001b]0;owned\\u0007ace\\nX"\n'), ENV)
    assert s.user == "Grace X"
    p = write(
        tmp_path,
        '[severity.major]\ndescription = "Bad\\u001b[31m.\\nReally."\n'
        '[escalation."pa\\u202eyments"]\nname = "Pay\\u009b31mments"\ncontacts = ["A\\nna"]\n',
    )
    s = load_settings(p, ENV)
    assert s.severities[Severity.MAJOR].description == "Bad.\nReally."  # may span lines
    assert s.escalation["payments"].name == "Payments"
    assert s.escalation["payments"].contacts == ("A na",)  # one line each
    p = write(tmp_path, '[user]\n"\\u001b[2Jwipe" = 1\n')
    with pytest.raises(ConfigError) as err:
        load_settings(p, ENV)
    assert "\x1b" not in str(err.value) and err.value.key == "user.wipe"


# -- environment -------------------------------------------------------------------------
def test_environment_overrides_and_fallbacks(tmp_path: Path):
    p = write(tmp_path, '[support]\ntimezone = "Europe/Paris"\n')
    assert load_settings(p, {**ENV, "COCKPIT_TIMEZONE": "Asia/Tokyo"}).tz == ZoneInfo("Asia/Tokyo")
    assert load_settings(p, ENV).support.timezone == "Europe/Paris"
    assert load_settings(None, {"TZ": ":Asia/Tokyo"}).support.timezone == "Asia/Tokyo"
    assert load_settings(None, {"LOGNAME": "lin"}).user == "lin"
    assert load_settings(None, {"COCKPIT_USER": "  \x1b[31m "}).user == "on-call"
    named = write(tmp_path, '[user]\nname = "Grace"\n')
    assert load_settings(named, {"COCKPIT_USER": "lin"}).user == "Grace"  # the file's name wins


def test_a_bad_timezone_from_the_environment_says_so(tmp_path: Path):
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "none.toml", {"COCKPIT_TIMEZONE": "Nowhere/Land"})
    assert err.value.key == "support.timezone"
    assert "'Nowhere/Land' (from COCKPIT_TIMEZONE) is not a known time zone" in str(err.value)


def test_unreadable_file(tmp_path: Path):
    p = tmp_path / "config.toml"
    p.mkdir()
    with pytest.raises(ConfigError, match=r"config.toml: cannot read"):
        load_settings(p, ENV)


def test_parse_duration_refuses_what_it_cannot_count():
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration("soon")
    with pytest.raises(ValueError, match="longer than any duration"):
        parse_duration("99999999999999h")

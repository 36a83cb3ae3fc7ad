"""Settings: TOML at the platformdirs config path (or $COCKPIT_CONFIG), checked key by key.

A bad value gives a `ConfigError` naming the file, the key and what is allowed; the CLI
prints it and exits with status 2. Unknown keys are errors too: a typo in a section name
must not silently drop a setting.
"""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from cockpit.domain.errors import CockpitError
from cockpit.domain.incident import Severity
from cockpit.domain.sanitize import sanitize

if TYPE_CHECKING:
    from cockpit.domain.slo import SupportCalendar

APP_NAME = "cockpit"


class ConfigError(CockpitError):
    def __init__(self, path: Path | None, key: str, message: str) -> None:
        self.path, self.key = path, key
        where = str(path) if path else "configuration"
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


# -- paths -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Paths:
    config_file: Path
    data_dir: Path
    log_dir: Path

    @classmethod
    def resolve(cls, env: Mapping[str, str] | None = None) -> Paths:
        env = os.environ if env is None else env
        config = env.get("COCKPIT_CONFIG") or str(
            Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"
        )
        data = env.get("COCKPIT_DATA_DIR") or platformdirs.user_data_dir(APP_NAME)
        log = env.get("COCKPIT_LOG_DIR") or platformdirs.user_log_dir(APP_NAME)
        return cls(Path(config).expanduser(), Path(data).expanduser(), Path(log).expanduser())


# -- settings --------------------------------------------------------------------------
DEFAULT_SEVERITY_TEXT = {
    Severity.CRITICAL: "A business-critical function is down or sensitive data is at risk, "
    "for many users.",
    Severity.MAJOR: "Significant degradation for many users or partners, or a critical "
    "function for some.",
    Severity.MINOR: "Limited impact; a work-around exists.",
}
DEFAULT_UPDATE_EVERY = {
    Severity.CRITICAL: timedelta(minutes=30),
    Severity.MAJOR: timedelta(minutes=60),
    Severity.MINOR: None,
}


@dataclass(frozen=True)
class SeverityDefinition:
    severity: Severity
    description: str
    update_every: timedelta | None


@dataclass(frozen=True)
class SupportSettings:
    timezone: str
    work_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    holidays: tuple[date, ...] = ()
    full_hours: str = "09:00-17:00"
    waking_hours: str = "07:00-19:00"
    nonwork_hours: str = "09:00-17:00"

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    def calendar(self) -> SupportCalendar:
        """The acknowledgement SLO's calendar for these settings."""
        from cockpit.domain.slo import SupportCalendar

        return SupportCalendar.from_settings(
            timezone=self.timezone,
            work_days=list(self.work_days),
            holidays=[d.isoformat() for d in self.holidays],
            full_hours=self.full_hours,
            waking_hours=self.waking_hours,
            nonwork_hours=self.nonwork_hours,
        )


@dataclass(frozen=True)
class SlackSettings:
    api_url: str = "https://slack.com/api"
    incidents_channel: str = "incidents"
    alerts_channel: str = "alerts"
    channel_prefix: str = "incident-"
    # Slack's Socket Mode for the feed: None = on when an app-level token is stored
    socket_mode: bool | None = None


@dataclass(frozen=True)
class JiraSettings:
    url: str = ""
    email: str = ""
    project: str = "INCIDENT"
    issue_type: str = "Task"
    follow_up_project: str = ""
    transition_fixing: str = "FIXING"
    transition_monitoring: str = "MONITORING"
    transition_resolved: str = "RESOLVED"
    transition_canceled: str = "CANCELED"


@dataclass(frozen=True)
class StatuspageSettings:
    api_url: str = "https://api.statuspage.io/v1"
    page_id: str = ""


@dataclass(frozen=True)
class EscalationTarget:
    """A system's point people (the playbook's "contact the relevant point-person")."""

    system: str  # the key in [escalation.<system>]
    name: str  # as people say it: "Payments"
    slack_ids: tuple[str, ...]  # Slack user ids to invite (U…)
    contacts: tuple[str, ...]  # their names, for the timeline and the message
    links: tuple[str, ...]  # runbook / wiki / dashboards


@dataclass(frozen=True)
class Settings:
    user: str
    support: SupportSettings
    severities: dict[Severity, SeverityDefinition]
    playbook_path: Path | None = None
    templates_dir: Path | None = None
    guide_url: str = ""
    product_channel: str = ""
    internal_names: tuple[str, ...] = ()
    public_max_length: int = 600
    theme: str = "cockpit-dark"
    keys: dict[str, str] = field(default_factory=dict)
    slack: SlackSettings | None = None
    jira: JiraSettings | None = None
    statuspage: StatuspageSettings | None = None
    escalation: dict[str, EscalationTarget] = field(default_factory=dict)
    source: Path | None = None

    @property
    def tz(self) -> tzinfo:
        return self.support.tz

    @property
    def configured(self) -> frozenset[str]:
        """The integrations that are configured (the playbook's conditions use these names)."""
        names = {
            n
            for n, s in (
                ("slack", self.slack),
                ("jira", self.jira),
                ("statuspage", self.statuspage),
            )
            if s is not None
        }
        return frozenset(names)

    def update_every(self) -> dict[Severity, timedelta | None]:
        return {s: d.update_every for s, d in self.severities.items()}


# -- parsing helpers ---------------------------------------------------------------------
_DURATION = re.compile(r"^(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$")
_HOURS = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)-([01]?\d|2[0-4]):([0-5]\d)$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(text: str) -> timedelta | None:
    s = text.strip().lower()
    if s in ("", "none", "never", "0"):
        return None
    m = _DURATION.match(s)
    if not m or not any(m.groups()):
        raise ValueError(f'{text!r} is not a duration: write e.g. "30m", "1h", "1h30m" or "none"')
    h, mi, se = (int(g) if g else 0 for g in m.groups())
    return timedelta(hours=h, minutes=mi, seconds=se)


def local_timezone_name(env: Mapping[str, str] | None = None) -> str:
    """The machine's IANA zone name (TZ, /etc/timezone, /etc/localtime), else UTC."""
    env = os.environ if env is None else env
    candidates = [env.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text().strip())
    try:
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if not name:
            continue
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return name
    return "UTC"


class _Reader:
    """Walks the parsed TOML, checking every key and remembering the dotted path."""

    def __init__(self, path: Path | None, data: dict[str, Any]) -> None:
        self.path, self.data = path, data

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.path, key, message)

    def section(self, name: str, allowed: set[str]) -> dict[str, Any] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(name, "must be a table ([" + name + "])")
        for key in value:
            if key not in allowed:
                raise self.fail(
                    f"{name}.{key}", "unknown key; allowed: " + ", ".join(sorted(allowed))
                )
        return value

    def text(self, sec: dict[str, Any] | None, name: str, key: str, default: str) -> str:
        if sec is None or key not in sec:
            return default
        v = sec[key]
        if not isinstance(v, str):
            raise self.fail(f"{name}.{key}", f"must be a string, not {type(v).__name__}")
        return sanitize(v)

    def strings(self, sec: dict[str, Any] | None, name: str, key: str) -> list[str] | None:
        if sec is None or key not in sec:
            return None
        v = sec[key]
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self.fail(f"{name}.{key}", "must be a list of strings")
        return [sanitize(x, single_line=True) for x in v]

    def checked(self, key: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (ValueError, ZoneInfoNotFoundError) as e:
            raise self.fail(key, str(e).strip("'\"")) from None


def _url(reader: _Reader, key: str, value: str, *, required: bool) -> str:
    if not value:
        if required:
            raise reader.fail(key, "is required (an http:// or https:// URL)")
        return value
    if not re.match(r"^https?://[^\s/]+", value):
        raise reader.fail(key, f"{value!r} is not an http:// or https:// URL")
    return value.rstrip("/")


TOP_LEVEL = {
    "user",
    "support",
    "severity",
    "playbook",
    "templates",
    "lint",
    "ui",
    "keys",
    "slack",
    "jira",
    "statuspage",
    "escalation",
}


def load_settings(path: Path | None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings file (a missing file means defaults) and check every value."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    source: Path | None = None
    if path is not None and path.exists():
        source = path
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise ConfigError(path, "", f"cannot read: {e.strerror}") from None
        try:
            data = tomllib.loads(raw.decode("utf-8", errors="replace"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(path, "", f"not valid TOML: {e}") from None
    r = _Reader(source or path, data)
    for key in data:
        if key not in TOP_LEVEL:
            raise r.fail(key, "unknown section; allowed: " + ", ".join(sorted(TOP_LEVEL)))

    user_sec = r.section("user", {"name"})
    user = (
        r.text(user_sec, "user", "name", "")
        or env.get("COCKPIT_USER")
        or env.get("USER")
        or env.get("LOGNAME")
        or "on-call"
    )
    user = sanitize(user, single_line=True).strip() or "on-call"

    sup = r.section(
        "support",
        {"timezone", "work_days", "holidays", "full_hours", "waking_hours", "nonwork_hours"},
    )
    tzname = (
        env.get("COCKPIT_TIMEZONE")
        or r.text(sup, "support", "timezone", "")
        or local_timezone_name(env)
    )
    r.checked("support.timezone", lambda: _check_zone(tzname))
    days = r.strings(sup, "support", "work_days")
    work_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    if days is not None:
        work_days = tuple(r.checked("support.work_days", lambda: [_day(d) for d in days]))
    hols = r.strings(sup, "support", "holidays") or []
    holidays = tuple(r.checked("support.holidays", lambda: [_iso_date(h) for h in hols]))
    hours = {}
    for key, default in (
        ("full_hours", "09:00-17:00"),
        ("waking_hours", "07:00-19:00"),
        ("nonwork_hours", "09:00-17:00"),
    ):
        value = r.text(sup, "support", key, default)
        if not _HOURS.match(value.strip()):
            raise r.fail(
                f"support.{key}", f'{value!r} is not a range of hours: write "09:00-17:00"'
            )
        hours[key] = value.strip()
    support = SupportSettings(timezone=tzname, work_days=work_days, holidays=holidays, **hours)

    sev_sec = r.section("severity", {s.value for s in Severity})
    severities: dict[Severity, SeverityDefinition] = {}
    for s in Severity:
        sub = None
        if sev_sec is not None and s.value in sev_sec:
            sub = sev_sec[s.value]
            if not isinstance(sub, dict):
                raise r.fail(f"severity.{s.value}", "must be a table")
            for key in sub:
                if key not in ("description", "update_every"):
                    raise r.fail(
                        f"severity.{s.value}.{key}",
                        "unknown key; allowed: description, update_every",
                    )
        desc = r.text(sub, f"severity.{s.value}", "description", DEFAULT_SEVERITY_TEXT[s])
        every = DEFAULT_UPDATE_EVERY[s]
        if sub is not None and "update_every" in sub:
            raw_every = sub["update_every"]
            if not isinstance(raw_every, str):
                raise r.fail(
                    f"severity.{s.value}.update_every", 'must be a string such as "30m" or "none"'
                )
            try:
                every = parse_duration(raw_every)
            except ValueError as e:
                raise r.fail(f"severity.{s.value}.update_every", str(e)) from None
        severities[s] = SeverityDefinition(s, desc, every)

    pb = r.section("playbook", {"path"})
    pb_path = r.text(pb, "playbook", "path", "")
    tpl = r.section("templates", {"dir", "guide_url", "product_channel"})
    tpl_dir = r.text(tpl, "templates", "dir", "")
    guide = r.text(tpl, "templates", "guide_url", "")
    product_channel = r.text(tpl, "templates", "product_channel", "")
    lint = r.section("lint", {"internal_names", "max_length"})
    internal = tuple(r.strings(lint, "lint", "internal_names") or ())
    max_len = 600
    if lint is not None and "max_length" in lint:
        v = lint["max_length"]
        if not isinstance(v, int) or isinstance(v, bool) or v < 20:
            raise r.fail("lint.max_length", "must be a whole number of characters, at least 20")
        max_len = v
    ui = r.section("ui", {"theme"})
    theme = r.text(ui, "ui", "theme", "cockpit-dark")
    keys_sec = r.section("keys", set(_known_binding_ids()))
    keys = {k: r.text(keys_sec, "keys", k, "") for k in (keys_sec or {})}

    slack = jira = statuspage = None
    s_sec = r.section(
        "slack",
        {"api_url", "incidents_channel", "alerts_channel", "channel_prefix", "socket_mode"},
    )
    if s_sec is not None:
        socket_mode = s_sec.get("socket_mode")
        if socket_mode is not None and not isinstance(socket_mode, bool):
            raise r.fail(
                "slack.socket_mode",
                "must be true or false (leave it out: on when an app-level token is stored)",
            )
        slack = SlackSettings(
            api_url=_url(
                r,
                "slack.api_url",
                r.text(s_sec, "slack", "api_url", SlackSettings.api_url),
                required=True,
            ),
            incidents_channel=r.text(s_sec, "slack", "incidents_channel", "incidents").lstrip("#"),
            alerts_channel=r.text(s_sec, "slack", "alerts_channel", "alerts").lstrip("#"),
            channel_prefix=r.text(s_sec, "slack", "channel_prefix", "incident-"),
            socket_mode=socket_mode,
        )
    j_sec = r.section(
        "jira", {"url", "email", "project", "issue_type", "follow_up_project", "transitions"}
    )
    if j_sec is not None:
        tr = j_sec.get("transitions", {})
        if not isinstance(tr, dict):
            raise r.fail(
                "jira.transitions", "must be a table of fixing/monitoring/resolved/canceled"
            )
        for key in tr:
            if key not in ("fixing", "monitoring", "resolved", "canceled"):
                raise r.fail(
                    f"jira.transitions.{key}",
                    "unknown key; allowed: canceled, fixing, monitoring, resolved",
                )
        jira = JiraSettings(
            url=_url(r, "jira.url", r.text(j_sec, "jira", "url", ""), required=True),
            email=r.text(j_sec, "jira", "email", ""),
            project=r.text(j_sec, "jira", "project", "INCIDENT"),
            issue_type=r.text(j_sec, "jira", "issue_type", "Task"),
            follow_up_project=r.text(j_sec, "jira", "follow_up_project", ""),
            transition_fixing=r.text(tr, "jira.transitions", "fixing", "FIXING"),
            transition_monitoring=r.text(tr, "jira.transitions", "monitoring", "MONITORING"),
            transition_resolved=r.text(tr, "jira.transitions", "resolved", "RESOLVED"),
            transition_canceled=r.text(tr, "jira.transitions", "canceled", "CANCELED"),
        )
    p_sec = r.section("statuspage", {"api_url", "page_id"})
    if p_sec is not None:
        page_id = r.text(p_sec, "statuspage", "page_id", "")
        if not page_id:
            raise r.fail(
                "statuspage.page_id", "is required (the page id from Statuspage's API page)"
            )
        statuspage = StatuspageSettings(
            api_url=_url(
                r,
                "statuspage.api_url",
                r.text(p_sec, "statuspage", "api_url", StatuspageSettings.api_url),
                required=True,
            ),
            page_id=page_id,
        )

    escalation: dict[str, EscalationTarget] = {}
    esc = r.data.get("escalation")
    if esc is not None:
        if not isinstance(esc, dict):
            raise r.fail("escalation", "must be tables: [escalation.<system>]")
        for system, sub in esc.items():
            key = f"escalation.{system}"
            if not isinstance(sub, dict):
                raise r.fail(key, "must be a table with people, contacts, links")
            for k in sub:
                if k not in ("name", "people", "contacts", "links"):
                    raise r.fail(
                        f"{key}.{k}", "unknown key; allowed: contacts, links, name, people"
                    )
            people = r.strings(sub, key, "people") or []
            for uid in people:
                if not re.fullmatch(r"[UW][A-Z0-9]{2,}", uid):
                    raise r.fail(
                        f"{key}.people", f"{uid!r} is not a Slack user id (like U024BE7LH)"
                    )
            escalation[system] = EscalationTarget(
                system=system,
                name=r.text(sub, key, "name", system),
                slack_ids=tuple(people),
                contacts=tuple(r.strings(sub, key, "contacts") or ()),
                links=tuple(r.strings(sub, key, "links") or ()),
            )

    return Settings(
        user=user,
        support=support,
        severities=severities,
        playbook_path=Path(pb_path).expanduser() if pb_path else None,
        templates_dir=Path(tpl_dir).expanduser() if tpl_dir else None,
        guide_url=guide,
        product_channel=product_channel,
        internal_names=internal,
        public_max_length=max_len,
        theme=theme,
        keys=keys,
        slack=slack,
        jira=jira,
        statuspage=statuspage,
        escalation=escalation,
        source=source,
    )


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a known time zone: use an IANA name such as "
            '"Europe/London" or "America/New_York"'
        ) from None


def _day(text: str) -> str:
    t = text.strip().lower()[:3]
    if t not in _DAYS:
        raise ValueError(f"{text!r} is not a day: use mon, tue, wed, thu, fri, sat, sun")
    return t


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f'{text!r} is not a date: write "2026-12-25"') from None


def _known_binding_ids() -> list[str]:
    """Binding ids that `[keys]` may remap (kept here so config never imports the UI)."""
    from cockpit.keymap import BINDING_IDS

    return list(BINDING_IDS)

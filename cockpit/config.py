"""Settings: TOML at the platformdirs config path (or $COCKPIT_CONFIG), as typed sections.

Each table of the file is a `msgspec.Struct` (`_User`, `_Support`, ...; the parts they
are made of are in cockpit/configkit.py) that refuses unknown keys and caps every string
and list; what a type cannot say (URLs, time zones, durations) is checked in the section's
`__post_init__`. Each remote system brings its own section (`[slack]`, `[jira]`, …): its
`Integration.settings_section` (cockpit/integrations/<name>/settings.py), added to the
file's schema from the registry. The checked sections are then turned into what the rest
of the code uses (`Settings`, `SupportSettings`, each system's settings in
`Settings.systems`), with the environment's overrides (`COCKPIT_USER`, `COCKPIT_TIMEZONE`)
applied.

A bad value gives a `ConfigError` naming the file, the dotted key (`jira.url`,
`escalation.payments.people`) and what is allowed; the CLI prints it and exits with
status 2. Unknown keys are errors too: a typo in a section name must not silently drop a
setting.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import date, timedelta, tzinfo
from pathlib import Path
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, Union, cast, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import platformdirs
from msgspec import Meta

from cockpit.configkit import (
    FILE_MAX,
    LIST_MAX,
    NAME_MAX,
    SHOWN_MAX,
    Invalid,
    Name,
    Names,
    Section,
    Text,
    quote,
    url,
)
from cockpit.configkit import ConfigError as ConfigError
from cockpit.domain.incident import Severity
from cockpit.domain.sanitize import sanitize

if TYPE_CHECKING:
    from cockpit.domain.slo import SupportCalendar
    from cockpit.integrations.base import Integration
    from cockpit.integrations.jira.settings import JiraSettings
    from cockpit.integrations.slack.settings import SlackSettings
    from cockpit.integrations.statuspage.settings import StatuspageSettings

APP_NAME = "cockpit"


# -- paths -----------------------------------------------------------------------------
class Paths(msgspec.Struct, frozen=True):
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
# What the rest of the code reads: frozen msgspec Structs (a Struct class costs a tenth of a
# dataclass at import, and import time is start-up time), and `Settings`, a dataclass.
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


class SeverityDefinition(msgspec.Struct, frozen=True):
    severity: Severity
    description: str
    update_every: timedelta | None


class SupportSettings(msgspec.Struct, frozen=True):
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


class EscalationTarget(msgspec.Struct, frozen=True):
    """A system's point people (the playbook's "contact the relevant point-person")."""

    system: str  # the key in [escalation.<system>]
    name: str  # as people say it: "Payments"
    slack_ids: tuple[str, ...]  # Slack user ids to invite (U…)
    contacts: tuple[str, ...]  # their names, for the timeline and the message
    links: tuple[str, ...]  # runbook / wiki / dashboards


class Settings(msgspec.Struct, frozen=True):
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
    keys: dict[str, str] = msgspec.field(default_factory=dict)
    systems: dict[str, object] = msgspec.field(default_factory=dict)  # by name: configured only
    escalation: dict[str, EscalationTarget] = msgspec.field(default_factory=dict)
    source: Path | None = None

    @property
    def tz(self) -> tzinfo:
        return self.support.tz

    @property
    def configured(self) -> frozenset[str]:
        """The registered systems whose section the file has (the playbook's conditions
        use these names)."""
        return frozenset(self.systems)

    # the three systems' settings, typed (None: not configured); a system's own code reads
    # its settings with its settings module's accessor (`slack_settings(settings)`)
    @property
    def slack(self) -> SlackSettings | None:
        return cast("SlackSettings | None", self.systems.get("slack"))

    @property
    def jira(self) -> JiraSettings | None:
        return cast("JiraSettings | None", self.systems.get("jira"))

    @property
    def statuspage(self) -> StatuspageSettings | None:
        return cast("StatuspageSettings | None", self.systems.get("statuspage"))

    def update_every(self) -> dict[Severity, timedelta | None]:
        return {s: d.update_every for s, d in self.severities.items()}


# -- parsing helpers ---------------------------------------------------------------------
_DURATION = re.compile(r"^(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$")


def parse_duration(text: str) -> timedelta | None:
    s = text.strip().lower()
    if s in ("", "none", "never", "0"):
        return None
    m = _DURATION.match(s)
    if not m or not any(m.groups()):
        raise ValueError(f'{text!r} is not a duration: write e.g. "30m", "1h", "1h30m" or "none"')
    h, mi, se = (int(g) if g else 0 for g in m.groups())
    try:
        return timedelta(hours=h, minutes=mi, seconds=se)
    except OverflowError:
        raise ValueError(f"{text!r} is longer than any duration cockpit can count") from None


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


# -- the file's schema: one typed section per table ----------------------------------------
_Hours = Annotated[
    str,
    Meta(
        max_length=NAME_MAX,
        pattern=r"\A\s*(?:[01]?\d|2[0-4]):[0-5]\d-(?:[01]?\d|2[0-4]):[0-5]\d\s*\Z",
        description='a range of hours such as "09:00-17:00"',
    ),
]
_Day = Annotated[str, Meta(pattern=r"(?i)\A\s*(?:mon|tue|wed|thu|fri|sat|sun)[a-z]{0,6}\s*\Z")]
_Days = Annotated[
    tuple[_Day, ...],
    Meta(max_length=7, description="a list of days from mon, tue, wed, thu, fri, sat, sun"),
]
_Dates = Annotated[
    tuple[date, ...], Meta(max_length=LIST_MAX, description='a list of dates such as "2026-12-25"')
]
_Duration = Annotated[
    str,
    Meta(max_length=NAME_MAX, description='a duration string such as "30m", "1h30m" or "none"'),
]
_SlackUserId = Annotated[str, Meta(max_length=NAME_MAX, pattern=r"\A[UW][A-Z0-9]{2,}\Z")]
_SlackUserIds = Annotated[
    tuple[_SlackUserId, ...],
    Meta(max_length=LIST_MAX, description="a list of Slack user ids (like U024BE7LH)"),
]
_MaxLength = Annotated[
    int, Meta(ge=20, le=100_000, description="a whole number of characters from 20 to 100,000")
]
_Tables = Annotated[
    dict[Name, Any], Meta(max_length=LIST_MAX, description="tables: [escalation.<system>]")
]
_Bindings = Annotated[dict[str, Any], Meta(description="a table of binding id = key")]


class _User(Section):
    name: Name = ""


class _Support(Section):
    timezone: Name = ""  # checked once the environment had its say (COCKPIT_TIMEZONE)
    work_days: _Days = ("mon", "tue", "wed", "thu", "fri")
    holidays: _Dates = ()
    full_hours: _Hours = "09:00-17:00"
    waking_hours: _Hours = "07:00-19:00"
    nonwork_hours: _Hours = "09:00-17:00"

    def settings(self, timezone: str) -> SupportSettings:
        return SupportSettings(
            timezone=timezone,
            work_days=tuple(d.strip().lower()[:3] for d in self.work_days),
            holidays=self.holidays,
            full_hours=self.full_hours.strip(),
            waking_hours=self.waking_hours.strip(),
            nonwork_hours=self.nonwork_hours.strip(),
        )


class _Level(Section):
    description: Text | None = None
    update_every: _Duration | None = None

    def __post_init__(self) -> None:
        try:
            if self.update_every is not None:
                parse_duration(self.update_every)
        except ValueError as e:
            raise Invalid("update_every", str(e)) from None

    def definition(self, severity: Severity) -> SeverityDefinition:
        every = DEFAULT_UPDATE_EVERY[severity]
        if self.update_every is not None:
            every = parse_duration(self.update_every)
        text = DEFAULT_SEVERITY_TEXT[severity] if self.description is None else self.description
        return SeverityDefinition(severity, text, every)


class _Severities(Section):
    minor: _Level = msgspec.field(default_factory=_Level)
    major: _Level = msgspec.field(default_factory=_Level)
    critical: _Level = msgspec.field(default_factory=_Level)

    def definitions(self) -> dict[Severity, SeverityDefinition]:
        levels = {
            Severity.MINOR: self.minor,
            Severity.MAJOR: self.major,
            Severity.CRITICAL: self.critical,
        }
        return {s: levels[s].definition(s) for s in Severity}


class _Playbook(Section):
    path: Name = ""


class _Templates(Section):
    dir: Name = ""
    guide_url: Name = ""
    product_channel: Name = ""

    def __post_init__(self) -> None:
        self.guide_url = url("guide_url", self.guide_url, required=False)


class _Lint(Section):
    internal_names: Names = ()
    max_length: _MaxLength = 600


class _Ui(Section):
    theme: Name = "cockpit-dark"


class _Escalation(Section):
    """One `[escalation.<system>]` table (checked on its own, so errors name the system)."""

    name: Name = ""
    people: _SlackUserIds = ()
    contacts: Names = ()
    links: Names = ()

    def target(self, system: str) -> EscalationTarget:
        return EscalationTarget(system, self.name or system, self.people, self.contacts, self.links)


# the fixed sections of the file; each registered system's section is added to them
_FIXED_SECTIONS: tuple[tuple[str, Any, Any], ...] = (
    ("user", _User, msgspec.field(default_factory=_User)),
    ("support", _Support, msgspec.field(default_factory=_Support)),
    ("severity", _Severities, msgspec.field(default_factory=_Severities)),
    ("playbook", _Playbook, msgspec.field(default_factory=_Playbook)),
    ("templates", _Templates, msgspec.field(default_factory=_Templates)),
    ("lint", _Lint, msgspec.field(default_factory=_Lint)),
    ("ui", _Ui, msgspec.field(default_factory=_Ui)),
    ("keys", _Bindings, msgspec.field(default_factory=dict)),  # checked by `_keys_section()`
    ("escalation", _Tables, msgspec.field(default_factory=dict)),  # each by `_Escalation`
)


def _systems() -> list[Integration]:
    """The registered systems, each with its config section (cockpit/integrations)."""
    from cockpit.integrations.registry import INTEGRATIONS

    return list(INTEGRATIONS.values())


def _file_schema(systems: list[Integration]) -> type[msgspec.Struct]:
    """The whole file: the fixed sections and the systems' (None: not configured)."""
    return _schema(tuple((i.config, i.settings_section) for i in systems))


@functools.cache  # built once per set of registered systems (tests register their own)
def _schema(systems: tuple[tuple[str, type], ...]) -> type[msgspec.Struct]:
    return msgspec.defstruct(
        "_File",
        [*_FIXED_SECTIONS, *((config, section | None, None) for config, section in systems)],
        bases=(Section,),
        module=__name__,
        kw_only=True,
        forbid_unknown_fields=True,
    )


@functools.cache
def _keys_section() -> type[msgspec.Struct]:
    """`[keys]`: an optional key for each binding id the app declares (cockpit.keymap)."""
    ids = _known_binding_ids()
    return msgspec.defstruct(
        "_Keys",
        [(i.replace("-", "_"), Name | None, None) for i in ids],
        bases=(Section,),
        module=__name__,
        rename={i.replace("-", "_"): i for i in ids},
    )


def _known_binding_ids() -> list[str]:
    """Binding ids that `[keys]` may remap (kept here so config never imports the UI)."""
    from cockpit.keymap import BINDING_IDS

    return list(BINDING_IDS)


# -- loading -------------------------------------------------------------------------------
def load_settings(path: Path | None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings file (a missing file means defaults) and check every value."""
    env = os.environ if env is None else env
    source = path if path is not None and path.exists() else None
    systems = _systems()
    file: Any = _decode(_read_toml(source) if source else {}, _file_schema(systems), path)
    return Settings(
        user=_user_name(file.user.name, env),
        support=file.support.settings(_timezone(file.support.timezone, env, path)),
        severities=file.severity.definitions(),
        playbook_path=_expanded(file.playbook.path, path, "playbook.path"),
        templates_dir=_expanded(file.templates.dir, path, "templates.dir"),
        guide_url=file.templates.guide_url,
        product_channel=file.templates.product_channel,
        internal_names=file.lint.internal_names,
        public_max_length=file.lint.max_length,
        theme=file.ui.theme,
        keys=_keys(file.keys, path),
        systems={
            i.name: section.settings()
            for i in systems
            if (section := getattr(file, i.config)) is not None
        },
        escalation=_escalation(file.escalation, path),
        source=source,
    )


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's tables, every string in them sanitized (see `_clean`)."""
    from cockpit.safefile import UnsafeFile, depth_problem, read_file, too_deep

    try:  # a regular file of at most FILE_MAX bytes: never a FIFO, a device, a directory
        raw, _st = read_file(path, limit=FILE_MAX)
    except UnsafeFile as e:
        if e.problem.startswith("is too large"):
            raise ConfigError(
                path, "", f"too large: a settings file has at most {FILE_MAX:,} bytes"
            ) from None
        raise ConfigError(path, "", f"cannot read: it {e.problem}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8", errors="replace"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, "", f"not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(path, "", depth_problem()) from None
    if too_deep(data):
        raise ConfigError(path, "", depth_problem())
    return {k: _clean(v, k) for k, v in data.items()}


def _clean(value: object, key: str) -> object:
    """Strings made safe for a terminal: one line each, but a severity's description.

    Keys are left as they are: each is either one the schema declares or refused (and
    `_unknown_key` makes it safe to show), but for the systems of `[escalation]`.
    """
    if isinstance(value, str):
        return sanitize(value, single_line=key != "description")
    if isinstance(value, dict):
        return {k: _clean(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, key) for v in value]
    return value


_T = TypeVar("_T")


def _decode(data: object, kind: type[_T], path: Path | None, prefix: str = "") -> _T:
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as e:
        raise _config_error(e, data, kind, path, prefix) from None


def _user_name(configured: str, env: Mapping[str, str]) -> str:
    name = (
        configured or env.get("COCKPIT_USER") or env.get("USER") or env.get("LOGNAME") or "on-call"
    )
    return sanitize(name, single_line=True).strip() or "on-call"


def _timezone(configured: str, env: Mapping[str, str], path: Path | None) -> str:
    from_env = env.get("COCKPIT_TIMEZONE")
    name = from_env or configured or local_timezone_name(env)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        origin = " (from COCKPIT_TIMEZONE)" if from_env else ""
        raise ConfigError(
            path,
            "support.timezone",
            f"{quote(name)}{origin} is not a known time zone: use an IANA name such as "
            '"Europe/London" or "America/New_York"',
        ) from None
    return name


def _expanded(text: str, path: Path | None, key: str) -> Path | None:
    try:
        return Path(text).expanduser() if text else None
    except RuntimeError:  # ~someone with no such user
        raise ConfigError(path, key, f"{quote(text)}: cannot find that home directory") from None


def _escalation(tables: dict[str, Any], path: Path | None) -> dict[str, EscalationTarget]:
    targets = {}
    for key, table in tables.items():
        system = sanitize(key, single_line=True)
        section = _decode(table, _Escalation, path, f"escalation.{system}")
        targets[system] = section.target(system)
    return targets


def _keys(table: dict[str, Any], path: Path | None) -> dict[str, str]:
    keys = _decode(table, _keys_section(), path, "keys")
    pairs = zip(keys.__struct_encode_fields__, keys.__struct_fields__, strict=True)
    return {binding: key for binding, name in pairs if (key := getattr(keys, name)) is not None}


# -- msgspec's errors, told as the file's keys ---------------------------------------------
# compiled on first use (re caches them): only a bad file needs them
_AT = r"(?: - at (`key` in )?`\$([^`]*)`)?\Z"  # always matches, maybe empty
_STEP = r"\.([\w-]+)|\[(\d+)\]"
_UNKNOWN = "Object contains unknown field"
_REQUIRED = r"\AObject missing required field `(\w+)`"
_TOO_LONG = r"\AExpected `(\w+)` of length <= (\d+)"
_EXPECTED = r"\AExpected `([^`]+)`(?:, got `(\w+)`)?"
_WORDS = {
    "str": "a string",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "array": "a list",
    "object": "a table",
    "date": "a date",
    "datetime": "a date and time",
    "time": "a time",
}


def _config_error(
    err: msgspec.ValidationError, data: object, kind: Any, path: Path | None, prefix: str
) -> ConfigError:
    """`Expected `str`, got `int` - at `$.jira.url`` as `<file>: jira.url: must be ...`."""
    problem, steps, names, in_key = _located(str(err))
    value = None if in_key else _value_at(data, steps)
    entry = steps[-1] if steps and isinstance(steps[-1], int) else None
    top = not names and not prefix
    name, message = _diagnose(err.__cause__, problem, value, _field_type(kind, names), entry, top)
    key = ".".join(n for n in (prefix, *names, name) if n)
    return ConfigError(path, key, f"a key {message}" if in_key else message)


def _located(text: str) -> tuple[str, list[str | int], list[str], bool]:
    """msgspec's message split: the problem, the path's steps and names, whether a key failed."""
    at = re.search(_AT, text)
    assert at is not None  # the pattern matches the empty string at the end
    steps = [int(i) if i else name for name, i in re.findall(_STEP, at.group(2) or "")]
    names = [s for s in steps if isinstance(s, str)]
    return text[: at.start()], steps, names, bool(at.group(1))


def _diagnose(
    cause: BaseException | None,
    problem: str,
    value: object,
    kind: Any,
    entry: int | None,
    top: bool,
) -> tuple[str, str]:
    """The key below the failing table, if any, and what is wrong there."""
    if isinstance(cause, Invalid):
        return cause.key, cause.message
    if problem.startswith(_UNKNOWN):
        allowed = _allowed(kind)
        what = "unknown section" if top else "unknown key"
        return _unknown_key(value, allowed), f"{what}; allowed: " + ", ".join(allowed)
    if required := re.match(_REQUIRED, problem):
        name = required.group(1)
        return name, f"is required ({_wanted(_field_type(kind, [name]), '')})"
    return "", _explain(problem, value, kind, entry)


def _explain(problem: str, value: object, kind: Any, entry: int | None) -> str:
    """What is wrong with a value of the wrong type, too long, or off its pattern or range."""
    which = f"entry {entry + 1} " if entry is not None else ""
    if m := re.match(_TOO_LONG, problem):
        unit = "characters" if m.group(1) == "str" else "entries"
        has = f" ({len(value):,} {unit})" if isinstance(value, str | list | dict) else ""
        return f"{which}is too long{has}: at most {int(m.group(2)):,} {unit}"
    wanted, got = _wanted(kind, problem), _got(problem, value)
    return f"must be {wanted}; {which}is {got}" if which else f"must be {wanted}, not {got}"


def _got(problem: str, value: object) -> str:
    """The value as the error shows it: `a whole number (30)`, `'yes'`, `a table`."""
    shown = quote(value)
    m = re.match(_EXPECTED, problem)
    if not m or not m.group(2):
        return shown
    word = "a boolean" if m.group(2) == "bool" else _WORDS.get(m.group(2), m.group(2))
    return f"{word} ({shown})" if shown else word


def _wanted(kind: Any, problem: str) -> str:
    """What a key allows: its type's description, a table's keys, or msgspec's type word."""
    kind = _unoptional(kind)
    for meta in getattr(kind, "__metadata__", ()):
        if isinstance(meta, Meta) and meta.description:
            return meta.description
    if allowed := _allowed(kind):
        return "a table with keys: " + ", ".join(allowed)
    m = re.match(_EXPECTED, problem)
    types = m.group(1).split(" | ") if m else []
    return " or ".join(_WORDS.get(t, t) for t in types if t != "null") or "something else"


def _unoptional(kind: Any) -> Any:
    """`X | None` as X (a section or a key that may be left out)."""
    if get_origin(kind) in (Union, UnionType):
        return next(a for a in get_args(kind) if a is not type(None))
    return kind


def _field_type(kind: Any, names: list[str]) -> Any:
    """The declared type at a dotted path through the sections (None past a table)."""
    for name in names:
        fields = _struct_fields(kind)
        kind = fields[name].type if name in fields else None
    return kind


def _struct_fields(kind: Any) -> dict[str, msgspec.structs.FieldInfo]:
    kind = _unoptional(kind)
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        return {f.encode_name: f for f in msgspec.structs.fields(kind)}
    return {}


def _allowed(kind: Any) -> list[str]:
    return sorted(_struct_fields(kind))


def _unknown_key(table: object, allowed: list[str]) -> str:
    """The first key of the table that is not allowed, as an error names it (it may be huge)."""
    keys = table if isinstance(table, dict) else {}
    key = sanitize(next((k for k in keys if k not in allowed), "?"), single_line=True)
    return key[:SHOWN_MAX] + "…" if len(key) > SHOWN_MAX else key


def _value_at(data: object, steps: list[str | int]) -> object:
    for step in steps:
        if isinstance(data, dict) and isinstance(step, str):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            data = data[step]
        else:
            return None
    return data

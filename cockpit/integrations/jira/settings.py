"""Jira's `[jira]` section (with `[jira.transitions]`, `[jira.fields]`, `[jira.severity]`,
`[jira.components]` and `[jira.transition_fields.<status>]`): its schema (`JiraSection`)
and what the rest of cockpit reads (`JiraSettings`, in `Settings.jira`). Imports only
msgspec and cockpit.configkit: cockpit/config.py reads it at start-up.

What a ticket is created with, as real projects require it:

* `[jira.fields]`: values sent as they are (field id = the value Jira's REST API takes),
  e.g. `customfield_10050 = { value = "Production" }`;
* `[jira.severity]`: the incident's severity on the ticket, on create and whenever it
  changes: `priority` maps it to a priority name (sent when the project's create screen has
  Priority), `field` names a custom select field (`customfield_10042`) and `values` maps the
  severity to its option; the key `unset` is the guess used before a severity is set;
* `[jira.components]`: an affected service's name (as the incident and the status page
  call it) → the Jira component it is filed under;
* `labels`: added to every ticket cockpit creates (besides cockpit's own).

`[jira.transition_fields.resolved]` (and `fixing`, `monitoring`, `canceled`) holds what a
transition's screen asks for, e.g. `resolution = { name = "Done" }`; a field is sent only
when the transition's screen has it.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from cockpit.configkit import HasSystems, Invalid, Name, Names, Section, system, url

SEVERITY_KEYS = ("critical", "major", "minor", "unset")
TRANSITION_KEYS = ("fixing", "monitoring", "resolved", "canceled")
DEFAULT_PRIORITY = {"critical": "Highest", "major": "High", "minor": "Medium", "unset": "Medium"}
DEFAULT_SEVERITY_VALUES = {"critical": "Critical", "major": "Major", "minor": "Minor"}
DEFAULT_TRANSITION_FIELDS: dict[str, dict[str, Any]] = {
    "resolved": {"resolution": {"name": "Done"}},
    "canceled": {"resolution": {"name": "Won't Do"}},
}
_FIELD_ID = re.compile(r"^(?:[a-z][A-Za-z]*|customfield_\d+)$")
# fields cockpit sets itself on the incident ticket (not from [jira.fields])
OWN_FIELDS = frozenset({"project", "issuetype", "summary", "description"})


class JiraSettings(msgspec.Struct, frozen=True):
    url: str = ""
    email: str = ""
    project: str = "INCIDENT"
    issue_type: str = "Task"
    follow_up_project: str = ""
    follow_up_issue_type: str = "Task"
    bug_issue_type: str = "Bug"
    link_type: str = "Relates"
    labels: tuple[str, ...] = ()
    transition_fixing: str = "FIXING"
    transition_monitoring: str = "MONITORING"
    transition_resolved: str = "RESOLVED"
    transition_canceled: str = "CANCELED"
    fields: dict[str, Any] = msgspec.field(default_factory=dict)
    priority: dict[str, str] = msgspec.field(default_factory=lambda: dict(DEFAULT_PRIORITY))
    severity_field: str = ""
    severity_values: dict[str, str] = msgspec.field(
        default_factory=lambda: dict(DEFAULT_SEVERITY_VALUES)
    )
    components: dict[str, str] = msgspec.field(default_factory=dict)
    transition_fields: dict[str, dict[str, Any]] = msgspec.field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_TRANSITION_FIELDS.items()}
    )

    def severity_priority(self, severity: str | None) -> str:
        """The priority name for a severity ("critical", …; None: not set yet), or ""."""
        return self.priority.get(severity or "unset", "")

    def severity_value(self, severity: str | None) -> str:
        """The custom severity field's option for a severity, or "" (not sent)."""
        return self.severity_values.get(severity or "unset", "")


class JiraTransitions(Section):
    fixing: Name = "FIXING"
    monitoring: Name = "MONITORING"
    resolved: Name = "RESOLVED"
    canceled: Name = "CANCELED"


def _severity_map(key: str, value: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(value) - set(SEVERITY_KEYS))
    if unknown:
        raise Invalid(key, f"unknown severity {unknown[0]!r}: use {', '.join(SEVERITY_KEYS)}")
    return {k: v.strip() for k, v in value.items() if v.strip()}


class JiraSeverity(Section):
    priority: dict[Name, Name] = msgspec.field(default_factory=lambda: dict(DEFAULT_PRIORITY))
    field: Name = ""
    values: dict[Name, Name] = msgspec.field(default_factory=lambda: dict(DEFAULT_SEVERITY_VALUES))

    def __post_init__(self) -> None:
        self.priority = _severity_map("priority", self.priority)
        self.values = _severity_map("values", self.values)
        if self.field and not re.fullmatch(r"customfield_\d+", self.field):
            raise Invalid("field", f"{self.field!r} is not a custom field id (customfield_10042)")


class JiraSection(Section):
    url: Name = ""
    email: Name = ""
    project: Name = "INCIDENT"
    issue_type: Name = "Task"
    follow_up_project: Name = ""
    follow_up_issue_type: Name = "Task"
    bug_issue_type: Name = "Bug"
    link_type: Name = "Relates"
    labels: Names = ()
    transitions: JiraTransitions = msgspec.field(default_factory=JiraTransitions)
    fields: dict[Name, Any] = msgspec.field(default_factory=dict)
    severity: JiraSeverity = msgspec.field(default_factory=JiraSeverity)
    components: dict[Name, Name] = msgspec.field(default_factory=dict)
    transition_fields: dict[Name, dict[Name, Any]] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.url = url("url", self.url)
        for name in self.fields:
            if not _FIELD_ID.match(name):
                raise Invalid(
                    f"fields.{name}", "is not a Jira field id (summary, customfield_10042)"
                )
            if name in OWN_FIELDS:
                raise Invalid(f"fields.{name}", "is set by cockpit itself")
        for key, table in self.transition_fields.items():
            if key not in TRANSITION_KEYS:
                raise Invalid(
                    f"transition_fields.{key}",
                    f"unknown transition: use {', '.join(TRANSITION_KEYS)}",
                )
            for name in table:
                if not _FIELD_ID.match(name):
                    raise Invalid(f"transition_fields.{key}.{name}", "is not a Jira field id")

    def settings(self) -> JiraSettings:
        t = self.transitions
        transition_fields = {k: dict(v) for k, v in DEFAULT_TRANSITION_FIELDS.items()}
        for key, table in self.transition_fields.items():
            transition_fields.setdefault(key, {}).update(table)
        return JiraSettings(
            url=self.url,
            email=self.email,
            project=self.project,
            issue_type=self.issue_type,
            follow_up_project=self.follow_up_project,
            follow_up_issue_type=self.follow_up_issue_type,
            bug_issue_type=self.bug_issue_type,
            link_type=self.link_type,
            labels=tuple(self.labels),
            transition_fixing=t.fixing,
            transition_monitoring=t.monitoring,
            transition_resolved=t.resolved,
            transition_canceled=t.canceled,
            fields=dict(self.fields),
            priority=dict(self.severity.priority),
            severity_field=self.severity.field,
            severity_values=dict(self.severity.values),
            components=dict(self.components),
            transition_fields=transition_fields,
        )


def jira_settings(settings: HasSystems) -> JiraSettings:
    """Jira's settings (Jira must be configured)."""
    return system(settings, "jira", JiraSettings)

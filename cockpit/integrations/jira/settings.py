"""Jira's `[jira]` section (with `[jira.transitions]`): its schema (`JiraSection`) and
what the rest of cockpit reads (`JiraSettings`, in `Settings.jira`). Imports only msgspec
and cockpit.configkit: cockpit/config.py reads it at start-up."""

from __future__ import annotations

import msgspec

from cockpit.configkit import HasSystems, Name, Section, system, url


class JiraSettings(msgspec.Struct, frozen=True):
    url: str = ""
    email: str = ""
    project: str = "INCIDENT"
    issue_type: str = "Task"
    follow_up_project: str = ""
    transition_fixing: str = "FIXING"
    transition_monitoring: str = "MONITORING"
    transition_resolved: str = "RESOLVED"
    transition_canceled: str = "CANCELED"


class JiraTransitions(Section):
    fixing: Name = "FIXING"
    monitoring: Name = "MONITORING"
    resolved: Name = "RESOLVED"
    canceled: Name = "CANCELED"


class JiraSection(Section):
    url: Name = ""
    email: Name = ""
    project: Name = "INCIDENT"
    issue_type: Name = "Task"
    follow_up_project: Name = ""
    transitions: JiraTransitions = msgspec.field(default_factory=JiraTransitions)

    def __post_init__(self) -> None:
        self.url = url("url", self.url)

    def settings(self) -> JiraSettings:
        t = self.transitions
        return JiraSettings(
            url=self.url,
            email=self.email,
            project=self.project,
            issue_type=self.issue_type,
            follow_up_project=self.follow_up_project,
            transition_fixing=t.fixing,
            transition_monitoring=t.monitoring,
            transition_resolved=t.resolved,
            transition_canceled=t.canceled,
        )


def jira_settings(settings: HasSystems) -> JiraSettings:
    """Jira's settings (Jira must be configured)."""
    return system(settings, "jira", JiraSettings)

"""Slack's `[slack]` section: its schema (`SlackSection`) and what the rest of cockpit
reads (`SlackSettings`, in `Settings.slack`). Imports only msgspec and cockpit.configkit:
cockpit/config.py reads it at start-up."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from cockpit.configkit import HasSystems, Name, Section, system, url

SLACK_API_URL = "https://slack.com/api"

_SocketMode = Annotated[
    bool, Meta(description="true or false (leave it out: on when an app-level token is stored)")
]


class SlackSettings(msgspec.Struct, frozen=True):
    api_url: str = SLACK_API_URL
    incidents_channel: str = "incidents"
    alerts_channel: str = "alerts"
    channel_prefix: str = "incident-"
    # Slack's Socket Mode for the feed: None = on when an app-level token is stored
    socket_mode: bool | None = None


class SlackSection(Section):
    api_url: Name = SLACK_API_URL
    incidents_channel: Name = "incidents"
    alerts_channel: Name = "alerts"
    channel_prefix: Name = "incident-"
    socket_mode: _SocketMode | None = None

    def __post_init__(self) -> None:
        self.api_url = url("api_url", self.api_url)

    def settings(self) -> SlackSettings:
        return SlackSettings(
            api_url=self.api_url,
            incidents_channel=self.incidents_channel.lstrip("#"),
            alerts_channel=self.alerts_channel.lstrip("#"),
            channel_prefix=self.channel_prefix,
            socket_mode=self.socket_mode,
        )


def slack_settings(settings: HasSystems) -> SlackSettings:
    """Slack's settings (Slack must be configured)."""
    return system(settings, "slack", SlackSettings)

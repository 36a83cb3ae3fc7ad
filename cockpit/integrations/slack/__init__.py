"""Slack: the Web API client (`client.py`), the outbox operations (`handlers.py`), the
doctor checks (`checks.py`), permalinks (`links.py`) and the integration's description
(`integration.py`: config section, secret names, factories).

The client's public names are importable from here (`from cockpit.integrations.slack
import SlackClient, channel_name, ...`), loaded on first use: importing this package
does not import httpx (`cockpit --help` reads the secret names from `integration.py`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.integrations.slack.client import (
        CHANNEL_NAME_MAX,
        MARKER_EVENT_TYPE,
        Channel,
        FeedText,
        Identity,
        Posted,
        SlackClient,
        channel_name,
        is_valid_channel_name,
        marker_metadata,
        mentioned_users,
        message_marker,
        mrkdwn_to_text,
        render_message,
        to_feed_message,
        ts_key,
        ts_to_datetime,
    )

__all__ = [
    "CHANNEL_NAME_MAX",
    "MARKER_EVENT_TYPE",
    "Channel",
    "FeedText",
    "Identity",
    "Posted",
    "SlackClient",
    "channel_name",
    "is_valid_channel_name",
    "marker_metadata",
    "mentioned_users",
    "message_marker",
    "mrkdwn_to_text",
    "render_message",
    "to_feed_message",
    "ts_key",
    "ts_to_datetime",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(import_module("cockpit.integrations.slack.client"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

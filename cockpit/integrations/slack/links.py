"""Slack permalinks: reading a channel and a thread out of one, and making one."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cockpit.domain.incident import Link

_PERMALINK = re.compile(r"/archives/([A-Z0-9]+)/p(\d{10})(\d{6})")
_CHANNEL = re.compile(r"/archives/([A-Z0-9]+)")


def thread_of(link: Link | None) -> tuple[str, str] | None:
    """(channel id, thread ts) from a Slack permalink, or None."""
    if link is None:
        return None
    m = _PERMALINK.search(link.url)
    if not m:
        return None
    return m.group(1), f"{m.group(2)}.{m.group(3)}"


def channel_id_of(link: Link | None) -> str | None:
    if link is None:
        return None
    m = _CHANNEL.search(link.url)
    return m.group(1) if m else None


def permalink(workspace_url: str, channel_id: str, ts: str) -> str:
    return f"{workspace_url.rstrip('/')}/archives/{channel_id}/p{ts.replace('.', '')}"

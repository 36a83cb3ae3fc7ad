"""Statuspage's `[statuspage]` section: its schema (`StatuspageSection`) and what the rest
of cockpit reads (`StatuspageSettings`, in `Settings.statuspage`). Imports only msgspec and
cockpit.configkit: cockpit/config.py reads it at start-up."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from cockpit.configkit import NAME_MAX, HasSystems, Name, Section, system, url

STATUSPAGE_API_URL = "https://api.statuspage.io/v1"

_PageId = Annotated[
    str,
    Meta(min_length=1, max_length=NAME_MAX, description="the page id from Statuspage's API page"),
]


class StatuspageSettings(msgspec.Struct, frozen=True):
    api_url: str = STATUSPAGE_API_URL
    page_id: str = ""


class StatuspageSection(Section):
    page_id: _PageId
    api_url: Name = STATUSPAGE_API_URL

    def __post_init__(self) -> None:
        self.api_url = url("api_url", self.api_url)

    def settings(self) -> StatuspageSettings:
        return StatuspageSettings(api_url=self.api_url, page_id=self.page_id)


def statuspage_settings(settings: HasSystems) -> StatuspageSettings:
    """Statuspage's settings (Statuspage must be configured)."""
    return system(settings, "statuspage", StatuspageSettings)

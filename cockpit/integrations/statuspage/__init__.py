"""Atlassian Statuspage: the REST client (`client.py`), the outbox operations
(`handlers.py`), the doctor check (`checks.py`) and the integration's description
(`integration.py`: config section, secret name, factories).

The client's public names are importable from here (`from cockpit.integrations.statuspage
import StatuspageClient`), loaded on first use: importing this package does not import
httpx.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.integrations.statuspage.client import (
        COMPONENT_STATUSES,
        IMPACTS,
        INCIDENT_STATUSES,
        METADATA_KEY,
        Component,
        Incident,
        Page,
        StatuspageClient,
    )

__all__ = [
    "COMPONENT_STATUSES",
    "IMPACTS",
    "INCIDENT_STATUSES",
    "METADATA_KEY",
    "Component",
    "Incident",
    "Page",
    "StatuspageClient",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(import_module("cockpit.integrations.statuspage.client"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Jira Cloud: the REST v3 client (`client.py`), the outbox operations (`handlers.py`),
the doctor check (`checks.py`) and the integration's description (`integration.py`:
config section, secret name, factories).

The client's public names are importable from here (`from cockpit.integrations.jira
import JiraClient, jql_string`), loaded on first use: importing this package does not
import httpx.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.integrations.jira.client import (
        API,
        MARKER_PROPERTY,
        CreatedIssue,
        Issue,
        JiraClient,
        JiraUser,
        Transition,
        jql_string,
        label,
    )

__all__ = [
    "API",
    "MARKER_PROPERTY",
    "CreatedIssue",
    "Issue",
    "JiraClient",
    "JiraUser",
    "Transition",
    "jql_string",
    "label",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(import_module("cockpit.integrations.jira.client"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

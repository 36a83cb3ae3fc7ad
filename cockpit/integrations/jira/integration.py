"""Jira as an integration: the `[jira]` section, the API token `jira` (with the
section's email), its outbox operations and its doctor check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cockpit.integrations.base import Handlers, Integration, Secret
from cockpit.integrations.checks import DoctorCheck
from cockpit.integrations.jira.checks import check_sign_in, check_ticket_fields
from cockpit.integrations.jira.settings import JiraSection, jira_settings

if TYPE_CHECKING:
    from cockpit.configkit import HasSystems
    from cockpit.integrations.base import HandlerContext
    from cockpit.integrations.jira.client import JiraClient

NAME = "jira"
CONFIG_SECTION = "jira"
SECRETS = (Secret(NAME, "Jira"),)


def make_client(settings: HasSystems, token: str, /, **client_kw: Any) -> JiraClient:
    from cockpit.integrations.jira.client import JiraClient

    s = jira_settings(settings)
    return JiraClient(s.url, s.email, token, **client_kw)


def make_handlers(ctx: HandlerContext[Any]) -> Handlers[Any]:
    from cockpit.integrations.jira.handlers import JiraHandlers

    return JiraHandlers(ctx)


INTEGRATION = Integration(
    name=NAME,
    label="Jira",
    config=CONFIG_SECTION,
    settings_section=JiraSection,
    secrets=SECRETS,
    client=make_client,
    handlers=make_handlers,
    checks=(DoctorCheck(NAME, check_sign_in), DoctorCheck(NAME, check_ticket_fields)),
)

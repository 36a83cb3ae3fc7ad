"""Statuspage as an integration: the `[statuspage]` section, the API key `statuspage`,
its outbox operations and its doctor check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cockpit.integrations.base import Handlers, Integration, Secret
from cockpit.integrations.checks import DoctorCheck
from cockpit.integrations.statuspage.checks import check_sign_in
from cockpit.integrations.statuspage.settings import StatuspageSection, statuspage_settings

if TYPE_CHECKING:
    from cockpit.configkit import HasSystems
    from cockpit.integrations.base import HandlerContext
    from cockpit.integrations.statuspage.client import StatuspageClient

NAME = "statuspage"
CONFIG_SECTION = "statuspage"
SECRETS = (Secret(NAME, "Statuspage"),)


def make_client(settings: HasSystems, token: str, /, **client_kw: Any) -> StatuspageClient:
    from cockpit.integrations.statuspage.client import StatuspageClient

    s = statuspage_settings(settings)
    return StatuspageClient(s.api_url, s.page_id, token, **client_kw)


def make_handlers(ctx: HandlerContext[Any]) -> Handlers[Any]:
    from cockpit.integrations.statuspage.handlers import StatuspageHandlers

    return StatuspageHandlers(ctx)


INTEGRATION = Integration(
    name=NAME,
    label="Statuspage",
    config=CONFIG_SECTION,
    settings_section=StatuspageSection,
    secrets=SECRETS,
    client=make_client,
    handlers=make_handlers,
    checks=(DoctorCheck(NAME, check_sign_in),),
    not_configured_text="the status page is not configured ([statuspage] in the config)",
)

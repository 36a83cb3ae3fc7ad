"""Slack as an integration: the `[slack]` section, the bot token `slack` (the client's)
and the app-level token `slack-app` (Socket Mode), its outbox operations and doctor
checks, and its client as the live feed's message source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cockpit.integrations.base import Handlers, Integration, Secret
from cockpit.integrations.checks import DoctorCheck
from cockpit.integrations.slack.checks import APP_TOKEN, check_sign_in, check_socket_mode
from cockpit.integrations.slack.settings import SlackSection, slack_settings

if TYPE_CHECKING:
    from cockpit.configkit import HasSystems
    from cockpit.integrations.base import HandlerContext
    from cockpit.integrations.slack.client import SlackClient

NAME = "slack"
CONFIG_SECTION = "slack"
SECRETS = (Secret(NAME, "Slack"), Secret(APP_TOKEN, "Slack app-level"))


def make_client(settings: HasSystems, token: str, /, **client_kw: Any) -> SlackClient:
    from cockpit.integrations.slack.client import SlackClient

    s = slack_settings(settings)
    return SlackClient(s.api_url, token, **client_kw)


def make_handlers(ctx: HandlerContext[Any]) -> Handlers[Any]:
    from cockpit.integrations.slack.handlers import SlackHandlers

    return SlackHandlers(ctx)


INTEGRATION = Integration(
    name=NAME,
    label="Slack",
    config=CONFIG_SECTION,
    settings_section=SlackSection,
    secrets=SECRETS,
    client=make_client,
    handlers=make_handlers,
    checks=(DoctorCheck(NAME, check_sign_in), DoctorCheck(APP_TOKEN, check_socket_mode)),
    feed=True,
)

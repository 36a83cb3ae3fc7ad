"""Slack as an integration: the `[slack]` section, the bot token `slack` (the client's)
and the app-level token `slack-app` (Socket Mode), its outbox operations and doctor
checks, and its client as the live feed's message source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cockpit.integrations.base import Handlers, Integration, Secret
from cockpit.integrations.checks import DoctorCheck
from cockpit.integrations.slack.checks import APP_TOKEN, check_sign_in, check_socket_mode

if TYPE_CHECKING:
    from cockpit.config import Settings
    from cockpit.integrations.base import HandlerContext
    from cockpit.integrations.slack.client import SlackClient

NAME = "slack"
CONFIG_SECTION = "slack"
SECRETS = (Secret(NAME, "Slack"), Secret(APP_TOKEN, "Slack app-level"))


def make_client(settings: Settings, token: str, /, **client_kw: Any) -> SlackClient:
    from cockpit.integrations.slack.client import SlackClient

    s = settings.slack
    assert s is not None
    return SlackClient(s.api_url, token, **client_kw)


def make_handlers(ctx: HandlerContext[Any]) -> Handlers[Any]:
    from cockpit.integrations.slack.handlers import SlackHandlers

    return SlackHandlers(ctx)


INTEGRATION = Integration(
    name=NAME,
    label="Slack",
    config=CONFIG_SECTION,
    secrets=SECRETS,
    client=make_client,
    handlers=make_handlers,
    checks=(DoctorCheck(NAME, check_sign_in), DoctorCheck(APP_TOKEN, check_socket_mode)),
    feed=True,
)

"""`cockpit doctor`'s check of Jira: the email and API token sign in (myself)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from cockpit.integrations.checks import Check, CheckFailed, DoctorContext, sign_in_check
from cockpit.integrations.jira.settings import jira_settings

if TYPE_CHECKING:
    from cockpit.integrations.base import RemoteClient
    from cockpit.integrations.jira.client import JiraClient


async def check_sign_in(ctx: DoctorContext) -> Check:
    async def probe(client: RemoteClient) -> str:
        jira = jira_settings(ctx.settings)
        if not jira.email:
            raise CheckFailed(
                "no email set for the API token", "set email in the [jira] section of the config"
            )
        user = await cast("JiraClient", client).myself()
        return f"signed in as {user.display_name or user.account_id}"

    return await sign_in_check(ctx, probe)

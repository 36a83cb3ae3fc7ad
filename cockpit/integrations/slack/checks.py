"""`cockpit doctor`'s checks of Slack: the bot token signs in (auth.test), and Socket Mode:
the app-level token opens a connection URL (apps.connections.open; the URL is not used),
or, without one, how long new messages can take when polling only."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from cockpit.integrations.base import env_var
from cockpit.integrations.checks import (
    CHECK_DEADLINE,
    Check,
    DoctorContext,
    sign_in_check,
    unexpected,
)
from cockpit.integrations.slack.settings import slack_settings

if TYPE_CHECKING:
    from cockpit.integrations.base import RemoteClient
    from cockpit.integrations.slack.client import SlackClient

APP_TOKEN = "slack-app"  # the secret name of Slack's app-level token (Socket Mode)
SOCKET_CHECK = "Slack socket mode"


async def check_sign_in(ctx: DoctorContext) -> Check:
    async def probe(client: RemoteClient) -> str:
        who = await cast("SlackClient", client).auth_test()
        return f"signed in as {who.user or who.user_id} on {who.team or who.team_id}"

    return await sign_in_check(ctx, probe)


async def check_socket_mode(ctx: DoctorContext) -> Check:
    """Socket Mode: the app-level token opens a connection URL, or why the feed polls."""
    import asyncio

    from cockpit.integrations.errors import RemoteError
    from cockpit.integrations.feed import POLLING_WORST_CASE
    from cockpit.integrations.http import NO_RETRY

    settings = slack_settings(ctx.settings)
    wanted = settings.socket_mode  # None: on when there is a token
    polling = f"polling only: new messages can take up to {POLLING_WORST_CASE:.0f} s"
    how = (
        f"cockpit auth set {APP_TOKEN} (the app's xapp- token with connections:write, Socket "
        f"Mode and the message.channels event on), or set {env_var(APP_TOKEN)}, less safe"
    )
    if wanted is False:
        return Check(SOCKET_CHECK, None, f"off in the config (socket_mode = false): {polling}")
    if ctx.unavailable:
        return Check(SOCKET_CHECK, False if wanted else None, f"{polling} ({ctx.unavailable})", how)
    if not ctx.token:
        return Check(
            SOCKET_CHECK,
            False if wanted else None,
            f"no app-level token: {polling}",
            how,
        )
    if ctx.offline:
        return Check(SOCKET_CHECK, None, "app-level token set; not checked (--offline)")
    client = cast("SlackClient", ctx.client(retry=NO_RETRY, deadline=CHECK_DEADLINE))
    try:
        async with asyncio.timeout(CHECK_DEADLINE):
            await client.open_socket()
        return Check(
            SOCKET_CHECK, True, "apps.connections.open OK: new messages arrive as they are posted"
        )
    except RemoteError as e:
        detail = e.what + (f" ({e.code})" if e.code else "")
        return Check(SOCKET_CHECK, False, f"{detail}; {polling}", e.hint)
    except TimeoutError:
        return Check(SOCKET_CHECK, False, f"no answer within {CHECK_DEADLINE:g} s; {polling}", how)
    except Exception as e:  # doctor reports, it never crashes
        return unexpected(SOCKET_CHECK, e, ctx.token)
    finally:
        await client.aclose()

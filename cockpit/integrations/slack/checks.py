"""`cockpit doctor`'s checks of Slack: the bot token signs in (auth.test) and holds every
scope cockpit needs (its `x-oauth-scopes` header, see scopes.py), and Socket Mode:
the app-level token opens a connection URL (apps.connections.open; the URL is not used),
or, without one, how long new messages can take when polling only."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from cockpit.integrations.base import env_var
from cockpit.integrations.checks import (
    CHECK_DEADLINE,
    Check,
    CheckFailed,
    DoctorContext,
    sign_in_check,
    unexpected,
)
from cockpit.integrations.slack.scopes import PRIVATE_CHANNELS, missing, parse_scopes
from cockpit.integrations.slack.settings import slack_settings

if TYPE_CHECKING:
    from cockpit.integrations.base import RemoteClient
    from cockpit.integrations.slack.client import SlackClient

APP_TOKEN = "slack-app"  # the secret name of Slack's app-level token (Socket Mode)
SOCKET_CHECK = "Slack socket mode"


async def check_sign_in(ctx: DoctorContext) -> Check:
    """auth.test signs in, and its `x-oauth-scopes` header holds every scope cockpit's
    calls need (`scopes.REQUIRED`); a missing one fails the check, named."""

    async def probe(client: RemoteClient) -> str:
        slack = cast("SlackClient", client)
        reply = await slack.request("GET", "auth.test")
        doc = reply.as_dict()
        if doc.get("ok") is not True:
            # refused: ask again through the client, which says why in plain words
            who = await slack.auth_test()
            return f"signed in as {who.user or who.user_id} on {who.team or who.team_id}"
        signed_in = f"signed in as {_identity(doc)}"
        header = reply.headers.get("x-oauth-scopes")
        if header is None:
            return signed_in  # Slack did not say (a proxy?): nothing to compare
        held = parse_scopes(header)
        lacking = missing(held)
        if lacking:
            plural = "s" if len(lacking) > 1 else ""
            raise CheckFailed(
                f"{signed_in}, but the token lacks the scope{plural} {', '.join(lacking)}"
                f" (it has {', '.join(sorted(held)) or 'none'})",
                f"add {'them' if plural else 'it'} to the app (OAuth & Permissions → Bot Token "
                f"Scopes), reinstall it, then `cockpit auth set slack`",
            )
        private = missing(held, PRIVATE_CHANNELS)
        if private:
            return (
                f"{signed_in}; every scope cockpit needs (for private channels also add "
                f"{', '.join(private)})"
            )
        return f"{signed_in}; every scope cockpit needs"

    return await sign_in_check(ctx, probe)


def _identity(doc: dict[str, object]) -> str:
    from cockpit.domain.sanitize import sanitize

    user = str(doc.get("user") or doc.get("user_id") or "")
    team = str(doc.get("team") or doc.get("team_id") or "")
    return sanitize(f"{user} on {team}", single_line=True)


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

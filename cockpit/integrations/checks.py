"""Doctor checks of the remote systems: the verdict (`Check`), what a check is given
(`DoctorContext`), and the common sign-in check (`sign_in_check`).

Each system's package declares its checks (`Integration.checks`); `cockpit doctor`
(cockpit/doctor.py) runs those of every configured system. A check never raises and never
shows a token. Nothing here imports httpx until a check runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from cockpit.integrations.base import Check, DoctorCheck, DoctorContext, env_var
from cockpit.integrations.errors import redact, shorten

if TYPE_CHECKING:
    from cockpit.integrations.base import RemoteClient

__all__ = ["Check", "CheckFailed", "DoctorCheck", "DoctorContext", "sign_in_check"]

CHECK_DEADLINE = 15.0  # seconds for each remote check as a whole


class CheckFailed(Exception):
    """Raised by a probe: the check fails with this detail and hint."""

    def __init__(self, detail: str, hint: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint


Probe = Callable[["RemoteClient"], Awaitable[str]]


async def sign_in_check(ctx: DoctorContext, probe: Probe) -> Check:
    """A system's token is set and works: `probe(client)` makes one harmless authenticated
    call and returns what it proves ("signed in as …"). Without a token, or offline, no
    call is made."""
    label, name = ctx.integration.label, ctx.integration.token_name
    if ctx.unavailable:
        return Check(label, False, f"no token: {ctx.unavailable}", ctx.unavailable_hint)
    if not ctx.token:
        return Check(
            label,
            False,
            "configured, but no token is set",
            f"cockpit auth set {name} (or set {env_var(name)}, less safe)",
        )
    if ctx.offline:
        return Check(label, None, "token set; not checked (--offline)")
    import asyncio

    from cockpit.integrations.errors import RemoteError
    from cockpit.integrations.http import NO_RETRY

    client: RemoteClient | None = None
    try:
        async with asyncio.timeout(CHECK_DEADLINE):
            client = ctx.client(retry=NO_RETRY)
            detail = await probe(client)
        return Check(label, True, detail)
    except CheckFailed as e:
        return Check(label, False, e.detail, e.hint)
    except RemoteError as e:
        return Check(label, False, e.what + (f" ({e.code})" if e.code else ""), e.hint)
    except TimeoutError:
        return Check(
            label,
            False,
            f"no answer within {CHECK_DEADLINE:g} s",
            "check the network and the URL in the config",
        )
    except Exception as e:  # doctor reports, it never crashes
        return unexpected(label, e, ctx.token)
    finally:
        if client is not None:
            await client.aclose()


def unexpected(label: str, e: Exception, token: str | None) -> Check:
    """An exception no check foresaw, as a failed check (its text without the token)."""
    text = shorten(redact(str(e), [token] if token else []), 200)
    return Check(label, False, f"unexpected error: {type(e).__name__}: {text}")

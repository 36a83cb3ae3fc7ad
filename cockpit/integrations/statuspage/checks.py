"""`cockpit doctor`'s check of Statuspage: the API key reads the page."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from cockpit.integrations.checks import Check, DoctorContext, sign_in_check

if TYPE_CHECKING:
    from cockpit.integrations.base import RemoteClient
    from cockpit.integrations.statuspage.client import StatuspageClient


async def check_sign_in(ctx: DoctorContext) -> Check:
    async def probe(client: RemoteClient) -> str:
        page = await cast("StatuspageClient", client).page()
        return f"page {page.name or page.id}"

    return await sign_in_check(ctx, probe)

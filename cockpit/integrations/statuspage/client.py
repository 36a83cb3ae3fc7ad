"""Atlassian Statuspage REST client: the public status page's incidents.

`Authorization: OAuth <key>`; REST at `<api_url>/pages/<page_id>/...`. Statuspage
allows about one request per second per key, so the client spaces its own requests
(`MinInterval`, clock and sleep injectable) and treats 420 like 429.

For the outbox's idempotency checks after an ambiguous failure, `create_incident` can
store a marker in the incident's metadata, and `find_incident_by_name` looks for an
incident we may already have created (by marker when given, else by exact name).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cockpit.domain.sanitize import sanitize, sanitize_tree
from cockpit.integrations.errors import RemoteError, shorten
from cockpit.integrations.http import ApiClient, Clock, MinInterval, Reply, Sleep, require

INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved")
COMPONENT_STATUSES = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)
IMPACTS = ("none", "maintenance", "minor", "major", "critical")
METADATA_KEY = "cockpit"


@dataclass(frozen=True)
class Page:
    id: str
    name: str
    url: str = ""


@dataclass(frozen=True)
class Component:
    id: str
    name: str
    status: str = ""
    group: bool = False
    group_id: str = ""


@dataclass(frozen=True)
class Incident:
    id: str
    name: str
    status: str
    impact: str = ""
    shortlink: str = ""
    marker: str = ""  # our marker from the incident's metadata, if any
    updates: int = 0  # how many incident updates it has


def _check(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not a Statuspage {what}; use one of " + ", ".join(allowed))
    return value


class StatuspageClient(ApiClient):
    system = "Statuspage"
    auth_hint = "check the Statuspage API key (manage.statuspage.io → API info)"
    rate_limit_statuses = frozenset({420, 429})

    def __init__(
        self,
        api_url: str,
        page_id: str,
        token: str,
        *,
        min_interval: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        **kwargs: Any,
    ) -> None:
        """`kwargs` go to `ApiClient` (transport, retry, deadline, …); `clock` and
        `sleep` drive both the retries and the one-request-per-second spacing."""
        limiter = MinInterval(min_interval, clock=clock, sleep=sleep)
        super().__init__(
            api_url,
            headers={"Authorization": f"OAuth {token}"},
            secrets=(token,),
            limiter=limiter,
            clock=clock,
            sleep=sleep,
            **kwargs,
        )
        self.page_id = page_id
        self._page = f"pages/{quote(page_id, safe='')}"

    # -- errors ---------------------------------------------------------------------------
    def error_for_status(self, reply: Reply, body: bytes, content_type: str) -> RemoteError:
        message = _sp_message(reply.data)
        if not message:
            return super().error_for_status(reply, body, content_type)
        what = {
            401: "the API key was refused",
            403: "the API key may not do this",
            404: "not found",
        }.get(reply.status, "refused the request")
        hint = {
            401: self.auth_hint,
            403: "use a key of a page owner",
            404: "check the page id and the incident id",
        }.get(reply.status, "")
        return self.error(f"{what}: {message}", hint=hint, status=reply.status)

    # -- calls ----------------------------------------------------------------------------
    async def page(self) -> Page:
        reply = await self.request("GET", self._page)
        doc = reply.as_dict()
        return Page(
            id=sanitize(require(doc, "id", str, reply), single_line=True),
            name=sanitize(doc.get("name") or "", single_line=True),
            url=sanitize(doc.get("url") or "", single_line=True),
        )

    async def components(self) -> list[Component]:
        out: list[Component] = []
        page = 1
        per_page = 100
        while True:
            reply = await self.request(
                "GET", f"{self._page}/components", params={"page": page, "per_page": per_page}
            )
            items = reply.as_list()
            for c in items:
                if isinstance(c, dict) and isinstance(c.get("id"), str):
                    out.append(
                        Component(
                            id=sanitize(c["id"], single_line=True),
                            name=sanitize(c.get("name") or "", single_line=True),
                            status=sanitize(c.get("status") or "", single_line=True),
                            group=bool(c.get("group")),
                            group_id=sanitize(c.get("group_id") or "", single_line=True),
                        )
                    )
            if len(items) < per_page or page >= 50:
                return out
            page += 1

    async def create_incident(
        self,
        name: str,
        status: str,
        body: str,
        component_ids: Iterable[str] = (),
        component_status: str = "major_outage",
        impact_override: str | None = None,
        *,
        deliver_notifications: bool = True,
        marker: str | None = None,
    ) -> Incident:
        """Open an incident; its affected components are set to `component_status`."""
        ids = list(component_ids)
        incident: dict[str, Any] = {
            "name": sanitize(name, single_line=True)[:255],
            "status": _check(status, INCIDENT_STATUSES, "incident status"),
            "body": body,
            "deliver_notifications": deliver_notifications,
        }
        if ids:
            _check(component_status, COMPONENT_STATUSES, "component status")
            incident["component_ids"] = ids
            incident["components"] = {cid: component_status for cid in ids}
        if impact_override is not None:
            incident["impact_override"] = _check(impact_override, IMPACTS, "impact")
        if marker:
            incident["metadata"] = {METADATA_KEY: {"marker": marker}}
        reply = await self.request(
            "POST", f"{self._page}/incidents", json_body={"incident": incident}
        )
        return self._incident(reply.as_dict(), reply)

    async def update_incident(
        self,
        incident_id: str,
        status: str,
        body: str,
        components: Mapping[str, str] | None = None,
        *,
        impact_override: str | None = None,
        deliver_notifications: bool = True,
    ) -> Incident:
        """Post an update (`body`) and set the status; `components` maps id → status."""
        incident: dict[str, Any] = {
            "status": _check(status, INCIDENT_STATUSES, "incident status"),
            "body": body,
            "deliver_notifications": deliver_notifications,
        }
        if impact_override is not None:
            incident["impact_override"] = _check(impact_override, IMPACTS, "impact")
        if components:
            incident["components"] = {
                cid: _check(st, COMPONENT_STATUSES, "component status")
                for cid, st in components.items()
            }
            incident["component_ids"] = list(components)
        reply = await self.request(
            "PATCH",
            f"{self._page}/incidents/{quote(incident_id, safe='')}",
            json_body={"incident": incident},
        )
        return self._incident(reply.as_dict(), reply)

    async def resolve_incident(
        self,
        incident_id: str,
        body: str,
        component_ids: Iterable[str] = (),
        *,
        deliver_notifications: bool = True,
    ) -> Incident:
        """Resolve the incident; the given components go back to operational."""
        comps = {cid: "operational" for cid in component_ids}
        return await self.update_incident(
            incident_id,
            "resolved",
            body,
            comps or None,
            deliver_notifications=deliver_notifications,
        )

    async def get_incident(self, incident_id: str) -> Incident:
        reply = await self.request("GET", f"{self._page}/incidents/{quote(incident_id, safe='')}")
        return self._incident(reply.as_dict(), reply)

    async def list_incidents(self, q: str | None = None, *, limit: int = 100) -> list[Incident]:
        """Incidents newest first; `q` searches their names and updates."""
        reply = await self.request(
            "GET", f"{self._page}/incidents", params={"q": q, "limit": limit}
        )
        return [self._incident(i, reply) for i in reply.as_list() if isinstance(i, dict)]

    async def find_incident_by_name(
        self, name: str, *, marker: str | None = None
    ) -> Incident | None:
        """An incident we may already have created: by `marker` if given, else the
        newest whose name is exactly `name`."""
        wanted = sanitize(name, single_line=True)[:255]
        found = await self.list_incidents(q=wanted)
        if marker:
            by_marker = next((i for i in found if i.marker == marker), None)
            if by_marker is not None:
                return by_marker
        return next((i for i in found if i.name == wanted), None)

    def _incident(self, doc: Mapping[str, Any], reply: Reply) -> Incident:
        meta = sanitize_tree(doc.get("metadata"))
        marker = ""
        if isinstance(meta, dict) and isinstance(meta.get(METADATA_KEY), dict):
            marker = str(meta[METADATA_KEY].get("marker") or "")
        updates = doc.get("incident_updates")
        return Incident(
            id=sanitize(require(doc, "id", str, reply), single_line=True),
            name=sanitize(doc.get("name") or "", single_line=True),
            status=sanitize(doc.get("status") or "", single_line=True),
            impact=sanitize(doc.get("impact") or "", single_line=True),
            shortlink=sanitize(doc.get("shortlink") or "", single_line=True),
            marker=marker,
            updates=len(updates) if isinstance(updates, list) else 0,
        )


def _sp_message(doc: object) -> str:
    """Statuspage's {"error": "..."} / {"error": [...]} / {"message": "..."}."""
    if not isinstance(doc, dict):
        return ""
    for key in ("error", "errors", "message"):
        value = doc.get(key)
        if isinstance(value, str) and value:
            return shorten(value, 240)
        if isinstance(value, list) and value:
            return shorten("; ".join(str(v) for v in value), 240)
        if isinstance(value, dict) and value:
            return shorten("; ".join(f"{k} {v}" for k, v in value.items()), 240)
    return ""

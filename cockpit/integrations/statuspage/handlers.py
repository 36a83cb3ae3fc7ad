"""Statuspage's outbox operations: statuspage.create (the public incident) and
statuspage.update.

After an uncertain attempt the incident we opened is found by the marker in its metadata,
an update by the incident's count of updates, noted before the first attempt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cockpit.domain.errors import CockpitError
from cockpit.domain.incident import Incident, Link, status_page_text
from cockpit.domain.outbox import OutboxItem
from cockpit.domain.timeline import TimelineEntry
from cockpit.integrations.base import HandlerContext, Handlers, Operation, Outcome
from cockpit.integrations.statuspage.client import StatuspageClient
from cockpit.integrations.statuspage.settings import StatuspageSettings, statuspage_settings


def status_page_id(incident: Incident) -> str:
    if incident.links.status_page is None:
        raise CockpitError("there is no status-page incident yet: post the first update")
    return incident.links.status_page.label


def _public_name(incident: Incident) -> str:
    from cockpit.domain.templates import public_name

    return public_name(incident.affected_components)


class StatuspageHandlers(Handlers[StatuspageClient]):
    def __init__(self, ctx: HandlerContext[StatuspageClient]) -> None:
        super().__init__(ctx)
        self._components: dict[str, str] = {}
        self.operations = {
            "create": Operation(self.create, find=self.find_create),
            "update": Operation(
                self.update,
                find=self.find_update,
                note_before=self.note_before_update,
                message=True,
            ),
        }

    def _settings(self) -> StatuspageSettings:
        return statuspage_settings(self.settings)

    async def component_ids(self, names: list[str]) -> list[str]:
        """The ids of the page's components called `names` (the list asked once)."""
        if self.ctx.maybe_client is None or not names:
            return []
        if not self._components:
            components = await self.ctx.client.components()
            self._components = {c.name.lower(): c.id for c in components}
        return [self._components[n.lower()] for n in names if n.lower() in self._components]

    def _outcome(self, sp_id: str, shortlink: str, item: OutboxItem, incident: Incident) -> Outcome:
        s = self._settings()
        url = shortlink or f"{s.api_url}/pages/{s.page_id}/incidents/{sp_id}"

        def apply(inc: Incident, at: datetime, by: str) -> list[TimelineEntry]:
            inc.links.status_page = Link(url, sp_id)
            return []

        return Outcome(
            remote_id=sp_id,
            remote_link=url,
            text=status_page_text(
                str(item.params.get("status", "investigating")),
                self._names(item, incident),
                opened=True,
            ),
            apply=apply,
        )

    @staticmethod
    def _names(item: OutboxItem, incident: Incident) -> list[str]:
        """The affected components the person picked (items queued before the pick
        existed: the incident's)."""
        named = item.params.get("components")
        if isinstance(named, list):
            return [str(n) for n in named]
        return list(incident.affected_components)

    @staticmethod
    def _impact(item: OutboxItem) -> str | None:
        impact = item.params.get("impact")
        return str(impact) if impact else None

    # -- statuspage.create -------------------------------------------------------------------
    async def create(self, item: OutboxItem, incident: Incident) -> Outcome:
        if incident.links.status_page is not None:
            # a teammate's cockpit opened the page's incident meanwhile (its team event
            # linked it here): this update goes to that one, never opens a second
            return await self.update(item, incident)
        sp = self.ctx.client
        ids = await self.component_ids(self._names(item, incident))
        created = await sp.create_incident(
            str(item.params.get("name") or _public_name(incident)),
            str(item.params.get("status", "investigating")),
            self.ctx.text(item, incident),
            ids,
            str(item.params.get("component_status", "major_outage")),
            self._impact(item),
            deliver_notifications=bool(item.params.get("notify", True)),
            marker=item.id,
        )
        return self._outcome(created.id, created.shortlink, item, incident)

    async def find_create(self, item: OutboxItem, incident: Incident) -> Outcome | None:
        name = str(item.params.get("name") or _public_name(incident))
        found = await self.ctx.client.find_incident_by_name(name, marker=item.id)
        if found is None or found.marker != item.id:
            return None
        return self._outcome(found.id, found.shortlink, item, incident)

    # -- statuspage.update -------------------------------------------------------------------
    async def update(self, item: OutboxItem, incident: Incident) -> Outcome:
        sp = self.ctx.client
        sp_id = status_page_id(incident)
        status = str(item.params["status"])
        ids = await self.component_ids(self._names(item, incident))
        text = self.ctx.text(item, incident)
        notify = bool(item.params.get("notify", True))
        if status == "resolved":
            await sp.resolve_incident(sp_id, text, ids, deliver_notifications=notify)
        else:
            if "component_status" in item.params:
                comps: dict[str, str] | None = {
                    cid: str(item.params["component_status"]) for cid in ids
                }
            else:  # queued before the statuses were planned: as then
                comps = {cid: "major_outage" for cid in ids} if status != "monitoring" else None
            await sp.update_incident(
                sp_id,
                status,
                text,
                comps,
                impact_override=self._impact(item),
                deliver_notifications=notify,
            )
        return Outcome(
            remote_id=sp_id,
            remote_link=incident.links.status_page.url if incident.links.status_page else "",
            text=status_page_text(status, self._names(item, incident)),
        )

    async def find_update(self, item: OutboxItem, incident: Incident) -> Outcome | None:
        before = item.notes.get("updates_before")
        if before is None:
            return None
        current = await self.ctx.client.get_incident(status_page_id(incident))
        if current.updates > int(before):
            text = status_page_text(str(item.params["status"]), self._names(item, incident))
            return Outcome(remote_id=current.id, text=text)
        return None

    async def note_before_update(self, item: OutboxItem, incident: Incident) -> dict[str, Any]:
        if incident.links.status_page is None:
            return {}
        current = await self.ctx.client.get_incident(status_page_id(incident))
        return {"updates_before": current.updates}

"""What each outbox operation does on the remote systems, and how to find its effect.

`RemoteActions.perform(item, incident)` does an item's effect; `find(item, incident)`
looks for it after an uncertain attempt (a marker in Slack message metadata, a label on
the Jira issue, a comment property, the status page's incident metadata or update
count). No store and no Textual here: the sender (`cockpit.application.outbox`) keeps the
items on disk and calls these.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cockpit.config import Settings
from cockpit.domain.errors import CockpitError
from cockpit.domain.incident import Incident, Link
from cockpit.domain.outbox import OutboxItem
from cockpit.domain.timeline import TimelineEntry
from cockpit.integrations import adf
from cockpit.integrations.errors import NameTaken, RemoteError
from cockpit.integrations.jira import JiraClient
from cockpit.integrations.slack import SlackClient, channel_name, marker_metadata
from cockpit.integrations.statuspage import StatuspageClient

log = logging.getLogger("cockpit.outbox")

MARKER_LABEL_PREFIX = "cockpit-"
_PERMALINK = re.compile(r"/archives/([A-Z0-9]+)/p(\d{10})(\d{6})")

Render = Callable[[Incident, str], str]


def thread_of(link: Link | None) -> tuple[str, str] | None:
    """(channel id, thread ts) from a Slack permalink, or None."""
    if link is None:
        return None
    m = _PERMALINK.search(link.url)
    if not m:
        return None
    return m.group(1), f"{m.group(2)}.{m.group(3)}"


def channel_id_of(link: Link | None) -> str | None:
    if link is None:
        return None
    m = re.search(r"/archives/([A-Z0-9]+)", link.url)
    return m.group(1) if m else None


def permalink(workspace_url: str, channel_id: str, ts: str) -> str:
    return f"{workspace_url.rstrip('/')}/archives/{channel_id}/p{ts.replace('.', '')}"


def marker_label(item: OutboxItem) -> str:
    return f"{MARKER_LABEL_PREFIX}{item.id}"


@dataclass
class Outcome:
    """What an action achieved: the remote thing it made, and what changes locally."""

    remote_id: str = ""
    remote_link: str = ""
    text: str = ""  # the timeline line for it
    apply: Callable[[Incident, datetime, str], list[TimelineEntry]] | None = None


@dataclass
class Clients:
    settings: Settings
    slack: SlackClient | None = None
    jira: JiraClient | None = None
    statuspage: StatuspageClient | None = None
    _workspace: str = ""
    _account: str = ""
    _components: dict[str, str] = field(default_factory=dict)

    async def workspace_url(self) -> str:
        if not self._workspace and self.slack is not None:
            self._workspace = (await self.slack.auth_test()).url.rstrip("/")
        return self._workspace

    async def account_id(self) -> str:
        if not self._account and self.jira is not None:
            self._account = (await self.jira.myself()).account_id
        return self._account

    async def component_ids(self, names: list[str]) -> list[str]:
        if self.statuspage is None or not names:
            return []
        if not self._components:
            self._components = {c.name.lower(): c.id for c in await self.statuspage.components()}
        return [self._components[n.lower()] for n in names if n.lower() in self._components]

    async def aclose(self) -> None:
        for client in (self.slack, self.jira, self.statuspage):
            if client is not None:
                await client.aclose()


class NotConfigured(CockpitError):
    pass


class RemoteActions:
    """Each operation: perform it, or find its effect after an uncertain attempt."""

    def __init__(self, clients: Clients, render: Render) -> None:
        self.c = clients
        self.render = render

    def _slack(self) -> SlackClient:
        if self.c.slack is None:
            raise NotConfigured("Slack is not configured ([slack] in the config)")
        return self.c.slack

    def _jira(self) -> JiraClient:
        if self.c.jira is None:
            raise NotConfigured("Jira is not configured ([jira] in the config)")
        return self.c.jira

    def _statuspage(self) -> StatuspageClient:
        if self.c.statuspage is None:
            raise NotConfigured("the status page is not configured ([statuspage] in the config)")
        return self.c.statuspage

    def _text(self, item: OutboxItem, incident: Incident) -> str:
        if "text" in item.params:
            return str(item.params["text"])
        return self.render(incident, str(item.params["template"]))

    async def perform(self, item: OutboxItem, incident: Incident) -> Outcome:
        handler: Callable[[OutboxItem, Incident], Awaitable[Outcome]] = getattr(
            self, "do_" + item.operation.replace(".", "_")
        )
        return await handler(item, incident)

    async def find(self, item: OutboxItem, incident: Incident) -> Outcome | None:
        finder = getattr(self, "find_" + item.operation.replace(".", "_"), None)
        if finder is None:  # idempotent operations: doing it again is the check
            return None
        result: Outcome | None = await finder(item, incident)
        return result

    # -- Jira ---------------------------------------------------------------------------
    def _ticket(self, incident: Incident) -> str:
        if incident.links.ticket is None:
            raise CockpitError("the incident has no ticket yet: create it first")
        return incident.links.ticket.label

    @staticmethod
    def _ticket_outcome(key: str, url: str) -> Outcome:
        def apply(inc: Incident, at: datetime, by: str) -> list[TimelineEntry]:
            link = Link(url, key)
            if inc.acknowledged_at is None:
                return [inc.acknowledge(at=at, by=by, ticket=link)]
            inc.links.ticket = link
            return []

        return Outcome(remote_id=key, remote_link=url, text=f"ticket {key} created", apply=apply)

    async def do_jira_create_issue(self, item: OutboxItem, incident: Incident) -> Outcome:
        jira, s = self._jira(), self.c.settings.jira
        assert s is not None
        lines = [incident.summary or incident.title]
        if incident.links.thread is not None:
            lines.append(f"Reported in Slack: {incident.links.thread.url}")
        lines.append(f"Tracked with cockpit (incident {incident.id}).")
        created = await jira.create_issue(
            s.project,
            incident.title,
            adf.from_plain("\n\n".join(lines)),
            s.issue_type,
            labels=["incident", "cockpit", marker_label(item)],
            properties={"cockpit": {"marker": item.id, "incident": incident.id}},
        )
        return self._ticket_outcome(created.key, created.url)

    async def find_jira_create_issue(self, item: OutboxItem, incident: Incident) -> Outcome | None:
        s = self.c.settings.jira
        assert s is not None
        found = await self._jira().search_by_label(marker_label(item), project=s.project)
        return self._ticket_outcome(found[0].key, found[0].url) if found else None

    async def do_jira_transition(self, item: OutboxItem, incident: Incident) -> Outcome:
        jira, s = self._jira(), self.c.settings.jira
        assert s is not None
        key = self._ticket(incident)
        to = str(item.params["to"])
        name = {
            "fixing": s.transition_fixing,
            "monitoring": s.transition_monitoring,
            "resolved": s.transition_resolved,
            "canceled": s.transition_canceled,
        }[to]
        await jira.transition_to(key, name)
        if item.params.get("assign_me"):
            await jira.assign(key, await self.c.account_id())
        return Outcome(
            remote_id=key, remote_link=jira.browse_url(key), text=f"{key} marked {name} in Jira"
        )

    async def do_jira_comment(self, item: OutboxItem, incident: Incident) -> Outcome:
        jira = self._jira()
        key = self._ticket(incident)
        cid = await jira.add_comment(
            key, adf.from_plain(self._text(item, incident)), marker=item.id
        )
        return Outcome(
            remote_id=cid, remote_link=jira.browse_url(key), text=f"comment added to {key}"
        )

    async def find_jira_comment(self, item: OutboxItem, incident: Incident) -> Outcome | None:
        jira = self._jira()
        key = self._ticket(incident)
        cid = await jira.find_comment_with_marker(key, item.id)
        if cid is None:
            return None
        return Outcome(
            remote_id=cid, remote_link=jira.browse_url(key), text=f"comment added to {key}"
        )

    async def do_jira_remote_link(self, item: OutboxItem, incident: Incident) -> Outcome:
        jira = self._jira()
        key = self._ticket(incident)
        what = str(item.params["what"])
        link = incident.links.channel if what == "channel" else incident.links.status_page
        if link is None:
            raise CockpitError(f"the incident has no {what.replace('_', ' ')} link to add")
        title = link.label if what == "channel" else f"Status page: {incident.title}"
        await jira.remote_link(key, link.url, title)
        return Outcome(
            remote_id=key,
            remote_link=jira.browse_url(key),
            text=f"{key} links to {link.label or link.url}",
        )

    async def do_jira_create_follow_up(self, item: OutboxItem, incident: Incident) -> Outcome:
        jira, s = self._jira(), self.c.settings.jira
        assert s is not None
        key = self._ticket(incident)
        summary = str(item.params["summary"])
        project = s.follow_up_project or s.project
        created = await jira.create_issue(
            project,
            summary,
            adf.from_plain(f"Follow-up of {key}: {incident.title}"),
            "Task",
            labels=["follow-up", marker_label(item)],
        )
        return await self._linked_follow_up(item, key, created.key, created.url)

    async def find_jira_create_follow_up(
        self, item: OutboxItem, incident: Incident
    ) -> Outcome | None:
        found = await self._jira().search_by_label(marker_label(item))
        if not found:
            return None
        return await self._linked_follow_up(
            item, self._ticket(incident), found[0].key, found[0].url
        )

    async def _linked_follow_up(
        self, item: OutboxItem, key: str, new_key: str, url: str
    ) -> Outcome:
        await self._jira().link_issues(key, new_key)
        kind = str(item.params.get("kind", "follow-up"))

        def apply(inc: Incident, at: datetime, by: str) -> list[TimelineEntry]:
            target = inc.links.bugs if kind == "bug" else inc.links.follow_ups
            if all(x.label != new_key for x in target):
                target.append(Link(url, new_key))
            return []

        return Outcome(
            remote_id=new_key,
            remote_link=url,
            text=f"{kind} {new_key} created and linked from {key}",
            apply=apply,
        )

    async def do_jira_link_issue(self, item: OutboxItem, incident: Incident) -> Outcome:
        jira = self._jira()
        key = self._ticket(incident)
        other = str(item.params["key"]).strip().upper()
        await jira.link_issues(key, other)
        url = jira.browse_url(other)

        def apply(inc: Incident, at: datetime, by: str) -> list[TimelineEntry]:
            if all(x.label != other for x in inc.links.bugs):
                inc.links.bugs.append(Link(url, other))
            return []

        return Outcome(
            remote_id=other, remote_link=url, text=f"{key} linked to bug {other}", apply=apply
        )

    # -- Slack --------------------------------------------------------------------------
    def _channel_base(self, incident: Incident) -> str:
        s = self.c.settings.slack
        assert s is not None
        number = incident.id
        if incident.links.ticket is not None:
            m = re.search(r"(\d+)$", incident.links.ticket.label)
            if m:
                number = m.group(1)
        return channel_name(f"{s.channel_prefix}{number}")

    async def _channel_outcome(self, channel_id: str, name: str) -> Outcome:
        url = permalink(await self.c.workspace_url(), channel_id, "0.0").rsplit("/p", 1)[0]

        def apply(inc: Incident, at: datetime, by: str) -> list[TimelineEntry]:
            inc.links.channel = Link(url, f"#{name}")
            return []

        return Outcome(
            remote_id=channel_id, remote_link=url, text=f"channel #{name} created", apply=apply
        )

    async def do_slack_create_channel(self, item: OutboxItem, incident: Incident) -> Outcome:
        slack = self._slack()
        base = self._channel_base(incident)
        for n in range(1, 6):
            name = base if n == 1 else f"{base}-{n}"
            try:
                ch = await slack.create_channel(name)
            except NameTaken:
                continue
            topic = incident.title
            if incident.links.ticket is not None:
                topic += f" · {incident.links.ticket.url}"
            await slack.set_topic(ch.id, topic[:250])
            return await self._channel_outcome(ch.id, ch.name)
        raise RemoteError(
            "Slack",
            f"channels {base} to {base}-5 all exist",
            hint=f"create the channel by hand (e.g. #{base}-x) and link it "
            "from the ticket, as the playbook's fallback says",
            code="name_taken",
        )

    async def find_slack_create_channel(
        self, item: OutboxItem, incident: Incident
    ) -> Outcome | None:
        """After an uncertain attempt: a channel with one of our names that the bot is in
        (its creator always is) is the one we made."""
        base = self._channel_base(incident)
        for n in range(5, 0, -1):
            name = base if n == 1 else f"{base}-{n}"
            ch = await self._slack().find_channel(name)
            if ch is not None and ch.is_member:
                return await self._channel_outcome(ch.id, ch.name)
        return None

    def _target(self, item: OutboxItem, incident: Incident) -> tuple[str, str | None]:
        to = str(item.params["to"])
        if to == "thread":
            where = thread_of(incident.links.thread)
            if where is None:
                raise CockpitError("the incident has no Slack thread to reply in")
            return where
        if to == "channel":
            cid = channel_id_of(incident.links.channel)
            if cid is None:
                raise CockpitError("the incident has no channel yet: create it first")
            return cid, None
        s = self.c.settings.slack
        assert s is not None
        return to.lstrip("#") or s.incidents_channel, None

    async def do_slack_post(self, item: OutboxItem, incident: Incident) -> Outcome:
        slack = self._slack()
        channel, thread_ts = self._target(item, incident)
        posted = await slack.post_message(
            channel,
            self._text(item, incident),
            thread_ts=thread_ts,
            metadata=marker_metadata(item.id),
        )
        return await self._posted(item, posted.channel, posted.ts)

    async def find_slack_post(self, item: OutboxItem, incident: Incident) -> Outcome | None:
        channel, thread_ts = self._target(item, incident)
        oldest = item.notes.get("oldest")
        found = await self._slack().find_message_with_marker(
            channel, item.id, str(oldest) if oldest else None, thread_ts=thread_ts
        )
        return None if found is None else await self._posted(item, found.channel, found.ts)

    async def _posted(self, item: OutboxItem, channel: str, ts: str) -> Outcome:
        link = permalink(await self.c.workspace_url(), channel, ts)
        return Outcome(remote_id=ts, remote_link=link, text=f"{item.title}: posted")

    async def do_slack_invite(self, item: OutboxItem, incident: Incident) -> Outcome:
        cid = channel_id_of(incident.links.channel)
        if cid is None:
            raise CockpitError("the incident has no channel yet: create it first")
        users = [str(u) for u in item.params["users"]]
        await self._slack().invite(cid, users)
        return Outcome(remote_id=cid, text=f"invited {', '.join(users)}")

    # -- Statuspage -----------------------------------------------------------------------
    def _sp_outcome(self, sp_id: str, shortlink: str) -> Outcome:
        s = self.c.settings.statuspage
        assert s is not None
        url = shortlink or f"{s.api_url}/pages/{s.page_id}/incidents/{sp_id}"

        def apply(inc: Incident, at: datetime, by: str) -> list[TimelineEntry]:
            inc.links.status_page = Link(url, sp_id)
            return []

        return Outcome(
            remote_id=sp_id, remote_link=url, text="status-page incident opened", apply=apply
        )

    def _sp_name(self, incident: Incident) -> str:
        from cockpit.domain.templates import public_name

        return public_name(incident.affected_components)

    async def do_statuspage_create(self, item: OutboxItem, incident: Incident) -> Outcome:
        sp = self._statuspage()
        ids = await self.c.component_ids(list(incident.affected_components))
        created = await sp.create_incident(
            str(item.params.get("name") or self._sp_name(incident)),
            str(item.params.get("status", "investigating")),
            self._text(item, incident),
            ids,
            str(item.params.get("component_status", "major_outage")),
            marker=item.id,
        )
        return self._sp_outcome(created.id, created.shortlink)

    async def find_statuspage_create(self, item: OutboxItem, incident: Incident) -> Outcome | None:
        name = str(item.params.get("name") or self._sp_name(incident))
        found = await self._statuspage().find_incident_by_name(name, marker=item.id)
        if found is None or found.marker != item.id:
            return None
        return self._sp_outcome(found.id, found.shortlink)

    def _sp_id(self, incident: Incident) -> str:
        if incident.links.status_page is None:
            raise CockpitError("there is no status-page incident yet: post the first update")
        return incident.links.status_page.label

    async def do_statuspage_update(self, item: OutboxItem, incident: Incident) -> Outcome:
        sp = self._statuspage()
        sp_id = self._sp_id(incident)
        status = str(item.params["status"])
        ids = await self.c.component_ids(list(incident.affected_components))
        if status == "resolved":
            await sp.resolve_incident(sp_id, self._text(item, incident), ids)
        else:
            comps = (
                {cid: str(item.params.get("component_status", "major_outage")) for cid in ids}
                if status != "monitoring"
                else None
            )
            await sp.update_incident(sp_id, status, self._text(item, incident), comps)
        return Outcome(
            remote_id=sp_id,
            remote_link=incident.links.status_page.url if incident.links.status_page else "",
            text=f"status page: {status}",
        )

    async def find_statuspage_update(self, item: OutboxItem, incident: Incident) -> Outcome | None:
        before = item.notes.get("updates_before")
        if before is None:
            return None
        current = await self._statuspage().get_incident(self._sp_id(incident))
        if current.updates > int(before):
            return Outcome(remote_id=current.id, text=f"status page: {item.params['status']}")
        return None

    async def note_before(self, item: OutboxItem, incident: Incident) -> dict[str, Any]:
        """Facts to keep before the first attempt, for finding the effect later."""
        if item.operation == "statuspage.update" and incident.links.status_page is not None:
            current = await self._statuspage().get_incident(self._sp_id(incident))
            return {"updates_before": current.updates}
        if item.operation == "slack.post":
            # generous: our clock and Slack's may differ, and a queue may wait for hours
            return {"oldest": f"{(item.created_at - timedelta(days=1)).timestamp():.6f}"}
        return {}


def build_clients(
    settings: Settings, token: Callable[[str], str | None], **client_kw: Any
) -> Clients:
    """The clients for every configured system that has a token (`token(name)`)."""
    clients = Clients(settings)
    if settings.slack is not None and (t := token("slack")):
        clients.slack = SlackClient(settings.slack.api_url, t, **client_kw)
    if settings.jira is not None and (t := token("jira")):
        clients.jira = JiraClient(settings.jira.url, settings.jira.email, t, **client_kw)
    if settings.statuspage is not None and (t := token("statuspage")):
        sp = settings.statuspage
        clients.statuspage = StatuspageClient(sp.api_url, sp.page_id, t, **client_kw)
    return clients

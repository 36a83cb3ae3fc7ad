"""Slack's outbox operations: slack.create_channel, slack.post, slack.invite.

Each request with an effect is a durable step (`Step`), looked for after an uncertain
attempt:

* slack.create_channel: "create" (find: a channel with one of our names that the bot is
  in) → "topic" (find: the channel's topic reads ours; setting it again is harmless);
* slack.post: "post" (find: a message carrying the item's marker in its metadata); its
  permalink needs the workspace URL (auth.test, a read), worked out after the step is
  noted, so a lost auth.test never posts the message again;
* slack.invite: one idempotent request.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta
from typing import Any

from cockpit.domain.errors import CockpitError
from cockpit.domain.escape import slack_escape
from cockpit.domain.incident import Incident, Link
from cockpit.domain.outbox import OutboxItem
from cockpit.domain.team import BadEvent, raised_event
from cockpit.domain.timeline import TimelineEntry
from cockpit.integrations.base import HandlerContext, Handlers, Operation, Outcome, Step
from cockpit.integrations.errors import NameTaken, RemoteError
from cockpit.integrations.slack.client import SlackClient, channel_name, marker_metadata
from cockpit.integrations.slack.links import channel_id_of, permalink, thread_of
from cockpit.integrations.slack.settings import SlackSettings, slack_settings


class SlackHandlers(Handlers[SlackClient]):
    def __init__(self, ctx: HandlerContext[SlackClient]) -> None:
        super().__init__(ctx)
        self._workspace = ""
        self.operations = {
            "create_channel": Operation(
                self.channel_created,
                steps=(
                    Step("create", self.create_channel, find=self.find_create_channel),
                    Step("topic", self.set_topic, find=self.find_topic),
                ),
            ),
            "post": Operation(
                self.posted,
                steps=(Step("post", self.post, find=self.find_post),),
                note_before=self.note_before_post,
                message=True,
            ),
            "invite": Operation(self.invite),
        }

    async def workspace_url(self) -> str:
        """The workspace's URL, asked once (auth.test)."""
        if not self._workspace:
            self._workspace = await self.ctx.client.workspace_url()
        return self._workspace

    def _settings(self) -> SlackSettings:
        return slack_settings(self.settings)

    # -- slack.create_channel ---------------------------------------------------------------
    def _channel_base(self, incident: Incident) -> str:
        number = incident.id
        if incident.links.ticket is not None:
            m = re.search(r"(\d+)$", incident.links.ticket.label)
            if m:
                number = m.group(1)
        return channel_name(f"{self._settings().channel_prefix}{number}")

    async def _channel_outcome(self, channel_id: str, name: str) -> Outcome:
        url = permalink(await self.workspace_url(), channel_id, "0.0").rsplit("/p", 1)[0]

        def apply(inc: Incident, at: datetime, by: str) -> list[TimelineEntry]:
            inc.links.channel = Link(url, f"#{name}")
            return []

        return Outcome(
            remote_id=channel_id, remote_link=url, text=f"channel #{name} created", apply=apply
        )

    async def create_channel(self, item: OutboxItem, incident: Incident) -> dict[str, Any]:
        """Step "create": the channel, under the first of our names that is free."""
        slack = self.ctx.client
        base = self._channel_base(incident)
        for n in range(1, 6):
            name = base if n == 1 else f"{base}-{n}"
            try:
                ch = await slack.create_channel(name)
            except NameTaken:
                continue
            return {"id": ch.id, "name": ch.name}
        raise RemoteError(
            "Slack",
            f"channels {base} to {base}-5 all exist",
            hint=f"create the channel by hand (e.g. #{base}-x) and link it "
            "from the ticket, as the playbook's fallback says",
            code="name_taken",
        )

    async def find_create_channel(
        self, item: OutboxItem, incident: Incident
    ) -> dict[str, Any] | None:
        """After an uncertain attempt: a channel with one of our names that the bot is in
        (its creator always is) is the one we made."""
        base = self._channel_base(incident)
        for n in range(5, 0, -1):
            name = base if n == 1 else f"{base}-{n}"
            ch = await self.ctx.client.find_channel(name)
            if ch is not None and ch.is_member:
                return {"id": ch.id, "name": ch.name}
        return None

    @staticmethod
    def _topic(incident: Incident) -> str:
        topic = slack_escape(incident.title)  # a reporter's <!channel> stays text
        if incident.links.ticket is not None:
            topic += f" · {slack_escape(incident.links.ticket.url)}"
        return topic[:250]

    async def set_topic(self, item: OutboxItem, incident: Incident) -> dict[str, Any]:
        """Step "topic": the incident's title and ticket as the channel's topic."""
        await self.ctx.client.set_topic(str(item.step_facts("create")["id"]), self._topic(incident))
        return {}

    async def find_topic(self, item: OutboxItem, incident: Incident) -> dict[str, Any] | None:
        doc = await self.ctx.client.call(
            "conversations.info", {"channel": str(item.step_facts("create")["id"])}
        )
        channel = doc.get("channel")
        topic = channel.get("topic") if isinstance(channel, dict) else None
        value = topic.get("value") if isinstance(topic, dict) else None
        return {} if value == self._topic(incident) else None

    async def channel_created(self, item: OutboxItem, incident: Incident) -> Outcome:
        created = item.step_facts("create")
        return await self._channel_outcome(str(created["id"]), str(created["name"]))

    # -- slack.post -------------------------------------------------------------------------
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
        return to.lstrip("#") or self._settings().incidents_channel, None

    async def post(self, item: OutboxItem, incident: Incident) -> dict[str, Any]:
        """Step "post": the message, carrying the item's marker in its metadata."""
        slack = self.ctx.client
        channel, thread_ts = self._target(item, incident)
        posted = await slack.post_message(
            channel,
            self.ctx.text(item, incident),
            thread_ts=thread_ts,
            metadata=self._metadata(item, incident),
        )
        return {"channel": posted.channel, "ts": posted.ts}

    def _metadata(self, item: OutboxItem, incident: Incident) -> dict[str, Any]:
        """The message's metadata: the item's marker, inside the team event it shares (a
        change for the other cockpits, see cockpit.domain.team) if it carries one; the
        reply in the report's thread carries the incident as raised, made as it is sent
        (its ticket and channel exist by then)."""
        team = item.params.get("team")
        if isinstance(team, dict) and team.get("raised"):
            try:
                event = raised_event(
                    incident,
                    origin=str(team["origin"]),
                    at=item.created_at,
                    by=str(team.get("by") or ""),
                    event_id=str(team["raised"]),
                )
            except BadEvent:  # neither a ticket nor a channel came of the raise
                return marker_metadata(item.id)
            meta = event.metadata()
        elif isinstance(item.params.get("metadata"), dict):
            meta = copy.deepcopy(item.params["metadata"])
        else:
            return marker_metadata(item.id)
        meta["event_payload"]["marker"] = item.id
        return meta

    async def find_post(self, item: OutboxItem, incident: Incident) -> dict[str, Any] | None:
        channel, thread_ts = self._target(item, incident)
        oldest = item.notes.get("oldest")
        found = await self.ctx.client.find_message_with_marker(
            channel, item.id, str(oldest) if oldest else None, thread_ts=thread_ts
        )
        return None if found is None else {"channel": found.channel, "ts": found.ts}

    async def posted(self, item: OutboxItem, incident: Incident) -> Outcome:
        where = item.step_facts("post")
        return await self._posted(item, str(where["channel"]), str(where["ts"]))

    async def note_before_post(self, item: OutboxItem, incident: Incident) -> dict[str, Any]:
        # generous: our clock and Slack's may differ, and a queue may wait for hours
        return {"oldest": f"{(item.created_at - timedelta(days=1)).timestamp():.6f}"}

    async def _posted(self, item: OutboxItem, channel: str, ts: str) -> Outcome:
        link = permalink(await self.workspace_url(), channel, ts)
        quiet = isinstance(item.params.get("metadata"), dict)  # a team event: no entry
        return Outcome(remote_id=ts, remote_link=link, text=f"{item.title}: posted", quiet=quiet)

    # -- slack.invite -----------------------------------------------------------------------
    async def invite(self, item: OutboxItem, incident: Incident) -> Outcome:
        cid = channel_id_of(incident.links.channel)
        if cid is None:
            raise CockpitError("the incident has no channel yet: create it first")
        users = [str(u) for u in item.params["users"]]
        await self.ctx.client.invite(cid, users)
        return Outcome(remote_id=cid, text=f"invited {', '.join(users)}")

"""The durable outbox: every remote action is written down before it is attempted.

An item carries its state: QUEUED (waiting), SENDING (an attempt started: if cockpit dies
now, the next attempt first checks the remote system for the effect), SENT (with the
remote id and link), FAILED (with the reason, in plain words; the user retries or
discards it), DISCARDED (the user gave up on it). Items of one incident go out in order.

An operation of several requests (create a channel, then set its topic) goes step by step:
each step done is noted in `notes["done"]` ({step name: the facts it produced, such as the
remote ids}) on disk before the next one starts, so a later attempt resumes at the first
step not done and never redoes one. `uncertain` is about that first step not done. Items
written before steps existed have no "done" note: they start at the first step.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import msgspec
from msgspec.structs import replace

from cockpit.domain.clock import from_iso, to_iso, utc
from cockpit.domain.errors import IllegalTransition
from cockpit.domain.sanitize import sanitize, sanitize_tree
from cockpit.domain.timeline import new_entry_id

SCHEMA_VERSION = 1
MAX_AUTOMATIC_ATTEMPTS = 6


class OutboxState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DISCARDED = "discarded"

    @property
    def label(self) -> str:
        return self.value.upper()

    @property
    def pending(self) -> bool:
        return self in (OutboxState.QUEUED, OutboxState.SENDING)


class OutboxItem(msgspec.Struct, frozen=True):
    id: str  # also the idempotency marker sent with the request
    incident_id: str
    operation: str  # e.g. "jira.create_issue", "slack.post"
    title: str  # for people: "Create the incident ticket"
    params: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    state: OutboxState = OutboxState.QUEUED
    attempts: int = 0
    reason: str = ""  # the last failure, in plain words
    uncertain: bool = False  # the last attempt may have taken effect: look first
    next_attempt_at: datetime | None = None
    remote_id: str = ""
    remote_link: str = ""
    item_id: str = ""  # the checklist item ticked when it is sent
    draft_id: str = ""  # the draft it sends, if any
    sent_at: datetime | None = None
    notes: dict[str, Any] = msgspec.field(default_factory=dict)  # facts kept between attempts

    @classmethod
    def new(
        cls,
        incident_id: str,
        operation: str,
        title: str,
        params: dict[str, Any],
        *,
        at: datetime,
        item_id: str = "",
        draft_id: str = "",
    ) -> OutboxItem:
        return cls(
            id=new_entry_id(),
            incident_id=incident_id,
            operation=operation,
            title=sanitize(title, single_line=True),
            params=dict(params),
            created_at=utc(at),
            updated_at=utc(at),
            item_id=item_id,
            draft_id=draft_id,
        )

    @property
    def system(self) -> str:
        return {"jira": "Jira", "slack": "Slack", "statuspage": "Statuspage"}.get(
            self.operation.split(".", 1)[0], self.operation
        )

    def due(self, now: datetime) -> bool:
        return self.state.pending and (self.next_attempt_at is None or self.next_attempt_at <= now)

    # -- changes (each returns a new item) ------------------------------------------
    def sending(self, *, at: datetime) -> OutboxItem:
        if not self.state.pending:
            raise IllegalTransition(f"outbox item {self.id} is {self.state.label}")
        return replace(
            self, state=OutboxState.SENDING, attempts=self.attempts + 1, updated_at=utc(at)
        )

    def sent(self, *, at: datetime, remote_id: str = "", remote_link: str = "") -> OutboxItem:
        return replace(
            self,
            state=OutboxState.SENT,
            reason="",
            uncertain=False,
            next_attempt_at=None,
            remote_id=sanitize(remote_id, single_line=True),
            remote_link=sanitize(remote_link, single_line=True),
            updated_at=utc(at),
            sent_at=utc(at),
        )

    def retry_later(
        self, reason: str, *, at: datetime, uncertain: bool, wait: timedelta
    ) -> OutboxItem:
        """A failure worth another automatic try (connection, 5xx, 429)."""
        if self.attempts >= MAX_AUTOMATIC_ATTEMPTS:
            return self.failed(
                f"{reason} (gave up after {self.attempts} attempts)", at=at, uncertain=uncertain
            )
        return replace(
            self,
            state=OutboxState.QUEUED,
            reason=sanitize(reason),
            uncertain=uncertain,
            next_attempt_at=utc(at) + wait,
            updated_at=utc(at),
        )

    def failed(self, reason: str, *, at: datetime, uncertain: bool = False) -> OutboxItem:
        return replace(
            self,
            state=OutboxState.FAILED,
            reason=sanitize(reason),
            uncertain=uncertain or self.uncertain,
            next_attempt_at=None,
            updated_at=utc(at),
        )

    def retried(self, *, at: datetime) -> OutboxItem:
        """The user asked for another try of a failed item."""
        if self.state is not OutboxState.FAILED:
            raise IllegalTransition(
                f"only a failed item can be retried; this one is {self.state.label}"
            )
        return replace(
            self, state=OutboxState.QUEUED, attempts=0, next_attempt_at=None, updated_at=utc(at)
        )

    def discarded(self, *, at: datetime) -> OutboxItem:
        if self.state is OutboxState.SENT:
            raise IllegalTransition("a sent item cannot be discarded")
        return replace(self, state=OutboxState.DISCARDED, next_attempt_at=None, updated_at=utc(at))

    def noting(self, **facts: Any) -> OutboxItem:
        return replace(self, notes={**self.notes, **facts})

    @property
    def done_steps(self) -> dict[str, dict[str, Any]]:
        """The steps of a multi-request operation done so far, with their facts."""
        done = self.notes.get("done")
        if not isinstance(done, dict):
            return {}
        return {str(k): (v if isinstance(v, dict) else {}) for k, v in done.items()}

    def step_facts(self, step: str) -> dict[str, Any]:
        """The facts step `step` produced (empty when it is not done)."""
        return self.done_steps.get(step, {})

    def step_done(self, step: str, facts: dict[str, Any], *, at: datetime) -> OutboxItem:
        """Step `step` is done (its effect made or found): noted with its facts; the next
        step starts certain (nothing of it has been sent yet)."""
        done = {**self.done_steps, step: dict(facts)}
        return replace(
            self, notes={**self.notes, "done": done}, uncertain=False, updated_at=utc(at)
        )

    # -- storage ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "v": SCHEMA_VERSION,
            "id": self.id,
            "incident_id": self.incident_id,
            "operation": self.operation,
            "title": self.title,
            "params": self.params,
            "created_at": to_iso(self.created_at),
            "updated_at": to_iso(self.updated_at),
            "state": self.state.value,
            "attempts": self.attempts,
            "reason": self.reason,
            "uncertain": self.uncertain,
            "next_attempt_at": to_iso(self.next_attempt_at),
            "remote_id": self.remote_id,
            "remote_link": self.remote_link,
            "item_id": self.item_id,
            "draft_id": self.draft_id,
            "sent_at": to_iso(self.sent_at),
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OutboxItem:
        created, updated = from_iso(d["created_at"]), from_iso(d["updated_at"])
        assert created is not None and updated is not None
        params = sanitize_tree(d.get("params") or {})
        notes = sanitize_tree(d.get("notes") or {})
        assert isinstance(params, dict) and isinstance(notes, dict)
        return cls(
            id=str(d["id"]),
            incident_id=str(d["incident_id"]),
            operation=sanitize(d["operation"], single_line=True),
            title=sanitize(d.get("title", ""), single_line=True),
            params=params,
            created_at=created,
            updated_at=updated,
            state=OutboxState(d["state"]),
            attempts=int(d.get("attempts", 0)),
            reason=sanitize(d.get("reason", "")),
            uncertain=bool(d.get("uncertain", False)),
            next_attempt_at=from_iso(d.get("next_attempt_at")),
            remote_id=sanitize(d.get("remote_id", ""), single_line=True),
            remote_link=sanitize(d.get("remote_link", ""), single_line=True),
            item_id=str(d.get("item_id", "")),
            draft_id=str(d.get("draft_id", "")),
            sent_at=from_iso(d.get("sent_at")),
            notes=notes,
        )


def blocking(items: list[OutboxItem]) -> OutboxItem | None:
    """The failed item that holds back the items queued after it (order matters: a reply
    that names the channel must not go before the channel exists)."""
    for item in sorted(items, key=lambda i: i.id):
        if item.state is OutboxState.FAILED:
            return item
        if item.state.pending:
            return None
    return None

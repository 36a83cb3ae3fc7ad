"""Drafts: a rendered message on its way out (thread reply, status-page update, …).

A draft is edited while it is a DRAFT, then QUEUED (in the outbox), then SENT or FAILED.
A FAILED draft may be edited and queued again. Drafts are stored with the store's generic
`put_doc(incident_id, "drafts", draft.to_dict())`; this module does no I/O.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec
from msgspec.structs import replace

from cockpit.domain.clock import from_iso, to_iso, utc
from cockpit.domain.errors import IllegalTransition
from cockpit.domain.escape import slack_unescape
from cockpit.domain.sanitize import sanitize

SCHEMA_VERSION = 1


class DraftState(StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return self.value.upper()


_EDITABLE = frozenset({DraftState.DRAFT, DraftState.FAILED})


class Draft(msgspec.Struct, frozen=True):
    id: str
    incident_id: str
    template: str  # the template it was rendered from ("" if written by hand)
    kind: str  # slack / statuspage / internal (from the template)
    title: str
    body: str
    target: str  # where it goes, for people: "the #incidents thread", …
    state: DraftState
    created_at: datetime
    updated_at: datetime
    reason: str = ""  # why it failed (FAILED), in plain words
    sent_at: datetime | None = None
    remote_link: str = ""  # the message / status-page update once sent

    @property
    def readable(self) -> str:
        """The body as the people it is for read it: a Slack draft's escapes undone
        (`&lt;` reads as `<` in Slack, and is what a person pastes by hand); other kinds
        as written. `body` stays what is sent."""
        return slack_unescape(self.body) if self.kind == "slack" else self.body

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "created_at", utc(self.created_at))
        msgspec.structs.force_setattr(self, "updated_at", utc(self.updated_at))
        if self.sent_at is not None:
            msgspec.structs.force_setattr(self, "sent_at", utc(self.sent_at))

    @classmethod
    def new(
        cls,
        incident_id: str,
        *,
        template: str,
        kind: str,
        title: str,
        body: str,
        target: str,
        at: datetime,
    ) -> Draft:
        return cls(
            id=uuid.uuid4().hex[:16],
            incident_id=incident_id,
            template=sanitize(template, single_line=True),
            kind=sanitize(kind, single_line=True),
            title=sanitize(title, single_line=True),
            body=sanitize(body),
            target=sanitize(target, single_line=True),
            state=DraftState.DRAFT,
            created_at=at,
            updated_at=at,
        )

    # -- reading ------------------------------------------------------------------
    @property
    def editable(self) -> bool:
        return self.state in _EDITABLE

    @property
    def public(self) -> bool:
        return self.kind == "statuspage"

    # -- changing (each returns a new draft) ---------------------------------------
    def with_body(self, body: str, *, at: datetime) -> Draft:
        if not self.editable:
            raise IllegalTransition(
                f"draft {self.id} is {self.state.label} and can no longer be edited"
                + ("; write a new one" if self.state is DraftState.SENT else "")
            )
        # an edited FAILED draft is a draft again: it has not been tried in this form
        return replace(self, body=sanitize(body), state=DraftState.DRAFT, reason="", updated_at=at)

    def mark_queued(self, *, at: datetime) -> Draft:
        if self.state not in _EDITABLE:
            raise IllegalTransition(
                f"draft {self.id} is {self.state.label}; only a DRAFT or FAILED draft can be queued"
            )
        return replace(self, state=DraftState.QUEUED, reason="", updated_at=at)

    def mark_sent(self, *, at: datetime, remote_link: str = "") -> Draft:
        """Sent (by the outbox, or by hand after copying it): final."""
        if self.state is DraftState.SENT:
            raise IllegalTransition(f"draft {self.id} was already sent")
        return replace(
            self,
            state=DraftState.SENT,
            reason="",
            sent_at=at,
            updated_at=at,
            remote_link=sanitize(remote_link, single_line=True),
        )

    def mark_failed(self, reason: str, *, at: datetime) -> Draft:
        if self.state is DraftState.SENT:
            raise IllegalTransition(f"draft {self.id} was already sent")
        return replace(self, state=DraftState.FAILED, reason=sanitize(reason), updated_at=at)

    # -- storage ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "v": SCHEMA_VERSION,
            "id": self.id,
            "incident_id": self.incident_id,
            "template": self.template,
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "target": self.target,
            "state": self.state.value,
            "reason": self.reason,
            "created_at": to_iso(self.created_at),
            "updated_at": to_iso(self.updated_at),
            "sent_at": to_iso(self.sent_at),
            "remote_link": self.remote_link,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Draft:
        version = d.get("v", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise ValueError(
                f"draft {d.get('id')!r} has schema version {version!r}; this "
                f"cockpit reads version {SCHEMA_VERSION}"
            )
        created, updated = (
            from_iso(d["created_at"]),
            from_iso(d.get("updated_at") or d["created_at"]),
        )
        assert created is not None and updated is not None
        return cls(
            id=str(d["id"]),
            incident_id=str(d["incident_id"]),
            template=sanitize(d.get("template", ""), single_line=True),
            kind=sanitize(d.get("kind", ""), single_line=True),
            title=sanitize(d.get("title", ""), single_line=True),
            body=sanitize(d.get("body", "")),
            target=sanitize(d.get("target", ""), single_line=True),
            state=DraftState(d.get("state", "draft")),
            reason=sanitize(d.get("reason", "")),
            created_at=created,
            updated_at=updated,
            sent_at=from_iso(d.get("sent_at")),
            remote_link=sanitize(d.get("remote_link", ""), single_line=True),
        )

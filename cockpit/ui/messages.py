"""Messages between widgets: dataclasses named as facts."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from cockpit.domain.feed import FeedMessage
from cockpit.domain.playbook import ChecklistView
from cockpit.service import IncidentRecord
from cockpit.store.store import IncidentSummary


@dataclass
class IncidentLoaded(Message):
    """The active incident (or none) was (re)loaded from the store."""

    record: IncidentRecord | None
    checklist: ChecklistView | None
    open_incidents: list[IncidentSummary]
    version: object = None  # the store's data version this was read at


@dataclass
class IncidentRaised(Message):
    incident_id: str


@dataclass
class ItemTicked(Message):
    incident_id: str
    item_id: str
    ticked: bool


@dataclass
class FeedArrived(Message):
    messages: list[FeedMessage]


@dataclass
class FeedMessageChosen(Message):
    """The user asked to act on a feed message (raise from it, pin it)."""

    message: FeedMessage
    action: str

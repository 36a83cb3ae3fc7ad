"""Messages between widgets, named as facts. Plain classes rather than dataclasses:
each dataclass costs about a millisecond of start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from cockpit.domain.feed import FeedMessage
    from cockpit.domain.playbook import ChecklistView
    from cockpit.service import IncidentRecord
    from cockpit.store.store import IncidentSummary


class IncidentLoaded(Message):
    """The active incident (or none) was (re)loaded from the store."""

    def __init__(
        self,
        record: IncidentRecord | None,
        checklist: ChecklistView | None,
        open_incidents: list[IncidentSummary],
        version: object = None,  # the store's data version this was read at
    ) -> None:
        super().__init__()
        self.record = record
        self.checklist = checklist
        self.open_incidents = open_incidents
        self.version = version


class FeedMessageChosen(Message):
    """The user asked to act on a feed message (raise from it, pin it)."""

    def __init__(self, message: FeedMessage, action: str) -> None:
        super().__init__()
        self.message = message
        self.action = action

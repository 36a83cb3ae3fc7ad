"""Messages between widgets, named as facts. Plain classes rather than dataclasses:
each dataclass costs about a millisecond of start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from cockpit.application.service import IncidentRecord
    from cockpit.domain.feed import FeedMessage
    from cockpit.domain.playbook import ChecklistView
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


class FeedNamesOnScreen(Message):
    """Feed rows on screen show placeholders for names not known yet: their messages'
    keys ((channel, ts)), for the feed to look those names up before any other."""

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys


class FeedArrived(Message):
    """New feed messages (from the poller, the socket or the feed cache), batched."""

    def __init__(self, messages: list[FeedMessage]) -> None:
        super().__init__()
        self.messages = messages


class IncidentChanged(Message):
    """An incident changed behind the screen (the outbox sent something for it)."""

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id


class RemoteStatusChanged(Message):
    """The remote side has something to say (a channel failing, a token missing)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class FeedModeChanged(Message):
    """How new messages reach the feed: live, polling, reconnecting (and why)."""

    def __init__(self, label: str, detail: str) -> None:
        super().__init__()
        self.label = label
        self.detail = detail

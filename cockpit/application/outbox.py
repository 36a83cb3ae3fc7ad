"""The outbox on disk: an incident's items, and how one is kept (its draft follows it).

Every remote action is written here before it is attempted (see `cockpit.domain.outbox`);
the sender (`cockpit.application.sender`) sends them, the actions queue, retry and
discard them. No network here: nothing of the clients loads with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cockpit.domain.errors import CockpitError
from cockpit.domain.outbox import OutboxItem, OutboxState
from cockpit.store.store import IncidentChange, Store

OUTBOX = "outbox"


def outbox_items(store: Store, incident_id: str) -> list[OutboxItem]:
    """An incident's outbox, oldest first."""
    docs = store.docs(incident_id, OUTBOX)
    return sorted((OutboxItem.from_dict(d) for d in docs), key=lambda i: i.id)


# the operation that makes each link of an incident
CREATES = {
    "jira.create_issue": "ticket",
    "slack.create_channel": "channel",
    "statuspage.create": "status_page",
}


def links_on_their_way(items: Iterable[OutboxItem]) -> frozenset[str]:
    """The links ("ticket", "channel", "status_page") whose create is queued and not
    through yet (waiting, uncertain after a lost answer, or held back by a failure): what
    needs one is queued behind it (an incident's items go in order) and uses it once it
    is there; a status-page update sent meanwhile never opens a second page incident."""
    return frozenset(
        CREATES[i.operation]
        for i in items
        if i.operation in CREATES
        and i.state not in (OutboxState.SENT, OutboxState.DISCARDED)
        and not i.remote_id
    )


def outbox_item(store: Store, incident_id: str, item_id: str) -> OutboxItem:
    for item in outbox_items(store, incident_id):
        if item.id == item_id:
            return item
    raise CockpitError(f"no outbox item {item_id} on incident {incident_id}")


def keep_item(store: Store, item: OutboxItem, now: datetime) -> None:
    """Write an item, and its draft's state with it, in one write (see `keep_item_in`)."""

    def change(ch: IncidentChange) -> None:
        ch.save = False
        keep_item_in(ch, item, now)

    store.change(item.incident_id, change)


def keep_item_in(ch: IncidentChange, item: OutboxItem, now: datetime) -> None:
    """Within a change: put the item; a draft's state follows the item that sends it:
    FAILED with the reason, QUEUED again when the person retries, not sent when
    discarded, SENT (with its link) when it went out."""
    from cockpit.domain.drafts import Draft, DraftState

    ch.put_doc(OUTBOX, item.to_dict())
    if not item.draft_id:
        return
    for doc in ch.current_docs("drafts"):
        if doc.get("id") != item.draft_id:
            continue
        draft = Draft.from_dict(doc)
        if item.state is OutboxState.SENT and draft.state is not DraftState.SENT:
            draft = draft.mark_sent(at=now, remote_link=item.remote_link)
        elif item.state is OutboxState.FAILED and draft.state is not DraftState.SENT:
            draft = draft.mark_failed(item.reason, at=now)
        elif item.state is OutboxState.QUEUED and draft.state is DraftState.FAILED:
            draft = draft.mark_queued(at=now)
        elif item.state is OutboxState.DISCARDED and draft.state is DraftState.QUEUED:
            draft = draft.mark_failed("discarded: not sent", at=now)
        else:
            return
        ch.put_doc("drafts", draft.to_dict())

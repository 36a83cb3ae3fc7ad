"""Drafts: the states a message goes through, and its stored form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cockpit.domain.drafts import SCHEMA_VERSION, Draft, DraftState
from cockpit.domain.errors import IllegalTransition

T0 = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
ESC = "\x1b"


def new() -> Draft:
    return Draft.new(
        "12",
        template="statuspage-investigating",
        kind="statuspage",
        title="Status page: investigating — INC-42",
        body="We're investigating.\nNext update within 30 minutes.\n",
        target="the public status page",
        at=T0,
    )


def test_new_draft() -> None:
    d = new()
    assert d.state is DraftState.DRAFT and d.editable and d.public
    assert d.created_at == d.updated_at == T0 and d.sent_at is None
    assert len(d.id) == 16 and d.id != new().id


def test_the_happy_path() -> None:
    d = new()
    e = d.with_body("Edited.\n", at=T0 + timedelta(minutes=1))
    assert (e.body, e.updated_at, e.created_at) == ("Edited.\n", T0 + timedelta(minutes=1), T0)
    assert d.body != e.body  # frozen: a new draft each time
    q = e.mark_queued(at=T0 + timedelta(minutes=2))
    assert q.state is DraftState.QUEUED and not q.editable
    s = q.mark_sent(at=T0 + timedelta(minutes=3), remote_link="https://status.acme.com/i/1")
    assert s.state is DraftState.SENT and s.sent_at == T0 + timedelta(minutes=3)
    assert s.remote_link == "https://status.acme.com/i/1"


def test_failure_then_edit_and_retry() -> None:
    q = new().mark_queued(at=T0)
    f = q.mark_failed("Statuspage said 401: the API key was refused", at=T0 + timedelta(seconds=5))
    assert f.state is DraftState.FAILED and "401" in f.reason and f.editable
    again = f.mark_queued(at=T0 + timedelta(minutes=1))
    assert again.state is DraftState.QUEUED and again.reason == ""
    edited = f.with_body("Shorter.", at=T0 + timedelta(minutes=1))
    assert edited.state is DraftState.DRAFT and edited.reason == ""


def test_refused_changes() -> None:
    q = new().mark_queued(at=T0)
    with pytest.raises(IllegalTransition, match="can no longer be edited"):
        q.with_body("x", at=T0)
    with pytest.raises(IllegalTransition, match="only a DRAFT or FAILED"):
        q.mark_queued(at=T0)
    s = q.mark_sent(at=T0)
    with pytest.raises(IllegalTransition, match="already sent"):
        s.mark_sent(at=T0)
    with pytest.raises(IllegalTransition, match="already sent"):
        s.mark_failed("x", at=T0)
    with pytest.raises(IllegalTransition, match="write a new one"):
        s.with_body("x", at=T0)


def test_copied_by_hand_counts_as_sent() -> None:
    assert new().mark_sent(at=T0).state is DraftState.SENT


def test_round_trip() -> None:
    d = new().mark_queued(at=T0).mark_sent(at=T0 + timedelta(minutes=1), remote_link="https://x")
    doc = d.to_dict()
    assert doc["v"] == SCHEMA_VERSION == 1
    assert doc["state"] == "sent" and doc["sent_at"] == "2026-11-27T13:01:00+00:00"
    assert Draft.from_dict(doc) == d
    assert Draft.from_dict(new().to_dict()).sent_at is None


def test_times_are_kept_in_utc() -> None:
    cet = timezone(timedelta(hours=1))
    d = new().with_body("x", at=datetime(2026, 11, 27, 15, 0, tzinfo=cet))
    assert d.updated_at.tzinfo is UTC and d.updated_at.hour == 14
    with pytest.raises(ValueError, match="naive"):
        new().with_body("x", at=datetime(2026, 11, 27, 15, 0))


def test_hostile_text_is_sanitized_on_the_way_in() -> None:
    d = Draft.new(
        "1",
        template="t",
        kind="slack",
        title=f"a{ESC}]0;x{chr(7)}b\nc",
        body=f"x{ESC}[2Jy\n",
        target="t",
        at=T0,
    )
    assert d.title == "ab c" and d.body == "xy\n"
    doc = new().to_dict() | {"body": f"p{ESC}]52;c;ZXZpbA=={chr(7)}q", "reason": f"{ESC}[31mr"}
    loaded = Draft.from_dict(doc)
    assert loaded.body == "pq" and loaded.reason == "r"


def test_newer_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="schema version 2"):
        Draft.from_dict(new().to_dict() | {"v": 2})

"""Socket Mode frames as Slack documents them, read by cockpit/integrations/socket.py: the
envelope, its acknowledgement, and which `message` events reach the feed, in what shape."""

from __future__ import annotations

import json

from cockpit.integrations.slack import to_feed_message
from cockpit.integrations.socket import ack_frame, message_of, parse_envelope

EVENT = {
    "type": "message",
    "channel": "C0INCIDENTS",
    "user": "U0ALICE",
    "text": "Checkout is failing",
    "ts": "1767000000.000100",
    "event_ts": "1767000000.000100",
    "channel_type": "channel",
}


def envelope(event: dict, **extra: object) -> str:  # type: ignore[type-arg]
    return json.dumps(
        {
            "envelope_id": "57d6a792-4d35-4d0b-b6aa-3361493e1caf",
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": {
                "token": "XXYYZZ",
                "team_id": "T0TEAM0001",
                "api_app_id": "A0COCKPIT1",
                "type": "event_callback",
                "event_id": "Ev08MFMKH6",
                "event_time": 1767000000,
                "event": event,
            },
            **extra,
        }
    )


def test_an_events_api_envelope():
    env = parse_envelope(envelope(EVENT))
    assert env is not None
    assert env.type == "events_api" and env.envelope_id == "57d6a792-4d35-4d0b-b6aa-3361493e1caf"
    assert env.payload["event"]["text"] == "Checkout is failing"
    assert json.loads(ack_frame(env.envelope_id)) == {"envelope_id": env.envelope_id}


def test_hello_and_disconnect_carry_no_envelope_id():
    hello = parse_envelope(
        b'{"type": "hello", "num_connections": 1, "debug_info": {"host": "applink-1", '
        b'"approximate_connection_time": 18060}, "connection_info": {"app_id": "A1"}}'
    )
    assert hello is not None and hello.type == "hello" and hello.envelope_id == ""
    bye = parse_envelope('{"type": "disconnect", "reason": "refresh_requested"}')
    assert (
        bye is not None and bye.type == "disconnect" and bye.body["reason"] == "refresh_requested"
    )


def test_frames_that_are_no_envelope():
    for frame in ("", "not json", "[1, 2]", '"text"', b"\xff\xfe", "{" * 100_000):
        assert parse_envelope(frame) is None
    odd = parse_envelope('{"envelope_id": 7, "type": ["x"], "payload": "y"}')
    assert odd is not None and odd.envelope_id == "" and odd.type == "" and odd.payload == {}


def test_a_plain_message_is_the_message_as_history_has_it():
    found = message_of(EVENT)
    assert found is not None
    channel, raw = found
    assert channel == "C0INCIDENTS"
    assert raw == {
        "type": "message",
        "user": "U0ALICE",
        "text": "Checkout is failing",
        "ts": "1767000000.000100",
    }


def test_bot_messages_replies_and_broadcasts_pass_as_they_are():
    bot = {
        **EVENT,
        "subtype": "bot_message",
        "bot_id": "B0DATADOG",
        "username": "Datadog",
        "text": "",
        "attachments": [{"title": "checkout-api error rate > 5%", "color": "#d00000"}],
    }
    found = message_of(bot)
    assert found is not None
    shown = to_feed_message(found[1], "alerts", {}, is_alert=True)
    assert shown.author == "Datadog" and shown.text == "checkout-api error rate > 5%"
    reply = {**EVENT, "ts": "1767000001.000200", "thread_ts": "1767000000.000100"}
    found = message_of(reply)
    assert found is not None and found[1]["thread_ts"] == "1767000000.000100"
    broadcast = {**reply, "subtype": "thread_broadcast"}
    found = message_of(broadcast)
    assert found is not None
    assert "↳ a thread reply, also sent to the channel" in to_feed_message(found[1], "x", {}).extra


def test_an_edit_is_the_edited_message_at_its_own_ts():
    changed = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": "C0INCIDENTS",
        "ts": "1767000100.000000",
        "event_ts": "1767000100.000000",
        "message": {
            "type": "message",
            "user": "U0ALICE",
            "text": "Checkout is failing for card payments",
            "ts": "1767000000.000100",
            "edited": {"user": "U0ALICE", "ts": "1767000100.000000"},
        },
        "previous_message": {**EVENT},
    }
    found = message_of(changed)
    assert found is not None
    shown = to_feed_message(found[1], "incidents", {})
    assert shown.ts == "1767000000.000100"  # replaces the message shown
    assert shown.edited and shown.text == "Checkout is failing for card payments"


def test_a_change_that_is_no_edit_is_dropped_and_a_bot_update_counts():
    # a reply arrived in the thread: Slack says message_changed with the new reply count
    counted = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": "C0INCIDENTS",
        "ts": "1767000100.000000",
        "message": {**EVENT, "reply_count": 1, "thread_ts": EVENT["ts"]},
        "previous_message": {**EVENT},
    }
    for key in ("channel", "event_ts", "channel_type"):
        counted["message"].pop(key)
    assert message_of(counted) is None
    # an alert bot updating its message (chat.update) gets no `edited`; it still changed
    updated = {
        **counted,
        "message": {"type": "message", "bot_id": "B1", "text": "[Resolved] x", "ts": "1.5"},
        "previous_message": {"type": "message", "bot_id": "B1", "text": "[Triggered] x"},
    }
    found = message_of(updated)
    assert found is not None
    assert to_feed_message(found[1], "alerts", {}).edited


def test_a_deletion_is_a_tombstone_at_the_deleted_ts():
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": "C0INCIDENTS",
        "ts": "1767000200.000000",
        "deleted_ts": "1767000001.000200",
        "previous_message": {**EVENT, "ts": "1767000001.000200", "thread_ts": EVENT["ts"]},
    }
    found = message_of(deleted)
    assert found is not None
    shown = to_feed_message(found[1], "incidents", {"U0ALICE": "alice"})
    assert shown.ts == "1767000001.000200" and shown.deleted
    assert shown.text == "(message deleted)" and shown.author == "alice"
    assert shown.thread_ts == EVENT["ts"]


def test_what_the_feed_does_not_show():
    assert message_of({**EVENT, "type": "reaction_added"}) is None
    assert message_of({**EVENT, "subtype": "message_replied", "hidden": True}) is None
    assert message_of({k: v for k, v in EVENT.items() if k != "channel"}) is None
    assert message_of({k: v for k, v in EVENT.items() if k != "ts"}) is None
    assert message_of({**EVENT, "subtype": "message_changed", "message": "x"}) is None
    assert message_of({**EVENT, "subtype": "message_deleted"}) is None


def test_a_connection_url_is_never_shown_whole():
    """The URL apps.connections.open answers carries a ticket that lets anyone connect for
    a while: anything cockpit logs or shows has it redacted."""
    from cockpit.integrations.errors import redact

    url = "wss://wss-primary.slack.com/link/?ticket=8f2c61bd-5a2e-4c1e-9f0b&app_id=A0COCKPIT1"
    shown = redact(f"could not connect to {url}")
    assert "8f2c61bd" not in shown and "ticket=[redacted]" in shown and "app_id=A0COCKPIT1" in shown

"""The corpus (slack_corpus/*.json): Slack messages in their real shapes, each with the exact
text expected on the feed row and in the reader, through history and through Socket Mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cockpit.domain.feed import FeedMessage
from cockpit.integrations.slack.client import to_feed_message
from cockpit.integrations.slack.render import MappingNames, render
from cockpit.integrations.socket import message_of

CORPUS = Path(__file__).parent / "slack_corpus"
CASES = sorted(CORPUS.glob("*.json"))
NAMES = MappingNames(
    users={"U0ALICE": "Alice", "U0BOB": "Bob"},
    channels={"C0INC": "incidents"},
    usergroups={"S0OPS": "oncall"},
)


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def via_socket(msg: dict[str, Any]) -> dict[str, Any]:
    """`msg` as Socket Mode pushes it: a message event, or for hidden messages (a
    tombstone) the message_changed that turns the earlier message into it."""
    if msg.get("hidden"):
        event = {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": "C0ALERTS",
            "ts": "1700000099.000000",
            "event_ts": "1700000099.000000",
            "message": msg,
            "previous_message": {"type": "message", "user": "U0BOB", "text": "x", "ts": msg["ts"]},
        }
    else:
        event = {**msg, "channel": "C0ALERTS", "event_ts": msg["ts"], "channel_type": "channel"}
    found = message_of(event)
    assert found is not None and found[0] == "C0ALERTS"
    return found[1]


def check(m: FeedMessage, case: dict[str, Any]) -> None:
    assert m.headline == case["row"]
    assert m.detail.split("\n") == case["reader"]
    assert m.author == case["author"]
    assert (m.state, m.deleted, m.broadcast) == (case["state"], case["deleted"], case["broadcast"])
    assert not m.edited


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_history(path: Path) -> None:
    case = load(path)
    check(to_feed_message(case["message"], "alerts", NAMES), case)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_socket_mode(path: Path) -> None:
    case = load(path)
    check(to_feed_message(via_socket(case["message"]), "alerts", NAMES), case)


def test_the_corpus_is_there() -> None:
    assert len(CASES) >= 13


def test_an_unfurl_is_no_edit_and_an_edit_is() -> None:
    case = load(CORPUS / "unfurl.json")
    after = case["message"]
    before = {k: v for k, v in after.items() if k != "attachments"}
    event = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": "C0ALERTS",
        "ts": "1700000099.000000",
        "message": after,
        "previous_message": before,
    }
    found = message_of(event)
    assert found is not None
    unfurled = to_feed_message(found[1], "alerts", NAMES)
    assert not unfurled.edited and "Status page (https://status.example)" in unfurled.detail
    edited = {**event, "message": {**after, "text": "see it"}}
    found = message_of(edited)
    assert found is not None and to_feed_message(found[1], "alerts", NAMES).edited


def test_unknown_names_are_wanted_and_placeholders_are_readable() -> None:
    shown = render(load(CORPUS / "mention_unknown_ids.json")["message"], NAMES)
    assert ("user", "U111") in shown.wanted and ("usergroup", "SAZ94GDB8") in shown.wanted
    assert ("channel", "C36GYMJMD") in shown.wanted
    assert "@someone (U111)" in shown.line


def test_nothing_returned_is_markup_or_control() -> None:
    msg = {
        "type": "message",
        "user": "U0ALICE",
        "ts": "1.0",
        "text": "",
        "blocks": [
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "[@click=app.quit] \x1b]52;c;eA==\x07"}
                        ],
                    }
                ],
            }
        ],
    }
    shown = render(msg, NAMES)
    assert "\x1b" not in shown.line + shown.detail and "[@click=app.quit]" in shown.line

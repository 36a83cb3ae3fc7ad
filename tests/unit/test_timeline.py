from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cockpit.domain.errors import TimeRefused
from cockpit.domain.timeline import (
    EntryKind,
    TimelineEntry,
    check_event_time,
    parse_when,
    sort_entries,
)

LONDON = ZoneInfo("Europe/London")
NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)  # 15:30 in London (GMT), 10:30 in New York


@pytest.mark.parametrize(
    "text,expected",
    [
        ("-12m", NOW - timedelta(minutes=12)),
        ("-1h30m", NOW - timedelta(hours=1, minutes=30)),
        ("-2h", NOW - timedelta(hours=2)),
        ("-45s", NOW - timedelta(seconds=45)),
        ("- 5 min", NOW - timedelta(minutes=5)),
        ("now", NOW),
        ("", NOW),
        ("14:03", datetime(2026, 11, 27, 14, 3, tzinfo=UTC)),
        ("14:03:20", datetime(2026, 11, 27, 14, 3, 20, tzinfo=UTC)),
        ("2026-11-27T13:00", datetime(2026, 11, 27, 13, 0, tzinfo=UTC)),
        ("2026-11-27T13:00+01:00", datetime(2026, 11, 27, 12, 0, tzinfo=UTC)),
        ("2026-11-27 09:15:00Z", datetime(2026, 11, 27, 9, 15, tzinfo=UTC)),
    ],
)
def test_parse_when_london(text: str, expected: datetime):
    assert parse_when(text, now=NOW, tz=LONDON) == expected


def test_clock_time_is_local_to_the_zone():
    # 09:00 in New York is 14:00 UTC in November
    assert parse_when("09:00", now=NOW, tz=NY) == datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    # a naive ISO time is local too
    assert parse_when("2026-11-27T09:00", now=NOW, tz=NY) == datetime(
        2026, 11, 27, 14, 0, tzinfo=UTC
    )


def test_clock_time_later_than_now_means_yesterday():
    # at 00:10 local, "23:55" is five minutes before midnight, not tonight
    now = datetime(2026, 11, 28, 0, 10, tzinfo=UTC)
    assert parse_when("23:55", now=now, tz=LONDON) == datetime(2026, 11, 27, 23, 55, tzinfo=UTC)


def test_clock_time_across_dst_change():
    # Europe/London springs forward on 2026-03-29 at 01:00 UTC
    now = datetime(2026, 3, 29, 10, 0, tzinfo=UTC)  # 11:00 BST
    assert parse_when("10:30", now=now, tz=LONDON) == datetime(2026, 3, 29, 9, 30, tzinfo=UTC)
    assert parse_when("12:00", now=now, tz=LONDON) == datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday-ish", "25:00", "14:61", "-", "12m", "+5m"])
def test_parse_when_refuses_nonsense(text: str):
    with pytest.raises(TimeRefused):
        parse_when(text, now=NOW, tz=LONDON)


def test_check_event_time_bounds():
    reported = NOW - timedelta(hours=1)
    check_event_time(reported, reported_at=reported, now=NOW, tz=LONDON)
    check_event_time(NOW, reported_at=reported, now=NOW, tz=LONDON)
    with pytest.raises(TimeRefused, match="before the incident was first reported"):
        check_event_time(reported - timedelta(seconds=1), reported_at=reported, now=NOW, tz=LONDON)
    with pytest.raises(TimeRefused, match="in the future"):
        check_event_time(NOW + timedelta(minutes=2), reported_at=reported, now=NOW, tz=LONDON)


def test_future_iso_time_is_refused_with_local_times_in_message():
    at = parse_when("2026-11-27T18:00", now=NOW, tz=LONDON)
    with pytest.raises(TimeRefused, match="18:00:00 GMT"):
        check_event_time(at, reported_at=NOW - timedelta(hours=1), now=NOW, tz=LONDON)


def entry(minutes: int, recorded: int = 0, text: str = "x") -> TimelineEntry:
    return TimelineEntry.new(
        "7",
        kind=EntryKind.NOTE,
        text=text,
        event_at=NOW + timedelta(minutes=minutes),
        recorded_at=NOW + timedelta(minutes=recorded),
    )


def test_sort_by_event_time_then_recorded():
    a, b, c = entry(5, 5, "a"), entry(-10, 6, "b"), entry(5, 1, "c")
    assert [e.text for e in sort_entries([a, b, c])] == ["b", "c", "a"]


def test_backdated_flag_and_round_trip():
    e = entry(-12, 0)
    assert e.backdated
    assert not entry(0, 0).backdated
    moved = e.with_event_at(NOW - timedelta(minutes=3), edited_at=NOW)
    assert moved.edited_at == NOW and moved.id == e.id
    assert TimelineEntry.from_dict(moved.to_dict()) == moved


def test_entry_text_is_sanitized_on_creation():
    e = TimelineEntry.new(
        "7",
        kind=EntryKind.PINNED,
        text="a\x1b[31mred\x1b[0m\x07",
        event_at=NOW,
        recorded_at=NOW,
        author="bo\nb",
    )
    assert e.text == "ared" and e.author == "bo b"


def test_every_kind_has_a_marker():
    assert all(k.marker for k in EntryKind)

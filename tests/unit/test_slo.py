"""The acknowledgement SLO, the support calendar, the update cadence and the countdown."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from cockpit.domain.incident import Severity
from cockpit.domain.slo import (
    DEFAULT_UPDATE_EVERY,
    AckStatus,
    SupportCalendar,
    SupportWindow,
    format_countdown,
    next_update_due,
)

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
TOKYO = ZoneInfo("Asia/Tokyo")

WED = date(2026, 3, 4)  # an ordinary work day (EST, before the spring-forward)
SAT = date(2026, 3, 7)
SUN = date(2026, 3, 8)
CHRISTMAS = date(2026, 12, 25)  # a Friday
NY_SPRING = date(2026, 3, 8)  # 02:00 EST -> 03:00 EDT
NY_FALL = date(2026, 11, 1)  # 02:00 EDT -> 01:00 EST
LONDON_SPRING = date(2026, 3, 29)  # 01:00 GMT -> 02:00 BST
LONDON_FALL = date(2026, 10, 25)  # 02:00 BST -> 01:00 GMT

MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)


def at(day: date, hh: int, mm: int = 0, ss: int = 0, tz: ZoneInfo = NY) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=tz)


def u(y: int, mo: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, mo, d, hh, mm, tzinfo=UTC)


@pytest.fixture
def ny() -> SupportCalendar:
    return SupportCalendar(tz=NY, holidays=frozenset({CHRISTMAS}))


def test_the_fixed_dates_are_the_weekdays_the_tests_assume() -> None:
    assert WED.weekday() == 2
    assert SAT.weekday() == 5 and SUN.weekday() == 6
    assert CHRISTMAS.weekday() == 4
    for sunday in (NY_SPRING, NY_FALL, LONDON_SPRING, LONDON_FALL):
        assert sunday.weekday() == 6
    # and the transitions really happen on those days
    assert at(NY_SPRING, 1).utcoffset() != at(NY_SPRING, 4).utcoffset()
    assert at(NY_FALL, 0).utcoffset() != at(NY_FALL, 4).utcoffset()
    assert (
        at(LONDON_SPRING, 0, tz=LONDON).utcoffset() != at(LONDON_SPRING, 4, tz=LONDON).utcoffset()
    )
    assert at(LONDON_FALL, 0, tz=LONDON).utcoffset() != at(LONDON_FALL, 4, tz=LONDON).utcoffset()


# -- SupportWindow ---------------------------------------------------------------------------------


def test_support_window_labels_and_objectives() -> None:
    assert SupportWindow.FULL.label == "full support"
    assert SupportWindow.PARTIAL.label == "partial support"
    assert SupportWindow.LIMITED.label == "limited support"
    assert SupportWindow.FULL.ack_within == timedelta(minutes=10)
    assert SupportWindow.PARTIAL.ack_within == timedelta(minutes=30)
    assert SupportWindow.LIMITED.ack_within is None
    assert SupportWindow("partial support") is SupportWindow.PARTIAL
    assert isinstance(SupportWindow.FULL, str)


# -- the examples the brief requires ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("reported", "window", "deadline"),
    [
        (at(WED, 16, 55), SupportWindow.FULL, at(WED, 17, 5)),  # crosses the window end
        (at(WED, 18, 58), SupportWindow.PARTIAL, at(WED, 19, 28)),
        (at(WED, 23, 0), SupportWindow.LIMITED, None),
        (at(WED, 8, 0), SupportWindow.PARTIAL, at(WED, 8, 30)),
        (at(SAT, 10, 0), SupportWindow.PARTIAL, at(SAT, 10, 30)),
        (at(SAT, 8, 0), SupportWindow.LIMITED, None),
        (at(WED, 12, 0), SupportWindow.FULL, at(WED, 12, 10)),
        (at(CHRISTMAS, 10, 0), SupportWindow.PARTIAL, at(CHRISTMAS, 10, 30)),  # holiday
        (at(CHRISTMAS, 8, 0), SupportWindow.LIMITED, None),  # would be partial on a work day
        (at(CHRISTMAS, 18, 0), SupportWindow.LIMITED, None),
    ],
)
def test_window_and_deadline_examples(
    ny: SupportCalendar, reported: datetime, window: SupportWindow, deadline: datetime | None
) -> None:
    assert ny.window_at(reported) is window
    assert ny.ack_deadline(reported) == deadline


def test_deadline_is_in_utc(ny: SupportCalendar) -> None:
    deadline = ny.ack_deadline(at(WED, 16, 55))
    assert deadline is not None
    assert deadline.tzinfo is UTC
    assert deadline == u(2026, 3, 4, 22, 5)


def test_naive_times_are_refused(ny: SupportCalendar) -> None:
    with pytest.raises(ValueError, match="naive"):
        ny.window_at(datetime(2026, 3, 4, 12, 0))
    with pytest.raises(ValueError, match="naive"):
        ny.ack_deadline(datetime(2026, 3, 4, 12, 0))


# -- boundaries (half-open intervals) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("hh", "mm", "ss", "window"),
    [
        (0, 0, 0, SupportWindow.LIMITED),
        (6, 59, 59, SupportWindow.LIMITED),
        (7, 0, 0, SupportWindow.PARTIAL),
        (8, 59, 59, SupportWindow.PARTIAL),
        (9, 0, 0, SupportWindow.FULL),
        (16, 59, 59, SupportWindow.FULL),
        (17, 0, 0, SupportWindow.PARTIAL),
        (18, 59, 59, SupportWindow.PARTIAL),
        (19, 0, 0, SupportWindow.LIMITED),
        (23, 59, 59, SupportWindow.LIMITED),
    ],
)
def test_work_day_boundaries(
    ny: SupportCalendar, hh: int, mm: int, ss: int, window: SupportWindow
) -> None:
    assert ny.window_at(at(WED, hh, mm, ss)) is window


@pytest.mark.parametrize("day", [SAT, SUN, CHRISTMAS])
@pytest.mark.parametrize(
    ("hh", "mm", "window"),
    [
        (7, 0, SupportWindow.LIMITED),
        (8, 59, SupportWindow.LIMITED),
        (9, 0, SupportWindow.PARTIAL),
        (16, 59, SupportWindow.PARTIAL),
        (17, 0, SupportWindow.LIMITED),
        (18, 30, SupportWindow.LIMITED),
    ],
)
def test_non_work_day_boundaries(
    ny: SupportCalendar, day: date, hh: int, mm: int, window: SupportWindow
) -> None:
    assert ny.window_at(at(day, hh, mm)) is window


def test_the_deadline_belongs_to_the_window_the_report_arrived_in(ny: SupportCalendar) -> None:
    # one second before 17:00 is full support (10 min); 17:00 itself is partial (30 min)
    assert ny.ack_deadline(at(WED, 16, 59, 59)) == at(WED, 17, 9, 59)
    assert ny.ack_deadline(at(WED, 17, 0)) == at(WED, 17, 30)
    assert ny.ack_deadline(at(WED, 9, 0)) == at(WED, 9, 10)
    assert ny.ack_deadline(at(WED, 8, 59)) == at(WED, 9, 29)
    assert ny.ack_deadline(at(WED, 19, 0)) is None
    assert ny.ack_deadline(at(WED, 6, 59)) is None


def test_day_after_a_holiday_is_a_work_day_again(ny: SupportCalendar) -> None:
    monday = date(2026, 12, 28)
    assert ny.window_at(at(monday, 10)) is SupportWindow.FULL
    assert ny.window_at(at(CHRISTMAS, 10)) is SupportWindow.PARTIAL
    # without the holiday, Christmas would be an ordinary Friday
    plain = SupportCalendar(tz=NY)
    assert plain.window_at(at(CHRISTMAS, 10)) is SupportWindow.FULL


def test_custom_work_week_and_objectives() -> None:
    cal = SupportCalendar(
        tz=NY,
        work_days=frozenset({6, 0, 1, 2, 3}),  # Sunday to Thursday
        full_ack=timedelta(minutes=15),
        partial_ack=timedelta(hours=1),
    )
    friday = date(2026, 3, 6)
    assert cal.window_at(at(friday, 10)) is SupportWindow.PARTIAL
    assert cal.window_at(at(SUN, 10)) is SupportWindow.FULL
    assert cal.ack_deadline(at(SUN, 10)) == at(SUN, 10, 15)
    assert cal.ack_deadline(at(friday, 10)) == at(friday, 11)
    assert cal.ack_within(SupportWindow.LIMITED) is None


# -- time zones ------------------------------------------------------------------------------------


def test_the_same_instant_falls_in_different_windows_in_different_zones() -> None:
    london = SupportCalendar(tz=LONDON)
    ny = SupportCalendar(tz=NY)
    tokyo = SupportCalendar(tz=TOKYO)
    instant = u(2026, 3, 4, 18, 0)  # London 18:00, New York 13:00, Tokyo 03:00 Thursday
    assert london.window_at(instant) is SupportWindow.PARTIAL
    assert ny.window_at(instant) is SupportWindow.FULL
    assert tokyo.window_at(instant) is SupportWindow.LIMITED
    # 00:30 UTC on Wednesday is 09:30 Wednesday in Tokyo but 19:30 Tuesday in New York
    early = u(2026, 3, 4, 0, 30)
    assert tokyo.window_at(early) is SupportWindow.FULL
    assert ny.window_at(early) is SupportWindow.LIMITED
    assert tokyo.ack_deadline(early) == u(2026, 3, 4, 0, 40)


def test_input_in_another_zone_is_converted(ny: SupportCalendar) -> None:
    # 14:30 in London (GMT) is 09:30 in New York (EST)
    london_time = at(WED, 14, 30, tz=LONDON)
    assert ny.window_at(london_time) is SupportWindow.FULL
    assert ny.ack_deadline(london_time) == u(2026, 3, 4, 14, 40)


def test_weekday_is_judged_in_the_calendar_zone() -> None:
    # Saturday 01:00 in Tokyo is still Friday 11:00 in New York: a work day there
    tokyo_saturday = at(SAT, 1, tz=TOKYO)
    assert SupportCalendar(tz=NY).window_at(tokyo_saturday) is SupportWindow.FULL
    assert SupportCalendar(tz=TOKYO).window_at(tokyo_saturday) is SupportWindow.LIMITED


# -- ack_status ------------------------------------------------------------------------------------


def test_ack_status_running_within_the_objective(ny: SupportCalendar) -> None:
    status = ny.ack_status(at(WED, 12), now=at(WED, 12, 3, 48))
    assert status == AckStatus(
        window=SupportWindow.FULL,
        deadline=u(2026, 3, 4, 17, 10),
        remaining=timedelta(minutes=6, seconds=12),
        met=None,
        overdue=False,
    )


def test_ack_status_exactly_at_the_deadline_is_not_overdue(ny: SupportCalendar) -> None:
    status = ny.ack_status(at(WED, 12), now=at(WED, 12, 10))
    assert status.remaining == timedelta(0)
    assert status.overdue is False
    later = ny.ack_status(at(WED, 12), now=at(WED, 12, 10, 1))
    assert later.overdue is True


def test_ack_status_overdue(ny: SupportCalendar) -> None:
    status = ny.ack_status(at(WED, 18, 58), now=at(WED, 19, 40))
    assert status.window is SupportWindow.PARTIAL
    assert status.deadline == at(WED, 19, 28)
    assert status.remaining == -timedelta(minutes=12)
    assert status.overdue is True
    assert status.met is None


def test_ack_status_met(ny: SupportCalendar) -> None:
    status = ny.ack_status(at(WED, 12), now=at(WED, 13), acknowledged_at=at(WED, 12, 7))
    assert status.met is True
    assert status.overdue is False
    # the countdown stopped when it was acknowledged, whatever `now` is
    assert status.remaining == timedelta(minutes=3)


def test_ack_status_met_exactly_at_the_deadline(ny: SupportCalendar) -> None:
    status = ny.ack_status(at(WED, 12), now=at(WED, 13), acknowledged_at=at(WED, 12, 10))
    assert status.met is True
    assert status.remaining == timedelta(0)


def test_ack_status_missed(ny: SupportCalendar) -> None:
    status = ny.ack_status(at(WED, 16, 55), now=at(WED, 18), acknowledged_at=at(WED, 17, 6))
    assert status.deadline == at(WED, 17, 5)
    assert status.met is False
    assert status.overdue is False  # no longer waiting for anything
    assert status.remaining == -timedelta(minutes=1)


def test_ack_status_without_an_objective(ny: SupportCalendar) -> None:
    waiting = ny.ack_status(at(WED, 23), now=at(WED, 23, 59))
    assert waiting == AckStatus(
        window=SupportWindow.LIMITED, deadline=None, remaining=None, met=None, overdue=False
    )
    acked = ny.ack_status(at(WED, 23), now=at(date(2026, 3, 5), 9), acknowledged_at=at(WED, 23, 45))
    assert acked.met is None
    assert acked.overdue is False


def test_ack_status_accepts_times_in_any_zone(ny: SupportCalendar) -> None:
    status = ny.ack_status(
        u(2026, 3, 4, 17, 0),  # 12:00 New York
        now=at(WED, 17, 5, tz=LONDON),
        acknowledged_at=at(WED, 17, 11, tz=LONDON),
    )
    assert status.met is False
    assert status.remaining == -timedelta(minutes=1)


# -- daylight saving -------------------------------------------------------------------------------


def test_deadline_counts_elapsed_time_across_spring_forward() -> None:
    cal = SupportCalendar.from_settings(
        timezone="America/New_York", work_days=[], holidays=[], nonwork_hours="00:00-23:00"
    )
    reported = at(NY_SPRING, 1, 50)  # 06:50 UTC, partial support
    assert cal.window_at(reported) is SupportWindow.PARTIAL
    deadline = cal.ack_deadline(reported)
    assert deadline == u(2026, 3, 8, 7, 20)
    assert deadline is not None
    assert deadline.astimezone(NY).hour == 3  # 02:20 does not exist that night


def test_windows_on_dst_days_follow_the_wall_clock() -> None:
    every_day = SupportCalendar(tz=NY, work_days=frozenset(range(7)))
    # 07:00 EDT on the spring-forward day is 11:00 UTC; 07:00 EST on the fall-back day is 12:00 UTC
    assert every_day.window_at(u(2026, 3, 8, 10, 59)) is SupportWindow.LIMITED
    assert every_day.window_at(u(2026, 3, 8, 11, 0)) is SupportWindow.PARTIAL
    assert every_day.window_at(u(2026, 11, 1, 11, 59)) is SupportWindow.LIMITED
    assert every_day.window_at(u(2026, 11, 1, 12, 0)) is SupportWindow.PARTIAL


@pytest.mark.parametrize(
    ("tz", "start", "expected"),
    [
        # New York, Saturday evening before each change -> Sunday 09:00 local
        (NY, at(SAT, 20), u(2026, 3, 8, 13, 0)),  # 09:00 EDT
        (NY, at(date(2026, 10, 31), 20), u(2026, 11, 1, 14, 0)),  # 09:00 EST
        # London
        (LONDON, at(date(2026, 3, 28), 20, tz=LONDON), u(2026, 3, 29, 8, 0)),  # 09:00 BST
        (LONDON, at(date(2026, 10, 24), 20, tz=LONDON), u(2026, 10, 25, 9, 0)),  # 09:00 GMT
    ],
)
def test_next_window_change_across_dst(tz: ZoneInfo, start: datetime, expected: datetime) -> None:
    cal = SupportCalendar(tz=tz)
    change = cal.next_window_change(start)
    assert change == expected
    assert change.tzinfo is UTC


def test_next_window_change_on_a_work_day_with_dst() -> None:
    every_day = SupportCalendar(tz=NY, work_days=frozenset(range(7)))
    assert every_day.next_window_change(at(NY_SPRING, 1, 30)) == u(2026, 3, 8, 11, 0)  # 07:00 EDT
    assert every_day.next_window_change(at(NY_FALL, 0, 30)) == u(2026, 11, 1, 12, 0)  # 07:00 EST
    # and the rest of the fall-back day keeps to the wall clock
    assert every_day.next_window_change(u(2026, 11, 1, 12, 0)) == u(2026, 11, 1, 14, 0)  # 09:00
    assert every_day.next_window_change(u(2026, 11, 1, 14, 0)) == u(2026, 11, 1, 22, 0)  # 17:00


def test_a_boundary_in_the_skipped_hour_takes_effect_when_the_clock_jumps() -> None:
    cal = SupportCalendar.from_settings(
        timezone="America/New_York", work_days=[], holidays=[], nonwork_hours="02:30-17:00"
    )
    # 02:30 does not exist on the spring-forward night: at 07:00 UTC the clock reads 03:00
    assert cal.window_at(u(2026, 3, 8, 6, 59)) is SupportWindow.LIMITED
    assert cal.window_at(u(2026, 3, 8, 7, 0)) is SupportWindow.PARTIAL
    assert cal.next_window_change(at(SAT, 23)) == u(2026, 3, 8, 7, 0)


def test_a_boundary_in_the_repeated_hour_counts_on_both_passes() -> None:
    cal = SupportCalendar.from_settings(
        timezone="America/New_York", work_days=[], holidays=[], nonwork_hours="01:30-17:00"
    )
    saturday_night = at(date(2026, 10, 31), 23)
    first_pass = u(2026, 11, 1, 5, 30)  # 01:30 EDT
    back_to_one = u(2026, 11, 1, 6, 0)  # 02:00 EDT becomes 01:00 EST
    second_pass = u(2026, 11, 1, 6, 30)  # 01:30 EST
    assert cal.next_window_change(saturday_night) == first_pass
    assert cal.next_window_change(first_pass) == back_to_one
    assert cal.window_at(u(2026, 11, 1, 6, 15)) is SupportWindow.LIMITED
    assert cal.next_window_change(back_to_one) == second_pass
    assert cal.next_window_change(second_pass) == u(2026, 11, 1, 22, 0)  # 17:00 EST


# -- next_window_change ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (at(WED, 3), at(WED, 7)),
        (at(WED, 7), at(WED, 9)),  # strictly after `at`
        (at(WED, 8, 59, 59), at(WED, 9)),
        (at(WED, 9), at(WED, 17)),
        (at(WED, 12, 34, 56), at(WED, 17)),
        (at(WED, 17), at(WED, 19)),
        (at(WED, 19), at(date(2026, 3, 5), 7)),
        (at(date(2026, 3, 6), 19), at(SAT, 9)),  # Friday night -> Saturday 09:00
        (at(SAT, 17), at(SUN, 9)),
        (at(date(2026, 12, 24), 19), at(CHRISTMAS, 9)),  # holiday: no 07:00 start
        (at(CHRISTMAS, 9), at(CHRISTMAS, 17)),
        (at(date(2026, 12, 27), 17), at(date(2026, 12, 28), 7)),  # Sunday -> Monday 07:00
    ],
)
def test_next_window_change(ny: SupportCalendar, start: datetime, expected: datetime) -> None:
    assert ny.next_window_change(start) == expected


def test_next_window_change_skips_midnights_that_change_nothing() -> None:
    # Friday 19:00 -> Saturday 00:00 is limited on both sides: not a change
    ny = SupportCalendar(tz=NY)
    assert ny.next_window_change(at(date(2026, 3, 6), 20)) == at(SAT, 9)
    # but midnight is a change when the window differs either side of it
    cal = SupportCalendar.from_settings(
        timezone="America/New_York", work_days=["sat"], holidays=[], nonwork_hours="00:00-17:00"
    )
    assert cal.window_at(at(SAT, 23, 59)) is SupportWindow.LIMITED
    assert cal.next_window_change(at(SAT, 23)) == at(SUN, 0)


def _brute_force_next_change(cal: SupportCalendar, start: datetime) -> datetime:
    current = cal.window_at(start)
    t = start.astimezone(UTC).replace(second=0, microsecond=0) + MIN
    while cal.window_at(t) is current:
        t += MIN
    return t


@pytest.mark.parametrize(
    ("tz", "first_day", "days"),
    [
        (NY, date(2026, 3, 5), 5),
        (NY, date(2026, 10, 29), 5),
        (LONDON, date(2026, 3, 26), 5),
        (LONDON, date(2026, 10, 22), 5),
        (TOKYO, date(2026, 12, 23), 4),
    ],
)
def test_next_window_change_agrees_with_a_minute_by_minute_scan(
    tz: ZoneInfo, first_day: date, days: int
) -> None:
    cal = SupportCalendar(tz=tz, holidays=frozenset({CHRISTMAS}))
    start = datetime.combine(first_day, time(0), tzinfo=tz).astimezone(UTC)
    probe = start
    while probe < start + timedelta(days=days):
        assert cal.next_window_change(probe) == _brute_force_next_change(cal, probe), probe
        probe += timedelta(minutes=37)


# -- from_settings ---------------------------------------------------------------------------------


def test_from_settings() -> None:
    cal = SupportCalendar.from_settings(
        timezone="Europe/London",
        work_days=["Mon", "tuesday", " WED ", "thu", "Friday"],
        holidays=["2026-12-25", "2026-12-28"],
        full_hours="10:00-16:00",
        waking_hours="8:00-20:30",
        nonwork_hours="11:00-15:00",
    )
    assert cal.tz == ZoneInfo("Europe/London")
    assert cal.work_days == frozenset({0, 1, 2, 3, 4})
    assert cal.holidays == frozenset({date(2026, 12, 25), date(2026, 12, 28)})
    assert cal.full_hours == (time(10), time(16))
    assert cal.waking_hours == (time(8), time(20, 30))
    assert cal.nonwork_partial_hours == (time(11), time(15))
    wednesday = date(2026, 3, 4)
    assert cal.window_at(at(wednesday, 9, 59, tz=LONDON)) is SupportWindow.PARTIAL
    assert cal.window_at(at(wednesday, 10, tz=LONDON)) is SupportWindow.FULL
    assert cal.window_at(at(wednesday, 20, 29, tz=LONDON)) is SupportWindow.PARTIAL
    assert cal.window_at(at(wednesday, 20, 30, tz=LONDON)) is SupportWindow.LIMITED
    assert cal.window_at(at(SAT, 10, 59, tz=LONDON)) is SupportWindow.LIMITED
    assert cal.window_at(at(SAT, 11, tz=LONDON)) is SupportWindow.PARTIAL
    assert cal.window_at(at(date(2026, 12, 28), 12, tz=LONDON)) is SupportWindow.PARTIAL


def test_from_settings_defaults_and_date_objects() -> None:
    cal = SupportCalendar.from_settings(
        timezone="America/New_York", work_days=["sun"], holidays=[date(2026, 3, 15)]
    )
    assert cal.work_days == frozenset({6})
    assert cal.holidays == frozenset({date(2026, 3, 15)})
    assert cal.full_hours == (time(9), time(17))
    assert cal.waking_hours == (time(7), time(19))
    assert cal.nonwork_partial_hours == (time(9), time(17))
    assert cal.window_at(at(SUN, 9)) is SupportWindow.FULL
    assert cal.window_at(at(WED, 9)) is SupportWindow.PARTIAL


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "EST5EDT/../../etc", "   "])
def test_from_settings_rejects_an_unknown_zone(zone: str) -> None:
    with pytest.raises(ValueError, match="IANA"):
        SupportCalendar.from_settings(timezone=zone, work_days=["mon"], holidays=[])


@pytest.mark.parametrize("days", [["mon", "fun"], ["mo"], ["mon", 1], ["1"]])
def test_from_settings_rejects_unknown_days(days: list[str]) -> None:
    with pytest.raises(ValueError, match=r"mon, tue, wed, thu, fri, sat, sun") as raised:
        SupportCalendar.from_settings(timezone="Europe/London", work_days=days, holidays=[])
    assert "unknown work day" in str(raised.value)


def test_from_settings_rejects_a_bare_string_of_days() -> None:
    with pytest.raises(ValueError, match="list of day names"):
        SupportCalendar.from_settings(
            timezone="Europe/London",
            work_days="mon-fri",  # a string is a sequence too
            holidays=[],
        )


@pytest.mark.parametrize(
    "holidays",
    [["2026-13-01"], ["25/12/2026"], ["christmas"], [20261225], [datetime(2026, 12, 25, 0, 0)]],
)
def test_from_settings_rejects_bad_holidays(holidays: list[str]) -> None:
    with pytest.raises(ValueError, match="2026-12-25"):
        SupportCalendar.from_settings(timezone="Europe/London", work_days=[], holidays=holidays)


def test_from_settings_rejects_a_bare_string_of_holidays() -> None:
    with pytest.raises(ValueError, match="list of dates"):
        SupportCalendar.from_settings(timezone="Europe/London", work_days=[], holidays="2026-12-25")


@pytest.mark.parametrize(
    "hours",
    [
        "9-17",
        "09:00",
        "09:00-17:00-19:00",
        "17:00-09:00",
        "09:00-09:00",
        "25:00-26:00",
        "09:60-10:00",
        "09:5-10:00",
        "9h00-17h00",
        "",
        "-09:00-17:00",
        "09:00 to 17:00",
    ],
)
@pytest.mark.parametrize("key", ["full_hours", "waking_hours", "nonwork_hours"])
def test_from_settings_rejects_bad_hours(key: str, hours: str) -> None:
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        SupportCalendar.from_settings(
            timezone="Europe/London",
            work_days=["mon"],
            holidays=[],
            **{key: hours},
        )


def test_constructor_validates() -> None:
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6"):
        SupportCalendar(tz=NY, work_days=frozenset({7}))
    with pytest.raises(ValueError, match="start must come before the end"):
        SupportCalendar(tz=NY, full_hours=(time(17), time(9)))
    with pytest.raises(ValueError, match="positive"):
        SupportCalendar(tz=NY, full_ack=timedelta(0))
    with pytest.raises(ValueError, match="time zone"):
        SupportCalendar(tz="America/New_York")  # type: ignore[arg-type]


# -- next_update_due -------------------------------------------------------------------------------


def test_next_update_due_by_severity() -> None:
    since = u(2026, 3, 4, 12, 0)
    assert next_update_due(Severity.CRITICAL, since=since) == u(2026, 3, 4, 12, 30)
    assert next_update_due(Severity.MAJOR, since=since) == u(2026, 3, 4, 13, 0)
    assert next_update_due(Severity.MINOR, since=since) is None
    assert next_update_due(None, since=since) is None


def test_default_cadence() -> None:
    expected = {
        Severity.CRITICAL: timedelta(minutes=30),
        Severity.MAJOR: timedelta(minutes=60),
        Severity.MINOR: None,
    }
    assert expected == DEFAULT_UPDATE_EVERY


def test_next_update_due_returns_utc_from_any_zone() -> None:
    due = next_update_due(Severity.CRITICAL, since=at(WED, 12, 0))
    assert due == u(2026, 3, 4, 17, 30)
    assert due is not None and due.tzinfo is UTC


def test_next_update_due_with_a_custom_cadence() -> None:
    since = u(2026, 3, 4, 12, 0)
    every = {Severity.MINOR: timedelta(hours=4), Severity.CRITICAL: timedelta(minutes=15)}
    assert next_update_due(Severity.MINOR, since=since, every=every) == u(2026, 3, 4, 16, 0)
    assert next_update_due(Severity.CRITICAL, since=since, every=every) == u(2026, 3, 4, 12, 15)
    assert next_update_due(Severity.MAJOR, since=since, every=every) is None  # not listed


def test_next_update_due_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_update_due(Severity.MAJOR, since=datetime(2026, 3, 4, 12, 0))


# -- format_countdown ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(minutes=6, seconds=12), "06:12"),
        (timedelta(minutes=6, seconds=12, milliseconds=900), "06:12"),
        (timedelta(0), "00:00"),
        (timedelta(milliseconds=500), "00:00"),
        (timedelta(seconds=59), "00:59"),
        (timedelta(minutes=10), "10:00"),
        (timedelta(minutes=59, seconds=59), "59:59"),
        (timedelta(hours=1), "1:00:00"),
        (timedelta(hours=1, minutes=2, seconds=3), "1:02:03"),
        (timedelta(hours=26, seconds=5), "26:00:05"),
        (-timedelta(seconds=45), "-00:45"),
        (-timedelta(milliseconds=500), "-00:01"),  # overdue shows as overdue
        (-timedelta(minutes=12), "-12:00"),
        (-timedelta(hours=1, minutes=2, seconds=3), "-1:02:03"),
    ],
)
def test_format_countdown(delta: timedelta, text: str) -> None:
    assert format_countdown(delta) == text


def test_header_text_from_a_status(ny: SupportCalendar) -> None:
    status = ny.ack_status(at(WED, 12), now=at(WED, 12, 3, 48))
    assert status.remaining is not None
    header = f"ACK {format_countdown(status.remaining)} · {status.window.label}"
    assert header == "ACK 06:12 · full support"

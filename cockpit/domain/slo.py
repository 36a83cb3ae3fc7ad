"""The acknowledgement SLO and the update cadence.

From the playbook: an incident should be tracked (ticket created) within
- 10 minutes of the first report in "full support" (business hours, 09:00-17:00 on work days),
- 30 minutes in "partial support" (waking hours, 07:00-19:00 on work days, 09:00-17:00 on
  non-work days),
- no guaranteed time in "limited support" (outside those hours).
Holidays count as non-work days. Every interval is half-open, [start, end), in wall-clock time of
the team's zone. The deadline is the report time plus the objective of the window the report
arrived in, counted in elapsed time, even when it runs past the end of that window.

Pure and deterministic: every function takes the times it needs; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from cockpit.domain.clock import utc
from cockpit.domain.incident import Severity

_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)
# Offsets never change twice within this span, so stepping by it finds every transition.
_TRANSITION_STEP = timedelta(hours=3)

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NAMES: dict[str, int] = {
    **{name: i for i, name in enumerate(_WEEKDAYS)},
    **{name[:3]: i for i, name in enumerate(_WEEKDAYS)},
}

Interval = tuple[time, time]


class SupportWindow(StrEnum):
    FULL = "full support"
    PARTIAL = "partial support"
    LIMITED = "limited support"

    @property
    def label(self) -> str:
        return self.value

    @property
    def ack_within(self) -> timedelta | None:
        """The playbook's objective for this window (a calendar may configure its own)."""
        if self is SupportWindow.FULL:
            return timedelta(minutes=10)
        if self is SupportWindow.PARTIAL:
            return timedelta(minutes=30)
        return None


class AckStatus(msgspec.Struct, frozen=True):
    """Where an incident stands against the acknowledgement SLO.

    `remaining` is the deadline minus `now`, or minus the acknowledgement time once acknowledged
    (the countdown stops there); negative when late, None when the window has no SLO.
    `met` is None until acknowledged (and always when there is no SLO).
    `overdue` is True only while unacknowledged and past the deadline.
    """

    window: SupportWindow
    deadline: datetime | None
    remaining: timedelta | None
    met: bool | None
    overdue: bool


class SupportCalendar(msgspec.Struct, frozen=True):
    """The team's support hours in its own time zone."""

    tz: tzinfo
    work_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[date] = frozenset()
    full_hours: Interval = (time(9), time(17))
    waking_hours: Interval = (time(7), time(19))
    nonwork_partial_hours: Interval = (time(9), time(17))
    full_ack: timedelta = msgspec.field(default=timedelta(minutes=10))
    partial_ack: timedelta = msgspec.field(default=timedelta(minutes=30))

    def __post_init__(self) -> None:
        if not isinstance(self.tz, tzinfo):
            raise ValueError(
                f"tz must be a time zone (e.g. ZoneInfo('Europe/London')), not {self.tz!r}"
            )
        msgspec.structs.force_setattr(self, "work_days", frozenset(self.work_days))
        msgspec.structs.force_setattr(self, "holidays", frozenset(self.holidays))
        for day in self.work_days:
            if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
                raise ValueError(f"work day {day!r}: use 0 (Monday) to 6 (Sunday)")
        for holiday in self.holidays:
            if not isinstance(holiday, date) or isinstance(holiday, datetime):
                raise ValueError(f"holiday {holiday!r}: use a date")
        for name in ("full_hours", "waking_hours", "nonwork_partial_hours"):
            start, end = getattr(self, name)
            if not (isinstance(start, time) and isinstance(end, time)):
                raise ValueError(f"{name}: use a pair of times (start, end)")
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError(f"{name}: use wall-clock times without a zone")
            if not start < end:
                raise ValueError(f"{name}: the start must come before the end, got {start}-{end}")
        for name in ("full_ack", "partial_ack"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name}: must be a positive duration")

    # -- building from settings -----------------------------------------------------------------

    @classmethod
    def from_settings(
        cls,
        *,
        timezone: str,
        work_days: Sequence[str],
        holidays: Sequence[str | date],
        full_hours: str = "09:00-17:00",
        waking_hours: str = "07:00-19:00",
        nonwork_hours: str = "09:00-17:00",
    ) -> SupportCalendar:
        """Build a calendar from configuration values; bad input raises ValueError saying what
        is allowed (the caller adds which file and key)."""
        return cls(
            tz=_parse_zone(timezone),
            work_days=_parse_work_days(work_days),
            holidays=_parse_holidays(holidays),
            full_hours=_parse_hours(full_hours),
            waking_hours=_parse_hours(waking_hours),
            nonwork_partial_hours=_parse_hours(nonwork_hours),
        )

    # -- the window ---------------------------------------------------------------------------

    def is_work_day(self, day: date) -> bool:
        return day.weekday() in self.work_days and day not in self.holidays

    def window_at(self, at: datetime) -> SupportWindow:
        """The support window in force at `at` (aware; judged by the wall clock in `tz`)."""
        local = utc(at).astimezone(self.tz)
        day, wall = local.date(), local.time()
        if self.is_work_day(day):
            if _within(wall, self.full_hours):
                return SupportWindow.FULL
            if _within(wall, self.waking_hours):
                return SupportWindow.PARTIAL
            return SupportWindow.LIMITED
        if _within(wall, self.nonwork_partial_hours):
            return SupportWindow.PARTIAL
        return SupportWindow.LIMITED

    def ack_within(self, window: SupportWindow) -> timedelta | None:
        """This calendar's objective for `window`."""
        if window is SupportWindow.FULL:
            return self.full_ack
        if window is SupportWindow.PARTIAL:
            return self.partial_ack
        return None

    def ack_deadline(self, reported_at: datetime) -> datetime | None:
        """When the incident must be acknowledged (UTC), or None when no time is guaranteed."""
        within = self.ack_within(self.window_at(reported_at))
        return None if within is None else utc(reported_at) + within

    def ack_status(
        self,
        reported_at: datetime,
        now: datetime,
        acknowledged_at: datetime | None = None,
    ) -> AckStatus:
        window = self.window_at(reported_at)
        deadline = self.ack_deadline(reported_at)
        if deadline is None:
            return AckStatus(window=window, deadline=None, remaining=None, met=None, overdue=False)
        if acknowledged_at is None:
            remaining = deadline - utc(now)
            return AckStatus(
                window=window,
                deadline=deadline,
                remaining=remaining,
                met=None,
                overdue=remaining < timedelta(0),
            )
        acked = utc(acknowledged_at)
        return AckStatus(
            window=window,
            deadline=deadline,
            remaining=deadline - acked,
            met=acked <= deadline,
            overdue=False,
        )

    def next_window_change(self, at: datetime) -> datetime:
        """The first instant (UTC) after `at` at which the support window differs from the one
        in force at `at`. Daylight-saving days are handled: boundaries are wall-clock times in
        `tz`, a boundary that falls in a skipped hour takes effect when the clock jumps, and one
        in a repeated hour counts on both passes."""
        start = utc(at)
        current = self.window_at(start)
        for horizon in (timedelta(days=3), timedelta(days=10)):
            for instant in self._breakpoints(start, start + horizon):
                if self.window_at(instant) is not current:
                    return instant
        # Every day has a non-empty interval ending before midnight, so this cannot happen.
        raise RuntimeError("the support window never changes")  # pragma: no cover

    # -- helpers --------------------------------------------------------------------------------

    def _day_boundaries(self, day: date) -> set[time]:
        intervals: tuple[Interval, ...]
        if self.is_work_day(day):
            intervals = (self.full_hours, self.waking_hours)
        else:
            intervals = (self.nonwork_partial_hours,)
        return {time(0)} | {t for interval in intervals for t in interval}

    def _breakpoints(self, start: datetime, end: datetime) -> list[datetime]:
        """Every instant in (start, end] at which the window could change, sorted (UTC)."""
        points: set[datetime] = set()
        day = start.astimezone(self.tz).date() - _ONE_DAY
        last = end.astimezone(self.tz).date() + _ONE_DAY
        while day <= last:
            for wall in self._day_boundaries(day):
                naive = datetime.combine(day, wall)
                for fold in (0, 1):
                    instant = naive.replace(tzinfo=self.tz, fold=fold).astimezone(UTC)
                    # Keep it only if that wall time really occurs (not in a skipped hour).
                    if instant.astimezone(self.tz).replace(tzinfo=None) == naive:
                        points.add(instant)
            day += _ONE_DAY
        points.update(self._offset_changes(start, end))
        return sorted(p for p in points if start < p <= end)

    def _offset_changes(self, start: datetime, end: datetime) -> Iterator[datetime]:
        lo = start.replace(microsecond=0)
        while lo < end:
            hi = min(lo + _TRANSITION_STEP, end)
            if self._offset(lo) != self._offset(hi):
                yield self._first_with_offset_of(lo, hi)
            lo = hi

    def _first_with_offset_of(self, lo: datetime, hi: datetime) -> datetime:
        """Bisect (to the second) for the first instant in (lo, hi] with hi's offset."""
        before = self._offset(lo)
        a, b = 0, -(-(hi - lo) // _ONE_SECOND)  # lo + b seconds is at or just after hi
        while b - a > 1:
            mid = (a + b) // 2
            if self._offset(lo + mid * _ONE_SECOND) == before:
                a = mid
            else:
                b = mid
        return lo + b * _ONE_SECOND

    def _offset(self, instant: datetime) -> timedelta | None:
        return instant.astimezone(self.tz).utcoffset()


def _within(wall: time, interval: Interval) -> bool:
    start, end = interval
    return start <= wall < end


# -- parsing settings -----------------------------------------------------------------------------


def _parse_zone(name: str) -> ZoneInfo:
    allowed = "use an IANA time zone name such as 'Europe/London' or 'America/New_York'"
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"time zone {name!r}: {allowed}")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: {allowed}") from None


def _parse_work_days(names: Sequence[str]) -> frozenset[int]:
    allowed = "use mon, tue, wed, thu, fri, sat, sun (or full names such as 'monday')"
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise ValueError(f"work days {names!r}: give a list of day names; {allowed}")
    days: set[int] = set()
    for name in names:
        key = name.strip().lower() if isinstance(name, str) else None
        if key is None or key not in _DAY_NAMES:
            raise ValueError(f"unknown work day {name!r}: {allowed}")
        days.add(_DAY_NAMES[key])
    return frozenset(days)


def _parse_holidays(values: Sequence[str | date]) -> frozenset[date]:
    allowed = "use ISO dates such as '2026-12-25'"
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ValueError(f"holidays {values!r}: give a list of dates; {allowed}")
    days: set[date] = set()
    for value in values:
        if isinstance(value, datetime):
            raise ValueError(f"holiday {value!r} has a time of day: {allowed}")
        if isinstance(value, date):  # a TOML file gives bare dates as date objects
            days.add(value)
            continue
        if not isinstance(value, str):
            raise ValueError(f"holiday {value!r}: {allowed}")
        try:
            days.add(date.fromisoformat(value.strip()))
        except ValueError:
            raise ValueError(f"bad holiday {value!r}: {allowed}") from None
    return frozenset(days)


def _parse_hours(text: str) -> Interval:
    allowed = "use HH:MM-HH:MM in 24-hour time with the start before the end, e.g. '09:00-17:00'"
    if not isinstance(text, str):
        raise ValueError(f"hours {text!r}: {allowed}")
    parts = text.replace("–", "-").split("-")
    if len(parts) != 2:
        raise ValueError(f"bad hours {text!r}: {allowed}")
    try:
        start, end = (_parse_clock(part) for part in parts)
    except ValueError:
        raise ValueError(f"bad hours {text!r}: {allowed}") from None
    if not start < end:
        raise ValueError(f"bad hours {text!r}: the start must come before the end; {allowed}")
    return start, end


def _parse_clock(text: str) -> time:
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not (hours.isdigit() and minutes.isdigit()):
        raise ValueError(text)
    if not (1 <= len(hours) <= 2 and len(minutes) == 2):
        raise ValueError(text)
    return time(int(hours), int(minutes))  # raises ValueError when out of range


# -- the update cadence ---------------------------------------------------------------------------

DEFAULT_UPDATE_EVERY: dict[Severity, timedelta | None] = {
    Severity.CRITICAL: timedelta(minutes=30),
    Severity.MAJOR: timedelta(minutes=60),
    Severity.MINOR: None,
}


def next_update_due(
    severity: Severity | None,
    *,
    since: datetime,
    every: Mapping[Severity, timedelta | None] = DEFAULT_UPDATE_EVERY,
) -> datetime | None:
    """When the next update is due (UTC): `since` (the last update sent, or the acknowledgement)
    plus the severity's cadence; None when the severity is unset or has no cadence."""
    if severity is None:
        return None
    cadence = every.get(severity)
    return None if cadence is None else utc(since) + cadence


# -- display --------------------------------------------------------------------------------------


def format_countdown(delta: timedelta) -> str:
    """'06:12', '1:02:03' from an hour up, '-00:45' when overdue. Whole seconds, rounded down,
    so the display turns negative exactly when the deadline has passed."""
    seconds = delta // _ONE_SECOND
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes:02d}:{secs:02d}"

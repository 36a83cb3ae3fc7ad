"""Metrics over a generated history, checked against values computed by hand.

The history (New York, Thanksgiving 2026-11-26 a holiday), period Mon 2026-11-16 00:00 to
Mon 2026-11-30 00:00 local, judged at Sun 2026-11-29 12:20 local:

id  reported (local)         window   tracked       SLO      severity  mitigated  resolved
1   Mon 11-16 16:55          full     17:04 (9m)    met      critical  35m        1h30m
2   Tue 11-17 18:58          partial  19:30 (32m)   missed   major     60m        3h
3   Wed 11-18 23:00          limited  23:20 (20m)   no SLO   minor     40m        50m
4   Sat 11-21 10:00          partial  10:25 (25m)   met      unset     open (FIXING)
13  Mon 11-23 09:00          full     09:10 (10m)   met, on the deadline  minor  40m  40m
6   Thu 11-26 10:00 holiday  partial  10:15 (15m)   met      major     45m        2h
7   Fri 11-27 11:00          full     11:03         canceled: left out of the SLO and times
8   Fri 11-27 16:00          full     never         missed   critical  open (REPORTED)
9   Sun 11-29 12:00          partial  never         pending  minor     open (REPORTED)
10  a drill, Mon 11-16: left out
11  Sun 11-15 23:59 (before the period), open MONITORING: only in open_now
12  Mon 11-30 00:00 (== until): outside the half-open period
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cockpit.domain.incident import Incident, Severity, Status
from cockpit.domain.metrics import (
    CSV_COLUMNS,
    AckOutcome,
    Group,
    Metrics,
    ack_outcome,
    bar,
    compute_metrics,
    format_span,
    nearest_rank,
    parse_since,
    render_csv,
    render_text,
    week_label,
)
from cockpit.domain.slo import SupportCalendar, SupportWindow

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
TOKYO = ZoneInfo("Asia/Tokyo")
THANKSGIVING = date(2026, 11, 26)
M = timedelta(minutes=1)


def ny(mo: int, d: int, hh: int, mm: int = 0, ss: int = 0, fold: int = 0) -> datetime:
    return datetime(2026, mo, d, hh, mm, ss, tzinfo=NY, fold=fold)


def make(
    iid: str,
    reported: datetime,
    *,
    ack: int | None = None,
    severity: Severity | None = None,
    status: Status = Status.RESOLVED,
    mitigated: int | None = None,
    resolved: int | None = None,
    canceled: int | None = None,
    drill: bool = False,
) -> Incident:
    """An incident with its times given in minutes after the report."""

    def after(n: int | None) -> datetime | None:
        return None if n is None else reported + n * M

    return Incident(
        id=iid,
        title=f"incident {iid}",
        first_reported_at=reported,
        created_at=reported,
        severity=severity,
        status=status,
        acknowledged_at=after(ack),
        mitigated_at=after(mitigated),
        resolved_at=after(resolved),
        canceled_at=after(canceled),
        drill=drill,
    )


def history() -> list[Incident]:
    return [
        make("1", ny(11, 16, 16, 55), ack=9, severity=Severity.CRITICAL, mitigated=35, resolved=90),
        make("2", ny(11, 17, 18, 58), ack=32, severity=Severity.MAJOR, mitigated=60, resolved=180),
        make("3", ny(11, 18, 23, 0), ack=20, severity=Severity.MINOR, mitigated=40, resolved=50),
        make("4", ny(11, 21, 10, 0), ack=25, status=Status.FIXING),
        make("13", ny(11, 23, 9, 0), ack=10, severity=Severity.MINOR, mitigated=40, resolved=40),
        make("6", ny(11, 26, 10, 0), ack=15, severity=Severity.MAJOR, mitigated=45, resolved=120),
        make("7", ny(11, 27, 11, 0), ack=3, status=Status.CANCELED, canceled=10),
        make("8", ny(11, 27, 16, 0), severity=Severity.CRITICAL, status=Status.REPORTED),
        make("9", ny(11, 29, 12, 0), severity=Severity.MINOR, status=Status.REPORTED),
        make("10", ny(11, 16, 10, 0), ack=1, status=Status.REPORTED, drill=True),
        make("11", ny(11, 15, 23, 59), ack=5, status=Status.MONITORING, mitigated=30),
        make("12", ny(11, 30, 0, 0), ack=5, severity=Severity.MAJOR, mitigated=9, resolved=9),
    ]


CAL = SupportCalendar(tz=NY, holidays=frozenset({THANKSGIVING}))
SINCE, UNTIL, NOW = ny(11, 16, 0), ny(11, 30, 0), ny(11, 29, 12, 20)


@pytest.fixture
def metrics() -> Metrics:
    return compute_metrics(history(), calendar=CAL, since=SINCE, until=UNTIL, now=NOW)


def by_key(groups: tuple[Group, ...]) -> dict[str, Group]:
    return {g.key: g for g in groups}


def test_the_dates_are_the_days_the_history_assumes() -> None:
    assert ny(11, 16, 0).weekday() == 0 and ny(11, 21, 0).weekday() == 5
    assert THANKSGIVING.weekday() == 3 and ny(11, 29, 0).weekday() == 6


# -- the SLO per incident, at the window boundaries ------------------------------------------------


@pytest.mark.parametrize(
    "reported,ack,now,window,outcome",
    [
        # 16:55 on a work day: full support (10m); acknowledged 17:04, in partial hours: met
        (ny(11, 16, 16, 55), ny(11, 16, 17, 4), NOW, SupportWindow.FULL, AckOutcome.MET),
        # 18:58: partial support (30m); 19:30 is 32 minutes: missed
        (ny(11, 17, 18, 58), ny(11, 17, 19, 30), NOW, SupportWindow.PARTIAL, AckOutcome.MISSED),
        # 23:00: limited support, no SLO however long it took
        (ny(11, 18, 23, 0), ny(11, 19, 9, 0), NOW, SupportWindow.LIMITED, AckOutcome.NO_SLO),
        # exactly on the deadline is met; a second later is missed
        (ny(11, 23, 9, 0), ny(11, 23, 9, 10), NOW, SupportWindow.FULL, AckOutcome.MET),
        (ny(11, 23, 9, 0), ny(11, 23, 9, 10, 1), NOW, SupportWindow.FULL, AckOutcome.MISSED),
        # a Saturday at 10:00: partial support (30m)
        (ny(11, 21, 10, 0), ny(11, 21, 10, 25), NOW, SupportWindow.PARTIAL, AckOutcome.MET),
        # Thanksgiving 10:00: a holiday, so partial (30m), not full (10m): 15m is met
        (ny(11, 26, 10, 0), ny(11, 26, 10, 15), NOW, SupportWindow.PARTIAL, AckOutcome.MET),
        # unacknowledged: pending before the deadline, missed after it
        (ny(11, 29, 12, 0), None, ny(11, 29, 12, 29), SupportWindow.PARTIAL, AckOutcome.PENDING),
        (ny(11, 29, 12, 0), None, ny(11, 29, 12, 31), SupportWindow.PARTIAL, AckOutcome.MISSED),
    ],
)
def test_ack_outcome(
    reported: datetime,
    ack: datetime | None,
    now: datetime,
    window: SupportWindow,
    outcome: AckOutcome,
) -> None:
    inc = Incident(id="1", title="t", first_reported_at=reported, created_at=reported)
    inc.acknowledged_at = ack
    assert ack_outcome(inc, CAL, now=now) == (window, outcome)


# -- the generated history -------------------------------------------------------------------------


def test_totals_canceled_and_drills(metrics: Metrics) -> None:
    t = metrics.total
    assert (t.reported, t.real, t.canceled) == (9, 8, 1)
    assert t.open == 3  # 4 (FIXING), 8 and 9 (REPORTED)
    assert metrics.excluded_drills == 1
    assert dict(t.by_severity) == {"critical": 2, "major": 2, "minor": 3, "unset": 1}
    assert sum(t.by_severity.values()) == t.real  # canceled ones have no severity column


def test_open_now_counts_open_incidents_from_before_the_period(metrics: Metrics) -> None:
    o = metrics.open_now
    assert o.total == 4 and o.reported_before_since == 1  # incident 11
    assert dict(o.by_status) == {"reported": 2, "fixing": 1, "monitoring": 1}


def test_weeks_are_iso_weeks_in_the_team_zone(metrics: Metrics) -> None:
    assert [w.key for w in metrics.weeks] == ["2026-W47", "2026-W48"]
    w47, w48 = metrics.weeks
    assert (w47.reported, w47.real, w47.canceled) == (4, 4, 0)  # 1, 2, 3, 4
    assert (w48.reported, w48.real, w48.canceled) == (5, 4, 1)  # 13, 6, 7, 8, 9
    assert w47.start == ny(11, 16, 0) and w47.end == ny(11, 23, 0) == w48.start
    assert w47.label == "week of 2026-11-16"
    # incident 1 is 21:55 UTC on Monday; 4 is Saturday: all in W47
    assert dict(w47.by_severity) == {"critical": 1, "major": 1, "minor": 1, "unset": 1}
    # W47's times to acknowledge: 9, 20, 25, 32 → median rank 2 = 20m, p90 rank 4 = 32m
    assert w47.to_acknowledge.median == 20 * M and w47.to_acknowledge.p90 == 32 * M


def test_severities(metrics: Metrics) -> None:
    s = by_key(metrics.severities)
    assert list(s) == ["critical", "major", "minor", "unset"]
    crit, unset = s["critical"], s["unset"]
    assert (crit.reported, crit.open) == (2, 1)
    assert (crit.ack.met, crit.ack.missed) == (1, 1)
    assert (unset.reported, unset.real, unset.canceled) == (2, 1, 1)
    assert unset.label == "unset" and crit.label == "Critical"


def test_acknowledgement_per_support_window(metrics: Metrics) -> None:
    w = by_key(metrics.windows)
    full, partial, limited = w["full"], w["partial"], w["limited"]
    # full: 1 met, 13 met (on the deadline), 8 missed (never tracked); 7 is canceled
    assert (full.reported, full.canceled) == (4, 1)
    a = full.ack
    assert (a.met, a.missed, a.pending, a.no_slo) == (2, 1, 0, 0)
    assert a.attainment == pytest.approx(2 / 3)
    assert full.objective == 10 * M
    # partial: 2 missed, 4 met (Saturday), 6 met (holiday), 9 pending
    a = partial.ack
    assert (a.met, a.missed, a.pending, a.no_slo) == (2, 1, 1, 0)
    assert partial.objective == 30 * M
    a = limited.ack
    assert (a.met, a.missed, a.pending, a.no_slo) == (0, 0, 0, 1)
    assert a.attainment is None and limited.objective is None
    t = metrics.total.ack
    assert (t.met, t.missed, t.pending, t.no_slo) == (4, 2, 1, 1)


def test_unacknowledged_incidents_are_judged_at_now() -> None:
    early = compute_metrics(
        history(), calendar=CAL, since=SINCE, until=UNTIL, now=ny(11, 27, 16, 5)
    )
    # at 16:05 on Friday incident 8 (deadline 16:10) is still pending; 9 is not reported yet
    full = by_key(early.windows)["full"]
    assert (full.ack.met, full.ack.missed, full.ack.pending) == (2, 0, 1)
    # by default `now` is `until`: 9 (deadline Sunday 12:30) is then missed
    late = compute_metrics(history(), calendar=CAL, since=SINCE, until=UNTIL)
    assert (late.total.ack.missed, late.total.ack.pending) == (3, 0)


def test_response_times_median_and_p90_by_hand(metrics: Metrics) -> None:
    t = metrics.total
    # acknowledge: 9, 10, 15, 20, 25, 32 (canceled 7's 3m is left out); n=6
    # median rank ceil(3) = 3 → 15m; p90 rank ceil(5.4) = 6 → 32m
    assert (t.to_acknowledge.count, t.to_acknowledge.median, t.to_acknowledge.p90) == (
        6,
        15 * M,
        32 * M,
    )
    # mitigate: 35, 40, 40, 45, 60; n=5: median rank 3 → 40m; p90 rank ceil(4.5) = 5 → 60m
    assert (t.to_mitigate.count, t.to_mitigate.median, t.to_mitigate.p90) == (5, 40 * M, 60 * M)
    # resolve: 40, 50, 90, 120, 180 → 90m and 180m
    assert (t.to_resolve.count, t.to_resolve.median, t.to_resolve.p90) == (5, 90 * M, 180 * M)
    assert t.to_resolve.max == 180 * M


def test_nearest_rank() -> None:
    four = [3 * M, 1 * M, 4 * M, 2 * M]
    assert nearest_rank(four, 50) == 2 * M  # even n: the lower middle value, never 2.5
    assert nearest_rank(four, 90) == 4 * M  # rank ceil(3.6) = 4
    ten = [i * M for i in range(1, 11)]
    assert nearest_rank(ten, 50) == 5 * M and nearest_rank(ten, 90) == 9 * M
    assert nearest_rank(ten, 91) == 10 * M
    assert nearest_rank(ten, 0) == 1 * M and nearest_rank(ten, 100) == 10 * M
    assert nearest_rank([7 * M], 90) == 7 * M
    assert nearest_rank([], 50) is None
    with pytest.raises(ValueError):
        nearest_rank(ten, 101)


def test_the_period_is_half_open_and_checked() -> None:
    m = compute_metrics(history(), calendar=CAL, since=SINCE, until=UNTIL, now=NOW)
    assert m.total.reported == 9  # 12, reported at exactly `until`, is not in the period
    later = compute_metrics(
        history(), calendar=CAL, since=SINCE, until=ny(11, 30, 0, 0, 1), now=NOW
    )
    assert later.total.reported == m.total.reported + 1  # 12, reported at exactly 00:00
    assert [w.key for w in later.weeks] == ["2026-W47", "2026-W48", "2026-W49"]
    with pytest.raises(ValueError):
        compute_metrics([], calendar=CAL, since=UNTIL, until=SINCE)
    drills = compute_metrics(
        history(), calendar=CAL, since=SINCE, until=UNTIL, now=NOW, include_drills=True
    )
    assert drills.total.reported == 10 and drills.excluded_drills == 0


# -- time zones and daylight saving ---------------------------------------------------------------


def test_week_across_the_spring_forward() -> None:
    """America/New_York 2026-03-08 02:00 EST → 03:00 EDT: the week of 2 March is 167 hours."""
    incidents = [
        make("1", ny(3, 8, 1, 30), ack=5, severity=Severity.MINOR),  # EST, Sunday: limited
        make("2", ny(3, 8, 3, 30), ack=5, severity=Severity.MINOR),  # EDT, Sunday: limited
        # Sunday 23:30 EDT is Monday 03:30 UTC: still week 10 on the team's clock
        make("3", ny(3, 8, 23, 30), ack=5, severity=Severity.MAJOR),
        # Monday 09:30 EDT is 13:30 UTC: full support (with a fixed -5h it would be 08:30)
        make("4", ny(3, 9, 9, 30), ack=8, severity=Severity.CRITICAL),
        make("5", ny(3, 9, 0, 30), ack=40, severity=Severity.MINOR),  # Monday 00:30: week 11
    ]
    assert incidents[2].first_reported_at == datetime(2026, 3, 9, 3, 30, tzinfo=UTC)
    m = compute_metrics(
        incidents, calendar=CAL, since=ny(3, 2, 0), until=ny(3, 16, 0), now=ny(3, 16, 0)
    )
    w10, w11 = m.weeks
    assert (w10.key, w11.key) == ("2026-W10", "2026-W11")
    assert (w10.reported, w11.reported) == (3, 2)
    assert w10.start is not None and w10.end is not None
    assert w10.start.isoformat() == "2026-03-02T00:00:00-05:00"
    assert w10.end.isoformat() == "2026-03-09T00:00:00-04:00"
    # (aware datetimes in one zone subtract as wall times: compare in UTC)
    assert w10.end.astimezone(UTC) - w10.start.astimezone(UTC) == timedelta(hours=167)
    w = by_key(m.windows)
    assert w["full"].reported == 1 and w["full"].ack.met == 1
    assert w["limited"].reported == 4


def test_week_across_the_fall_back() -> None:
    """2026-11-01 02:00 EDT → 01:00 EST: the week of 26 October is 169 hours, and 01:30 comes
    twice, both times in that week."""
    incidents = [
        make("1", ny(11, 1, 1, 30, fold=0), ack=5),  # 05:30 UTC
        make("2", ny(11, 1, 1, 30, fold=1), ack=5),  # 06:30 UTC
        make("3", ny(11, 2, 0, 30), ack=5),  # Monday: week 45
    ]
    assert incidents[1].first_reported_at - incidents[0].first_reported_at == timedelta(hours=1)
    m = compute_metrics(incidents, calendar=CAL, since=ny(10, 26, 0), until=ny(11, 9, 0))
    w44, w45 = m.weeks
    assert (w44.key, w44.reported, w45.key, w45.reported) == ("2026-W44", 2, "2026-W45", 1)
    assert w44.start is not None and w44.end is not None
    assert w44.end.astimezone(UTC) - w44.start.astimezone(UTC) == timedelta(hours=169)


def test_two_time_zones_same_instants() -> None:
    """The same two reports, judged by teams in New York, London and Tokyo."""
    x = make("1", datetime(2026, 11, 18, 21, 55, tzinfo=UTC), ack=9)  # Wed
    y = make("2", datetime(2026, 11, 22, 23, 30, tzinfo=UTC), ack=20)  # Sun
    since, until = datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)

    def run(cal: SupportCalendar, tz: ZoneInfo | None = None) -> Metrics:
        return compute_metrics([x, y], calendar=cal, since=since, until=until, tz=tz)

    def windows(m: Metrics) -> tuple[int, int, int]:
        w = by_key(m.windows)
        full, partial, limited = (w[k].reported for k in ("full", "partial", "limited"))
        return full, partial, limited

    def weeks(m: Metrics) -> dict[str, int]:
        return {w.key: w.reported for w in m.weeks if w.reported}

    new_york = run(SupportCalendar(tz=NY))
    # x: 16:55 EST on a Wednesday (full, 9m: met); y: Sunday 18:30 (limited)
    assert windows(new_york) == (1, 0, 1) and new_york.total.ack.met == 1
    assert weeks(new_york) == {"2026-W47": 2}
    london = run(SupportCalendar(tz=LONDON))
    # x: 21:55 GMT (limited); y: Sunday 23:30 (limited)
    assert windows(london) == (0, 0, 2) and london.total.ack.no_slo == 2
    assert weeks(london) == {"2026-W47": 2}
    tokyo = run(SupportCalendar(tz=TOKYO))
    # x: Thursday 06:55 JST (limited); y: Monday 08:30 JST (partial, 20m: met), week 48
    assert windows(tokyo) == (0, 1, 1) and tokyo.total.ack.met == 1
    assert weeks(tokyo) == {"2026-W47": 1, "2026-W48": 1}
    assert tokyo.tz_name == "Asia/Tokyo"
    # the windows follow the calendar, the weeks follow `tz`
    mixed = run(SupportCalendar(tz=NY), tz=TOKYO)
    assert windows(mixed) == (1, 0, 1) and weeks(mixed) == {"2026-W47": 1, "2026-W48": 1}
    assert week_label(y.first_reported_at, NY) == "2026-W47"
    assert week_label(y.first_reported_at, TOKYO) == "2026-W48"


def test_iso_year_at_the_turn_of_the_year() -> None:
    # 2027-01-01 is a Friday: ISO week 53 of 2026
    assert week_label(datetime(2027, 1, 1, 12, tzinfo=UTC), UTC) == "2026-W53"
    assert week_label(datetime(2027, 1, 4, 12, tzinfo=UTC), UTC) == "2027-W01"


# -- output ------------------------------------------------------------------------------------


def test_to_dict_is_json_with_durations_in_seconds(metrics: Metrics) -> None:
    d = json.loads(json.dumps(metrics.to_dict()))
    assert d["timezone"] == "America/New_York" and d["percentile_method"] == "nearest-rank"
    assert d["total"]["reported"] == 9 and d["total"]["canceled"] == 1
    assert d["total"]["to_acknowledge"] == {
        "count": 6,
        "median_s": 900,
        "p90_s": 1920,
        "max_s": 1920,
    }
    assert d["weeks"][0]["key"] == "2026-W47"
    assert d["weeks"][0]["start"] == "2026-11-16T00:00:00-05:00"
    assert d["windows"][0]["ack_objective_s"] == 600
    assert d["windows"][2]["ack_objective_s"] is None
    assert d["open_now"]["total"] == 4
    assert d["since"] == "2026-11-16T05:00:00+00:00"


def test_render_text(metrics: Metrics) -> None:
    out = render_text(metrics)
    assert "Incidents 2026-11-16 00:00 → 2026-11-30 00:00 (America/New_York)" in out
    assert "9 reported · 8 real · 1 canceled · 4 open now (1 reported earlier)" in out
    lines = out.splitlines()

    def line(start: str) -> str:
        return next(ln for ln in lines if ln.strip().startswith(start))

    w47, w48 = line("2026-W47"), line("2026-W48")
    assert "█" * 20 in w47 and w47.rstrip().endswith("4")  # the longest week: a full bar
    assert w48.rstrip().endswith("4  +1 canceled")
    assert line("Minor").count("█") == 20 and line("Critical").count("█") == 13  # 2/3 of 20
    full = line("full support")
    assert "≤10m" in full and "met 2 · missed 1" in full and full.rstrip().endswith("67%")
    assert "pending 1" in line("partial support")
    assert "no objective: 1 incident" in line("limited support")
    tracked = line("report → tracked").split()
    assert tracked[-4:] == ["15m", "32m", "32m", "6"]
    assert "1h 30m   3h 00m   3h 00m    5" in line("report → resolved")
    assert "(1 drill left out)" in out
    assert "nearest-rank" in out
    assert "\x1b" not in out


def test_render_text_without_incidents() -> None:
    m = compute_metrics([], calendar=CAL, since=SINCE, until=UNTIL)
    out = render_text(m)
    assert "0 reported" in out and "No incidents were reported in this period." in out


def test_render_csv(metrics: Metrics) -> None:
    out = render_csv(metrics)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    groups = [(r["group"], r["key"]) for r in rows]
    assert groups == [
        ("week", "2026-W47"),
        ("week", "2026-W48"),
        ("severity", "critical"),
        ("severity", "major"),
        ("severity", "minor"),
        ("severity", "unset"),
        ("window", "full"),
        ("window", "partial"),
        ("window", "limited"),
        ("total", "total"),
    ]
    w48 = rows[1]
    assert (w48["reported"], w48["real"], w48["canceled"], w48["open"]) == ("5", "4", "1", "2")
    assert w48["start"] == "2026-11-23T00:00:00-05:00"
    total = rows[-1]
    assert total["tta_median_s"] == "900" and total["tta_p90_s"] == "1920"
    assert total["ttr_median_s"] == "5400" and total["ttr_n"] == "5"
    full = rows[6]
    assert (full["ack_met"], full["ack_missed"], full["ack_objective_s"]) == ("2", "1", "600")
    assert full["ack_attainment"] == "0.6667"
    limited = rows[8]
    assert limited["ack_attainment"] == "" and limited["ack_objective_s"] == ""
    unset = rows[5]
    assert unset["tta_median_s"] == "1500"  # incident 4 only (the canceled 7 is left out)
    assert unset["ttr_median_s"] == ""  # nothing resolved: an empty cell


# -- helpers -----------------------------------------------------------------------------------


def test_bar() -> None:
    assert bar(0, 5) == "" and bar(3, 0) == ""
    assert bar(5, 5) == "█" * 20
    assert bar(1, 160) == "▏"  # one eighth of a cell
    assert bar(1, 2) == "█" * 10
    assert bar(0.001, 100) == "▏"  # anything above zero is visible
    assert bar(10, 5) == "█" * 20  # never longer than the width


def test_format_span() -> None:
    assert format_span(None) == "—"
    assert format_span(timedelta(seconds=30)) == "<1m"
    assert format_span(9 * M) == "9m"
    assert format_span(90 * M) == "1h 30m"
    assert format_span(timedelta(days=2, hours=4, minutes=5)) == "2d 4h"


def test_parse_since() -> None:
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert parse_since("30d", now=now, tz=NY) == now - timedelta(days=30)
    assert parse_since("2w", now=now, tz=NY) == now - timedelta(weeks=2)
    assert parse_since("12h", now=now, tz=NY) == now - timedelta(hours=12)
    assert parse_since("2026-11-01", now=now, tz=NY) == datetime(2026, 11, 1, 4, tzinfo=UTC)
    assert parse_since("2026-11-02T09:00", now=now, tz=NY) == datetime(2026, 11, 2, 14, tzinfo=UTC)
    with pytest.raises(ValueError, match="30d"):
        parse_since("last month", now=now, tz=NY)

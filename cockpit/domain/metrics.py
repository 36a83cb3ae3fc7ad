"""Metrics over past incidents: how many, how fast, and whether the acknowledgement SLO held.

`compute_metrics` takes incidents or their summaries (anything `Reported`: the store's index
holds what it needs, so a year of history is counted without opening a file), a report
period and the team's support calendar, and returns a frozen `Metrics`; `render_text`,
`render_csv` and `Metrics.to_dict` turn it into a small report with bar charts, a CSV and
JSON.

Definitions (the tests check each against hand-computed values):

- **In the period**: an incident whose `first_reported_at` is in `[since, until)`. Drills are
  left out (counted in `excluded_drills`) unless `include_drills`.
- **Real / canceled**: a CANCELED incident was "not an incident". It is counted (reported,
  canceled) but left out of the severity columns, the SLO and the response times.
- **Weeks**: ISO weeks in the team's zone `tz` (Monday 00:00 to the next Monday 00:00 on the
  wall clock, so a week with a daylight-saving change lasts 167 or 169 hours), labelled like
  `2026-W47` with the ISO year. Every week that overlaps the period is listed, empty or not.
- **Acknowledgement SLO**: judged per incident by `SupportCalendar.ack_status`, in the window
  the report arrived in: `met` (tracked by the deadline, inclusive), `missed` (tracked late, or
  not tracked and the deadline has passed at `now`), `pending` (not tracked, deadline still
  ahead at `now`) or `no SLO` (reported in limited support). Attainment = met / (met + missed).
- **Response times**: from the first report to `acknowledged_at` (tracked), `mitigated_at` and
  `resolved_at`, over the real incidents that reached that point. Negative spans (a clock
  mistake) count as zero.
- **Median and p90** use the *nearest-rank* method: sort the n durations; the p-th percentile
  is the value at rank ceil(p/100 × n) (1-based). It is always a duration that really
  happened, never an interpolation; for an even n the median is the lower of the two middle
  values. With no durations both are None.
- **Open**: incidents whose status is open (REPORTED / FIXING / MONITORING) now.

Durations in `to_dict` and the CSV are whole seconds. Pure: nothing here reads a clock.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any, Protocol

from cockpit.domain.clock import utc
from cockpit.domain.incident import Severity, Status
from cockpit.domain.slo import SupportCalendar, SupportWindow

PERCENTILE_METHOD = "nearest-rank"
PERCENTILE_NOTE = (
    "median and p90 by the nearest-rank method: each is a recorded time, the shortest that "
    "half (or 90%) of the incidents did not exceed"
)
SEVERITY_KEYS: tuple[str, ...] = (*(s.value for s in reversed(Severity)), "unset")
WINDOWS: tuple[SupportWindow, ...] = tuple(SupportWindow)
OPEN_STATUSES: tuple[Status, ...] = tuple(s for s in Status if s.is_open)


class Reported(Protocol):
    """What metrics read of an incident: an `Incident`, or the store's summary of one."""

    @property
    def id(self) -> str: ...
    @property
    def severity(self) -> Severity | None: ...
    @property
    def status(self) -> Status: ...
    @property
    def drill(self) -> bool: ...
    @property
    def first_reported_at(self) -> datetime: ...
    @property
    def acknowledged_at(self) -> datetime | None: ...
    @property
    def mitigated_at(self) -> datetime | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def is_open(self) -> bool: ...


class AckOutcome(StrEnum):
    MET = "met"
    MISSED = "missed"
    PENDING = "pending"
    NO_SLO = "no SLO"


def ack_outcome(
    incident: Reported, calendar: SupportCalendar, *, now: datetime
) -> tuple[SupportWindow, AckOutcome]:
    """The support window the report arrived in, and where the incident stands against the
    acknowledgement SLO at `now` (see the module's definitions)."""
    status = calendar.ack_status(incident.first_reported_at, now, incident.acknowledged_at)
    if status.deadline is None:
        return status.window, AckOutcome.NO_SLO
    if status.met is not None:
        return status.window, AckOutcome.MET if status.met else AckOutcome.MISSED
    return status.window, AckOutcome.MISSED if status.overdue else AckOutcome.PENDING


def nearest_rank(values: Sequence[timedelta], percent: float) -> timedelta | None:
    """The nearest-rank percentile: the value at 1-based rank ceil(percent/100 × n) of the
    sorted values (the smallest for percent 0); None when there are no values."""
    if not 0 <= percent <= 100:
        raise ValueError(f"percentile {percent!r}: use a number from 0 to 100")
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


# -- the result ----------------------------------------------------------------------------------


def _seconds(d: timedelta | None) -> int | None:
    return None if d is None else round(d.total_seconds())


@dataclass(frozen=True)
class AckCounts:
    met: int = 0
    missed: int = 0
    pending: int = 0
    no_slo: int = 0

    @property
    def judged(self) -> int:
        """Incidents with a verdict (met or missed)."""
        return self.met + self.missed

    @property
    def attainment(self) -> float | None:
        """met / (met + missed), or None when nothing could be judged."""
        return None if self.judged == 0 else self.met / self.judged

    def to_dict(self) -> dict[str, Any]:
        return {
            "met": self.met,
            "missed": self.missed,
            "pending": self.pending,
            "no_slo": self.no_slo,
            "attainment": self.attainment,
        }


@dataclass(frozen=True)
class DurationStats:
    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None
    max: timedelta | None = None

    @classmethod
    def of(cls, values: Sequence[timedelta]) -> DurationStats:
        return cls(
            count=len(values),
            median=nearest_rank(values, 50),
            p90=nearest_rank(values, 90),
            max=max(values) if values else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "median_s": _seconds(self.median),
            "p90_s": _seconds(self.p90),
            "max_s": _seconds(self.max),
        }


@dataclass(frozen=True)
class Group:
    """The numbers for one slice of the period: a week, a severity, a support window, or all.

    `reported` counts every report (real and canceled); `by_severity` counts the real ones
    (keys critical, major, minor, unset); `ack` and the durations cover real incidents only.
    """

    key: str
    label: str
    reported: int
    canceled: int
    open: int
    by_severity: Mapping[str, int]
    ack: AckCounts
    to_acknowledge: DurationStats
    to_mitigate: DurationStats
    to_resolve: DurationStats
    start: datetime | None = None  # weeks: local Monday 00:00 (aware, in the team's zone)
    end: datetime | None = None  # weeks: the next Monday 00:00
    objective: timedelta | None = None  # support windows: the acknowledgement objective

    @property
    def real(self) -> int:
        return self.reported - self.canceled

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "reported": self.reported,
            "real": self.real,
            "canceled": self.canceled,
            "open": self.open,
            "by_severity": dict(self.by_severity),
            "ack": self.ack.to_dict(),
            "ack_objective_s": _seconds(self.objective),
            "to_acknowledge": self.to_acknowledge.to_dict(),
            "to_mitigate": self.to_mitigate.to_dict(),
            "to_resolve": self.to_resolve.to_dict(),
        }


@dataclass(frozen=True)
class OpenCounts:
    """Incidents open now among all those given (whatever their report time, drills aside)."""

    total: int = 0
    by_status: Mapping[str, int] = field(default_factory=dict)
    reported_before_since: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_status": dict(self.by_status),
            "reported_before_since": self.reported_before_since,
        }


@dataclass(frozen=True)
class Metrics:
    since: datetime
    until: datetime
    now: datetime
    tz: tzinfo  # the team's zone: weeks are counted and times shown in it
    total: Group
    weeks: tuple[Group, ...]
    severities: tuple[Group, ...]  # critical, major, minor, unset
    windows: tuple[Group, ...]  # full, partial, limited support
    open_now: OpenCounts
    excluded_drills: int = 0
    percentile_method: str = PERCENTILE_METHOD

    @property
    def tz_name(self) -> str:
        return zone_name(self.tz)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO strings, durations in whole seconds (`*_s`)."""
        return {
            "since": utc(self.since).isoformat(),
            "until": utc(self.until).isoformat(),
            "now": utc(self.now).isoformat(),
            "timezone": self.tz_name,
            "percentile_method": self.percentile_method,
            "excluded_drills": self.excluded_drills,
            "total": self.total.to_dict(),
            "open_now": self.open_now.to_dict(),
            "weeks": [g.to_dict() for g in self.weeks],
            "severities": [g.to_dict() for g in self.severities],
            "windows": [g.to_dict() for g in self.windows],
        }


# -- computing -----------------------------------------------------------------------------------


def _severity_key(incident: Reported) -> str:
    return incident.severity.value if incident.severity else "unset"


def _span(start: datetime, end: datetime | None) -> timedelta | None:
    if end is None:
        return None
    return max(timedelta(0), utc(end) - utc(start))


def _durations(
    incidents: Iterable[Reported], end: Callable[[Reported], datetime | None]
) -> DurationStats:
    values = [d for i in incidents if (d := _span(i.first_reported_at, end(i))) is not None]
    return DurationStats.of(values)


def _group(
    key: str,
    label: str,
    incidents: Sequence[Reported],
    *,
    calendar: SupportCalendar,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    objective: timedelta | None = None,
) -> Group:
    real = [i for i in incidents if i.status is not Status.CANCELED]
    by_severity = dict.fromkeys(SEVERITY_KEYS, 0)
    for i in real:
        by_severity[_severity_key(i)] += 1
    outcomes = [ack_outcome(i, calendar, now=now)[1] for i in real]
    ack = AckCounts(
        met=outcomes.count(AckOutcome.MET),
        missed=outcomes.count(AckOutcome.MISSED),
        pending=outcomes.count(AckOutcome.PENDING),
        no_slo=outcomes.count(AckOutcome.NO_SLO),
    )
    return Group(
        key=key,
        label=label,
        reported=len(incidents),
        canceled=len(incidents) - len(real),
        open=sum(1 for i in incidents if i.is_open),
        by_severity=by_severity,
        ack=ack,
        to_acknowledge=_durations(real, lambda i: i.acknowledged_at),
        to_mitigate=_durations(real, lambda i: i.mitigated_at),
        to_resolve=_durations(real, lambda i: i.resolved_at),
        start=start,
        end=end,
        objective=objective,
    )


def week_label(at: datetime, tz: tzinfo) -> str:
    """The ISO week of `at` on the wall clock in `tz`, e.g. "2026-W47"."""
    iso = utc(at).astimezone(tz).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _local_midnight(day: date, tz: tzinfo) -> datetime:
    # normalised through UTC so that a midnight that does not exist reads as a real instant
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC).astimezone(tz)


def zone_name(tz: tzinfo) -> str:
    key = getattr(tz, "key", None)
    return key if isinstance(key, str) else str(tz)


def compute_metrics(
    incidents: Sequence[Reported],
    *,
    calendar: SupportCalendar,
    since: datetime,
    until: datetime,
    tz: tzinfo | None = None,
    now: datetime | None = None,
    include_drills: bool = False,
) -> Metrics:
    """The metrics of the incidents first reported in `[since, until)`.

    `tz` is the zone weeks are counted in (default: the calendar's, the team's zone); `now`
    is when unacknowledged incidents are judged against their deadline (default: `until`).
    Incidents reported outside the period only count towards `open_now`.
    """
    since, until = utc(since), utc(until)
    if not since < until:
        raise ValueError(f"the period must start before it ends: {since} .. {until}")
    zone = calendar.tz if tz is None else tz
    at = until if now is None else utc(now)

    considered = [i for i in incidents if include_drills or not i.drill]
    drills = len(incidents) - len(considered)
    chosen = sorted(
        (i for i in considered if since <= i.first_reported_at < until),
        key=lambda i: (i.first_reported_at, i.id),
    )

    def group(key: str, label: str, subset: Sequence[Reported], **kw: Any) -> Group:
        return _group(key, label, subset, calendar=calendar, now=at, **kw)

    # weeks: every ISO week that overlaps the period, in order
    weeks: list[Group] = []
    first = _monday(since.astimezone(zone).date())
    last = _monday((until - timedelta(microseconds=1)).astimezone(zone).date())
    by_week: dict[str, list[Reported]] = {}
    for i in chosen:
        by_week.setdefault(week_label(i.first_reported_at, zone), []).append(i)
    monday = first
    while monday <= last:
        start = _local_midnight(monday, zone)
        label = week_label(start, zone)
        weeks.append(
            group(
                label,
                f"week of {monday.isoformat()}",
                by_week.get(label, []),
                start=start,
                end=_local_midnight(monday + timedelta(days=7), zone),
            )
        )
        monday += timedelta(days=7)

    severities = [
        group(key, Severity(key).label if key != "unset" else "unset", subset)
        for key in SEVERITY_KEYS
        for subset in [[i for i in chosen if _severity_key(i) == key]]
    ]
    windows = [
        group(
            w.name.lower(),
            w.label,
            [i for i in chosen if calendar.window_at(i.first_reported_at) is w],
            objective=calendar.ack_within(w),
        )
        for w in WINDOWS
    ]

    open_all = [i for i in considered if i.is_open and i.first_reported_at < until]
    open_now = OpenCounts(
        total=len(open_all),
        by_status={s.value: sum(1 for i in open_all if i.status is s) for s in OPEN_STATUSES},
        reported_before_since=sum(1 for i in open_all if i.first_reported_at < since),
    )
    return Metrics(
        since=since,
        until=until,
        now=at,
        tz=zone,
        total=group("total", "all incidents", chosen),
        weeks=tuple(weeks),
        severities=tuple(severities),
        windows=tuple(windows),
        open_now=open_now,
        excluded_drills=drills,
    )


_SINCE = re.compile(r"^(\d+)\s*([hdw])$")


def parse_since(text: str, *, now: datetime, tz: tzinfo) -> datetime:
    """The start of a report period from what a person typed: `30d`, `2w`, `12h` (that long
    before `now`) or a date `2026-11-01` (local midnight in `tz`) or an ISO time (local when it
    has no offset). Returns UTC; a bad value raises ValueError saying what is allowed."""
    s = text.strip().lower()
    m = _SINCE.match(s)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        span = {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
        return utc(now) - span
    allowed = "use e.g. '30d', '2w', '12h', a date '2026-11-01' or an ISO time"
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            return utc(_local_midnight(date.fromisoformat(s), tz))
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"cannot read the start {text!r}: {allowed}") from None
    return utc(dt if dt.tzinfo is not None else dt.replace(tzinfo=tz))


# -- rendering -----------------------------------------------------------------------------------

_EIGHTHS = " ▏▎▍▌▋▊▉"
BAR_WIDTH = 20


def bar(value: float, top: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of `value` against `top`, `width` cells at most, in eighths of a cell.
    Any value above zero shows at least a sliver."""
    if top <= 0 or value <= 0:
        return ""
    eighths = max(1, round(min(value, top) / top * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def format_span(d: timedelta | None) -> str:
    """`<1m`, `9m`, `1h 20m`, `2d 4h` (the two largest units), or `—` for none."""
    if d is None:
        return "—"
    seconds = max(0, round(d.total_seconds()))
    if seconds < 60:
        return "<1m"
    minutes = seconds // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"


def render_text(metrics: Metrics) -> str:
    """A compact plain-text report with unicode bar charts (no colour, no markup), times in
    the team's zone."""
    m = metrics
    t = m.total

    def when(dt: datetime) -> str:
        return dt.astimezone(m.tz).strftime("%Y-%m-%d %H:%M")

    out: list[str] = []
    out.append(f"Incidents {when(m.since)} → {when(m.until)} ({m.tz_name}), as of {when(m.now)}")
    summary = f"{t.reported} reported · {t.real} real · {t.canceled} canceled"
    opened = m.open_now.total
    summary += f" · {opened} open now"
    if m.open_now.reported_before_since:
        summary += f" ({m.open_now.reported_before_since} reported earlier)"
    out.append(summary)
    if opened:
        parts = [f"{n} {s}" for s, n in m.open_now.by_status.items() if n]
        out.append("  open: " + ", ".join(parts))
    if m.excluded_drills:
        n = m.excluded_drills
        out.append(f"  ({n} drill{'s' if n != 1 else ''} left out)")
    if t.reported == 0:
        out.append("")
        out.append("No incidents were reported in this period.")
        return "\n".join(out) + "\n"

    # weeks
    out += ["", "Real incidents per week"]
    top = max(g.real for g in m.weeks)
    for g in m.weeks:
        extra = f"  +{g.canceled} canceled" if g.canceled else ""
        out.append(f"  {g.key:<9} {bar(g.real, top):<{BAR_WIDTH}} {g.real:>3}{extra}")

    # severities
    out += ["", "Real incidents by severity"]
    top = max(g.real for g in m.severities)
    for g in m.severities:
        extra = f"  +{g.canceled} canceled" if g.canceled else ""
        out.append(f"  {g.label:<9} {bar(g.real, top):<{BAR_WIDTH}} {g.real:>3}{extra}")

    # the SLO
    out += ["", "Acknowledgement SLO (real incidents, by the window they were reported in)"]
    for g in m.windows:
        a = g.ack
        goal = f"≤{format_span(g.objective)}" if g.objective else "none"
        head = f"  {g.label:<16} {goal:<6}"
        if g.objective is None:
            n = a.no_slo
            out.append(f"{head} no objective: {n} incident{'s' if n != 1 else ''}")
            continue
        counted = a.met + a.missed + a.pending
        if counted == 0:
            out.append(f"{head} no incidents")
            continue
        cells = _ack_cells(a, BAR_WIDTH)
        rate = "" if a.attainment is None else f"  {a.attainment:.0%}"
        detail = f"met {a.met} · missed {a.missed}"
        if a.pending:
            detail += f" · pending {a.pending}"
        out.append(f"{head} {cells}  {detail}{rate}")
    out.append(f"  {'':<16} {'':<6} █ met  ░ missed  · pending")

    # response times
    out += ["", f"Response times (real incidents)  {'median':>8} {'p90':>8} {'max':>8} {'n':>4}"]
    for name, s in (
        ("report → tracked", t.to_acknowledge),
        ("report → mitigated", t.to_mitigate),
        ("report → resolved", t.to_resolve),
    ):
        out.append(
            f"  {name:<30} {format_span(s.median):>8} {format_span(s.p90):>8} "
            f"{format_span(s.max):>8} {s.count:>4}"
        )
    sev_rows = [g for g in m.severities if g.to_resolve.count]
    if sev_rows:
        out += ["", "Time to resolve by severity (median)"]
        top_s = max((g.to_resolve.median or timedelta(0)).total_seconds() for g in sev_rows)
        for g in sev_rows:
            med = g.to_resolve.median or timedelta(0)
            out.append(
                f"  {g.label:<9} {bar(med.total_seconds(), top_s):<{BAR_WIDTH}} "
                f"{format_span(med):>8}  (n={g.to_resolve.count})"
            )
    out += ["", f"({PERCENTILE_NOTE})"]
    return "\n".join(out) + "\n"


def _ack_cells(a: AckCounts, width: int) -> str:
    total = a.met + a.missed + a.pending
    met = round(a.met / total * width)
    missed = round(a.missed / total * width)
    if a.met and not met:
        met = 1
    if a.missed and not missed:
        missed = 1
    pending = max(0, width - met - missed) if a.pending else 0
    cells = "█" * met + "░" * missed + "·" * pending
    return f"{cells[:width]:<{width}}"


CSV_COLUMNS: dict[str, str] = {
    "group": "week, severity, window (support window of the report) or total",
    "key": "2026-W47 / critical, major, minor, unset / full, partial, limited / total",
    "label": "a readable name for the row",
    "start": "weeks: local Monday 00:00, ISO 8601 with the offset; empty otherwise",
    "end": "weeks: the next Monday 00:00; empty otherwise",
    "reported": "incidents first reported in the period and in this row (real + canceled)",
    "real": "reported minus canceled",
    "canceled": "canceled as not an incident",
    "open": "still open now",
    "critical": "real incidents of this severity",
    "major": "real incidents of this severity",
    "minor": "real incidents of this severity",
    "unset": "real incidents with no severity set",
    "ack_met": "real incidents tracked by their acknowledgement deadline",
    "ack_missed": "tracked late, or untracked past the deadline",
    "ack_pending": "untracked, deadline still ahead",
    "ack_no_slo": "reported in limited support (no objective)",
    "ack_attainment": "ack_met / (ack_met + ack_missed), 0-1; empty when nothing was judged",
    "ack_objective_s": "windows: the acknowledgement objective in seconds; empty otherwise",
    "tta_n": "real incidents tracked (time to acknowledge)",
    "tta_median_s": "median time to acknowledge, seconds (nearest rank)",
    "tta_p90_s": "90th percentile time to acknowledge, seconds (nearest rank)",
    "ttm_n": "real incidents mitigated",
    "ttm_median_s": "median time from report to mitigation, seconds",
    "ttm_p90_s": "90th percentile time from report to mitigation, seconds",
    "ttr_n": "real incidents resolved",
    "ttr_median_s": "median time from report to resolution, seconds",
    "ttr_p90_s": "90th percentile time from report to resolution, seconds",
}


def _csv_row(kind: str, g: Group) -> dict[str, object]:
    def blank(v: object) -> object:
        return "" if v is None else v

    rate = g.ack.attainment
    return {
        "group": kind,
        "key": g.key,
        "label": g.label,
        "start": "" if g.start is None else g.start.isoformat(),
        "end": "" if g.end is None else g.end.isoformat(),
        "reported": g.reported,
        "real": g.real,
        "canceled": g.canceled,
        "open": g.open,
        **{k: g.by_severity.get(k, 0) for k in SEVERITY_KEYS},
        "ack_met": g.ack.met,
        "ack_missed": g.ack.missed,
        "ack_pending": g.ack.pending,
        "ack_no_slo": g.ack.no_slo,
        "ack_attainment": "" if rate is None else f"{rate:.4f}",
        "ack_objective_s": blank(_seconds(g.objective)),
        "tta_n": g.to_acknowledge.count,
        "tta_median_s": blank(_seconds(g.to_acknowledge.median)),
        "tta_p90_s": blank(_seconds(g.to_acknowledge.p90)),
        "ttm_n": g.to_mitigate.count,
        "ttm_median_s": blank(_seconds(g.to_mitigate.median)),
        "ttm_p90_s": blank(_seconds(g.to_mitigate.p90)),
        "ttr_n": g.to_resolve.count,
        "ttr_median_s": blank(_seconds(g.to_resolve.median)),
        "ttr_p90_s": blank(_seconds(g.to_resolve.p90)),
    }


def render_csv(metrics: Metrics) -> str:
    """One row per week, per severity, per support window and one for the total, with the
    columns of `CSV_COLUMNS` (a header row first). Durations in whole seconds."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for kind, groups in (
        ("week", metrics.weeks),
        ("severity", metrics.severities),
        ("window", metrics.windows),
        ("total", (metrics.total,)),
    ):
        for g in groups:
            writer.writerow(_csv_row(kind, g))
    return buf.getvalue()

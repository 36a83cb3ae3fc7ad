"""The post mortem draft: a blameless review of one incident, built from its record.

`postmortem_markdown` renders the `post-mortem` template (the shipped one, or the user's
override of it) with the usual template context (`templates.build_context`) plus a
`postmortem` variable that holds what only a review needs (see `POSTMORTEM_VARIABLES`):
the acknowledgement SLO verdict in the support window the report arrived in, the response
steps (report → tracked → fixing → mitigated → resolved) with local and UTC times, how long
the impact lasted, the roles with their hand-offs, and who appears on the timeline.

The template sees plain data only, and its output goes through `sanitize()`: an escape
sequence in a title or a note never reaches the file or the terminal. Untrusted text is
Markdown-escaped (`escape.md_inline`): the usual context by the library, which renders the
`post-mortem` template as Markdown; the names and reasons in `postmortem` here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from cockpit.domain.clock import utc
from cockpit.domain.escape import md_inline
from cockpit.domain.incident import Incident, Role
from cockpit.domain.metrics import AckOutcome, ack_outcome, zone_name
from cockpit.domain.sanitize import sanitize
from cockpit.domain.slo import SupportCalendar, SupportWindow
from cockpit.domain.templates import (
    TemplateLibrary,
    build_context,
    format_duration,
    format_time,
)
from cockpit.domain.timeline import EntryKind, TimelineEntry

TEMPLATE = "post-mortem"

POSTMORTEM_VARIABLES: dict[str, str] = {
    "postmortem": "only when rendering a post mortem (test `postmortem is defined`): the keys "
    "below",
    "postmortem.window": 'the support window of the first report, e.g. "full support"',
    "postmortem.day": "the report's day on the team's clock, e.g. \"on Monday, a work day\"",
    "postmortem.objective": 'the acknowledgement objective, e.g. "10m", or "" (limited support)',
    "postmortem.deadline": "the acknowledgement deadline (a time), or none",
    "postmortem.verdict": 'met / missed / pending / "no SLO"',
    "postmortem.verdict_text": "the verdict in a sentence (Markdown)",
    "postmortem.steps": "{name, label, at (a time or none), after, note}: reported, acknowledged,"
    " fixing, mitigated, resolved (and canceled)",
    "postmortem.impact": "{how_long, mitigated_after, resolved_after}",
    "postmortem.roles": "{role, key, holders: [{person, since (time or none), by, previous}], "
    "handoffs, text}",
    "postmortem.handoffs": "how many times a role changed hands",
    "postmortem.people": "everyone who holds a role or wrote on the timeline",
    "postmortem.backdated": "how many timeline entries were written down after the fact",
}


def _cell(text: str) -> str:
    """Untrusted text for a Markdown table cell or list item: one line, no pipe to split
    the cell, no HTML, link or block of its own."""
    return md_inline(text)


def _day_text(incident: Incident, calendar: SupportCalendar) -> str:
    local = incident.first_reported_at.astimezone(calendar.tz)
    day = local.date()
    if day in calendar.holidays:
        kind = "a holiday"
    elif calendar.is_work_day(day):
        kind = "a work day"
    else:
        kind = "a non-work day"
    return f"on {local.strftime('%A')}, {kind}"


def _margin(spare: timedelta) -> str:
    if spare < timedelta(minutes=1):
        return "right on the deadline"
    return f"{format_duration(spare)} to spare"


def _verdict(
    incident: Incident,
    calendar: SupportCalendar,
    *,
    tz: tzinfo,
    now: datetime,
) -> dict[str, Any]:
    reported = incident.first_reported_at
    window, outcome = ack_outcome(incident, calendar, now=now)
    objective = calendar.ack_within(window)
    deadline = calendar.ack_deadline(reported)
    acked = incident.acknowledged_at
    day = _day_text(incident, calendar)
    when = format_time(reported, tz)["both_full"]
    if zone_name(calendar.tz) != zone_name(tz):
        team = reported.astimezone(calendar.tz).strftime("%H:%M %Z")
        when += f", {team} on the team's clock,"
    tta = format_duration(acked - reported) if acked else ""

    if objective is None or deadline is None:
        head = "**No acknowledgement objective.**"
        text = f"Reported {when} {day}, in {window.label}: no response time is guaranteed."
        tail = f" Tracked {tta} after the report." if acked else " It was never tracked."
        if not acked and incident.is_open:
            tail = " Not tracked yet."
        return _verdict_dict(
            window, day, objective, deadline, outcome, head + " " + text + tail, tz
        )

    by = format_time(deadline, tz)["both"]
    goal = f"{window.label} asks for tracking within {format_duration(objective)}, by {by}"
    text = f"Reported {when} {day}: {goal}."
    if outcome is AckOutcome.MET:
        assert acked is not None
        spare = deadline - utc(acked)
        margin = _margin(spare)
        verdict = f"**Acknowledgement SLO met.** {text} Tracked {tta} after the report, {margin}."
    elif outcome is AckOutcome.MISSED and acked is not None:
        late = format_duration(utc(acked) - deadline)
        verdict = (
            f"**Acknowledgement SLO missed.** {text} Tracked {tta} after the report, {late} late."
        )
    elif outcome is AckOutcome.MISSED:
        late = format_duration(utc(now) - deadline)
        what = "Not tracked yet" if incident.is_open else "It was never tracked"
        verdict = f"**Acknowledgement SLO missed.** {text} {what}: the deadline passed {late} ago."
    else:
        left = format_duration(deadline - utc(now))
        verdict = f"**Acknowledgement pending.** {text} Not tracked yet: {left} left."
    return _verdict_dict(window, day, objective, deadline, outcome, verdict, tz)


def _verdict_dict(
    window: SupportWindow,
    day: str,
    objective: timedelta | None,
    deadline: datetime | None,
    outcome: AckOutcome,
    text: str,
    tz: tzinfo,
) -> dict[str, Any]:
    return {
        "window": window.label,
        "day": day,
        "objective": format_duration(objective) if objective else "",
        "deadline": format_time(deadline, tz) if deadline else None,
        "verdict": outcome.value,
        "verdict_text": text,
    }


def _steps(
    incident: Incident, calendar: SupportCalendar, *, tz: tzinfo, now: datetime
) -> list[dict[str, Any]]:
    reported = incident.first_reported_at
    window, outcome = ack_outcome(incident, calendar, now=now)
    objective = calendar.ack_within(window)
    deadline = calendar.ack_deadline(reported)

    def step(name: str, label: str, at: datetime | None, note: str = "") -> dict[str, Any]:
        return {
            "name": name,
            "label": label,
            "at": format_time(at, tz) if at else None,
            "after": format_duration(at - reported) if at and name != "reported" else "",
            "note": _cell(note),
        }

    if objective is None or deadline is None:
        report_note = f"{window.label}: no objective"
        ack_note = "no objective"
    else:
        by = format_time(deadline, tz)["both"]
        report_note = f"{window.label}: track within {format_duration(objective)}, by {by}"
        acked = incident.acknowledged_at
        if outcome is AckOutcome.MET and acked is not None:
            ack_note = f"SLO met ({_margin(deadline - utc(acked))})"
        elif outcome is AckOutcome.MISSED and acked is not None:
            ack_note = f"SLO missed ({format_duration(utc(acked) - deadline)} late)"
        elif outcome is AckOutcome.MISSED:
            ack_note = f"SLO missed ({'not tracked yet' if incident.is_open else 'never tracked'})"
        else:
            ack_note = "pending"
    steps = [
        step("reported", "First reported", reported, report_note),
        step("acknowledged", "Tracked (ticket created)", incident.acknowledged_at, ack_note),
        step("fixing", "Fixing (someone on it)", incident.fixing_at),
        step("mitigated", "Mitigated (impact stopped)", incident.mitigated_at),
        step("resolved", "Resolved", incident.resolved_at),
    ]
    if incident.canceled_at is not None:
        steps.append(
            step(
                "canceled",
                "Canceled (not an incident)",
                incident.canceled_at,
                incident.cancel_reason,
            )
        )
    return steps


def _impact(incident: Incident, *, now: datetime) -> dict[str, str]:
    reported = incident.first_reported_at
    mitigated = format_duration(incident.mitigated_at - reported) if incident.mitigated_at else ""
    resolved = format_duration(incident.resolved_at - reported) if incident.resolved_at else ""
    if incident.mitigated_at is not None:
        how_long = f"at least {mitigated}, from the first report to mitigation"
        if resolved and resolved != mitigated:
            how_long += f"; resolved after {resolved}"
    elif incident.canceled_at is not None:
        how_long = (
            f"canceled {format_duration(incident.canceled_at - reported)} after the report "
            "(not an incident)"
        )
    else:
        how_long = f"not mitigated yet: {format_duration(utc(now) - reported)} so far"
    return {"how_long": how_long, "mitigated_after": mitigated, "resolved_after": resolved}


def _roles(incident: Incident, *, tz: tzinfo) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for role in Role:
        holders: list[dict[str, Any]] = []
        for change in sorted(
            (c for c in incident.role_history if c.role is role), key=lambda c: c.at
        ):
            person = _cell(change.person)
            previous = holders[-1]["person"] if holders else ""
            if person == previous:
                continue
            holders.append(
                {
                    "person": person,
                    "since": format_time(change.at, tz),
                    "by": _cell(change.by),
                    "previous": previous,
                }
            )
        current = _cell(incident.roles.get(role, ""))
        if current and (not holders or holders[-1]["person"] != current):
            previous = holders[-1]["person"] if holders else ""
            holders.append({"person": current, "since": None, "by": "", "previous": previous})
        parts: list[str] = []
        for h in holders:
            since = h["since"]
            if not parts:
                parts.append(
                    h["person"] if since is None else f"{h['person']}, from {since['both']}"
                )
            elif since is None:
                parts.append(f"then {h['person']}")
            else:
                parts.append(f"handed over to {h['person']} at {since['both']}")
        out.append(
            {
                "role": role.label,
                "key": role.value,
                "holders": holders,
                "handoffs": max(0, len(holders) - 1),
                "text": "; ".join(parts) if parts else "nobody was assigned",
            }
        )
    return out


def _people(incident: Incident, entries: Sequence[TimelineEntry]) -> list[str]:
    seen: dict[str, None] = {}
    names = [c.person for c in incident.role_history] + list(incident.roles.values())
    names += [e.author for e in entries if e.incident_id == incident.id]
    for name in names:
        clean = _cell(name).strip()
        if clean:
            seen.setdefault(clean, None)
    return list(seen)


def postmortem_data(
    incident: Incident,
    entries: Sequence[TimelineEntry],
    *,
    calendar: SupportCalendar,
    tz: tzinfo,
    now: datetime,
) -> dict[str, Any]:
    """The `postmortem` template variable (documented in `POSTMORTEM_VARIABLES`)."""
    roles = _roles(incident, tz=tz)
    mine = [e for e in entries if e.incident_id == incident.id and e.kind is not EntryKind.CHECK]
    return {
        **_verdict(incident, calendar, tz=tz, now=now),
        "steps": _steps(incident, calendar, tz=tz, now=now),
        "impact": _impact(incident, now=now),
        "roles": roles,
        "handoffs": sum(r["handoffs"] for r in roles),
        "people": _people(incident, entries),
        "backdated": sum(1 for e in mine if e.backdated),
    }


def postmortem_context(
    incident: Incident,
    entries: Sequence[TimelineEntry],
    *,
    calendar: SupportCalendar,
    tz: tzinfo,
    now: datetime,
    guide_url: str = "",
    product_channel: str = "",
    components: Sequence[str] = (),
) -> dict[str, Any]:
    """The usual template context plus `postmortem`: what the `post-mortem` template needs.
    Use it for a post mortem draft in the UI too (`TemplateLibrary.draft`)."""
    ctx = build_context(
        incident,
        entries,
        now=now,
        tz=tz,
        guide_url=guide_url,
        product_channel=product_channel,
        components=components,
        next_update_in=None,
    )
    ctx["title"] = sanitize(incident.title, single_line=True)
    ctx["postmortem"] = postmortem_data(incident, entries, calendar=calendar, tz=tz, now=now)
    return ctx


def postmortem_markdown(
    incident: Incident,
    entries: Sequence[TimelineEntry],
    *,
    calendar: SupportCalendar,
    tz: tzinfo,
    now: datetime,
    library: TemplateLibrary | None = None,
    template: str = TEMPLATE,
    guide_url: str = "",
    product_channel: str = "",
    components: Sequence[str] = (),
) -> str:
    """A blameless post mortem draft in Markdown, rendered through the `post-mortem` template
    of `library` (default: the shipped templates only), sanitized.

    `calendar` judges the acknowledgement SLO in the team's zone; `tz` is the zone the times
    are shown in (UTC is shown beside them); `now` is when an open incident is judged.
    Raises TemplateError (naming the file and line) if the template fails.
    """
    lib = library if library is not None else TemplateLibrary(None)
    ctx = postmortem_context(
        incident,
        entries,
        calendar=calendar,
        tz=tz,
        now=now,
        guide_url=guide_url,
        product_channel=product_channel,
        components=components,
    )
    out = sanitize(lib.render(template, ctx))
    return out if out.endswith("\n") else out + "\n"

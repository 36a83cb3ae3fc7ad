"""The incident record exported as JSON (for scripts) or Markdown (for people).

In Markdown, every text that came from a person or a remote system (title, summary, names,
reasons, timeline texts, link labels and URLs) is escaped (`escape.py`): no HTML, no
`javascript:` or `data:` link, no heading, list or code block of its own."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from cockpit.domain.checklist import Tick
from cockpit.domain.escape import md_inline, md_text, md_url
from cockpit.domain.incident import Incident, Link
from cockpit.domain.playbook import ChecklistView, ItemState
from cockpit.domain.timeline import TimelineEntry, sort_entries

EXPORT_VERSION = 1


def export_json(
    incident: Incident,
    timeline: list[TimelineEntry],
    ticks: Mapping[str, Tick],
    *,
    view: ChecklistView | None = None,
) -> str:
    doc: dict[str, Any] = {
        "export_version": EXPORT_VERSION,
        "incident": incident.to_dict(),
        "timeline": [e.to_dict() for e in sort_entries(timeline)],
        "checklist": [t.to_dict() for t in ticks.values()],
    }
    if view is not None:
        doc["progress"] = {"done": view.done, "total": view.total}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _local(t: datetime | None, tz: tzinfo) -> str:
    return "—" if t is None else t.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _utc(t: datetime) -> str:
    return t.strftime("%H:%M UTC")


def format_duration(d: timedelta) -> str:
    total = int(d.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    h, rest = divmod(rest, 3600)
    m = rest // 60
    if days:
        return f"{sign}{days}d {h}h {m:02d}m"
    if h:
        return f"{sign}{h}h {m:02d}m"
    return f"{sign}{m}m"


def _md(text: str) -> str:
    """Untrusted text in one line (a table cell, a list item): no pipe or newline to break
    the table, nothing that Markdown would act on."""
    return md_inline(text)


def _link(link: Link | None) -> str:
    if link is None:
        return "—"
    url = md_url(link.url)
    label = _md(link.label or link.url)
    return f"[{label}]({url})" if url else label


def export_markdown(
    incident: Incident,
    timeline: list[TimelineEntry],
    *,
    tz: tzinfo,
    view: ChecklistView | None = None,
) -> str:
    i = incident
    lines = [f"# Incident {_md(i.id)}: {_md(i.title)}", ""]
    sev = i.severity.label if i.severity else "unset"
    lines += [
        f"- **Status:** {i.status.label}"
        + (f" ({_md(i.cancel_reason)})" if i.cancel_reason else ""),
        f"- **Severity:** {sev}",
        f"- **Incident Commander:** {_md(i.commander) or '—'}",
        f"- **Communications Officer:** {_md(i.comms) or '—'}",
        f"- **First reported:** {_local(i.first_reported_at, tz)}",
        f"- **Acknowledged:** {_local(i.acknowledged_at, tz)}"
        + (
            f" ({format_duration(i.acknowledged_at - i.first_reported_at)} after the report)"
            if i.acknowledged_at
            else ""
        ),
        f"- **Fixing since:** {_local(i.fixing_at, tz)}",
        f"- **Mitigated:** {_local(i.mitigated_at, tz)}",
        f"- **Resolved:** {_local(i.resolved_at, tz)}",
    ]
    if i.canceled_at:
        lines.append(f"- **Canceled:** {_local(i.canceled_at, tz)}")
    if i.summary:
        lines += ["", "## Summary", "", md_text(i.summary)]
    lines += ["", "## Assessment", "", md_text(i.assessment.describe())]
    lines += [
        "",
        "## Links",
        "",
        f"- Report thread: {_link(i.links.thread)}",
        f"- Incident channel: {_link(i.links.channel)}",
        f"- Ticket: {_link(i.links.ticket)}",
        f"- Status page: {_link(i.links.status_page)}",
    ]
    for link in i.links.follow_ups:
        lines.append(f"- Follow-up: {_link(link)}")
    for link in i.links.bugs:
        lines.append(f"- Related bug: {_link(link)}")
    lines += ["", "## Timeline", "", "| Local | UTC | Kind | Who | What |", "|---|---|---|---|---|"]
    for e in sort_entries(timeline):
        url = md_url(e.link) if e.link else ""
        what = _md(e.text) + (f" ([link]({url}))" if url else "")
        if e.backdated:
            what += f" _(recorded {_local(e.recorded_at, tz)})_"
        lines.append(
            f"| {_local(e.event_at, tz)} | {_utc(e.event_at)} | {e.kind.value} "
            f"| {_md(e.author)} | {what} |"
        )
    if view is not None:
        lines += ["", f"## Checklist ({view.done}/{view.total})", ""]
        for step in view.steps:
            lines.append(f"### {step.step.title} ({step.done}/{step.total_applicable})")
            for item in step.items:
                mark = {ItemState.DONE: "[x]", ItemState.OPEN: "[ ]", ItemState.SKIPPED: "[-]"}[
                    item.state
                ]
                extra = ""
                if item.state is ItemState.DONE and item.tick is not None:
                    extra = f" — {_md(item.tick.by)}, {_local(item.tick.at, tz)}"
                elif item.state is ItemState.SKIPPED:
                    extra = f" — skipped ({_md(item.skip_reason)})"
                lines.append(f"- {mark} {item.item.text}{extra}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"

"""The post mortem draft: a Critical incident with backdated entries and a role hand-off."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cockpit.domain.incident import Assessment, Incident, Link, Role, Severity, Status
from cockpit.domain.postmortem import (
    POSTMORTEM_VARIABLES,
    postmortem_context,
    postmortem_data,
    postmortem_markdown,
)
from cockpit.domain.slo import SupportCalendar
from cockpit.domain.templates import TemplateLibrary
from cockpit.domain.timeline import EntryKind, TimelineEntry

NY = ZoneInfo("America/New_York")
CAL = SupportCalendar(tz=NY, holidays=frozenset({date(2026, 11, 26)}))
ESC = "\x1b"
M = timedelta(minutes=1)


def ny(d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, d, hh, mm, tzinfo=NY)


MONDAY_1655 = datetime(2026, 11, 16, 16, 55, tzinfo=NY)


def critical(
    reported: datetime = MONDAY_1655, ack_after: timedelta | None = 9 * M
) -> tuple[Incident, list[TimelineEntry], datetime]:
    """Monday 16:55 EST (21:55 UTC), full support: tracked at 17:04, deadline 17:05."""
    t0 = reported
    inc = Incident(
        id="21",
        title=f"Checkout fails {ESC}]0;owned{ESC}\\ for card {ESC}[31mpayments",
        first_reported_at=t0,
        created_at=t0 + 2 * M,
        created_by="ana",
        summary=f"Card payments fail at the last step.{ESC}[2J",
    )
    es: list[TimelineEntry] = []
    if ack_after is not None:
        es.append(
            inc.acknowledge(
                at=t0 + ack_after,
                by="ana",
                ticket=Link("https://acme.atlassian.net/browse/INCIDENT-77", "INCIDENT-77"),
            )
        )
    es += [
        inc.transition(Status.FIXING, at=t0 + 11 * M, by="ana"),  # ana becomes Commander
        inc.set_severity(Severity.CRITICAL, at=t0 + 12 * M, by="ana"),
        inc.assign(Role.COMMS, "ben", at=t0 + 13 * M, by="ana"),
        inc.record_assessment(
            Assessment("about 30% of checkouts, all card brands", True, False),
            at=t0 + 20 * M,
            by="ben",
        ),
        # backdated: written 25 minutes after the fact, about something seen at +2m
        TimelineEntry.new(
            "21",
            kind=EntryKind.NOTE,
            text="Datadog alert: checkout errors above 5%",
            event_at=t0 + 2 * M,
            recorded_at=t0 + 27 * M,
            author="ben",
        ),
        TimelineEntry.new(
            "21",
            kind=EntryKind.CHECK,
            text="ticked: create channel",
            event_at=t0 + 14 * M,
            recorded_at=t0 + 14 * M,
            author="ana",
        ),
        inc.transition(Status.MONITORING, at=t0 + 50 * M, by="ana"),
        # the shift changes: carl takes over as Commander
        inc.assign(Role.COMMANDER, "carl", at=t0 + 65 * M, by="ana"),
        TimelineEntry.new(
            "21",
            kind=EntryKind.HANDOFF,
            text="handed over to carl: monitoring the payment error rate",
            event_at=t0 + 65 * M,
            recorded_at=t0 + 65 * M,
            author="ana",
        ),
        inc.transition(Status.RESOLVED, at=t0 + 95 * M, by="carl"),
    ]
    inc.links.thread = Link("https://acme.slack.com/archives/C9/p100", "#incidents thread")
    inc.links.channel = Link("https://acme.slack.com/archives/C0INC21", "#incident-21")
    inc.links.status_page = Link("https://status.acme.com/incidents/pm1", "status page")
    inc.links.follow_ups.append(Link("https://acme.atlassian.net/browse/PAY-12", "PAY-12"))
    inc.links.follow_ups.append(
        Link("https://acme.atlassian.net/browse/OPS-3", f"OPS-3{ESC}]52;c;ZXZpbA=={ESC}\\")
    )
    inc.links.bugs.append(Link("https://acme.atlassian.net/browse/BUG-5", "BUG-5"))
    inc.affected_components = ["Checkout", "Payments"]
    return inc, es, t0 + 2 * timedelta(hours=2)


def render(inc: Incident, es: list[TimelineEntry], now: datetime, **kw: object) -> str:
    kw.setdefault("tz", NY)
    return postmortem_markdown(inc, es, calendar=CAL, now=now, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def out() -> str:
    inc, es, now = critical()
    return render(inc, es, now)


def test_sanitized(out: str) -> None:
    assert ESC not in out and "\x07" not in out
    assert "owned" not in out and "ZXZpbA" not in out  # the OSC payloads go with their ESC
    assert "[2J" not in out and "[31m" not in out
    assert out.startswith("# Post mortem: INCIDENT-77 — Checkout fails  for card payments\n")


def test_summary_impact_and_links(out: str) -> None:
    assert "blameless" in out.lower()
    assert "- **Severity:** Critical" in out
    assert "Card payments fail at the last step." in out
    assert "- **Who, and how many:** about 30% of checkouts, all card brands" in out
    assert "- **Affected services:** Checkout and Payments" in out
    assert (
        "- **How long:** at least 50m, from the first report to mitigation; resolved after "
        "1h 35m" in out
    )
    assert "- **Duration:** 1h 35m" in out
    assert "- **Ticket:** [INCIDENT-77](https://acme.atlassian.net/browse/INCIDENT-77)" in out
    assert "- **Channel:** [#incident-21](https://acme.slack.com/archives/C0INC21)" in out
    assert "- **Status page:** [status page](https://status.acme.com/incidents/pm1)" in out
    assert "[#incidents thread](https://acme.slack.com/archives/C9/p100)" in out


def test_response_times_against_the_slo(out: str) -> None:
    assert (
        "**Acknowledgement SLO met.** Reported 2026-11-16 16:55 EST (21:55 UTC) on Monday, "
        "a work day: full support asks for tracking within 10m, by 17:05 EST (22:05 UTC). "
        "Tracked 9m after the report, 1m to spare."
    ) in out
    rows = [ln for ln in out.splitlines() if ln.startswith("| ")]
    assert rows[0] == "| Step | Local time | UTC | After the report | Against the SLO |"
    assert rows[1] == (
        "| First reported | 2026-11-16 16:55 EST | 2026-11-16 21:55 UTC | — "
        "| full support: track within 10m, by 17:05 EST (22:05 UTC) |"
    )
    assert rows[2] == (
        "| Tracked (ticket created) | 2026-11-16 17:04 EST | 2026-11-16 22:04 UTC | 9m "
        "| SLO met (1m to spare) |"
    )
    assert rows[3].startswith("| Fixing (someone on it) | 2026-11-16 17:06 EST | ")
    assert "| 11m |" in rows[3]
    assert rows[4].startswith("| Mitigated (impact stopped) | 2026-11-16 17:45 EST | ")
    assert rows[5] == ("| Resolved | 2026-11-16 18:30 EST | 2026-11-16 23:30 UTC | 1h 35m |  |")


def test_roles_with_the_hand_off(out: str) -> None:
    assert (
        "- **Incident Commander:** ana, from 17:06 EST (22:06 UTC); "
        "handed over to carl at 18:00 EST (23:00 UTC)"
    ) in out
    assert "- **Communications Officer:** ben, from 17:08 EST (22:08 UTC)" in out
    assert "- **On the timeline:** ana, ben and carl" in out
    assert "- **Incident Commander:** carl" in out  # who holds it now, in the header


def test_timeline_local_and_utc_with_backdated_entries_flagged(out: str) -> None:
    assert "All times EST, with UTC in brackets." in out
    assert "written down after the fact (backdated)" in out
    lines = [ln for ln in out.splitlines() if ln.startswith("- **2026-")]
    assert lines[0] == (
        "- **2026-11-16 16:57 EST (21:57 UTC)** — Datadog alert: checkout errors above 5% "
        "_(ben)_ _(recorded 17:22 EST)_"
    )
    assert sum("_(recorded" in ln for ln in lines) == 1  # only the backdated entry
    assert any("handed over to carl" in ln and "18:00 EST (23:00 UTC)" in ln for ln in lines)
    assert any("MONITORING → RESOLVED" in ln and "18:30 EST (23:30 UTC)" in ln for ln in lines)
    assert not any("ticked" in ln for ln in lines)


def test_prompts_and_follow_ups(out: str) -> None:
    for heading in ("What helped", "What could be better", "Where we got lucky", "Lessons"):
        assert f"## {heading}\n" in out
    assert "- [PAY-12](https://acme.atlassian.net/browse/PAY-12)" in out
    assert "- [OPS-3](https://acme.atlassian.net/browse/OPS-3)" in out
    assert "- [BUG-5](https://acme.atlassian.net/browse/BUG-5) (bug)" in out
    assert "SLO was missed" not in out  # the extra prompt is for a miss only
    assert "\n\n\n" not in out and "None" not in out


# -- the other verdicts ------------------------------------------------------------------------


def test_missed_in_partial_support() -> None:
    # Tuesday 18:58: partial support, 30m; tracked 19:30 is 32 minutes
    inc, es, now = critical(reported=ny(17, 18, 58), ack_after=32 * M)
    out = render(inc, es, now)
    assert "**Acknowledgement SLO missed.**" in out
    assert "partial support asks for tracking within 30m, by 19:28 EST (00:28 UTC)" in out
    assert "Tracked 32m after the report, 2m late." in out
    assert "| SLO missed (2m late) |" in out
    assert "- _The acknowledgement SLO was missed: what kept us from tracking it sooner?_" in out


def test_no_slo_in_limited_support() -> None:
    inc, es, now = critical(reported=ny(18, 23, 0), ack_after=20 * M)
    out = render(inc, es, now)
    assert "**No acknowledgement objective.**" in out
    assert "on Wednesday, a work day, in limited support: no response time is guaranteed" in out
    assert "Tracked 20m after the report." in out
    assert "| limited support: no objective |" in out


def test_holiday_and_never_tracked() -> None:
    # Thanksgiving 10:00: partial (30m) on a holiday; never tracked
    inc, es, now = critical(reported=ny(26, 10, 0), ack_after=None)
    data = postmortem_data(inc, es, calendar=CAL, tz=NY, now=now)
    assert data["window"] == "partial support" and data["day"] == "on Thursday, a holiday"
    assert data["verdict"] == "missed"
    assert "It was never tracked: the deadline passed" in data["verdict_text"]
    assert data["steps"][1]["note"] == "SLO missed (never tracked)"
    assert data["steps"][1]["at"] is None


def test_pending_while_open() -> None:
    t0 = ny(16, 16, 55)
    inc = Incident(id="5", title="Search down", first_reported_at=t0, created_at=t0)
    es = [inc.set_severity(Severity.CRITICAL, at=t0 + M, by="ana")]
    data = postmortem_data(inc, es, calendar=CAL, tz=NY, now=t0 + 4 * M)
    assert data["verdict"] == "pending"
    assert "Not tracked yet: 6m left." in data["verdict_text"]
    assert data["impact"]["how_long"] == "not mitigated yet: 4m so far"
    assert data["roles"][0]["text"] == "nobody was assigned"
    out = postmortem_markdown(inc, es, calendar=CAL, tz=NY, now=t0 + 4 * M)
    assert "**Acknowledgement pending.**" in out
    assert "| Resolved | — | — | — |  |" in out


def test_display_zone_differs_from_the_team_zone() -> None:
    inc, es, now = critical()
    out = render(inc, es, now, tz=UTC)
    # times are shown in UTC; the window is still judged on New York's clock
    assert "Reported 2026-11-16 21:55 UTC, 16:55 EST on the team's clock, on Monday" in out
    assert "All times UTC.\n" in out
    assert "- **2026-11-16 21:57 UTC** — Datadog alert" in out


def test_canceled_incident() -> None:
    t0 = ny(16, 10, 0)
    inc = Incident(id="9", title="One partner cannot log in", first_reported_at=t0, created_at=t0)
    es = [
        inc.acknowledge(at=t0 + 3 * M, by="ana"),
        inc.transition(Status.CANCELED, at=t0 + 6 * M, by="ana", reason="one partner | not us"),
    ]
    out = postmortem_markdown(inc, es, calendar=CAL, tz=NY, now=t0 + 10 * M)
    assert "| Canceled (not an incident) | 2026-11-16 10:06 EST |" in out
    assert "one partner \\| not us |" in out  # a pipe cannot break the table
    assert "canceled 6m after the report (not an incident)" in out


# -- overriding the template ---------------------------------------------------------------------


def test_a_user_template_overrides_and_sees_the_postmortem_data(tmp_path: Path) -> None:
    (tmp_path / "post-mortem.j2").write_text(
        "{# kind: internal; title: Our post mortem #}\n"
        "# PM {{ id }}: {{ title }}\n"
        "{% if postmortem is defined %}verdict: {{ postmortem.verdict }} in "
        "{{ postmortem.window }}; hand-offs: {{ postmortem.handoffs }}\x1b[5m\n{% endif %}",
        encoding="utf-8",
    )
    lib = TemplateLibrary(tmp_path)
    assert not lib.problems
    inc, es, now = critical()
    out = postmortem_markdown(inc, es, calendar=CAL, tz=NY, now=now, library=lib)
    assert out.startswith("# PM 21: Checkout fails")
    assert "verdict: met in full support; hand-offs: 1" in out
    assert ESC not in out


def test_the_shipped_template_still_works_as_an_ordinary_draft() -> None:
    """Without the `postmortem` variable (a draft built from the plain context) the shipped
    template falls back to what every template sees."""
    lib = TemplateLibrary(None)
    inc, es, now = critical()
    ctx = postmortem_context(inc, es, calendar=CAL, tz=NY, now=now)
    del ctx["postmortem"]
    out = lib.render("post-mortem", ctx)
    assert "## Timeline" in out and "## Detection and response" not in out
    assert "\n\n\n" not in out


def test_variables_are_documented() -> None:
    inc, es, now = critical()
    data = postmortem_data(inc, es, calendar=CAL, tz=NY, now=now)
    documented = {k.split(".", 1)[1] for k in POSTMORTEM_VARIABLES if "." in k}
    assert documented == set(data)


def test_tracked_exactly_on_the_deadline_is_met() -> None:
    inc, es, now = critical(reported=ny(23, 9, 0), ack_after=10 * M)
    out = render(inc, es, now)
    assert "**Acknowledgement SLO met.**" in out
    assert "Tracked 10m after the report, right on the deadline." in out
    assert "| SLO met (right on the deadline) |" in out

"""Realistic scenes for snapshots and screenshots: an incident mid-flight, its feed."""

from __future__ import annotations

from datetime import timedelta

from cockpit.domain.drafts import DraftState
from cockpit.domain.feed import FeedMessage
from cockpit.domain.incident import Assessment, Incident, Link, Role, Severity, Status
from cockpit.domain.timeline import TimelineEntry

from .conftest import NOW, Harness


def mid_flight(h: Harness) -> str:
    """Incident #2, Critical, FIXING, 14 minutes in; a second, minor one is open too."""
    svc = h.service
    svc.raise_incident(
        "Search results empty for some collectors",
        severity=Severity.MINOR,
        reported_at=NOW - timedelta(hours=2),
    )
    h.clock.set(NOW - timedelta(minutes=11))
    inc = svc.raise_incident(
        "Checkout payments failing for EU buyers",
        reported_at=NOW - timedelta(minutes=14),
        thread="https://example.slack.com/archives/C9RK0BLEP/p1764252960000100",
    )
    iid = inc.id
    h.clock.set(NOW - timedelta(minutes=10))
    svc.set_status(iid, Status.FIXING)
    svc.assign(iid, Role.COMMS, "grace")
    h.clock.set(NOW - timedelta(minutes=8))
    svc.set_severity(
        iid, Severity.CRITICAL, Assessment("most card payments in the EU", True, False)
    )

    def linked(inc: Incident) -> list[TimelineEntry]:
        inc.links.ticket = Link("https://example.atlassian.net/browse/INCIDENT-142", "INCIDENT-142")
        inc.links.channel = Link("https://example.slack.com/archives/C0INC142", "#incident-142")
        inc.affected_components = ["Payments"]
        return []

    svc.update(iid, linked)
    for item in (
        "watch-incidents",
        "raise-incident",
        "create-ticket",
        "link-thread",
        "create-channel",
        "reply-in-thread",
        "mark-fixing",
        "assign-roles",
        "answer-assess-questions",
        "set-severity",
    ):
        svc.tick(iid, item)
    h.clock.set(NOW - timedelta(minutes=5))
    svc.pin_message(
        iid,
        "Payments API error rate 23% (threshold 5%)",
        at=NOW - timedelta(minutes=13),
        author="Datadog",
    )
    svc.add_note(iid, "Stripe webhooks time out since the 14:02 deploy", at="-9m")
    h.clock.set(NOW - timedelta(minutes=2))
    svc.add_note(iid, "Rolling back payments-api to v2024.11.3")
    h.clock.set(NOW)
    reply = svc.new_draft(iid, "thread-reply")
    svc.store.put_doc(
        iid,
        "drafts",
        reply.mark_sent(
            at=NOW - timedelta(minutes=6),
            remote_link="https://example.slack.com/archives/C9RK0BLEP/p1764253300",
        ).to_dict(),
    )
    update = svc.new_draft(iid, "stakeholder-update")
    failed = update.mark_queued(at=NOW).mark_failed(
        "Slack: not_in_channel — invite the cockpit bot to #incidents", at=NOW
    )
    svc.store.put_doc(iid, "drafts", failed.to_dict())
    public = svc.new_draft(iid, "statuspage-investigating")
    assert public.state is DraftState.DRAFT
    return iid


def feed(h: Harness) -> list[FeedMessage]:
    def msg(minutes: float, channel: str, author: str, text: str, **kw: object) -> FeedMessage:
        at = NOW - timedelta(minutes=minutes)
        return FeedMessage(
            channel=channel,
            ts=kw.pop("ts", f"{at.timestamp():.6f}"),  # type: ignore[arg-type]
            at=at,
            author=author,
            text=text,
            **kw,
        )  # type: ignore[arg-type]

    report_ts = f"{(NOW - timedelta(minutes=14)).timestamp():.6f}"
    return [
        msg(
            31, "alerts", "Pingdom", "Website response time 1.9 s (threshold 1.5 s)", is_alert=True
        ),
        msg(27, "incidents", "maya", "Is anyone else seeing slow image uploads in the CMS?"),
        msg(
            16,
            "alerts",
            "Datadog",
            "[Triggered] Payments API error rate > 5% (23.1%)",
            is_alert=True,
        ),
        msg(
            14,
            "incidents",
            "sam",
            "Checkout is failing for a lot of buyers. Card payments error out at the last step.",
            ts=report_ts,
            reply_count=3,
        ),
        msg(13, "incidents", "ada", "Looking now — tracking it.", thread_ts=report_ts),
        msg(12, "alerts", "Datadog", "[Recovered] Payments API error rate > 5%", is_alert=True),
        msg(
            11,
            "alerts",
            "Datadog",
            "[Triggered] Payments API error rate > 5% (18.4%)",
            is_alert=True,
        ),
        msg(
            10,
            "incidents",
            "ada",
            "Tracked as INCIDENT-142, discussion in #incident-142",
            thread_ts=report_ts,
        ),
        msg(9, "incident-142", "ada", "Kick-off: IC ada, Comms grace. Payments failing in EU."),
        msg(8, "incident-142", "lin", "Stripe dashboard shows webhook timeouts from 14:03"),
        msg(6, "incidents", "priya", "One partner can't log in to the CMS — is that related?"),
        msg(
            4,
            "incident-142",
            "lin",
            "Deploy 14:02 changed the webhook client timeout to 500 ms\nstack trace in the ticket",
        ),
        msg(3, "incidents", "jo", "Any update for the EU sales team?", thread_ts=report_ts),
        msg(
            1,
            "alerts",
            "Sentry",
            "New issue: TimeoutError in payments-api webhooks.py:88",
            is_alert=True,
        ),
    ]


def history(h: Harness) -> None:
    """Six weeks of past incidents: mixed severities, some acknowledged late, one canceled."""
    svc = h.service
    plan = [  # (days ago, hour UTC, severity, minutes to track, minutes to resolve, cancel)
        (40, 10, Severity.MAJOR, 6, 90, False),
        (33, 15, Severity.CRITICAL, 12, 240, False),
        (30, 23, Severity.MINOR, 45, 600, False),
        (26, 11, Severity.MAJOR, 4, 60, False),
        (19, 9, Severity.CRITICAL, 8, 180, False),
        (18, 16, None, 3, 0, True),
        (12, 14, Severity.MAJOR, 9, 75, False),
        (11, 8, Severity.MINOR, 25, 120, False),
        (5, 13, Severity.CRITICAL, 5, 95, False),
        (2, 10, Severity.MAJOR, 15, 50, False),
    ]
    for n, (days, hour, sev, ack, fix, cancel) in enumerate(plan):
        reported = (NOW - timedelta(days=days)).replace(hour=hour, minute=0)
        h.clock.set(reported + timedelta(minutes=ack))
        inc = svc.raise_incident(f"Past incident {n + 1}", severity=sev, reported_at=reported)
        if cancel:
            svc.set_status(inc.id, Status.CANCELED, reason="one partner, not an incident")
            continue
        h.clock.set(reported + timedelta(minutes=ack + 2))
        svc.set_status(inc.id, Status.FIXING)
        h.clock.set(reported + timedelta(minutes=fix))
        svc.set_status(inc.id, Status.RESOLVED)
    h.clock.set(NOW)

from datetime import UTC, datetime, timedelta

import pytest

from cockpit.domain.errors import IllegalTransition
from cockpit.domain.incident import (
    TRANSITIONS,
    Assessment,
    Incident,
    Link,
    Role,
    Severity,
    Status,
)
from cockpit.domain.timeline import EntryKind

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def make(**kw: object) -> Incident:
    return Incident(id="7", title="Payments failing", first_reported_at=T0, created_at=T0, **kw)


def test_happy_path_stamps_every_time():
    inc = make()
    inc.transition(Status.FIXING, at=T0 + timedelta(minutes=5), by="ada")
    inc.transition(Status.MONITORING, at=T0 + timedelta(minutes=40), by="ada")
    e = inc.transition(Status.RESOLVED, at=T0 + timedelta(minutes=90), by="ada")
    assert inc.fixing_at == T0 + timedelta(minutes=5)
    assert inc.mitigated_at == T0 + timedelta(minutes=40)
    assert inc.resolved_at == T0 + timedelta(minutes=90)
    assert not inc.is_open
    assert e.kind is EntryKind.STATUS and e.text == "MONITORING → RESOLVED"


def test_fixing_makes_the_first_responder_commander():
    inc = make()
    inc.transition(Status.FIXING, at=T0, by="ada")
    assert inc.commander == "ada"
    assert inc.role_history[0].role is Role.COMMANDER


def test_fixing_keeps_an_existing_commander():
    inc = make()
    inc.assign(Role.COMMANDER, "grace", at=T0, by="grace")
    inc.transition(Status.FIXING, at=T0, by="ada")
    assert inc.commander == "grace"


@pytest.mark.parametrize("start", list(Status))
@pytest.mark.parametrize("to", list(Status))
def test_transition_table_is_enforced(start: Status, to: Status):
    inc = make(status=start)
    if to in TRANSITIONS[start]:
        inc.transition(to, at=T0, by="ada", reason="dup of 3")
        assert inc.status is to
    else:
        with pytest.raises(IllegalTransition):
            inc.transition(to, at=T0, by="ada", reason="dup of 3")
        assert inc.status is start


def test_cancel_only_from_reported_or_fixing():
    assert Status.CANCELED in TRANSITIONS[Status.REPORTED]
    assert Status.CANCELED in TRANSITIONS[Status.FIXING]
    assert Status.CANCELED not in TRANSITIONS[Status.MONITORING]
    assert Status.CANCELED not in TRANSITIONS[Status.RESOLVED]


def test_illegal_transition_message_is_helpful():
    inc = make()
    with pytest.raises(IllegalTransition) as err:
        inc.transition(Status.RESOLVED, at=T0, by="ada")
    msg = str(err.value)
    assert "REPORTED" in msg and "RESOLVED" in msg and "FIXING first" in msg
    inc2 = make(status=Status.RESOLVED)
    with pytest.raises(IllegalTransition, match="final"):
        inc2.transition(Status.FIXING, at=T0, by="ada")


def test_cancel_needs_a_reason_and_keeps_it():
    inc = make()
    with pytest.raises(IllegalTransition, match="reason"):
        inc.transition(Status.CANCELED, at=T0, by="ada")
    e = inc.transition(Status.CANCELED, at=T0, by="ada", reason="single partner CMS access")
    assert inc.cancel_reason == "single partner CMS access"
    assert inc.canceled_at == T0
    assert "single partner" in e.text


def test_severity_change_is_recorded():
    inc = make()
    e = inc.set_severity(Severity.MAJOR, at=T0, by="ada")
    assert e.text == "severity unset → Major"
    e = inc.set_severity(Severity.CRITICAL, at=T0, by="ada")
    assert e.text == "severity Major → Critical"
    with pytest.raises(IllegalTransition):
        inc.set_severity(Severity.CRITICAL, at=T0, by="ada")


def test_hand_off_history():
    inc = make()
    inc.assign(Role.COMMS, "ada", at=T0, by="ada")
    e = inc.assign(Role.COMMS, "grace", at=T0 + timedelta(hours=8), by="ada")
    assert inc.comms == "grace"
    assert [c.person for c in inc.role_history] == ["ada", "grace"]
    assert e.text == "Communications Officer: ada → grace"


def test_acknowledge_once_with_ticket():
    inc = make()
    e = inc.acknowledge(
        at=T0 + timedelta(minutes=4),
        by="ada",
        ticket=Link("https://x.atlassian.net/browse/INC-9", "INC-9"),
    )
    assert inc.acknowledged_at == T0 + timedelta(minutes=4)
    assert inc.links.ticket is not None and inc.links.ticket.label == "INC-9"
    assert "INC-9" in e.text and e.link.endswith("INC-9")
    with pytest.raises(IllegalTransition):
        inc.acknowledge(at=T0, by="ada")


def test_round_trip_keeps_everything():
    inc = make(summary="card payments fail at checkout", severity=Severity.CRITICAL)
    inc.transition(Status.FIXING, at=T0, by="ada")
    inc.assign(Role.COMMS, "grace", at=T0, by="ada")
    inc.links.follow_ups.append(Link("https://j/browse/BUG-1", "BUG-1"))
    inc.record_assessment(Assessment("all EU buyers", True, False), at=T0, by="ada")
    inc.affected_components.append("Checkout")
    back = Incident.from_dict(inc.to_dict())
    assert back == inc
    assert back.to_dict()["v"] == 1


def test_loaded_text_is_sanitized():
    d = make().to_dict()
    d["title"] = "evil\x1b]52;c;ZXZpbA==\x07 title\u202e"
    back = Incident.from_dict(d)
    assert back.title == "evil title"


def test_assessment_describe():
    assert Assessment().describe() == "not assessed"
    a = Assessment("3 partners", False, True)
    assert a.describe() == "affected: 3 partners; not reproduced; known problem"
    assert a.answered == 3


@pytest.mark.parametrize(
    "text,expected",
    [
        ("critical", Severity.CRITICAL),
        ("Maj", Severity.MAJOR),
        ("m", Severity.MINOR),
        (" CRITICAL ", Severity.CRITICAL),
    ],
)
def test_severity_parse(text: str, expected: Severity):
    assert Severity.parse(text) is expected


def test_severity_parse_error_lists_choices():
    with pytest.raises(ValueError, match="minor, major, critical"):
        Severity.parse("sev1")


def test_status_parse_accepts_british_spelling():
    assert Status.parse("cancelled") is Status.CANCELED
    with pytest.raises(ValueError):
        Status.parse("done")

"""The `when` condition language: evaluation, source text, syntax errors (`playbook.conditions`)."""

from __future__ import annotations

import pytest

from cockpit.domain.incident import Severity, Status
from cockpit.domain.playbook import Condition, ConditionError
from tests.unit.playbook._helpers import ctx

N = None
MI, MA, CR = Severity.MINOR, Severity.MAJOR, Severity.CRITICAL
REP, FIX, MON, RES, CAN = (
    Status.REPORTED,
    Status.FIXING,
    Status.MONITORING,
    Status.RESOLVED,
    Status.CANCELED,
)


@pytest.mark.parametrize(
    ("text", "severity", "status", "configured", "expected"),
    [
        # equality
        ("severity == critical", CR, REP, (), True),
        ("severity == critical", MA, REP, (), False),
        ("severity != minor", MA, REP, (), True),
        ("severity != minor", MI, REP, (), False),
        # membership
        ("severity in [major, critical]", MA, REP, (), True),
        ("severity in [major, critical]", CR, REP, (), True),
        ("severity in [major, critical]", MI, REP, (), False),
        ("severity not in [minor]", MA, REP, (), True),
        ("severity not in [minor]", MI, REP, (), False),
        # ranks: minor < major < critical
        ("severity >= major", MI, REP, (), False),
        ("severity >= major", MA, REP, (), True),
        ("severity >= major", CR, REP, (), True),
        ("severity > major", MA, REP, (), False),
        ("severity > major", CR, REP, (), True),
        ("severity <= major", MA, REP, (), True),
        ("severity <= major", CR, REP, (), False),
        ("severity < major", MI, REP, (), True),
        ("severity < major", MA, REP, (), False),
        # unset severity: every comparison is false, its negation true
        ("severity == critical", N, REP, (), False),
        ("severity != minor", N, REP, (), False),
        ("severity >= minor", N, REP, (), False),
        ("severity <= critical", N, REP, (), False),
        ("severity in [minor, major, critical]", N, REP, (), False),
        ("severity not in [minor]", N, REP, (), False),
        ("not severity == critical", N, REP, (), True),
        # status
        ("status in [reported, fixing]", REP, REP, (), True),
        ("status in [reported, fixing]", N, FIX, (), True),
        ("status in [reported, fixing]", N, MON, (), False),
        ("status in [reported, fixing]", N, CAN, (), False),
        ("status == resolved", N, RES, (), True),
        ("status == resolved", N, MON, (), False),
        ("status != resolved", N, MON, (), True),
        ("status == cancelled", N, CAN, (), True),
        ("status not in [resolved, canceled]", N, FIX, (), True),
        ("status not in [resolved, canceled]", N, RES, (), False),
        # configured integrations
        ("statuspage", N, REP, ("statuspage",), True),
        ("statuspage", N, REP, ("slack", "jira"), False),
        ("not jira", N, REP, (), True),
        ("not jira", N, REP, ("jira",), False),
        ("not not jira", N, REP, ("jira",), True),
        # and / or
        ("slack and jira", N, REP, ("slack",), False),
        ("slack and jira", N, REP, ("slack", "jira"), True),
        ("slack or jira", N, REP, ("jira",), True),
        ("slack or jira", N, REP, (), False),
        ("statuspage and severity >= major", MA, REP, ("statuspage",), True),
        ("statuspage and severity >= major", MA, REP, (), False),
        # precedence: and binds tighter than or
        ("slack or jira and statuspage", N, REP, ("slack",), True),
        ("(slack or jira) and statuspage", N, REP, ("slack",), False),
        ("jira and statuspage or slack", N, REP, ("slack",), True),
        # precedence: not binds tighter than and / or
        ("not slack and jira", N, REP, (), False),
        ("not (slack and jira)", N, REP, (), True),
        ("not slack or jira", N, REP, ("slack", "jira"), True),
        ("not (slack or jira)", N, REP, ("slack", "jira"), False),
        # case and spacing do not matter
        ("Severity==CRITICAL", CR, REP, (), True),
        ("  severity   in[major,critical]  ", MA, REP, (), True),
    ],
)
def test_condition_evaluation(
    text: str,
    severity: Severity | None,
    status: Status,
    configured: tuple[str, ...],
    expected: bool,
) -> None:
    assert Condition.parse(text).evaluate(ctx(severity, status, configured)) is expected


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("severity == critical", "severity == critical"),
        ("  severity   in [major,  critical] ", "severity in [major, critical]"),
        ("not statuspage or severity >= major", "not statuspage or severity >= major"),
    ],
)
def test_condition_str_gives_the_source_back(text: str, shown: str) -> None:
    assert str(Condition.parse(text)) == shown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("severity", "'severity' needs a comparison"),
        ("status", "'status' needs a comparison"),
        ("severity = critical", "use == to compare"),
        ("severity == urgent", "unknown severity 'urgent' at column 13"),
        ("severity == c", "unknown severity 'c'"),
        ("status == done", "unknown status 'done'"),
        ("status >= fixing", "status has no order"),
        ("severity in []", "empty list"),
        ("severity in major", "expected '[' after 'in' at column 13"),
        ("severity in [major critical]", "expected ']' or ','"),
        ("severity in [major,", "expected a severity at the end"),
        ("jir", "unknown name 'jir' at column 1 (did you mean 'jira'?)"),
        ("pagerduty", "unknown name 'pagerduty'"),
        ("(slack", "expected ')'"),
        ("slack)", "unexpected ')' at column 6"),
        ("slack jira", "unexpected 'jira' at column 7"),
        ("slack && jira", "unexpected '&' at column 7"),
        ("not", "unexpected end"),
        ("slack and", "unexpected end"),
        ("and slack", "unexpected 'and' at column 1"),
        ("severity == critical or", "unexpected end"),
        ("__import__", "unknown name '__import__'"),
        ("__import__('os')", 'unexpected "\'" at column 12'),
    ],
)
def test_condition_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(ConditionError) as err:
        Condition.parse(text)
    assert message in str(err.value)

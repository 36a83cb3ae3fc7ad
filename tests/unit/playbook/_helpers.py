"""What the playbook tests share: a frozen time, contexts, ticks and a small playbook."""

from __future__ import annotations

from datetime import UTC, datetime

from cockpit.domain.checklist import Tick
from cockpit.domain.incident import Severity, Status
from cockpit.domain.playbook import ConditionContext, Playbook, parse_playbook

AT = datetime(2026, 11, 27, 14, 3, tzinfo=UTC)


def ctx(
    severity: Severity | None = None,
    status: Status = Status.REPORTED,
    configured: tuple[str, ...] = (),
) -> ConditionContext:
    return ConditionContext(severity=severity, status=status, configured=frozenset(configured))


def tick(item_id: str, ticked: bool = True) -> Tick:
    return Tick(item_id=item_id, ticked=ticked, by="ana", at=AT)


SMALL = """\
name = "small"

[[steps]]
id = "s1"
title = "One"

[[steps.items]]
id = "a"
text = "A"

[[steps.items]]
id = "b"
text = "B"

[[steps.items]]
id = "c"
text = "C"
when = "severity == critical"

[[steps]]
id = "s2"
title = "Two"

[[steps.items]]
id = "d"
text = "D"
when = "statuspage"

[[steps.items]]
id = "e"
text = "E"
when = "status in [reported, fixing]"
"""


def small() -> Playbook:
    return parse_playbook(SMALL, source="small.toml")

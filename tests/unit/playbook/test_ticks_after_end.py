"""The tick path once an incident has ended: a canceled incident's checklist is read-only;
a resolved one takes ticks on its post-incident items only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.application.service import IncidentService
from cockpit.domain.clock import FrozenClock
from cockpit.domain.errors import CockpitError
from cockpit.domain.incident import Severity, Status
from cockpit.domain.playbook import ItemState, default_playbook
from cockpit.domain.templates import TemplateLibrary
from cockpit.store.store import Store
from tests.unit.playbook._helpers import AT


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[IncidentService]:
    from datetime import UTC

    store = Store.open(tmp_path / "data")
    yield IncidentService(
        store,
        clock=FrozenClock(AT),
        tz=UTC,
        user="ana",
        playbook=default_playbook(),
        templates=TemplateLibrary(None),
    )
    store.close()


def test_a_resolved_incident_takes_post_incident_ticks_only(svc: IncidentService) -> None:
    inc = svc.raise_incident("Checkout down", severity=Severity.CRITICAL)
    svc.set_status(inc.id, Status.FIXING)
    svc.set_status(inc.id, Status.RESOLVED)
    with pytest.raises(CockpitError, match="read-only; only the post-incident items"):
        svc.tick(inc.id, "assign-roles")
    for item_id in ("post-mortem", "update-playbooks", "create-follow-ups"):
        assert svc.tick(inc.id, item_id).ticked
    rec = svc.record(inc.id)
    states = {v.item.id: v.state for v in svc.checklist(rec.incident, rec.ticks).items}
    assert states["post-mortem"] is ItemState.DONE
    assert states["update-playbooks"] is ItemState.DONE
    assert states["assign-roles"] is ItemState.NOT_APPLICABLE


def test_a_canceled_incident_is_read_only(svc: IncidentService) -> None:
    inc = svc.raise_incident("Not really an incident")
    svc.tick(inc.id, "not-incident-redirect")
    svc.set_status(inc.id, Status.CANCELED, reason="a bug, not an incident")
    with pytest.raises(CockpitError, match="CANCELED: its checklist is read-only"):
        svc.tick(inc.id, "update-playbooks")
    rec = svc.record(inc.id)
    states = {v.item.id: v.state for v in svc.checklist(rec.incident, rec.ticks).items}
    assert states["not-incident-redirect"] is ItemState.DONE
    assert states["update-playbooks"] is ItemState.NOT_APPLICABLE

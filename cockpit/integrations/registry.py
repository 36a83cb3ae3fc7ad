"""Every remote system cockpit talks to, in one place: `INTEGRATIONS`, by name.

Each system is a package under cockpit/integrations/ that describes itself with one
`Integration` (base.py) in its `integration.py`: name, label, config section, secret
names, client factory, outbox handlers and doctor checks. The rest of cockpit reads them
from here: the outbox dispatches "<system>.<operation>" to the system's handlers
(outbox.py), `build_clients` makes a client per configured system, `cockpit doctor` runs
each configured system's checks, and the secret names (`cockpit auth`, the keyring, the
COCKPIT_<NAME>_TOKEN variables) come from the systems' `secrets`.

Adding a system (PagerDuty, Teams, …) is one new package plus one registration line:

1. cockpit/integrations/pagerduty/ with `client.py` (its client, an `ApiClient`),
   `handlers.py` (a `Handlers` subclass whose `operations` table names each operation:
   "trigger" for the outbox operation "pagerduty.trigger"), `checks.py` (e.g.
   `sign_in_check` with one harmless call), and `integration.py` defining
   `INTEGRATION = Integration(name="pagerduty", label="PagerDuty", config="pagerduty",
   secrets=(Secret("pagerduty", "PagerDuty"),), client=..., handlers=..., checks=...)`
   whose factories import the client and the handlers inside the function (this module
   is read at start-up, before httpx may be imported);
2. one line below: `register(pagerduty.INTEGRATION)`.

Its config section is read from `Settings.<config>` (None: not configured), so the
config file's `[pagerduty]` section must be parsed by cockpit/config.py too; the playbook
can then plan "pagerduty.…" operations for it.

Tests may register a system of their own with `registered(integration)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cockpit.integrations.base import Integration, Secret
from cockpit.integrations.jira import integration as jira
from cockpit.integrations.slack import integration as slack
from cockpit.integrations.statuspage import integration as statuspage

INTEGRATIONS: dict[str, Integration] = {}


def register(integration: Integration) -> Integration:
    """Add a system to the registry (its name must be new)."""
    if integration.name in INTEGRATIONS:
        raise ValueError(f"an integration called {integration.name!r} is registered already")
    if "." in integration.name or not integration.secrets:
        raise ValueError(f"integration {integration.name!r}: no dot in the name, one secret")
    INTEGRATIONS[integration.name] = integration
    return integration


@contextmanager
def registered(integration: Integration) -> Iterator[Integration]:
    """`integration` registered for the `with` block only (for tests)."""
    register(integration)
    try:
        yield integration
    finally:
        INTEGRATIONS.pop(integration.name, None)


register(slack.INTEGRATION)
register(jira.INTEGRATION)
register(statuspage.INTEGRATION)


def secrets() -> list[tuple[Secret, Integration]]:
    """Every secret of every system with its system: each system's client token first
    (in registry order), then the others (Slack's app-level token)."""
    main = [(i.secrets[0], i) for i in INTEGRATIONS.values()]
    extra = [(s, i) for i in INTEGRATIONS.values() for s in i.secrets[1:]]
    return main + extra


def by_operation(operation: str) -> Integration | None:
    """The system of an outbox operation ("jira.create_issue" → Jira), if registered."""
    return INTEGRATIONS.get(operation.partition(".")[0])

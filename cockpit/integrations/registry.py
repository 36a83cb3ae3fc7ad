"""Every remote system cockpit talks to, in one place: `INTEGRATIONS`, by name.

Each system is a package under cockpit/integrations/ that describes itself with one
`Integration` (base.py) in its `integration.py`: name, label, config section and its
schema, secret names, client factory, outbox handlers and doctor checks. The rest of
cockpit reads them from here: cockpit/config.py adds each system's section to the config
file's schema and keeps its settings in `Settings.systems[name]`, the outbox dispatches
"<system>.<operation>" to the system's handlers (outbox.py), `build_clients` makes a
client per configured system, `cockpit doctor` runs each configured system's checks, and
the secret names (`cockpit auth`, the keyring, the COCKPIT_<NAME>_TOKEN variables) come
from the systems' `secrets`.

Adding a system (PagerDuty, Teams, …) is one new package plus one registration line,
its config section included:

1. cockpit/integrations/pagerduty/ with `settings.py` (`PagerDutySettings`, a frozen
   `msgspec.Struct`, and `PagerDutySection`, a `cockpit.configkit.Section` whose fields
   use configkit's capped types (`Name`, `Names`, `Text`), checking what a type cannot
   say in `__post_init__` (`configkit.url`, or `configkit.Invalid(key, message)`), with
   `settings()` giving the `PagerDutySettings`; it imports only msgspec and
   cockpit.configkit, and a helper `pagerduty_settings(settings)` =
   `configkit.system(settings, "pagerduty", PagerDutySettings)` reads it back, typed),
   `client.py` (its client, an `ApiClient`), `handlers.py` (a `Handlers` subclass whose
   `operations` table names each operation: "trigger" for the outbox operation
   "pagerduty.trigger"), `checks.py` (e.g. `sign_in_check` with one harmless call), and
   `integration.py` defining `INTEGRATION = Integration(name="pagerduty",
   label="PagerDuty", config="pagerduty", settings_section=PagerDutySection,
   secrets=(Secret("pagerduty", "PagerDuty"),), client=..., handlers=..., checks=...)`
   whose factories import the client and the handlers inside the function (this module
   is read at start-up, before httpx may be imported);
2. one line below: `register(pagerduty.INTEGRATION)`.

The config file's `[pagerduty]` section is then parsed and checked like cockpit's own
(an unknown key or a bad value names the file and `pagerduty.<key>`); a file without it
leaves the system not configured (no client, no checks), and the playbook can plan
"pagerduty.…" operations for it. Nothing the registry imports may import cockpit/config.py
(config.py imports the registry): a system reads the settings as `configkit.HasSystems`.

Tests may register a system of their own with `registered(integration)` (before loading
the settings, if it has a section in the file).
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

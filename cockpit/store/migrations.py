"""Schema versions of stored documents, and the code that upgrades old ones.

Every stored document carries `"v"`. On load, `migrate(kind, doc)` runs the registered
steps (`MIGRATIONS[kind][n]` turns a version-n document into version n + 1) until the
document is at `CURRENT[kind]`. A document without `"v"` is version 0. A document newer
than this code knows is refused with `StoreTooNew`, never rewritten: cockpit must not
drop fields it does not understand.

Modules that keep their own tables (drafts, the outbox) call `register_kind`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from cockpit.domain import checklist, incident, timeline
from cockpit.domain.errors import CockpitError

Doc = dict[str, Any]
Migration = Callable[[Doc], Doc]
Registry = Mapping[str, Mapping[int, Migration]]

#: The schema version of the store's own bookkeeping (index summaries and meta).
STORE_SCHEMA = 1

#: kind → the version this code writes.
CURRENT: dict[str, int] = {
    "incident": incident.SCHEMA_VERSION,
    "entry": timeline.SCHEMA_VERSION,
    "tick": checklist.SCHEMA_VERSION,
    "summary": STORE_SCHEMA,
    "meta": STORE_SCHEMA,
}

#: kind → from-version → the step to the next version.
MIGRATIONS: dict[str, dict[int, Migration]] = {kind: {} for kind in CURRENT}


class StoreTooNew(CockpitError):
    """A document was written by a newer cockpit; this one will not read or rewrite it."""

    def __init__(self, kind: str, version: int, known: int, source: str = "") -> None:
        self.kind = kind
        self.version = version
        self.known = known
        where = f" in {source}" if source else ""
        super().__init__(
            f"the {kind} data{where} was written by a newer cockpit (schema version {version}; "
            f"this cockpit knows up to {known}). Upgrade cockpit to use it; nothing was changed."
        )


class MigrationError(CockpitError):
    """A stored document cannot be brought up to date."""


def register_kind(kind: str, current: int, steps: Mapping[int, Migration] | None = None) -> None:
    """Declare a document kind (e.g. a module's own table) and its upgrade steps."""
    CURRENT[kind] = current
    MIGRATIONS.setdefault(kind, {}).update(steps or {})


def version_of(doc: Mapping[str, Any], kind: str = "document", source: str = "") -> int:
    v = doc.get("v", 0)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        where = f" in {source}" if source else ""
        raise MigrationError(f"a {kind} document{where} has an invalid schema version {v!r}")
    return v


def check_not_newer(
    kind: str,
    doc: Mapping[str, Any],
    *,
    current: Mapping[str, int] | None = None,
    source: str = "",
) -> None:
    """Raise StoreTooNew if `doc` is newer than this code (before rewriting its file)."""
    target = (CURRENT if current is None else current).get(kind)
    v = version_of(doc, kind, source)
    if target is not None and v > target:
        raise StoreTooNew(kind, v, target, source)


def migrate(
    kind: str,
    doc: Mapping[str, Any],
    *,
    registry: Registry | None = None,
    current: Mapping[str, int] | None = None,
    source: str = "",
) -> Doc:
    """`doc` brought to the current version of `kind` (a new dict; `doc` is not changed).

    A kind nobody declared is returned as it is.
    """
    steps = (MIGRATIONS if registry is None else registry).get(kind, {})
    target = (CURRENT if current is None else current).get(kind)
    v = version_of(doc, kind, source)
    out: Doc = dict(doc)
    if target is None or v == target:
        return out
    if v > target:
        raise StoreTooNew(kind, v, target, source)
    out = copy.deepcopy(out)
    while v < target:
        step = steps.get(v)
        if step is None:
            where = f" in {source}" if source else ""
            raise MigrationError(
                f"a {kind} document{where} has schema version {v} and this cockpit has no "
                f"migration from it (it reads {kind} version {target})"
            )
        out = step(out)
        v += 1
        out["v"] = v
    return out

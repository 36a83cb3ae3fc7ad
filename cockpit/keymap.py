"""The ids of the app's remappable bindings, importable without Textual.

The UI's command registry declares each command once; this module lists their ids so the
configuration can check `[keys]` without importing the UI.
"""

from __future__ import annotations

BINDING_IDS: tuple[str, ...] = (
    "raise",
    "severity",
    "status",
    "cancel",
    "roles",
    "note",
    "switch-incident",
    "history",
    "handoff",
    "metrics",
    "focus-feed",
    "focus-timeline",
    "focus-checklist",
    "focus-drafts",
    "theme",
    "help",
    "palette",
    "quit",
    "pause-feed",
    "filter-feed",
    "pin",
    "edit-time",
    "tick",
    "run-item",
    "new-draft",
    "retry",
    "discard",
    "edit-draft",
    "copy",
    "send",
)

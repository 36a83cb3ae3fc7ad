"""The playbook as data: steps, items, conditions, and checklist progress.

A package of four modules, layered bottom up with no cycle: `conditions` (the safe
`when` language and `ConditionContext`), `model` (the `Playbook`, `Step` and `Item`
dataclasses, and `KNOWN_ACTIONS`), `progress` (`checklist_view`: each item's state and
the progress per step) and `loader` (TOML files with ``path:line`` errors,
`load_playbook`, `default_playbook`). Import the public names from here.
"""

from cockpit.domain.playbook.conditions import (
    KNOWN_INTEGRATIONS,
    Condition,
    ConditionContext,
    ConditionError,
    parse_condition,
)
from cockpit.domain.playbook.loader import default_playbook, load_playbook, parse_playbook
from cockpit.domain.playbook.model import KNOWN_ACTIONS, Item, Playbook, Step
from cockpit.domain.playbook.progress import (
    ChecklistView,
    ItemState,
    ItemView,
    StepProgress,
    checklist_view,
    next_open,
)

__all__ = [
    "KNOWN_ACTIONS",
    "KNOWN_INTEGRATIONS",
    "ChecklistView",
    "Condition",
    "ConditionContext",
    "ConditionError",
    "Item",
    "ItemState",
    "ItemView",
    "Playbook",
    "Step",
    "StepProgress",
    "checklist_view",
    "default_playbook",
    "load_playbook",
    "next_open",
    "parse_condition",
    "parse_playbook",
]

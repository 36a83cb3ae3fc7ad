"""Checklist state and progress: how far an incident has got through its playbook.

This module holds `checklist_view`, which combines a `Playbook`, the incident's latest
ticks and a `ConditionContext` into a `ChecklistView`: each item's `ItemState` (DONE,
OPEN, or SKIPPED when its condition is false) as an `ItemView`, the counts per step
(`StepProgress`) and overall, and `next_open`, the first item still to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from cockpit.domain.checklist import Tick
from cockpit.domain.playbook.conditions import ConditionContext
from cockpit.domain.playbook.model import Item, Playbook, Step

__all__ = [
    "ChecklistView",
    "ItemState",
    "ItemView",
    "StepProgress",
    "checklist_view",
    "next_open",
]


class ItemState(StrEnum):
    DONE = "done"
    OPEN = "open"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ItemView:
    item: Item
    state: ItemState
    tick: Tick | None = None  # the latest tick or untick, kept even when skipped
    skip_reason: str = ""  # "only when severity == critical" when SKIPPED


@dataclass(frozen=True)
class StepProgress:
    step: Step
    done: int
    total_applicable: int
    skipped: int
    items: tuple[ItemView, ...]

    @property
    def fraction(self) -> float:
        return 1.0 if self.total_applicable == 0 else self.done / self.total_applicable

    @property
    def complete(self) -> bool:
        return self.done == self.total_applicable


@dataclass(frozen=True)
class ChecklistView:
    steps: tuple[StepProgress, ...]
    done: int
    total: int  # applicable items only
    skipped: int

    @property
    def fraction(self) -> float:
        """0.0–1.0 of the applicable items done; 1.0 when nothing is applicable."""
        return 1.0 if self.total == 0 else self.done / self.total

    @property
    def items(self) -> tuple[ItemView, ...]:
        return tuple(v for s in self.steps for v in s.items)


def checklist_view(
    playbook: Playbook, ticks: Mapping[str, Tick], ctx: ConditionContext
) -> ChecklistView:
    """Each item's state for an incident: DONE, OPEN, or SKIPPED (its condition is false).

    `ticks` maps item ids to their latest tick; a tick with `ticked=False` is an untick.
    A skipped item stays skipped even if it was ticked before (the tick is kept).
    """
    steps: list[StepProgress] = []
    for step in playbook.steps:
        views: list[ItemView] = []
        for item in step.items:
            tick = ticks.get(item.id)
            if not item.applies(ctx):
                views.append(ItemView(item, ItemState.SKIPPED, tick, f"only when {item.when}"))
            elif tick is not None and tick.ticked:
                views.append(ItemView(item, ItemState.DONE, tick))
            else:
                views.append(ItemView(item, ItemState.OPEN, tick))
        done = sum(v.state is ItemState.DONE for v in views)
        skipped = sum(v.state is ItemState.SKIPPED for v in views)
        steps.append(StepProgress(step, done, len(views) - skipped, skipped, tuple(views)))
    return ChecklistView(
        steps=tuple(steps),
        done=sum(s.done for s in steps),
        total=sum(s.total_applicable for s in steps),
        skipped=sum(s.skipped for s in steps),
    )


def next_open(view: ChecklistView) -> ItemView | None:
    """The first OPEN item, in playbook order, or None when nothing is left to do."""
    for v in view.items:
        if v.state is ItemState.OPEN:
            return v
    return None

"""Checklist state and progress: how far an incident has got through its playbook.

This module holds `checklist_view`, which combines a `Playbook`, the incident's latest
ticks and a `ConditionContext` into a `ChecklistView`: each item's `ItemState` (DONE,
OPEN, SKIPPED when its condition is false, NOT_APPLICABLE when the incident ended without
it) as an `ItemView`, the counts per step (`StepProgress`) and overall, and `next_open`,
the first item still to do.

Once the incident has ended, the checklist tells what happened: an item done while it
applied is DONE (a "status in [reported, fixing]" item ticked before a cancel too); on a
RESOLVED incident the post-incident items (`after = true`: post mortem, playbooks,
follow-ups) are still OPEN until ticked; every other item not done is NOT_APPLICABLE.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import msgspec

from cockpit.domain.checklist import Tick
from cockpit.domain.incident import Status
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
    NOT_APPLICABLE = "not applicable"  # the incident ended without it


class ItemView(msgspec.Struct, frozen=True):
    item: Item
    state: ItemState
    tick: Tick | None = None  # the latest tick or untick, kept even when skipped
    skip_reason: str = ""  # "only when severity == critical" when SKIPPED (or why n/a)
    tickable: bool = True  # False: read-only (the incident has ended)


class StepProgress(msgspec.Struct, frozen=True):
    step: Step
    done: int
    total_applicable: int
    skipped: int  # skipped or not applicable: not counted
    items: tuple[ItemView, ...]

    @property
    def fraction(self) -> float:
        return 1.0 if self.total_applicable == 0 else self.done / self.total_applicable

    @property
    def complete(self) -> bool:
        return self.done == self.total_applicable


class ChecklistView(msgspec.Struct, frozen=True):
    steps: tuple[StepProgress, ...]
    done: int
    total: int  # applicable items only
    skipped: int  # skipped or not applicable

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
    """Each item's state for an incident: DONE, OPEN, SKIPPED (its condition is false) or,
    once the incident has ended, NOT_APPLICABLE (see the module doc).

    `ticks` maps item ids to their latest tick; a tick with `ticked=False` is an untick.
    While the incident is open, a skipped item stays skipped even if it was ticked before
    (the tick is kept).
    """
    steps: list[StepProgress] = []
    for step in playbook.steps:
        views = tuple(_item_view(item, ticks.get(item.id), ctx) for item in step.items)
        done = sum(v.state is ItemState.DONE for v in views)
        counted = sum(v.state in (ItemState.DONE, ItemState.OPEN) for v in views)
        steps.append(StepProgress(step, done, counted, len(views) - counted, views))
    return ChecklistView(
        steps=tuple(steps),
        done=sum(s.done for s in steps),
        total=sum(s.total_applicable for s in steps),
        skipped=sum(s.skipped for s in steps),
    )


def _item_view(item: Item, tick: Tick | None, ctx: ConditionContext) -> ItemView:
    ticked = tick is not None and tick.ticked
    if ctx.status.is_open:
        if not item.applies(ctx):
            return ItemView(item, ItemState.SKIPPED, tick, f"only when {item.when}")
        return ItemView(item, ItemState.DONE if ticked else ItemState.OPEN, tick)
    tickable = item.tickable(ctx.status)
    if not item.applied_while_open(ctx):
        return ItemView(item, ItemState.SKIPPED, tick, f"only when {item.when}", tickable=False)
    if ticked:
        return ItemView(item, ItemState.DONE, tick, tickable=tickable)
    if tickable:
        return ItemView(item, ItemState.OPEN, tick)
    ended = "canceled" if ctx.status is Status.CANCELED else "resolved"
    return ItemView(
        item,
        ItemState.NOT_APPLICABLE,
        tick,
        f"not done before the incident was {ended}",
        tickable=False,
    )


def next_open(view: ChecklistView) -> ItemView | None:
    """The first OPEN item, in playbook order, or None when nothing is left to do."""
    for v in view.items:
        if v.state is ItemState.OPEN:
            return v
    return None

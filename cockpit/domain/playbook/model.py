"""The playbook's data model: `Playbook`, `Step` and `Item`, and the actions an item may name.

These frozen records are what a loaded playbook is made of (`Step` and `Item` are msgspec
Structs: cheap to define at start-up): a `Playbook` holds its `Step`s in order, each `Step`
its `Item`s; an `Item` may name one of `KNOWN_ACTIONS` and carry a `when` `Condition`. The
`Playbook` indexes its items by id for lookups (`item`, `step_of`, `items_with_action`),
raising `NotFound` for unknown ids. Nothing
here reads files or checks TOML: that is `loader`'s job.
"""

from __future__ import annotations

import msgspec

from cockpit.domain.errors import NotFound
from cockpit.domain.incident import Status
from cockpit.domain.playbook.conditions import Condition, ConditionContext

__all__ = ["KNOWN_ACTIONS", "Item", "Playbook", "Step"]

# The actions an item may name; the app and the integrations perform them.
KNOWN_ACTIONS: frozenset[str] = frozenset(
    {
        "raise-incident",
        "create-ticket",
        "create-channel",
        "reply-in-thread",
        "post-kickoff",
        "set-severity",
        "assign-roles",
        "mark-fixing",
        "cancel-incident",  # not an incident: kind reply + CANCELED
        "link-bug",
        "escalate",
        "add-note",
        "create-bug",  # a bug in the follow-up project, linked from the ticket
        "internal-update",
        "statuspage-create",
        "statuspage-update",
        "mark-monitoring",
        "create-follow-up",
        "final-update",
        "mark-resolved",
        "statuspage-resolve",
        "post-mortem",
        "handoff",
    }
)


class Item(msgspec.Struct, frozen=True):
    id: str
    text: str
    help: str = ""
    action: str | None = None
    when: Condition | None = None
    step_id: str = ""
    after: bool = False  # post-incident: still tickable once the incident is RESOLVED

    def applies(self, ctx: ConditionContext) -> bool:
        """True unless the item has a condition that is false in `ctx`."""
        return self.when is None or self.when.evaluate(ctx)

    def applied_while_open(self, ctx: ConditionContext) -> bool:
        """Whether the item applied at some point while the incident was open: its
        condition true for one of the open statuses (with `ctx`'s severity and systems).
        "status in [reported, fixing]" items done before a cancel count as done."""
        if self.when is None:
            return True
        return any(self.when.evaluate(c) for c in ctx.while_open())

    def tickable(self, status: Status) -> bool:
        """Whether a tick may change: any item while the incident is open, only the
        post-incident items once it is RESOLVED, none once it is CANCELED."""
        return status.is_open or (self.after and status is Status.RESOLVED)


class Step(msgspec.Struct, frozen=True):
    id: str
    title: str
    help: str = ""
    items: tuple[Item, ...] = ()


class Playbook:
    """The steps, their items by id. Immutable; equal when name, steps and source are. A
    plain class with slots: it is read at start-up (a dataclass costs about a ms)."""

    __slots__ = ("_by_id", "_step_of", "name", "source", "steps")
    name: str
    steps: tuple[Step, ...]
    source: str  # where it was loaded from (a path)
    _by_id: dict[str, Item]
    _step_of: dict[str, Step]

    def __init__(self, name: str, steps: tuple[Step, ...], source: str = "") -> None:
        by_id: dict[str, Item] = {}
        step_of: dict[str, Step] = {}
        for step in steps:
            for item in step.items:
                if item.id in by_id:
                    raise ValueError(f"duplicate item id {item.id!r} in playbook {name!r}")
                by_id[item.id] = item
                step_of[item.id] = step
        for attr, value in (
            ("name", name),
            ("steps", tuple(steps)),
            ("source", source),
            ("_by_id", by_id),
            ("_step_of", step_of),
        ):
            object.__setattr__(self, attr, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Playbook is immutable (setting {name!r})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Playbook) and (other.name, other.steps, other.source) == (
            self.name,
            self.steps,
            self.source,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.steps, self.source))

    def __repr__(self) -> str:
        return f"Playbook(name={self.name!r}, steps={self.steps!r}, source={self.source!r})"

    @property
    def items(self) -> tuple[Item, ...]:
        """Every item, in order."""
        return tuple(self._by_id.values())

    def item(self, item_id: str) -> Item:
        try:
            return self._by_id[item_id]
        except KeyError:
            raise NotFound(f"no item {item_id!r} in the playbook {self.name!r}") from None

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise NotFound(f"no step {step_id!r} in the playbook {self.name!r}")

    def step_of(self, item_id: str) -> Step:
        try:
            return self._step_of[item_id]
        except KeyError:
            raise NotFound(f"no item {item_id!r} in the playbook {self.name!r}") from None

    def items_with_action(self, action: str) -> tuple[Item, ...]:
        return tuple(i for i in self._by_id.values() if i.action == action)

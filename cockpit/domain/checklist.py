"""The state of one checklist item on one incident: who ticked (or unticked) it, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from cockpit.domain.clock import from_iso, to_iso, utc
from cockpit.domain.sanitize import sanitize

SCHEMA_VERSION = 1


class Tick(msgspec.Struct, frozen=True):
    item_id: str
    ticked: bool
    by: str
    at: datetime

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "at", utc(self.at))

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": SCHEMA_VERSION,
            "item_id": self.item_id,
            "ticked": self.ticked,
            "by": self.by,
            "at": to_iso(self.at),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Tick:
        at = from_iso(d["at"])
        assert at is not None
        return cls(
            item_id=str(d["item_id"]),
            ticked=bool(d["ticked"]),
            by=sanitize(d.get("by", ""), single_line=True),
            at=at,
        )

"""The index's parts: what a summary holds, how summaries are kept in blocks, the journal.

The index is derived from the incident files and never trusted over them. It is kept in
three places, each written crash-safely (`SafeJSONStorage`: a new file, fsynced, renamed):

    summaries/<n>.json    every incident's summary, in blocks of BLOCK_SIZE ids (block 0
                          holds incidents 1…1000): history search, metrics and reports read
                          these, never the incident files
    index.json            table `incidents`: the open incidents' summaries (what the app
                          and `cockpit list` need at start: a small file); table `meta`
    index.journal         the ids of incidents whose summary may be changing: a line is
                          appended (and fsynced) before the incident file is written, so a
                          crash between the incident file and the summaries leaves a
                          note of what to re-read

A summary is written in the same `Store` call as the change that alters it, under the
incident file's lock: journal line, incident file, block, `index.json`. The store re-reads
the incidents the journal names when it opens (a handful of files, never a sweep of the
directory), then empties it. A block that is missing or damaged is rebuilt from the
incident files of its range; an index of an older layout, or a journal that cannot be
read, is rebuilt from every incident file.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import msgspec

from cockpit.domain.clock import from_iso, to_iso
from cockpit.domain.incident import Incident, Severity, Status
from cockpit.domain.outbox import OutboxState
from cockpit.domain.sanitize import sanitize
from cockpit.safefile import UnsafeFile, read_file
from cockpit.store.migrations import STORE_SCHEMA
from cockpit.store.storage import Data

#: The layout of the index (meta's "index"): 2 = blocks of summaries, open index, journal.
INDEX_LAYOUT: Final = 2
BLOCK_SIZE: Final = 1000
SUMMARIES_DIR: Final = "summaries"
JOURNAL_FILE: Final = "index.journal"
T_ROWS: Final = "rows"
ROW_VERSION: Final = 1
_ROW_LEN: Final = 12
_SCALAR = (str, bool, type(None))
_ID = re.compile(r"[1-9][0-9]{0,17}")
_STATUS = {s.value: s for s in Status}
_SEVERITY = {s.value: s for s in Severity}
_STATUSES = frozenset(_STATUS)
_SEVERITIES = frozenset(_SEVERITY)


def _needs_attention(doc: dict[str, Any]) -> bool:
    try:
        return OutboxState(str(doc.get("state"))).pending
    except ValueError:
        return False


#: Module tables whose documents can need work (the outbox's queued and sending items):
#: a summary names the tables that do, so the sender visits only those incidents.
ATTENTION: Final[dict[str, Callable[[dict[str, Any]], bool]]] = {"outbox": _needs_attention}


def _title(text: str) -> str:
    # most titles are plain printable ASCII, which sanitize leaves as it is (and costs
    # 20 times more to say so): summaries are read by the thousand
    if text.isascii() and text.isprintable():
        return text
    return sanitize(text, single_line=True)


def _time(text: Any) -> datetime | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a time")
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is UTC:  # what to_iso writes ("+00:00"): as it is
        return dt
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


class IncidentSummary(msgspec.Struct, frozen=True):
    """What the index keeps about an incident: enough to list, search and count it
    without opening its file."""

    id: str
    title: str
    severity: Severity | None
    status: Status
    first_reported_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    canceled_at: datetime | None = None
    drill: bool = False
    mitigated_at: datetime | None = None
    #: searched besides the title: the summary, cancel reason, who is affected, components
    text: str = ""
    #: module tables with documents that need work (the outbox's pending items)
    attention: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @classmethod
    def of(cls, incident: Incident, attention: Iterable[str] = ()) -> IncidentSummary:
        text = " ".join(
            t
            for t in (
                incident.summary,
                incident.cancel_reason,
                incident.assessment.affected,
                *incident.affected_components,
            )
            if t
        )
        return cls(
            id=incident.id,
            title=incident.title,
            severity=incident.severity,
            status=incident.status,
            first_reported_at=incident.first_reported_at,
            acknowledged_at=incident.acknowledged_at,
            resolved_at=incident.resolved_at,
            canceled_at=incident.canceled_at,
            drill=incident.drill,
            mitigated_at=incident.mitigated_at,
            text=text,
            attention=tuple(sorted(attention)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": STORE_SCHEMA,
            "id": self.id,
            "title": self.title,
            "severity": self.severity.value if self.severity else None,
            "status": self.status.value,
            "first_reported_at": to_iso(self.first_reported_at),
            "acknowledged_at": to_iso(self.acknowledged_at),
            "resolved_at": to_iso(self.resolved_at),
            "canceled_at": to_iso(self.canceled_at),
            "drill": self.drill,
            "mitigated_at": to_iso(self.mitigated_at),
            "text": self.text,
            "attention": list(self.attention),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IncidentSummary:
        first = from_iso(d["first_reported_at"])
        assert first is not None
        return cls(
            id=str(d["id"]),
            title=sanitize(d.get("title", ""), single_line=True),
            severity=Severity(d["severity"]) if d.get("severity") else None,
            status=Status(d.get("status", "reported")),
            first_reported_at=first,
            acknowledged_at=from_iso(d.get("acknowledged_at")),
            resolved_at=from_iso(d.get("resolved_at")),
            canceled_at=from_iso(d.get("canceled_at")),
            drill=bool(d.get("drill", False)),
            mitigated_at=from_iso(d.get("mitigated_at")),
            text=sanitize(d.get("text", "")),
            attention=tuple(str(t) for t in d.get("attention") or ()),
        )

    # -- the compact form kept in blocks (a list: thousands are read at once) ----------
    def to_row(self) -> list[Any]:
        return [
            self.id,
            self.title,
            self.severity.value if self.severity else None,
            self.status.value,
            to_iso(self.first_reported_at),
            to_iso(self.acknowledged_at),
            to_iso(self.mitigated_at),
            to_iso(self.resolved_at),
            to_iso(self.canceled_at),
            self.drill,
            self.text,
            list(self.attention),
        ]

    @classmethod
    def from_row(cls, row: Any) -> IncidentSummary:
        """ValueError (or TypeError) when `row` is not a summary's row."""
        if not isinstance(row, list) or len(row) != _ROW_LEN:
            raise ValueError("not a summary row")
        iid, title, sev, status, first, ack, mit, res, canc, drill, text, attention = row
        if not isinstance(iid, str) or not _ID.fullmatch(iid):
            raise ValueError(f"{iid!r} is not an incident id")
        if status not in _STATUSES or (sev is not None and sev not in _SEVERITIES):
            raise ValueError(f"incident {iid}: bad status or severity")
        if not isinstance(title, str) or not isinstance(text, str):
            raise ValueError(f"incident {iid}: title and text must be text")
        if not isinstance(attention, list) or not isinstance(drill, bool):
            raise ValueError(f"incident {iid}: bad attention or drill")
        first_at = _time(first)
        if first_at is None:
            raise ValueError(f"incident {iid}: no report time")
        return cls(
            id=iid,
            title=_title(title),
            severity=None if sev is None else _SEVERITY[sev],
            status=_STATUS[status],
            first_reported_at=first_at,
            acknowledged_at=_time(ack),
            resolved_at=_time(res),
            canceled_at=_time(canc),
            drill=drill is True,
            mitigated_at=_time(mit),
            text=text if text.isprintable() else sanitize(text),
            attention=tuple(t for t in attention if isinstance(t, str)),
        )


def summarize(
    incident: Incident, tables: Mapping[str, Iterable[Mapping[str, Any]]]
) -> IncidentSummary:
    """An incident's summary; `tables` are its module tables' documents (those in
    ATTENTION are looked at)."""
    attention = [
        name
        for name, needs in ATTENTION.items()
        if any(needs(dict(doc)) for doc in tables.get(name, ()))
    ]
    return IncidentSummary.of(incident, attention)


# -- blocks ------------------------------------------------------------------------------
def block_of(incident_id: str) -> int:
    return (int(incident_id) - 1) // BLOCK_SIZE


def block_ids(block: int) -> range:
    return range(block * BLOCK_SIZE + 1, (block + 1) * BLOCK_SIZE + 1)


def block_count(last_id: int) -> int:
    """How many blocks hold ids 1…last_id."""
    return 0 if last_id <= 0 else block_of(str(last_id)) + 1


def block_path(data_dir: Path, block: int) -> Path:
    return data_dir / SUMMARIES_DIR / f"{block}.json"


def check_block(data: Data) -> None:
    """A block file's shape, every level of it (so no scan for deep nesting is needed):
    each row a list of texts, nulls and booleans, its last a list of texts. Its values are
    checked when it is read (`IncidentSummary.from_row`)."""
    for name, table in data.items():
        if name != T_ROWS:
            raise ValueError(f"a block of summaries has no table {name!r}")
        for key, doc in table.items():
            row = doc.get("s")
            if doc.get("v") != ROW_VERSION or len(doc) != 2 or not isinstance(row, list):
                raise ValueError(f"row {key}: not a summary row of version {ROW_VERSION}")
            if len(row) != _ROW_LEN or not all(isinstance(v, _SCALAR) for v in row[:-1]):
                raise ValueError(f"row {key}: not a summary row")
            if not isinstance(row[-1], list) or not all(isinstance(v, str) for v in row[-1]):
                raise ValueError(f"row {key}: its tables needing attention are not texts")


def block_data(summaries: Iterable[IncidentSummary]) -> Data:
    return {T_ROWS: {s.id: {"v": ROW_VERSION, "s": s.to_row()} for s in summaries}}


# -- the journal ---------------------------------------------------------------------------
class Journal:
    """`index.journal`: one incident id a line, appended and fsynced before that incident's
    file is written; emptied once the summaries agree with the files again."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, incident_id: str) -> None:
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, f"{incident_id}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)

    def read(self) -> tuple[list[str], bool]:
        """The ids noted (in order, once each) and whether every line could be read (a
        torn last line, from a crash during the append, reads as a shorter id: re-reading
        one incident too many is harmless)."""
        try:
            raw, _ = read_file(self.path, limit=16 * 1024 * 1024)
        except UnsafeFile as e:
            if e.missing:
                return [], True
            return [], False
        ids: dict[str, None] = {}
        clean = True
        for line in raw.split(b"\n"):
            text = line.strip().decode("ascii", errors="replace")
            if not text:
                continue
            if _ID.fullmatch(text):
                ids[text] = None
            else:
                clean = False
        return list(ids), clean

    def lines(self) -> int:
        try:
            return os.stat(self.path).st_size // 2  # a cheap upper bound of the ids
        except FileNotFoundError:
            return 0

    def keep_only(self, ids: list[str]) -> None:
        """Replace the journal by `ids` (atomically), or empty it."""
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            with open(fd, "wb", closefd=True) as f:
                f.write("".join(f"{i}\n" for i in ids).encode())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(self.path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""Names in the background: who the ids in the feed's messages are (people, channels,
user groups, bots), looked up a few at a time while the feed shows a placeholder.

A `NameBook` is what the renderer asks (`user`, `channel`, `usergroup`, `bot`: a name or
None) and what decides which look-up to make next. It makes no request itself: the feed
poller asks it for the next look-up (`next_lookup`) when its budget has room and hands
back what the source answered (`learned`, `failed`). So:

* **Once each.** An id asked for many times is looked up once (`want` dedupes); a
  look-up that answers a whole kind at once (Slack's `usergroups.list`) answers every
  pending id of that kind.
* **Newest first.** Each wanted id carries a priority (the newest message's time that
  names it, or `VISIBLE` for what is on screen now): the highest goes first, so the rows
  a person is looking at are named before the backlog's.
* **Within the budget, per tier.** Each kind's look-ups are counted over a sliding
  minute and kept under its share of the method's rate tier (`limits`); a rate limit's
  Retry-After pauses that kind. Every request also goes through the poller's own budget.
* **Kept, with an expiry.** A name is good for `ttl` seconds (a day); after that it is
  still shown while it is looked up again, at low priority. An id the source does not
  know (deleted, not visible) is remembered as unknown for `missing_ttl`, so it is not
  asked again every turn. A passing failure (timeout, 5xx) is retried after a back-off.
* **On disk.** `to_dict` / `from_dict` give the book's names as plain JSON for the data
  directory (the application layer writes them crash-safely); a restarted cockpit shows
  the names at once and looks up nothing it already knows. `channel_ids` keeps the
  channel names → ids found, so a restart needs no channel listing either.

Names come from the source sanitized (and from disk sanitized again). No Textual, no I/O.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cockpit.domain.sanitize import sanitize

KINDS = ("user", "channel", "usergroup", "bot")
TTL = 24 * 3600.0  # a name is looked up again after a day (and shown meanwhile)
MISSING_TTL = 3600.0  # an id the source does not know: asked again after an hour
RETRY = 30.0  # after a passing failure, the first retry; doubling up to MAX_RETRY
MAX_RETRY = 600.0
VISIBLE = float("inf")  # the priority of a name on screen now
MAX_PENDING = 5000  # wanted ids kept waiting (the lowest priorities are dropped)
MAX_ENTRIES = 50_000  # names kept (on disk too); the oldest looked up go first
SCHEMA = 1


@dataclass
class Entry:
    name: str | None  # None: the source does not know this id
    at: float  # when it was looked up (epoch seconds)


@dataclass
class _Pending:
    priority: float
    not_before: float = 0.0
    failures: int = 0


class NameBook:
    """The names known and the look-ups to make. `limits`: look-ups a minute per kind
    (a kind without one is never looked up: its ids keep their placeholders)."""

    def __init__(
        self,
        *,
        limits: Mapping[str, float] | None = None,
        batch_kinds: Iterable[str] = (),
        unknown: Mapping[str, str] | None = None,
        ttl: float = TTL,
        missing_ttl: float = MISSING_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = dict(limits if limits is not None else dict.fromkeys(KINDS, 25.0))
        self.batch_kinds = frozenset(batch_kinds)  # one look-up answers every id of the kind
        # what an id the source does not know reads as, per kind (e.g. "private channel")
        self.unknown = dict(unknown or {})
        self.ttl = ttl
        self.missing_ttl = missing_ttl
        self.clock = clock
        self._entries: dict[tuple[str, str], Entry] = {}
        self._pending: dict[tuple[str, str], _Pending] = {}
        self._windows: dict[str, deque[float]] = {k: deque() for k in KINDS}
        self._paused_until: dict[str, float] = {}
        self.channel_ids: dict[str, str] = {}  # channel name → id (no listing on restart)
        self.dirty = False  # changed since the last `to_dict`
        self.lookups = 0  # requests made for names (for the figures)

    # -- what the renderer asks (render.Names) ------------------------------------------
    def get(self, kind: str, ident: str) -> str | None:
        entry = self._entries.get((kind, ident))
        if entry is None:
            return None
        return entry.name if entry.name is not None else self.unknown.get(kind)

    def user(self, user_id: str) -> str | None:
        return self.get("user", user_id)

    def channel(self, channel_id: str) -> str | None:
        return self.get("channel", channel_id)

    def usergroup(self, group_id: str) -> str | None:
        return self.get("usergroup", group_id)

    def bot(self, bot_id: str) -> str | None:
        return self.get("bot", bot_id)

    def __len__(self) -> int:
        return len(self._entries)

    # -- what to look up ------------------------------------------------------------------
    def _fresh(self, key: tuple[str, str], now: float) -> bool:
        entry = self._entries.get(key)
        if entry is None:
            return False
        life = self.ttl if entry.name is not None else self.missing_ttl
        return now - entry.at < life

    def want(self, keys: Iterable[tuple[str, str]], priority: float = 0.0) -> int:
        """Ask for these (kind, id) names; returns how many are newly pending. A name known
        and not expired is not asked again; an expired one is, below every unknown one."""
        now = self.clock()
        added = 0
        for key in keys:
            kind, ident = key
            if kind not in self.limits or not ident or self._fresh(key, now):
                continue
            # an expired name is still shown: its refresh waits behind every unknown name
            prio = priority if key not in self._entries else min(priority, -1.0)
            pending = self._pending.get(key)
            if pending is None:
                self._pending[key] = _Pending(prio)
                added += 1
            elif prio > pending.priority:
                pending.priority = prio
        if len(self._pending) > MAX_PENDING:
            keep = sorted(self._pending.items(), key=lambda kv: kv[1].priority, reverse=True)
            self._pending = dict(keep[:MAX_PENDING])
        return added

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _room(self, kind: str, now: float) -> bool:
        if self._paused_until.get(kind, 0.0) > now:
            return False
        window = self._windows[kind]
        while window and now - window[0] >= 60.0:
            window.popleft()
        return len(window) < self.limits.get(kind, 0.0)

    def next_lookup(self) -> tuple[str, str] | None:
        """The look-up to make now (the highest priority whose kind has room), or None."""
        now = self.clock()
        best: tuple[str, str] | None = None
        best_prio = float("-inf")
        room: dict[str, bool] = {}
        for key, p in self._pending.items():
            if p.not_before > now or p.priority <= best_prio:
                continue
            kind = key[0]
            if kind not in room:
                room[kind] = self._room(kind, now)
            if room[kind]:
                best, best_prio = key, p.priority
        return best

    def next_due_in(self) -> float | None:
        """Seconds until some pending look-up could go (None: nothing pending)."""
        if not self._pending:
            return None
        now = self.clock()
        waits = []
        for (kind, _ident), p in self._pending.items():
            wait = max(0.0, p.not_before - now, self._paused_until.get(kind, 0.0) - now)
            window = self._windows[kind]
            if len(window) >= self.limits.get(kind, 0.0) and window:
                wait = max(wait, 60.0 - (now - window[0]))
            waits.append(wait)
        return min(waits)

    def started(self, kind: str) -> None:
        """A look-up of `kind` is being made (counted in its minute)."""
        self._windows[kind].append(self.clock())
        self.lookups += 1

    # -- answers ------------------------------------------------------------------------
    def learned(self, found: Mapping[tuple[str, str], str | None]) -> set[tuple[str, str]]:
        """The source's answer: names (None: not known to the source). For a kind that is
        looked up in one batch, every pending id of the kind not in the answer is unknown.
        Returns the keys whose shown name changed (rows naming them are drawn again)."""
        now = self.clock()
        changed: set[tuple[str, str]] = set()
        answered = dict(found)
        for kind in {k for k, _ in found} & self.batch_kinds:
            for key in [k for k in self._pending if k[0] == kind]:
                answered.setdefault(key, None)
        for key, name in answered.items():
            self._pending.pop(key, None)
            old = self._entries.get(key)
            if old is None or old.name != name:
                changed.add(key)
            if name is None and old is not None and old.name is not None:
                name = old.name  # it was known: keep showing it (a look-up went wrong)
            self._entries[key] = Entry(name, now)
        self._trim()
        self.dirty = True
        return changed

    def note(self, kind: str, ident: str, name: str) -> bool:
        """A name that came free with a message (a bot's profile, a channel listing): kept
        like a looked-up one. Returns whether it changed."""
        if kind not in KINDS or not ident or not name:
            return False
        key = (kind, ident)
        old = self._entries.get(key)
        self._pending.pop(key, None)
        if old is not None and old.name == name and self._fresh(key, self.clock()):
            return False
        self._entries[key] = Entry(name, self.clock())
        self.dirty = True
        return old is None or old.name != name

    def failed(self, key: tuple[str, str], *, lasting: bool, retry_after: float | None) -> None:
        """A look-up failed. A rate limit pauses its kind for Retry-After; a passing fault
        is retried later, less and less often; a lasting one (no scope, no such method)
        stops that kind's look-ups for `missing_ttl`."""
        now = self.clock()
        kind = key[0]
        if retry_after:
            self._paused_until[kind] = now + retry_after
            return
        if lasting:
            self._paused_until[kind] = now + self.missing_ttl
            return
        p = self._pending.get(key)
        if p is not None:
            p.failures += 1
            p.not_before = now + min(MAX_RETRY, RETRY * 2.0 ** (p.failures - 1))

    def _trim(self) -> None:
        if len(self._entries) <= MAX_ENTRIES:
            return
        oldest = sorted(self._entries.items(), key=lambda kv: kv[1].at)
        for key, _entry in oldest[: len(self._entries) - MAX_ENTRIES]:
            del self._entries[key]

    # -- on disk ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The names (and channel ids) as JSON-ready data; clears `dirty`."""
        self.dirty = False
        names: dict[str, dict[str, list[Any]]] = {k: {} for k in KINDS}
        for (kind, ident), e in self._entries.items():
            names[kind][ident] = [e.name, round(e.at, 3)]
        return {"v": SCHEMA, "names": names, "channel_ids": dict(self.channel_ids)}

    def load(self, data: Mapping[str, Any]) -> int:
        """Take names saved by `to_dict` (anything not in that shape is skipped); returns
        how many were taken. Names already known are kept."""
        if data.get("v") != SCHEMA:
            return 0
        taken = 0
        names = data.get("names")
        if isinstance(names, Mapping):
            for kind in KINDS:
                group = names.get(kind)
                if not isinstance(group, Mapping):
                    continue
                for ident, value in group.items():
                    if (
                        isinstance(ident, str)
                        and isinstance(value, list)
                        and len(value) == 2
                        and (value[0] is None or isinstance(value[0], str))
                        and isinstance(value[1], int | float)
                        and not isinstance(value[1], bool)
                        and (kind, ident) not in self._entries
                    ):
                        name = None if value[0] is None else sanitize(value[0], single_line=True)
                        self._entries[(kind, ident)] = Entry(name, float(value[1]))
                        taken += 1
        ids = data.get("channel_ids")
        if isinstance(ids, Mapping):
            for name, cid in ids.items():
                if isinstance(name, str) and isinstance(cid, str) and name not in self.channel_ids:
                    self.channel_ids[name] = cid
        self._trim()
        return taken

"""What the store keeps in memory stays bounded however many incidents a shift touches."""

from __future__ import annotations

from pathlib import Path

from cockpit.store.storage import _MISSING
from cockpit.store.store import _SHARD_DATA, Store
from tests.unit.store._writer import make_entry, make_incident


def test_only_the_newest_incident_files_keep_their_parsed_content(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as store:
        ids = []
        for n in range(3 * _SHARD_DATA):
            incident_id = store.next_incident_id()
            store.create_incident(make_incident(incident_id, f"incident {n}"))
            ids.append(incident_id)
        for incident_id in ids:  # each one opened in turn, as a shift raises and reads them
            store.get_incident(incident_id)
            store.timeline(incident_id)
        held = [i for i, shard in store._shards.items() if shard._cache is not _MISSING]
        assert held == ids[-_SHARD_DATA:]
        assert len(store._shards) == len(ids)  # (their locks stay)
        first = ids[0]  # an older one, read and written again: from its file
        assert store.get_incident(first).title == "incident 0"
        store.add_entries(first, [make_entry(first, "a note on an old incident")])
        assert [e.text for e in store.timeline(first)][-1] == "a note on an old incident"
        held = [i for i, shard in store._shards.items() if shard._cache is not _MISSING]
        assert len(held) == _SHARD_DATA and held[-1] == first

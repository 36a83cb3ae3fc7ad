"""bench/generate.py makes the store it is asked for, the store opens and lists it, and the
same seed gives the same store."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from cockpit.domain.incident import Status
from cockpit.store.store import Store

GENERATOR = Path(__file__).resolve().parents[2] / "bench" / "generate.py"


def _load_generator():  # type: ignore[no-untyped-def]
    """bench/ is scripts, not a package: load generate.py by path (no sys.path change)."""
    spec = importlib.util.spec_from_file_location("bench_generate", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


generate = _load_generator()

TINY = generate.Params(incidents=10, entries=100, feed=50, seed=3)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> generate.Report:
    return generate.generate(tmp_path_factory.mktemp("bench") / "data", TINY)


def test_counts_are_the_ones_asked_for(tiny: generate.Report) -> None:
    assert (tiny.incidents, tiny.entries, tiny.feed) == (10, 100, 50)
    assert tiny.ticks > 0
    assert tiny.active_id == "10"


def test_the_store_opens_and_lists_them(tiny: generate.Report) -> None:
    with Store.open(tiny.path) as store:
        listed = store.list_incidents()
        assert sorted(int(s.id) for s in listed) == list(range(1, 11))
        assert listed[0].id == "10"  # newest report first: the active incident
        assert listed[0].status is Status.FIXING
        open_ids = {s.id for s in store.list_incidents(open_only=True)}
        assert "10" in open_ids
        assert len(open_ids) < 10  # most are resolved or canceled
        statuses = Counter(s.status for s in listed)
        assert statuses[Status.RESOLVED] + statuses[Status.CANCELED] > 0
        timelines = {s.id: store.timeline(s.id) for s in listed}
        assert sum(len(t) for t in timelines.values()) == 100
        assert all(e.incident_id == iid for iid, t in timelines.items() for e in t)
        ids = [e.id for t in timelines.values() for e in t]
        assert len(set(ids)) == len(ids)
        assert sum(len(store.ticks(s.id)) for s in listed) > 0
        active = store.get_incident("10")
        assert active.links.ticket is not None and active.commander


def test_the_feed_cache_is_the_apps_own(tiny: generate.Report) -> None:
    from cockpit.store.feedcache import FeedCache

    files = sorted((tiny.path / "feed").glob("*.jsonl"))
    assert len(files) > 1  # one per UTC day, as the app writes them
    lines = [line for f in files for line in f.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 50
    messages = generate.read_feed_cache(tiny.path)
    assert len({m.key for m in messages}) == 50
    assert [m.at for m in messages] == sorted(m.at for m in messages)
    assert any(m.is_alert for m in messages) and not all(m.is_alert for m in messages)
    # what the app shows at start: the newest, read by its own cache
    shown = FeedCache(tiny.path).recent(20)
    assert [m.key for m in shown] == [m.key for m in messages[-20:]]


def test_the_same_seed_gives_the_same_store(tiny: generate.Report, tmp_path: Path) -> None:
    again = generate.generate(tmp_path / "data", TINY)

    def content(root: Path) -> dict[str, bytes]:
        files = [root / "index.json", *sorted((root / "feed").glob("*.jsonl"))]
        files += sorted((root / "incidents").glob("*.json"))
        return {str(f.relative_to(root)): f.read_bytes() for f in files}

    assert content(again.path) == content(tiny.path)


def test_ensure_caches_by_parameters(tmp_path: Path) -> None:
    params = generate.Params(incidents=3, entries=30, feed=5, seed=1)
    first = generate.ensure(params, cache=tmp_path)
    second = generate.ensure(params, cache=tmp_path)
    assert not first.cached and second.cached
    assert second.path == first.path and (second.path / "index.json").exists()
    other = generate.ensure(
        generate.Params(incidents=4, entries=30, feed=5, seed=1), cache=tmp_path
    )
    assert other.path != first.path
    copy = generate.working_copy(second, tmp_path / "work")
    with Store.open(copy) as store:
        assert len(store.list_incidents()) == 3


def test_the_history_spans_the_days_asked_for(tmp_path: Path) -> None:
    params = generate.Params(incidents=12, entries=60, feed=0, seed=5, days=3650)
    report = generate.generate(tmp_path / "data", params)
    with Store.open(report.path) as store:
        listed = store.list_incidents()
        assert len(listed) == 12
        oldest = min(s.first_reported_at for s in listed)
        assert (generate.ANCHOR - oldest).days > 730  # ten years, not the default two
        assert store.next_incident_id() == "13"  # the id counter is past every incident
        for s in listed:  # the index (written once) agrees with each incident's file
            assert store.get_incident(s.id).title == s.title

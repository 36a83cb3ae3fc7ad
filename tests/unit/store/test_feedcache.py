import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.domain.feed import FeedMessage
from cockpit.store.feedcache import FeedCache

T0 = datetime(2026, 11, 27, 23, 58, tzinfo=UTC)


def msg(n: int, minutes: int = 0, channel: str = "alerts") -> FeedMessage:
    at = T0 + timedelta(minutes=minutes)
    return FeedMessage(
        channel=channel,
        ts=f"{1_800_000_000 + n}.000100",
        at=at,
        author="Datadog",
        text=f"alert {n}\x1b[31m",
        is_alert=True,
    )


def test_round_trip_across_days_newest_last(tmp_path: Path):
    cache = FeedCache(tmp_path)
    assert cache.append([msg(1, 0), msg(2, 1), msg(3, 3)]) == 3  # 23:58, 23:59, 00:01
    files = sorted(p.name for p in (tmp_path / "feed").iterdir())
    assert files == ["2026-11-27.jsonl", "2026-11-28.jsonl"]
    got = cache.recent(10)
    assert [m.text for m in got] == ["alert 1", "alert 2", "alert 3"]  # sanitized on the way
    assert got[0].is_alert and got[0].at == T0
    assert cache.recent(2)[0].text == "alert 2"


def test_duplicates_and_a_line_cut_short_are_skipped(tmp_path: Path):
    cache = FeedCache(tmp_path)
    cache.append([msg(1), msg(2)])
    cache.append([msg(2)])  # seen again after a restart
    path = tmp_path / "feed" / "2026-11-27.jsonl"
    with path.open("a") as f:
        f.write('{"v":1,"channel":"alerts","ts":"18')  # a crash mid-write
    assert [m.text for m in cache.recent(10)] == ["alert 1", "alert 2"]


def test_files_are_private_and_old_days_are_pruned(tmp_path: Path):
    cache = FeedCache(tmp_path, keep_days=2)
    cache.append([msg(1, minutes=-60 * 24 * 5), msg(2)])
    path = tmp_path / "feed" / "2026-11-27.jsonl"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "feed").st_mode) == 0o700
    assert cache.prune(now=T0) == 1
    assert [m.text for m in cache.recent(10)] == ["alert 2"]


def test_empty_cache(tmp_path: Path):
    assert FeedCache(tmp_path).recent() == []


def test_append_soon_returns_at_once_and_writes_in_order_on_its_thread(tmp_path: Path):
    import threading

    cache = FeedCache(tmp_path)
    release = threading.Event()
    writers: list[str] = []
    real_append = cache.append

    def slow_append(messages):  # type: ignore[no-untyped-def]
        writers.append(threading.current_thread().name)
        release.wait(5)  # a disk slow to fsync
        return real_append(messages)

    cache.append = slow_append  # type: ignore[method-assign]
    cache.append_soon([msg(1)])
    cache.append_soon([msg(2), msg(3)])  # queued while the first is being written
    cache.append_soon([msg(4)])
    assert cache.recent(10) == []  # nothing waited for the disk
    assert not cache.flush(timeout=0.05)
    release.set()
    assert cache.flush(timeout=5)
    assert [m.text for m in cache.recent(10)] == ["alert 1", "alert 2", "alert 3", "alert 4"]
    assert writers and threading.current_thread().name not in writers
    assert len(writers) <= 2  # what was queued meanwhile went in one write


def test_append_soon_reports_a_failed_write(tmp_path: Path):
    (tmp_path / "feed").write_text("not a directory")
    cache = FeedCache(tmp_path)
    errors: list[OSError] = []
    cache.append_soon([msg(1)], errors.append)
    assert cache.flush(timeout=5)
    assert len(errors) == 1 and isinstance(errors[0], OSError)
    cache.append_soon([msg(2)], errors.append)  # the writer goes on
    assert cache.flush(timeout=5)
    assert len(errors) == 2

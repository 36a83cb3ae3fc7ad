"""The real app, on a real store in a temp dir, with a frozen clock and fixed settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cockpit.application.build import build_services
from cockpit.config import Settings, load_settings
from cockpit.domain.clock import Clock, FrozenClock
from cockpit.domain.feed import FeedMessage
from cockpit.domain.slo import SupportCalendar
from cockpit.domain.templates import TemplateLibrary
from cockpit.ui.app import CockpitApp

# Friday 27 November 2026, 14:20 in London: full support hours.
NOW = datetime(2026, 11, 27, 14, 20, tzinfo=UTC)
SIZE = (150, 44)


def make_settings(**overrides: object) -> Settings:
    base = load_settings(None, {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "Europe/London"})
    return msgspec.structs.replace(base, **overrides)


class Harness:
    """The services from the one builder, on a temp data dir: a frozen clock and no
    remote side by default; `clock`, `token` and `client_options` for the remote tests."""

    def __init__(
        self,
        tmp: Path,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
        token: Callable[[str], str | None] | None = None,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        self.dir = tmp
        self.clock = clock or FrozenClock(NOW)
        self.settings = settings or make_settings()
        sup = self.settings.support
        self.calendar = SupportCalendar.from_settings(
            timezone=sup.timezone, work_days=list(sup.work_days), holidays=[]
        )
        self.services = build_services(
            self.settings,
            tmp / "data",
            clock=self.clock,
            templates=TemplateLibrary(None),
            calendar=self.calendar,
            token=token,
            client_options=client_options,
        )
        self.store = self.services.store
        self.service = self.services.service
        self.prefs = self.services.prefs

    def app(self, incident_id: str | None = None, *, drill: bool = False) -> CockpitApp:
        self.services.drill = drill
        return CockpitApp(self.services, incident_id=incident_id)

    def raise_incident(
        self,
        title: str = "Checkout payments failing for EU buyers",
        minutes_ago: int = 12,
        **kw: object,
    ) -> str:
        inc = self.service.raise_incident(
            title, reported_at=NOW - timedelta(minutes=minutes_ago), **kw
        )  # type: ignore[arg-type]
        return inc.id


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.store.close()


def feed_message(
    text: str,
    *,
    channel: str = "incidents",
    minutes_ago: int = 5,
    author: str = "sam",
    ts: str | None = None,
    thread_ts: str | None = None,
    is_alert: bool = False,
    reply_count: int = 0,
) -> FeedMessage:
    at = NOW - timedelta(minutes=minutes_ago)
    ts = ts or f"{at.timestamp():.6f}"
    return FeedMessage(
        channel=channel,
        ts=ts,
        at=at,
        author=author,
        text=text,
        thread_ts=thread_ts,
        is_alert=is_alert,
        reply_count=reply_count,
        permalink=f"https://example.slack.com/archives/C1/p{ts.replace('.', '')}",
    )


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Until the app is quiet: its workers and store calls finished (a store call's
    callback may start more), their callbacks run, and the screen updated."""
    app = pilot.app
    for _ in range(3):
        await app.workers.wait_for_complete()
        await app.store_settled()
        await pilot.pause()

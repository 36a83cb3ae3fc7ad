"""The one place that builds cockpit's services from the settings.

The app (`cockpit`), the CLI's sub-commands, `cockpit demo`, the benchmarks and the
tests all call `build_services`; what differs between them is an argument (the clock, the
tokens, a drill, the client options of a test), never a copy of the wiring.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from cockpit.application.actions import IncidentActions
from cockpit.application.service import DraftOptions, IncidentService
from cockpit.config import Settings
from cockpit.domain.clock import Clock, SystemClock
from cockpit.domain.slo import SupportCalendar
from cockpit.store.store import Store

if TYPE_CHECKING:
    from cockpit.application.runtime import Remote
    from cockpit.domain.incident import Incident
    from cockpit.domain.templates import TemplateLibrary
    from cockpit.prefs import Prefs
    from cockpit.store.feedcache import FeedCache

Token = Callable[[str], "str | None"]


class Services(msgspec.Struct):
    """Everything a front end (the app, the CLI) needs, built together."""

    settings: Settings
    store: Store
    service: IncidentService
    actions: IncidentActions
    clock: Clock
    calendar: SupportCalendar
    data_dir: Path
    token: Token
    drill: bool = False
    client_options: dict[str, Any] = msgspec.field(default_factory=dict)
    _remote: Remote | None = None
    _prefs: Prefs | None = None
    _feed_cache: FeedCache | None = None

    @property
    def prefs(self) -> Prefs:
        """The UI's small preferences (theme, last incident), beside the data."""
        if self._prefs is None:
            from cockpit.prefs import Prefs

            self._prefs = Prefs(self.data_dir / "ui-state.json")
        return self._prefs

    @property
    def feed_cache(self) -> FeedCache:
        if self._feed_cache is None:
            from cockpit.store.feedcache import FeedCache

            self._feed_cache = FeedCache(self.data_dir)
        return self._feed_cache

    @property
    def remote(self) -> Remote | None:
        """The remote side (outbox sender, feed poller, Socket Mode) when any system is
        configured and the actions are not local-only; built on first use."""
        if self._remote is None and self.settings.configured and self.actions.planner:
            from cockpit.application.runtime import Remote
            from cockpit.store.namecache import NameCache

            self._remote = Remote(
                self.settings,
                self.store,
                self.clock,
                user=self.settings.user,
                token=self.token,
                render=self.render,
                feed_cache=self.feed_cache,
                name_cache=NameCache(self.data_dir),
                **self.client_options,
            )
            self._remote.actions = self.actions
            self._remote.team = self.actions.team
        return self._remote

    @remote.setter
    def remote(self, value: Remote | None) -> None:
        self._remote = value
        if value is not None:
            value.actions = self.actions
            value.team = self.actions.team

    @property
    def built_remote(self) -> Remote | None:
        """The remote side if it has been built (never builds it: asking must not import
        the clients, e.g. while the first frame is drawn or while quitting)."""
        return self._remote

    def stop_remote(self) -> None:
        if self._remote is not None:
            self._remote.stop()

    def render(self, incident: Incident, template: str) -> str:
        """A message template for an incident as it is now (the outbox's texts)."""
        svc = self.service
        context = svc.draft_context(incident, self.store.timeline(incident.id))
        return svc.templates.render(template, context)

    def is_waking(self) -> bool:
        """Whether alerts should be shown at full strength now (waking hours, or a
        supported window)."""
        now = self.clock.now()
        if self.calendar.window_at(now).value != "limited support":
            return True
        from cockpit.domain.feed import in_waking_hours

        return in_waking_hours(now, self.settings.tz)

    def close(self) -> None:
        self.stop_remote()
        self.store.close()


def build_services(
    settings: Settings,
    data_dir: Path,
    *,
    clock: Clock | None = None,
    token: Token | None = None,
    drill: bool = False,
    local: bool = False,
    reconcile: bool = True,
    templates: TemplateLibrary | None = None,
    components: tuple[str, ...] = (),
    calendar: SupportCalendar | None = None,
    client_options: dict[str, Any] | None = None,
) -> Services:
    """Open the store in `data_dir` and build the services on it.

    token: how a system's secret is read (`Secrets.get`, the drill's throwaway tokens);
        none means no remote side can start. local: actions change only the local store.
    reconcile: run the store's crash sweep now (the app defers it past its first frame).
    """
    from cockpit.domain.playbook import default_playbook, load_playbook

    clock = clock or SystemClock()
    playbook = (
        load_playbook(settings.playbook_path) if settings.playbook_path else default_playbook()
    )
    store = Store.open(data_dir, reconcile=reconcile)
    service = IncidentService(
        store,
        clock=clock,
        tz=settings.tz,
        user=settings.user,
        playbook=playbook,
        configured=settings.configured,
        drill=drill,
        templates=templates,
        templates_dir=settings.templates_dir,
        draft_options=DraftOptions(
            guide_url=settings.guide_url,
            product_channel=settings.product_channel,
            update_every=settings.update_every(),
            components=components,
        ),
    )
    calendar = calendar or settings.support.calendar()
    actions = IncidentActions(
        service, calendar=calendar, escalation=dict(settings.escalation), remote=not local
    )
    if not local and settings.configured & {"slack", "jira"}:
        # the team's changes travel through the incidents' channels (application/team.py);
        # with Jira alone nothing is shared, and a change made in Jira that cannot apply
        # here is still kept as a conflict to settle
        from cockpit.application.team import TeamSync, cockpit_id

        enabled = "slack" in settings.configured
        actions.team = TeamSync(service, cockpit_id(data_dir), enabled=enabled)
    return Services(
        settings=settings,
        store=store,
        service=service,
        actions=actions,
        clock=clock,
        calendar=calendar,
        data_dir=data_dir,
        token=token or (lambda _name: None),
        drill=drill,
        client_options=dict(client_options or {}),
    )

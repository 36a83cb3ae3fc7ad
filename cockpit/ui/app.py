"""The Textual app: wiring only (themes, keymap, first screen, the remote side's reports).

What screens and widgets may ask of the app lives in `ui/host.py`; the playbook's rules
live in the application layer (`cockpit.application`).
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import work

from cockpit.ui.host import CockpitHost
from cockpit.ui.messages import FeedArrived, FeedModeChanged, IncidentChanged, RemoteStatusChanged
from cockpit.ui.themes import choose_theme, load_themes, theme_defaults

if TYPE_CHECKING:
    from textual.screen import Screen

    from cockpit.application.build import Services

log = logging.getLogger("cockpit.ui")

# how new messages reach the feed (Remote.feed_state().mode), as the feed's border says it
FEED_MODE_LABELS = {
    "connected": "● live",
    "connecting": "connecting…",
    "reconnecting": "reconnecting: polling meanwhile",
    "polling": "polling",
}
FEED_EMPTY = "Slack is not configured, so the feed is empty. `cockpit demo` shows a live one."


def _palette_commands() -> Any:
    """The palette's provider of cockpit's commands, loaded when the palette first opens."""
    from cockpit.ui.palette import CockpitCommands

    return CockpitCommands


class CockpitApp(CockpitHost):
    CSS_PATH = "cockpit.tcss"
    TITLE = "cockpit"
    COMMANDS = CockpitHost.COMMANDS | {_palette_commands}
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        services: Services,
        *,
        incident_id: str | None = None,
        feed_empty_text: str = FEED_EMPTY,
    ) -> None:
        super().__init__()
        self.services = services
        self.feed_empty_text = feed_empty_text
        self.initial_incident_id = incident_id or services.prefs.get("incident")
        # The first incident is read on the store's thread while the rest starts up, so
        # the first frame can show it (CockpitScreen.on_mount takes it).
        self._first_load = self._writer.submit(
            services.service.active_view, self.initial_incident_id
        )
        self._exit_requested = False
        self._feed_pending: list[Any] = []
        self._feed_flush: Any = None
        for theme in load_themes():
            self.register_theme(theme)
        self._first_theme()
        if services.settings.keys:
            self.set_keymap(dict(services.settings.keys))

    def _first_theme(self) -> None:
        """Start in the theme `[ui] theme` or the choice saved in the UI state names
        (`choose_theme`); a saved choice that cannot be used is said, and repaired.

        Setting `theme` re-parses and re-applies every style, which is wasted work before
        anything is styled: set the value and what Textual's theme watcher sets (the
        theme's classes and the colour filter) instead."""
        prefs, configured = self.services.prefs, self.services.settings.theme
        choice = choose_theme(
            prefs.get("theme"), prefs.get("theme-config"), configured, self.available_themes
        )
        name = choice.name
        if choice.warning:
            log.warning("ui state %s: %s", prefs.path, choice.warning)
            self.notify(choice.warning, title="UI state", severity="warning", markup=False)
        if choice.repair:
            self._writer.submit(self._remember_theme, name)
        self.set_reactive(CockpitApp.theme, name)
        dark = self.current_theme.dark
        self.set_class(dark, "-dark-mode", update=False)
        self.set_class(not dark, "-light-mode", update=False)
        self.set_class(True, f"-theme-{name}", update=False)
        self._refresh_truecolor_filter(self.ansi_theme)
        self.stylesheet.set_variables(self.get_css_variables())  # nothing parsed yet

    def get_default_screen(self) -> Screen[Any]:
        from cockpit.ui.screens.main import CockpitScreen

        return CockpitScreen()

    def get_css_variables(self) -> dict[str, str]:
        """Textual's variables for the theme, and cockpit's own (`$drill`, `$sev-critical`
        …) for every theme: a theme that does not name them (Textual's nord, gruvbox …)
        gets them from its own colours, so no theme can leave cockpit.tcss undefined."""
        variables = super().get_css_variables()
        combined = {**theme_defaults(variables, dark=self.current_theme.dark), **variables}
        self.theme_variables = combined
        return combined

    def watch_theme(self, theme: str) -> None:
        if self.is_running:
            self.store_call("remember theme", lambda: self._remember_theme(theme))

    def _remember_theme(self, theme: str) -> None:
        """Keep the choice, and the config's theme it was made under (`choose_theme`)."""
        prefs = self.services.prefs
        prefs.set("theme", theme)
        prefs.set("theme-config", self.services.settings.theme)

    # -- ending --------------------------------------------------------------------------------
    def _handle_exception(self, error: Exception) -> None:
        """Every unhandled exception ends in `_fatal_error`, also one that renders itself
        (Textual would print its own rendering, unredacted)."""
        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        self._fatal_error()

    def _fatal_error(self) -> None:
        """A crash: the traceback as plain text, without the frames' local variables (a
        token can sit in one), control sequences stripped, then every known token and
        anything token-shaped removed (`cockpit.redact`) before anything styles or prints
        it; kept in the log too, and the note says where that log is (or that there is
        none). The app's return code is 1 (Textual sets it), so `cockpit` exits 1."""
        import traceback as tb

        from rich.style import Style
        from rich.text import Text

        from cockpit.domain.sanitize import sanitize
        from cockpit.logs import crash_note
        from cockpit.redact import redact

        error = self._exception
        detail = "".join(tb.format_exception(error)) if error is not None else tb.format_exc()
        report = redact(sanitize(detail)).rstrip("\n")
        log.critical("cockpit crashed:\n%s", report)
        self.bell()
        # printed on the plain terminal after the app has gone: no theme, so no part
        text = Text(report + "\n\n")
        text.append(crash_note() + "\n", style=Style(bold=True))
        self._exit_renderables.append(text)
        self._close_messages_no_wait()

    def exit(self, *args: Any, **kwargs: Any) -> None:
        """However the app ends (quit, a crash), the remote side stops with it."""
        self._exit_requested = True
        self.services.stop_remote()
        super().exit(*args, **kwargs)

    async def action_quit(self) -> None:
        self.services.stop_remote()
        self._writer.shutdown(wait=True)
        self.exit()

    @staticmethod
    def _settle_gc() -> None:
        """Start-up ran with the collector paused (cli.main): freeze what start-up made,
        then collect, with a young generation of 10,000 objects rather than 700: an alert
        storm allocates a few hundred thousand, and at 700 the collector's frequent passes
        ended in full ones over the feed's thousands of messages (20-40 ms stalls)."""
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)
        gc.enable()

    # -- after the first frame: the store's sweep, the feed cache, the remote side ---------------
    def on_mount(self) -> None:
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        """What need not hold up the first frame (the active incident is on screen by
        now), queued on the store's thread in this order: the store's sweep after a crash
        (before any write), the feed as it was (shown before the first poll answers) and
        the feed cache's pruning; then the remote side starts."""
        # What exists after start-up lives for the app's life: keep it out of the garbage
        # collector's full passes, which otherwise stall the loop during an alert storm.
        self._settle_gc()
        services = self.services
        self.store_call("check the store", services.store.reconcile)
        cache = services.feed_cache
        self.store_call("read the feed cache", lambda: cache.recent(1000), self._feed_arrived)
        now = services.clock.now()
        self.store_call("prune the feed cache", lambda: cache.prune(now=now))
        from cockpit.memory import TRIM_EVERY, limit_heaps

        limit_heaps()  # before the remote side's threads start (cockpit/memory.py)
        self.set_interval(TRIM_EVERY, self._trim_memory, name="trim memory")
        remote = services.remote  # built now, not while the first frame was drawn
        if remote is not None:
            from cockpit.ui.screens.main import CockpitScreen

            for screen in self.screen_stack:  # the incident shown: its channel and thread
                if isinstance(screen, CockpitScreen) and screen.record is not None:
                    remote.changed(screen.record.incident)
            self._run_remote()
            self.set_interval(1.0, self._show_feed_state)

    def _to_screen(self, message: Any) -> None:
        """A report of the remote side, to the cockpit screen (a dialog may be on top)."""
        from cockpit.ui.screens.main import CockpitScreen

        for screen in self.screen_stack:
            if isinstance(screen, CockpitScreen):
                screen.post_message(message)

    def _show_feed_state(self) -> None:
        remote = self.services.remote
        if remote is not None:
            state = remote.feed_state()
            label = FEED_MODE_LABELS.get(state.mode, "")
            if label and state.delay is not None:  # polling: how late a new report may be
                label += f" · new within {state.delay:.0f} s"
            self._to_screen(FeedModeChanged(label, state.detail))

    @work(thread=True, group="memory", exclusive=True, exit_on_error=False, name="trim memory")
    def _trim_memory(self) -> None:
        """The C heaps' free pages back to the system, off the UI thread (cockpit/memory.py:
        over a shift, the churn of the feed and the store leaves them scattered)."""
        from cockpit.memory import trim

        trim()

    @work(thread=True, group="remote", exit_on_error=False, name="remote")
    def _run_remote(self) -> None:
        remote = self.services.remote
        assert remote is not None

        def to_ui(fn: Callable[..., Any]) -> Callable[..., None]:
            def call(*args: Any) -> None:
                if self.is_running:  # after quitting, the last results have nowhere to go
                    with contextlib.suppress(RuntimeError):
                        self.call_from_thread(fn, *args)

            return call

        remote.run_forever(
            deliver=to_ui(self._feed_arrived),
            on_change=to_ui(lambda iid: self._to_screen(IncidentChanged(iid))),
            on_status=to_ui(lambda text: self._to_screen(RemoteStatusChanged(text))),
            quiet_alerts=lambda: not self.services.is_waking(),
            alive=lambda: self.is_running and not self._exit_requested,
        )

    def _feed_arrived(self, messages: list[Any]) -> None:
        """Messages from the poller: gathered and handed to the feed at most every 50 ms,
        so a storm of pages costs one layout per frame, not one per page."""
        self._feed_pending.extend(messages)
        if self._feed_flush is None:
            self._feed_flush = self.set_timer(0.05, self._flush_feed)

    def _flush_feed(self) -> None:
        self._feed_flush = None
        batch, self._feed_pending = self._feed_pending, []
        if batch:
            self._to_screen(FeedArrived(batch))

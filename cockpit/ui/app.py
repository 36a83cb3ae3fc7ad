"""The Textual app: wiring only (themes, keymap, first screen, the store runner)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, ComposeResult
from textual.worker import Worker, WorkerState

from cockpit.config import Settings
from cockpit.domain.clock import Clock
from cockpit.domain.errors import CockpitError
from cockpit.domain.slo import SupportCalendar
from cockpit.prefs import Prefs
from cockpit.service import IncidentRecord, IncidentService
from cockpit.ui.commands import COMMANDS
from cockpit.ui.themes import DEFAULT_THEME, load_themes

if TYPE_CHECKING:  # the remote side (httpx and the clients) loads only when configured
    from cockpit.integrations.runtime import Remote
    from cockpit.store.feedcache import FeedCache

log = logging.getLogger("cockpit.ui")


# how new messages reach the feed (Remote.feed_state().mode), as the feed's border says it
FEED_MODE_LABELS = {
    "connected": "● live",
    "connecting": "connecting…",
    "reconnecting": "reconnecting: polling meanwhile",
    "polling": "polling",
}


def _palette_commands() -> Any:
    """The palette's provider of cockpit's commands, loaded when the palette first opens."""
    from cockpit.ui.palette import CockpitCommands

    return CockpitCommands


@dataclass
class AppServices:
    """Everything the app needs, built by the CLI (or by tests, with fakes)."""

    service: IncidentService
    settings: Settings
    clock: Clock
    calendar: SupportCalendar
    prefs: Prefs | None = None
    drill: bool = False
    feed_empty_text: str = (
        "Slack is not configured, so the feed is empty. `cockpit demo` shows a live one."
    )
    extras: dict[str, Any] = field(default_factory=dict)
    remote: Remote | None = None
    feed_cache: FeedCache | None = None

    def is_waking(self) -> bool:
        now = self.clock.now()
        window = self.calendar.window_at(now)
        if window.value != "limited support":
            return True
        from cockpit.domain.feed import in_waking_hours

        return in_waking_hours(now, self.settings.tz)


class CockpitApp(App[None]):
    CSS_PATH = "cockpit.tcss"
    TITLE = "cockpit"
    COMMANDS = App.COMMANDS | {_palette_commands}
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, services: AppServices, *, incident_id: str | None = None) -> None:
        super().__init__()
        self.services = services
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cockpit-store")
        self._store_inflight = 0
        self._store_quiet = asyncio.Event()
        self.initial_incident_id = incident_id or (
            services.prefs.get("incident") if services.prefs else None
        )
        # The first incident is read on the store's thread while the rest starts up, so
        # the first frame can show it (CockpitScreen.on_mount takes it).
        self._first_load: Future[Any] | None = self._writer.submit(
            services.service.active_view, self.initial_incident_id
        )
        self.acknowledge_on_raise = "jira" not in services.settings.configured
        self._reload_timer: Any = None
        self._exit_requested = False
        self._feed_pending: list[Any] = []
        self._feed_flush: Any = None
        for theme in load_themes():
            self.register_theme(theme)
        wanted = (
            services.prefs.get("theme") if services.prefs else None
        ) or services.settings.theme
        self._first_theme(wanted if wanted in self.available_themes else DEFAULT_THEME)
        if services.settings.keys:
            self.set_keymap(dict(services.settings.keys))

    def _first_theme(self, name: str) -> None:
        """Start in `name`. Setting `theme` re-parses and re-applies every style, which is
        wasted work before anything is styled: set the value and what Textual's theme
        watcher sets (the theme's classes and the colour filter) instead."""
        self.set_reactive(CockpitApp.theme, name)
        dark = self.current_theme.dark
        self.set_class(dark, "-dark-mode", update=False)
        self.set_class(not dark, "-light-mode", update=False)
        self.set_class(True, f"-theme-{name}", update=False)
        self._refresh_truecolor_filter(self.ansi_theme)
        self.stylesheet.set_variables(self.get_css_variables())  # nothing parsed yet

    def take_first_load(self) -> Future[Any] | None:
        """The first incident read at start (once; later loads go through store_call)."""
        first, self._first_load = self._first_load, None
        return first

    def get_default_screen(self) -> Any:
        from cockpit.ui.screens.main import CockpitScreen

        return CockpitScreen()

    # -- the store runner: every store call runs on one writer thread, in order -------------
    def store_call(
        self,
        label: str,
        fn: Callable[[], Any],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[], None] | None = None,
    ) -> None:
        """Run `fn` on the store's writer thread (in order with every other store call),
        then `done(result)` here; on a refusal, say why and call `failed()`.

        Plain futures rather than Textual workers: a tick waits on this path, and a
        worker's bookkeeping (its task, its state messages) cost more than the hop."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # the app's: notify() works in the callback
        self._store_inflight += 1
        self._store_quiet.clear()

        def finished(future: Future[Any]) -> None:  # on the writer thread
            with contextlib.suppress(RuntimeError):  # the loop has closed: the app is gone
                loop.call_soon_threadsafe(
                    self._store_finished, label, future, done, failed, context=context
                )

        self._writer.submit(fn).add_done_callback(finished)

    def _store_finished(
        self,
        label: str,
        future: Future[Any],
        done: Callable[[Any], None] | None,
        failed: Callable[[], None] | None,
    ) -> None:
        try:
            error = future.exception()
            if error is not None:
                if failed is not None:
                    failed()
                if isinstance(error, CockpitError):
                    self.notify(
                        str(error),
                        title=f"Could not {label}",
                        severity="error",
                        markup=False,
                        timeout=8,
                    )
                else:
                    self._something_went_wrong(f"store call {label!r}", error)
            elif done is not None:
                done(future.result())
        except Exception as e:  # a bug in a done callback: said, not fatal
            self._something_went_wrong(f"after store call {label!r}", e)
        finally:
            self._store_inflight -= 1
            if not self._store_inflight:
                self._store_quiet.set()

    async def store_settled(self) -> None:
        """Wait until every store call made so far has finished and its callback ran."""
        while self._store_inflight:
            await self._store_quiet.wait()
        await asyncio.sleep(0)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one handler for worker errors: log it, say it, never a traceback on screen."""
        if event.state is WorkerState.ERROR:
            assert event.worker.error is not None
            self._something_went_wrong(f"worker {event.worker.name}", event.worker.error)

    def _something_went_wrong(self, what: str, error: BaseException) -> None:
        log.error("%s failed", what, exc_info=error)
        self.notify(
            f"{type(error).__name__}: {error}",
            title="Something went wrong",
            severity="error",
            markup=False,
            timeout=10,
        )

    def _fatal_error(self) -> None:
        """A crash: say what went wrong without the frames' local variables (a token can
        sit in one), with anything token-shaped removed, and keep it in the log."""
        import traceback as tb

        from rich.text import Text
        from rich.traceback import Traceback

        from cockpit.integrations.errors import redact

        error = self._exception
        known = list(self.services.extras.get("secrets", ()))
        detail = "".join(tb.format_exception(error)) if error is not None else ""
        log.critical("cockpit crashed:\n%s", redact(detail, known))
        self.bell()
        if error is not None:
            trace = Traceback.from_exception(
                type(error), error, error.__traceback__, show_locals=False, width=None
            )
        else:
            trace = Traceback(show_locals=False, width=None)
        with self.console.capture() as capture:
            self.console.print(trace)
        rendered = redact(capture.get(), known)
        self._exit_renderables.append(
            Text(
                rendered + "\ncockpit crashed. What you saved is "
                "on disk; the log has the details.\n"
            )
        )
        self._close_messages_no_wait()

    def exit(self, *args: Any, **kwargs: Any) -> None:
        """However the app ends (quit, a crash), the remote side stops with it."""
        self._exit_requested = True
        if self.services.remote is not None:
            self.services.remote.stop()
        super().exit(*args, **kwargs)

    async def action_quit(self) -> None:
        if self.services.remote is not None:
            self.services.remote.stop()
        self._writer.shutdown(wait=True)
        self.exit()

    # -- preferences -------------------------------------------------------------------------
    def watch_theme(self, theme: str) -> None:
        prefs = self.services.prefs
        if prefs is not None and self.is_running:
            self.store_call("remember theme", lambda: prefs.set("theme", theme))

    def remember_incident(self, incident_id: str | None) -> None:
        prefs = self.services.prefs
        if prefs is not None and prefs.get("incident") != incident_id:
            self.store_call("remember incident", lambda: prefs.set("incident", incident_id))

    def cycle_theme(self) -> None:
        ours = sorted(n for n in self.available_themes if n.startswith("cockpit-"))
        i = ours.index(self.theme) if self.theme in ours else -1
        self.theme = ours[(i + 1) % len(ours)]
        self.notify(f"Theme: {self.theme}", markup=False, timeout=2)

    def live_keys(self) -> dict[str, str]:
        """binding id → key as displayed, after remapping, from the live bindings."""
        keys: dict[str, str] = {}
        nodes: Iterable[Any] = [self, self.screen, *self.screen.query("*")]
        for node in nodes:
            live = node._bindings.copy()
            if self._keymap:
                live.apply_keymap(self._keymap)
            for bindings in live.key_to_bindings.values():
                for b in bindings:
                    if b.id and b.id not in keys:
                        keys[b.id] = self.get_key_display(b)
        for cmd in COMMANDS:
            keys.setdefault(cmd.id, cmd.key)
        return keys

    def reload_incident(self) -> None:
        from cockpit.ui.screens.main import CockpitScreen

        for screen in self.screen_stack:
            if isinstance(screen, CockpitScreen):
                screen.reload()

    # -- clipboard -------------------------------------------------------------------------
    def copy_text(self, text: str) -> None:
        """OSC 52 through the terminal and the local clipboard where there is one; the
        toast says which worked (or why none did) and shows what was copied."""
        from cockpit.clipboard import copy_text

        def osc52(t: str) -> None:
            self.call_from_thread(self.copy_to_clipboard, t)

        def done(result: Any) -> None:
            preview = text.strip().splitlines()[0][:60] if text.strip() else ""
            self.notify(
                f"{result.summary()}\n“{preview}”",
                title="Copy",
                severity="information" if result.ok else "warning",
                markup=False,
                timeout=6,
            )

        self._copy_worker(lambda: copy_text(text, osc52_writer=osc52), done)

    @work(group="clipboard", exit_on_error=False, thread=True)
    def _copy_worker(self, fn: Callable[[], Any], done: Callable[[Any], None]) -> None:
        result = fn()
        self.call_from_thread(done, result)

    # -- drafts pane (filled in by the messages feature) -------------------------------------
    def compose_drafts_pane(self) -> ComposeResult:
        from cockpit.ui.widgets.drafts import DraftsPane

        pane = DraftsPane(id="drafts")
        pane.border_title = "4 Drafts"
        yield pane

    def show_drafts(self, record: IncidentRecord | None) -> None:
        from cockpit.ui.widgets.drafts import DraftsPane

        screen = self._cockpit()  # a dialog may be on top of it
        if screen is not None:
            screen.query_one(DraftsPane).show(record)

    @staticmethod
    def _settle_gc() -> None:
        """Start-up ran with the collector paused (cli.main): freeze what start-up made,
        then collect, with a young generation of 10,000 objects rather than 700: an alert
        storm allocates a few hundred thousand, and at 700 the collector's frequent passes
        ended in full ones over the feed's thousands of messages (20-40 ms stalls)."""
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)
        gc.enable()

    # -- the remote side: outbox sender and feed poller -------------------------------------
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
        store = self.services.service.store
        self.store_call("check the store", store.reconcile)
        cache = self.services.feed_cache
        if cache is not None:
            self.store_call("read the feed cache", lambda: cache.recent(1000), self._feed_arrived)
            now = self.services.clock.now()
            self.store_call("prune the feed cache", lambda: cache.prune(now=now))
        if self.services.remote is not None:
            self._run_remote()
            self.set_interval(1.0, self._show_feed_state)

    def _show_feed_state(self) -> None:
        """How new messages reach the feed (pushed, or polled), in the feed's border."""
        from cockpit.ui.widgets.feed import FeedView

        remote, screen = self.services.remote, self._cockpit()
        if remote is None or screen is None:
            return
        state = remote.feed_state()
        label = FEED_MODE_LABELS.get(state.mode, "")
        feed = screen.query_one(FeedView)
        feed.mode = label
        feed.tooltip = state.detail or None

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
            on_change=to_ui(self._remote_changed),
            on_status=to_ui(self._remote_status),
            quiet_alerts=lambda: not self.services.is_waking(),
            alive=lambda: self.is_running and not self._exit_requested,
        )

    def _cockpit(self) -> Any:
        from cockpit.ui.screens.main import CockpitScreen

        return next((s for s in self.screen_stack if isinstance(s, CockpitScreen)), None)

    def _feed_arrived(self, messages: list[Any]) -> None:
        """Messages from the poller: gathered and handed to the feed at most every 50 ms,
        so a storm of pages costs one layout per frame, not one per page."""
        self._feed_pending.extend(messages)
        if self._feed_flush is None:
            self._feed_flush = self.set_timer(0.05, self._flush_feed)

    def _flush_feed(self) -> None:
        from cockpit.ui.widgets.feed import FeedView

        self._feed_flush = None
        batch, self._feed_pending = self._feed_pending, []
        screen = self._cockpit()
        if screen is not None and batch:
            screen.query_one(FeedView).add_messages(batch)

    def _remote_changed(self, incident_id: str) -> None:
        screen = self._cockpit()
        if screen is not None and screen.active_id == incident_id:
            if self._reload_timer is not None:
                self._reload_timer.stop()
            self._reload_timer = self.set_timer(0.15, screen.reload)

    def _remote_status(self, text: str) -> None:
        from cockpit.ui.widgets.feed import FeedView

        screen = self._cockpit()
        if screen is not None:
            screen.query_one(FeedView).remote_status = text

    def incident_loaded(self, record: IncidentRecord | None) -> None:
        if record is not None and self.services.remote is not None:
            self.services.remote.changed(record.incident)

    def queue_remote(
        self, action: str, incident_id: str, *, item_id: str = "", local_note: str = ""
    ) -> None:
        """Queue the remote part of a playbook action; say plainly when there is none."""
        remote = self.services.remote
        svc = self.services.service
        if remote is None:
            if local_note:
                self.notify(local_note, markup=False, timeout=6)
            return

        def plan() -> list[Any]:
            incident = svc.get(incident_id)
            items = remote.planner.for_action(action, incident, svc.clock.now(), item_id=item_id)
            remote.enqueue(items)
            return items

        def done(items: list[Any]) -> None:
            if items:
                self.notify("Queued: " + "; ".join(i.title for i in items), markup=False, timeout=4)
                self.reload_incident()
            elif local_note:
                self.notify(local_note, markup=False, timeout=6)

        self.store_call("queue " + action, plan, done)

    def queue_items(self, label: str, plan: Callable[[], list[Any]]) -> None:
        remote = self.services.remote
        if remote is None:
            return

        def run() -> list[Any]:
            items = plan()
            remote.enqueue(items)
            return items

        def done(items: list[Any]) -> None:
            if items:
                self.notify("Queued: " + "; ".join(i.title for i in items), markup=False, timeout=4)
            self.reload_incident()

        self.store_call(label, run, done)

    # -- playbook actions --------------------------------------------------------------------
    def run_playbook_action(self, action: str, item: Any) -> None:
        """Run a checklist item's action: a modal, a draft, or the remote systems."""
        from cockpit.domain.incident import Status
        from cockpit.ui.widgets.drafts import DRAFT_FOR_ACTION, DraftsPane

        screen = self._cockpit()
        if screen is None:
            return
        modal = {
            "raise-incident": "raise_incident",
            "set-severity": "set_severity",
            "assign-roles": "assign_roles",
            "cancel-incident": "cancel_incident",
            "add-note": "add_note",
        }
        if action in modal:
            self.call_next(screen.run_action, modal[action])
            return
        rec = screen.record
        if rec is None:
            self.notify("No active incident.", severity="warning", markup=False)
            return
        iid = rec.incident.id
        status = {
            "mark-fixing": Status.FIXING,
            "mark-monitoring": Status.MONITORING,
            "mark-resolved": Status.RESOLVED,
        }.get(action)
        if status is not None:
            screen.set_status(iid, status, item_id=item.item.id)
            return
        template = DRAFT_FOR_ACTION.get(action)
        configured = self.services.settings.configured
        remote_ok = self.services.remote is not None
        if (
            action
            in (
                "create-ticket",
                "create-channel",
                "reply-in-thread",
                "post-kickoff",
                "final-update",
            )
            and remote_ok
        ):
            need = {"create-ticket": "jira", "final-update": "jira"}.get(action, "slack")
            if need in configured:
                self.queue_remote(action, iid, item_id=item.item.id)
                return
        if action == "post-mortem":
            screen._offer_postmortem(iid, asked=True)
            return
        if action == "handoff":
            self.call_next(screen.run_action, "handoff")
            return
        if action == "escalate" and self.services.settings.escalation:
            self._escalate(iid, item.item.id)
            return
        if action in ("create-follow-up", "link-bug") and "jira" in configured and remote_ok:
            self._ask_follow_up(action, iid, item.item.id)
            return
        if template is not None:
            screen.query_one(DraftsPane).new_draft(template)
            return
        why = {
            "create-ticket": "Jira is not configured: create the ticket by hand, link it, "
            "then tick this item (x).",
            "create-channel": "Slack is not configured: create the channel by hand and link "
            "it from the ticket (the playbook's fallback), then tick it.",
            "escalate": "No escalation directory is configured: find the point person for "
            "the system, invite them to the channel, then tick this item.",
        }.get(action, f"“{item.item.text}”: do it, then tick it with x.")
        self.notify(why, markup=False, timeout=8)

    def _escalate(self, iid: str, item_id: str) -> None:
        """Pick a system: its point people are invited to the channel and told why, and
        recorded on the timeline as subject-matter experts."""
        from textual.content import Content

        from cockpit.domain.timeline import EntryKind
        from cockpit.ui.screens.modals import ChoiceModal

        targets = self.services.settings.escalation
        svc = self.services.service
        remote = self.services.remote
        choices = []
        for key, t in targets.items():
            who = ", ".join(t.contacts) or ", ".join(t.slack_ids) or "no one listed"
            links = "  ".join(t.links)
            choices.append(
                (
                    key,
                    Content.assemble(
                        (t.name, "bold"), "  ", (who, "$accent"), "\n", (links, "$text-muted")
                    ),
                )
            )

        def picked(key: str | None) -> None:
            if key is None:
                return
            target = targets[key]
            who = ", ".join(target.contacts) or ", ".join(target.slack_ids)
            text = f"subject-matter expert for {target.name}: {who}"
            if target.links:
                text += " — " + " ".join(target.links)

            def record() -> list[Any]:
                svc.add_note(
                    iid, text, kind=EntryKind.ROLE, link=target.links[0] if target.links else ""
                )
                items: list[Any] = []
                if remote is not None:
                    items = remote.planner.escalate(
                        svc.get(iid), target, svc.clock.now(), item_id=item_id
                    )
                    remote.enqueue(items)
                if not items:
                    svc.tick_done(iid, item_id)
                return items

            def done(items: list[Any]) -> None:
                if items:
                    self.notify("Queued: " + "; ".join(i.title for i in items), markup=False)
                else:
                    self.notify(
                        f"Recorded. Contact {who} yourself: Slack is not configured "
                        "to invite them.",
                        markup=False,
                        timeout=8,
                    )
                self.reload_incident()

            self.store_call("escalate", record, done)

        self.push_screen(ChoiceModal("Escalate: whose system is it?", choices), picked)

    def _ask_follow_up(self, action: str, iid: str, item_id: str) -> None:
        from cockpit.ui.screens.modals import TextPrompt

        remote = self.services.remote
        svc = self.services.service
        assert remote is not None
        if action == "link-bug":
            prompt = TextPrompt(
                "Link a bug to the ticket", "the bug's key, e.g. BUG-123", required=True
            )
        else:
            prompt = TextPrompt("Create a follow-up ticket", "what needs doing", required=True)

        def done(text: object) -> None:
            if not isinstance(text, str) or not text.strip():
                return
            value = text.strip()
            if action == "link-bug":
                self.queue_items(
                    "link bug",
                    lambda: remote.planner.link_bug(
                        svc.get(iid), value, svc.clock.now(), item_id=item_id
                    ),
                )
            else:
                self.queue_items(
                    "create follow-up",
                    lambda: remote.planner.follow_up(
                        svc.get(iid), value, svc.clock.now(), kind="follow-up", item_id=item_id
                    ),
                )

        self.push_screen(prompt, done)


def data_dir_prefs(data_dir: Path) -> Prefs:
    return Prefs(data_dir / "ui-state.json")

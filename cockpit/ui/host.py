"""What screens and widgets may ask of the app: the services, the store runner, copying,
the live keys. `CockpitApp` (ui/app.py) is this plus its wiring; screens and widgets
import this module, never the app's, so the UI has no import cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from cockpit.domain.errors import CockpitError
from cockpit.domain.sanitize import sanitize
from cockpit.redact import REDACTED, redact
from cockpit.ui import fixes
from cockpit.ui.commands import COMMANDS

if TYPE_CHECKING:
    from cockpit.application.build import Services

log = logging.getLogger("cockpit.ui")
fixes.apply()


PALETTE_ID = "--command-palette"  # Textual's id for it


class CockpitHost(App[None]):
    """The app as its screens and widgets see it."""

    services: Services
    initial_incident_id: str | None
    feed_empty_text: str

    def __init__(self) -> None:
        super().__init__()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cockpit-store")
        self._store_inflight = 0
        self._store_quiet = asyncio.Event()
        self._first_load: Future[Any] | None = None

    def take_first_load(self) -> Future[Any] | None:
        """The first incident read at start (once; later loads go through store_call)."""
        first, self._first_load = self._first_load, None
        return first

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

        try:
            future = self._writer.submit(fn)
        except RuntimeError:  # the writer has shut down: the app is quitting (a key that
            # came behind ctrl+q); nothing more is written, and that is not a crash
            log.info("store call %r after the store closed: not made", label)
            self._store_inflight -= 1
            if not self._store_inflight:
                self._store_quiet.set()
            return
        future.add_done_callback(finished)

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
                    self.something_went_wrong(f"store call {label!r}", error)
            elif done is not None:
                done(future.result())
        except Exception as e:  # a bug in a done callback: said, not fatal
            self.something_went_wrong(f"after store call {label!r}", e)
        finally:
            self._store_inflight -= 1
            if not self._store_inflight:
                self._store_quiet.set()

    async def store_settled(self) -> None:
        """Wait until every store call made so far has finished and its callback ran."""
        while self._store_inflight:
            await self._store_quiet.wait()
        await asyncio.sleep(0)

    # -- the palette ----------------------------------------------------------------------
    def action_command_palette(self) -> None:
        """ctrl+p: Textual's palette, once. Textual 8.2.8 checks only the top screen, so a
        second ctrl+p while a palette was under a dialog, or still closing (its removal
        comes a moment after it leaves the stack, later on a loaded machine), pushed a
        second palette with the same id and ended the app (DuplicateIds)."""
        from textual.command import CommandPalette

        if any(isinstance(s, CommandPalette) for s in self.screen_stack):
            return
        if self._palette_closing():
            self.call_later(self._palette_when_closed)
            return
        super().action_command_palette()

    def _palette_closing(self) -> bool:
        return any(node.id == PALETTE_ID for node in self._nodes)

    def _palette_when_closed(self) -> None:
        """The ctrl+p that came while the last palette was closing opens it once it is gone."""
        if not self._palette_closing():
            self.action_command_palette()

    # -- errors ----------------------------------------------------------------------------
    def exit_status(self) -> int:
        """The process's exit status once the app has ended: 1 after a crash (never a quiet
        0), else what `exit(return_code=…)` asked for."""
        code = self.return_code
        if code:
            return int(code)
        return 1 if self._exception is not None else 0

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast (the app's, a screen's, a widget's: theirs call this one) with every
        known token and anything token-shaped taken out of its plain text, before Textual
        reads or styles it (`cockpit.redact`). Control sequences go first (`sanitize`), so
        none can split a token and hide it from the redactor."""
        # in markup, "\\[" is a literal "["; the title is never read as markup
        marker = "\\" + REDACTED if markup else REDACTED
        super().notify(
            redact(sanitize(message), marker=marker),
            title=redact(sanitize(title)),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one handler for worker errors: log it, say it, never a traceback on screen."""
        if event.state is WorkerState.ERROR:
            assert event.worker.error is not None
            self.something_went_wrong(f"worker {event.worker.name}", event.worker.error)

    def something_went_wrong(self, what: str, error: BaseException) -> None:
        log.error("%s failed", what, exc_info=error)
        self.notify(
            f"{type(error).__name__}: {error}",
            title="Something went wrong",
            severity="error",
            markup=False,
            timeout=10,
        )

    # -- what screens ask for --------------------------------------------------------------
    def remember_incident(self, incident_id: str | None) -> None:
        prefs = self.services.prefs
        if prefs.get("incident") != incident_id:
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

"""The apps one browser session runs: the cockpit as served, and the read-only board.

Both are the cockpit's own app (`CockpitApp`: themes, keymap, crash handling, the store
runner); what differs in a browser:

* **Copy** goes to the browser's clipboard (OSC 52, which xterm.js hands to the browser);
  the served machine's own clipboard is never touched (its $DISPLAY is not the viewer's).
  A browser accepts it only on a secure page (https, or loopback): on plain HTTP
  elsewhere the toast says so.
* **Keys the browser keeps.** ctrl+t, ctrl+n and ctrl+w open and close tabs before any
  page sees them: the cockpit says so once, with the way round (the palette).
* **The board** (`BoardApp`) shows `BoardScreen`: it starts no remote side, runs no
  store sweep, keeps no UI state (a theme picked there is not saved), and its palette
  holds Textual's view commands alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit import ui
from cockpit.domain.sanitize import sanitize
from cockpit.ui.app import CockpitApp
from cockpit.ui.host import CockpitHost

if TYPE_CHECKING:
    from textual.screen import Screen

    from cockpit.application.build import Services

BROWSER_KEYS = (
    "In a browser, ctrl+t opens a new tab before the cockpit sees it: change the status "
    "from the palette (ctrl+p, then “status”) or remap it in [keys]."
)
# the cockpit's stylesheet (a CSS_PATH is read beside the module of the class naming it)
STYLESHEET = str(Path(ui.__file__).parent / "cockpit.tcss")
INSECURE_COPY = (
    " The browser takes it only on https or localhost pages: if nothing pastes, serve "
    "behind TLS (see the README) or select the text to copy it."
)


def browser_copy(app: CockpitHost, text: str, *, secure: bool) -> None:
    """Copy `text` into the viewer's browser (OSC 52 through the web driver) and say so."""
    clean = sanitize(text)
    app.copy_to_clipboard(clean)
    preview = clean.strip().splitlines()[0][:60] if clean.strip() else ""
    app.notify(
        "Sent to this browser's clipboard." + ("" if secure else INSECURE_COPY) + f"\n“{preview}”",
        title="Copy",
        severity="information" if secure else "warning",
        markup=False,
        timeout=6,
    )


class ServedCockpitApp(CockpitApp):
    """The cockpit in a browser tab."""

    CSS_PATH = STYLESHEET

    def __init__(self, services: Services, *, secure: bool = True, **kw: Any) -> None:
        super().__init__(services, **kw)
        self.secure = secure

    def on_mount(self) -> None:  # Textual calls CockpitApp's on_mount too
        if self.is_web and self._uses_browser_key():
            self.notify(BROWSER_KEYS, title="In a browser", markup=False, timeout=8)

    def _uses_browser_key(self) -> bool:
        return any(k in ("ctrl+t", "ctrl+n", "ctrl+w") for k in self.live_keys().values())

    def copy_text(self, text: str) -> None:
        if not self.is_web:
            super().copy_text(text)
            return
        browser_copy(self, text, secure=self.secure)


class BoardApp(CockpitApp):
    """The read-only board: nothing it does writes, nothing it runs talks to a remote."""

    CSS_PATH = STYLESHEET
    COMMANDS = CockpitHost.COMMANDS  # Textual's own (theme, keys, quit): no cockpit action
    TITLE = "cockpit board"

    def __init__(self, services: Services, *, secure: bool = True) -> None:
        super().__init__(services)
        self.secure = secure

    def get_default_screen(self) -> Screen[Any]:
        from cockpit.ui.screens.board import BoardScreen

        return BoardScreen()

    def _after_first_frame(self) -> None:
        """No store sweep, feed cache or remote side: what the cockpit starts after its
        first frame (`CockpitApp.on_mount`, which Textual calls for this class too)."""

    def watch_theme(self, theme: str) -> None:
        """A theme picked on the board is for this tab only: nothing is saved."""

    def _remember_theme(self, theme: str) -> None:
        """Never written from the board (the cockpit repairs a bad saved theme itself)."""

    def remember_incident(self, incident_id: str | None) -> None:
        """The board does not change which incident the cockpit opens on."""

    def copy_text(self, text: str) -> None:
        browser_copy(self, text, secure=self.secure)

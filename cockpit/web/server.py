"""The web server of `cockpit serve`: textual-serve's, behind a door that needs a secret.

textual-serve serves a page (xterm.js) and, for each WebSocket the page opens, starts the
app as a new process on textual's web driver. Served as it comes, anyone who reaches the
port gets a cockpit with its user's tokens. Here:

* **Access.** A random token (or `$COCKPIT_SERVE_TOKEN`) is printed once, in the link
  `http://127.0.0.1:8765/?token=…`. Opening that link sets a cookie (HttpOnly,
  SameSite=Strict) and sends the browser on to the page without the token in its address.
  Every request but that link needs the cookie: the page, its scripts, the WebSocket, a
  download. A wrong or missing secret gets 401 before anything runs, so no app process is
  started for it. Secrets are compared in constant time (`hmac.compare_digest`), never
  logged (no access log; the token is registered with the redactor), and a WebSocket
  whose Origin is not this server's is refused (a page elsewhere cannot drive it).
* **Sessions.** At most `max_sessions` at once (a new one gets 503 and starts nothing); a
  session with no key, mouse or resize for `idle_seconds` is ended (its app quits, the
  page says the session ended and offers to start a new one).
* **The page.** Our own template: no font or script from another site, a Content
  Security Policy, no framing (a page elsewhere cannot overlay it), nothing cached.

The secret is the only thing between the network and the cockpit: on any host but
loopback the CLI asks for `--expose` and says what that exposes; TLS is a reverse
proxy's job (README: "In a browser"), with `--public-url https://…`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import secrets
import shlex
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

log = logging.getLogger("cockpit.serve")

COOKIE = "cockpit_session"
TOKEN_ENV = "COCKPIT_SERVE_TOKEN"
MIN_TOKEN = 24  # characters of a token given in $COCKPIT_SERVE_TOKEN
TEMPLATES = Path(__file__).resolve().parent / "templates"
STOP_GRACE = 5.0  # seconds an app has to quit before it is killed
# Environment a served app must not inherit: the server's display would make "copy"
# write this machine's clipboard, not the browser's.
DROPPED_ENV = ("DISPLAY", "WAYLAND_DISPLAY", TOKEN_ENV)
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}


def make_token(env: dict[str, str] | None = None) -> str:
    """The access token: `$COCKPIT_SERVE_TOKEN` when set (long enough), else a fresh
    random one (256 bits)."""
    given = (env if env is not None else os.environ).get(TOKEN_ENV, "").strip()
    if given:
        if len(given) < MIN_TOKEN:
            raise ValueError(
                f"${TOKEN_ENV} is too short to guard a cockpit: use at least {MIN_TOKEN} "
                "random characters (or unset it for a fresh token each start)"
            )
        return given
    return secrets.token_urlsafe(32)


def same_secret(offered: str | None, secret: str) -> bool:
    """Constant-time comparison; a missing secret is simply wrong."""
    if not offered:
        return False
    return hmac.compare_digest(offered.encode("utf-8"), secret.encode("utf-8"))


@dataclass
class ServeConfig:
    """What `cockpit serve` serves, and how."""

    argv: list[str]  # one session's command
    host: str = "127.0.0.1"
    port: int = 8765
    read_only: bool = False
    max_sessions: int = 1
    idle_seconds: float = 30 * 60
    public_url: str | None = None  # as the browser reaches it (a TLS proxy's https URL)
    title: str = "cockpit"
    token: str = field(default_factory=make_token, repr=False)


class Session(AppService):
    """One browser tab: one app process. Counts the last time the person did anything."""

    def __init__(self, server: CockpitServer, websocket: web.WebSocketResponse) -> None:
        async def close() -> None:
            await websocket.close()

        super().__init__(
            server.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=close,
            download_manager=server.download_manager,
        )
        self.websocket = websocket
        self.last_input = time.monotonic()
        self.ended_idle = False

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        env = super()._build_environment(width=width, height=height)
        for name in DROPPED_ENV:
            env.pop(name, None)
        return env

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def end(self) -> None:
        """Ask the app to quit; kill it when it has not within STOP_GRACE seconds."""
        process = self._process
        with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError, OSError):
            await asyncio.wait_for(self.stop(), STOP_GRACE)
        if process is None:
            return
        if self._stdin is not None:  # the app's end of the pipe: EOF, and wait() can finish
            self._stdin.close()
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), STOP_GRACE)


class CockpitServer(Server):
    """textual-serve's server with access control, a session limit and idle sessions ended."""

    def __init__(self, config: ServeConfig, *, say: Callable[[str], None] = print) -> None:
        super().__init__(
            # textual-serve runs it through a shell: exec, so the app is the process the
            # server stops, kills and counts, not a shell around it
            "exec " + shlex.join(config.argv),
            host=config.host,
            port=config.port,
            title=config.title,
            public_url=config.public_url,
            templates_path=TEMPLATES,
        )
        self.config = config
        self.say = say
        self.cookie_value = secrets.token_urlsafe(32)  # what the browser holds, not the token
        self.sessions: set[Session] = set()
        self.started = 0  # app processes started, ever (the tests read it)
        self.bound_port: int | None = None
        self._ending: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True
        )

    # -- the application -------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_session, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_shutdown.append(self._end_all)
        return app

    async def _make_app(self) -> web.Application:  # textual-serve's entry, kept consistent
        return self.make_app()

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Every request: the link with the token lets in (cookie, then the page without
        the token in the address); anything else needs the cookie; 401 before any
        handler runs (so no app starts) when neither is there."""
        try:
            if request.path == "/" and "token" in request.query:
                if not same_secret(request.query.get("token"), self.config.token):
                    await asyncio.sleep(0.5)  # a guess costs time
                    response: web.StreamResponse = self._denied("That link's token is wrong.")
                else:
                    response = web.Response(status=303, headers={"Location": "/"})
                    response.set_cookie(
                        COOKIE,
                        self.cookie_value,
                        httponly=True,
                        samesite="Strict",
                        secure=self._secure(request),
                        path="/",
                    )
            elif not same_secret(request.cookies.get(COOKIE), self.cookie_value):
                response = self._denied("This cockpit needs the link `cockpit serve` printed.")
            else:
                response = await handler(request)
        except web.HTTPException as e:
            response = e
        if not response.prepared:  # a WebSocket's headers have gone already
            response.headers.update(SECURITY_HEADERS)
        return response

    def _secure(self, request: web.Request) -> bool:
        public = self.config.public_url or ""
        return request.secure or public.startswith("https://")

    def _denied(self, why: str) -> web.Response:
        page = self._templates.get_template("denied.html").render(
            status=401, title="Not allowed", why=why
        )
        return web.Response(status=401, text=page, content_type="text/html")

    def _full(self) -> web.Response:
        n = self.config.max_sessions
        why = (
            f"{n} session{'s are' if n != 1 else ' is'} open, the most this server allows. "
            "Close one (or wait for an idle one to end), then reload; whoever started the "
            "server can allow more with --max-sessions."
        )
        page = self._templates.get_template("denied.html").render(status=503, title="Busy", why=why)
        return web.Response(status=503, text=page, content_type="text/html")

    # -- the page ----------------------------------------------------------------------------
    def _origin(self, request: web.Request) -> str:
        if self.config.public_url:
            parts = urlsplit(self.config.public_url)
            return f"{parts.scheme}://{parts.netloc}"
        return f"{'https' if request.secure else 'http'}://{request.host}"

    async def handle_index(self, request: web.Request) -> web.Response:
        if len(self.sessions) >= self.config.max_sessions:
            return self._full()
        origin = self._origin(request)
        ws = ("wss" if origin.startswith("https") else "ws") + origin[origin.index(":") :]
        font_size = request.query.get("fontsize", "16")
        page = self._templates.get_template("index.html").render(
            title=self.config.title,
            read_only=self.config.read_only,
            websocket_url=f"{ws}/ws",
            static_url="/static/",
            font_size=int(font_size) if font_size.isdigit() and 6 <= int(font_size) <= 40 else 16,
        )
        return web.Response(text=page, content_type="text/html")

    # -- sessions ----------------------------------------------------------------------------
    async def handle_session(self, request: web.Request) -> web.StreamResponse:
        """One session: refused (503, nothing started) when the limit is reached or the
        page is another site's; else an app process for as long as the socket lives."""
        if request.headers.get("Origin") != self._origin(request):
            return web.Response(status=403, text="This page may not open a session here.")
        if len(self.sessions) >= self.config.max_sessions:
            return self._full()

        def size(name: str, default: int) -> int:
            value = request.query.get(name, "")
            return max(10, min(int(value), 1000)) if value.isdigit() else default

        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        session = Session(self, websocket)
        self.sessions.add(session)
        self.started += 1
        watcher: asyncio.Task[None] | None = None
        try:
            await session.start(size("width", 80), size("height", 24))
            self._said_sessions("started")
            watcher = asyncio.create_task(self._end_when_idle(session))
            await self._relay(websocket, session)
        except asyncio.CancelledError:
            pass  # the connection went (aiohttp cancels its handler): the app ends below
        except Exception:
            log.exception("a served session failed")
        finally:
            if watcher is not None:
                watcher.cancel()
            # its own task, shielded: a cancelled handler must not leave the app running
            ending = asyncio.create_task(self._finish(session, websocket))
            self._ending.add(ending)
            ending.add_done_callback(self._ending.discard)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(ending)
        return websocket

    async def _finish(self, session: Session, websocket: web.WebSocketResponse) -> None:
        try:
            await session.end()
        finally:
            self.sessions.discard(session)
            with contextlib.suppress(Exception):
                await websocket.close()
            self._said_sessions("ended after idling" if session.ended_idle else "ended")

    def _said_sessions(self, what: str) -> None:
        self.say(f"a session {what} ({len(self.sessions)} of {self.config.max_sessions} open)")

    async def _relay(self, websocket: web.WebSocketResponse, session: Session) -> None:
        """The browser's messages to the app (textual-serve's protocol); keys, the mouse
        and resizes count as activity, the page's pings do not."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
                kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            except (ValueError, TypeError, IndexError, KeyError):
                continue
            if kind == "stdin" and isinstance(data, str):
                session.last_input = time.monotonic()
                await session.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                session.last_input = time.monotonic()
                width, height = data.get("width"), data.get("height")
                if isinstance(width, int) and isinstance(height, int):
                    await session.set_terminal_size(width, height)
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await session.blur()
            elif kind == "focus":
                await session.focus()

    async def _end_when_idle(self, session: Session) -> None:
        idle = self.config.idle_seconds
        if idle <= 0:
            return
        while True:
            left = session.last_input + idle - time.monotonic()
            if left <= 0:
                session.ended_idle = True  # the socket closes; its handler ends the app
                await session.websocket.close(code=4000, message=b"idle")
                return
            await asyncio.sleep(min(left, 30.0))

    async def _end_all(self, _app: web.Application) -> None:
        """The server stops: every app quits (or is killed), however its handler ends."""
        sessions = list(self.sessions)
        await asyncio.gather(*(s.end() for s in sessions), return_exceptions=True)
        for s in sessions:
            with contextlib.suppress(Exception):
                await s.websocket.close(code=1001, message=b"server stopping")
        if self._ending:
            await asyncio.gather(*self._ending, return_exceptions=True)

    # -- running -----------------------------------------------------------------------------
    async def start(self) -> int:
        """Listen; returns the port (the one asked for, or the one given for 0)."""
        self._runner = web.AppRunner(
            self.make_app(), access_log=None, handle_signals=False, shutdown_timeout=STOP_GRACE
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        address = self._runner.addresses[0]
        self.bound_port = int(address[1])
        return self.bound_port

    def url(self, *, with_token: bool = True) -> str:
        """The link to open (with the token), as the browser reaches the server."""
        if self.config.public_url:
            base = self.config.public_url.rstrip("/")
        else:
            host = self.config.host
            if ":" in host and not host.startswith("["):
                host = f"[{host}]"
            base = f"http://{host}:{self.bound_port}"
        return f"{base}/?token={self.config.token}" if with_token else f"{base}/"

    async def stop(self) -> None:
        """Stop listening; every session's app quits (or is killed)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def request_stop(self) -> None:
        self._stop.set()

    async def serve_until_stopped(self, started: Callable[[CockpitServer], None]) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        await self.start()
        started(self)
        try:
            await self._stop.wait()
        finally:
            await self.stop()

    def serve(self, debug: bool = False) -> None:  # textual-serve's entry: ours instead
        asyncio.run(self.serve_until_stopped(lambda _s: None))

    def pids(self) -> list[int]:
        """The running sessions' app processes."""
        return [pid for s in self.sessions if (pid := s.pid) is not None]

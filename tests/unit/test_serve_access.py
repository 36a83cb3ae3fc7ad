"""`cockpit serve`'s door, over real HTTP (aiohttp's test server) and real app processes:
no secret, no page and no process; the link sets a cookie and leaves the address; a
WebSocket from another site is refused; the session limit and idle sessions hold."""

from __future__ import annotations

import asyncio
import hmac
import logging
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from cockpit.web import server as web_server
from cockpit.web.command import exposure, is_loopback
from cockpit.web.server import COOKIE, CockpitServer, ServeConfig, make_token
from cockpit.web.session import session_argv

TOKEN = "t0k3n-" + "x" * 40


def board_config(tmp_path: Path, **kw: object) -> ServeConfig:
    """A server of the read-only board on an empty store: its sessions are real apps."""
    config = tmp_path / "config.toml"
    config.write_text('[ui]\ntheme = "cockpit-dark"\n')
    argv = session_argv("board", config=config, data_dir=tmp_path / "data")
    return ServeConfig(argv=argv, host="127.0.0.1", port=0, read_only=True, token=TOKEN, **kw)  # type: ignore[arg-type]


class Client:
    """A browser's side: a cookie jar and the server's address (the real listener, as
    `cockpit serve` runs it: its access log off)."""

    def __init__(self, server: CockpitServer) -> None:
        self.server = server
        self.port = server.bound_port
        self.http = aiohttp.ClientSession(
            base_url=f"http://127.0.0.1:{self.port}", cookie_jar=aiohttp.CookieJar(unsafe=True)
        )

    def get(self, path: str, **kw: Any) -> Any:
        return self.http.get(path, **kw)

    def ws_connect(self, path: str, **kw: Any) -> Any:
        return self.http.ws_connect(path, **kw)

    async def close(self) -> None:
        await self.http.close()
        await self.server.stop()


async def client_for(config: ServeConfig) -> tuple[CockpitServer, Client]:
    server = CockpitServer(config, say=lambda _text: None)
    await server.start()
    return server, Client(server)


def origin(client: Client) -> str:
    return f"http://127.0.0.1:{client.port}"


async def log_in(client: Client) -> None:
    r = await client.get(f"/?token={TOKEN}", allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/"
    cookie = r.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert TOKEN not in cookie.value  # the browser holds a value of its own, not the token


async def test_no_secret_no_page_no_process(tmp_path: Path):
    server, client = await client_for(board_config(tmp_path))
    try:
        for path in ("/", "/static/js/textual.js", "/download/abc", "/ws", "/?token=wrong"):
            r = await client.get(path, headers={"Origin": origin(client)})
            assert r.status == 401, path
            assert "xterm" not in await r.text()
        r = await client.get(
            "/ws", headers={"Cookie": f"{COOKIE}=forged", "Origin": origin(client)}
        )
        assert r.status == 401
        assert server.started == 0 and not server.sessions
    finally:
        await client.close()


async def test_the_link_sets_a_cookie_and_the_page_carries_no_token(tmp_path: Path):
    server, client = await client_for(board_config(tmp_path))
    try:
        await log_in(client)
        r = await client.get("/")
        page = await r.text()
        assert r.status == 200 and "textual-terminal" in page
        assert TOKEN not in page
        assert f'data-session-websocket-url="ws://127.0.0.1:{client.port}/ws"' in page
        assert "googleapis" not in page  # the font is served from here
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["Cache-Control"] == "no-store"
        assert (await client.get("/static/js/textual.js")).status == 200
        assert server.started == 0  # a page is not a session
    finally:
        await client.close()


async def test_secrets_are_compared_in_constant_time(tmp_path: Path, monkeypatch):
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(web_server.hmac, "compare_digest", spy)
    _server, client = await client_for(board_config(tmp_path))
    try:
        assert (await client.get("/?token=guess")).status == 401
        assert calls == [(b"guess", TOKEN.encode())]
    finally:
        await client.close()


async def test_a_websocket_from_another_site_starts_nothing(tmp_path: Path):
    server, client = await client_for(board_config(tmp_path))
    try:
        await log_in(client)
        for bad in ("http://evil.example", None):
            headers = {"Origin": bad} if bad else {}
            with pytest.raises(aiohttp.WSServerHandshakeError) as e:
                await client.ws_connect("/ws", headers=headers)
            assert e.value.status == 403
        assert server.started == 0
    finally:
        await client.close()


async def read_until(ws: aiohttp.ClientWebSocketResponse, seconds: float) -> bytes:
    """What the app sends until it has drawn something (or `seconds` pass)."""
    data = b""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while len(data) < 2000 and loop.time() < end:
        try:
            msg = await ws.receive(timeout=end - loop.time())
        except TimeoutError:
            break
        if msg.type == aiohttp.WSMsgType.BINARY:
            data += msg.data
        elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            break
    return data


async def test_the_session_limit_refuses_before_starting_anything(tmp_path: Path):
    server, client = await client_for(board_config(tmp_path, max_sessions=1))
    try:
        await log_in(client)
        ws = await client.ws_connect("/ws?width=100&height=30", headers={"Origin": origin(client)})
        drawn = await read_until(ws, 30)
        assert b"incident board" in drawn  # the board app runs and paints
        assert server.started == 1 and len(server.pids()) == 1
        with pytest.raises(aiohttp.WSServerHandshakeError) as e:
            await client.ws_connect("/ws", headers={"Origin": origin(client)})
        assert e.value.status == 503
        r = await client.get("/")
        assert r.status == 503 and "the most this server allows" in await r.text()
        assert server.started == 1
        pid = server.pids()[0]
        await ws.close()
        for _ in range(100):  # the app quits when its tab goes
            if not server.sessions:
                break
            await asyncio.sleep(0.1)
        assert not server.sessions
        assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid)
    finally:
        await client.close()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


async def test_an_idle_session_ends(tmp_path: Path):
    server, client = await client_for(board_config(tmp_path, idle_seconds=2))
    try:
        await log_in(client)
        ws = await client.ws_connect("/ws", headers={"Origin": origin(client)})
        await read_until(ws, 30)
        loop = asyncio.get_running_loop()
        start = loop.time()
        while not ws.closed and loop.time() - start < 20:
            msg = await ws.receive(timeout=20)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        assert ws.close_code == 4000
        for _ in range(100):
            if not server.sessions:
                break
            await asyncio.sleep(0.1)
        assert not server.sessions
    finally:
        await client.close()


async def test_the_token_is_never_logged(tmp_path: Path, caplog):
    caplog.set_level(logging.DEBUG)
    _server, client = await client_for(board_config(tmp_path))
    try:
        await client.get(f"/?token={TOKEN}")
        await client.get("/?token=wrong-guess-here")
    finally:
        await client.close()
    assert TOKEN not in caplog.text


def test_the_token_is_fresh_or_long_enough():
    a, b = make_token({}), make_token({})
    assert a != b and len(a) >= 40
    assert make_token({"COCKPIT_SERVE_TOKEN": "y" * 30}) == "y" * 30
    with pytest.raises(ValueError, match="too short"):
        make_token({"COCKPIT_SERVE_TOKEN": "short"})


def test_loopback_and_what_exposing_says():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    assert not is_loopback("cockpit.example.com")
    said = " ".join(exposure(False, "0.0.0.0", None))
    assert "raise incidents" in said and "plain HTTP" in said
    said = " ".join(exposure(True, "0.0.0.0", "https://board.example.com"))
    assert "read-only" in said and "plain HTTP" not in said


def test_the_cli_will_not_listen_beyond_loopback_without_expose(capsys):
    from cockpit.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "not loopback" in err and "--expose" in err


def test_without_textual_serve_the_cli_says_how_to_install_it(monkeypatch, capsys):
    from cockpit.cli import main

    monkeypatch.setitem(sys.modules, "textual_serve", None)  # find_spec: not installed
    import importlib.util

    real = importlib.util.find_spec

    def find_spec(name: str, *a: object) -> object:
        return None if name == "textual_serve" else real(name, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert main(["serve", "--port", "0"]) == 2
    assert "pip install 'cockpit[serve]'" in capsys.readouterr().err

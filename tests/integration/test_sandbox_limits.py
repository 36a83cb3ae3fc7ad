"""The drill range's limits, attacked over loopback sockets: chunked bodies past the cap,
a chunk size of FFFFFFFFFF, 300 slow-header connections (slowloris), idle connections,
and a scenario that would expand to 100,000 messages. Each test is bounded in time.

    .venv/bin/python -m pytest tests/integration/test_sandbox_limits.py -q -p no:cacheprovider
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cockpit.sandbox import asgi
from cockpit.sandbox.dispatch import MAX_BODY
from cockpit.sandbox.scenarios import MAX_CHANNEL_MESSAGES, MAX_EVENTS
from cockpit.sandbox.server import SandboxError, SandboxServer

pytestmark = pytest.mark.timeout(60)

MB = 1024 * 1024
POST_HEAD = (
    b"POST /api/chat.postMessage HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Authorization: Bearer xoxb-any\r\nContent-Type: application/json\r\n"
)


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(scenario=None, socket_mode=False) as srv:
        yield srv


def rss() -> int:
    """This process's resident memory, bytes (the server runs in it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def connect(server: SandboxServer, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def send_until_refused(sock: socket.socket, head: bytes, pieces: Iterator[bytes]) -> int:
    """Send `head`, then `pieces` until the server stops taking them; the bytes sent."""
    sent = 0
    try:
        sock.sendall(head)
        for piece in pieces:
            sock.sendall(piece)
            sent += len(piece)
    except OSError:  # closed by the server: what we want
        pass
    return sent


def answer(sock: socket.socket) -> bytes:
    """What the server said before it closed (b"" if it only closed)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except OSError:  # a reset after the answer (our unread upload) may eat it
        pass
    return data


def state_answers(server: SandboxServer, within: float) -> float:
    start = time.monotonic()
    response = httpx.get(f"{server.base_url}/_sandbox/state", timeout=within)
    assert response.status_code == 200 and response.json()["base_url"] == server.base_url
    return time.monotonic() - start


def test_a_100mb_chunked_body_is_refused_and_memory_stays_flat(server: SandboxServer) -> None:
    before = rss()
    piece = b"x" * MB
    chunks = (b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(100))
    with connect(server) as sock:
        sent = send_until_refused(sock, POST_HEAD + b"Transfer-Encoding: chunked\r\n\r\n", chunks)
        reply = answer(sock)
    assert reply == b"" or reply.startswith(b"HTTP/1.1 413 "), reply[:200]
    assert sent < 60 * MB  # refused on the way, not after reading it all
    assert rss() - before < 50 * MB
    state_answers(server, within=2)


def test_a_huge_chunk_size_is_refused_without_a_traceback(
    server: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    before = rss()
    piece = b"y" * MB
    with connect(server) as sock:
        head = POST_HEAD + b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFF\r\n"
        send_until_refused(sock, head, (piece for _ in range(40)))
        reply = answer(sock)
    assert reply == b"" or reply.startswith(b"HTTP/1.1 413 "), reply[:200]
    assert rss() - before < 50 * MB
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    state_answers(server, within=2)


def test_a_declared_length_over_the_cap_is_refused_at_once(server: SandboxServer) -> None:
    with connect(server) as sock:
        sock.sendall(POST_HEAD + b"Content-Length: %d\r\n\r\n{" % (MAX_BODY + 1))
        reply = answer(sock)
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:200]
    assert b"connection: close" in reply.lower()


def test_300_slow_header_connections_neither_starve_nor_multiply_threads(
    server: SandboxServer,
) -> None:
    state_answers(server, within=2)  # the worker threads exist now
    threads_before = threading.active_count()
    socks: list[socket.socket] = []
    try:
        for i in range(300):
            sock = connect(server)
            sock.sendall(b"GET /_sandbox/st" if i % 2 else b"GET /_sandbox/state HTTP/1.1\r\nX-A: ")
            socks.append(sock)
        time.sleep(0.5)
        assert threading.active_count() <= threads_before + asgi.WORKERS
        assert state_answers(server, within=2) < 2
        # Trickling bytes does not keep a connection: the head must arrive in time.
        opened = time.monotonic()
        deadline = opened + asgi.HEADER_TIMEOUT + 5
        while time.monotonic() < deadline:
            for sock in socks[:10]:
                with contextlib.suppress(OSError):
                    sock.sendall(b"a")
            time.sleep(1)
            if all(closed(s) for s in socks[:10]):
                break
        closed_after = time.monotonic() - opened
        assert all(closed(s) for s in socks), "slow-header connections were not closed"
        assert closed_after < asgi.HEADER_TIMEOUT + 3
        assert threading.active_count() <= threads_before + asgi.WORKERS
        assert state_answers(server, within=2) < 2
    finally:
        for sock in socks:
            sock.close()


def closed(sock: socket.socket) -> bool:
    """Whether the server closed `sock` (EOF or a reset), without waiting."""
    sock.setblocking(False)
    try:
        return sock.recv(1024) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)


def test_idle_connections_are_closed(server: SandboxServer) -> None:
    with connect(server) as silent, connect(server) as kept_alive:
        kept_alive.sendall(b"GET /_sandbox/state HTTP/1.1\r\nHost: x\r\n\r\n")
        assert kept_alive.recv(65536).startswith(b"HTTP/1.1 200 ")
        answered = time.monotonic()
        kept_alive.settimeout(asgi.KEEP_ALIVE + 3)
        while kept_alive.recv(65536):  # the rest of the answer, then EOF
            pass
        assert time.monotonic() - answered < asgi.KEEP_ALIVE + 2
        silent.settimeout(asgi.HEADER_TIMEOUT)
        assert silent.recv(1) == b""  # within the header timeout (10 s from opening)


def test_stop_is_prompt_with_a_held_answer_and_open_connections() -> None:
    srv = SandboxServer(scenario=None, socket_mode=False, fault_delay=30).start()
    srv.faults.force("timeout", "after", on="chat.postMessage")
    socks = [connect(srv) for _ in range(20)]
    got: list[object] = []

    def post() -> None:
        try:
            got.append(
                httpx.post(
                    f"{srv.base_url}/api/chat.postMessage",
                    json={"channel": "incidents", "text": "x"},
                    headers={"Authorization": "Bearer xoxb-any"},
                    timeout=40,
                )
            )
        except httpx.HTTPError as exc:
            got.append(exc)

    held = threading.Thread(target=post, daemon=True)
    held.start()
    time.sleep(0.5)
    start = time.monotonic()
    srv.stop()
    assert time.monotonic() - start < 3
    held.join(5)
    assert not held.is_alive()
    assert len(got) == 1 and isinstance(got[0], httpx.RemoteProtocolError), got  # no answer
    for sock in socks:
        sock.close()


def scenario_file(tmp_path: Path, events: str) -> Path:
    path = tmp_path / "huge.toml"
    path.write_text('name = "huge"\n' + events, encoding="utf-8")
    return path


EVENT = '[[events]]\nat = 1\nchannel = "{channel}"\nbot = "datadog"\ntext = "alert {{n}}"\n'


def test_a_scenario_with_repeat_100000_is_refused_naming_file_and_limit(
    tmp_path: Path,
) -> None:
    path = scenario_file(tmp_path, EVENT.format(channel="alerts") + "repeat = 100000\n")
    start = time.monotonic()
    with pytest.raises(SandboxError) as err:
        SandboxServer(scenario=path, socket_mode=False)
    assert time.monotonic() - start < 2
    assert str(path) in str(err.value) and "10000" in str(err.value), err.value


def test_repeats_are_capped_per_channel_and_in_all(tmp_path: Path) -> None:
    many = MAX_CHANNEL_MESSAGES // 2 + 1
    same = scenario_file(tmp_path, (EVENT.format(channel="alerts") + f"repeat = {many}\n") * 2)
    with pytest.raises(SandboxError, match=f"{MAX_CHANNEL_MESSAGES:,} per channel") as err:
        SandboxServer(scenario=same, socket_mode=False)
    assert str(same) in str(err.value)
    spread = "".join(
        EVENT.format(channel=c) + f"repeat = {MAX_CHANNEL_MESSAGES}\n"
        for c in ("alerts", "incidents", "general")
    )
    path = scenario_file(tmp_path, spread)
    with pytest.raises(SandboxError, match=f"the limit is {MAX_EVENTS:,}"):
        SandboxServer(scenario=path, socket_mode=False)
    big = "x" * 10_000
    wide = EVENT.format(channel="alerts").replace("alert {n}", big) + "repeat = 5000\n"
    with pytest.raises(SandboxError, match="MB of messages"):
        SandboxServer(scenario=scenario_file(tmp_path, wide), socket_mode=False)


def test_the_shipped_storm_still_fits() -> None:
    storm = SandboxServer(scenario="storm", socket_mode=False)
    assert storm.scenario is not None and storm.scenario.message_count == 10_000

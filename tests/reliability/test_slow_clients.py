"""Slow and greedy clients (issue 12, item 7): half-sent requests are cut off, headers are capped,
and connections beyond the cap are closed, in `serve` (embedded) and in `api` (production's
uvicorn), while a normal request still gets its answer.

Each server runs as a subprocess on SQLite with a short client timeout (2 s) so the test waits
seconds, not the 30 s default.
"""

from __future__ import annotations

import select
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import processes
from tests.reliability.conftest import Figures, scaled
from tests.reliability.harness import free_port

TIMEOUT = 2.0
MAX_CONNECTIONS = 40


@pytest.fixture(params=["serve", "api"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[processes.Process]:
    role = request.param
    env = processes.environment(
        f"sqlite+aiosqlite:///{tmp_path / 'slow.db'}",
        production=False,
        extra={
            "BALLOTDESK_CLIENT_TIMEOUT_SECONDS": str(TIMEOUT),
            "BALLOTDESK_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
            "BALLOTDESK_MAX_HEADERS": "50",
            "BALLOTDESK_MAX_HEADER_BYTES": "8192",
        },
    )
    processes.migrate(env)
    port = free_port()
    args = [role, "--host", "127.0.0.1", "--port", str(port)]
    with processes.stopped_at_exit() as started:
        process = processes.start(role, args, env, tmp_path, port=port)
        started.append(process)
        processes.wait_ready(process, path="/health")
        yield process


def _connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT * 4)
    return s


def _read_all(s: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or the socket times out)."""
    got = b""
    while True:
        try:
            chunk = s.recv(65536)
        except TimeoutError:
            return got + b"<still open>"
        except ConnectionResetError:
            return got
        if not chunk:
            return got
        got += chunk


def _health(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
        return int(response.status)


def _cut_off_after(s: socket.socket, partial: bytes) -> tuple[float, bytes]:
    started = time.monotonic()
    s.sendall(partial)
    answer = _read_all(s)
    return time.monotonic() - started, answer


def test_half_sent_requests_are_cut_off_and_others_still_answered(server: processes.Process, figures: Figures) -> None:
    assert server.port is not None
    port = server.port
    half_line = _connect(port)
    half_headers = _connect(port)
    half_body = _connect(port)
    silent = _connect(port)
    try:
        # A normal request is answered while the slow ones hang.
        assert _health(port) == 200
        line_took, line_answer = _cut_off_after(half_line, b"GET /heal")
        headers_took, headers_answer = _cut_off_after(half_headers, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        body_took, body_answer = _cut_off_after(
            half_body,
            b"POST /api/v1/bodies HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"code":',
        )
        silent_took, silent_answer = _cut_off_after(silent, b"")
    finally:
        for s in (half_line, half_headers, half_body, silent):
            s.close()
    for took, answer in (
        (line_took, line_answer),
        (headers_took, headers_answer),
        (body_took, body_answer),
        (silent_took, silent_answer),
    ):
        assert b"<still open>" not in answer, "a half-sent request was held open"
        assert took < TIMEOUT + 2.0, f"cut off only after {took:.1f} s"
    assert line_answer.startswith(b"HTTP/1.1 408"), line_answer[:80]
    assert headers_answer.startswith(b"HTTP/1.1 408"), headers_answer[:80]
    assert _health(port) == 200
    figures.add(
        f"slow clients cut off ({server.role})",
        cases=4,
        refusals=4,
        errors=0,
        timeout_s=TIMEOUT,
        slowest_cut_s=round(max(line_took, headers_took, body_took, silent_took), 2),
    )


def test_oversize_or_too_many_headers_get_431(server: processes.Process) -> None:
    assert server.port is not None
    big = _connect(server.port)
    many = _connect(server.port)
    try:
        big.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n")
        many.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(60)) + b"\r\n")
        big_answer, many_answer = _read_all(big), _read_all(many)
    finally:
        big.close()
        many.close()
    assert big_answer.split(b" ", 2)[1] in (b"431", b"400"), big_answer[:80]
    assert many_answer.split(b" ", 2)[1] in (b"431", b"400"), many_answer[:80]
    assert _health(server.port) == 200


def test_connections_beyond_the_cap_are_closed_at_once(server: processes.Process, figures: Figures) -> None:
    """Many idle connections: those over the cap are closed, the process keeps its descriptors,
    and once the idle ones are cut off the server answers again."""
    assert server.port is not None
    attempts = scaled(MAX_CONNECTIONS + 60, MAX_CONNECTIONS + 900)
    held: list[socket.socket] = []
    closed_at_once = 0
    try:
        for _ in range(attempts):
            s = _connect(server.port)
            held.append(s)
        # Well within the client timeout: what is closed by then was closed for the cap.
        waiting = list(held)
        until = time.monotonic() + TIMEOUT / 2
        while waiting and (left := until - time.monotonic()) > 0:
            readable, _, _ = select.select(waiting, [], [], left)
            for s in readable:
                waiting.remove(s)
                try:
                    closed_at_once += s.recv(1) == b""
                except ConnectionResetError:
                    closed_at_once += 1
    finally:
        for s in held:
            s.close()
    assert closed_at_once >= attempts - MAX_CONNECTIONS, f"only {closed_at_once} of {attempts} were closed"
    deadline = time.monotonic() + TIMEOUT + 5
    while True:
        try:
            assert _health(server.port) == 200
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    figures.add(
        f"connections over the cap ({server.role})",
        cases=attempts,
        refusals=closed_at_once,
        errors=0,
        cap=MAX_CONNECTIONS,
    )


def test_the_deadline_is_per_request_so_a_kept_alive_connection_lives_on(server: processes.Process) -> None:
    """Requests on one connection, each sent at once but together longer than the timeout."""
    assert server.port is not None
    s = _connect(server.port)
    answers = []
    try:
        for _ in range(3):
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while b'"ok"' not in got:
                chunk = s.recv(4096)
                assert chunk, f"closed after {len(answers)} answers"
                got += chunk
            answers.append(got.split(b"\r\n", 1)[0])
            time.sleep(TIMEOUT * 0.6)
    finally:
        s.close()
    assert answers == [b"HTTP/1.1 200 OK"] * 3

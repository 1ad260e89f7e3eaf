"""`argus serve` under systemd's Type=notify: READY=1 once it serves, WATCHDOG=1 while the
scheduler runs (a test socket stands in for systemd's NOTIFY_SOCKET)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from tests.factories import LiveDaemon


def read_messages(sock: socket.socket, want: set[str], timeout: float = 30.0) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not want <= {line for m in seen for line in m.split()}:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            seen.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    return seen


def test_serve_notifies_ready_and_feeds_the_watchdog(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        env = {
            "NOTIFY_SOCKET": str(path),
            "WATCHDOG_USEC": "400000",  # ping at most every 0.2 s
            "ARGUS_CYCLE_CHECK_SECONDS": "0.2",
        }
        daemon = LiveDaemon(home=tmp_path / "home", extra_env=env).start()
        try:
            messages = read_messages(sock, {"READY=1", "WATCHDOG=1"})
            lines = [line for m in messages for line in m.split("\n")]
            assert "READY=1" in lines, messages
            assert lines.count("WATCHDOG=1") >= 1, messages
            later = read_messages(sock, {"never"}, timeout=1.0)
            assert later.count("WATCHDOG=1") >= 2  # pings keep coming while the scheduler runs
        finally:
            assert daemon.stop() == 0
        stopping = read_messages(sock, {"STOPPING=1"}, timeout=5)
        assert any("STOPPING=1" in m for m in stopping), stopping


def test_without_notify_socket_nothing_is_sent(tmp_path: Path) -> None:
    from argus.daemon.systemd import Watchdog, sd_notify

    assert sd_notify("READY=1", {}) is False
    assert Watchdog({}).interval is None
    assert Watchdog({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}).interval is None
    assert Watchdog({"WATCHDOG_USEC": "10000000"}).interval == 5.0

"""`argus serve` under systemd's Type=notify: READY=1 once it serves, WATCHDOG=1 while the
scheduler runs (a test socket stands in for systemd's NOTIFY_SOCKET)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from argus.daemon.systemd import Watchdog, sd_notify
from tests.factories import LiveDaemon
from tests.thirdparty import require


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


def test_without_notify_socket_nothing_is_sent() -> None:
    assert sd_notify("READY=1", {}) is False
    assert Watchdog({}).interval is None
    assert Watchdog({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}).interval is None
    assert Watchdog({"WATCHDOG_USEC": "10000000"}).interval == 5.0


UNITS = Path(__file__).resolve().parent.parent / "contrib" / "systemd"


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """The shipped units parse and every option is known to systemd (ExecStart pointed at an
    existing binary, since Argus is not installed under /opt here)."""
    analyze = require("systemd-analyze")
    copies = []
    for unit in ("argus.service", "argus-agent.service"):
        text = (UNITS / unit).read_text()
        assert "/opt/argus/venv/bin/argus " in text
        copy = tmp_path / unit
        copy.write_text(text.replace("/opt/argus/venv/bin/argus ", "/bin/true "))
        copies.append(str(copy))
    proc = subprocess.run([analyze, "verify", "--man=no", *copies],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    service = (UNITS / "argus.service").read_text()
    for line in ("Type=notify", "WatchdogSec=", "StateDirectory=argus", "ProtectSystem=strict"):
        assert line in service

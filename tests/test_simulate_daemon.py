"""The simulator feeds a real daemon: a subprocess on a free port, real HTTP, its own home."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from argus.keys import new_key
from argus.simulate import Simulator
from argus.simulate.demo import start_daemon, stop_daemon, wait_ready
from argus.simulate.scenario import ScenarioRequest, control_path, write_request
from argus.simulate.stream import FeedClient, backfill, backfill_start, stream


def test_stream_feeds_a_running_daemon(tmp_path: Path) -> None:
    key = new_key()
    proc = start_daemon(tmp_path, 0, key)
    try:
        url = wait_ready(proc, tmp_path, 0)
        sim = Simulator.create(servers=12, seed=4, start=backfill_start(0.5))
        client = FeedClient(url, key)
        history = backfill(sim, client, days=0.5)
        assert history.accepted == history.records == 12 * 145
        write_request(tmp_path, ScenarioRequest("critical", "ppapi001"))
        live = stream(sim, client, speed=1e5, stop=threading.Event(), home=tmp_path, max_ticks=3)
        client.close()
        assert live.accepted == 3 * 12 and live.duplicates == 0
        assert not control_path(tmp_path).exists()
        status = requests.get(f"{url}/status", headers={"X-API-Key": key}, timeout=10).json()
        assert status["servers_tracked"] == 12
    finally:
        assert stop_daemon(proc) == 0


def _read_until(proc: subprocess.Popen[bytes], needle: str, timeout: float) -> str:
    """Read the demo's stdout until `needle` shows up (raw fd reads: no hidden buffering)."""
    assert proc.stdout is not None
    fd, seen, deadline = proc.stdout.fileno(), b"", time.monotonic() + timeout
    while needle.encode() not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            seen += chunk
    return seen.decode()


def test_demo_runs_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    errors = tmp_path / "stderr.txt"
    with open(errors, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from argus.cli.main import main; main()", "demo",
             "--port", "0", "--home", str(tmp_path), "--servers", "6", "--backfill-days", "1",
             "--speed", "600", "--train-minutes", "0.3"],
            stdout=subprocess.PIPE, stderr=err, bufsize=0,
            env={**os.environ, "ARGUS_DEMO_SEED": "3", "XDG_DATA_HOME": str(tmp_path / "xdg")},
        )  # fmt: skip
    try:
        out = _read_until(proc, "Ctrl-C stops", timeout=300)  # includes training a TFT
        assert "model demo-tft trained in " in out and "and made current" in out, out
        # Library chatter is silenced at its source; the daemon's log goes to a file.
        noise = out + errors.read_text()
        for line in ("GPU available", "litlogger", "not writable", "Attribute 'loss'", "INFO"):
            assert line not in noise, noise
        assert "INFO argus" in (tmp_path / "argus-demo.log").read_text()
        assert "backfill: 1734 records accepted" in out, out
        assert "API key:" in out and "argus scenario" in out
        write_request(tmp_path, ScenarioRequest("degrading"))
        out += _read_until(proc, "scenario degrading", timeout=30)
        assert "memory_leak on ppapi001" in out, out
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=60)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == 0
    assert "daemon stopped (exit status 0)" in rest


def test_the_cli_finds_a_running_demo_by_itself(tmp_path: Path) -> None:
    """`argus status/alerts/scenario` with no flags, no key, no home: as printed in the banner."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARGUS_", "TACHYON_"))}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")  # the user's default data directory
    cli = [sys.executable, "-c", "from argus.cli.main import main; main()"]
    proc = subprocess.Popen(
        [*cli, "demo", "--port", "0", "--servers", "6", "--backfill-days", "1", "--speed", "60",
         "--train-minutes", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0, env=env,
    )  # fmt: skip

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], capture_output=True, text=True, timeout=60, env=env)

    try:
        out = _read_until(proc, "Ctrl-C stops", timeout=120)
        assert "argus status" in out and "export ARGUS_URL=" in out, out
        status = run("status", "--json")
        assert status.returncode == 0 and json.loads(status.stdout)["servers_tracked"] == 6
        assert run("models", "--json").returncode == 0  # needs the key: the demo's, found with it
        asked = run("scenario", "critical", "--server", "ppapi001")
        assert asked.returncode == 0, asked.stderr
        out += _read_until(proc, "scenario critical", timeout=30)
        assert "memory_leak on ppapi001" in out, out
    finally:
        # SIGTERM even when an assertion failed: the demo then stops its daemon too.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert not (tmp_path / "xdg" / "argus" / "argus.demo.json").exists()
    gone = run("scenario", "critical")
    assert gone.returncode == 1 and "no running demo" in gone.stderr


def test_demo_on_a_busy_port_says_so_before_training(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-c", "from argus.cli.main import main; main()", "demo",
             "--port", str(port), "--home", str(tmp_path)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 1
    assert f"127.0.0.1:{port} is in use" in proc.stderr and "ARGUS_PORT" in proc.stderr
    assert "training" not in proc.stdout

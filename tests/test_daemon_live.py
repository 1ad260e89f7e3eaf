"""A real `argus serve` process: real HTTP, real DuckDB file, signals."""

from __future__ import annotations

import os
import signal
import stat
import subprocess

from tests.factories import LiveDaemon, argus_command, make_batch


def test_ten_thousand_record_batch_is_accepted(daemon: LiveDaemon) -> None:
    resp = daemon.post("/feed/data", json={"records": make_batch(servers=50, steps=200)})
    assert resp.status_code == 200, resp.text
    assert resp.json()["accepted"] == 10_000
    status = daemon.get("/status").json()
    assert status["servers_tracked"] == 50
    assert status["window_records"] == 10_000
    assert status["warmup_complete"] is True


def test_accepted_records_survive_kill_9(tmp_path) -> None:
    live = LiveDaemon(home=tmp_path / "home").start()
    batch = make_batch(servers=4, steps=60)
    resp = live.post("/feed/data", json={"records": batch})
    assert resp.json()["accepted"] == 240
    assert live.stop(signal.SIGKILL) == -signal.SIGKILL

    live.start()
    try:
        status = live.get("/status").json()
        assert status["window_records"] == 240
        assert status["servers_tracked"] == 4
        assert status["ticks"] == 240
        again = live.post("/feed/data", json={"records": batch}).json()
        assert again["duplicates"] == 240 and again["status"] == "ignored"
    finally:
        live.stop()


def test_sigterm_shuts_down_cleanly(tmp_path) -> None:
    live = LiveDaemon(home=tmp_path / "home").start()
    live.post("/feed/data", json={"records": make_batch(servers=1, steps=5)})
    assert live.stop(signal.SIGTERM) == 0
    assert not (live.home / "argus.runtime.json").exists()
    log = live.log.read_text()  # type: ignore[union-attr]
    assert "stopped" in log and "Traceback" not in log


def test_second_daemon_on_same_data_dir_is_refused(daemon: LiveDaemon) -> None:
    proc = subprocess.run(
        argus_command("serve", "--port", "0", "--home", str(daemon.home)),
        env={**os.environ, "ARGUS_API_KEY": daemon.key},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "in use by another process" in proc.stderr
    assert daemon.get("/status").status_code == 200


def test_serve_creates_a_key_file_when_none_is_configured(tmp_path) -> None:
    # Empty variables count as "not configured", so the daemon must make its own key.
    live = LiveDaemon(home=tmp_path / "home", key="", extra_env={"TACHYON_API_KEY": ""})
    live.start()
    try:
        key_path = live.home / ".tachyon_key"
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
        live.key = key_path.read_text().strip()
        assert live.get("/openapi.json").status_code == 200
        printed = live.log.read_text()  # type: ignore[union-attr]
        assert str(key_path) in printed and live.key in printed
    finally:
        live.stop()


def test_keygen_rotates_the_key_file(tmp_path) -> None:
    home = tmp_path / "home"
    first = subprocess.run(
        argus_command("keygen", "--home", str(home)), capture_output=True, text=True, check=True
    ).stdout.strip()
    second = subprocess.run(
        argus_command("keygen", "--home", str(home)), capture_output=True, text=True, check=True
    ).stdout.strip()
    assert first != second and len(second) >= 32
    key_path = home / ".tachyon_key"
    assert key_path.read_text().strip() == second
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600

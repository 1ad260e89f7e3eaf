"""`argus agent` against a real daemon: records in order, a daemon killed mid-stream loses none."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from argus.sources.host import take_sample, to_record
from tests.factories import TEST_KEY, LiveDaemon, argus_command
from tests.thirdparty import free_port

ENV = {**os.environ, "ARGUS_API_KEY": TEST_KEY, "ARGUS_RATE_LIMITS_ENABLED": "false"}


def stored(daemon: LiveDaemon, server: str) -> list[dict[str, Any]]:
    resp = daemon.get("/historical/export/metrics", params={"time_range": "1h", "format": "json"})
    assert resp.status_code == 200, resp.text
    rows = [json.loads(line) for line in resp.text.splitlines() if line.strip()]
    return sorted((r for r in rows if r["server_name"] == server), key=lambda r: r["timestamp"])


def sampled(log: Path) -> list[datetime]:
    """The sample times the agent logged."""
    found = re.findall(r"sampled \S+ at (\S+)", log.read_text())
    return [datetime.fromisoformat(t) for t in found]


def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_host_record_is_valid_and_leaves_out_what_psutil_cannot_see() -> None:
    from argus.records import MetricRecord

    before = take_sample()
    time.sleep(0.2)
    record = to_record(before, take_sample(), "agent-host", "Database")
    parsed = MetricRecord.model_validate(record)
    assert parsed.cpu_cores == psutil.cpu_count()
    assert parsed.java_cpu_pct is None and parsed.back_close_wait is None
    shares = parsed.cpu_user_pct + parsed.cpu_sys_pct + parsed.cpu_idle_pct
    assert shares + (parsed.cpu_iowait_pct or 0.0) <= 100.01
    assert parsed.profile == "Database"


def test_once_buffers_while_the_daemon_is_down_and_sends_the_backlog_in_order(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    buffer = tmp_path / "buffer.jsonl"
    once = argus_command(
        "agent", "--url", url, "--once", "--name", "once-host", "--buffer", str(buffer)
    )
    down = subprocess.run(once, env=ENV, capture_output=True, text=True, timeout=60)
    assert down.returncode == 1, down.stderr
    assert len(buffer.read_text().splitlines()) == 1

    daemon = LiveDaemon(home=tmp_path / "home", port=port, extra_env=ENV).start()
    try:
        up = subprocess.run(once, env=ENV, capture_output=True, text=True, timeout=60)
        assert up.returncode == 0, up.stderr
        rows = stored(daemon, "once-host")
    finally:
        daemon.stop()
    assert len(rows) == 2 and rows[0]["timestamp"] < rows[1]["timestamp"]
    assert buffer.read_text() == ""


def test_a_daemon_killed_while_the_agent_streams_loses_no_sample(tmp_path: Path) -> None:
    port = free_port()
    daemon = LiveDaemon(home=tmp_path / "home", port=port, extra_env=ENV).start()
    log = tmp_path / "agent.log"
    buffer = tmp_path / "buffer.jsonl"
    with open(log, "wb") as out:
        agent = subprocess.Popen(
            argus_command("agent", "--url", daemon.url, "--interval", "1",
                          "--name", "agent-host", "--buffer", str(buffer)),
            env=ENV, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until(lambda: len(stored(daemon, "agent-host")) >= 2, 60, "streamed samples")
        daemon.stop(signal.SIGKILL)
        wait_until(lambda: len(buffer.read_text().splitlines()) >= 3, 60, "a backlog on disk")
        daemon.start()
        restarted = len(sampled(log))
        wait_until(lambda: len(sampled(log)) >= restarted + 2, 60, "samples after the restart")
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=30) == 0
        rows = stored(daemon, "agent-host")
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
        daemon.stop()

    waiting = [json.loads(line)["timestamp"] for line in buffer.read_text().splitlines()]
    # exports carry UTC times with a Z; the agent logs naive UTC
    delivered = {datetime.fromisoformat(r["timestamp"]).replace(tzinfo=None) for r in rows}
    assert len(delivered) == len(rows)  # none stored twice
    everything = delivered | {datetime.fromisoformat(t) for t in waiting}
    assert set(sampled(log)) == everything  # every sample is stored or still waits on disk
    assert len(rows) >= len(sampled(log)) - 1
    assert all(r["cpu_cores"] == psutil.cpu_count() for r in rows)

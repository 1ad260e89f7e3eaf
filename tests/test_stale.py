"""Stale servers through a real daemon: listed apart, alerted, down in /metrics, back again."""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta
from typing import Any

from tests.factories import BASE_TIME, LiveDaemon, argus_command, make_record

ENV = {"ARGUS_CYCLE_CHECK_SECONDS": "0.5", "ARGUS_RATE_LIMITS_ENABLED": "false"}


def records(server: str, steps: range) -> list[dict[str, Any]]:
    return [make_record(server, BASE_TIME + timedelta(minutes=5 * i)) for i in steps]


def wait_for_cycle(daemon: LiveDaemon, timestamp: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        resp = daemon.get("/predictions/current")
        if resp.status_code == 200 and resp.json()["timestamp"] == timestamp:
            return resp.json()
        time.sleep(0.3)
    raise AssertionError(f"no cycle at {timestamp}")


def cli(daemon: LiveDaemon, *args: str) -> str:
    env = {"ARGUS_API_KEY": daemon.key, "PATH": "/usr/bin:/bin", "HOME": str(daemon.home)}
    out = subprocess.run(
        argus_command(*args, "--url", daemon.url), env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_server_that_stops_reporting_is_stale_until_its_data_returns(tmp_path) -> None:
    daemon = LiveDaemon(home=tmp_path / "home", extra_env=ENV).start()
    try:
        # ppweb001 reports for 5 hours; ppdb001 stops 50 minutes before the fleet's newest.
        batch = records("ppweb001", range(60)) + records("ppdb001", range(50))
        assert daemon.post("/feed/data", json={"records": batch}).status_code == 200
        body = wait_for_cycle(daemon, "2025-01-15T04:55:00Z")
        active = daemon.get("/alerts/active").json()["alerts"]
        exposition = daemon.get("/metrics").text
        predictions_out = cli(daemon, "predictions")
        alerts_out = cli(daemon, "alerts")

        back = records("ppdb001", range(50, 61)) + records("ppweb001", range(60, 61))
        assert daemon.post("/feed/data", json={"records": back}).status_code == 200
        after = wait_for_cycle(daemon, "2025-01-15T05:00:00Z")
        active_after = daemon.get("/alerts/active").json()["alerts"]
        history = daemon.get("/historical/alerts", params={"time_range": "1d"}).json()
    finally:
        daemon.stop()

    stale = body["stale_servers"]["ppdb001"]
    assert stale["status"] == "stale"
    assert stale["last_sample"] == "2025-01-15T04:05:00Z"
    assert stale["minutes_without_data"] == 50
    assert "ppdb001" not in body["predictions"] and "ppweb001" in body["predictions"]
    summary = body["summary"]
    assert summary["stale"] == 1 and summary["total_servers"] == 2
    levels = sum(summary[k] for k in ("critical", "warning", "degraded", "healthy"))
    assert levels == 1
    assert summary["fleet_health"] == 100 - body["predictions"]["ppweb001"]["risk_score"]
    [alert] = [a for a in active if a["server_name"] == "ppdb001"]
    assert alert["message"] == "No data for 50 minutes" and alert["dominant_metric"] == "no_data"
    assert 'argus_server_up{server="ppdb001"} 0.0' in exposition
    assert 'argus_server_up{server="ppweb001"} 1.0' in exposition
    assert "stale" in predictions_out and "ppdb001" in predictions_out
    assert "No data for 50 minutes" in alerts_out

    assert after["stale_servers"] == {} and "ppdb001" in after["predictions"]
    assert after["summary"]["stale"] == 0
    assert not [a for a in active_after if a["server_name"] == "ppdb001"]
    events = [(e["event"], e["dominant_metric"]) for e in history["events"]
              if e["server_name"] == "ppdb001"]  # fmt: skip
    assert events == [("new", "no_data"), ("resolved", "no_data")]

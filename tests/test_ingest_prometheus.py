"""The Prometheus pull against real Prometheus and node_exporter processes on loopback."""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import pytest

from argus.sources.prometheus import queries, to_records
from tests.factories import LiveDaemon
from tests.thirdparty import PromStack

STEP = 5  # seconds between pulled samples in these tests (the default is 300)


class Sampler:
    """psutil's view of this host every quarter second, to compare the pulled values with."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, Any, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            mem = psutil.virtual_memory().percent
            self.samples.append((time.time(), psutil.cpu_times(), mem, psutil.getloadavg()[0]))
            self._stop.wait(0.25)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def covers(self, start: float, end: float) -> bool:
        """Whether psutil was read before `start` and after `end` (quarter-second reads)."""
        return bool(self.samples) and self.samples[0][0] <= start and end <= self.samples[-1][0]

    def at(self, when: float) -> tuple[float, Any, float, float]:
        return min(self.samples, key=lambda s: abs(s[0] - when))

    def idle_pct(self, start: float, end: float) -> float:
        a, b = self.at(start)[1], self.at(end)[1]
        total = sum(b) - sum(a) - (b.guest - a.guest) - (b.guest_nice - a.guest_nice)
        return 100.0 * (b.idle - a.idle) / total


def stored(daemon: LiveDaemon, server: str) -> list[dict[str, Any]]:
    resp = daemon.get("/historical/export/metrics", params={"time_range": "1h", "format": "json"})
    assert resp.status_code == 200, resp.text
    rows = [json.loads(line) for line in resp.text.splitlines() if line.strip()]
    return sorted((r for r in rows if r["server_name"] == server), key=lambda r: r["timestamp"])


def epoch(ts: str) -> float:
    return datetime.fromisoformat(ts).replace(tzinfo=UTC).timestamp()


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def pull_errors(daemon: LiveDaemon) -> float:
    for line in daemon.get("/metrics").text.splitlines():
        if line.startswith("argus_prometheus_pull_errors_total "):
            return float(line.split()[1])
    return 0.0


@pytest.fixture
def stack(tmp_path: Path) -> Any:
    started = PromStack(tmp_path / "prom").start()  # skips where a Debian package is missing
    yield started
    started.stop()


def test_pulled_host_matches_psutil_and_an_outage_loses_nothing(
    stack: PromStack, tmp_path: Path
) -> None:
    sampler = Sampler().start()
    env = {
        "ARGUS_PROMETHEUS_URL": stack.prometheus.url,
        "ARGUS_PROMETHEUS_PULL_SECONDS": "2",
        "ARGUS_PROMETHEUS_STEP_SECONDS": str(STEP),
        "ARGUS_PROMETHEUS_SELECTOR": 'job="node"',
        "ARGUS_WINDOW_STEPS": "12",  # a 1-hour backfill: 3 range queries per field at 5 s
        "ARGUS_RATE_LIMITS_ENABLED": "false",  # the export is polled
    }
    daemon = LiveDaemon(home=tmp_path / "home", extra_env=env)
    try:
        daemon.start()
        host = stack.exporter.instance
        wait_until(lambda: len(stored(daemon, host)) >= 3, 60, "three pulled samples")
        stack.prometheus.stop()
        wait_until(lambda: pull_errors(daemon) >= 1, 30, "a counted pull error")
        before = stored(daemon, host)
        stack.prometheus.start()
        outage_end = time.time()
        rows = wait_until(
            lambda: (r := stored(daemon, host))
            and epoch(r[-1]["timestamp"]) > outage_end + STEP
            and r,
            60,
            "samples after the outage",
        )
    finally:
        daemon.stop()
        sampler.stop()

    assert len(rows) > len(before)
    # Nothing Prometheus holds is missing: every step it answers for is stored, once.
    first, last = epoch(rows[0]["timestamp"]), epoch(rows[-1]["timestamp"])
    idle_query = queries("instance", 'job="node"', STEP)["cpu_idle_pct"]
    answer = stack.prometheus.query_range(idle_query, first, last, STEP)
    answered = to_records({"cpu_idle_pct": answer}, "instance")
    assert answered
    assert {epoch(r["timestamp"]) for r in answered} <= {epoch(r["timestamp"]) for r in rows}
    assert len({r["timestamp"] for r in rows}) == len(rows)

    # The same minutes as psutil saw them: within a few points. The backfill also brings
    # samples from before the sampler started (the exporter runs for the whole module).
    pairs = [(r, t) for r in rows if sampler.covers((t := epoch(r["timestamp"])) - STEP, t)]
    assert len(pairs) >= 3, [r["timestamp"] for r in rows]
    cpu = [abs(r["cpu_idle_pct"] - sampler.idle_pct(t - STEP, t)) for r, t in pairs]
    mem = [abs(r["mem_used_pct"] - sampler.at(t)[2]) for r, t in pairs]
    # the median: a window at the daemon's start-up burst can be 30 points off between a
    # scrape-aligned rate() and psutil's quarter-second reads (seen once in CI)
    assert statistics.median(cpu) < 4.0, cpu
    assert max(mem) < 3.0, mem
    assert all(abs(r["load_average"] - sampler.at(t)[3]) < 1.5 for r, t in pairs)
    fullest = max(psutil.disk_usage(p.mountpoint).percent for p in psutil.disk_partitions())
    assert abs(rows[-1]["disk_usage_pct"] - fullest) < 2.0
    assert rows[-1]["cpu_cores"] == psutil.cpu_count()
    assert rows[-1]["java_cpu_pct"] is None and rows[-1]["back_close_wait"] is None
    assert rows[-1]["uptime_days"] == int((time.time() - psutil.boot_time()) // 86400)

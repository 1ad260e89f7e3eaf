"""Prometheus metrics of the daemon (a registry per daemon, never the global one)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from argus.alerts import RANK
from argus.risk import PRESENT_ONLY, URGENT_STEPS

if TYPE_CHECKING:
    from argus.daemon.cycle import Snapshot


class SnapshotCollector(Collector):
    """Per-server gauges read from the latest prediction snapshot at scrape time, so a server
    that leaves the fleet leaves the exposition too."""

    def __init__(self, latest: Callable[[], Snapshot | None]) -> None:
        self._latest = latest

    def collect(self) -> Iterator[Metric]:
        snap = self._latest()
        score = GaugeMetricFamily(
            "argus_risk_score", "Risk score 0-100", labels=["server", "profile"]
        )
        level = GaugeMetricFamily(
            "argus_alert_level",
            "Active alert level: 0 none, 1 degraded, 2 warning, 3 critical",
            labels=["server"],
        )
        prob = GaugeMetricFamily(
            "argus_breach_probability",
            "Probability of a critical breach within the horizon",
            labels=["server", "metric", "horizon"],
        )
        tti = GaugeMetricFamily(
            "argus_time_to_issue_seconds",
            "Time until a breach becomes more likely than not",
            labels=["server"],
        )
        fleet = GaugeMetricFamily("argus_fleet_health", "Fleet health 0-100")
        up = GaugeMetricFamily(
            "argus_server_up",
            "1: the server reports; 0: no data for stale_after_minutes (data time)",
            labels=["server"],
        )
        if snap is not None:
            for name in snap.risks:
                up.add_metric([name], 1)
            for name in snap.stale:
                up.add_metric([name], 0)
                alert = snap.alerts.get(name)
                level.add_metric([name], RANK[alert.level] if alert else 0)
            for name, risk in snap.risks.items():
                score.add_metric([name, snap.profiles[name]], risk.risk_score)
                level.add_metric([name], RANK[snap.levels[name]])
                for metric, mr in risk.metrics.items():
                    if metric in PRESENT_ONLY:  # no forecast, no probability
                        continue
                    prob.add_metric([name, metric, "30m"], mr.within(URGENT_STEPS))
                    prob.add_metric([name, metric, "8h"], mr.within(len(mr.probabilities)))
                if risk.time_to_issue_minutes is not None:
                    tti.add_metric([name], risk.time_to_issue_minutes * 60)
            fleet.add_metric([], snap.summary.fleet_health)
        yield from (score, level, prob, tti, fleet, up)


class Telemetry:
    """Counters and durations of ingest and prediction, plus the snapshot's gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.ingest_records = Counter("argus_ingest_records", "Records stored", registry=r)
        self.ingest_duplicates = Counter(
            "argus_ingest_duplicates", "Duplicate records skipped", registry=r
        )
        self.ingest_batches = Counter("argus_ingest_batches", "Batches stored", registry=r)
        self.ingest_seconds = Histogram(
            "argus_ingest_duration_seconds", "Time to validate and store a batch", registry=r
        )
        self.cycles = Counter("argus_prediction_cycles", "Prediction cycles run", registry=r)
        self.cycle_failures = Counter(
            "argus_prediction_cycle_failures", "Prediction cycles that failed", registry=r
        )
        self.cycle_seconds = Histogram(
            "argus_prediction_cycle_duration_seconds",
            "Duration of a prediction cycle",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.pulls = Counter(
            "argus_prometheus_pulls", "Pulls from Prometheus that completed", registry=r
        )
        self.pull_errors = Counter(
            "argus_prometheus_pull_errors",
            "Pulls from Prometheus that failed (the next pull catches up)",
            registry=r,
        )
        self.pull_rejected = Counter(
            "argus_prometheus_rejected_records",
            "Pulled samples that failed the feed's validation and were not stored",
            registry=r,
        )
        self.notify_sent = Counter(
            "argus_notifications_sent", "Notifications delivered", ["channel"], registry=r
        )
        self.notify_failures = Counter(
            "argus_notification_failures",
            "Notification attempts that failed (each is retried unless rejected)",
            ["channel"],
            registry=r,
        )
        self.notify_pending = Gauge(
            "argus_notifications_pending", "Notifications waiting in the outbox", ["channel"],
            registry=r,
        )
        self.clock_jumps = Counter(
            "argus_clock_jumps",
            "Batches that moved data time ahead by over clock_jump_hours",
            registry=r,
        )
        self.retention_refusals = Counter(
            "argus_retention_refusals",
            "Retention passes skipped because they would delete over retention_max_share",
            registry=r,
        )
        self._lock = threading.Lock()
        self.last_ingest: datetime | None = None
        self.cycle_count = 0

    def watch(self, latest: Callable[[], Snapshot | None]) -> None:
        """Expose the per-server gauges of whatever snapshot `latest` returns."""
        self.registry.register(SnapshotCollector(latest))

    def record_ingest(self, accepted: int, duplicates: int, seconds: float, at: datetime) -> None:
        self.ingest_batches.inc()
        self.ingest_records.inc(accepted)
        self.ingest_duplicates.inc(duplicates)
        self.ingest_seconds.observe(seconds)
        with self._lock:
            self.last_ingest = at

    def record_cycle(self, seconds: float) -> None:
        self.cycles.inc()
        self.cycle_seconds.observe(seconds)
        self.cycle_count += 1

"""The in-memory rolling window: every server on the 5-minute grid, samples averaged per bucket."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argus.catalogue import METRIC_NAMES, OPTIONAL_FIELDS, STEP_MINUTES, profile_for

STEP = timedelta(minutes=STEP_MINUTES)
_OPTIONAL = tuple(f.name for f in OPTIONAL_FIELDS)


def bucket_start(ts: datetime) -> datetime:
    """Floor a timestamp to the start of its 5-minute bucket."""
    floored = ts.replace(second=0, microsecond=0)
    return floored - timedelta(minutes=floored.minute % STEP_MINUTES)


def _bucket_row(samples: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Average the samples of one bucket; the last sample's status stands for the bucket."""
    n = len(samples)
    if n == 1:  # the usual case: one sample per 5-minute bucket
        only = samples[0]
        row: dict[str, Any] = {name: float(only[name]) for name in METRIC_NAMES}
        for name in _OPTIONAL:
            row[name] = only.get(name)
        row["status"] = only["status"]
        return row
    row = {name: sum(s[name] for s in samples) / n for name in METRIC_NAMES}
    for name in _OPTIONAL:
        present = [s[name] for s in samples if s.get(name) is not None]
        row[name] = sum(present) / len(present) if present else None
    row["status"] = samples[-1]["status"]
    return row


def _cached_row(name: str, server: _Server, ts: datetime) -> dict[str, Any]:
    row = server.cache.get(ts)
    if row is None:
        row = {"timestamp": ts, "server_name": name, "profile": server.profile}
        row.update(_bucket_row(server.buckets[ts]))
        server.cache[ts] = row
    return row


@dataclass
class _Server:
    profile: str
    # Raw samples per bucket: averaging waits until a reader asks, keeping ingest cheap.
    buckets: dict[datetime, list[Mapping[str, Any]]] = field(default_factory=dict)
    # Averaged rows of buckets no sample has touched since they were last read.
    cache: dict[datetime, dict[str, Any]] = field(default_factory=dict)
    records: int = 0


class FleetWindow:
    """The last `capacity` 5-minute buckets of every server, rebuilt from storage at start-up."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._servers: dict[str, _Server] = {}
        self._lock = threading.Lock()
        self._records = 0
        self._latest: datetime | None = None

    def add(self, samples: Iterable[Mapping[str, Any]]) -> None:
        """Add raw samples (feed-record dicts with a naive-UTC `timestamp`)."""
        with self._lock:
            touched: set[str] = set()
            for sample in samples:
                name = str(sample["server_name"])
                server = self._servers.get(name)
                profile = sample.get("profile") or profile_for(name)
                if server is None:
                    server = self._servers[name] = _Server(profile=profile)
                if server.profile != profile:
                    server.profile = profile
                    server.cache.clear()
                ts: datetime = sample["timestamp"]
                bucket = bucket_start(ts)
                server.buckets.setdefault(bucket, []).append(sample)
                server.cache.pop(bucket, None)
                server.records += 1
                self._records += 1
                if self._latest is None or ts > self._latest:
                    self._latest = ts
                touched.add(name)
            for name in touched:
                self._trim(self._servers[name])

    def _trim(self, server: _Server) -> None:
        # Sorting on every add would cost O(n log n) per batch; trim only past 10% slack.
        if len(server.buckets) <= self.capacity * 1.1:
            return
        keep = sorted(server.buckets)[-self.capacity :]
        dropped = sum(len(b) for ts, b in server.buckets.items() if ts < keep[0])
        server.buckets = {ts: server.buckets[ts] for ts in keep}
        server.cache = {ts: row for ts, row in server.cache.items() if ts >= keep[0]}
        server.records -= dropped
        self._records -= dropped

    @property
    def record_count(self) -> int:
        """Raw samples held in the window, all servers together."""
        return self._records

    @property
    def latest(self) -> datetime | None:
        """The newest sample time: Argus's clock is the data's timestamps."""
        return self._latest

    def servers(self) -> dict[str, str]:
        """Map each tracked server to its profile."""
        with self._lock:
            return {name: s.profile for name, s in self._servers.items()}

    def bucket_count(self) -> int:
        with self._lock:
            return sum(min(len(s.buckets), self.capacity) for s in self._servers.values())

    def server_rows(self, name: str, until: datetime | None = None) -> list[dict[str, Any]]:
        """One server's buckets up to `until` (a bucket start) as feed-schema rows, in time
        order; [] for an unknown server. Explanations read one server without the fleet."""
        with self._lock:
            server = self._servers.get(name)
            if server is None:
                return []
            out: list[dict[str, Any]] = []
            horizon = self.horizon()
            for ts in sorted(server.buckets)[-self.capacity :]:
                if until is not None and ts > until:
                    break
                if horizon is not None and ts < horizon:
                    continue
                out.append(dict(_cached_row(name, server, ts)))
            return out

    def horizon(self) -> datetime | None:
        """The oldest bucket start any reader gets: `capacity` buckets before the newest.

        A server's own buckets are trimmed per server, so one that last reported long ago still
        holds old buckets; bounding every read by the fleet's clock keeps each grid a cycle
        builds within the window, whatever timestamps were stored.
        """
        if self._latest is None:
            return None
        return bucket_start(self._latest) - STEP * (self.capacity - 1)

    def rows(self) -> list[dict[str, Any]]:
        """Return every bucket as a feed-schema row (means), per server in time order.

        The rows are shared with the window's cache: read them, never modify them.
        """
        with self._lock:
            horizon = self.horizon()
            return [
                _cached_row(name, server, ts)
                for name, server in sorted(self._servers.items())
                for ts in sorted(server.buckets)[-self.capacity :]
                if horizon is None or ts >= horizon
            ]

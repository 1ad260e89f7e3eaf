"""The in-memory rolling window: every server on the 5-minute grid, samples averaged per bucket."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argus.catalogue import (
    ABSENTABLE_METRICS,
    CPU_CORES_FIELD,
    METRIC_NAMES,
    OPTIONAL_FIELDS,
    STEP_MINUTES,
    profile_for,
)

STEP = timedelta(minutes=STEP_MINUTES)
_REQUIRED = tuple(n for n in METRIC_NAMES if n not in ABSENTABLE_METRICS)
# Fields that may be None: a bucket's value is the mean of the samples that have one, else None
# (never a made-up number; the forecast grid decides how a missing input is filled).
_OPTIONAL = (
    *(n for n in METRIC_NAMES if n in ABSENTABLE_METRICS),
    *(f.name for f in OPTIONAL_FIELDS),
)
_CORES = CPU_CORES_FIELD.name


def bucket_start(ts: datetime) -> datetime:
    """Floor a timestamp to the start of its 5-minute bucket."""
    floored = ts.replace(second=0, microsecond=0)
    return floored - timedelta(minutes=floored.minute % STEP_MINUTES)


def _bucket_row(samples: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Average the samples of one bucket; the last sample's status stands for the bucket."""
    n = len(samples)
    if n == 1:  # the usual case: one sample per 5-minute bucket
        only = samples[0]
        row: dict[str, Any] = {name: float(only[name]) for name in _REQUIRED}
        for name in _OPTIONAL:
            value = only.get(name)
            row[name] = None if value is None else float(value)
        row["status"] = only["status"]
        row[_CORES] = only.get(_CORES)
        return row
    row = {name: sum(s[name] for s in samples) / n for name in _REQUIRED}
    for name in _OPTIONAL:
        present = [s[name] for s in samples if s.get(name) is not None]
        row[name] = sum(present) / len(present) if present else None
    row["status"] = samples[-1]["status"]
    # A core count is a fact, not a level: the bucket's latest one stands.
    row[_CORES] = next((s[_CORES] for s in reversed(samples) if s.get(_CORES)), None)
    return row


def _cached_row(name: str, server: _Server, ts: datetime) -> dict[str, Any]:
    row = server.cache.get(ts)
    if row is None:
        row = {"timestamp": ts, "server_name": name, "profile": server.profile}
        row.update(_bucket_row(server.buckets[ts]))
        server.cache[ts] = row
    return row


@dataclass(frozen=True)
class ServerFacts:
    """What the window knows about a server besides its values."""

    profile: str
    last_sample: datetime  # its newest raw sample
    reported: frozenset[str]  # the optional fields it has sent a value for
    cpu_cores: int | None  # the CPU count of its newest sample that had one


@dataclass
class _Server:
    profile: str
    # Raw samples per bucket: averaging waits until a reader asks, keeping ingest cheap.
    buckets: dict[datetime, list[Mapping[str, Any]]] = field(default_factory=dict)
    # Averaged rows of buckets no sample has touched since they were last read.
    cache: dict[datetime, dict[str, Any]] = field(default_factory=dict)
    records: int = 0
    last_sample: datetime | None = None
    reported: set[str] = field(default_factory=set)
    cores_at: datetime | None = None  # time of the sample `cpu_cores` came from
    cpu_cores: int | None = None

    def note(self, sample: Mapping[str, Any], ts: datetime) -> None:
        """Remember the sample's time, the optional fields it carries and its core count."""
        if self.last_sample is None or ts > self.last_sample:
            self.last_sample = ts
        for name in _OPTIONAL:
            if name not in self.reported and sample.get(name) is not None:
                self.reported.add(name)
        cores = sample.get(_CORES)
        if cores and (self.cores_at is None or ts >= self.cores_at):
            self.cores_at, self.cpu_cores = ts, int(cores)


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
                server.note(sample, ts)
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

    def facts(self) -> dict[str, ServerFacts]:
        """Each tracked server's profile, last sample time, reported optional fields and
        reported CPU count."""
        with self._lock:
            return {
                name: ServerFacts(
                    s.profile, s.last_sample, frozenset(s.reported), s.cpu_cores
                )
                for name, s in self._servers.items()
                if s.last_sample is not None
            }

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

    def rows(self, exclude: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        """Return every bucket as a feed-schema row (means), per server in time order, leaving
        out the servers in `exclude`.

        The rows are shared with the window's cache: read them, never modify them.
        """
        with self._lock:
            horizon = self.horizon()
            return [
                _cached_row(name, server, ts)
                for name, server in sorted(self._servers.items())
                if name not in exclude
                for ts in sorted(server.buckets)[-self.capacity :]
                if horizon is None or ts >= horizon
            ]

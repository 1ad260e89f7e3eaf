"""The in-memory rolling window: every server on the 5-minute grid, samples averaged per bucket,
handed out as one `FleetGrid`."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from argus.catalogue import (
    ABSENTABLE_METRICS,
    CPU_CORES_FIELD,
    METRIC_NAMES,
    OPTIONAL_FIELDS,
    STEP_MINUTES,
    profile_for,
)
from argus.grid import FIELDS, FleetGrid, build, step_of

STEP = timedelta(minutes=STEP_MINUTES)
# Fields that may be None (the rest every record has).
_OPTIONAL = (
    *(n for n in METRIC_NAMES if n in ABSENTABLE_METRICS),
    *(f.name for f in OPTIONAL_FIELDS),
)
_CORES = CPU_CORES_FIELD.name


def bucket_start(ts: datetime) -> datetime:
    """Floor a timestamp to the start of its 5-minute bucket."""
    floored = ts.replace(second=0, microsecond=0)
    return floored - timedelta(minutes=floored.minute % STEP_MINUTES)


def _mean_row(samples: list[Mapping[str, Any]]) -> list[Any]:
    """One bucket's value of each grid field: the mean of the samples that have it, else None
    (NaN once in an array: never a made-up number; the forecast grid decides how a missing
    input is filled)."""
    if len(samples) == 1:  # the usual case: one sample per 5-minute bucket
        return list(map(samples[0].get, FIELDS))
    out = []
    for name in FIELDS:
        present = [s[name] for s in samples if s.get(name) is not None]
        out.append(sum(present) / len(present) if present else None)
    return out


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
    # Buckets a sample touched since the arrays below were last brought up to date.
    dirty: set[datetime] = field(default_factory=set)
    # The averaged buckets, sorted: grid steps and (steps, FIELDS) means.
    steps: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    means: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty((0, len(FIELDS))))
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

    def averaged(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The sorted grid steps and bucket means, averaging only the buckets touched since the
        last read (a cycle's read averages one new bucket per server, not the whole window)."""
        if not self.dirty:
            return self.steps, self.means
        changed = sorted(ts for ts in self.dirty if ts in self.buckets)
        self.dirty.clear()
        new_steps = np.fromiter((step_of(ts) for ts in changed), np.int64, len(changed))
        new_means = np.array([_mean_row(self.buckets[ts]) for ts in changed], dtype=np.float64)
        steps, means = self.steps, self.means
        if len(steps) and len(new_steps) and new_steps[0] <= steps[-1]:
            keep = ~np.isin(steps, new_steps)  # a late sample: its bucket is averaged anew
            steps, means = steps[keep], means[keep]
        steps = np.concatenate([steps, new_steps])
        means = np.concatenate([means, new_means.reshape(-1, len(FIELDS))])
        if len(steps) > 1 and not (np.diff(steps) > 0).all():
            order = np.argsort(steps, kind="stable")
            steps, means = steps[order], means[order]
        self.steps, self.means = steps, means
        return steps, means


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
                server.profile = profile
                ts: datetime = sample["timestamp"]
                bucket = bucket_start(ts)
                server.buckets.setdefault(bucket, []).append(sample)
                server.note(sample, ts)
                server.dirty.add(bucket)
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
        server.dirty = {ts for ts in server.dirty if ts >= keep[0]}
        kept = server.steps >= step_of(keep[0])
        server.steps, server.means = server.steps[kept], server.means[kept]
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

    def horizon(self) -> datetime | None:
        """The oldest bucket start any reader gets: `capacity` buckets before the newest.

        A server's own buckets are trimmed per server, so one that last reported long ago still
        holds old buckets; bounding every read by the fleet's clock keeps each grid a cycle
        builds within the window, whatever timestamps were stored.
        """
        if self._latest is None:
            return None
        return bucket_start(self._latest) - STEP * (self.capacity - 1)

    def grid(
        self,
        exclude: Collection[str] = frozenset(),
        only: str | None = None,
        until: datetime | None = None,
    ) -> FleetGrid:
        """Every server's buckets within the window on one grid, leaving out the servers in
        `exclude` (with `only`: that server alone; with `until`: no bucket after that time)."""
        with self._lock:
            horizon = self.horizon()
            lo = None if horizon is None else step_of(horizon)
            hi = None if until is None else step_of(until)
            if only is None:
                names = sorted(self._servers)
            else:
                names = [only] if only in self._servers else []
            parts = []
            for name in names:
                if name in exclude:
                    continue
                server = self._servers[name]
                steps, means = server.averaged()
                inside = np.ones(len(steps), dtype=bool)
                if lo is not None:
                    inside &= steps >= lo
                if hi is not None:
                    inside &= steps <= hi
                if inside.any():
                    parts.append((name, server.profile, steps[inside], means[inside]))
            return build(parts)

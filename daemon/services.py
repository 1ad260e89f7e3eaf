"""The one dependency container handed to create_app, the jobs and the server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from argus.config import Settings
from argus.storage.store import Store
from argus.window import FleetWindow


def utc_now() -> datetime:
    """Wall-clock time as naive UTC, the form every stored timestamp takes."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class IngestStats:
    """Counters of the feed; updated under a lock by concurrent requests."""

    batches: int = 0
    records: int = 0
    duplicates: int = 0
    last_ingest: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, accepted: int, duplicates: int, at: datetime) -> None:
        with self._lock:
            self.batches += 1
            self.records += accepted
            self.duplicates += duplicates
            self.last_ingest = at


@dataclass
class Services:
    """Everything a request or a job may use; built once per daemon (or per test)."""

    settings: Settings
    store: Store
    window: FleetWindow
    api_key: str
    clock: Callable[[], datetime] = utc_now
    started: float = field(default_factory=time.monotonic)
    ingest: IngestStats = field(default_factory=IngestStats)

    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started

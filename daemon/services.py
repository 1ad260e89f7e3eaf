"""The one dependency container handed to create_app, the jobs and the server."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from argus.alerts import ActiveAlert
from argus.config import Settings
from argus.daemon.models import ModelHolder
from argus.daemon.notify_job import NotifyState
from argus.daemon.telemetry import Telemetry
from argus.daemon.training import TrainingManager
from argus.explain.cache import ExplanationCache
from argus.storage.store import Store
from argus.window import FleetWindow

if TYPE_CHECKING:
    from argus.daemon.cascade_job import CascadeView
    from argus.daemon.cycle import Snapshot
    from argus.daemon.drift_job import DriftCheck


def utc_now() -> datetime:
    """Wall-clock time as naive UTC, the form every stored timestamp takes."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Services:
    """Everything a request or a job may use; built once per daemon (or per test).

    `snapshot` is replaced (one reference assignment) by the prediction job and only read by
    requests, so a GET always sees one complete cycle.
    """

    settings: Settings
    store: Store
    window: FleetWindow
    api_key: str
    models: ModelHolder
    telemetry: Telemetry = field(default_factory=Telemetry)
    clock: Callable[[], datetime] = utc_now
    started: float = field(default_factory=time.monotonic)
    snapshot: Snapshot | None = None
    cascade: CascadeView | None = None  # replaced by the cascade job, like `snapshot`
    last_cycle_at: float = 0.0  # monotonic time of the last cycle attempt
    restored_alerts: Mapping[str, ActiveAlert] = field(default_factory=dict)
    drift: DriftCheck | None = None  # replaced by the hourly drift job
    explanations: ExplanationCache[bytes] = field(default_factory=ExplanationCache)
    notify: NotifyState = field(default_factory=NotifyState)  # alert delivery (notify_job)
    training: TrainingManager = field(init=False)

    def __post_init__(self) -> None:
        self.telemetry.watch(lambda: self.snapshot)
        self.training = TrainingManager(self)

    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started

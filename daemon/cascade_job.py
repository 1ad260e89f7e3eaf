"""Cascade detection after each prediction cycle: detect, store new episodes, publish bodies."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from argus.cascade import TRACKED_METRICS, CascadeResult, CascadeSettings, detect, from_grid
from argus.cascade.detector import new_episode
from argus.catalogue import STEP_MINUTES
from argus.daemon.api.cascade import (
    CascadeBrief,
    CascadeEventBody,
    CascadeStatusBody,
    CascadeThresholds,
    CascadeTracking,
    CurrentCascadeStatus,
    FleetHealthBody,
)
from argus.daemon.notify_job import notify_cascade
from argus.storage.cascades import (
    StoredCascadeEvent,
    count_cascade_events,
    last_cascade_time,
    read_cascade_events,
    save_cascade_event,
    update_cascade_event,
)

if TYPE_CHECKING:
    from argus.daemon.cycle import Snapshot
    from argus.daemon.services import Services
    from argus.grid import FleetGrid

log = logging.getLogger("argus.cascade")

RECENT_EVENTS = 10


@dataclass(frozen=True)
class CascadeView:
    """One published detection: the result and its serialised GET bodies; never mutated."""

    result: CascadeResult
    last_cascade_at: datetime | None  # data time the current (or last) episode was last seen
    episode_start: datetime | None  # data time the current (or last) episode began
    episode_affected: int  # most servers the episode's stored event names
    bodies: Mapping[str, bytes]
    seconds: float
    episode_servers: frozenset[str] = frozenset()  # every server the episode has named


def _current(result: CascadeResult) -> CurrentCascadeStatus:
    return CurrentCascadeStatus(
        cascade_detected=result.cascade_detected,
        timestamp=result.timestamp,
        total_servers=result.total_servers,
        servers_with_anomalies=result.servers_with_anomalies,
        anomaly_rate=round(result.anomaly_rate, 3),
        correlation_score=result.correlation_score,
        cascades=[
            CascadeBrief(
                metric=c.metric,
                affected_servers=list(c.affected_servers),
                severity=c.severity,
                rule=c.rule,  # type: ignore[arg-type]
                correlation=c.correlation,
                onsets=list(c.onsets),
            )
            for c in result.cascades
        ],
        origin=result.origin,
        origin_profile=result.origin_profile,
        affected_servers=list(result.affected_servers),
        recommendations=list(result.recommendations),
        anomalous_servers=list(result.anomalous_servers),
        baseline=result.baseline,  # type: ignore[arg-type]
    )


def _event(event: StoredCascadeEvent) -> CascadeEventBody:
    return CascadeEventBody(
        timestamp=event.event_time,
        cascades=[CascadeBrief.model_validate(c) for c in event.cascades],
        correlation_score=event.correlation_score,
        affected_servers=list(event.affected_servers),
        origin=event.origin,
        severity=event.severity,  # type: ignore[arg-type]
        recommendations=list(event.recommendations),
        total_servers=event.total_servers,
        detected_at=event.detected_at,
    )


def build_bodies(
    result: CascadeResult,
    events: Sequence[StoredCascadeEvent],
    event_count: int,
    cfg: CascadeSettings,
    computed_at: datetime,
) -> dict[str, bytes]:
    """Serialise the two GET responses once per detection."""
    status = CascadeStatusBody(
        current_status=_current(result),
        tracking=CascadeTracking(
            servers=result.total_servers,
            metrics_tracked=list(result.metrics),
            window_size=cfg.window_size,
        ),
        recent_events=[_event(e) for e in events],
        event_count=event_count,
        thresholds=CascadeThresholds(
            correlation=cfg.correlation,
            cascade_servers=cfg.cascade_servers,
            anomaly_z_score=cfg.anomaly_z_score,
            cooccurrence_minutes=cfg.cooccurrence_steps * STEP_MINUTES,
        ),
        computed_at=computed_at,
    )
    health = FleetHealthBody(
        health_score=result.health_score,
        status=result.status,
        correlation_score=result.correlation_score,
        anomaly_rate=round(result.anomaly_rate, 3),
        anomalous_servers=result.servers_with_anomalies,
        total_servers=result.total_servers,
        cascade_risk=result.cascade_risk,
        cascade_detected=result.cascade_detected,
        timestamp=result.timestamp,
    )
    return {
        "status": status.model_dump_json().encode(),
        "health": health.model_dump_json().encode(),
    }


def cascade_settings(services: Services) -> CascadeSettings:
    """The detector's settings: the daemon's configured thresholds, documented defaults else."""
    settings = services.settings
    return CascadeSettings(
        anomaly_z_score=settings.cascade_anomaly_z,
        cascade_servers=settings.cascade_servers,
        correlation=settings.cascade_correlation,
    )


def detect_and_publish(
    services: Services, cfg: CascadeSettings | None = None, grid: FleetGrid | None = None
) -> CascadeView | None:
    """Detect over the window (`grid`: the cycle's grid of it, else a new one), store a new
    episode's event, publish the view; None: no data."""
    cfg = cfg or cascade_settings(services)
    started = time.perf_counter()
    grid = grid if grid is not None else services.window.grid()
    result = detect(from_grid(grid, TRACKED_METRICS), cfg)
    if result is None:
        return None
    previous = services.cascade
    if previous is None:
        last_at = episode = last_cascade_time(services.store)
        stored = read_cascade_events(services.store, 1)
        peak, members = 0, frozenset(stored[0].affected_servers if stored else ())
    else:
        last_at, episode = previous.last_cascade_at, previous.episode_start
        peak, members = previous.episode_affected, previous.episode_servers
    computed_at = services.clock()
    if new_episode(last_at, result, cfg, members):
        save_cascade_event(services.store, result, computed_at)
        episode, peak = result.timestamp, len(result.affected_servers)
        members = frozenset(result.affected_servers)
    elif result.cascade_detected and episode and len(result.affected_servers) > peak:
        # The stored event follows the episode as it spreads: more servers, a clearer origin.
        update_cascade_event(services.store, episode, result)
        peak = len(result.affected_servers)
    if result.cascade_detected:
        last_at = result.timestamp
        members |= frozenset(result.affected_servers)
    events = read_cascade_events(services.store, RECENT_EVENTS)
    bodies = build_bodies(result, events, count_cascade_events(services.store), cfg, computed_at)
    seconds = time.perf_counter() - started
    view = CascadeView(result, last_at, episode, peak, bodies, seconds, members)
    services.cascade = view  # one reference assignment: GETs see a whole detection or the last
    return view


def run_cascade_detection(
    services: Services, snapshot: Snapshot, grid: FleetGrid | None = None
) -> CascadeView | None:
    """Run detection after a prediction cycle (on its `grid`); a failure is logged and never
    reaches the cycle."""
    try:
        view = detect_and_publish(services, grid=grid)
    except Exception:
        log.exception(
            "cascade detection failed at %s; the last result keeps serving", snapshot.data_time
        )
        return None
    if view is not None:
        result = view.result
        log.info(
            "cascade %s: %d/%d anomalous, correlation %.2f, %d cascades, %.2fs",
            result.timestamp,
            result.servers_with_anomalies,
            result.total_servers,
            result.correlation_score,
            len(result.cascades),
            view.seconds,
        )
        gap = timedelta(minutes=STEP_MINUTES * cascade_settings(services).episode_gap_steps)
        notify_cascade(services, view, gap)
    return view

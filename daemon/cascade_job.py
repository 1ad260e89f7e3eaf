"""Cascade detection after each prediction cycle: detect, store new episodes, publish bodies."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from argus.cascade import TRACKED_METRICS, CascadeResult, CascadeSettings, detect, from_grid
from argus.cascade.episodes import Episode, EpisodeView, episode_gap, track
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
    read_cascade_events,
    save_episode,
    stored_episodes,
)

if TYPE_CHECKING:
    from argus.daemon.cycle import Snapshot
    from argus.daemon.services import Services

log = logging.getLogger("argus.cascade")

RECENT_EVENTS = 10


@dataclass(frozen=True)
class CascadeView:
    """One published detection: the result and its serialised GET bodies; never mutated."""

    result: CascadeResult
    episodes: tuple[Episode, ...]  # open after this detection, oldest first
    named: tuple[EpisodeView, ...]  # the episodes this detection named
    bodies: Mapping[str, bytes]
    seconds: float


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


def _event(event: StoredCascadeEvent, now: datetime, gap: timedelta) -> CascadeEventBody:
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
        last_seen=event.last_seen,
        ongoing=now - event.last_seen <= gap,
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
        recent_events=[_event(e, result.timestamp, episode_gap(cfg)) for e in events],
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
    services: Services, cfg: CascadeSettings | None = None
) -> CascadeView | None:
    """Detect over the window's grid, file the cascades under their episodes (a new one
    stored, an ongoing one updated), publish the view; None: no data."""
    cfg = cfg or cascade_settings(services)
    started = time.perf_counter()
    result = detect(from_grid(services.window.grid(), TRACKED_METRICS), cfg)
    if result is None:
        return None
    previous = services.cascade
    # After a restart the stored episodes seen recently enough are still open.
    known = previous.episodes if previous else stored_episodes(services.store, RECENT_EVENTS)
    tracking = track(known, result, cfg)
    computed_at = services.clock()
    for named in tracking.views:
        save_episode(services.store, named, result.total_servers, computed_at)
    events = read_cascade_events(services.store, RECENT_EVENTS)
    bodies = build_bodies(result, events, count_cascade_events(services.store), cfg, computed_at)
    seconds = time.perf_counter() - started
    view = CascadeView(result, tracking.episodes, tracking.views, bodies, seconds)
    services.cascade = view  # one reference assignment: GETs see a whole detection or the last
    return view


def run_cascade_detection(services: Services, snapshot: Snapshot) -> CascadeView | None:
    """Run detection after a prediction cycle; a failure is logged and never reaches the
    cycle."""
    try:
        view = detect_and_publish(services)
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
        notify_cascade(services, view)
    return view

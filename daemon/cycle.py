"""The prediction cycle: forecast every server, score risk, advance alerts, publish a snapshot.

It runs on the scheduler (never in a request) for every new 5-minute bucket of data, and on a
timer. The result is an immutable Snapshot; publishing it is one reference assignment, so GETs
always read a complete cycle.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from argus.alerts import ActiveAlert, AlertPolicy, advance, server_levels
from argus.catalogue import ABSENTABLE_METRICS, TARGET_SOURCES, TARGETS
from argus.daemon.cascade_job import run_cascade_detection
from argus.daemon.notify_job import remember, server_rows
from argus.forecast.base import ForecastSet
from argus.risk import FleetSummary, ServerRisk, assess_server, fleet_summary, observed_values
from argus.staleness import StaleServer, stale_servers
from argus.storage.forecasts import POINT_COLUMNS, save_points
from argus.storage.predictions import CycleRecord, save_cycle
from argus.thresholds import Level
from argus.window import ServerFacts, bucket_start

if TYPE_CHECKING:
    from argus.daemon.services import Services
    from argus.daemon.views import PredictionParts
    from argus.grid import FleetGrid

log = logging.getLogger("argus.cycle")


@dataclass(frozen=True)
class Snapshot:
    """Everything one prediction cycle concluded; never mutated after publication."""

    data_time: datetime  # the newest 5-minute bucket the cycle saw (Argus's clock)
    computed_at: datetime  # wall clock
    forecast: ForecastSet
    risks: Mapping[str, ServerRisk]
    levels: Mapping[str, Level]  # each server's one level (argus.alerts.server_levels)
    profiles: Mapping[str, str]
    latest: Mapping[str, Mapping[str, Any]]  # each server's newest bucket (feed-schema means)
    summary: FleetSummary
    alerts: Mapping[str, ActiveAlert]
    bodies: Mapping[str, bytes]  # serialised GET responses, built once per cycle
    facts: Mapping[str, ServerFacts]  # every tracked server's reported fields and core count
    stale: Mapping[str, StaleServer]  # servers that stopped reporting: no forecast, no risk
    parts: PredictionParts | None = None  # the predictions body in pieces, for filters

    def targets_of(self, server: str) -> tuple[str, ...]:
        """The forecast targets a server reports (the others are not served)."""
        return reported_targets(self.facts[server])


def reported_targets(fact: ServerFacts) -> tuple[str, ...]:
    """The targets whose source field the server has sent (required fields always are)."""
    return tuple(
        t
        for t in TARGETS
        if TARGET_SOURCES[t] not in ABSENTABLE_METRICS or TARGET_SOURCES[t] in fact.reported
    )


def compute_snapshot(
    services: Services,
    previous_alerts: Mapping[str, ActiveAlert],
    policy: AlertPolicy,
    grid: FleetGrid,
) -> tuple[Snapshot, list, float]:
    """Run the model and the risk engine over the window's `grid`; return the snapshot, events,
    seconds."""
    from argus.daemon.views import build_bodies, prediction_parts

    started = time.perf_counter()
    window = services.window
    facts = window.facts()
    latest_time = window.latest
    assert latest_time is not None  # noqa: S101 - cycles run only once data arrived
    stale = stale_servers(facts, latest_time, services.settings.stale_after_minutes)
    grid = grid.select(set(grid.servers) - set(stale))  # no forecast for a silent server
    latest = grid.latest_rows()
    forecast = services.models.forecast(grid)
    profiles = {name: str(row["profile"]) for name, row in latest.items()}
    risks = {
        name: assess_server(
            forecast,
            name,
            profiles[name],
            observed_values(latest[name]),
            cores=facts[name].cpu_cores,
            metrics=reported_targets(facts[name]),
        )
        for name in forecast.servers
    }
    data_time = bucket_start(latest_time)
    alerts, events = advance(previous_alerts, risks.values(), data_time, policy, stale)
    levels = server_levels(alerts, risks)
    snapshot = Snapshot(
        data_time=data_time,
        computed_at=services.clock(),
        forecast=forecast,
        risks=risks,
        levels=levels,
        profiles=profiles,
        latest=latest,
        summary=fleet_summary(list(risks.values()), levels, len(stale)),
        alerts=alerts,
        bodies={},
        facts=facts,
        stale=stale,
    )
    parts = prediction_parts(snapshot)
    snapshot = Snapshot(
        **{**snapshot.__dict__, "bodies": build_bodies(snapshot, parts), "parts": parts}
    )
    return snapshot, events, time.perf_counter() - started


def run_cycle(services: Services) -> Snapshot | None:
    """Run one cycle, store it and publish it; None while the window is warming up."""
    if services.window.record_count < services.settings.warmup_records:
        return None
    previous = services.snapshot
    policy = AlertPolicy(services.settings.alert_hysteresis, services.settings.alert_min_dwell)
    prior_alerts = previous.alerts if previous else services.restored_alerts
    grid = services.window.grid()
    snapshot, events, seconds = compute_snapshot(services, prior_alerts, policy, grid)
    summary = snapshot.summary
    outbox = server_rows(services, snapshot, events)
    save_cycle(
        services.store,
        CycleRecord(
            data_time=snapshot.data_time,
            computed_at=snapshot.computed_at,
            duration_ms=seconds * 1000,
            fleet_health=summary.fleet_health,
            prob_30m=summary.prob_30m,
            prob_8h=summary.prob_8h,
            counts=summary.counts,
            model=services.models.current.forecaster.name,
            risks=[
                (r, snapshot.levels[n], snapshot.profiles[n], snapshot.forecast.model_of(n))
                for n, r in snapshot.risks.items()
            ],
            events=events,
            outbox=outbox,
        ),
    )
    save_points(services.store, forecast_points(snapshot))
    services.snapshot = snapshot
    remember(services.notify, outbox)
    services.telemetry.record_cycle(seconds)
    log.info(
        "cycle %s: %d servers, %d alerts, %d events, %.2fs",
        snapshot.data_time,
        len(snapshot.risks),
        len(snapshot.alerts),
        len(events),
        seconds,
    )
    # After the cycle is fully recorded, so it never delays publication. Detection reads the
    # window again (only buckets touched since are re-averaged): a batch still arriving while
    # the cycle ran would otherwise leave its newest buckets short of most servers, and
    # detection would judge an older bucket until the next one starts a cycle.
    run_cascade_detection(services, snapshot)
    return snapshot


# Horizons kept for measuring realised error (drift): 5 min, 30 min, 1 h, 2 h, 4 h, 8 h.
STORED_STEPS = (1, 6, 12, 24, 48, 96)


def forecast_points(snapshot: Snapshot) -> dict[str, list]:
    """The forecast at STORED_STEPS of every server and target, column-wise."""
    fc = snapshot.forecast
    cols: dict[str, list] = {k: [] for k in POINT_COLUMNS}
    q10, q50, q90 = (fc.quantile_index(q) for q in (0.1, 0.5, 0.9))
    steps = [s for s in STORED_STEPS if s <= fc.steps]
    for row, server in enumerate(fc.servers):
        reported = snapshot.targets_of(server)
        for t, target in enumerate(fc.targets):
            if target not in reported:  # filler values, never realised: no drift error from them
                continue
            for step in steps:
                values = fc.values[row, t, step - 1]
                cols["origin"].append(snapshot.data_time)
                cols["server_name"].append(server)
                cols["target"].append(target)
                cols["step"].append(step)
                cols["target_time"].append(
                    fc.timestamps[row, step - 1].astype("datetime64[us]").item()
                )
                cols["model"].append(fc.models[row])
                cols["p10"].append(float(values[q10]))
                cols["p50"].append(float(values[q50]))
                cols["p90"].append(float(values[q90]))
    return cols


def cycle_due(services: Services, now: float) -> bool:
    """A cycle is due for every new 5-minute bucket of data, and every prediction interval."""
    latest = services.window.latest
    if latest is None or services.window.record_count < services.settings.warmup_records:
        return False
    snap = services.snapshot
    if snap is None:
        return True
    if bucket_start(latest) > snap.data_time:
        return True
    return now - services.last_cycle_at >= services.settings.prediction_interval_seconds


def prediction_job(services: Services) -> None:
    """Scheduler entry point: run a cycle when one is due; never let a failure kill the job."""
    now = time.monotonic()
    if not cycle_due(services, now):
        return
    services.last_cycle_at = now
    try:
        run_cycle(services)
    except Exception:
        services.telemetry.cycle_failures.inc()
        log.exception("prediction cycle failed; the previous snapshot keeps serving")

"""The hourly drift check: realised error, input shift and band misses of the serving model."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from argus.catalogue import TARGETS
from argus.drift import DriftAssessment, DriftThresholds, assess
from argus.forecast.base import HasReference
from argus.grid import step_of
from argus.storage.drift import save_check
from argus.storage.forecasts import realised_points
from argus.window import bucket_start

if TYPE_CHECKING:
    from argus.daemon.services import Services

log = logging.getLogger("argus.drift")


@dataclass(frozen=True)
class DriftCheck:
    """One completed check, as the drift routes show it."""

    checked_at: datetime  # wall clock
    data_time: datetime  # newest sample the check saw
    model: str
    assessment: DriftAssessment


def thresholds_of(services: Services) -> DriftThresholds:
    s = services.settings
    return DriftThresholds(s.drift_per, s.drift_dss, s.drift_fds, s.drift_anomaly_rate)


def recent_inputs(services: Services, since: datetime) -> dict[str, np.ndarray]:
    """Each model input's values over the window since `since`, all servers together (NaN where
    a server does not report it)."""
    grid = services.window.grid()
    first = step_of(since) + (bucket_start(since) != since)  # buckets starting at `since` on
    inside = grid.observed & (grid.time_idx() >= first)[None, :]
    values = grid.targets()[inside]  # (observed buckets, targets), server by server in time
    return {t: values[:, i] for i, t in enumerate(TARGETS)}


def run_drift_check(services: Services) -> DriftCheck | None:
    """Assess drift over the rolling window, store the result and publish it."""
    latest = services.window.latest
    if latest is None:
        return None
    since = latest - timedelta(hours=services.settings.drift_window_hours)
    forecaster = services.models.current.forecaster
    model = forecaster.model  # what the serving layer wraps (None: no trained model)
    reference: dict[str, Any] = (
        model.reference_statistics() if isinstance(model, HasReference) else {}
    )
    points = realised_points(services.store, since, latest)
    result = assess(reference, recent_inputs(services, since), points, thresholds_of(services))
    check = DriftCheck(services.clock(), latest, forecaster.name, result)
    save_check(
        services.store, check.checked_at, latest, forecaster.name, result, report_json(result)
    )
    services.drift = check
    log.info("drift check: %s", "; ".join(result.reasons) or "no drift")
    return check


def report_json(result: DriftAssessment) -> str:
    return json.dumps(
        {
            "per_by_target": result.per_by_target,
            "feature_drift": result.feature_drift,
            "band_miss_rate": result.band_miss_rate,
            "realised_points": result.realised_points,
            "reasons": result.reasons,
        }
    )


POLL = timedelta(minutes=1)  # how often the scheduler asks whether a check is due


def next_check(services: Services) -> datetime:
    """When the next check runs (wall clock): the first one as soon as the history allows."""
    return services.drift_due or services.clock()


def drift_job(services: Services) -> None:
    """Scheduler entry point (every minute): when a check is due and the window holds at least
    the warm-up's records, check, then retrain when drift is found and retraining is on."""
    now = services.clock()
    if services.drift_due is not None and now < services.drift_due:
        return
    if services.window.record_count < services.settings.warmup_records:
        services.drift_due = now + POLL  # not enough history yet: look again in a minute
        return
    services.drift_due = now + timedelta(minutes=services.settings.drift_check_minutes)
    try:
        check = run_drift_check(services)
    except Exception:
        log.exception("drift check failed")
        return
    if (
        check is not None
        and check.assessment.drift_detected
        and services.settings.enable_retraining
    ):
        services.training.request(reason="drift", cooldown=True)

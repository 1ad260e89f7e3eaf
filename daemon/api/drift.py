"""GET /drift/status and GET /drift/report: the latest drift check (never computed by a GET)."""

from __future__ import annotations

from flask import Response, current_app
from pydantic import BaseModel, Field

from argus.daemon.drift_job import next_check, thresholds_of
from argus.daemon.limits import RATE_LIMITS
from argus.daemon.routing import Route, respond
from argus.daemon.services import Services
from argus.daemon.utc import UtcDateTime
from argus.storage.drift import count_runs, last_started

METRICS = ("per", "dss", "fds", "anomaly_rate")


class DriftValues(BaseModel):
    per: float | None = Field(description="prediction error rate (null: not enough data yet)")
    dss: float | None
    fds: float | None
    anomaly_rate: float | None


class DriftLimits(BaseModel):
    per: float
    dss: float
    fds: float
    anomaly_rate: float


class DriftStatusBody(BaseModel):
    """The latest drift check of the serving model."""

    drift_detected: bool
    auto_retrain_enabled: bool
    last_retrain: UtcDateTime | None
    next_check: UtcDateTime = Field(
        description="wall-clock time of the next check (the first runs at start-up, as soon as "
        "the window holds the warm-up's records)"
    )
    checked_at: UtcDateTime | None = Field(description="null until the first check has run")
    model: str
    metrics: DriftValues
    thresholds: DriftLimits


class MetricStatus(BaseModel):
    value: float | None
    threshold: float
    status: str = Field(
        description="ok, warning (above 75 % of threshold), drift, insufficient_data"
    )


class FeatureDrift(BaseModel):
    drift: float = Field(description="PSI against the model's reference histogram")
    status: str = Field(description="stable or drifting")


class AutoRetrain(BaseModel):
    enabled: bool
    last_triggered: UtcDateTime | None
    total_drift_trainings: int


class DriftReportBody(BaseModel):
    """The latest drift check in detail, with recommendations."""

    report_timestamp: UtcDateTime | None
    overall_health: str = Field(description="good, fair, poor, or unknown before the first check")
    needs_retraining: bool
    metrics: dict[str, MetricStatus]
    per_by_target: dict[str, float]
    feature_drift: dict[str, FeatureDrift]
    realised_points: int
    recommendations: list[str]
    auto_retrain: AutoRetrain


def _services() -> Services:
    return current_app.extensions["argus"]


def drift_status() -> Response:
    services = _services()
    check, limits = services.drift, thresholds_of(services)
    result = check.assessment if check else None
    return respond(
        DriftStatusBody(
            drift_detected=bool(result and result.drift_detected),
            auto_retrain_enabled=services.settings.enable_retraining,
            last_retrain=last_started(services.store),
            next_check=next_check(services),
            checked_at=check.checked_at if check else None,
            model=services.models.current.forecaster.name,
            metrics=DriftValues(**{m: getattr(result, m) if result else None for m in METRICS}),
            thresholds=DriftLimits(**{m: getattr(limits, m) for m in METRICS}),
        )
    )


def _health(statuses: list[str]) -> str:
    if not statuses or all(s == "insufficient_data" for s in statuses):
        return "unknown"
    if "drift" in statuses:
        return "poor"
    return "fair" if "warning" in statuses else "good"


def drift_report() -> Response:
    services = _services()
    check, limits = services.drift, thresholds_of(services)
    result = check.assessment if check else None
    metrics = {
        m: MetricStatus(
            value=getattr(result, m) if result else None,
            threshold=getattr(limits, m),
            status=result.status(m) if result else "insufficient_data",
        )
        for m in METRICS
    }
    features = result.feature_drift if result else {}
    advice = [f"Retrain: {reason}" for reason in (result.reasons if result else [])]
    if result and not advice and result.per is None:
        advice.append("Not enough realised forecasts yet to measure the prediction error")
    return respond(
        DriftReportBody(
            report_timestamp=check.checked_at if check else None,
            overall_health=_health([m.status for m in metrics.values()]),
            needs_retraining=bool(result and result.drift_detected),
            metrics=metrics,
            per_by_target=result.per_by_target if result else {},
            feature_drift={
                name: FeatureDrift(drift=v, status="drifting" if v >= limits.fds else "stable")
                for name, v in features.items()
            },
            realised_points=result.realised_points if result else 0,
            recommendations=advice,
            auto_retrain=AutoRetrain(
                enabled=services.settings.enable_retraining,
                last_triggered=last_started(services.store, reason="drift"),
                total_drift_trainings=count_runs(services.store, "drift"),
            ),
        )
    )


ROUTES = (
    Route(
        "/drift/status",
        "GET",
        drift_status,
        "Drift of the serving model, latest check",
        {200: DriftStatusBody},
        limit=RATE_LIMITS["/drift/status"],
        tags=("drift",),
    ),
    Route(
        "/drift/report",
        "GET",
        drift_report,
        "Detailed drift report with recommendations",
        {200: DriftReportBody},
        limit=RATE_LIMITS["/drift/report"],
        tags=("drift",),
    ),
)

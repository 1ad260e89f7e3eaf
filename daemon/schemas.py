"""Typed bodies of every response; /openapi.json is generated from these models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from argus.daemon.utc import UtcDateTime
from argus.records import RecordError


class ErrorBody(BaseModel):
    """Every error: a human-readable detail and the HTTP status."""

    detail: str
    status: int


class ValidationErrorBody(ErrorBody):
    """A refused batch: every bad field of every bad record; nothing was stored."""

    errors: list[RecordError]


class HealthBody(BaseModel):
    status: Literal["healthy"] = "healthy"
    service: str = "tft_inference_daemon"
    running: bool = True


class StatusBody(BaseModel):
    model_loaded: bool
    model_path: str | None = Field(description="model directory relative to the data dir")
    model: str = Field(
        description="the serving forecaster: 'tft:<name>', or 'baseline' when no trained model "
        "is loaded"
    )
    rolling_window_size: int = Field(description="5-minute steps kept per server")
    servers_tracked: int
    last_prediction: UtcDateTime | None = Field(
        description="wall-clock time the last prediction cycle ran (null before the first)"
    )
    last_prediction_data_time: UtcDateTime | None = Field(
        default=None, description="data time of the last prediction cycle: the newest bucket it saw"
    )
    uptime_seconds: float
    warmup_complete: bool
    window_records: int = Field(description="raw samples in the window, all servers")
    ticks: int = Field(description="5-minute buckets in the window, all servers")
    last_ingest: UtcDateTime | None = Field(description="wall-clock time of the last stored batch")
    data_time: UtcDateTime | None = Field(
        description="data time: the newest sample's timestamp (Argus's clock, not the wall clock)"
    )
    prediction_cycles: int = Field(description="prediction cycles run since start-up")
    version: str


class DuplicateKey(BaseModel):
    server_name: str
    timestamp: UtcDateTime


class WarmupState(BaseModel):
    records: int
    required: int
    complete: bool


class FeedBody(BaseModel):
    """Result of a stored batch: `accepted` records are durably in DuckDB."""

    status: Literal["accepted", "warming_up", "ignored"] = Field(
        description="ignored: every record was a duplicate; warming_up: stored, but the window "
        "holds fewer records than predictions need"
    )
    accepted: int
    duplicates: int
    duplicate_records: list[DuplicateKey] = Field(description="the first 100 duplicates")
    servers_tracked: int
    warmup: WarmupState
    message: str


class AlertBadge(BaseModel):
    """How a dashboard shows a level (the REST guide's alert levels table)."""

    level: Literal["critical", "warning", "degraded", "healthy"]
    score: float
    color: str
    emoji: str
    label: str


class DisplayMetrics(BaseModel):
    cpu: str = Field(description="latest CPU use (100 - idle), e.g. '45.2%'")
    memory: str
    disk_io: str = Field(description="'n/a' when the server never sends disk_io_mb_s")


class ForecastBody(BaseModel):
    """P50 paths of every target (96 steps), their timestamps, and P10/P90 bands.

    A target whose source metric the server does not report (iowait_pct without
    cpu_iowait_pct, disk_pct without disk_usage_pct) is null and absent from p10/p90."""

    timestamps: list[UtcDateTime]
    cpu_pct: list[float]
    mem_pct: list[float]
    swap_pct: list[float]
    iowait_pct: list[float] | None
    load: list[float]
    disk_pct: list[float] | None
    p10: dict[str, list[float]]
    p90: dict[str, list[float]]


class BreachOdds(BaseModel):
    prob_30m: float
    prob_8h: float


class ServerPrediction(BaseModel):
    risk_score: float
    profile: str
    alert: AlertBadge = Field(
        description="the server's level: the same as its entry in /alerts/active (healthy "
        "without one) and as the summary counts"
    )
    level_held: bool = Field(
        description="true while hysteresis holds the level above the band of risk_score "
        "(docs/risk.md, 'Levels and hysteresis')"
    )
    display_metrics: DisplayMetrics
    forecast: ForecastBody
    model: str = Field(
        description="'tft:<name>' or 'baseline' (the fallback forecaster), with '+trend' when "
        "the drift override replaced the forecast of a climbing resource"
    )
    dominant_metric: str
    time_to_issue: str | None
    time_to_issue_minutes: int | None
    breach_at: UtcDateTime | None
    message: str
    breach_probability: dict[str, BreachOdds]
    last_sample: UtcDateTime
    metrics_reported: list[str] = Field(
        description="the record fields this server sends (an optional one it never sent is "
        "left out, and so is any forecast built on it)"
    )
    cpu_cores: int = Field(description="the CPU count that sets the load thresholds")
    cpu_cores_source: Literal["reported", "profile"] = Field(
        description="reported: the server's cpu_cores; profile: its profile's typical count"
    )


class StaleServerBody(BaseModel):
    """A server without data for `stale_after_minutes` (data time): no forecast, no risk."""

    status: Literal["stale"] = "stale"
    profile: str
    last_sample: UtcDateTime
    minutes_without_data: int
    message: str


class FleetSummaryBody(BaseModel):
    total_servers: int
    critical: int
    warning: int
    degraded: int
    healthy: int
    fleet_health: float = Field(description="mean of 100 - risk over the servers with a risk")
    stale: int = Field(
        default=0, description="servers without recent data: counted in total_servers only"
    )
    prob_30m: float = Field(description="P(at least one server breaches critical within 30 min)")
    prob_8h: float = Field(description="P(at least one server breaches critical within 8 h)")


class AlertBrief(BaseModel):
    server_name: str
    level: str
    risk_score: float
    message: str


class PredictionsBody(BaseModel):
    """The latest prediction cycle (computed by the scheduler, never by this request)."""

    predictions: dict[str, ServerPrediction]
    stale_servers: dict[str, StaleServerBody] = Field(
        description="servers that stopped reporting, with the time of their last sample"
    )
    summary: FleetSummaryBody
    alerts: list[AlertBrief]
    timestamp: UtcDateTime = Field(description="the cycle's data time (newest 5-minute bucket)")
    computed_at: UtcDateTime


class ActiveAlertBody(BaseModel):
    server_name: str
    level: str
    risk_score: float
    profile: str
    message: str
    time_to_issue: str | None
    time_to_issue_minutes: int | None
    dominant_metric: str
    level_held: bool = Field(
        description="true while hysteresis holds the level above the band of risk_score "
        "(docs/risk.md, 'Levels and hysteresis')"
    )
    since: UtcDateTime = Field(description="when this alert opened (data time)")
    level_since: UtcDateTime


class AlertsBody(BaseModel):
    """Active alerts: at most one per server."""

    timestamp: UtcDateTime
    count: int
    alerts: list[ActiveAlertBody]


class InsufficientDataBody(ErrorBody):
    """Predictions start once the window holds enough records."""

    error: Literal["insufficient_data"] = "insufficient_data"
    records: int
    required: int

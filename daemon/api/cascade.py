"""GET /cascade/status and GET /cascade/health: the latest stored detection, never a new one."""

from __future__ import annotations

from typing import Literal

from flask import Response, current_app
from pydantic import BaseModel, Field

from argus.daemon.limits import RATE_LIMITS
from argus.daemon.routing import Route, insufficient_data
from argus.daemon.schemas import InsufficientDataBody
from argus.daemon.services import Services
from argus.daemon.utc import UtcDateTime

Severity = Literal["low", "medium", "high", "critical"]


class CascadeBrief(BaseModel):
    """One metric (or correlated group) anomalous on several servers together."""

    metric: str
    affected_servers: list[str] = Field(description="in the order their anomalies began")
    severity: Severity = Field(description="by share of the fleet: <5% low, <15% medium, ...")
    rule: Literal["count", "correlation", "dependency"] = Field(
        description="count: >= cascade_servers on one metric; correlation: signals correlate; "
        "dependency: a server fresh anomalous while an upstream of its profile is far gone"
    )
    correlation: float = Field(description="mean pairwise correlation of the members' signals")
    onsets: list[UtcDateTime] = Field(description="when each affected server's anomaly began")


class CurrentCascadeStatus(BaseModel):
    cascade_detected: bool
    timestamp: UtcDateTime = Field(description="the 5-minute bucket evaluated (data time)")
    total_servers: int
    servers_with_anomalies: int
    anomaly_rate: float
    correlation_score: float = Field(
        description="strongest correlation of anomaly signals between two anomalous servers"
    )
    cascades: list[CascadeBrief]
    origin: str | None = Field(description="the affected server whose anomaly began first")
    origin_profile: str | None
    affected_servers: list[str] = Field(description="every affected server, in onset order")
    recommendations: list[str]
    anomalous_servers: list[str]
    baseline: Literal["seasonal", "rolling"] = Field(
        description="seasonal: same time of day on earlier days; rolling: under a day of history"
    )


class CascadeTracking(BaseModel):
    servers: int
    metrics_tracked: list[str]
    window_size: int = Field(description="5-minute steps the correlation looks back over")


class CascadeEventBody(BaseModel):
    """A stored cascade episode: one incident, from its first detection to its last, shown as
    the largest view any detection had of it."""

    timestamp: UtcDateTime = Field(description="when the episode began: its first detection")
    cascades: list[CascadeBrief]
    correlation_score: float = Field(description="highest mean correlation of its cascades")
    affected_servers: list[str] = Field(description="its servers, in onset order")
    origin: str | None = Field(description="the affected server whose anomaly began first")
    severity: Severity
    recommendations: list[str]
    total_servers: int
    detected_at: UtcDateTime = Field(description="wall-clock time of the first detection")
    last_seen: UtcDateTime = Field(description="the last detection that named the episode")
    ongoing: bool = Field(
        description="named within the last 30 minutes (episode gap) of the current detection"
    )


class CascadeThresholds(BaseModel):
    correlation: float
    cascade_servers: int
    anomaly_z_score: float
    cooccurrence_minutes: int = Field(description="count rule: onsets within this span")


class CascadeStatusBody(BaseModel):
    """The latest cascade detection (run after each prediction cycle) and the stored events."""

    current_status: CurrentCascadeStatus
    tracking: CascadeTracking
    recent_events: list[CascadeEventBody] = Field(description="newest first")
    event_count: int
    thresholds: CascadeThresholds
    computed_at: UtcDateTime


class FleetHealthBody(BaseModel):
    """Fleet health for a dashboard header (bands as in the REST guide)."""

    health_score: float = Field(
        description="100 x (1 - anomaly_rate) x (1 - correlation_score / 2)"
    )
    status: Literal["healthy", "degraded", "warning", "critical"]
    correlation_score: float
    anomaly_rate: float
    anomalous_servers: int
    total_servers: int
    cascade_risk: Literal["low", "medium", "high"]
    cascade_detected: bool
    timestamp: UtcDateTime


def _latest_body(key: str) -> Response:
    services: Services = current_app.extensions["argus"]
    view = services.cascade
    if view is None:
        return insufficient_data(
            services.window.record_count,
            services.settings.warmup_records,
            "the first cascade detection has not run yet",
        )
    return Response(view.bodies[key], mimetype="application/json")


def cascade_status() -> Response:
    return _latest_body("status")


def cascade_health() -> Response:
    return _latest_body("health")


ROUTES = (
    Route(
        "/cascade/status",
        "GET",
        cascade_status,
        "Cascade detection: current status, tracking, recent events and thresholds",
        {200: CascadeStatusBody, 503: InsufficientDataBody},
        limit=RATE_LIMITS["/cascade/status"],
        tags=("cascade",),
    ),
    Route(
        "/cascade/health",
        "GET",
        cascade_health,
        "Fleet health score, status band and cascade risk",
        {200: FleetHealthBody, 503: InsufficientDataBody},
        limit=RATE_LIMITS["/cascade/health"],
        tags=("cascade",),
    ),
)

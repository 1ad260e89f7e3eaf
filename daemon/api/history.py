"""Historical reports and exports: /historical/*. Every range ends at the newest data time."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Literal

from flask import Response, current_app
from pydantic import BaseModel, ConfigDict, Field, RootModel

from argus.alerts import AlertEvent
from argus.daemon.limits import RATE_LIMITS
from argus.daemon.routing import SERVER_NAME_SCHEMA, Route, query_args, respond
from argus.daemon.services import Services
from argus.daemon.utc import UtcDateTime
from argus.errors import NotFoundError
from argus.history import AlertOutcome, TimeRange, range_start, risk_trend
from argus.storage import history as store_history
from argus.storage.predictions import read_alert_events


class RangeQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    time_range: TimeRange = Field(default="1d", description="30m, 1h, 8h, 1d, 1w or 1M")


class ExportQuery(RangeQuery):
    format: Literal["csv", "parquet", "json"] = Field(
        default="csv", description="csv (with header), parquet, or json (one object per line)"
    )


class AlertsQuery(RangeQuery):
    server_name: str | None = Field(default=None, max_length=128)


class SummaryBody(BaseModel):
    success: bool = True
    time_range: str
    start: UtcDateTime
    end: UtcDateTime
    total_alerts: int = Field(description="alerts opened in the range")
    alerts_by_level: dict[str, int] = Field(description="levels reached (opened or escalated)")
    avg_resolution_time_minutes: float | None
    incidents_prevented: int = Field(
        description="alerts raised in the range (to warning or critical) before their metric "
        "crossed its critical threshold, which it then did within 8 hours: breaches Argus "
        "warned of in advance. False alarms never count (docs/api.md)"
    )
    alerts_without_breach: int = Field(
        description="alerts raised in the range whose metric stayed below critical for the 8 "
        "hours after: acted on in time or simply wrong; Argus cannot tell which"
    )
    fleet_health_avg: float | None


class AlertEventBody(BaseModel):
    server_name: str
    event: str
    timestamp: UtcDateTime
    level: str
    previous_level: str
    risk_score: float
    dominant_metric: str
    message: str
    opened_at: UtcDateTime
    duration_minutes: float | None


class AlertHistoryBody(BaseModel):
    success: bool = True
    time_range: str
    server_name: str | None
    count: int
    events: list[AlertEventBody]


class RiskPoint(BaseModel):
    timestamp: UtcDateTime
    risk_score: float
    level: str


class ServerHistoryBody(BaseModel):
    success: bool = True
    server_name: str
    time_range: str
    alert_count: int = Field(
        description="alerts open at any time in the range (opened in it, or earlier and still "
        "open or changed in it)"
    )
    avg_risk_score: float | None
    max_risk_score: float | None
    time_in_warning_pct: float
    time_in_critical_pct: float
    risk_trend: str = Field(description="rising, falling or stable (slope of risk over time)")
    history: list[RiskPoint]


class EnvironmentSnapshot(BaseModel):
    timestamp: UtcDateTime
    total_servers: int
    fleet_health: float
    prob_30m: float
    prob_8h: float
    critical: int
    warning: int
    degraded: int
    healthy: int
    model: str


class EnvironmentBody(BaseModel):
    success: bool = True
    time_range: str
    count: int
    snapshots: list[EnvironmentSnapshot]


class ExportFile(RootModel[str]):
    """The exported rows: CSV with a header, Parquet, or newline-delimited JSON."""


EXPORT_MEDIA_TYPES = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "json": "application/x-ndjson",
}


def _range(services: Services, time_range: str) -> tuple[datetime, datetime]:
    end = services.window.latest or services.clock()
    return range_start(end, time_range), end


def _event_body(e: AlertEvent) -> AlertEventBody:
    return AlertEventBody(
        server_name=e.server_name,
        event=e.kind.value,
        timestamp=e.at,
        level=e.level.value,
        previous_level=e.previous_level.value,
        risk_score=e.risk_score,
        dominant_metric=e.dominant_metric,
        message=e.message,
        opened_at=e.opened_at,
        duration_minutes=e.duration_minutes,
    )


def summary() -> Response:
    services: Services = current_app.extensions["argus"]
    query = query_args(RangeQuery)
    start, end = _range(services, query.time_range)
    stats = store_history.alert_summary(services.store, start, end)
    outcomes = store_history.alert_outcomes(services.store, start, end)
    return respond(
        SummaryBody(
            time_range=query.time_range,
            start=start,
            end=end,
            incidents_prevented=outcomes[AlertOutcome.FOREWARNED],
            alerts_without_breach=outcomes[AlertOutcome.NO_BREACH],
            **stats.__dict__,
        )
    )


def alerts() -> Response:
    services: Services = current_app.extensions["argus"]
    query = query_args(AlertsQuery)
    start, end = _range(services, query.time_range)
    events = [
        e
        for e in read_alert_events(services.store, since=start, server=query.server_name)
        if e.at <= end
    ]
    return respond(
        AlertHistoryBody(
            time_range=query.time_range,
            server_name=query.server_name,
            count=len(events),
            events=[_event_body(e) for e in events],
        )
    )


def _alerts_open_in_range(
    services: Services, server_name: str, events: list[AlertEvent], end: datetime
) -> int:
    """Alerts open at any time in the range: those with a transition in it, and the one still
    open (it may have opened before the range and not changed since)."""
    opened = {e.opened_at for e in events if e.at <= end}
    snapshot = services.snapshot
    active = snapshot.alerts.get(server_name) if snapshot else None
    if active is not None and active.opened_at <= end:
        opened.add(active.opened_at)
    return len(opened)


def server(server_name: str) -> Response:
    services: Services = current_app.extensions["argus"]
    query = query_args(RangeQuery)
    if server_name not in services.window.servers():
        raise NotFoundError(f"unknown server {server_name!r}")
    start, end = _range(services, query.time_range)
    points = store_history.server_risks(services.store, server_name, start, end)
    events = read_alert_events(services.store, since=start, server=server_name)
    scores = [p[1] for p in points]
    share = {
        lvl: 100.0 * sum(p[2] == lvl for p in points) / len(points) if points else 0.0
        for lvl in ("warning", "critical")
    }
    return respond(
        ServerHistoryBody(
            server_name=server_name,
            time_range=query.time_range,
            alert_count=_alerts_open_in_range(services, server_name, events, end),
            avg_risk_score=round(sum(scores) / len(scores), 2) if scores else None,
            max_risk_score=max(scores) if scores else None,
            time_in_warning_pct=round(share["warning"], 2),
            time_in_critical_pct=round(share["critical"], 2),
            risk_trend=risk_trend([p[0] for p in points], scores),
            history=[RiskPoint(timestamp=t, risk_score=s, level=lvl) for t, s, lvl in points],
        )
    )


def environment() -> Response:
    services: Services = current_app.extensions["argus"]
    query = query_args(RangeQuery)
    rows = store_history.environment_snapshots(services.store, *_range(services, query.time_range))
    snaps = [EnvironmentSnapshot(**row) for row in rows]
    return respond(EnvironmentBody(time_range=query.time_range, count=len(snaps), snapshots=snaps))


def export(table: str) -> Response:
    services: Services = current_app.extensions["argus"]
    query = query_args(ExportQuery)
    if table not in store_history.EXPORTS:
        raise NotFoundError(f"unknown export {table!r}: one of {', '.join(store_history.EXPORTS)}")
    start, end = _range(services, query.time_range)
    with tempfile.TemporaryDirectory(prefix="argus-export-") as tmp:
        path = Path(tmp) / f"{table}.{query.format}"
        store_history.export(services.store, table, query.format, path, start, end)
        data = path.read_bytes()
    name = f"argus-{table}-{query.time_range}-{end:%Y%m%dT%H%M}.{query.format}"
    return Response(
        data,
        mimetype=EXPORT_MEDIA_TYPES[query.format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


ROUTES = (
    Route(
        "/historical/summary",
        "GET",
        summary,
        "Alert statistics over a time range",
        {200: SummaryBody},
        query=RangeQuery,
        tags=("history",),
    ),
    Route(
        "/historical/alerts",
        "GET",
        alerts,
        "Alert transitions over a time range",
        {200: AlertHistoryBody},
        query=AlertsQuery,
        tags=("history",),
    ),
    Route(
        "/historical/server/<server_name>",
        "GET",
        server,
        "One server's risk history",
        {200: ServerHistoryBody},
        query=RangeQuery,
        tags=("history",),
        path_schemas={"server_name": SERVER_NAME_SCHEMA},
    ),
    Route(
        "/historical/environment",
        "GET",
        environment,
        "Fleet snapshots of every cycle",
        {200: EnvironmentBody},
        query=RangeQuery,
        tags=("history",),
    ),
    Route(
        "/historical/export/<table>",
        "GET",
        export,
        "Export alerts, environment, metrics or predictions over a time range",
        {200: ExportFile},
        query=ExportQuery,
        limit=RATE_LIMITS["/historical/export/<table>"],
        tags=("history",),
        media_type=EXPORT_MEDIA_TYPES["csv"],
        other_media_types=(EXPORT_MEDIA_TYPES["parquet"], EXPORT_MEDIA_TYPES["json"]),
        path_schemas={"table": {"type": "string", "enum": list(store_history.EXPORTS)}},
    ),
)

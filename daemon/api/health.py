"""GET /health and GET /status: public liveness and operational status."""

from __future__ import annotations

from flask import Response, current_app

from argus import __version__
from argus.daemon.routing import Route, respond
from argus.daemon.schemas import HealthBody, StatusBody
from argus.daemon.services import Services


def health() -> Response:
    return respond(HealthBody())


def status() -> Response:
    services: Services = current_app.extensions["argus"]
    window = services.window
    model = services.models.current
    snapshot = services.snapshot
    return respond(
        StatusBody(
            model_loaded=model.trained,
            model_path=model.path,
            model=model.forecaster.name,
            rolling_window_size=window.capacity,
            servers_tracked=len(window.servers()),
            last_prediction=snapshot.computed_at if snapshot else None,
            last_prediction_data_time=snapshot.data_time if snapshot else None,
            uptime_seconds=round(services.uptime_seconds(), 3),
            warmup_complete=window.record_count >= services.settings.warmup_records,
            window_records=window.record_count,
            ticks=window.bucket_count(),
            last_ingest=services.telemetry.last_ingest,
            prediction_cycles=services.telemetry.cycle_count,
            data_time=window.latest,
            version=__version__,
        )
    )


ROUTES = (
    Route(
        "/health",
        "GET",
        health,
        "Liveness for connection indicators",
        {200: HealthBody},
        public=True,
        tags=("daemon",),
    ),
    Route(
        "/status",
        "GET",
        status,
        "Operational status of the daemon",
        {200: StatusBody},
        public=True,
        tags=("daemon",),
    ),
)

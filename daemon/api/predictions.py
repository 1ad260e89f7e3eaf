"""GET /predictions/current and GET /alerts/active: the latest snapshot, never a model run."""

from __future__ import annotations

from flask import Response, current_app

from argus.daemon.limits import RATE_LIMITS
from argus.daemon.routing import Route, insufficient_data
from argus.daemon.schemas import AlertsBody, InsufficientDataBody, PredictionsBody
from argus.daemon.services import Services


def _snapshot_body(key: str) -> Response:
    services: Services = current_app.extensions["argus"]
    snapshot = services.snapshot
    if snapshot is None:
        return insufficient_data(
            services.window.record_count,
            services.settings.warmup_records,
            "the first prediction cycle has not finished yet",
        )
    return Response(snapshot.bodies[key], mimetype="application/json")


def predictions_current() -> Response:
    return _snapshot_body("predictions")


def alerts_active() -> Response:
    return _snapshot_body("alerts")


ROUTES = (
    Route(
        "/predictions/current",
        "GET",
        predictions_current,
        "Risk, alert level and 8-hour forecast of every server, plus the fleet summary",
        {200: PredictionsBody, 503: InsufficientDataBody},
        limit=RATE_LIMITS["/predictions/current"],
        tags=("predictions",),
    ),
    Route(
        "/alerts/active",
        "GET",
        alerts_active,
        "Active alerts, at most one per server",
        {200: AlertsBody, 503: InsufficientDataBody},
        limit=RATE_LIMITS["/alerts/active"],
        tags=("predictions",),
    ),
)

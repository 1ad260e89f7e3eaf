"""GET /metrics: Prometheus exposition of risk, alerts and the daemon's own counters."""

from __future__ import annotations

from flask import Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import RootModel

from argus.daemon.routing import Route


class PrometheusText(RootModel[str]):
    """Prometheus text exposition format."""


def metrics() -> Response:
    registry = current_app.extensions["argus"].telemetry.registry
    return Response(generate_latest(registry), mimetype=None, content_type=CONTENT_TYPE_LATEST)


ROUTES = (
    Route(
        "/metrics",
        "GET",
        metrics,
        "Prometheus metrics (scrape with the key as a Bearer token)",
        {200: PrometheusText},
        tags=("daemon",),
        media_type="text/plain",
    ),
)

"""GET /predictions/current and GET /alerts/active: the latest snapshot, never a model run."""

from __future__ import annotations

import gzip

from flask import Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field

from argus.daemon.limits import RATE_LIMITS
from argus.daemon.routing import Route, insufficient_data, query_args
from argus.daemon.schemas import AlertsBody, InsufficientDataBody, PredictionsBody
from argus.daemon.services import Services

GZIP_MIN_BYTES = 1024


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


class PredictionsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    server: str | None = Field(
        default=None,
        max_length=8192,
        pattern=r"^[A-Za-z0-9_.:-]+(,[A-Za-z0-9_.:-]+)*$",
        description="only these servers (comma-separated names)",
    )
    level: str | None = Field(
        default=None,
        pattern=r"^(critical|warning|degraded|healthy)(,(critical|warning|degraded|healthy))*$",
        description="only servers at these levels (comma-separated), e.g. 'critical,warning'",
    )


def _wants_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def _answer(body: bytes, compressed: bytes | None = None) -> Response:
    """JSON, gzip-encoded when the client accepts it (and the body is worth compressing)."""
    headers = {"Vary": "Accept-Encoding"}
    if _wants_gzip() and (compressed is not None or len(body) > GZIP_MIN_BYTES):
        headers["Content-Encoding"] = "gzip"
        body = compressed if compressed is not None else gzip.compress(body, 6, mtime=0)
    return Response(body, mimetype="application/json", headers=headers)


def predictions_current() -> Response:
    query = query_args(PredictionsQuery)
    services: Services = current_app.extensions["argus"]
    snapshot = services.snapshot
    if snapshot is None or snapshot.parts is None:
        return _snapshot_body("predictions")
    if query.server is None and query.level is None:
        return _answer(snapshot.bodies["predictions"], snapshot.bodies["predictions.gz"])
    parts = snapshot.parts
    names: set[str] = set(parts.servers) | set(parts.stale)
    if query.server is not None:
        names &= set(query.server.split(","))
    if query.level is not None:  # a stale server has no level: never matches
        wanted = set(query.level.split(","))
        names = {n for n in names if parts.levels.get(n) in wanted}
    return _answer(parts.body(names))


def alerts_active() -> Response:
    return _snapshot_body("alerts")


ROUTES = (
    Route(
        "/predictions/current",
        "GET",
        predictions_current,
        "Risk, alert level and 8-hour forecast of every server, plus the fleet summary",
        {200: PredictionsBody, 503: InsufficientDataBody},
        query=PredictionsQuery,
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

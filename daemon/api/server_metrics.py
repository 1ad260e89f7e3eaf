"""GET /historical/server/<name>/metrics: one server's recent forecast targets, for charts.

Read from the daemon's in-memory window (5-minute means, at most `window_steps` per server), so
a chart can draw the last day next to the forecast of /predictions/current.
"""

from __future__ import annotations

import numpy as np
from flask import Response, current_app
from pydantic import BaseModel, Field

from argus.catalogue import TARGETS
from argus.daemon.api.history import RangeQuery
from argus.daemon.routing import SERVER_NAME_SCHEMA, Route, query_args, respond
from argus.daemon.services import Services
from argus.daemon.utc import UtcDateTime
from argus.errors import NotFoundError
from argus.history import range_start


class ServerMetricsBody(BaseModel):
    """A server's forecast targets per 5-minute bucket over the range (oldest first)."""

    success: bool = True
    server_name: str
    time_range: str
    profile: str
    start: UtcDateTime
    end: UtcDateTime
    timestamps: list[UtcDateTime]
    targets: dict[str, list[float | None]] = Field(
        description="each forecast target (cpu_pct, mem_pct, swap_pct, iowait_pct, load, "
        "disk_pct) at each timestamp; buckets without samples are gaps, never filled; null "
        "where the server does not report the target's metric"
    )


def server_metrics(server_name: str) -> Response:
    services: Services = current_app.extensions["argus"]
    query = query_args(RangeQuery)
    profiles = services.window.servers()
    if server_name not in profiles:
        raise NotFoundError(f"unknown server {server_name!r}")
    grid = services.window.grid(only=server_name)
    end = services.window.latest or services.clock()
    start = range_start(end, query.time_range)
    stamps = grid.timestamps().astype("datetime64[us]").astype(object)  # datetimes
    seen = grid.observed[0] if grid.servers else np.zeros(0, dtype=bool)
    cols = [int(c) for c in np.flatnonzero(seen) if start <= stamps[c] <= end]
    values = grid.targets()[0, cols].T.tolist() if cols else [[] for _ in TARGETS]
    return respond(
        ServerMetricsBody(
            server_name=server_name,
            time_range=query.time_range,
            profile=profiles[server_name],
            start=start,
            end=end,
            timestamps=[stamps[c] for c in cols],
            targets={t: [_rounded(v) for v in values[i]] for i, t in enumerate(TARGETS)},
        )
    )


ROUTES = (
    Route(
        "/historical/server/<server_name>/metrics",
        "GET",
        server_metrics,
        "One server's forecast targets over a time range (5-minute means from the window)",
        {200: ServerMetricsBody},
        query=RangeQuery,
        tags=("history",),
        path_schemas={"server_name": SERVER_NAME_SCHEMA},
    ),
)


def _rounded(value: float) -> float | None:
    return None if value != value else round(value, 2)  # NaN: the server does not report it

"""SQL for stored forecast points and the realised errors drift monitoring reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import pyarrow as pa

from argus.drift import Realised
from argus.storage.store import Store

POINT_COLUMNS = (
    "origin",
    "server_name",
    "target",
    "step",
    "target_time",
    "model",
    "p10",
    "p50",
    "p90",
)

# SQL expressions of the model's targets over the metrics table (argus.catalogue.derive_targets).
TARGET_SQL: dict[str, str] = {
    "cpu_pct": "100 - cpu_idle_pct",
    "mem_pct": "mem_used_pct",
    "swap_pct": "swap_used_pct",
    "iowait_pct": "cpu_iowait_pct",
    "load": "load_average",
    "disk_pct": "disk_usage_pct",
}


def save_points(store: Store, columns: Mapping[str, Sequence]) -> None:
    """Insert forecast points given column-wise (one list per column of forecast_points)."""
    table = pa.table({name: list(columns[name]) for name in POINT_COLUMNS})
    with store.writer() as cur:
        cur.register("points", table)
        cur.execute(
            f"INSERT INTO forecast_points SELECT {', '.join(POINT_COLUMNS)} FROM points"  # noqa: S608
        )
        cur.unregister("points")


def realised_points(store: Store, since: datetime, until: datetime) -> list[Realised]:
    """Forecasts whose target time lies in [since, until] joined with the actual bucket means."""
    query = f"""
        WITH buckets AS (
            SELECT server_name, time_bucket(INTERVAL 5 MINUTE, ts) AS bucket,
                   any_value(profile) AS profile,
                   {", ".join(f"avg({expr}) AS {t}" for t, expr in TARGET_SQL.items())}
            FROM metrics WHERE ts >= ? AND ts < ? + INTERVAL 5 MINUTE
            GROUP BY ALL
        )
        SELECT f.target, b.profile, f.p10, f.p50, f.p90,
               CASE f.target {" ".join(f"WHEN '{t}' THEN b.{t}" for t in TARGET_SQL)} END
        FROM forecast_points f JOIN buckets b
          ON b.server_name = f.server_name AND b.bucket = f.target_time
        WHERE f.target_time BETWEEN ? AND ?
    """  # noqa: S608 - only fixed names are interpolated
    with store.reader() as cur:
        rows = cur.execute(query, [since, until, since, until]).fetchall()
    return [Realised(*row) for row in rows if row[-1] is not None]


def purge_points_before(store: Store, cutoff: datetime) -> None:
    with store.writer() as cur:
        cur.execute("DELETE FROM forecast_points WHERE target_time < ?", [cutoff])

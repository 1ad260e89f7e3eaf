"""SQL for the historical reports and CSV/Parquet/JSON exports (DuckDB's own COPY)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from argus.catalogue import GENERIC_PROFILE
from argus.history import ALERT_HORIZON, AlertOutcome, alert_outcome
from argus.storage.forecasts import TARGET_SQL
from argus.storage.metrics import COLUMNS
from argus.storage.store import Store
from argus.thresholds import threshold_for

ExportTable = Literal["alerts", "environment", "metrics", "predictions"]
ExportFormat = Literal["csv", "parquet", "json"]

# Export name -> (table, time column). The one map of what can be exported.
EXPORTS: dict[str, tuple[str, str]] = {
    "alerts": ("alert_events", "event_time"),
    "environment": ("prediction_cycles", "data_time"),
    "metrics": ("metrics", "ts"),
    "predictions": ("server_risks", "data_time"),
}
_COPY_OPTIONS = {"csv": "FORMAT csv, HEADER", "parquet": "FORMAT parquet", "json": "FORMAT json"}

@dataclass(frozen=True)
class AlertSummary:
    total_alerts: int
    alerts_by_level: dict[str, int]
    avg_resolution_time_minutes: float | None
    fleet_health_avg: float | None


def alert_summary(store: Store, start: datetime, end: datetime) -> AlertSummary:
    """Alerts opened in [start, end], the levels they reached, resolution times, fleet health."""
    with store.reader() as cur:
        opened = cur.execute(
            "SELECT count(*) FROM alert_events WHERE kind = 'new' AND event_time BETWEEN ? AND ?",
            [start, end],
        ).fetchone()
        by_level = cur.execute(
            "SELECT level, count(*) FROM alert_events WHERE kind IN ('new', 'escalated') "
            "AND event_time BETWEEN ? AND ? GROUP BY level",
            [start, end],
        ).fetchall()
        resolution = cur.execute(
            "SELECT avg(duration_minutes) FROM alert_events WHERE kind = 'resolved' "
            "AND event_time BETWEEN ? AND ?",
            [start, end],
        ).fetchone()
        health = cur.execute(
            "SELECT avg(fleet_health) FROM prediction_cycles WHERE data_time BETWEEN ? AND ?",
            [start, end],
        ).fetchone()
    levels = {"critical": 0, "warning": 0, "degraded": 0} | {lvl: int(n) for lvl, n in by_level}
    return AlertSummary(
        total_alerts=int(opened[0]) if opened else 0,
        alerts_by_level=levels,
        avg_resolution_time_minutes=_rounded(resolution),
        fleet_health_avg=_rounded(health),
    )


def _rounded(row: tuple[Any, ...] | None) -> float | None:
    return None if not row or row[0] is None else round(float(row[0]), 2)


def alert_outcomes(store: Store, start: datetime, end: datetime) -> dict[AlertOutcome, int]:
    """What followed each alert raised to warning or critical in [start, end] (`alert_outcome`).

    An alert is raised at its first `new` or `escalated` event at warning or higher; it is judged
    on the metric that dominated then, against that metric's critical threshold for the server's
    profile in that cycle. `end` is the newest data time.
    """
    counts = dict.fromkeys(AlertOutcome, 0)
    with store.reader() as cur:
        raised = cur.execute(
            "WITH raises AS (SELECT server_name, min(event_time) AS raised_at, "
            "arg_min(dominant_metric, event_time) AS metric FROM alert_events "
            "WHERE kind IN ('new', 'escalated') AND level IN ('warning', 'critical') "
            "GROUP BY server_name, opened_at) "
            "SELECT r.server_name, r.raised_at, r.metric, any_value(s.profile) FROM raises r "
            "LEFT JOIN server_risks s ON s.server_name = r.server_name "
            "AND s.data_time = r.raised_at WHERE r.raised_at BETWEEN ? AND ? "
            "GROUP BY r.server_name, r.raised_at, r.metric",
            [start, end],
        ).fetchall()
        for server, raised_at, metric, profile in raised:
            if metric not in TARGET_SQL:
                continue
            critical = threshold_for(metric, profile or GENERIC_PROFILE).critical
            row = cur.execute(
                f"SELECT min(ts) FROM metrics WHERE server_name = ? "  # noqa: S608 - fixed map
                f"AND ts >= ? AND ts <= ? AND {TARGET_SQL[metric]} >= ?",
                [server, raised_at, raised_at + ALERT_HORIZON, critical],
            ).fetchone()
            counts[alert_outcome(raised_at, row[0] if row else None, end)] += 1
    return counts


def server_risks(store: Store, server: str, start: datetime, end: datetime) -> list[tuple]:
    """(data_time, risk_score, level) of one server per prediction cycle, oldest first."""
    with store.reader() as cur:
        return cur.execute(
            "SELECT data_time, risk_score, level FROM server_risks "
            "WHERE server_name = ? AND data_time BETWEEN ? AND ? ORDER BY data_time",
            [server, start, end],
        ).fetchall()


def environment_snapshots(store: Store, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The fleet summary of every prediction cycle in [start, end], oldest first."""
    with store.reader() as cur:
        cur.execute(
            "SELECT data_time AS timestamp, servers AS total_servers, fleet_health, prob_30m, "
            "prob_8h, critical, warning, degraded, healthy, model FROM prediction_cycles "
            "WHERE data_time BETWEEN ? AND ? ORDER BY data_time",
            [start, end],
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def latest_time(store: Store) -> datetime | None:
    """The newest sample time: the end of every time range (Argus's clock)."""
    with store.reader() as cur:
        row = cur.execute("SELECT max(ts) FROM metrics").fetchone()
    return row[0] if row else None


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _export_columns(cur: Any, table: str, fmt: str) -> str:
    """The select list of an export: text formats get times as ISO 8601 UTC with a `Z`, and
    CSV prefixes a text cell that a spreadsheet would run as a formula with a `'`."""
    described = cur.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()  # noqa: S608
    prefixes = ", ".join(f"chr({ord(p)})" for p in FORMULA_PREFIXES)
    out = []
    for name, kind, *_ in described:
        col = f'"{name}"'
        # metrics leave under the feed's column name, so `argus train --data` reads the export
        alias = '"timestamp"' if (table, name) == ("metrics", "ts") else col
        if fmt != "parquet" and kind.startswith("TIMESTAMP"):
            out.append(f"strftime({col}, '%Y-%m-%dT%H:%M:%S.%fZ') AS {alias}")
        elif fmt == "csv" and kind == "VARCHAR":
            neutral = f"chr(39) || {col}"  # chr(39): the apostrophe spreadsheets show as text
            out.append(
                f"CASE WHEN left({col}, 1) IN ({prefixes}) THEN {neutral} ELSE {col} END AS {col}"
            )
        else:
            out.append(col if alias == col else f"{col} AS {alias}")
    return ", ".join(out)


def export(
    store: Store, what: str, fmt: str, path: Path, start: datetime | None, end: datetime | None
) -> int:
    """Write one table's rows in [start, end] to `path` with DuckDB's COPY; return the row count."""
    table, time_col = EXPORTS[what]
    clauses, params = [], []
    if start is not None:
        clauses.append(f"{time_col} >= ?")
        params.append(start)
    if end is not None:
        clauses.append(f"{time_col} <= ?")
        params.append(end)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    with store.reader() as cur:
        columns = _export_columns(cur, table, fmt)
        query = f"SELECT {columns} FROM {table} {where} ORDER BY {time_col}"  # noqa: S608
        # COPY takes no parameters for its target, so the path is quoted; it is always a
        # temporary or user-given file path, never request input.
        target = str(path).replace("'", "''")
        row = cur.execute(f"COPY ({query}) TO '{target}' ({_COPY_OPTIONS[fmt]})", params).fetchone()
    return int(row[0]) if row else 0


def export_feed(store: Store, path: Path, start: datetime, end: datetime) -> int:
    """Write samples in [start, end) as a feed-schema Parquet file (what `argus train` reads)."""
    columns = ", ".join(c for c in COLUMNS if c not in ("ts", "ingested_at"))
    query = (
        f"SELECT ts AS timestamp, {columns} FROM metrics "  # noqa: S608 - fixed column list
        "WHERE ts >= ? AND ts < ? ORDER BY server_name, ts"
    )
    target = str(path).replace("'", "''")
    with store.reader() as cur:
        row = cur.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet)", [start, end]).fetchone()
    return int(row[0]) if row else 0

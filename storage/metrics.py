"""SQL for the metrics table: durable batch insert, window rebuild, history reads, retention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from argus.catalogue import CPU_CORES_FIELD, METRIC_NAMES, OPTIONAL_FIELDS, STEP_MINUTES
from argus.storage.store import Store

if TYPE_CHECKING:
    import pandas as pd

COLUMNS: tuple[str, ...] = (
    "server_name",
    "ts",
    "profile",
    "status",
    *METRIC_NAMES,
    *(f.name for f in OPTIONAL_FIELDS),
    CPU_CORES_FIELD.name,  # migration 5
    "ingested_at",
)
_COLUMN_LIST = ", ".join(COLUMNS)


@dataclass(frozen=True)
class InsertResult:
    """Which samples were new and which were already stored."""

    inserted: list[Mapping[str, Any]]
    duplicates: list[tuple[str, datetime]]


def _arrow_batch(rows: Sequence[Mapping[str, Any]], now: datetime) -> pa.Table:
    data: dict[str, list[Any]] = {}
    for col in COLUMNS:
        if col == "ts":
            data[col] = [row["timestamp"] for row in rows]
        elif col == "ingested_at":
            data[col] = [now] * len(rows)
        else:
            data[col] = [row.get(col) for row in rows]
    return pa.table(data)


def insert_samples(store: Store, rows: Sequence[Mapping[str, Any]], now: datetime) -> InsertResult:
    """Store new samples in one transaction; (server_name, timestamp) already stored is skipped.

    `rows` are feed-record dicts with `profile` resolved. The transaction has committed when
    this returns, so the caller may answer "accepted".
    """
    unique: dict[tuple[str, datetime], Mapping[str, Any]] = {}
    duplicates: list[tuple[str, datetime]] = []
    for row in rows:
        key = (row["server_name"], row["timestamp"])
        if key in unique:
            duplicates.append(key)
        else:
            unique[key] = row
    table = _arrow_batch(list(unique.values()), now)
    with store.writer() as cur:
        cur.register("incoming", table)
        new_keys = cur.execute(
            f"INSERT OR IGNORE INTO metrics ({_COLUMN_LIST}) "  # noqa: S608 - fixed column list
            f"SELECT {_COLUMN_LIST} FROM incoming RETURNING server_name, ts"
        ).fetchall()
        cur.unregister("incoming")
    new = {(name, ts) for name, ts in new_keys}
    duplicates.extend(key for key in unique if key not in new)
    return InsertResult([row for key, row in unique.items() if key in new], duplicates)


def read_window_samples(store: Store, steps: int) -> list[dict[str, Any]]:
    """Return the raw samples of the last `steps` 5-minute buckets before the newest sample."""
    with store.reader() as cur:
        row = cur.execute("SELECT max(ts) FROM metrics").fetchone()
        if not row or row[0] is None:
            return []
        cutoff = row[0] - timedelta(minutes=STEP_MINUTES * steps)
        rows = cur.execute(
            f"SELECT {_COLUMN_LIST} FROM metrics WHERE ts > ? ORDER BY ts",  # noqa: S608
            [cutoff],
        ).fetchall()
    names = ["timestamp" if c == "ts" else c for c in COLUMNS]
    return [dict(zip(names, row, strict=True)) for row in rows]


def read_metrics_frame(
    store: Store, start: datetime | None = None, end: datetime | None = None
) -> pd.DataFrame:
    """Return stored samples as a feed-schema pandas frame (column `timestamp`, naive UTC)."""
    clauses, params = [], []
    if start is not None:
        clauses.append("ts >= ?")
        params.append(start)
    if end is not None:
        clauses.append("ts < ?")
        params.append(end)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    columns = ", ".join(c for c in COLUMNS if c not in ("ts", "ingested_at"))
    with store.reader() as cur:
        return cur.execute(
            f"SELECT ts AS timestamp, {columns} FROM metrics {where} "  # noqa: S608
            "ORDER BY server_name, ts",
            params,
        ).df()


def count_samples(store: Store) -> int:
    with store.reader() as cur:
        row = cur.execute("SELECT count(*) FROM metrics").fetchone()
    return int(row[0]) if row else 0


def count_before(store: Store, cutoff: datetime) -> int:
    """How many samples are older than `cutoff` (what retention would delete)."""
    with store.reader() as cur:
        row = cur.execute("SELECT count(*) FROM metrics WHERE ts < ?", [cutoff]).fetchone()
    return int(row[0]) if row else 0


def purge_before(store: Store, cutoff: datetime) -> int:
    """Delete samples older than `cutoff` (retention); return how many were removed."""
    with store.writer() as cur:
        row = cur.execute("DELETE FROM metrics WHERE ts < ? RETURNING 1", [cutoff]).fetchall()
    return len(row)

"""SQL for drift checks and training runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from argus.drift import DriftAssessment
from argus.storage.store import Store


def save_check(
    store: Store,
    checked_at: datetime,
    data_time: datetime,
    model: str,
    result: DriftAssessment,
    report: str,
) -> None:
    with store.writer() as cur:
        cur.execute(
            "INSERT INTO drift_checks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                checked_at,
                data_time,
                model,
                result.per,
                result.dss,
                result.fds,
                result.anomaly_rate,
                result.drift_detected,
                report,
            ],
        )


def start_run(
    store: Store,
    run_id: str,
    started_at: datetime,
    reason: str,
    model_name: str,
    epochs: int,
    incremental: bool,
) -> None:
    with store.writer() as cur:
        cur.execute(
            "INSERT INTO training_runs VALUES (?, ?, NULL, ?, ?, ?, ?, 'running', NULL, NULL)",
            [run_id, started_at, reason, model_name, epochs, incremental],
        )


def finish_run(
    store: Store,
    run_id: str,
    finished_at: datetime,
    status: str,
    promoted: bool | None,
    detail: str,
) -> None:
    with store.writer() as cur:
        cur.execute(
            "UPDATE training_runs SET finished_at = ?, status = ?, promoted = ?, detail = ? "
            "WHERE id = ?",
            [finished_at, status, promoted, detail, run_id],
        )


def training_runs(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    """The most recent training runs, newest first."""
    with store.reader() as cur:
        cur.execute(
            "SELECT id, started_at, finished_at, reason, model_name, epochs, incremental, status, "
            "promoted, detail FROM training_runs ORDER BY started_at DESC LIMIT ?",
            [limit],
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def last_started(store: Store, reason: str | None = None) -> datetime | None:
    with store.reader() as cur:
        if reason is None:
            row = cur.execute("SELECT max(started_at) FROM training_runs").fetchone()
        else:
            row = cur.execute(
                "SELECT max(started_at) FROM training_runs WHERE reason = ?", [reason]
            ).fetchone()
    return row[0] if row else None


def count_runs(store: Store, reason: str) -> int:
    with store.reader() as cur:
        query = "SELECT count(*) FROM training_runs WHERE reason = ?"
        row = cur.execute(query, [reason]).fetchone()
    return int(row[0]) if row else 0

"""SQL for the notification outbox: one row per alert transition and channel, kept until sent.

A row is written in the same transaction as the prediction cycle that made the transition, so a
transition is never lost by a crash or restart; delivery marks it sent (or rejected) afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from argus.storage.store import Store


@dataclass(frozen=True)
class OutboxRow:
    """A transition to deliver: `notices` (JSON) ends with the state of `alert_key` after it."""

    channel: str  # "alertmanager" or "webhook"
    alert_key: str  # the server, or the cascade episode
    status: str  # "firing" or "resolved": alert_key's state after the transition
    created_at: datetime
    notices: str


@dataclass(frozen=True)
class PendingRow:
    id: int
    channel: str
    notices: str
    attempts: int
    next_attempt_at: datetime


def insert_outbox(cur: duckdb.DuckDBPyConnection, rows: Sequence[OutboxRow]) -> None:
    """Queue rows inside the caller's transaction (see save_cycle)."""
    if rows:
        cur.executemany(
            "INSERT INTO notify_outbox (channel, alert_key, status, created_at, notices, "
            "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(r.channel, r.alert_key, r.status, r.created_at, r.notices, r.created_at)
             for r in rows],
        )  # fmt: skip


def enqueue(store: Store, rows: Sequence[OutboxRow]) -> None:
    """Queue rows in a transaction of their own."""
    with store.writer() as cur:
        insert_outbox(cur, rows)


def next_pending(store: Store, channel: str) -> PendingRow | None:
    """The oldest row of `channel` not yet delivered: a channel delivers in order."""
    with store.reader() as cur:
        row = cur.execute(
            "SELECT id, channel, notices, attempts, next_attempt_at FROM notify_outbox "
            "WHERE channel = ? AND delivered_at IS NULL ORDER BY id LIMIT 1",
            [channel],
        ).fetchone()
    return PendingRow(*row) if row else None


def mark_delivered(store: Store, row_id: int, at: datetime, error: str | None = None) -> None:
    """Done with a row: sent, or (with `error`) rejected by the receiver for good."""
    with store.writer() as cur:
        cur.execute(
            "UPDATE notify_outbox SET delivered_at = ?, last_error = ?, attempts = attempts + 1 "
            "WHERE id = ?",
            [at, error, row_id],
        )


def mark_failed(store: Store, row_id: int, retry_at: datetime, error: str) -> None:
    with store.writer() as cur:
        cur.execute(
            "UPDATE notify_outbox SET attempts = attempts + 1, next_attempt_at = ?, "
            "last_error = ? WHERE id = ?",
            [retry_at, error, row_id],
        )


def pending_counts(store: Store) -> dict[str, int]:
    with store.reader() as cur:
        rows = cur.execute(
            "SELECT channel, count(*) FROM notify_outbox WHERE delivered_at IS NULL "
            "GROUP BY channel"
        ).fetchall()
    return {channel: int(n) for channel, n in rows}


def firing_notices(store: Store) -> dict[str, str]:
    """alert_key -> notices of its latest transition, for keys whose latest one left it firing."""
    with store.reader() as cur:
        rows = cur.execute(
            "SELECT alert_key, status, notices FROM notify_outbox QUALIFY row_number() OVER "
            "(PARTITION BY alert_key ORDER BY id DESC) = 1"
        ).fetchall()
    return {key: notices for key, status, notices in rows if status == "firing"}


def purge_delivered(store: Store, before: datetime) -> int:
    """Drop delivered rows created before `before`, keeping each key's latest firing row (it
    says what receivers were told is firing, across restarts)."""
    with store.writer() as cur:
        row = cur.execute(
            "DELETE FROM notify_outbox WHERE delivered_at IS NOT NULL AND created_at < ? "
            "AND (status = 'resolved' OR id NOT IN "
            "(SELECT max(id) FROM notify_outbox GROUP BY alert_key)) RETURNING id",
            [before],
        ).fetchall()
    return len(row)

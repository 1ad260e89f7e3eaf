"""SQL for cascade events: one row per cascade episode, its cascades as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from argus.cascade import CascadeResult
from argus.storage.store import Store


@dataclass(frozen=True)
class StoredCascadeEvent:
    """A cascade episode as stored: when it began and what it looked like then."""

    event_time: datetime
    detected_at: datetime
    total_servers: int
    correlation_score: float
    severity: str
    origin: str | None
    affected_servers: tuple[str, ...]
    cascades: tuple[dict[str, Any], ...]
    recommendations: tuple[str, ...]


def _cascades_json(result: CascadeResult) -> str:
    rows = []
    for cascade in result.cascades:
        row = asdict(cascade)
        row["onsets"] = [t.isoformat() for t in cascade.onsets]
        rows.append(row)
    return json.dumps(rows)


def save_cascade_event(store: Store, result: CascadeResult, detected_at: datetime) -> None:
    """Store the start of a cascade episode."""
    with store.writer() as cur:
        cur.execute(
            "INSERT INTO cascade_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                result.timestamp,
                detected_at,
                result.total_servers,
                result.correlation_score,
                result.severity or "low",
                result.origin,
                list(result.affected_servers),
                _cascades_json(result),
                list(result.recommendations),
            ],
        )


def update_cascade_event(store: Store, event_time: datetime, result: CascadeResult) -> None:
    """Replace what an ongoing episode's event shows with a larger view of the same cascade."""
    with store.writer() as cur:
        cur.execute(
            "UPDATE cascade_events SET total_servers = ?, correlation_score = ?, severity = ?, "
            "origin = ?, affected_servers = ?, cascades = ?, recommendations = ? "
            "WHERE event_time = ?",
            [
                result.total_servers,
                result.correlation_score,
                result.severity or "low",
                result.origin,
                list(result.affected_servers),
                _cascades_json(result),
                list(result.recommendations),
                event_time,
            ],
        )


def read_cascade_events(store: Store, limit: int = 10) -> list[StoredCascadeEvent]:
    """Return the newest `limit` cascade events, newest first."""
    with store.reader() as cur:
        rows = cur.execute(
            "SELECT event_time, detected_at, total_servers, correlation_score, severity, origin, "
            "affected_servers, cascades, recommendations FROM cascade_events "
            "ORDER BY event_time DESC, detected_at DESC LIMIT ?",
            [limit],
        ).fetchall()
    return [
        StoredCascadeEvent(
            at, det, n, corr, sev, origin, tuple(aff), tuple(json.loads(cas)), tuple(rec)
        )
        for at, det, n, corr, sev, origin, aff, cas, rec in rows
    ]


def count_cascade_events(store: Store) -> int:
    """Return how many cascade events are stored."""
    with store.reader() as cur:
        row = cur.execute("SELECT count(*) FROM cascade_events").fetchone()
    return int(row[0]) if row else 0


def last_cascade_time(store: Store) -> datetime | None:
    """Return when the newest stored cascade episode began (None: none stored)."""
    with store.reader() as cur:
        row = cur.execute("SELECT max(event_time) FROM cascade_events").fetchone()
    return row[0] if row else None

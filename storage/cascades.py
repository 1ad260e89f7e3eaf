"""SQL for cascade events: one row per cascade episode, its cascades as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from argus.cascade import Cascade
from argus.cascade.episodes import Episode, EpisodeView
from argus.storage.store import Store


@dataclass(frozen=True)
class StoredCascadeEvent:
    """A cascade episode as stored: when it began, when it was last seen, and its largest view."""

    event_time: datetime
    detected_at: datetime
    total_servers: int
    correlation_score: float
    severity: str
    origin: str | None
    affected_servers: tuple[str, ...]
    cascades: tuple[dict[str, Any], ...]
    recommendations: tuple[str, ...]
    last_seen: datetime


def _cascades_json(cascades: Sequence[Cascade]) -> str:
    rows = []
    for cascade in cascades:
        row = asdict(cascade)
        row["onsets"] = [t.isoformat() for t in cascade.onsets]
        rows.append(row)
    return json.dumps(rows)


def _content(view: EpisodeView, total_servers: int) -> list[Any]:
    return [
        total_servers,
        view.correlation_score,
        view.severity,
        view.origin,
        list(view.affected_servers),
        _cascades_json(view.cascades),
        list(view.recommendations),
        view.episode.last_seen,
    ]


def save_episode(
    store: Store, view: EpisodeView, total_servers: int, detected_at: datetime
) -> None:
    """Store what a detection showed of an episode: a new row when it began; while it goes on,
    when it was last seen, and its content again whenever it names more servers than before
    (the origin usually becomes clearer as the cascade spreads)."""
    with store.writer() as cur:
        if view.new:
            cur.execute(
                "INSERT INTO cascade_events (event_time, detected_at, total_servers, "
                "correlation_score, severity, origin, affected_servers, cascades, "
                "recommendations, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [view.episode.start, detected_at, *_content(view, total_servers)],
            )
        elif view.grew:
            cur.execute(
                "UPDATE cascade_events SET total_servers = ?, correlation_score = ?, "
                "severity = ?, origin = ?, affected_servers = ?, cascades = ?, "
                "recommendations = ?, last_seen = ? WHERE event_time = ?",
                [*_content(view, total_servers), view.episode.start],
            )
        else:
            cur.execute(
                "UPDATE cascade_events SET last_seen = ? WHERE event_time = ?",
                [view.episode.last_seen, view.episode.start],
            )


def read_cascade_events(store: Store, limit: int = 10) -> list[StoredCascadeEvent]:
    """Return the newest `limit` cascade events, newest first."""
    with store.reader() as cur:
        rows = cur.execute(
            "SELECT event_time, detected_at, total_servers, correlation_score, severity, origin, "
            "affected_servers, cascades, recommendations, coalesce(last_seen, event_time) "
            "FROM cascade_events ORDER BY event_time DESC, detected_at DESC LIMIT ?",
            [limit],
        ).fetchall()
    return [
        StoredCascadeEvent(
            at, det, n, corr, sev, origin, tuple(aff), tuple(json.loads(cas)), tuple(rec), seen
        )
        for at, det, n, corr, sev, origin, aff, cas, rec, seen in rows
    ]


def stored_episodes(store: Store, limit: int = 10) -> list[Episode]:
    """Return the newest `limit` stored episodes as the tracker knows them (after a restart:
    those seen recently enough are still open)."""
    return [
        Episode(e.event_time, e.last_seen, frozenset(e.affected_servers), len(e.affected_servers))
        for e in reversed(read_cascade_events(store, limit))
    ]


def count_cascade_events(store: Store) -> int:
    """Return how many cascade events are stored."""
    with store.reader() as cur:
        row = cur.execute("SELECT count(*) FROM cascade_events").fetchone()
    return int(row[0]) if row else 0

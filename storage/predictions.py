"""SQL for prediction cycles, per-server risks and alert events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from argus.alerts import ActiveAlert, AlertEvent, AlertEventKind
from argus.risk import ServerRisk
from argus.storage.notify import OutboxRow, insert_outbox
from argus.storage.store import Store
from argus.thresholds import Level


@dataclass(frozen=True)
class CycleRecord:
    """What one prediction cycle stores."""

    data_time: datetime
    computed_at: datetime
    duration_ms: float
    fleet_health: float
    prob_30m: float
    prob_8h: float
    counts: Mapping[Level, int]
    model: str  # the serving forecaster's name
    risks: Sequence[tuple[ServerRisk, Level, str, str]]  # (risk, server's level, profile, model)
    events: Sequence[AlertEvent]
    outbox: Sequence[OutboxRow] = ()  # notifications of the events, durable with them


def save_cycle(store: Store, cycle: CycleRecord) -> None:
    """Store a cycle, its server risks and its alert events in one transaction.

    A cycle for a data time already stored (a restart re-running the same bucket) replaces the
    cycle's summary and risks; its events are appended since they are transitions that happened.
    """
    risk_rows = [
        (cycle.data_time, r.server_name, profile, model, r.risk_score, level.value,
         r.dominant_metric, r.time_to_issue_minutes, r.prob_30m, r.prob_8h)
        for r, level, profile, model in cycle.risks
    ]  # fmt: skip
    event_rows = [
        (e.server_name, e.kind.value, e.at, e.level.value, e.previous_level.value, e.risk_score,
         e.dominant_metric, e.message, e.opened_at, e.duration_minutes)
        for e in cycle.events
    ]  # fmt: skip
    with store.writer() as cur:
        cur.execute(
            "INSERT OR REPLACE INTO prediction_cycles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [cycle.data_time, cycle.computed_at, len(risk_rows), cycle.duration_ms,
             cycle.fleet_health, cycle.prob_30m, cycle.prob_8h,
             *(cycle.counts.get(level, 0) for level in _LEVEL_ORDER), cycle.model],
        )  # fmt: skip
        cur.execute("DELETE FROM server_risks WHERE data_time = ?", [cycle.data_time])
        if risk_rows:
            cur.executemany(
                "INSERT INTO server_risks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", risk_rows
            )
        if event_rows:
            cur.executemany(
                "INSERT INTO alert_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", event_rows
            )
        insert_outbox(cur, cycle.outbox)


# prediction_cycles stores one count column per level, in this order.
_LEVEL_ORDER = (Level.CRITICAL, Level.WARNING, Level.DEGRADED, Level.HEALTHY)
_EVENT_COLUMNS = (
    "server_name, kind, event_time, level, previous_level, risk_score, dominant_metric, message, "
    "opened_at, duration_minutes"
)


def read_alert_events(
    store: Store, since: datetime | None = None, server: str | None = None
) -> list[AlertEvent]:
    """Alert transitions, oldest first."""
    clauses, params = [], []
    if since is not None:
        clauses.append("event_time >= ?")
        params.append(since)
    if server is not None:
        clauses.append("server_name = ?")
        params.append(server)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    with store.reader() as cur:
        query = (
            f"SELECT {_EVENT_COLUMNS} FROM alert_events {where} ORDER BY event_time, server_name"  # noqa: S608
        )
        rows = cur.execute(query, params).fetchall()
    return [
        AlertEvent(name, AlertEventKind(kind), at, Level(level), Level(prev), *rest)
        for name, kind, at, level, prev, *rest in rows
    ]


def read_open_alerts(store: Store, dwell: int) -> dict[str, ActiveAlert]:
    """Rebuild the active alerts from each server's latest event (after a restart)."""
    with store.reader() as cur:
        rows = cur.execute(
            "SELECT server_name, kind, event_time, level, risk_score, dominant_metric, message, "
            "opened_at "
            "FROM alert_events QUALIFY row_number() OVER "
            "(PARTITION BY server_name ORDER BY event_time DESC, rowid DESC) = 1"
        ).fetchall()
    return {
        name: ActiveAlert(name, Level(level), score, msg, metric, None, opened, at, dwell)
        for name, kind, at, level, score, metric, msg, opened in rows
        if kind != AlertEventKind.RESOLVED.value
    }

"""The alert state machine, and with it the one level of every server.

A server's alert opens as soon as its risk reaches a non-healthy level and escalates at once when
the level rises. A server that stops reporting (stale) gets a "no data" alert instead, at warning,
which replaces any risk alert it had and is resolved in the first cycle its data returns.
A risk alert is lowered only when the score has dropped `hysteresis` points below the floor
of its current band *and* the level has held for `min_dwell_cycles` prediction cycles, so a score
wobbling around a band edge does not flap. Lowering to healthy resolves the alert.

This is the only place hysteresis lives (docs/risk.md, "Levels and hysteresis"): a server's level
is its open alert's level, or healthy without one (`server_levels`). Tiles, the fleet summary's
counts, the alert list, the stored history and the Prometheus gauge all read that one mapping, so
they can never show two levels for one server in one cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from argus.risk import ServerRisk
from argus.staleness import StaleServer
from argus.thresholds import Level, level_for

RANK: dict[Level, int] = {
    Level.HEALTHY: 0,
    Level.DEGRADED: 1,
    Level.WARNING: 2,
    Level.CRITICAL: 3,
}


NO_DATA = "no_data"  # the dominant_metric of a stale server's alert
NO_DATA_LEVEL = Level.WARNING


class AlertEventKind(StrEnum):
    NEW = "new"
    ESCALATED = "escalated"
    DEESCALATED = "de-escalated"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class AlertPolicy:
    hysteresis: float = 5.0
    min_dwell_cycles: int = 3


@dataclass(frozen=True)
class ActiveAlert:
    """The one open alert of a server."""

    server_name: str
    level: Level
    risk_score: float
    message: str
    dominant_metric: str
    time_to_issue_minutes: int | None
    opened_at: datetime
    level_since: datetime
    cycles_at_level: int


@dataclass(frozen=True)
class AlertEvent:
    """A transition, kept as history."""

    server_name: str
    kind: AlertEventKind
    at: datetime
    level: Level  # the level after the transition (healthy when resolved)
    previous_level: Level
    risk_score: float
    dominant_metric: str
    message: str
    opened_at: datetime
    duration_minutes: float | None  # resolved events: how long the alert was open


def _lowered_level(alert: ActiveAlert, risk: ServerRisk, policy: AlertPolicy) -> Level:
    """The level to move down to, or the current one while hysteresis or dwell holds it."""
    if alert.cycles_at_level < policy.min_dwell_cycles:
        return alert.level
    damped = level_for(risk.risk_score + policy.hysteresis)
    return damped if RANK[damped] < RANK[alert.level] else alert.level


def _step(
    alert: ActiveAlert | None, risk: ServerRisk, at: datetime, policy: AlertPolicy
) -> tuple[ActiveAlert | None, AlertEvent | None]:
    """Advance one server's alert by one prediction cycle."""
    raw = risk.score_level
    if alert is None:
        if raw is Level.HEALTHY:
            return None, None
        opened = ActiveAlert(
            risk.server_name,
            raw,
            risk.risk_score,
            risk.message,
            risk.dominant_metric,
            risk.time_to_issue_minutes,
            at,
            at,
            1,
        )
        return opened, _event(opened, AlertEventKind.NEW, at, Level.HEALTHY)
    updated = replace(
        alert,
        risk_score=risk.risk_score,
        message=risk.message,
        dominant_metric=risk.dominant_metric,
        time_to_issue_minutes=risk.time_to_issue_minutes,
    )
    if RANK[raw] > RANK[alert.level]:
        raised = replace(updated, level=raw, level_since=at, cycles_at_level=1)
        return raised, _event(raised, AlertEventKind.ESCALATED, at, alert.level)
    target = _lowered_level(alert, risk, policy)
    if target is alert.level:
        return replace(updated, cycles_at_level=alert.cycles_at_level + 1), None
    if target is Level.HEALTHY:
        return None, _event(
            replace(updated, level=Level.HEALTHY), AlertEventKind.RESOLVED, at, alert.level
        )
    lowered = replace(updated, level=target, level_since=at, cycles_at_level=1)
    return lowered, _event(lowered, AlertEventKind.DEESCALATED, at, alert.level)


def _event(alert: ActiveAlert, kind: AlertEventKind, at: datetime, previous: Level) -> AlertEvent:
    duration = (
        (at - alert.opened_at).total_seconds() / 60 if kind is AlertEventKind.RESOLVED else None
    )
    return AlertEvent(
        alert.server_name,
        kind,
        at,
        alert.level,
        previous,
        alert.risk_score,
        alert.dominant_metric,
        alert.message,
        alert.opened_at,
        duration,
    )


def _no_data(
    name: str, alert: ActiveAlert | None, stale: StaleServer, at: datetime
) -> tuple[ActiveAlert, list[AlertEvent]]:
    """A stale server's alert: the open no-data alert with its minutes updated, or a new one
    (a risk alert it had is resolved first: its forecast no longer stands)."""
    if alert is not None and alert.dominant_metric == NO_DATA:
        return replace(alert, message=stale.message, cycles_at_level=alert.cycles_at_level + 1), []
    events = [] if alert is None else [_resolved(alert, at, stale.message)]
    opened = ActiveAlert(name, NO_DATA_LEVEL, 0.0, stale.message, NO_DATA, None, at, at, 1)
    return opened, [*events, _event(opened, AlertEventKind.NEW, at, Level.HEALTHY)]


def _resolved(alert: ActiveAlert, at: datetime, message: str) -> AlertEvent:
    closed = replace(alert, level=Level.HEALTHY, message=message)
    return _event(closed, AlertEventKind.RESOLVED, at, alert.level)


def advance(
    active: Mapping[str, ActiveAlert],
    risks: Iterable[ServerRisk],
    at: datetime,
    policy: AlertPolicy | None = None,
    stale: Mapping[str, StaleServer] | None = None,
) -> tuple[dict[str, ActiveAlert], list[AlertEvent]]:
    """Return the new active alerts and the transitions of one prediction cycle.

    Servers absent from `risks` and `stale` (no forecast this cycle) keep their alert unchanged.
    """
    policy = policy or AlertPolicy()
    result = dict(active)
    events: list[AlertEvent] = []
    for risk in risks:
        previous = active.get(risk.server_name)
        if previous is not None and previous.dominant_metric == NO_DATA:  # its data is back
            events.append(_resolved(previous, at, "Data received again"))
            previous = None
        alert, event = _step(previous, risk, at, policy)
        if alert is None:
            result.pop(risk.server_name, None)
        else:
            result[risk.server_name] = alert
        if event is not None:
            events.append(event)
    for name, silent in (stale or {}).items():
        result[name], opened = _no_data(name, active.get(name), silent, at)
        events.extend(opened)
    return result, events


def server_levels(alerts: Mapping[str, ActiveAlert], servers: Iterable[str]) -> dict[str, Level]:
    """The level of each of `servers` after a cycle: its open alert's level, else healthy.

    An alert escalates at once, so this is never below the level of the server's score; it is
    above it only while hysteresis or dwell holds a level up (`level_held`).
    """
    return {name: alerts[name].level if name in alerts else Level.HEALTHY for name in servers}


def level_held(level: Level, score: float) -> bool:
    """Whether `level` is being held above the band `score` alone falls in."""
    return RANK[level] > RANK[level_for(score)]

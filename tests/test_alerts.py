"""The alert state machine: one alert per server, hysteresis, dwell, real resolution times."""

from __future__ import annotations

from datetime import datetime, timedelta

from argus.alerts import AlertEventKind, AlertPolicy, advance, level_held, server_levels
from argus.config import Settings
from argus.risk import ServerRisk
from argus.thresholds import Level, level_for

T0 = datetime(2025, 1, 15, 10, 0)
STEP = timedelta(minutes=5)


def risk(score: float, server: str = "ppdb001") -> ServerRisk:
    return ServerRisk(
        server,
        score,
        level_for(score),
        "mem_pct",
        45,
        None,
        0.1,
        0.5,
        "Memory exhaustion predicted in 45 minutes",
        {},
    )


def run(scores: list[float], policy: AlertPolicy | None = None):
    active, history, levels = {}, [], []
    for i, score in enumerate(scores):
        active, events = advance(active, [risk(score)], T0 + timedelta(minutes=5 * i), policy)
        history.extend(events)
        levels.append(active["ppdb001"].level.value if "ppdb001" in active else "none")
    return history, levels


def test_escalates_at_once_and_resolves_with_real_duration() -> None:
    events, levels = run([30, 55, 65, 85, 85, 85, 40, 40, 40, 40])
    kinds = [e.kind for e in events]
    assert kinds[:3] == [AlertEventKind.NEW, AlertEventKind.ESCALATED, AlertEventKind.ESCALATED]
    assert levels[:4] == ["none", "degraded", "warning", "critical"]
    resolved = [e for e in events if e.kind is AlertEventKind.RESOLVED]
    assert len(resolved) == 1
    assert (
        resolved[0].duration_minutes
        == (resolved[0].at - T0 - timedelta(minutes=5)).total_seconds() / 60
    )
    assert levels[-1] == "none"


def test_score_wobbling_around_a_band_edge_does_not_flap() -> None:
    wobble = [62, 58, 61, 59, 62, 57, 60, 58] * 4
    events, levels = run(wobble)
    assert [e.kind for e in events] == [AlertEventKind.NEW]
    assert set(levels) == {"warning"}


def test_without_hysteresis_the_same_series_would_flap() -> None:
    events, _ = run([62, 58, 61, 59, 62, 57] * 3, AlertPolicy(hysteresis=0, min_dwell_cycles=1))
    assert len(events) > 5


def test_lowering_waits_for_the_minimum_dwell() -> None:
    events, levels = run([85, 20, 20, 20, 20], AlertPolicy(hysteresis=5, min_dwell_cycles=3))
    assert levels == ["critical", "critical", "critical", "none", "none"]
    assert events[-1].kind is AlertEventKind.RESOLVED


def test_one_alert_per_server_and_absent_servers_keep_theirs() -> None:
    active, _ = advance({}, [risk(70, "a"), risk(90, "b"), risk(10, "c")], T0)
    assert sorted(active) == ["a", "b"]
    later, events = advance(active, [risk(95, "a")], T0 + timedelta(minutes=5))
    assert sorted(later) == ["a", "b"] and later["b"] == active["b"]
    assert [e.kind for e in events] == [AlertEventKind.ESCALATED]


def test_server_levels_are_the_alert_levels_and_never_below_the_score() -> None:
    active, _ = advance({}, [risk(85, "a"), risk(55, "b")], T0)
    active, _ = advance(active, [risk(30, "a"), risk(10, "b"), risk(20, "c")], T0 + STEP)
    levels = server_levels(active, ["a", "b", "c"])
    assert levels == {"a": Level.CRITICAL, "b": Level.DEGRADED, "c": Level.HEALTHY}  # held
    assert level_held(levels["a"], 30) and not level_held(levels["c"], 20)
    assert not level_held(Level.WARNING, 65)


def test_the_default_policy_is_the_daemons_default() -> None:
    fields = Settings.model_fields
    assert AlertPolicy() == AlertPolicy(
        fields["alert_hysteresis"].default, fields["alert_min_dwell"].default
    )

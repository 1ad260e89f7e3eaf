"""Risk from quantile forecasts: probabilities, monotonicity, time to issue, messages."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from argus.forecast.base import ForecastSet
from argus.risk import (
    assess_server,
    exceedance,
    fleet_summary,
    format_minutes,
    metric_risk,
    present_score,
    severity,
    urgency,
)
from argus.thresholds import Level

LEVELS = np.array([0.1, 0.5, 0.9])
SOCKETS = "Back-end sockets in CLOSE_WAIT"
TARGETS = ("cpu_pct", "mem_pct", "swap_pct", "iowait_pct", "load", "disk_pct")


def forecast_of(paths: dict[str, np.ndarray], steps: int = 96) -> ForecastSet:
    """One server ('ppdb001'); `paths[target]` is (steps, 3) at quantiles 0.1/0.5/0.9."""
    values = np.zeros((1, len(TARGETS), steps, 3))
    for i, target in enumerate(TARGETS):
        values[0, i] = paths.get(target, np.tile([10.0, 12.0, 14.0], (steps, 1)))
    start = np.datetime64("2025-01-15T10:05:00")
    stamps = start + np.arange(steps) * np.timedelta64(5, "m")
    return ForecastSet(
        ("ppdb001",), TARGETS, (0.1, 0.5, 0.9), stamps[None, :], values, ("baseline",)
    )


def test_exceedance_interpolates_between_quantiles() -> None:
    values = np.array([[80.0, 90.0, 100.0]])
    assert exceedance(values, LEVELS, 90.0, 1.0)[0] == pytest.approx(0.5)
    assert exceedance(values, LEVELS, 85.0, 1.0)[0] == pytest.approx(0.7)  # F = 0.1 + 0.4 * 0.5
    assert exceedance(values, LEVELS, 95.0, 1.0)[0] == pytest.approx(0.3)


def test_exceedance_tails_are_exponential() -> None:
    values = np.array([[80.0, 90.0, 100.0]])
    assert exceedance(values, LEVELS, 102.0, 2.0)[0] == pytest.approx(0.1 * np.exp(-1))
    assert exceedance(values, LEVELS, 78.0, 2.0)[0] == pytest.approx(1 - 0.1 * np.exp(-1))


def test_raising_any_forecast_value_never_lowers_the_score() -> None:
    rng = np.random.default_rng(7)
    for _ in range(300):
        base = np.sort(rng.uniform(60, 105, size=(12, 3)), axis=1)
        raised = base.copy()
        i, j = rng.integers(0, 12), rng.integers(0, 3)
        raised[i, j] += rng.uniform(0, 10)
        raised = np.sort(raised, axis=1)
        low = metric_risk("mem_pct", "Database", base, LEVELS, 50.0)
        high = metric_risk("mem_pct", "Database", raised, LEVELS, 50.0)
        assert high.score >= low.score - 1e-9
        assert (high.probabilities >= low.probabilities - 1e-12).all()


def test_urgency_weights_near_breaches_more() -> None:
    w = urgency(96)
    assert w[:6].tolist() == [1.0] * 6
    assert w[23] == pytest.approx(0.8)  # 2 hours ahead: a certain breach is still critical
    assert w[-1] == pytest.approx(0.65)
    assert (np.diff(w) <= 0).all()


def test_severity_is_80_at_even_odds_and_100_when_certain() -> None:
    assert severity(np.array([0.0, 0.25, 0.5, 1.0])).tolist() == [0.0, 40.0, 80.0, 100.0]


def test_present_score_bands() -> None:
    assert present_score("mem_pct", "Generic", 50.0) == 0.0
    assert 50.0 <= present_score("mem_pct", "Generic", 94.0) < 60.0
    assert present_score("mem_pct", "Generic", 98.5) == 85.0


def test_a_likely_breach_in_45_minutes_is_critical_with_time_to_issue() -> None:
    mem = np.tile([70.0, 75.0, 80.0], (96, 1))
    mem[8:] = [97.0, 99.0, 100.0]  # median crosses the 98 % critical line at step 9 (45 min)
    risk = assess_server(forecast_of({"mem_pct": mem}), "ppdb001", "Database", {"mem_pct": 75.0})
    assert risk.score_level is Level.CRITICAL
    assert risk.dominant_metric == "mem_pct"
    assert risk.time_to_issue_minutes == 45
    assert risk.breach_at == datetime(2025, 1, 15, 10, 45)
    assert risk.message == "Memory exhaustion predicted in 45 minutes"
    assert risk.prob_8h > 0.5


@pytest.mark.parametrize(
    ("sockets", "level", "message"),
    [
        (None, Level.HEALTHY, "No breach expected in the next 8 hours"),
        (120, Level.HEALTHY, "No breach expected in the next 8 hours"),
        (260, Level.DEGRADED, f"{SOCKETS} at 260 sockets (above warning threshold)"),
        (530, Level.CRITICAL, f"{SOCKETS} at 530 sockets (critical threshold)"),
    ],
)
def test_close_wait_is_scored_on_its_present_value(sockets, level, message) -> None:
    present = {"cpu_pct": 12.0, "back_close_wait": sockets}
    risk = assess_server(forecast_of({}), "ppdb001", "Database", present)
    assert risk.score_level is level and risk.message == message
    assert ("back_close_wait" in risk.metrics) == (sockets is not None)
    if level is not Level.HEALTHY:
        assert risk.dominant_metric == "back_close_wait"
    assert risk.time_to_issue_minutes == (0 if level is Level.CRITICAL else None)
    assert risk.prob_30m == (1.0 if level is Level.CRITICAL else pytest.approx(0.0, abs=1e-6))


def test_a_calm_forecast_is_healthy() -> None:
    risk = assess_server(forecast_of({}), "ppdb001", "Database", {"cpu_pct": 12.0})
    assert risk.score_level is Level.HEALTHY
    assert risk.time_to_issue_minutes is None
    assert risk.risk_score < 1
    assert risk.message == "No breach expected in the next 8 hours"


def test_disk_message_names_the_clock_time() -> None:
    disk = np.tile([80.0, 85.0, 90.0], (96, 1))
    disk[40:] = [94.0, 96.0, 97.0]
    risk = assess_server(forecast_of({"disk_pct": disk}), "ppdb001", "Database", {})
    assert risk.message == "Disk full predicted at " + (
        datetime(2025, 1, 15, 10, 5) + timedelta(minutes=5 * 40)
    ).strftime("%H:%M UTC")


def test_fleet_summary_combines_servers_as_independent() -> None:
    mem = np.tile([97.0, 99.0, 100.0], (96, 1))
    hot = assess_server(forecast_of({"mem_pct": mem}), "ppdb001", "Database", {})
    calm = assess_server(forecast_of({}), "ppdb001", "Database", {})
    # counts are of the servers' levels (the alert state's), not of the scores' bands
    levels = {"a": Level.CRITICAL, "b": Level.WARNING, "c": Level.HEALTHY}
    summary = fleet_summary([hot, calm, calm], levels)
    assert summary.total_servers == 3
    assert [summary.counts[lvl] for lvl in Level] == [1, 1, 0, 1]
    expected = 1 - (1 - hot.prob_30m) * (1 - calm.prob_30m) ** 2
    assert summary.prob_30m == pytest.approx(expected, abs=1e-4)
    assert summary.fleet_health == pytest.approx(
        np.mean([100 - r.risk_score for r in (hot, calm, calm)]), abs=0.05
    )


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(5, "5 minutes"), (60, "1 hour"), (125, "2 hours 5 minutes"), (1, "1 minute")],
)
def test_format_minutes(minutes, text) -> None:
    assert format_minutes(minutes) == text


@pytest.mark.parametrize("recovers", [True, False])
def test_a_metric_already_past_critical_is_an_issue_now_whatever_the_forecast(recovers) -> None:
    # Same present (99 % memory), two forecasts: one that recovers at once, one that stays.
    mem = np.tile([40.0, 45.0, 50.0] if recovers else [98.5, 99.0, 99.5], (96, 1))
    risk = assess_server(forecast_of({"mem_pct": mem}), "ppdb001", "Database", {"mem_pct": 99.0})
    assert risk.time_to_issue_minutes == 0
    assert risk.breach_at == datetime(2025, 1, 15, 10, 0)  # the latest bucket, before step 1

"""Alerts over simulated days, through the same forecaster -> risk -> alerts path as the daemon."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from argus.forecast.artifacts import load_model
from argus.forecast.serving import ServingForecaster
from argus.replay import origins_between, prepare, replay
from argus.simulate import IncidentRates, Simulator, simulate_fleet
from argus.simulate.dataset import block_frame
from argus.thresholds import Level

LEAKY = "ppdb001"


@pytest.fixture(scope="module")
def healthy_fleet():
    sim = simulate_fleet(servers=12, days=3, seed=21, rates=IncidentRates(per_server_day=0.0))
    assert not sim.labels.incidents
    return prepare(block_frame(sim.block))


@pytest.mark.parametrize("model", ["tft", "no_model"])
def test_a_healthy_fleet_raises_no_alert_over_a_day(healthy_fleet, tiny_model, model) -> None:
    # both as the daemon serves them: with the drift override (argus.forecast.trend)
    forecaster = (
        ServingForecaster(load_model(tiny_model, "tiny") if model == "tft" else None)
    )
    end = healthy_fleet["timestamp"].max().to_pydatetime()
    steps = replay(healthy_fleet, forecaster, origins_between(end - timedelta(days=1), end, 30))
    assert len(steps) == 49
    assert {r.server_name for s in steps for r in s.risks.values()} == set(
        healthy_fleet["server_name"]
    )
    assert [e for s in steps for e in s.events] == []
    assert max(r.risk_score for s in steps for r in s.risks.values()) < 50


@pytest.fixture(scope="module")
def leaking_server() -> tuple[pd.DataFrame, datetime, datetime]:
    """Two calm days of a simulated fleet, then a memory leak on ppdb001 run to exhaustion."""
    sim = Simulator.create(6, seed=3)
    calm = sim.advance(2 * 288)
    sim.inject(LEAKY, "memory_leak", lead_minutes=240)
    leak = sim.advance(66)
    frame = prepare(pd.concat([block_frame(calm), block_frame(leak)], ignore_index=True))
    label = next(i for i in sim.labels().incidents if i.server == LEAKY and i.cause == "injected")
    assert label.breach is not None
    onset, breach = (datetime.fromisoformat(t.rstrip("Z")) for t in (label.onset, label.breach))
    return frame, onset, breach


@pytest.mark.parametrize("model", ["tft", "no_model"])
def test_a_memory_leak_raises_warning_then_critical_before_exhaustion(
    leaking_server, tiny_model, model
) -> None:
    frame, onset, breach = leaking_server
    forecaster = (
        ServingForecaster(load_model(tiny_model, "tiny") if model == "tft" else None)
    )
    steps = replay(frame, forecaster, origins_between(onset, breach, 15))
    levels = [s.active[LEAKY].level if LEAKY in s.active else Level.HEALTHY for s in steps]
    assert Level.WARNING in levels and Level.CRITICAL in levels
    warned, critical = levels.index(Level.WARNING), levels.index(Level.CRITICAL)
    assert warned < critical  # a warning first, critical as the breach closes in
    assert breach - steps[warned].at >= timedelta(minutes=60)
    assert breach - steps[critical].at >= timedelta(minutes=30)
    assert all(level != Level.HEALTHY for level in levels[warned:])  # it never lapses
    # time_to_issue: in the last two hours, the predicted breach is within 30 min of the real one
    for step in steps:
        risk = step.risks[LEAKY]
        if breach - step.at <= timedelta(hours=2):
            assert risk.dominant_metric == "mem_pct"
            assert risk.time_to_issue_minutes is not None
            predicted = step.at + timedelta(minutes=risk.time_to_issue_minutes)
            assert abs(predicted - breach) <= timedelta(minutes=30), step.at
    # no other server is warned about (a busy ETL host may show degraded from its present CPU)
    others = {e.level for s in steps for e in s.events if e.server_name != LEAKY}
    assert others <= {Level.DEGRADED, Level.HEALTHY}

"""Alerts over simulated days, through the same forecaster -> risk -> alerts path as the daemon."""

from __future__ import annotations

from datetime import timedelta

import pytest

from argus.forecast.artifacts import load_model
from argus.forecast.baseline import SeasonalNaive
from argus.replay import origins_between, prepare, replay
from argus.simulate import IncidentRates, simulate_fleet
from argus.simulate.dataset import block_frame


@pytest.fixture(scope="module")
def healthy_fleet():
    sim = simulate_fleet(servers=12, days=3, seed=21, rates=IncidentRates(per_server_day=0.0))
    assert not sim.labels.incidents
    return prepare(block_frame(sim.block))


@pytest.mark.parametrize("model", ["tft", "seasonal_naive"])
def test_a_healthy_fleet_raises_no_alert_over_a_day(healthy_fleet, tiny_model, model) -> None:
    forecaster = load_model(tiny_model, "tiny") if model == "tft" else SeasonalNaive()
    end = healthy_fleet["timestamp"].max().to_pydatetime()
    steps = replay(healthy_fleet, forecaster, origins_between(end - timedelta(days=1), end, 30))
    assert len(steps) == 49
    assert {r.server_name for s in steps for r in s.risks.values()} == set(
        healthy_fleet["server_name"]
    )
    assert [e for s in steps for e in s.events] == []
    assert max(r.risk_score for s in steps for r in s.risks.values()) < 50

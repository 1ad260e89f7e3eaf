"""Explanations from the model: importance, attention, counterfactuals (argus.explain)."""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from argus.catalogue import derive_targets
from argus.explain.attention import FocusPeriod, describe, focus_periods, period_label
from argus.explain.cache import ExplanationCache
from argus.explain.engine import explain_server
from argus.explain.features import feature_of, stars
from argus.forecast.serving import ServingForecaster
from argus.risk import assess_server
from argus.simulate import Simulator
from argus.simulate.dataset import block_frame
from tests.forecast_support import synthetic_fleet, window_of

LEAKY = "ppdb001"


@cache
def leak_frame() -> pd.DataFrame:
    """Two calm days of a simulated fleet, then a memory leak on ppdb001 past its warning."""
    sim = Simulator.create(4, seed=3)
    calm = sim.advance(2 * 288)
    sim.inject(LEAKY, "memory_leak", lead_minutes=90)
    leak = sim.advance(24)
    frame = pd.concat([block_frame(calm), block_frame(leak)], ignore_index=True)
    # naive-UTC datetimes, as the daemon's window holds them
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.tz_localize(None)
    assert frame[frame["server_name"] == LEAKY]["mem_used_pct"].iloc[-1] >= 90
    return frame


def direct_risk(forecaster, frame: pd.DataFrame, server: str) -> float:
    """The risk of a plain re-prediction, scored like a prediction cycle."""
    rows = frame[frame["server_name"] == server]
    forecast = forecaster.forecast(rows)
    present = derive_targets(rows.iloc[-1].to_dict())
    return assess_server(forecast, server, str(rows["profile"].iloc[-1]), present).risk_score


def less_memory(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["mem_used_pct"] = out["mem_used_pct"] * 0.85
    return out


def test_stars_and_feature_names() -> None:
    assert stars(1.0) == "★★★★★" and stars(0.62) == "★★★☆☆" and stars(0.34) == "★★☆☆☆"
    assert stars(0.0) == "☆☆☆☆☆"
    assert feature_of("mem_pct_lag1d") == "mem_pct_seasonal"
    assert feature_of("tod_cos") == "time_of_day" and feature_of("dow_sin") == "day_of_week"
    assert feature_of("load") == "load"


def test_period_labels_are_relative_to_the_last_sample() -> None:
    assert period_label(0, 6) == "Last 30 minutes"
    assert period_label(0, 36) == "Last 3 hours"
    assert period_label(18, 30) == "2 hours ago"
    assert period_label(270, 288) == "Yesterday at this time"
    attention = np.full(288, 0.2 / 276)
    attention[-6:] = 0.5 / 6  # the last 30 minutes
    attention[:6] = 0.3 / 6  # ~24 hours ago
    periods = focus_periods(attention / attention.sum())
    assert [p.label for p in periods] == ["Last 30 minutes", "Yesterday at this time"]
    climb = np.concatenate([np.full(20, 70.0), np.linspace(71, 84, 6)])
    text = describe(climb, FocusPeriod(0, 6, 0.5), "mem_pct")
    assert text == "the memory climb of the last 30 minutes (71% → 84%; 50% of the attention)"


def test_cache_is_bounded_and_keyed() -> None:
    store: ExplanationCache[bytes] = ExplanationCache(capacity=2)
    for i in range(3):
        store.put(("t", i), b"x")
    assert len(store) == 2 and store.get(("t", 0)) is None and store.get(("t", 2)) == b"x"


def test_fallback_occlusion_ranks_memory_first_for_a_leak() -> None:
    frame = leak_frame()
    found = explain_server(ServingForecaster(None), window_of(frame).grid(), LEAKY)
    # the leak is steep enough for the drift override (argus.forecast.trend)
    assert found.model == "baseline+trend" and found.method == "occlusion"
    top = found.top_features[0]
    # the leak has begun to fill swap too, whose own climb the override extrapolates: either
    # memory metric may rank first, nothing else
    assert {f.feature for f in found.top_features[:2]} == {"mem_pct", "swap_pct"}
    assert top.importance == 1.0 and top.stars == "★★★★★"
    assert top.raw > 10  # risk points: hiding the leak changes the score a lot
    assert all(0 <= f.importance <= 1 for f in found.features)
    assert found.attention.method == "seasonal_naive_rule"
    assert "Yesterday at this time" in found.attention.focus_periods
    assert "memory" in found.attention.analysis


def test_memory_counterfactual_equals_a_direct_reprediction() -> None:
    frame = leak_frame()
    forecaster = ServingForecaster(None)
    found = explain_server(forecaster, window_of(frame).grid(), LEAKY)
    assert found.risk.risk_score == direct_risk(forecaster, frame, LEAKY)
    memory = next(c for c in found.counterfactuals if c.key == "reduce_memory")
    assert memory.helps and memory.risk_after < memory.risk_before
    assert memory.risk_after == direct_risk(forecaster, less_memory(frame), LEAKY)
    assert memory.impact == f"Risk drops from {memory.risk_before:.1f} to {memory.risk_after:.1f}"
    # ordered by effect: the largest drop first
    afters = [c.risk_after for c in found.counterfactuals]
    assert afters == sorted(afters)


def test_a_healthy_server_raises_nothing_alarming() -> None:
    frame = synthetic_fleet(servers=1, days=2.5, seed=1)
    found = explain_server(ServingForecaster(None), window_of(frame).grid(), "ppdb01")
    assert found.risk.risk_score < 50
    assert not any(c.helps for c in found.counterfactuals)
    assert all(abs(c.change) < 1.0 for c in found.counterfactuals)
    assert "nothing to change" in found.counterfactual_summary


@pytest.fixture(scope="module")
def tiny_tft(tiny_model: Path):
    import torch

    from argus.forecast.artifacts import load_model

    torch.set_num_threads(1)
    return ServingForecaster(load_model(tiny_model, "tiny"))


def test_tft_weights_come_from_interpret_output(tiny_tft) -> None:
    from pytorch_forecasting import TimeSeriesDataSet

    from argus.explain.features import group_weights
    from argus.forecast.frame import to_grid
    from argus.forecast.tft.dataset import prediction_frame

    frame = leak_frame()
    found = explain_server(tiny_tft, window_of(frame).grid(), LEAKY)
    # the leak is past the point where the drift override takes over memory (argus.forecast.trend)
    assert found.model == "tft:tiny+trend" and found.method == "tft_variable_selection"
    assert sum(f.raw for f in found.features) == pytest.approx(1.0, abs=1e-4)
    assert found.features[0].importance == 1.0
    assert [f.raw for f in found.features] == [
        f.raw for f in explain_server(tiny_tft, window_of(frame).grid(), LEAKY).features
    ]
    # pytorch-forecasting's own path: predict(mode="raw", return_x=True) + interpret_output
    network = tiny_tft.model.network
    grid = to_grid(frame[frame["server_name"] == LEAKY])
    dataset = TimeSeriesDataSet.from_parameters(
        network.dataset_parameters, prediction_frame(tiny_tft.model.config, grid), predict=True
    )
    with warnings.catch_warnings():  # lightning 2.6 + torch 2.13, as in argus.forecast.tft
        warnings.filterwarnings("ignore", ".*LeafSpec.*", FutureWarning)
        raw = network.predict(dataset, mode="raw", return_x=True, trainer_kwargs={"logger": False})
    weights = network.interpret_output(raw.output, reduction="none")["encoder_variables"][0]
    expected = group_weights(network.encoder_variables, weights.numpy())
    assert {f.feature: f.raw for f in found.features} == pytest.approx(expected, abs=1e-5)
    assert found.attention.method == "tft_attention"
    assert 1 <= len(found.attention.focus_periods) <= 3


def test_tft_counterfactual_equals_a_direct_reprediction(tiny_tft) -> None:
    frame = leak_frame()
    found = explain_server(tiny_tft, window_of(frame).grid(), LEAKY)
    assert found.risk.risk_score == pytest.approx(direct_risk(tiny_tft, frame, LEAKY), abs=0.1)
    memory = next(
        (c for c in found.counterfactuals if c.key == "reduce_memory"), None
    ) or explain_memory_scenario(tiny_tft, frame)
    assert memory.risk_after == pytest.approx(
        direct_risk(tiny_tft, less_memory(frame), LEAKY), abs=0.1
    )


def explain_memory_scenario(forecaster, frame: pd.DataFrame):
    """The memory scenario even when it is not among the reported ones (it did not help)."""
    from argus.explain.counterfactuals import counterfactual
    from argus.explain.engine import _risks, _run, _variants
    from argus.explain.scenarios import SCENARIOS, variant_name
    from argus.forecast.frame import to_grid

    grid = to_grid(frame[frame["server_name"] == LEAKY])
    variants = _variants(grid, LEAKY, str(grid["profile"].iloc[-1]), occlusion=False)
    forecast, _ = _run(forecaster, pd.concat(variants.values()), LEAKY, network=True)
    risks = _risks(forecast, variants, str(grid["profile"].iloc[-1]))
    scenario = next(s for s in SCENARIOS if s.key == "reduce_memory")
    return counterfactual(scenario, risks[LEAKY], risks[variant_name(LEAKY, scenario.key)])


def test_fast_inputs_give_the_reference_interpretation(tiny_tft) -> None:
    """Explanations build the batch with fast_predict; the TimeSeriesDataSet path agrees."""
    from argus.forecast.frame import to_grid
    from argus.forecast.tft.interpret import run_network

    grid = to_grid(leak_frame())
    model = tiny_tft.model
    assert model.fast_path
    fast, fast_view = run_network(model, grid, LEAKY)
    model.use_fast_path = False
    try:
        ref, ref_view = run_network(model, grid, LEAKY)
    finally:
        model.use_fast_path = True
    assert fast.servers == ref.servers
    assert (fast.timestamps == ref.timestamps).all()
    np.testing.assert_allclose(fast.values, ref.values, atol=1e-3)
    np.testing.assert_allclose(fast_view.weights, ref_view.weights, atol=1e-5)
    np.testing.assert_allclose(fast_view.attention, ref_view.attention, atol=1e-5)
    assert fast_view.last_time_idx == ref_view.last_time_idx

"""Gridding, target derivation and the seasonal-naive fallback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from argus.forecast.base import HORIZON
from argus.forecast.baseline import Naive, SeasonalNaive
from argus.forecast.frame import (
    DAY_STEPS,
    add_covariates,
    forward_fill,
    future_lags,
    future_rows,
    last_finite,
    median_of_layers,
    network_frame,
    to_grid,
)
from argus.forecast.tft import TFTConfig, TFTForecaster
from tests.forecast_support import synthetic_fleet


def test_grid_averages_buckets_keeps_gaps_and_derives_targets() -> None:
    frame = pd.DataFrame({
        "timestamp": ["2024-01-01 00:01", "2024-01-01 00:04", "2024-01-01 00:21+01:00",
                      "2024-01-01 00:20"],
        "server_name": ["a", "a", "a", "ppdb1"],
        "cpu_idle_pct": [90.0, 70.0, 50.0, 40.0],
        "mem_used_pct": [10.0, 20.0, 30.0, 40.0],
    })
    grid = to_grid(frame)
    a = grid[grid["server"] == "a"]
    # "00:21+01:00" is 23:21 UTC the day before: its own, earlier bucket (no gap filled in)
    assert a["cpu_pct"].tolist() == [50.0, 20.0]  # then the mean of 10 and 30
    assert a["mem_pct"].tolist() == [30.0, 15.0]
    assert a["timestamp"].tolist() == [pd.Timestamp("2023-12-31 23:20"),
                                       pd.Timestamp("2024-01-01 00:00")]
    assert grid.loc[grid["server"] == "ppdb1", "profile"].item() == "Database"
    assert (grid["swap_pct"] == 0).all()  # never sent -> 0


def test_day_ago_covariate_is_the_value_288_steps_earlier() -> None:
    grid = add_covariates(to_grid(synthetic_fleet(servers=1, days=2)))
    assert grid["cpu_pct_lag1d"].iloc[300] == grid["cpu_pct"].iloc[12]


def test_seasonal_covariate_is_the_median_of_the_same_time_on_previous_days() -> None:
    grid = to_grid(synthetic_fleet(servers=1, days=9))
    row = 8 * DAY_STEPS + 40
    missing = row - 3 * DAY_STEPS  # a bucket lost three days before: six days remain
    cpu = grid["cpu_pct"].to_numpy()
    week = cpu[[row - d * DAY_STEPS for d in range(1, 8)]]
    assert add_covariates(grid, 7)["cpu_pct_lag1d"].iloc[row] == np.median(week)
    gapped = add_covariates(grid.drop(index=missing), 7).set_index("time_idx")
    six = np.delete(week, 2)  # an even count: the mean of the middle two
    assert gapped.loc[grid["time_idx"].iloc[row], "cpu_pct_lag1d"] == np.median(six)
    # one day of history: the day before (fewer days than asked use the ones there are)
    assert add_covariates(grid, 7)["cpu_pct_lag1d"].iloc[300] == cpu[12]


@pytest.mark.parametrize("days", [1, 2, 6, 7, 8])
def test_median_of_layers_is_nanmedian(days: int) -> None:
    rng = np.random.default_rng(days)
    stack = rng.normal(size=(500, 3, days))
    stack[rng.random(stack.shape) < 0.3] = np.nan
    stack[:5] = np.nan  # no day at all: NaN
    stack[5:10, 0] = 1.5  # ties
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expect = np.nanmedian(stack, axis=-1)
    got = median_of_layers([stack[..., d] for d in range(days)])
    np.testing.assert_array_equal(got, expect)


def test_a_differenced_frame_holds_the_change_since_a_day_before() -> None:
    grid = to_grid(synthetic_fleet(servers=2, days=2))
    levels, changes = network_frame(grid, False), network_frame(grid, True)
    assert changes["cpu_pct"].iloc[300] == grid["cpu_pct"].iloc[300] - grid["cpu_pct"].iloc[12]
    np.testing.assert_allclose(changes["mem_pct"] + changes["mem_pct_lag1d"], levels["mem_pct"])
    assert changes["cpu_pct_lag1d"].equals(levels["cpu_pct_lag1d"])  # the covariates stay levels


def test_future_lags_are_the_day_before_each_forecast_step() -> None:
    grid = to_grid(synthetic_fleet(servers=2, days=2))
    full = add_covariates(pd.concat([grid, future_rows(grid, 4)], ignore_index=True))
    full = full.sort_values(["server", "time_idx"], kind="stable")
    lags = future_lags(full, ("ppweb01", "ppdb01"), 4)  # (servers, targets, steps)
    db = grid[grid["server"] == "ppdb01"]["cpu_pct"].to_numpy()
    # step 1 is one bucket after the last (db[-1]); a day before it is db[-1 + 1 - 288]
    np.testing.assert_allclose(lags[1, 0], db[-DAY_STEPS : -DAY_STEPS + 4])
    assert lags.shape == (2, 6, 4)


def test_models_saved_before_differencing_still_forecast_levels() -> None:
    saved = TFTConfig().to_dict()
    assert TFTConfig.from_dict(saved).differenced
    del saved["seasonal_target"]  # a metadata.json written before the option existed
    assert not TFTConfig.from_dict(saved).differenced
    del saved["seasonal_days"]  # ... or before the seasonal covariate was a week's median
    assert TFTConfig.from_dict(saved).seasonal_days == 1
    assert TFTConfig.from_dict(saved).history_steps == TFTConfig.max_encoder_length + DAY_STEPS
    assert not TFTConfig(seasonal_covariates=False).differenced  # nothing to difference by


def test_a_differenced_networks_output_is_added_to_the_day_ago_values() -> None:
    forecaster = TFTForecaster(TFTConfig())  # no calibration record: levels, clipped, sorted
    change = np.broadcast_to(np.linspace(-3.0, 3.0, 7), (1, 6, 4, 7))  # (servers, T, steps, q)
    lags = np.full((1, 6, 4), 40.0)
    lags[0, 0] = [1.0, 2.0, 40.0, 99.0]  # cpu_pct near both ends of its range
    out = forecaster.finish(change, lags)
    np.testing.assert_allclose(out[0, 1, 2], 40.0 + np.linspace(-3.0, 3.0, 7))
    np.testing.assert_allclose(out[0, 0, 0], np.clip(1.0 + np.linspace(-3.0, 3.0, 7), 0, 100))
    assert out[0, 0, 3].max() == 100.0
    with pytest.raises(ValueError, match="lags"):
        forecaster.finish(change, None)  # a change is not a forecast


def test_seasonal_naive_repeats_yesterday_and_falls_back_to_naive() -> None:
    frame = synthetic_fleet(servers=2, days=2)
    short = frame[frame["server_name"] == "ppweb01"].iloc[:30]  # 2.5 h of history
    fs = SeasonalNaive().predict(pd.concat([frame[frame["server_name"] == "ppdb01"], short]))
    grid = to_grid(frame[frame["server_name"] == "ppdb01"])
    cpu = grid["cpu_pct"].to_numpy()
    assert fs.values.shape == (2, 6, HORIZON, 7)
    assert fs.models == ("baseline", "baseline")
    np.testing.assert_allclose(fs.median("ppdb01", "cpu_pct"), cpu[-288:-288 + HORIZON])
    short_cpu = to_grid(short)["cpu_pct"].iloc[-1]
    assert fs.median("ppweb01", "cpu_pct") == pytest.approx(np.full(HORIZON, short_cpu))
    assert fs.timestamps[1, 0] == np.datetime64(pd.Timestamp(short["timestamp"].max()) +
                                                pd.Timedelta(minutes=5))
    assert (np.diff(fs.values, axis=-1) >= 0).all()  # monotone quantiles
    lo, hi = fs.series("ppdb01", "cpu_pct")[1][:, [1, 5]].T
    assert (hi > lo).all()  # empirical errors give a real interval
    assert Naive().predict(frame).median("ppdb01", "cpu_pct")[-1] == pytest.approx(cpu[-1])


def test_last_finite_is_the_forward_filled_last_step() -> None:
    """Gaps, a series never seen and a server silent for its last 100 steps."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(20, 300, 6))
    values[rng.random(values.shape) < 0.5] = np.nan
    values[3, :, 2] = np.nan
    values[4, 199] = 7.0
    values[4, -100:] = np.nan
    last = last_finite(values)
    np.testing.assert_array_equal(last, forward_fill(values, axis=1)[:, -1])
    assert np.isnan(last[3, 2]) and (last[4] == 7.0).all()
    full = rng.normal(size=(3, 10, 2))  # every series reported last: read as it is
    np.testing.assert_array_equal(last_finite(full), full[:, -1])

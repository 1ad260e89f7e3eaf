"""Backtest metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from argus.forecast.backtest import backtest, parse_horizons
from argus.forecast.baseline import Naive
from argus.forecast.evaluate import mase_scale, median_of_group_means, pinball_loss, score
from argus.forecast.frame import to_grid


def test_mase_scale_skips_pairs_across_gaps() -> None:
    # pairs: |3-1| = 2, |2-3| = 1; the NaN breaks (2, nan) and (nan, 5)
    assert mase_scale(np.array([1.0, 3.0, 2.0, np.nan, 5.0])) == 1.5
    assert math.isnan(mase_scale(np.array([4.0])))


def test_pinball_loss_by_hand() -> None:
    # y = 10, predictions 8 (q=0.1) and 12 (q=0.9):
    # q=0.1: diff 2 -> 0.1*2 = 0.2 ; q=0.9: diff -2 -> (0.9-1)*-2 = 0.2 ; mean 0.2
    assert pinball_loss(np.array(10.0), np.array([8.0, 12.0]), [0.1, 0.9]) == pytest.approx(0.2)


def test_score_by_hand() -> None:
    actual = np.array([10.0, 20.0, 30.0, np.nan])
    # quantiles 0.1 / 0.5 / 0.9
    predicted = np.array([[9, 11, 12], [15, 18, 25], [31, 32, 33], [0, 0, 0]], dtype=float)
    scores = score(actual, predicted, [0.1, 0.5, 0.9], np.array([1.0, 2.0, 4.0, 1.0]),
                   np.array(["a", "a", "b", "b"]))
    assert scores.n == 3
    assert scores.mae == pytest.approx((1 + 2 + 2) / 3)
    # series a: mean(1/1, 2/2) = 1; series b: 2/4 = 0.5; median of (1, 0.5) = 0.75
    assert scores.mase == pytest.approx(0.75)
    assert scores.coverage == pytest.approx(2 / 3)  # 30 is below P10 = 31
    assert median_of_group_means(np.array([1.0, 3.0, 5.0]), np.array(["x", "x", "y"])) == 3.5


def test_backtest_of_naive_on_a_line_by_hand() -> None:
    # y = t on one server: naive forecasts the last value, so at horizon h the error is h,
    # the one-step scale is 1 (MASE = h), every past h-step change is h (zero-width intervals,
    # coverage 0), and pinball = mean over quantiles of q*h = h/2 for symmetric quantiles.
    stamps = pd.date_range("2024-01-01", periods=400, freq="5min")
    frame = pd.DataFrame({"timestamp": stamps, "server_name": "line",
                          "cpu_idle_pct": 100.0 - np.arange(400) * 0.1, "mem_used_pct": 1.0,
                          "swap_used_pct": 0.0, "cpu_iowait_pct": 0.0, "load_average": 0.0,
                          "disk_usage_pct": 0.0})
    grid = to_grid(frame)
    start = int(grid["time_idx"].min())
    report = backtest(grid, {"naive": Naive()}, parse_horizons("5m,1h"), [start + 300, start + 310])
    for h in (1, 12):
        row = report.get("naive", "cpu_pct", h)
        assert row["n"] == 2
        assert row["mae"] == pytest.approx(0.1 * h)
        assert row["mase"] == pytest.approx(h)
        assert row["coverage"] == 0.0
        assert row["pinball"] == pytest.approx(0.1 * h / 2)
    assert parse_horizons("1h,8h,30m,3") == (12, 96, 6, 3)

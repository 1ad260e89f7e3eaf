"""The forecast blend (argus.forecast.blend) on hand-computable series."""

from __future__ import annotations

import numpy as np

from argus.forecast.base import ForecastSet
from argus.forecast.blend import Blend, anchor_points, apply_blend, learn_blend, weight_grid
from argus.forecast.frame import DAY_STEPS

TARGETS2 = ("cpu_pct", "mem_pct")


def test_weight_grid_is_every_convex_combination() -> None:
    grid = weight_grid()
    assert grid.shape == (66, 3)  # (10 + 1)(10 + 2) / 2
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert (grid >= 0).all() and [1.0, 0.0, 0.0] in grid.tolist()


def test_anchor_points_are_the_last_value_and_the_day_before() -> None:
    recent = np.arange(DAY_STEPS + 10, dtype=float).reshape(1, -1, 1)  # y(t) = t
    recent[0, 11, 0] = np.nan  # a missed bucket yesterday: the value before it stands in
    anchors = anchor_points(recent, horizon=4)  # (1, 1, 4, 2)
    last = DAY_STEPS + 9
    np.testing.assert_array_equal(anchors[0, 0, :, 0], [last] * 4)
    # step h is bucket last + h; a day before it is last + h - 288 = 9 + h
    np.testing.assert_array_equal(anchors[0, 0, :, 1], [10, 10, 12, 13])


def test_under_a_day_of_history_the_seasonal_point_is_the_last_value() -> None:
    recent = np.full((1, DAY_STEPS, 1), np.nan)
    recent[0, -5:, 0] = [1, 2, 3, 4, 5]
    anchors = anchor_points(recent, horizon=3)
    np.testing.assert_array_equal(anchors[0, 0], [[5, 5], [5, 5], [5, 5]])


def test_learn_blend_recovers_the_weights_that_made_the_actuals() -> None:
    rng = np.random.default_rng(0)
    n, horizon = 200, 8
    median = rng.normal(50, 10, (n, 2, horizon))
    anchors = rng.normal(50, 10, (n, 2, horizon, 2))
    actual = np.empty((n, 2, horizon))
    # cpu: 0.3 network + 0.7 yesterday; mem: the network alone in block 1, naive in block 2
    actual[:, 0] = 0.3 * median[:, 0] + 0.7 * anchors[:, 0, :, 1]
    actual[:, 1, :4] = median[:, 1, :4]
    actual[:, 1, 4:] = anchors[:, 1, 4:, 0]
    actual[0, 0, 0] = np.nan  # unobserved actuals are skipped
    scale = np.ones((n, 2))
    servers = np.arange(n) % 7
    blend = learn_blend(median, anchors, actual, scale, servers, TARGETS2, (4, 8))
    assert blend.weights["cpu_pct"] == [[0.3, 0.0, 0.7], [0.3, 0.0, 0.7]]
    assert blend.weights["mem_pct"] == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    np.testing.assert_allclose(blend.medians(median, anchors, TARGETS2)[:, 0, 1:], actual[:, 0, 1:])
    assert Blend.from_record(blend.to_record()) == blend


def test_too_few_validation_errors_keep_the_network_alone() -> None:
    median = np.zeros((3, 1, 4))
    anchors = np.ones((3, 1, 4, 2))
    ones = np.ones((3, 1, 4))
    blend = learn_blend(median, anchors, ones, np.ones((3, 1)), np.arange(3), ("cpu_pct",), (4,))
    assert blend.weights["cpu_pct"] == [[1.0, 0.0, 0.0]]


def test_apply_blend_moves_the_band_with_the_median_of_the_models_rows_only() -> None:
    steps = 2
    values = np.zeros((2, 2, steps, 3))
    values[..., 0], values[..., 1], values[..., 2] = 40.0, 50.0, 60.0
    forecast = ForecastSet(
        servers=("a", "b"),
        targets=TARGETS2,
        quantiles=(0.1, 0.5, 0.9),
        timestamps=np.zeros((2, steps), dtype="datetime64[ns]"),
        values=values,
        models=("tft:m", "baseline"),
    )
    recent = np.full((2, DAY_STEPS, 2), 70.0)  # last value and yesterday both 70
    blend = Blend((steps,), {"cpu_pct": [[0.5, 0.5, 0.0]], "mem_pct": [[1.0, 0.0, 0.0]]})
    out = apply_blend(forecast, ("a", "b"), recent, blend, "tft:m")
    np.testing.assert_allclose(out.values[0, 0], [[50, 60, 70]] * steps)  # median 0.5·50 + 0.5·70
    np.testing.assert_allclose(out.values[0, 1], values[0, 1])  # weights (1, 0, 0)
    np.testing.assert_allclose(out.values[1], values[1])  # the fallback's row is not blended
    assert out.models == forecast.models


def test_one_server_in_an_incident_does_not_choose_the_weights() -> None:
    # 9 servers repeat yesterday exactly; one leaves it far behind, where only the network
    # follows. Averaged over all errors the network would win; per server, yesterday does.
    n, horizon = 100, 4
    median = np.zeros((n, 1, horizon))
    anchors = np.zeros((n, 1, horizon, 2))
    anchors[..., 1] = 10.0
    servers = np.arange(n) % 10
    actual = np.full((n, 1, horizon), 10.0)
    actual[servers == 0] = -1000.0
    median[servers == 0] = -1000.0
    blend = learn_blend(median, anchors, actual, np.ones((n, 1)), servers, ("cpu_pct",), (4,))
    assert blend.weights["cpu_pct"] == [[0.0, 0.0, 1.0]]


def test_a_blend_barely_better_than_the_network_is_not_chosen() -> None:
    # The network errs by 1.0 everywhere, yesterday by 0.99 (1.0 on one server in 100), the
    # last value by 5: yesterday alone would win 1 % of the score, which is noise.
    n, horizon = 400, 4
    servers = np.arange(n) % 100
    actual = np.zeros((n, 1, horizon))
    median = np.full((n, 1, horizon), 1.0)
    anchors = np.zeros((n, 1, horizon, 2))
    anchors[..., 0] = 5.0  # the last value: far off
    anchors[..., 1] = np.where(servers == 0, 1.0, 0.99)[:, None, None]
    scale = np.ones((n, 1))
    blend = learn_blend(median, anchors, actual, scale, servers, ("cpu_pct",), (4,))
    assert blend.weights["cpu_pct"] == [[1.0, 0.0, 0.0]]
    # ... and one that beats it by more than the tolerance is
    anchors[..., 1] = 0.5
    blend = learn_blend(median, anchors, actual, scale, servers, ("cpu_pct",), (4,))
    assert blend.weights["cpu_pct"] == [[0.0, 0.0, 1.0]]

"""The forecast blend (argus.forecast.blend) on hand-computable series."""

from __future__ import annotations

import numpy as np

from argus.forecast.blend import Blend, anchor_points, learn_blend, weight_grid
from argus.forecast.frame import DAY_STEPS

TARGETS2 = ("cpu_pct", "mem_pct")


def test_weight_grid_is_every_convex_combination() -> None:
    grid = weight_grid()
    assert grid.shape == (66, 3)  # (10 + 1)(10 + 2) / 2
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert (grid >= 0).all() and [1.0, 0.0, 0.0] in grid.tolist()


def test_anchor_points_are_the_last_value_and_the_weeks_median() -> None:
    recent = np.full((1, 7 * DAY_STEPS + 12, 1), 10.0)
    recent[0, -DAY_STEPS:, 0] = 90.0  # yesterday (and today): a one-off incident
    recent[0, -1, 0] = 42.0
    anchors = anchor_points(recent, np.zeros((1, 1, 4)))  # (1, 1, 4, 2)
    np.testing.assert_array_equal(anchors[0, 0, :, 0], [42.0] * 4)
    np.testing.assert_array_equal(anchors[0, 0, :, 1], [10.0] * 4)  # not yesterday's 90


def test_under_three_days_of_history_the_usual_point_is_the_last_value() -> None:
    recent = np.full((1, 2 * DAY_STEPS, 1), np.nan)
    recent[0, -5:, 0] = [1, 2, 3, 4, 5]
    anchors = anchor_points(recent, np.zeros((1, 1, 3)))
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

"""The TFT's fast prediction path gives the dataset path's forecasts, or hands over to it."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pandas as pd
import pytest

from argus.catalogue import TARGETS
from argus.forecast.base import TrainOptions
from argus.forecast.blend import Blend, anchor_points
from argus.forecast.combine import history_steps
from argus.forecast.frame import to_grid
from argus.forecast.serving import ServingForecaster
from argus.forecast.tft import TFTForecaster
from argus.forecast.tft import fast as fast_predict
from argus.forecast.tft.model import _recent
from tests.forecast_support import synthetic_fleet, tiny_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model() -> TFTForecaster:
    forecaster = TFTForecaster(tiny_config())
    forecaster.fit(synthetic_fleet(servers=3, days=2.5), options=TrainOptions(epochs=1, seed=3))
    return forecaster


def awkward_feed() -> pd.DataFrame:
    """Gaps, duplicate samples in a bucket, missing metrics, unseen names, short histories."""
    rng = np.random.default_rng(5)
    fleet = synthetic_fleet(servers=4, days=3.0, seed=9, start="2024-01-02")
    clean = fleet[fleet["server_name"] == "ppml01"].assign(server_name="ppml42")  # no gaps
    fleet = fleet.drop(fleet.sample(frac=0.15, random_state=1).index)  # gaps
    fleet.loc[fleet.sample(frac=0.05, random_state=2).index, "cpu_idle_pct"] = np.nan
    extra = fleet.sample(200, random_state=3).copy()
    extra["timestamp"] = extra["timestamp"] + pd.Timedelta(minutes=2)  # 2 samples in a bucket
    extra["mem_used_pct"] += rng.normal(0, 2, len(extra))
    unseen = fleet[fleet["server_name"] == "ppdb01"].assign(server_name="newbox7")
    unseen = unseen.assign(profile="Database")  # a profile given in the feed
    late = unseen.tail(20).assign(server_name="ppweb77")  # fewer steps than the encoder
    sparse = unseen.iloc[-200::9].assign(server_name="ppml55")  # every 45 min
    short = unseen.tail(6).assign(server_name="ppapi99")  # below the minimum: fallback
    parts = [fleet, clean, extra, unseen, late, sparse, short]
    return pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=4)


@pytest.mark.parametrize("order", ["shuffled", "server by server", "a server in two runs"])
def test_bucketing_matches_to_grid(order: str) -> None:
    feed = awkward_feed()
    if order != "shuffled":  # the usual feed: server by server (not by name), in time order
        keys = ["server_name", "timestamp"]
        feed = feed.sort_values(keys, ascending=[False, True], kind="stable")
    if order == "a server in two runs":
        feed = pd.concat([feed.iloc[10:], feed.iloc[:10]])
    feed = pd.concat([feed, feed.head(3).assign(server_name=None)])  # no name: dropped
    feed["timestamp"] = feed["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")  # strings
    history = 400
    buckets = fast_predict.bucket_frame(feed, history)
    grid = to_grid(_recent(feed, history))
    assert buckets.names == tuple(grid["server"].drop_duplicates())
    np.testing.assert_array_equal(buckets.time_idx, grid["time_idx"].to_numpy())
    np.testing.assert_allclose(buckets.values, grid[list(TARGETS)].to_numpy(), rtol=1e-12)
    profiles = grid.groupby("server")["profile"].first()
    assert buckets.profiles == tuple(profiles[n] for n in buckets.names)


def test_fast_path_gives_the_dataset_paths_forecasts(model: TFTForecaster) -> None:
    feed = awkward_feed()
    assert model.fast_path
    fast = model.predict(feed)
    slow_model = copy.copy(model)
    slow_model.use_fast_path = False
    slow = slow_model.predict(feed)
    assert fast.servers == slow.servers
    assert fast.models == slow.models
    assert fast.model_of("ppapi99") == "baseline" and fast.model_of("ppweb77") == "tft:unsaved"
    np.testing.assert_array_equal(fast.timestamps, slow.timestamps)
    np.testing.assert_allclose(fast.values, slow.values, rtol=1e-4, atol=1e-4)


def test_fast_path_reads_a_week_of_seasonal_values_like_the_dataset_path(
    model: TFTForecaster,
) -> None:
    assert model.config.seasonal_days == 7
    feed = synthetic_fleet(servers=3, days=9.0, seed=2, start="2024-01-02")
    feed = feed.drop(feed.sample(frac=0.2, random_state=1).index)  # odd and even day counts
    lost_day = (feed["server_name"] == "ppdb01") & (
        feed["timestamp"].between("2024-01-05", "2024-01-06")
    )
    feed = feed[~lost_day]  # a server missing a whole day: six days or fewer at some steps
    buckets = fast_predict.bucket_frame(feed, model.config.history_steps)
    win = fast_predict.windows(buckets, np.arange(len(buckets.names)), model.config)
    assert fast_predict.served(model.network, win).all()  # the network, not the fallback
    fast = model.predict(feed)
    slow_model = copy.copy(model)
    slow_model.use_fast_path = False
    slow = slow_model.predict(feed)
    assert set(fast.models) == {model.name}
    np.testing.assert_allclose(fast.values, slow.values, rtol=1e-4, atol=1e-4)


def test_history_older_than_the_models_training_data_is_forecast_alike(
    model: TFTForecaster,
) -> None:
    # the dataset's `min_prediction_idx` (the training split's start) used to cut such history,
    # and to leave nothing to forecast when all of it was older (a replay of old data)
    partly = synthetic_fleet(servers=2, days=1.0, seed=4, start="2023-12-31T02:00")
    wholly = synthetic_fleet(servers=2, days=1.5, seed=4, start="2023-06-01")
    slow_model = copy.copy(model)
    slow_model.use_fast_path = False
    for feed in (partly, wholly):
        fast, slow = model.predict(feed), slow_model.predict(feed)
        assert set(fast.models) == set(slow.models) == {"tft:unsaved"}
        np.testing.assert_allclose(fast.values, slow.values, rtol=1e-4, atol=1e-4)


def test_the_lean_copy_leaves_the_network_as_it_was(model: TFTForecaster) -> None:
    from pytorch_forecasting.models.temporal_fusion_transformer.sub_modules import (
        GatedLinearUnit,
    )

    before = {name: type(m) for name, m in model.network.named_modules()}
    lean = fast_predict.lean_copy(model.network)
    assert {name: type(m) for name, m in model.network.named_modules()} == before
    assert GatedLinearUnit in before.values()
    assert not any(type(m) is GatedLinearUnit for m in lean.modules())
    assert not lean.training


def test_unsupported_networks_use_the_dataset_path(model: TFTForecaster) -> None:
    from pytorch_forecasting.data import GroupNormalizer, MultiNormalizer

    assert fast_predict.supports(model.network, model.config.horizon)
    odd = copy.deepcopy(model.network)
    odd.dataset_parameters["target_normalizer"] = MultiNormalizer(
        [GroupNormalizer(groups=["server"]) for _ in TARGETS]
    )
    assert not fast_predict.supports(odd, model.config.horizon)
    assert not fast_predict.supports(model.network, model.config.horizon + 1)
    other = TFTForecaster(model.config, network=odd)
    assert not other.fast_path  # predict() would build a TimeSeriesDataSet
    assert model.fast_path


def test_serving_starts_from_the_learnt_blend_and_spread_factors(model: TFTForecaster) -> None:
    cal = model.calibration
    assert cal is not None and cal["forecasts"] > 0
    assert set(cal["factors"]) == set(TARGETS) and cal["block_ends"][-1] == model.config.horizon
    blend = Blend.from_record(cal["blend"])
    assert blend is not None and set(blend.weights) == set(TARGETS)
    # the blend is chosen over earlier origins too (up to a week); spreads on validation only
    assert cal["blend"]["from"] < cal["from"] and cal["blend"]["forecasts"] > cal["forecasts"]
    feed = synthetic_fleet(servers=3, days=4)
    raw = model.predict(feed)  # the network's own quantiles
    serving = ServingForecaster(model, trend=None)
    served = serving.forecast(feed)
    # with no realised errors yet, the median is the weighted median of the network's, the
    # last value and the week's usual level under the learnt blend's weights ...
    mid = model.config.quantiles.index(0.5)
    recent = fast_predict.bucket_frame(feed, 2200).recent(history_steps())
    anchors = anchor_points(recent, raw.values[..., mid])
    points = np.concatenate([raw.values[..., mid, None], anchors], axis=-1)  # (n, T, H, 3)
    weights = blend.step_weights(TARGETS, model.config.horizon)  # (T, H, 3)
    median = np.empty(points.shape[:-1])
    for i, t, h in np.ndindex(*median.shape):
        order = np.argsort(points[i, t, h])
        cum = np.cumsum(weights[t, h][order])
        median[i, t, h] = points[i, t, h][order][np.searchsorted(cum, cum[-1] / 2)]
    median = np.clip(median, 0, None)
    np.testing.assert_allclose(served.values[..., mid], median, atol=1e-9)
    # ... and each quantile keeps the network's distance from it, scaled by its factor
    # (where that is wider than the band's floor)
    cpu, last = TARGETS.index("cpu_pct"), len(cal["block_ends"]) - 1
    factors = np.array(cal["factors"]["cpu_pct"][last])
    spread = factors * (raw.values[:, cpu, -1] - raw.values[:, cpu, -1, [mid]])
    expect = np.clip(median[:, cpu, -1, None] + spread, 0, 100)
    wide = np.abs(spread) > 5.0
    assert wide.any()
    np.testing.assert_allclose(served.values[:, cpu, -1][wide], expect[wide], atol=1e-6)
    # a model loaded with the same metadata serves the same forecasts
    loaded = TFTForecaster(model.config, network=model.network)
    loaded.metadata = {"training": {"calibration": cal}}
    again = ServingForecaster(loaded, trend=None).forecast(feed)
    np.testing.assert_allclose(again.values, served.values)


def test_calibration_without_blend_keeps_the_networks_median(model: TFTForecaster) -> None:
    feed = synthetic_fleet(servers=3, days=2.5)
    plain = TFTForecaster(dataclasses.replace(model.config, blend=False), network=model.network)
    cal = plain.calibrate(feed, feed["timestamp"].max() - pd.Timedelta(hours=20))
    assert cal is not None and "blend" not in cal
    mid = model.config.quantiles.index(0.5)
    served = ServingForecaster(plain, trend=None).forecast(feed)
    np.testing.assert_allclose(
        served.values[..., mid], plain.predict(feed).values[..., mid], atol=1e-9
    )


def test_recent_history_matches_the_series_path() -> None:
    """The drift override reads the same history on the fast path as on the series path."""
    from argus.forecast.trend import recent_history

    buckets = fast_predict.bucket_frame(awkward_feed(), 500)
    fast = buckets.recent(336)
    series = recent_history([buckets.series(i) for i in range(len(buckets.names))], 336)
    np.testing.assert_array_equal(fast, series)  # NaN where no bucket, on both

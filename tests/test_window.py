"""The in-memory window (argus/window.py): the 5-minute grid, gaps, capacity, rebuild."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from argus.forecast.grid import bucket_frame, buckets_of
from argus.forecast.serving import ServingForecaster
from argus.storage.metrics import insert_samples, read_window_samples
from argus.storage.store import Store
from argus.window import FleetWindow
from tests.factories import BASE_TIME, make_batch, make_record
from tests.forecast_support import synthetic_fleet, window_of
from tests.test_feed import post
from tests.test_storage import rows_of


def test_window_averages_samples_within_a_bucket(client, services) -> None:
    samples = [
        make_record(ts=BASE_TIME + timedelta(minutes=m), mem_used_pct=v)
        for m, v in [(0, 40.0), (2, 50.0), (4, 60.0), (5, 10.0)]
    ]
    post(client, {"records": samples})
    grid = services.window.grid()
    assert grid.field("mem_used_pct").tolist() == [[50.0, 10.0]]
    assert grid.observed.all() and services.window.record_count == 4


def test_late_samples_reach_buckets_already_read() -> None:
    window = FleetWindow(capacity=100)
    at = [BASE_TIME + timedelta(minutes=5 * i) for i in range(4)]
    window.add(
        rows_of(
            [make_record(ts=at[0], mem_used_pct=40.0), make_record(ts=at[3], mem_used_pct=70.0)]
        )
    )
    assert window.grid().observed.tolist() == [[True, False, False, True]]
    late = [
        make_record(ts=at[0] + timedelta(minutes=3), mem_used_pct=50.0),  # a bucket already read
        make_record(ts=at[2], mem_used_pct=60.0, disk_io_mb_s=2.0),  # a gap filled
    ]
    window.add(rows_of(late))
    grid = window.grid()
    assert grid.observed.tolist() == [[True, False, True, True]]
    assert np.array_equal(grid.field("mem_used_pct"), [[45.0, np.nan, 60.0, 70.0]], equal_nan=True)
    assert np.isnan(grid.field("disk_io_mb_s")[0, [0, 1, 3]]).all()  # never sent: NaN, not 0


def test_window_keeps_gaps(client, services) -> None:
    post(
        client,
        {"records": [make_record(ts=BASE_TIME), make_record(ts=BASE_TIME + timedelta(hours=2))]},
    )
    grid = services.window.grid()
    assert grid.steps == 25  # a gap is columns of NaN, never collapsed
    assert grid.observed.sum() == 2 and np.isnan(grid.values[0, 1:-1]).all()
    stamps = grid.timestamps()[grid.observed[0]].astype("datetime64[us]").tolist()
    assert stamps == [BASE_TIME, BASE_TIME + timedelta(hours=2)]


def test_window_trims_to_capacity() -> None:
    window = FleetWindow(capacity=10)
    window.add(rows_of(make_batch(servers=1, steps=30)))
    assert window.bucket_count() == 10
    grid = window.grid()
    assert grid.steps == 10 and grid.observed.all()
    assert window.record_count == 10
    assert grid.timestamps()[0] == np.datetime64(BASE_TIME + timedelta(minutes=5 * 20))


def test_window_rebuild_reads_only_the_last_steps(tmp_path) -> None:
    store = Store.open(tmp_path / "a.duckdb")
    insert_samples(store, rows_of(make_batch(servers=1, steps=50)), datetime(2025, 1, 1))
    samples = read_window_samples(store, steps=20)
    assert len(samples) == 20
    assert samples[-1]["timestamp"] == BASE_TIME + timedelta(minutes=5 * 49)
    window = FleetWindow(capacity=20)
    window.add(samples)
    assert window.record_count == 20 and window.servers() == {"ppweb000": "Web API"}
    store.close()


def awkward_samples() -> pd.DataFrame:
    """Three servers over two days: gaps, two samples in some buckets, a missing metric, and
    arriving out of order."""
    feed = synthetic_fleet(servers=3, days=2.0, seed=3)
    feed = feed.drop(feed.sample(frac=0.1, random_state=1).index)
    feed.loc[feed.sample(frac=0.05, random_state=2).index, "cpu_iowait_pct"] = np.nan
    extra = feed.sample(100, random_state=3)
    extra = extra.assign(
        timestamp=extra["timestamp"] + pd.Timedelta(minutes=2),
        mem_used_pct=extra["mem_used_pct"] + 3.0,
    )
    return pd.concat([feed, extra]).sample(frac=1.0, random_state=4)


def test_the_grid_gives_forecasters_the_buckets_of_the_same_samples() -> None:
    feed = awkward_samples()
    grid = window_of(feed, capacity=1000).grid()
    assert grid.servers == tuple(sorted(feed["server_name"].unique())) and grid.steps == 576
    for history in (100, 1000):
        ours = buckets_of(grid, history)
        # the feed's samples gridded directly: the same buckets, the same filling
        theirs = bucket_frame(feed, history)
        assert ours.names == theirs.names and ours.profiles == theirs.profiles
        np.testing.assert_array_equal(ours.starts, theirs.starts)
        np.testing.assert_array_equal(ours.time_idx, theirs.time_idx)
        # averaging fields then deriving targets, or the other way round: rounding only
        np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-12)
        # the grid's own buckets as a frame (the path of a model without predict_buckets)
        again = bucket_frame(grid.frame(), history)
        np.testing.assert_array_equal(ours.values, again.values)
        np.testing.assert_array_equal(ours.time_idx, again.time_idx)
    serving = ServingForecaster(None)
    direct, framed = serving.forecast(grid), serving.forecast(grid.frame())
    assert direct.servers == framed.servers
    np.testing.assert_array_equal(direct.values, framed.values)

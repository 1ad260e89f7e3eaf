"""The in-memory window (argus/window.py): the 5-minute grid, gaps, capacity, rebuild."""

from __future__ import annotations

from datetime import datetime, timedelta

from argus.storage.metrics import insert_samples, read_window_samples
from argus.storage.store import Store
from argus.window import FleetWindow
from tests.factories import BASE_TIME, make_batch, make_record
from tests.test_feed import post
from tests.test_storage import rows_of


def test_window_averages_samples_within_a_bucket(client, services) -> None:
    samples = [
        make_record(ts=BASE_TIME + timedelta(minutes=m), mem_used_pct=v)
        for m, v in [(0, 40.0), (2, 50.0), (4, 60.0), (5, 10.0)]
    ]
    post(client, {"records": samples})
    rows = services.window.rows()
    assert [r["mem_used_pct"] for r in rows] == [50.0, 10.0]
    assert services.window.record_count == 4


def test_window_keeps_gaps(client, services) -> None:
    post(
        client,
        {"records": [make_record(ts=BASE_TIME), make_record(ts=BASE_TIME + timedelta(hours=2))]},
    )
    stamps = [r["timestamp"] for r in services.window.rows()]
    assert stamps == [BASE_TIME, BASE_TIME + timedelta(hours=2)]


def test_window_trims_to_capacity() -> None:
    window = FleetWindow(capacity=10)
    window.add(rows_of(make_batch(servers=1, steps=30)))
    assert window.bucket_count() == 10
    assert len(window.rows()) == 10
    assert window.record_count == 10
    assert window.rows()[0]["timestamp"] == BASE_TIME + timedelta(minutes=5 * 20)


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

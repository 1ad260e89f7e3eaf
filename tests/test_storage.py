"""DuckDB storage: migrations, durable inserts, history, retention."""

from __future__ import annotations

from datetime import datetime, timedelta

from argus.records import FeedBatch
from argus.storage.metrics import (
    count_samples,
    insert_samples,
    purge_before,
    read_metrics_frame,
)
from argus.storage.migrations import MIGRATIONS
from argus.storage.store import Store
from tests.factories import BASE_TIME, make_batch


def rows_of(records: list[dict]) -> list[dict]:
    batch = FeedBatch.model_validate({"records": records})
    return [{**r.model_dump(), "profile": "Web API"} for r in batch.records]


def test_migrations_are_recorded_and_idempotent(tmp_path) -> None:
    store = Store.open(tmp_path / "a.duckdb")
    assert store.schema_version() == MIGRATIONS[-1][0]
    assert store.migrate() == MIGRATIONS[-1][0]
    store.close()
    reopened = Store.open(tmp_path / "a.duckdb")
    assert reopened.schema_version() == MIGRATIONS[-1][0]
    reopened.close()


def test_insert_skips_stored_and_repeated_keys(tmp_path) -> None:
    store = Store.open(tmp_path / "a.duckdb")
    rows = rows_of(make_batch(servers=2, steps=3))
    first = insert_samples(store, rows, datetime(2025, 1, 1))
    assert len(first.inserted) == 6 and first.duplicates == []
    second = insert_samples(store, rows[:2] + rows[:1], datetime(2025, 1, 1))
    assert second.inserted == [] and len(second.duplicates) == 3
    assert count_samples(store) == 6
    store.close()


def test_history_frame_has_the_feed_schema(tmp_path) -> None:
    store = Store.open(tmp_path / "a.duckdb")
    insert_samples(store, rows_of(make_batch(servers=2, steps=4)), datetime(2025, 1, 1))
    frame = read_metrics_frame(store, start=BASE_TIME + timedelta(minutes=5))
    assert len(frame) == 6
    assert {"timestamp", "server_name", "profile", "status", "mem_used_pct"} <= set(frame.columns)
    assert "ingested_at" not in frame.columns
    store.close()


def test_retention_purges_old_samples(tmp_path) -> None:
    store = Store.open(tmp_path / "a.duckdb")
    insert_samples(store, rows_of(make_batch(servers=1, steps=10)), datetime(2025, 1, 1))
    assert purge_before(store, BASE_TIME + timedelta(minutes=25)) == 5
    assert count_samples(store) == 5
    store.close()


def test_read_only_open_of_a_closed_store(tmp_path) -> None:
    path = tmp_path / "a.duckdb"
    writer = Store.open(path)
    writer.close()
    reader = Store.open(path, read_only=True)
    assert count_samples(reader) == 0
    reader.close()

"""The notification outbox in a real DuckDB file: order, retries, what is firing, purging."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from argus.storage.notify import (
    OutboxRow,
    enqueue,
    firing_notices,
    mark_delivered,
    mark_failed,
    next_pending,
    pending_counts,
    purge_delivered,
)
from argus.storage.store import Store

T0 = datetime(2026, 12, 1, 12, 0)


def row(key: str, status: str, minutes: int, channel: str = "webhook") -> OutboxRow:
    return OutboxRow(channel, key, status, T0 + timedelta(minutes=minutes), f'["{key}-{status}"]')


def test_rows_are_delivered_in_order_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "argus.duckdb"
    store = Store.open(path)
    enqueue(store, [row("ppdb001", "firing", 0), row("ppdb001", "resolved", 5)])
    first = next_pending(store, "webhook")
    assert first is not None and first.notices == '["ppdb001-firing"]'
    mark_failed(store, first.id, T0 + timedelta(seconds=30), "connection refused")
    store.close()

    store = Store.open(path)  # a restart keeps the queue and its retry schedule
    again = next_pending(store, "webhook")
    assert again is not None and again.id == first.id and again.attempts == 1
    assert again.next_attempt_at == T0 + timedelta(seconds=30)
    assert firing_notices(store) == {}  # the latest transition of ppdb001 resolved it
    mark_delivered(store, again.id, T0)
    assert pending_counts(store) == {"webhook": 1}
    assert next_pending(store, "alertmanager") is None
    store.close()


def test_purge_keeps_what_is_still_firing(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "argus.duckdb")
    enqueue(store, [row("a", "firing", 0), row("a", "resolved", 1), row("b", "firing", 2),
                    row("c", "firing", 3)])  # fmt: skip
    for _ in range(3):
        pending = next_pending(store, "webhook")
        assert pending is not None
        mark_delivered(store, pending.id, T0)
    # a, b delivered and old; c still pending
    assert purge_delivered(store, T0 + timedelta(hours=1)) == 2  # a's two rows
    assert set(firing_notices(store)) == {"b", "c"}
    assert pending_counts(store) == {"webhook": 1}
    store.close()

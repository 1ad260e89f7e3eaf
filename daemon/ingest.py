"""Store a validated batch durably, then add it to the in-memory window."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Literal

from argus.catalogue import profile_for
from argus.daemon.schemas import DuplicateKey, FeedBody, WarmupState
from argus.daemon.services import Services
from argus.records import FeedBatch, RecordError
from argus.storage.metrics import insert_samples
from argus.timebounds import clock_jump, feed_bounds, timestamp_errors

log = logging.getLogger("argus.ingest")

MAX_LISTED_DUPLICATES = 100


def timestamp_problems(services: Services, batch: FeedBatch) -> list[RecordError]:
    """Records dated in the future or before the retention window (see argus.timebounds)."""
    # MetricRecord is built with create_model (its metric fields come from the catalogue)
    stamps = [record.timestamp for record in batch.records]  # type: ignore[attr-defined]
    s = services.settings
    bounds = feed_bounds(
        stamps, services.window.latest, services.clock(), s.max_future_minutes, s.retention_days
    )
    return timestamp_errors(stamps, bounds)


def _note_clock_jump(services: Services, before: datetime | None) -> None:
    after = services.window.latest
    limit = timedelta(hours=services.settings.clock_jump_hours)
    if clock_jump(before, after, limit):
        services.telemetry.clock_jumps.inc()
        log.warning("data time jumped from %s to %s in one batch", before, after)


def ingest_batch(services: Services, batch: FeedBatch) -> FeedBody:
    """Write the batch in one transaction; only what committed reaches the window."""
    started = time.perf_counter()
    rows = batch.model_dump()["records"]
    for row in rows:
        row["profile"] = row["profile"] or profile_for(row["server_name"])
    result = insert_samples(services.store, rows, services.clock())
    before = services.window.latest
    services.window.add(result.inserted)
    _note_clock_jump(services, before)
    services.telemetry.record_ingest(
        len(result.inserted),
        len(result.duplicates),
        time.perf_counter() - started,
        services.clock(),
    )

    window = services.window
    required = services.settings.warmup_records
    warmup = WarmupState(
        records=window.record_count, required=required, complete=window.record_count >= required
    )
    status: Literal["accepted", "warming_up", "ignored"]
    if not result.inserted:
        status, message = "ignored", "every record was already stored"
    elif not warmup.complete:
        status = "warming_up"
        message = f"stored; {required - window.record_count} more records before predictions start"
    else:
        status, message = "accepted", f"stored {len(result.inserted)} records"
    return FeedBody(
        status=status,
        accepted=len(result.inserted),
        duplicates=len(result.duplicates),
        duplicate_records=[
            DuplicateKey(server_name=name, timestamp=ts)
            for name, ts in result.duplicates[:MAX_LISTED_DUPLICATES]
        ],
        servers_tracked=len(window.servers()),
        warmup=warmup,
        message=message,
    )

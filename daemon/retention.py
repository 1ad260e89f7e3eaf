"""Retention: drop samples and stored forecast points older than retention_days before data time.

Cycles, risks and alert events are kept: they are the history. Data time is the newest stored
timestamp, so a clock that jumped (a live feed into a store of replayed data) would make one
pass erase the store; a pass that would delete more than retention_max_share of the samples is
skipped, logged and counted unless forced (`argus purge --force`, `POST /admin/purge`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from argus.storage.forecasts import purge_points_before
from argus.storage.metrics import count_before, count_samples, purge_before
from argus.storage.notify import purge_delivered
from argus.timebounds import retention_allowed

if TYPE_CHECKING:
    from argus.daemon.services import Services

log = logging.getLogger("argus.retention")


@dataclass(frozen=True)
class RetentionPass:
    """What one pass found and did."""

    cutoff: datetime | None  # samples before this are expired; None: no data yet
    expired: int
    stored: int
    removed: int

    @property
    def skipped(self) -> bool:
        return self.expired > 0 and self.removed == 0


def purge_expired(services: Services, force: bool = False) -> RetentionPass:
    """Run one retention pass (hourly on the scheduler, and at start-up)."""
    keep = timedelta(days=services.settings.retention_days)
    purge_delivered(services.store, services.clock() - keep)  # sent notifications: wall clock
    latest = services.window.latest
    if latest is None:
        return RetentionPass(None, 0, 0, 0)
    cutoff = latest - timedelta(days=services.settings.retention_days)
    expired = count_before(services.store, cutoff)
    stored = count_samples(services.store)
    if not expired:
        return RetentionPass(cutoff, 0, stored, 0)
    share = services.settings.retention_max_share
    if not force and not retention_allowed(expired, stored, share):
        services.telemetry.retention_refusals.inc()
        log.warning(
            "retention skipped: it would remove %d of %d samples (more than %.0f%%) because "
            "data time is %s; run `argus purge --force` if that is intended",
            expired,
            stored,
            share * 100,
            latest,
        )
        return RetentionPass(cutoff, expired, stored, 0)
    removed = purge_before(services.store, cutoff)
    purge_points_before(services.store, cutoff)
    log.info("retention: removed %d samples before %s", removed, cutoff)
    return RetentionPass(cutoff, expired, stored, removed)

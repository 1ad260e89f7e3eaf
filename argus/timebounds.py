"""Which record timestamps a feed may bring, and how far one batch may move the data clock.

Argus runs on data time (the newest stored timestamp), so replays of old traces behave like live
data. That makes a single stray timestamp dangerous: one record from the future would move the
clock and retention would purge everything before it; one record from long ago would stretch
every time grid a cycle builds. These checks keep both out, without looking at the wall clock
for anything but the future.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argus.records import RecordError


@dataclass(frozen=True)
class TimeBounds:
    """The accepted range of record timestamps (naive UTC); `earliest` None: no lower bound."""

    earliest: datetime | None
    latest: datetime


def feed_bounds(
    stamps: Sequence[datetime],
    data_clock: datetime | None,
    wall_clock: datetime,
    max_future_minutes: float,
    retention_days: float,
) -> TimeBounds:
    """Bounds for one batch: no later than the wall clock plus `max_future_minutes`; no older
    than the retention window before the newest data (stored or in this batch's acceptable part).
    """
    latest = wall_clock + timedelta(minutes=max_future_minutes)
    newest = max((ts for ts in stamps if ts <= latest), default=None)
    clock = max((t for t in (data_clock, newest) if t is not None), default=None)
    earliest = None if clock is None else clock - timedelta(days=retention_days)
    return TimeBounds(earliest, latest)


def timestamp_errors(stamps: Sequence[datetime], bounds: TimeBounds) -> list[RecordError]:
    """One error per record whose timestamp is outside `bounds`, naming the record."""
    errors: list[RecordError] = []
    for index, ts in enumerate(stamps):
        if ts > bounds.latest:
            reason = (
                f"timestamp {ts:%Y-%m-%dT%H:%M:%SZ} is in the future (latest accepted "
                f"{bounds.latest:%Y-%m-%dT%H:%M:%SZ}); check the sender's clock"
            )
        elif bounds.earliest is not None and ts < bounds.earliest:
            reason = (
                f"timestamp {ts:%Y-%m-%dT%H:%M:%SZ} is older than the retention window "
                f"(earliest accepted {bounds.earliest:%Y-%m-%dT%H:%M:%SZ})"
            )
        else:
            continue
        errors.append(RecordError(index=index, field="timestamp", reason=reason))
    return errors


def clock_jump(before: datetime | None, after: datetime | None, limit: timedelta) -> bool:
    """True when the data clock moved forward by more than `limit` in one batch."""
    return before is not None and after is not None and after - before > limit


def retention_allowed(expired: int, total: int, max_share: float) -> bool:
    """Retention may delete `expired` of `total` samples in one pass only up to `max_share`."""
    return total == 0 or expired <= max_share * total

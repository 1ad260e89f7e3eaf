"""Time ranges and the pure parts of the historical reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

import numpy as np

from argus.catalogue import STEP_MINUTES

TimeRange = Literal["30m", "1h", "8h", "1d", "1w", "1M"]
TIME_RANGES: dict[str, timedelta] = {
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "8h": timedelta(hours=8),
    "1d": timedelta(days=1),
    "1w": timedelta(weeks=1),
    "1M": timedelta(days=30),
}
TREND_POINTS_PER_HOUR = 2.0  # risk points per hour that count as rising or falling


def range_start(end: datetime, time_range: str) -> datetime:
    """Start of `time_range` ending at `end` (Argus's clock: the newest data time)."""
    return end - TIME_RANGES[time_range]


def risk_trend(times: list[datetime], scores: list[float]) -> str:
    """'rising', 'falling' or 'stable': the least-squares slope of risk against time."""
    if len(times) < 3:
        return "stable"
    hours = np.array([(t - times[0]).total_seconds() / 3600 for t in times])
    if np.ptp(hours) == 0:
        return "stable"
    slope = float(np.polyfit(hours, np.asarray(scores, dtype=float), 1)[0])
    if slope > TREND_POINTS_PER_HOUR:
        return "rising"
    if slope < -TREND_POINTS_PER_HOUR:
        return "falling"
    return "stable"


ALERT_HORIZON = timedelta(hours=8)  # an alert speaks for the forecast it came from: 8 hours


class AlertOutcome(StrEnum):
    """What followed an alert raised to warning or critical (docs/api.md, historical summary)."""

    FOREWARNED = "forewarned"  # its metric crossed critical after the alert, within 8 hours
    PRESENT = "present"  # raised on a breach already there: a report, not a forecast
    NO_BREACH = "no_breach"  # 8 hours passed without a breach: acted on in time, or wrong
    PENDING = "pending"  # no breach yet, and its 8 hours are not over


def alert_outcome(
    raised_at: datetime, first_breach: datetime | None, data_end: datetime
) -> AlertOutcome:
    """Classify one alert by the first sample at or after `raised_at` (within ALERT_HORIZON)
    where its metric reached critical; `data_end` is the newest data time."""
    if first_breach is None:
        done = data_end >= raised_at + ALERT_HORIZON
        return AlertOutcome.NO_BREACH if done else AlertOutcome.PENDING
    if first_breach < raised_at + timedelta(minutes=STEP_MINUTES):
        return AlertOutcome.PRESENT  # in the very bucket the cycle that raised it saw
    return AlertOutcome.FOREWARNED

"""Time ranges and the pure parts of the historical reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import numpy as np

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

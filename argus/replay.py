"""Replay history through a forecaster, the risk engine and the alert state machine.

The daemon's prediction cycle, run offline over recorded or simulated data: for each origin the
forecaster sees only the samples up to that origin. Used by the early-warning benchmark and by
tests that check what alerts a scenario raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from argus.alerts import ActiveAlert, AlertEvent, AlertPolicy, advance
from argus.catalogue import STEP_MINUTES
from argus.forecast.base import Forecaster
from argus.risk import ServerRisk, assess_server, observed_values
from argus.thresholds import threshold_for

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_HISTORY = timedelta(days=8)  # the seasonal fallback's error window needs a week


@dataclass(frozen=True)
class ReplayStep:
    """What one prediction cycle at `at` concluded."""

    at: datetime
    risks: dict[str, ServerRisk]
    events: list[AlertEvent]
    active: dict[str, ActiveAlert]


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """A feed-schema frame with naive-UTC timestamps, sorted by time (for slicing)."""
    import pandas as pd

    out = frame.copy()
    out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True, format="mixed").dt.tz_localize(
        None
    )
    return out.sort_values("timestamp", kind="stable").reset_index(drop=True)


def replay(
    frame: pd.DataFrame,
    forecaster: Forecaster,
    origins: Sequence[datetime],
    *,
    history: timedelta = DEFAULT_HISTORY,
    policy: AlertPolicy | None = None,
) -> list[ReplayStep]:
    """Run a prediction cycle at every origin over a `prepare`d frame; alerts carry over."""
    stamps = frame["timestamp"].to_numpy()
    active: dict[str, ActiveAlert] = {}
    steps = []
    for at in origins:
        lo = np.searchsorted(stamps, np.datetime64(at - history), side="right")
        hi = np.searchsorted(stamps, np.datetime64(at), side="right")
        window = frame.iloc[lo:hi]
        if window.empty:
            continue
        forecast = forecaster.predict(window)
        latest = window.groupby("server_name", sort=False).tail(1).set_index("server_name")
        risks = {}
        for name in forecast.servers:
            row = latest.loc[name].to_dict()
            risks[name] = assess_server(forecast, name, str(row["profile"]), observed_values(row))
        active, events = advance(active, risks.values(), at, policy)
        steps.append(ReplayStep(at, risks, events, dict(active)))
    return steps


def breach_outcomes(
    frame: pd.DataFrame, origins: Sequence[datetime], horizon: timedelta
) -> dict[tuple[datetime, str], bool]:
    """Whether any risk metric of each server reached critical in (origin, origin + horizon]."""
    targets = frame.apply(lambda r: observed_values(r.to_dict()), axis=1, result_type="expand")
    breached = np.zeros(len(frame), dtype=bool)
    for metric in targets.columns:
        crit = frame["profile"].map(lambda p, m=metric: threshold_for(m, str(p)).critical)
        breached |= (targets[metric].astype(float) >= crit).to_numpy()
    frame = frame.assign(_breach=breached)
    out: dict[tuple[datetime, str], bool] = {}
    for name, rows in frame.groupby("server_name"):
        times = rows["timestamp"].to_numpy()
        flags = rows["_breach"].to_numpy()
        cum = np.concatenate([[0], np.cumsum(flags)])
        for at in origins:
            lo = np.searchsorted(times, np.datetime64(at), side="right")
            hi = np.searchsorted(times, np.datetime64(at + horizon), side="right")
            out[(at, str(name))] = bool(cum[hi] - cum[lo] > 0)
    return out


def origins_between(start: datetime, end: datetime, every_minutes: int = STEP_MINUTES) -> list:
    """Origins from `start` to `end` inclusive, every `every_minutes`."""
    out, at = [], start
    while at <= end:
        out.append(at)
        at += timedelta(minutes=every_minutes)
    return out

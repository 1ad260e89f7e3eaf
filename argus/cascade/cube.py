"""MetricCube: metric values on the 5-minute grid as one (time x server x metric) array."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from argus.catalogue import STEP_MINUTES, profile_for
from argus.grid import FIELDS, FleetGrid

if TYPE_CHECKING:
    import pandas as pd

FloatArray = npt.NDArray[np.float64]
STEP = np.timedelta64(STEP_MINUTES, "m")
STEPS_PER_DAY = 24 * 60 // STEP_MINUTES


@dataclass(frozen=True)
class MetricCube:
    """Aligned values: `values[t, s, m]` is metric m of server s in bucket `times[t]` (NaN: none).

    The time axis is a complete grid (gaps are NaN rows), so "the same time yesterday" is always
    `t - STEPS_PER_DAY`.
    """

    values: FloatArray
    times: npt.NDArray[np.datetime64]  # bucket starts, datetime64[m]
    servers: tuple[str, ...]
    profiles: tuple[str, ...]
    metrics: tuple[str, ...]

    @property
    def steps(self) -> int:
        return int(self.values.shape[0])

    def time_at(self, t: int) -> datetime:
        """Return bucket `t` as a naive UTC datetime."""
        return self.times[t].astype("datetime64[s]").astype(datetime)

    def head(self, steps: int) -> MetricCube:
        """Return the first `steps` buckets (a view, no copy)."""
        return MetricCube(
            self.values[:steps], self.times[:steps], self.servers, self.profiles, self.metrics
        )


def _grid(times: npt.NDArray[np.datetime64]) -> tuple[npt.NDArray[np.datetime64], npt.NDArray]:
    """Return the complete grid from the first to the last time and each time's index on it."""
    first, last = times.min(), times.max()
    grid = np.arange(first, last + STEP, STEP)
    return grid, ((times - first) // STEP).astype(np.int64)


def from_grid(grid: FleetGrid, metrics: Iterable[str]) -> MetricCube:
    """The cube of `metrics` (record fields) of the window's grid (`FleetWindow.grid()`)."""
    metrics = tuple(metrics)
    columns = [FIELDS.index(m) for m in metrics]
    values = np.ascontiguousarray(grid.values[:, :, columns].transpose(1, 0, 2))
    times = (grid.time_idx() * STEP_MINUTES).astype("datetime64[m]")
    return MetricCube(values, times, grid.servers, grid.profiles, metrics)


def from_frame(
    frame: pd.DataFrame,
    metrics: Iterable[str],
    time_col: str = "timestamp",
    server_col: str = "server_name",
) -> MetricCube:
    """Build a cube from a long frame with one row per server and bucket (benchmarks, datasets)."""
    metrics = tuple(metrics)
    names = tuple(sorted(frame[server_col].astype(str).unique()))
    index = {n: i for i, n in enumerate(names)}
    import pandas as pd

    # Zone-aware times (the simulator's) become naive UTC, the form every Argus time takes.
    stamps = pd.to_datetime(frame[time_col], utc=True).dt.tz_localize(None)
    times = stamps.to_numpy(dtype="datetime64[m]")
    grid, t_idx = _grid(times)
    s_idx = frame[server_col].astype(str).map(index).to_numpy(np.int64)
    values = np.full((len(grid), len(names), len(metrics)), np.nan)
    for m, name in enumerate(metrics):
        values[t_idx, s_idx, m] = frame[name].to_numpy(dtype=float)
    if "profile" in frame.columns:
        first = frame.drop_duplicates(server_col).set_index(server_col)["profile"]
        profiles = tuple(str(first.get(n, profile_for(n))) for n in names)
    else:
        profiles = tuple(profile_for(n) for n in names)
    return MetricCube(values, grid, names, profiles, metrics)

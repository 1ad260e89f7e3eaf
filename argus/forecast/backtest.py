"""Rolling-origin backtests: every forecaster sees only data before each origin.

At an origin o (a grid step), each forecaster gets every sample before o; servers with a sample
in the bucket just before o are scored at each horizon h on the bucket h steps later. The MASE
scale of a (server, origin) is the mean absolute one-step difference of the whole history
before o. The metric math is in `argus.forecast.evaluate`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from argus.catalogue import STEP_MINUTES, TARGETS
from argus.errors import InvalidInputError
from argus.forecast.base import Forecaster
from argus.forecast.evaluate import score
from argus.forecast.frame import (
    DAY_STEPS,
    ServerSeries,
    grid_to_feed,
    server_series,
    steps_to_timestamps,
)

HISTORY_STEPS = 8 * DAY_STEPS  # what forecasters see per origin: enough for every model here
_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d|steps?)?\s*$")


def parse_horizons(text: str) -> tuple[int, ...]:
    """'1h,8h' -> (12, 96) grid steps; also accepts minutes ('30m'), days ('1d'), bare steps."""
    out = []
    for part in text.split(","):
        match = _DURATION.match(part)
        if not match:
            raise InvalidInputError(f"bad horizon {part!r}: use e.g. 30m, 1h, 8h")
        value, unit = int(match.group(1)), (match.group(2) or "steps")
        minutes = {"m": 1, "min": 1, "h": 60, "d": 1440}.get(unit)
        steps = value if minutes is None else value * minutes // STEP_MINUTES
        if steps < 1:
            raise InvalidInputError(f"horizon {part!r} is shorter than one {STEP_MINUTES}-min step")
        out.append(steps)
    return tuple(out)


def horizon_label(steps: int) -> str:
    minutes = steps * STEP_MINUTES
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def rolling_origins(grid: pd.DataFrame, first: int, every: int, max_horizon: int) -> list[int]:
    """Origins from step `first` every `every` steps, each leaving `max_horizon` steps to score."""
    last = int(grid["time_idx"].max())
    return list(range(first, last - max_horizon + 2, every))


@dataclass
class _Collected:
    actual: list[float] = field(default_factory=list)
    predicted: list[np.ndarray] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)
    group: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BacktestReport:
    """Scores per model, target and horizon."""

    horizons: tuple[int, ...]
    origins: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "horizons": [horizon_label(h) for h in self.horizons],
            "origins": list(self.origins),
            "results": list(self.rows),
        }

    def get(self, model: str, target: str, horizon: int) -> dict[str, Any]:
        label = horizon_label(horizon)
        for row in self.rows:
            if (row["model"], row["target"], row["horizon"]) == (model, target, label):
                return row
        raise KeyError((model, target, label))


def _prefix_scales(series: ServerSeries) -> np.ndarray:
    """(steps + 1, targets): MASE scale of the history before each position."""
    diffs = np.abs(np.diff(series.values, axis=0))
    ok = np.isfinite(diffs)
    sums = np.vstack([np.zeros((2, diffs.shape[1])), np.cumsum(np.where(ok, diffs, 0), axis=0)])
    counts = np.vstack([np.zeros((2, diffs.shape[1])), np.cumsum(ok, axis=0)])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


def backtest(
    grid: pd.DataFrame,
    forecasters: Mapping[str, Forecaster],
    horizons: Sequence[int],
    origins: Sequence[int],
) -> BacktestReport:
    """Score each forecaster from each origin (grid steps) on `grid` (a `to_grid` frame)."""
    series = {s.name: s for s in server_series(grid)}
    scales = {name: _prefix_scales(s) for name, s in series.items()}
    collected = {(m, t, h): _Collected() for m in forecasters for t in TARGETS for h in horizons}
    quantiles: dict[str, tuple[float, ...]] = {}
    for origin in origins:
        window = grid[(grid["time_idx"] < origin) & (grid["time_idx"] >= origin - HISTORY_STEPS)]
        live = set(window.loc[window["time_idx"] == origin - 1, "server"])
        if not live:
            continue
        feed = grid_to_feed(window[window["server"].isin(live)])
        for model, forecaster in forecasters.items():
            fs = forecaster.predict(feed)
            quantiles[model] = fs.quantiles
            for s_name in fs.servers:
                s, row = series[s_name], fs.index(s_name)
                pos = origin - s.start  # position of the origin bucket in the dense array
                for h in horizons:
                    if pos + h - 1 >= len(s.values) or h > fs.steps:
                        continue
                    for t, target in enumerate(TARGETS):
                        bucket = collected[(model, target, h)]
                        bucket.actual.append(s.values[pos + h - 1, t])
                        bucket.predicted.append(fs.values[row, t, h - 1])
                        bucket.scale.append(scales[s_name][pos, t])
                        bucket.group.append(s_name)
    rows = []
    for (model, target, h), got in collected.items():
        if not got.actual:
            continue
        scores = score(
            np.array(got.actual),
            np.array(got.predicted),
            quantiles[model],
            np.array(got.scale),
            np.array(got.group),
        )
        rows.append(
            {"model": model, "target": target, "horizon": horizon_label(h), **scores.as_dict()}
        )
    stamps = tuple(str(pd.Timestamp(t)) for t in steps_to_timestamps(np.array(origins)))
    return BacktestReport(tuple(horizons), stamps, tuple(rows))

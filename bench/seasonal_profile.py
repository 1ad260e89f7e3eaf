"""A week's median as the usual level: statistical forecasts against naive and seasonal naive.

Not a test. The forecasts here have no network: the median (or mean) of the same time of day
on each of the last k days, plus the last hour's mean departure from it, decaying by a factor
per step. It measures how much a multi-day usual level beats "the same time yesterday" on the
simulator's held-out days and the Bitbrains evaluation days (docs/benchmarks.md). Run from the
repository root:

    PYTHONPATH=. python bench/seasonal_profile.py --dataset simulator --every-hours 3
    PYTHONPATH=. python bench/seasonal_profile.py --dataset bitbrains
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from argus.catalogue import TARGETS
from argus.forecast.backtest import backtest, rolling_origins
from argus.forecast.base import ForecastSet, finish_values
from argus.forecast.baseline import Naive, NaiveForecaster, SeasonalNaive
from argus.forecast.frame import DAY_STEPS, ServerSeries, forward_fill, steps_to_timestamps, to_grid

sys.path.insert(0, str(Path(__file__).resolve().parent))
from forecast_accuracy import EVAL_DAYS, HORIZONS, load  # noqa: E402


class UsualLevel(NaiveForecaster):
    """The usual level of each future step plus the last hour's departure from it, decaying."""

    def __init__(self, days: int, decay: float, statistic: str = "median") -> None:
        super().__init__(seasonal=True, quantiles=(0.1, 0.5, 0.9))
        self.days, self.decay, self.statistic = days, decay, statistic

    def _usual(self, filled: np.ndarray, at: np.ndarray, days: int) -> np.ndarray:
        stack = np.stack([filled[at - d * DAY_STEPS] for d in range(1, days + 1)])
        return np.median(stack, axis=0) if self.statistic == "median" else stack.mean(axis=0)

    def predict_series(self, series: list[ServerSeries]) -> ForecastSet:
        n, h = len(series), self.horizon
        values = np.empty((n, len(TARGETS), h, 3))
        stamps = np.empty((n, h), dtype="datetime64[ns]")
        for i, s in enumerate(series):
            filled = forward_fill(s.values)
            days = min(self.days, (len(filled) - 12) // DAY_STEPS)
            if days < 1:
                point = np.repeat(filled[-1:], h, axis=0)
            else:
                last_hour = np.arange(len(filled) - 12, len(filled))
                departure = (filled[last_hour] - self._usual(filled, last_hour, days)).mean(0)
                future = self._usual(filled, np.arange(len(filled), len(filled) + h), days)
                fade = self.decay ** np.arange(1, h + 1)
                point = future + np.nan_to_num(departure)[None, :] * fade[:, None]
            values[i] = np.repeat(point.T[:, :, None], 3, axis=2)
            stamps[i] = steps_to_timestamps(s.last + np.arange(1, h + 1))
        return ForecastSet(
            servers=tuple(s.name for s in series),
            targets=TARGETS,
            quantiles=self.quantiles,
            timestamps=stamps,
            values=finish_values(values, TARGETS),
            models=("usual",) * n,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["bitbrains", "simulator"], default="simulator")
    parser.add_argument("--every-hours", type=float, default=6.0)
    args = parser.parse_args()
    frame, _ = load(args.dataset)
    grid = to_grid(frame)
    first = int(grid["time_idx"].max()) - EVAL_DAYS[args.dataset] * DAY_STEPS + 1
    origins = rolling_origins(grid, first, int(args.every_hours * 12), max(HORIZONS))
    models = {
        "naive": Naive(),
        "seasonal_naive": SeasonalNaive(),
        "median_3d": UsualLevel(3, 0.99),
        "median_7d": UsualLevel(7, 0.99),
        "median_7d_no_decay": UsualLevel(7, 1.0),
        "mean_7d": UsualLevel(7, 0.99, "mean"),
    }
    report = backtest(grid, models, HORIZONS, origins)
    table: dict[str, dict[str, float]] = {}
    for row in report.rows:
        if row["target"] in ("cpu_pct", "mem_pct", "iowait_pct", "load"):
            key = f"{row['target']} {row['horizon']}"
            table.setdefault(key, {})[row["model"]] = round(row["mase"], 3)
    print(json.dumps({"dataset": args.dataset, "origins": len(origins), "mase": table}, indent=2))


if __name__ == "__main__":
    main()

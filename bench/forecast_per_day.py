"""Forecast accuracy per held-out day of the simulator (an analysis, not a test).

Loads a network saved by `bench/forecast_accuracy.py --dataset simulator --save-model DIR`,
learns its blend and calibration again as `fit` does, and prints the MASE of each model on the
origins of each held-out day (the simulator damps activity at weekends, so a Monday's
"yesterday" is a Sunday). Run from the repository root:

    PYTHONPATH=. python bench/forecast_per_day.py --load-model /tmp/acc2/sim_t2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import torch

from argus.forecast.backtest import backtest, rolling_origins
from argus.forecast.baseline import Naive, SeasonalNaive
from argus.forecast.frame import DAY_STEPS, STEP_NS, to_grid

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forecast_accuracy import (  # noqa: E402 - found through the path set above
    EVAL_DAYS,
    HORIZONS,
    load,
    load_bench_model,
    served_and_parts,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-model", type=Path, required=True)
    parser.add_argument("--every-hours", type=float, default=3.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    frame, cutoff = load("simulator")
    grid = to_grid(frame)
    model, fit = load_bench_model(args.load_model, "bench-simulator")
    model.calibrate(frame[frame["timestamp"] < cutoff], fit.validation_from)
    models = {
        **served_and_parts(model),
        "naive": Naive(),
        "seasonal_naive": SeasonalNaive(),
    }
    days = EVAL_DAYS["simulator"]
    first = int(grid["time_idx"].max()) - days * DAY_STEPS + 1
    origins = rolling_origins(grid, first, int(args.every_hours * 12), max(HORIZONS))
    for day in range(days):
        lo, hi = first + day * DAY_STEPS, first + (day + 1) * DAY_STEPS
        todays = [o for o in origins if lo <= o < hi]
        if not todays:
            continue
        report = backtest(grid, models, HORIZONS, todays)
        print(pd.Timestamp(lo * STEP_NS).day_name(), f"({len(todays)} origins)")
        for target in ("cpu_pct", "mem_pct"):
            for h in HORIZONS:
                scores = " ".join(
                    f"{m}={report.get(m, target, h)['mase']:.2f}" for m in models
                )
                print(f"  {target} {h * 5} min: {scores}")


if __name__ == "__main__":
    main()

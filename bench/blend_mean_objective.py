"""Experiment: choose the TFT's blend weights by the plain mean of scaled errors.

The default (argus.forecast.blend) scores each candidate as the benchmarks score MASE: the
scaled error averaged per server, then the median over servers. This runs
bench/forecast_accuracy.py unchanged except for that score, so both choices can be compared
on the same saved network:

    PYTHONPATH=. python bench/blend_mean_objective.py --dataset bitbrains \\
        --load-model /tmp/acc/bb25 --recalibrate --out /tmp/acc/bb25_blend_mean.json
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import argus.forecast.blend as blend

sys.path.insert(0, str(Path(__file__).resolve().parent))

import forecast_accuracy  # noqa: E402 - found through the path set above


def _mean(err: np.ndarray, owner: np.ndarray) -> np.ndarray:
    return err.mean(axis=0)


if __name__ == "__main__":
    blend._median_of_server_means = _mean  # noqa: SLF001 - the one thing this experiment changes
    forecast_accuracy.main()

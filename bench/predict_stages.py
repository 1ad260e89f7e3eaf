"""Where one batched `predict` of 1,000 servers spends its time (not a test). From the root:

    PYTHONPATH=. python bench/predict_stages.py [--rounds 5]

Trains the default TFT briefly (compute does not depend on the weights; `forecast_speed.py`
times the real model), then forecasts 1,000 different servers with 8 days of history each
(`fleet(1000, 8, seed=1)`, what the model reads) `--rounds` times after one warm-up call of the
whole fleet, one torch thread. Each stage of `TFTForecaster.predict`'s fast path is timed by
wrapping it: gridding (`bucket_frame`), windows and seasonal values (`windows`), the network
(`_forecast_windows`: input tensors, forward passes, finishing), each server's recent history
(`Buckets.recent`) and the blend and drift override (`_post_process`). Also prints the
process's system CPU seconds and minor page faults per call: first touches of freshly mapped
memory, which this virtual machine makes expensive. To compare two commits, run it in a
worktree of each: `git worktree add /tmp/old <commit>`, then `PYTHONPATH=/tmp/old python
bench/predict_stages.py`.
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import torch
from forecast_speed import briefly_trained, fleet

from argus.forecast import tft
from argus.forecast.tft import fast as fast_predict

STAGES: list[tuple[Any, str]] = [
    (fast_predict, "bucket_frame"),
    (fast_predict, "windows"),
    (tft.TFTForecaster, "_forecast_windows"),
    (fast_predict.Buckets, "recent"),
    (tft.TFTForecaster, "_post_process"),
]


def timed(spent: dict[str, float], name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - started

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = briefly_trained()
    frame = fleet(1000, 8, seed=1)
    spent: dict[str, float] = defaultdict(float)
    for owner, name in STAGES:
        setattr(owner, name, timed(spent, name, getattr(owner, name)))
    model.predict(frame)  # warm-up
    runs = []
    for _ in range(args.rounds):
        spent.clear()
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        model.predict(frame)
        total = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        runs.append(
            {
                "seconds": round(total, 3),
                **{name: round(spent[name], 3) for _, name in STAGES},
                "system_cpu_seconds": round(after.ru_stime - before.ru_stime, 2),
                "minor_page_faults": after.ru_minflt - before.ru_minflt,
            }
        )
        print(json.dumps(runs[-1]), flush=True)
    keys = [k for k in runs[0] if k != "minor_page_faults"]
    medians = {k: round(statistics.median(r[k] for r in runs), 3) for k in keys}
    print(json.dumps({"median": medians, "rows": len(frame), "servers": 1000}))


if __name__ == "__main__":
    main()

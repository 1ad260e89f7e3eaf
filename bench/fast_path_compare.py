"""Network time of two fast_predict implementations, interleaved (not a test). From the root:

    git show <commit>:argus/forecast/tft/fast.py > /tmp/reference_fast_predict.py
    PYTHONPATH=. python bench/fast_path_compare.py /tmp/reference_fast_predict.py [--rounds 5]

This machine's speed drifts between minutes, so a change to the forward pass is only measured
fairly against the code before it in the same process. The script trains the default TFT
briefly (compute does not depend on the weights), builds the network inputs of 1,000 different
servers once (batches of 64, as `predict` does), then runs `FastTFT.prediction` of the
reference file and of the working tree in turn, `--rounds` times, one torch thread. It prints
the largest difference between their forecasts and the CPU seconds of each run.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from forecast_speed import briefly_trained, fleet

from argus.forecast.tft import FAST_BATCH
from argus.forecast.tft import fast as fast_predict


def load_reference(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("reference_fast_predict", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path, help="a fast_predict.py to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    reference = load_reference(args.reference)
    torch.set_num_threads(1)
    model = briefly_trained()
    cfg = model.config
    buckets = fast_predict.bucket_frame(fleet(1000, 2, seed=1), cfg.history_steps)
    win = fast_predict.windows(buckets, np.arange(len(buckets.names)), cfg)
    batches = [
        fast_predict.network_inputs(
            model.network,
            fast_predict.subset(win, np.arange(lo, min(lo + FAST_BATCH, len(win.servers)))),
            cfg.horizon,
        )
        for lo in range(0, len(win.servers), FAST_BATCH)
    ]
    runners = {
        "reference": reference.FastTFT(model.network),
        "working tree": fast_predict.FastTFT(model.network),
    }
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    with torch.inference_mode():
        out = {
            name: torch.cat([torch.stack(r.prediction(x), dim=1) for x in batches])
            for name, r in runners.items()
        }
        diff = float((out["reference"] - out["working tree"]).abs().max())
        print(f"largest difference between the forecasts: {diff:.2e}")
        for _ in range(args.rounds):
            for name, runner in runners.items():
                started = time.process_time()
                for x in batches:
                    runner.prediction(x)
                seconds[name].append(time.process_time() - started)
    for name, runs in seconds.items():
        shown = ", ".join(f"{s:.2f}" for s in runs)
        print(f"{name}: {shown} CPU-s; median {statistics.median(runs):.2f}")


if __name__ == "__main__":
    main()

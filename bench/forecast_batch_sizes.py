"""Fast-path batch size, timed interleaved (not a test). Run from the repository root:

    PYTHONPATH=. python bench/forecast_batch_sizes.py [--rounds 4] [--sizes 32,64,128]

This machine's speed drifts between minutes, so separate runs of bench/forecast_speed.py cannot
compare settings. This script trains the default-architecture TFT briefly (compute does not
depend on the weights), then forecasts 1,000 different servers with each batch size in turn,
`--rounds` times, one torch thread, and prints the CPU seconds of each run and their median.
The drift override is included, as served; one more variant (the default batch size without
it) in the same rotation measures what the override costs.
"""

from __future__ import annotations

import argparse
import statistics
import time

from forecast_speed import briefly_trained, fleet

from argus.forecast import tft


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--sizes", default="32,64,128")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    torch.set_num_threads(1)
    model = briefly_trained()
    frame = fleet(1000, 2, seed=1)
    model.predict(frame.head(2000))  # warm-up
    variants = [(size, True) for size in sizes] + [(tft.FAST_BATCH, False)]
    runs: dict[tuple[int, bool], list[float]] = {v: [] for v in variants}
    rule = model.trend
    for _ in range(args.rounds):
        for size, override in variants:
            tft.FAST_BATCH, model.trend = size, rule if override else None
            started = time.process_time()
            model.predict(frame)
            runs[(size, override)].append(time.process_time() - started)
    for (size, override), seconds in runs.items():
        shown = ", ".join(f"{s:.2f}" for s in seconds)
        label = f"batch {size}" + ("" if override else " without the drift override")
        print(f"{label}: {shown} CPU-s; median {statistics.median(seconds):.2f}")


if __name__ == "__main__":
    main()

"""Latency of one explanation (GET /explain/{server} minus the cache) on this machine.

Trains a TFT with the default architecture (`TFTConfig()`: hidden 16, 96-step horizon) on a
simulated fleet, or reuses one from --models, then explains every server of a fresh simulated
fleet (one with a memory leak) with the TFT and with the seasonal-naive fallback, and reports
the median and p95 of `explain_server` wall time (one torch thread, as the daemon).

    PYTHONPATH=. python bench/explain_latency.py [--models DIR] [--rounds 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from argus.explain.engine import explain_server
from argus.forecast.baseline import SeasonalNaive
from argus.simulate import Simulator, simulate_fleet
from argus.simulate.dataset import block_frame

MODEL = "explain-bench"
SERVERS = 12


def trained(models: Path):
    """The bench's TFT: trained once (2 epochs x 30 batches), then loaded from `models`."""
    from argus.forecast import artifacts
    from argus.forecast.base import TrainOptions
    from argus.forecast.training import train_model

    if not (models / MODEL).is_dir():
        frame = block_frame(simulate_fleet(servers=SERVERS, days=6, seed=11).block)
        train_model(
            frame,
            models_dir=models,
            name=MODEL,
            config={"batches_per_epoch": 30},
            options=TrainOptions(epochs=2, max_minutes=4.0, seed=1),
        )
    return artifacts.load_model(models, MODEL)


def live_history() -> pd.DataFrame:
    """Two days of a 12-server fleet, a memory leak on ppdb001 in its last two hours."""
    sim = Simulator.create(SERVERS, seed=3)
    calm = sim.advance(2 * 288)
    sim.inject("ppdb001", "memory_leak", lead_minutes=90)
    frame = pd.concat([block_frame(calm), block_frame(sim.advance(24))], ignore_index=True)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.tz_localize(None)
    return frame


def timings(forecaster, frame: pd.DataFrame, rounds: int) -> list[float]:
    servers = sorted(frame["server_name"].unique())
    explain_server(forecaster, frame, servers[0])  # warm-up (first torch call)
    out = []
    for _ in range(rounds):
        for server in servers:
            started = time.perf_counter()
            explain_server(forecaster, frame, server)
            out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", type=Path, default=Path(tempfile.gettempdir()) / "argus-bench-explain"
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    frame = live_history()
    for name, forecaster in (("tft", trained(args.models)), ("baseline", SeasonalNaive())):
        ms = timings(forecaster, frame, args.rounds)
        print(
            f"{name}: {len(ms)} explanations, median {np.median(ms):.0f} ms, "
            f"p95 {np.percentile(ms, 95):.0f} ms, max {max(ms):.0f} ms"
        )


if __name__ == "__main__":
    main()

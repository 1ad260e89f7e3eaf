"""Forecast speed benchmark (not a test). Run from the repository root:

    PYTHONPATH=. python bench/forecast_speed.py [--quick]

`--quick` skips step 1 and times step 2 on a briefly trained model of the default architecture
(prediction cost does not depend on the weights): ~1 minute instead of ~4.

1. `argus train` (default settings, one torch thread) on a 45-server, 14-day fleet with daily
   cycles and noise, timed end to end as a subprocess (goal <= 3 min).
2. That model forecasting 1,000 servers (the fleet's last 8 days — the history the model reads,
   `TFTConfig.history_steps`, as the daemon's window holds it — replicated under new names,
   so most servers are unseen) in one batched `predict` call with one torch thread
   (goal <= 2.5 s; median of 5 runs after a warm-up, all runs reported); the same for 1,000
   different servers; then the replicated fleet once through the reference
   `TimeSeriesDataSet` path, reporting its time and the largest difference between the two.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from argus.catalogue import METRIC_NAMES

PREFIXES = ("ppdb", "ppml", "ppapi", "ppweb", "ppcond", "ppetl", "pprisk", "srv")


def fleet(servers: int, days: float, seed: int = 0) -> pd.DataFrame:
    """Daily CPU/memory/load cycles with per-server level, amplitude, phase and noise."""
    rng = np.random.default_rng(seed)
    steps = int(days * 288)
    stamps = pd.date_range("2024-03-04", periods=steps, freq="5min")
    day = 2 * np.pi * np.arange(steps) / 288
    parts = []
    for i in range(servers):
        cols = {name: np.zeros(steps) for name in METRIC_NAMES}
        busy = 30 + rng.uniform(5, 25) * np.sin(day + rng.uniform(0, 1)) + rng.normal(0, 4, steps)
        busy = np.clip(busy, 1, 99)
        cols.update(
            cpu_user_pct=busy * 0.7,
            cpu_sys_pct=busy * 0.2,
            cpu_iowait_pct=busy * 0.1,
            cpu_idle_pct=100 - busy,
            mem_used_pct=np.clip(
                rng.uniform(30, 70) + 5 * np.sin(day) + rng.normal(0, 1, steps), 0, 100
            ),
            swap_used_pct=np.full(steps, rng.uniform(0, 5)),
            disk_usage_pct=rng.uniform(30, 60) + np.arange(steps) * 1e-4,
            load_average=np.clip(busy / 10 + rng.normal(0, 0.3, steps), 0, None),
        )
        frame = pd.DataFrame(cols)
        frame.insert(0, "server_name", f"{PREFIXES[i % len(PREFIXES)]}{i:03d}")
        frame.insert(0, "timestamp", stamps)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def replicate(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    names = frame["server_name"].unique()
    copies = []
    for k in range(int(np.ceil(n / len(names)))):
        copies.append(frame.assign(server_name=frame["server_name"] + f"-r{k}"))
    out = pd.concat(copies, ignore_index=True)
    keep = out["server_name"].unique()[:n]
    return out[out["server_name"].isin(keep)]


def briefly_trained() -> Any:
    """The default-architecture TFT after one short uncalibrated epoch, loaded as the daemon
    loads it (the interleaved speed benches: compute does not depend on the weights)."""
    from argus.forecast.artifacts import load_model
    from argus.forecast.base import TrainOptions
    from argus.forecast.training import train_model

    models = Path(tempfile.mkdtemp(prefix="argus-bench-"))
    train_model(
        fleet(45, 4),
        models_dir=models,
        name="bench",
        config={"batches_per_epoch": 3, "calibrate": False},
        options=TrainOptions(epochs=1, max_minutes=2.0, seed=1),
    )
    return load_model(models, "bench")


def main() -> None:
    if "--quick" in sys.argv[1:]:
        import torch

        torch.set_num_threads(1)
        print(json.dumps(measure_predict(briefly_trained(), fleet(45, 14)), indent=2))
        return
    work = Path(tempfile.mkdtemp(prefix="argus-speed-"))
    data = work / "fleet.parquet"
    train_frame = fleet(45, 14)
    train_frame.to_parquet(data)
    env = {**os.environ, "ARGUS_TORCH_THREADS": "1"}
    cmd = [
        sys.executable,
        "-c",
        "from argus.cli.main import main; main()",
        "train",
        "--data",
        str(data),
        "--home",
        str(work / "home"),
        "--name",
        "speed",
        "--json",
    ]
    started = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    train_s = time.monotonic() - started
    summary = json.loads(done.stdout)

    import torch

    from argus.forecast.artifacts import load_model

    torch.set_num_threads(1)
    model = load_model(work / "home" / "models", "speed")
    result = {
        "train_seconds": round(train_s, 1),
        "train_epochs": summary["training"]["epochs_run"],
        "train_rows": len(train_frame),
        **measure_predict(model, train_frame),
    }
    print(json.dumps(result, indent=2))


def measure_predict(model: Any, train_frame: pd.DataFrame) -> dict[str, Any]:
    """Step 2: 1,000 servers in one `predict` call (replicated, then distinct), and the
    reference dataset path once."""
    days = int(np.ceil(model.config.history_steps / 288))  # the whole history it reads
    recent = train_frame[
        train_frame["timestamp"] >= train_frame["timestamp"].max() - pd.Timedelta(days=days)
    ]
    frame = replicate(recent, 1000)
    model.predict(frame.head(2000))  # warm-up
    times, cpu = [], []
    for _ in range(5):
        started, cpu_started = time.monotonic(), time.process_time()
        fs = model.predict(frame)
        times.append(time.monotonic() - started)
        cpu.append(time.process_time() - cpu_started)
    # The replicas above are 45 series under 1,000 names; a fleet of 1,000 different
    # servers (same generator, other seeds) is the honest case for anything that could
    # profit from repeated inputs.
    distinct = fleet(1000, days, seed=1)
    model.predict(distinct.head(2000))
    distinct_times, distinct_cpu = [], []
    for _ in range(5):
        started, cpu_started = time.monotonic(), time.process_time()
        model.predict(distinct)
        distinct_times.append(time.monotonic() - started)
        distinct_cpu.append(time.process_time() - cpu_started)
    # The reference path (pytorch-forecasting's TimeSeriesDataSet), once, for comparison.
    model.use_fast_path = False
    started = time.monotonic()
    reference = model.predict(frame)
    dataset_s = time.monotonic() - started
    model.use_fast_path = True
    gap = float(abs(reference.values - fs.values).max())
    return {
        "predict_servers": len(fs.servers),
        "predict_tft_servers": sum(m.startswith("tft") for m in fs.models),
        "predict_seconds_runs": [round(t, 2) for t in times],
        "predict_seconds_median": round(statistics.median(times), 2),
        # CPU seconds: what the process itself used (the 2 cores are shared)
        "predict_cpu_seconds_median": round(statistics.median(cpu), 2),
        "predict_fast_path": model.fast_path,
        "distinct_fleet_seconds_runs": [round(t, 2) for t in distinct_times],
        "distinct_fleet_seconds_median": round(statistics.median(distinct_times), 2),
        "distinct_fleet_cpu_seconds_median": round(statistics.median(distinct_cpu), 2),
        "dataset_path_seconds": round(dataset_s, 2),
        "max_abs_difference_to_dataset_path": gap,
        "input_rows": len(frame),
        "history_days": days,
    }


if __name__ == "__main__":
    main()

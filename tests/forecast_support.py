"""Helpers for the forecast tests (no tests here): a small deterministic fleet and tiny TFTs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from argus.catalogue import METRIC_NAMES
from argus.forecast.tft import TFTConfig
from argus.window import FleetWindow

BITBRAINS = Path(__file__).resolve().parents[2] / "shared/data/bitbrains/bitbrains_rnd_dev.csv.gz"
NAMES = ("ppdb01", "ppweb01", "ppml01", "ppetl01")


def synthetic_fleet(
    servers: int = 3, days: float = 2.5, seed: int = 0, start: str = "2024-01-01"
) -> pd.DataFrame:
    """A feed-schema frame: daily CPU/memory/load cycles plus noise, every 5 minutes."""
    rng = np.random.default_rng(seed)
    steps = int(days * 288)
    stamps = pd.date_range(start, periods=steps, freq="5min")
    k = np.arange(steps)
    day = np.sin(2 * np.pi * k / 288)
    parts = []
    for i in range(servers):
        cols = {name: np.zeros(steps) for name in METRIC_NAMES}
        busy = np.clip(35 + 20 * day * (1 + 0.2 * i) + rng.normal(0, 3, steps), 1, 99)
        cols["cpu_user_pct"] = busy * 0.7
        cols["cpu_sys_pct"] = busy * 0.2
        cols["cpu_iowait_pct"] = np.clip(busy * 0.1 + rng.normal(0, 0.5, steps), 0, 100)
        cols["cpu_idle_pct"] = 100 - busy
        cols["mem_used_pct"] = np.clip(50 + 5 * i + 8 * day + rng.normal(0, 1, steps), 0, 100)
        cols["swap_used_pct"] = np.full(steps, 2.0 + i)
        cols["disk_usage_pct"] = 40 + 10 * k / steps + i
        cols["load_average"] = np.clip(2 + 3 * day + rng.normal(0, 0.3, steps), 0, None)
        frame = pd.DataFrame(cols)
        frame.insert(0, "server_name", NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else str(i)))
        frame.insert(0, "timestamp", stamps)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def tiny_config(**overrides: object) -> TFTConfig:
    """A TFT small enough to train in seconds (pytorch-forecasting's own test sizes)."""
    base: dict[str, object] = dict(
        hidden_size=4, attention_head_size=1, hidden_continuous_size=2, max_encoder_length=36,
        batch_size=16, batches_per_epoch=3, val_batches=2, predict_batch_size=64,
    )
    base.update(overrides)
    return TFTConfig(**base)  # type: ignore[arg-type]


def window_of(feed: pd.DataFrame, capacity: int = 2304) -> FleetWindow:
    """A daemon's window holding a feed frame's samples (naive-UTC timestamps)."""
    window = FleetWindow(capacity)
    records = feed.astype(object).where(feed.notna(), None).to_dict("records")
    window.add({**r, "timestamp": pd.Timestamp(r["timestamp"]).to_pydatetime()} for r in records)
    return window

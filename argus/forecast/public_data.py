"""Public server-metric datasets mapped to the feed schema (for benchmarks and tests).

Only the fields a dataset really has are mapped; every other metric is 0, which the model
sees as a constant target. Used by path, never copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from argus.catalogue import METRIC_NAMES

ASD_EPOCH = pd.Timestamp("2024-01-01")  # ASD has step numbers only; the start is arbitrary


def _feed(stamps: pd.Series, servers: pd.Series, cpu: pd.Series, mem: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame({"timestamp": stamps.to_numpy(), "server_name": servers.to_numpy()})
    for name in METRIC_NAMES:
        frame[name] = 0.0
    frame["cpu_idle_pct"] = 100.0 - cpu.to_numpy(dtype=np.float64)
    frame["mem_used_pct"] = mem.to_numpy(dtype=np.float64)
    return frame


def bitbrains_feed(path: Path, vms: int | None = None) -> pd.DataFrame:
    """Bitbrains rnd VMs: cpu_usage_pct -> cpu_pct, mem_usage_pct -> mem_pct (empty slots out)."""
    raw = pd.read_csv(path, usecols=["timestamp", "vm", "cpu_usage_pct", "mem_usage_pct"])
    raw = raw.dropna(subset=["cpu_usage_pct"])
    if vms is not None:
        keep = sorted(raw["vm"].unique())[:vms]
        raw = raw[raw["vm"].isin(keep)]
    stamps = pd.to_datetime(raw["timestamp"])
    return _feed(stamps, "vm" + raw["vm"].astype(str), raw["cpu_usage_pct"], raw["mem_usage_pct"])


def asd_feed(folder: Path, cpu: str = "m01", mem: str = "m02") -> pd.DataFrame:
    """ASD omi-K servers; two anonymised [0, 1] metrics scaled to percent as cpu/mem."""
    parts = []
    for path in sorted(folder.glob("omi-*.csv.gz")):
        raw = pd.read_csv(path, usecols=["step", cpu, mem])
        stamps = ASD_EPOCH + pd.to_timedelta(raw["step"] * 5, unit="min")
        server = pd.Series(path.name.split(".")[0], index=raw.index)
        parts.append(_feed(stamps, server, raw[cpu] * 100.0, raw[mem] * 100.0))
    return pd.concat(parts, ignore_index=True)

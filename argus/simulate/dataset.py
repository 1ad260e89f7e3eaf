"""Write and read a simulated dataset: metrics in the feed schema plus a labels file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from argus.simulate.block import COLUMNS, Block
from argus.simulate.simulator import Simulation

Format = Literal["parquet", "csv"]
METRICS_STEM = "metrics"
LABELS_FILE = "labels.json"


def block_frame(block: Block) -> pd.DataFrame:
    """Return one row per server per sample, time-major, with the record field names as columns."""
    n_steps, n_servers = len(block.steps), len(block.names)
    data: dict[str, Any] = {
        "timestamp": np.repeat(np.array(block.timestamps(), dtype=object), n_servers),
        "server_name": np.tile(np.array(block.names, dtype=object), n_steps),
        "profile": np.tile(np.array(block.profiles, dtype=object), n_steps),
    }
    for name in COLUMNS[3:]:
        data[name] = block.columns[name].ravel()
    return pd.DataFrame(data, columns=list(COLUMNS))


def _metadata(sim: Simulation) -> dict[str, Any]:
    minutes = sim.block.minutes
    return {
        "seed": sim.seed,
        "servers": [
            {"name": n, "profile": p}
            for n, p in zip(sim.fleet.names, sim.fleet.profiles, strict=True)
        ],
        "start": sim.block.timestamps()[0],
        "end": sim.block.timestamps()[-1],
        "samples_per_server": int(len(minutes)),
        "rates": {
            "per_server_day": sim.rates.per_server_day,
            "cascade_probability": sim.rates.cascade_probability,
            "lead_minutes": list(sim.rates.lead_minutes),
        },
    }


def write_dataset(sim: Simulation, out_dir: Path, fmt: Format = "parquet") -> dict[str, Path]:
    """Write `metrics.<fmt>` and `labels.json` into `out_dir`; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = block_frame(sim.block)
    metrics = out_dir / f"{METRICS_STEM}.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(metrics, index=False, engine="pyarrow")
    elif fmt == "csv":
        frame.to_csv(metrics, index=False, lineterminator="\n")
    else:
        raise ValueError(f"unknown format {fmt!r}: use parquet or csv")
    labels = out_dir / LABELS_FILE
    body = {**_metadata(sim), **sim.labels.to_dict()}
    labels.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return {"metrics": metrics, "labels": labels}


def read_dataset(out_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a dataset written by `write_dataset`: (metrics frame, labels document)."""
    parquet, csv = out_dir / f"{METRICS_STEM}.parquet", out_dir / f"{METRICS_STEM}.csv"
    frame = pd.read_parquet(parquet) if parquet.exists() else pd.read_csv(csv)
    labels = json.loads((out_dir / LABELS_FILE).read_text(encoding="utf-8"))
    return frame, labels


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Turn a metrics frame back into feed records (servers without disk I/O omit the field)."""
    out: list[dict[str, Any]] = []
    for rec in frame.to_dict("records"):
        clean = {str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in rec.items()}
        disk_io = clean.get("disk_io_mb_s")
        if disk_io is None or (isinstance(disk_io, float) and math.isnan(disk_io)):
            clean.pop("disk_io_mb_s", None)
        out.append(clean)
    return out

"""Explanation hit-rate@3 on SMD and ASD: do the top 3 features name a labelled metric?

SMD and ASD label each anomaly with the metrics involved. Their metrics are anonymised or
hint-named and min-max normalised, so no Argus TFT exists for them; this bench explains with
the model-agnostic method Argus serves for fallback servers: occlusion on the seasonal-naive
forecaster (argus.explain.engine.explain_server, importance="occlusion").

Mapping: the dataset's metrics are scaled to 0-100 and fed, three at a time, into the
cpu_pct, mem_pct and disk_pct target slots of a feed-schema frame (the slots with similar
thresholds, 85-90 warning / 95-98 critical, so no metric is favoured by its slot's
threshold; swap/iowait/load stay 0); each group is explained separately and the
per-metric occlusion effects (0-100 points) are merged
and ranked. The explanation is computed 30 minutes into each labelled segment (or at its end
if shorter) on at most 7 days of history before that. Random: the expected hit-rate of a
uniformly random top 3, 1 - C(M-k, 3) / C(M, 3) for M metrics of which k are labelled.

    PYTHONPATH=. python bench/explain_hitrate.py [--data ../shared/data] [--limit N]
"""

from __future__ import annotations

import argparse
import time
from math import comb
from pathlib import Path

import numpy as np
import pandas as pd

from argus.catalogue import METRIC_NAMES
from argus.explain.engine import explain_server
from argus.forecast.baseline import SeasonalNaive

EPOCH = pd.Timestamp("2024-01-01")
HISTORY_STEPS = 2016  # 7 days of 5-minute buckets, the daemon's default window
INTO_SEGMENT_STEPS = 6  # explain 30 minutes into the anomaly
SLOT_FIELDS = {
    "cpu_pct": "cpu_idle_pct",  # written as 100 - value
    "mem_pct": "mem_used_pct",
    "disk_pct": "disk_usage_pct",
}
SLOTS = tuple(SLOT_FIELDS)


def smd_cases(folder: Path) -> list[tuple[str, pd.DataFrame, int, set[str]]]:
    """(server, 5-minute metrics indexed by step, onset step, labelled metric names)."""
    out = []
    for path in sorted(folder.glob("machine-*.csv.gz")):
        raw = pd.read_csv(path)
        metrics = [c for c in raw.columns if c not in ("minute", "part", "label")]
        test_start = int(raw.index[raw["part"] == "test"][0])
        five = raw[metrics].groupby(raw["minute"] // 5).mean()
        name = path.name.split(".")[0]
        for line in (folder / "interpretation_label" / f"{name}.txt").read_text().split():
            span, dims = line.split(":")
            start, end = (test_start + int(x) for x in span.split("-"))
            labelled = {metrics[int(d) - 1] for d in dims.split(",")}
            out.append((name, five, min(start // 5 + INTO_SEGMENT_STEPS, end // 5), labelled))
    return out


def asd_cases(folder: Path) -> list[tuple[str, pd.DataFrame, int, set[str]]]:
    segments = pd.read_csv(folder / "anomaly_segments.csv")
    frames: dict[str, pd.DataFrame] = {}
    out = []
    for seg in segments.dropna(subset=["dims_1based"]).itertuples():
        if seg.server not in frames:
            raw = pd.read_csv(folder / f"{seg.server}.csv.gz")
            frames[seg.server] = raw.set_index("step")[[f"m{i:02d}" for i in range(1, 20)]]
        metrics = list(frames[seg.server].columns)
        labelled = {metrics[int(d) - 1] for d in str(seg.dims_1based).split(",")}
        at = min(int(seg.start_step) + INTO_SEGMENT_STEPS, int(seg.end_step))
        out.append((seg.server, frames[seg.server], at, labelled))
    return out


def feed_frame(values: pd.DataFrame, group: list[str], server: str) -> pd.DataFrame:
    """Up to three metrics (0-1) as a feed-schema frame in the target slots (0-100)."""
    frame = pd.DataFrame({"timestamp": EPOCH + pd.to_timedelta(values.index * 5, unit="min")})
    frame["server_name"] = server
    for name in METRIC_NAMES:
        frame[name] = 0.0
    for target, metric in zip(SLOTS, group, strict=False):
        column = values[metric].to_numpy(dtype=np.float64) * 100.0
        frame[SLOT_FIELDS[target]] = 100.0 - column if target == "cpu_pct" else column
    return frame


def top3(values: pd.DataFrame, server: str, rng: np.random.Generator) -> list[str]:
    """The three metrics with the largest occlusion effect (ties broken at random)."""
    metrics = list(values.columns)
    effects: dict[str, float] = {}
    for i in range(0, len(metrics), len(SLOTS)):
        group = metrics[i : i + len(SLOTS)]
        found = explain_server(
            SeasonalNaive(), feed_frame(values, group, server), server, importance="occlusion"
        )
        raw = {f.feature: f.raw for f in found.occlusion}
        effects.update({m: raw[t] for t, m in zip(SLOTS, group, strict=False)})
    jitter = rng.random(len(metrics)) * 1e-9
    ranked = sorted(metrics, key=lambda m: -(effects[m] + jitter[metrics.index(m)]))
    return ranked[:3]


def score(cases: list, limit: int | None, seed: int = 0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    hits, expected, seconds = 0, 0.0, []
    for server, values, at, labelled in cases[:limit]:
        window = values.loc[max(values.index.min(), at - HISTORY_STEPS + 1) : at]
        started = time.perf_counter()
        top = top3(window, server, rng)
        seconds.append(time.perf_counter() - started)
        hits += bool(labelled & set(top))
        m, k = len(values.columns), len(labelled)
        expected += 1 - comb(m - k, 3) / comb(m, 3)
    n = len(cases[:limit])
    return {
        "anomalies": n,
        "hit_rate_at_3": hits / n,
        "random_hit_rate_at_3": expected / n,
        "seconds_per_anomaly": float(np.mean(seconds)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--limit", type=int, default=None, help="anomalies per dataset")
    args = parser.parse_args()
    for name, cases in (
        ("SMD", smd_cases(args.data / "smd")),
        ("ASD", asd_cases(args.data / "asd")),
    ):
        result = score(cases, args.limit)
        print(
            f"{name}: {result['anomalies']} anomalies, hit-rate@3 {result['hit_rate_at_3']:.3f} "
            f"(random {result['random_hit_rate_at_3']:.3f}), "
            f"{result['seconds_per_anomaly']:.2f} s per anomaly"
        )


if __name__ == "__main__":
    main()

"""Compare a week of simulated CPU and memory with a week of the real Bitbrains VMs.

Usage: python bench/simulator_vs_bitbrains.py [--data ../shared/data] [--seed 0]

For each series (one server or VM, one metric) it computes the level (mean), the daily amplitude
(peak-to-trough of the mean hour-of-day profile), the lag-1 autocorrelation of the 5-minute
samples and the share of samples above 80 %, then prints the median and interquartile range
across series.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from argus.simulate import simulate_fleet

WEEK_START = pd.Timestamp("2013-08-05")  # a Monday with no monitoring gap in the trace
BUSY_CPU_PCT = 10.0
STATS = ("level", "daily_amplitude", "lag1_autocorr", "share_above_80")


def series_stats(values: pd.Series) -> dict[str, float]:
    """Return the four statistics of one 5-minute series indexed by timestamp."""
    values = values.dropna()
    hourly = values.groupby(values.index.hour).mean()
    return {
        "level": float(values.mean()),
        "daily_amplitude": float(hourly.max() - hourly.min()),
        "lag1_autocorr": float(values.autocorr(lag=1)),
        "share_above_80": float((values > 80).mean()),
    }


def bitbrains_week(data_dir: Path) -> pd.DataFrame:
    """Return one row per VM and metric with the statistics of one week."""
    df = pd.read_csv(data_dir / "bitbrains" / "bitbrains_rnd_dev.csv.gz",
                     usecols=["timestamp", "vm", "cpu_usage_pct", "mem_usage_pct"],
                     parse_dates=["timestamp"])
    week = df[(df.timestamp >= WEEK_START) & (df.timestamp < WEEK_START + pd.Timedelta(days=7))]
    rows = []
    for vm, group in week.groupby("vm"):
        group = group.set_index("timestamp")
        for metric, column in (("cpu", "cpu_usage_pct"), ("mem", "mem_usage_pct")):
            series = group[column]
            if series.notna().sum() > 1000 and series.std() > 0:
                rows.append({"source": "bitbrains", "id": vm, "metric": metric,
                             **series_stats(series)})
    return pd.DataFrame(rows)


def simulated_week(seed: int) -> pd.DataFrame:
    """Return one row per simulated server and metric with the statistics of one week."""
    sim = simulate_fleet(servers=45, days=7, seed=seed)
    index = pd.to_datetime(sim.block.minutes, unit="m")
    cpu = 100.0 - sim.block.columns["cpu_idle_pct"]
    mem = sim.block.columns["mem_used_pct"]
    rows = []
    for i, name in enumerate(sim.block.names):
        for metric, values in (("cpu", cpu[:, i]), ("mem", mem[:, i])):
            rows.append({"source": "simulator", "id": name, "metric": metric,
                         "profile": sim.fleet.profiles[i],
                         **series_stats(pd.Series(values, index=index))})
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Return median [p25, p75] of each statistic per group."""
    def fmt(s: pd.Series) -> str:
        q = np.nanpercentile(s, [25, 50, 75])
        return f"{q[1]:.2f} [{q[0]:.2f}, {q[2]:.2f}]"

    out = table.groupby(keys)[list(STATS)].agg(fmt)
    out.insert(0, "series", table.groupby(keys).size())
    return out


def markdown(frame: pd.DataFrame) -> str:
    """Format a frame with a (multi-)index as a Markdown table, without extra dependencies."""
    names = [str(n) for n in frame.index.names]
    lines = ["| " + " | ".join([*names, *map(str, frame.columns)]) + " |",
             "|" + "---|" * (len(names) + len(frame.columns))]
    for key, row in frame.iterrows():
        keys = key if isinstance(key, tuple) else (key,)
        lines.append("| " + " | ".join([*map(str, keys), *map(str, row.tolist())]) + " |")
    return "\n".join(lines)


def main() -> None:
    """Print the comparison as Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    real, sim = bitbrains_week(args.data), simulated_week(args.seed)
    # The trace mixes busy and near-idle VMs; servers in a monitored fleet resemble the busy ones.
    busy_ids = real[(real.metric == "cpu") & (real.level >= BUSY_CPU_PCT)].id
    busy = real[real.id.isin(busy_ids)].assign(source=f"bitbrains, CPU >= {BUSY_CPU_PCT:g}%")
    print(f"Bitbrains week from {WEEK_START:%Y-%m-%d}; simulator: 45 servers, 7 days, "
          f"seed {args.seed}; median [p25, p75] across series\n")
    print(markdown(summary(pd.concat([real, busy, sim]), ["metric", "source"])))
    print("\nSimulator by profile\n")
    print(markdown(summary(sim, ["metric", "profile"])))


if __name__ == "__main__":
    main()

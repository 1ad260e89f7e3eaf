"""Write the Bitbrains VMs as feed-schema Parquet files for `argus train` / `argus backtest`
(not a test). From the repository root:

    PYTHONPATH=. python bench/bitbrains_feed.py OUT_DIR [--cutoff 2013-08-21]

OUT_DIR/full.parquet holds every sample, OUT_DIR/train.parquet those before the cutoff (the
training split of docs/benchmarks.md; the backtest's origins lie after it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from argus.forecast.public_data import bitbrains_feed

DATA = Path(__file__).resolve().parents[2] / "shared/data/bitbrains/bitbrains_rnd_dev.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--cutoff", default="2013-08-21")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    feed = bitbrains_feed(DATA)
    feed.to_parquet(args.out / "full.parquet")
    feed[feed["timestamp"] < pd.Timestamp(args.cutoff)].to_parquet(args.out / "train.parquet")
    print(f"{feed['server_name'].nunique()} VMs, {len(feed)} samples -> {args.out}")


if __name__ == "__main__":
    main()

"""The serving layer replayed over a dataset in process: the quick loop for choosing its settings.

`ServingForecaster` (with no model, or with a saved model) is called every 30 minutes of data
time, as often as the daemon's cycles record forecasts for scoring, and its forecasts from
origins every hour (`--score-every`) are scored at 1 h and 8 h against naive and seasonal
naive on the same points: relative MASE (median over servers of each server's MASE, served /
the better baseline) and P10-P90 coverage. Values are clipped to 0-100 as the feed requires.

This is for tuning on tuning data (Bitbrains July, ASD's unlabelled days); what users get is
measured through the daemon by bench/served_accuracy.py. Run from the repository root:

    PYTHONPATH=. python bench/serving_replay.py --dataset bitbrains --start 2013-07-10 --days 10
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from argus.forecast.frame import DAY_STEPS, STEP_NS
from argus.forecast.public_data import asd_feed, bitbrains_feed
from argus.forecast.serving import ServingForecaster

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
HISTORY = 8 * DAY_STEPS
SCORED = {"cpu_pct": 0, "mem_pct": 1}
HORIZONS = (12, 96)


def dense(frame: pd.DataFrame) -> tuple[list[str], np.ndarray, int]:
    """(servers, values (servers, steps, 2) of cpu/mem, first time_idx) on the 5-minute grid."""
    stamps = pd.to_datetime(frame["timestamp"]).to_numpy("datetime64[ns]").view(np.int64)
    idx = stamps // STEP_NS
    first = int(idx.min())
    names = sorted(frame["server_name"].unique())
    code = {n: i for i, n in enumerate(names)}
    out = np.full((len(names), int(idx.max()) - first + 1, 2), np.nan)
    rows = frame["server_name"].map(code).to_numpy()
    out[rows, idx - first, 0] = 100.0 - frame["cpu_idle_pct"].to_numpy()
    out[rows, idx - first, 1] = frame["mem_used_pct"].to_numpy()
    return names, out, first


def load(dataset: str) -> pd.DataFrame:
    if dataset == "bitbrains":
        frame = bitbrains_feed(DATA / "bitbrains" / "bitbrains_rnd_dev.csv.gz")
    else:
        frame = asd_feed(DATA / "asd")
    for col in ("cpu_idle_pct", "mem_used_pct"):
        frame[col] = frame[col].clip(0.0, 100.0)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return frame


def replay(
    frame: pd.DataFrame, start: pd.Timestamp, days: float, model: object, every: int = 12
) -> dict:
    names, values, first = dense(frame)
    serving = ServingForecaster(model)  # type: ignore[arg-type]
    t0 = int(start.value // STEP_NS) - first
    end = t0 + int(days * DAY_STEPS)
    errs: dict[tuple[str, int, str], list] = {}
    cover: dict[tuple[str, int], list[bool]] = {}
    stamps = frame["timestamp"].to_numpy("datetime64[ns]").view(np.int64) // STEP_NS - first
    for origin in range(t0, end, 6):
        window = frame[(stamps < origin) & (stamps >= origin - HISTORY)]
        fs = serving.predict(window)
        if (origin - t0) % every:
            continue
        _score(fs, names, values, origin, errs, cover)
    return _summary(errs, cover)


def _score(fs, names, values, origin, errs, cover) -> None:  # type: ignore[no-untyped-def]
    q10, q50, q90 = (fs.quantile_index(q) for q in (0.1, 0.5, 0.9))
    for i, name in enumerate(names):
        if name not in fs.servers:
            continue
        row = fs.index(name)
        hist = values[i, max(0, origin - HISTORY) : origin]
        for target, k in SCORED.items():
            t = fs.targets.index(target)
            scale = np.nanmean(np.abs(np.diff(hist[:, k])))
            last = hist[:, k][np.isfinite(hist[:, k])]
            if not np.isfinite(scale) or scale < 1e-9 or not len(last):
                continue
            for h in HORIZONS:
                if origin + h - 1 >= values.shape[1]:
                    continue
                y = values[i, origin + h - 1, k]
                day = values[i, origin + h - 1 - DAY_STEPS, k]
                if not np.isfinite(y):
                    continue
                served = fs.values[row, t, h - 1]
                key = (target, h)
                errs.setdefault((*key, name), []).append(
                    (abs(served[q50] - y) / scale, abs(last[-1] - y) / scale,
                     abs(day - y) / scale if np.isfinite(day) else np.nan)
                )
                cover.setdefault(key, []).append(bool(served[q10] <= y <= served[q90]))


def _summary(errs, cover) -> dict:  # type: ignore[no-untyped-def]
    out = {}
    for (target, h), hits in cover.items():
        per_server = np.array(
            [np.nanmean(np.array(v), axis=0) for (t, hh, _), v in errs.items()
             if t == target and hh == h]
        )
        served, naive, seasonal = np.nanmedian(per_server, axis=0)
        out[f"{target} {h * 5 // 60}h"] = {
            "served": round(float(served), 3),
            "naive": round(float(naive), 3),
            "seasonal_naive": round(float(seasonal), 3),
            "relative": round(float(served / min(naive, seasonal)), 3),
            "coverage": round(float(np.mean(hits)), 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("bitbrains", "asd"), default="bitbrains")
    parser.add_argument("--start", default="2013-07-10")
    parser.add_argument("--days", type=float, default=10.0)
    parser.add_argument("--model", help="a saved model's directory name under --home/models")
    parser.add_argument("--home", type=Path)
    parser.add_argument("--score-every", type=int, default=12,
                        help="steps between scored origins (12: every hour)")
    args = parser.parse_args()
    model = None
    if args.model:
        from argus.forecast.artifacts import load_model

        model = load_model(args.home / "models", args.model)
    frame = load(args.dataset)
    began = time.perf_counter()
    result = replay(frame, pd.Timestamp(args.start), args.days, model, args.score_every)
    print(json.dumps({"seconds": round(time.perf_counter() - began, 1), **result}, indent=2))


if __name__ == "__main__":
    main()

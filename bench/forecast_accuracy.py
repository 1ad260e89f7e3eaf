"""Forecast accuracy benchmark: TFT vs naive vs seasonal naive on real data (not a test).

Bitbrains VMs: train on July to mid-August (before 2013-08-15; early stopping on the last 15 % of
that span), evaluate with rolling origins every 6 h over the last 10 days of the file, at 1 h and
8 h. ASD servers: the same protocol (train on the first 27.5 days, evaluate the last 10).
Simulator: the default 45-server fleet (argus.simulate, seed 3) for 17 days; train on the first
14 (as `argus train` does by default: 2.5 minutes), evaluate the 3 held-out days.
Nothing is tuned on the evaluation days. Run from the repository root:

    PYTHONPATH=. python bench/forecast_accuracy.py --dataset bitbrains --max-minutes 6
    PYTHONPATH=. python bench/forecast_accuracy.py --dataset asd --max-minutes 4
    PYTHONPATH=. python bench/forecast_accuracy.py --dataset simulator --max-minutes 2.5 \
        --encoder 144 --every-hours 3
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import torch

from argus.forecast.backtest import backtest, rolling_origins
from argus.forecast.base import TrainOptions
from argus.forecast.baseline import Naive, SeasonalNaive
from argus.forecast.frame import DAY_STEPS, to_grid
from argus.forecast.public_data import asd_feed, bitbrains_feed
from argus.forecast.tft import NETWORK_CLASS, FitReport, TFTConfig, TFTForecaster

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
HORIZONS = (12, 96)
EVAL_DAYS = {"bitbrains": 10, "asd": 10, "simulator": 3}
SIMULATED_DAYS = 17


def load(dataset: str) -> tuple[pd.DataFrame, pd.Timestamp]:
    """The feed frame and the training cutoff (training uses samples before it)."""
    if dataset == "simulator":
        from argus.simulate import simulate_fleet
        from argus.simulate.dataset import block_frame

        frame = block_frame(simulate_fleet(servers=45, days=SIMULATED_DAYS, seed=3).block)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.tz_localize(None)
        return frame, frame["timestamp"].min() + pd.Timedelta(days=SIMULATED_DAYS - 3)
    if dataset == "bitbrains":
        return bitbrains_feed(DATA / "bitbrains" / "bitbrains_rnd_dev.csv.gz"), pd.Timestamp(
            "2013-08-15"
        )
    frame = asd_feed(DATA / "asd")
    return frame, frame["timestamp"].max() - pd.Timedelta(days=EVAL_DAYS["asd"])


def summarise(report_rows: list[dict], models: list[str]) -> list[dict]:
    """Per target and horizon: MASE of each model, TFT / best baseline, TFT coverage."""
    out = []
    for target in ("cpu_pct", "mem_pct"):
        for h in ("1h", "8h"):
            rows = {
                r["model"]: r for r in report_rows if (r["target"], r["horizon"]) == (target, h)
            }
            best = min(rows["naive"]["mase"], rows["seasonal_naive"]["mase"])
            entry = {"target": target, "horizon": h, "best_baseline_mase": round(best, 3)}
            for m in models:
                entry[f"{m}_mase"] = round(rows[m]["mase"], 3)
                entry[f"{m}_mae"] = round(rows[m]["mae"], 3)
                entry[f"{m}_coverage"] = round(rows[m]["coverage"], 3)
            # a best MASE of 0 (baseline exact on most series) leaves no ratio to report
            entry["tft_ratio"] = round(rows["tft"]["mase"] / best, 3) if best > 0 else None
            out.append(entry)
    return out


def served_and_parts(model: TFTForecaster) -> dict[str, TFTForecaster]:
    """The served TFT, the same without the drift override, and the network alone."""
    network_only = copy.copy(model)
    network_only.trend = None  # the served TFT without the drift override (argus.forecast.trend)
    raw = copy.copy(model)
    raw._calibration = {}  # the same network without blend and calibration, for comparison
    return {"tft": model, "tft_network_only": network_only, "tft_raw": raw}


def save_bench_model(folder: Path, model: TFTForecaster, fit: FitReport) -> None:
    """Checkpoint + config + fit report, so evaluation can be rerun without retraining."""
    folder.mkdir(parents=True, exist_ok=True)
    model.write_checkpoint(folder / "model.ckpt")
    meta = {"config": model.config.to_dict(), "training": asdict(fit)}
    (folder / "bench_model.json").write_text(json.dumps(meta, indent=2, default=str))


def load_bench_model(folder: Path, name: str) -> tuple[TFTForecaster, FitReport]:
    meta = json.loads((folder / "bench_model.json").read_text())
    network = NETWORK_CLASS.load_from_checkpoint(str(folder / "model.ckpt"), map_location="cpu")
    model = TFTForecaster(TFTConfig.from_dict(meta["config"]), model_name=name, network=network)
    model.metadata = meta
    return model, FitReport(**meta["training"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset", choices=["bitbrains", "asd", "simulator"], default="bitbrains"
    )
    parser.add_argument("--max-minutes", type=float, default=6.0)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--encoder", type=int, default=144)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=TFTConfig.learning_rate)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (as `argus train --torch-threads`, whose default is 1)",
    )
    parser.add_argument("--no-lag", action="store_true", help="drop the seasonal covariates")
    parser.add_argument(
        "--seasonal-days",
        type=int,
        default=TFTConfig.seasonal_days,
        help="days whose median at the same time of day is the seasonal covariate",
    )
    parser.add_argument("--every-hours", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=7, help="training seed")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--save-model",
        type=Path,
        default=None,
        help="write the trained network, config and fit report to this folder",
    )
    parser.add_argument(
        "--load-model",
        type=Path,
        default=None,
        help="evaluate a network written by --save-model instead of training",
    )
    parser.add_argument(
        "--continue-minutes",
        type=float,
        default=0.0,
        help="with --load-model: train the saved network this many more minutes first",
    )
    parser.add_argument(
        "--recalibrate",
        action="store_true",
        help="with --load-model: learn the blend and calibration again on the validation split",
    )
    parser.add_argument(
        "--no-calibrate",
        action="store_true",
        help="keep the raw quantile bands (no validation-split calibration)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    frame, cutoff = load(args.dataset)
    grid = to_grid(frame)
    cfg = TFTConfig(
        hidden_size=args.hidden,
        learning_rate=args.learning_rate,
        max_encoder_length=args.encoder,
        seasonal_covariates=not args.no_lag,
        seasonal_days=args.seasonal_days,
        calibrate=not args.no_calibrate,
    )
    started = time.monotonic()
    earlier = None
    train = frame[frame["timestamp"] < cutoff]
    if args.load_model:
        model, fit = load_bench_model(args.load_model, f"bench-{args.dataset}")
        cfg = model.config
        if args.continue_minutes:
            # more of the same training: the saved weights are the start, same split
            earlier = fit
            options = TrainOptions(
                epochs=args.epochs, max_minutes=args.continue_minutes, seed=args.seed + 1
            )
            fit = model.fit(train, options=options)
    else:
        model = TFTForecaster(cfg, model_name=f"bench-{args.dataset}")
        options = TrainOptions(epochs=args.epochs, max_minutes=args.max_minutes, seed=args.seed)
        fit = model.fit(train, options=options)
    if args.save_model and (earlier is not None or not args.load_model):
        save_bench_model(args.save_model, model, fit)
    train_s = time.monotonic() - started
    learnt = model.calibration or {}
    stale = not learnt or "blend" not in learnt or args.recalibrate
    if not args.no_calibrate and fit.validation_from and stale:
        # a saved model from before calibration (or the blend) existed: learn it on the same
        # validation split
        model.calibrate(train, fit.validation_from)
    first = int(grid["time_idx"].max()) - EVAL_DAYS[args.dataset] * DAY_STEPS + 1
    origins = rolling_origins(grid, first, int(args.every_hours * 12), max(HORIZONS))
    started = time.monotonic()
    models = {
        **served_and_parts(model),
        "naive": Naive(),
        "seasonal_naive": SeasonalNaive(),
    }
    report = backtest(grid, models, HORIZONS, origins)
    result = {
        "dataset": args.dataset,
        "servers": int(grid["server"].nunique()),
        "train_cutoff": str(cutoff),
        "origins": len(origins),
        "config": cfg.to_dict(),
        "fit": fit.__dict__,
        "fit_before_continuing": None if earlier is None else earlier.__dict__,
        "train_seconds": round(train_s, 1),
        "backtest_seconds": round(time.monotonic() - started, 1),
        "calibration": model.calibration,
        "summary": summarise(list(report.rows), list(models)),
        "all": report.to_json()["results"],
    }
    text = json.dumps(result, indent=2, default=str)
    if args.out:
        args.out.write_text(text)
    print(json.dumps({k: v for k, v in result.items() if k != "all"}, indent=2, default=str))


if __name__ == "__main__":
    main()

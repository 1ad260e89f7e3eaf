"""Train (or continue training) the TFT on a feed-schema frame, score it, save it, activate it.

The one entry point for `argus train` and for the daemon's training child process.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from argus.catalogue import CATALOGUE_VERSION, TARGETS
from argus.errors import InvalidInputError
from argus.forecast import artifacts
from argus.forecast.backtest import backtest, rolling_origins
from argus.forecast.base import TrainOptions
from argus.forecast.baseline import Naive, SeasonalNaive
from argus.forecast.frame import DAY_STEPS, to_grid
from argus.forecast.reference import reference_statistics

SCORE_HORIZONS = (12, 96)  # 1 h and 8 h
SCORE_ORIGINS = 4  # origins in the validation period scored at save time (cost: 4 predictions)


@dataclass(frozen=True)
class TrainResult:
    name: str
    path: Path
    metadata: dict[str, Any]
    activated: bool


def default_name(now: datetime | None = None) -> str:
    return "tft-" + (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")


def validation_scores(forecaster: Any, grid: pd.DataFrame, start: str | None) -> dict[str, Any]:
    """A small backtest on the validation period: the TFT as served (`ServingForecaster`,
    learning online from the earlier origins as the daemon would) vs naive vs seasonal naive."""
    from argus.forecast.serving import ServingForecaster

    if start is None:
        return {}
    first = int(pd.Timestamp(start).value // (5 * 60 * 10**9))
    origins = rolling_origins(grid, first, 1, max(SCORE_HORIZONS))
    if not origins:
        return {}
    picks = np.unique(np.linspace(0, len(origins) - 1, SCORE_ORIGINS).round().astype(int))
    served = ServingForecaster(forecaster)
    models = {"tft": served, "naive": Naive(), "seasonal_naive": SeasonalNaive()}
    report = backtest(grid, models, SCORE_HORIZONS, [origins[i] for i in picks])
    return report.to_json()


def train_model(
    frame: pd.DataFrame,
    *,
    models_dir: Path,
    name: str | None = None,
    config: Any = None,
    options: TrainOptions | None = None,
    incremental: bool = False,
    activate: bool = True,
) -> TrainResult:
    """Train a new model (or continue the current one's weights) and save it as `name`."""
    from argus.forecast.tft import TFTForecaster, library_versions

    options = options or TrainOptions()
    name = artifacts.validate_name(name or default_name())
    parent = None
    if incremental:
        forecaster = artifacts.load_current(models_dir)
        if forecaster is None:
            raise InvalidInputError("--incremental needs a current model; train one first")
        parent = forecaster.model_name
    else:
        forecaster = TFTForecaster(config)
    grid = to_grid(frame)
    if grid["time_idx"].nunique() < forecaster.config.min_encoder_length + DAY_STEPS // 3:
        raise InvalidInputError("not enough history to train: need at least ~9 hours")
    report = forecaster.fit(frame, options=options)
    forecaster.model_name = name
    metadata = {
        "kind": "tft",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "catalogue_version": CATALOGUE_VERSION,
        "targets": list(TARGETS),
        "quantiles": list(forecaster.config.quantiles),
        "config": forecaster.config.to_dict(),
        "dataset": dataset_summary(forecaster),
        "training": {**asdict(report), **_options_json(options), "incremental_from": parent},
        "data_range": {"start": str(grid["timestamp"].min()), "end": str(grid["timestamp"].max())},
        "servers": sorted(grid["server"].unique().tolist()),
        "reference": reference_statistics(grid),
        "backtest": validation_scores(forecaster, grid, report.validation_from),
        "libraries": library_versions(),
    }
    path = artifacts.save_model(models_dir, name, forecaster, metadata)
    if activate:
        artifacts.set_current(models_dir, name)
    return TrainResult(name, path, artifacts.read_metadata(models_dir, name), activate)


def _options_json(options: TrainOptions) -> dict[str, Any]:
    # not asdict(): it would deep-copy the progress callback (a live rich bar holds locks)
    return {f.name: getattr(options, f.name) for f in fields(options) if f.name != "progress"}


def dataset_summary(forecaster: Any) -> dict[str, Any]:
    """The JSON-representable dataset parameters (encoders/normalisers live in the checkpoint)."""
    params = forecaster.network.dataset_parameters
    plain = (str, int, float, bool, type(None))
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, plain):
            out[key] = value
        elif isinstance(value, list | tuple) and all(isinstance(v, plain) for v in value):
            out[key] = list(value)
        else:
            out[key] = repr(value)[:300]
    loss = forecaster.network.loss
    out["loss_weights"] = [float(w) for w in getattr(loss, "weights", [])]
    return out
